#!/usr/bin/env bash
# Everything CI runs: formatting, lints, every crate's tests, the wasm build, and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step() { printf '\n==> %s\n' "$*"; }

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

step "building the browser assets"
scripts/build-site.sh debug
cargo build -p server

step "release wasm size budget (brotli)"
scripts/check-wasm-budget.sh

step "browser tests (Playwright, Debian chromium)"
(cd end2end && npx playwright test)
