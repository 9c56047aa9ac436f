#!/usr/bin/env bash
# Everything CI runs: formatting, lints, every crate's tests, the wasm build, and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# A CI run builds once from a clean clone: incremental state (5 GB) would only cost disk and time.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

step() { printf '\n==> %s\n' "$*"; }

# CI shows only the end of a failed run, so each test run's output is kept and, when it fails,
# what failed (test names, panics, Playwright's numbered failures) is printed last.
run_logged() {
    LAST_LOG=$(mktemp /tmp/tileworks-test.XXXXXX)
    "$@" 2>&1 | tee "$LAST_LOG"
}
what_failed() {
    printf '\n==> what failed (full output: %s)\n' "$LAST_LOG"
    # Build failures too: rustc's `error[…]`/`error:` lines, and the linker's own last words
    # (`ld: …`, `collect2`, a full disk, a killed process), which rustc prints after its long note.
    grep -E '^test .* FAILED$|panicked at|^error(\[|:)|^ +[0-9]+\) |ld: |collect2|No space left|[Kk]illed' \
        "$LAST_LOG" | cut -c1-600 | tail -n 40
    printf 'disk: %s\n' "$(df -h . | tail -n 1)"
    exit 1
}

# The server integration suites that also run against PostgreSQL (no_plaintext then searches the
# database's dump, its files and the write-ahead log too). export_backends exports from the
# suite's backend and imports into a fresh SQLite instance and a fresh one on that backend
# (PostgreSQL → PostgreSQL too); export_import runs the om flow and the command line's export
# and import on each backend.
POSTGRES_SUITES="api_auth api_certificates api_director api_import api_products assets
    certificate_authorities clusters concurrent_writes credentials diff director_client director_ui
    embedded_iaas export_backends export_import first_admin fleet gate installations logs pks_api placement_ui
    pre_deploy_check product_status revert review_deps settings_page shared_uploads ssl_certificate
    stale_detail stemcells tls unlock users verifiers vm_extensions replicas broker login
    no_plaintext audit object_store backing_verifiers"

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
run_logged cargo test --workspace --exclude frontend --no-fail-fast || what_failed

step "server integration tests again on PostgreSQL (issue 15; subset, see README)"
# A throw-away PostgreSQL (Debian's package, initdb as the postgres user into a temp dir),
# stopped on exit; every test server gets a fresh database in it (server/tests/common).
eval "$(scripts/postgres-for-tests.sh start)"
trap 'scripts/postgres-for-tests.sh stop "$PG_TEST_DIR"' EXIT
status=0
# The same package selection as the SQLite pass (`--workspace --exclude frontend`, not `-p server`):
# cargo unifies features per selection, so `-p server` rebuilt every crate for five minutes.
TILEWORKS_TEST_DATABASE_URL=$TILEWORKS_TEST_DATABASE_URL run_logged cargo test --workspace \
    --exclude frontend --no-fail-fast $(for suite in $POSTGRES_SUITES; do printf -- '--test %s ' "$suite"; done) ||
    status=$?
scripts/postgres-for-tests.sh stop "$PG_TEST_DIR"
trap - EXIT
[ "$status" = 0 ] || what_failed

step "building the browser assets"
scripts/build-site.sh debug
# The browser tests start target/debug/tileworks, which `cargo test` above built (for the
# integration tests' CARGO_BIN_EXE). `cargo build -p server` would rebuild it with other
# features (no dev-dependencies) for two minutes and change nothing it does.
test -x target/debug/tileworks

step "release wasm size budget (brotli)"
scripts/check-wasm-budget.sh

step "browser tests (Playwright, Debian chromium)"
(cd end2end && { run_logged npx playwright test || what_failed; })
