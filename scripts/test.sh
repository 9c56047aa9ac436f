#!/usr/bin/env bash
# Everything CI runs: formatting, lints, every crate's tests, the wasm build, and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step() { printf '\n==> %s\n' "$*"; }

# The server integration suites that also run against PostgreSQL. The others read the data
# dir's SQLite file directly to check what is stored, so they run on SQLite only for now;
# export_import too: the export copies the SQLite file (a PostgreSQL store is refused, 409).
POSTGRES_SUITES="api_auth api_certificates api_director api_import api_products assets
    certificate_authorities clusters concurrent_writes credentials diff director_client director_ui
    embedded_iaas first_admin fleet gate installations logs pks_api placement_ui
    pre_deploy_check product_status revert review_deps settings_page shared_uploads ssl_certificate
    stale_detail stemcells tls unlock users verifiers vm_extensions"

step "installing missing tools"
scripts/install-tools.sh --for-tests

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (server side)"
# The frontend crate is the wasm entry point; it is linted for its own target below, so the
# host build never unifies the app's `ssr` and `hydrate` features.
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings

step "cargo clippy (browser side, wasm32: the frontend and the tile engine)"
cargo clippy -p frontend -p tiles --target wasm32-unknown-unknown -- -D warnings

step "cargo test"
cargo test --workspace --exclude frontend

step "server integration tests again on PostgreSQL (issue 15; subset, see README)"
# A throw-away PostgreSQL (Debian's package, initdb as the postgres user into a temp dir),
# stopped on exit; every test server gets a fresh database in it (server/tests/common).
eval "$(scripts/postgres-for-tests.sh start)"
trap 'scripts/postgres-for-tests.sh stop "$PG_TEST_DIR"' EXIT
TILEWORKS_TEST_DATABASE_URL=$TILEWORKS_TEST_DATABASE_URL cargo test -p server $(
    for suite in $POSTGRES_SUITES; do printf -- '--test %s ' "$suite"; done)
scripts/postgres-for-tests.sh stop "$PG_TEST_DIR"
trap - EXIT

step "building the browser assets"
scripts/build-site.sh debug
cargo build -p server

step "release wasm size budget (brotli)"
scripts/check-wasm-budget.sh

step "browser tests (Playwright, Debian chromium)"
(cd end2end && npx playwright test)
