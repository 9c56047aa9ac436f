#!/usr/bin/env bash
# Installs what Tileworks's build needs and is missing: the wasm32 target and the wasm-bindgen CLI
# at exactly the version of the wasm-bindgen crate. With --for-tests also Debian's chromium and the
# Playwright npm packages, and Debian's haproxy (the multi-replica test). Safe to run again: each step is skipped when already satisfied.
set -euo pipefail
cd "$(dirname "$0")/.."

# Must equal the `wasm-bindgen = "=..."` pin in Cargo.toml: the CLI refuses other versions.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "==> adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  echo "==> installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Without --locked: its lock file asks for a dependency version the registry may not have.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "${1:-}" = "--for-tests" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    echo "==> installing Debian's chromium for the browser tests"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
  fi
  if [ ! -x /usr/sbin/haproxy ]; then
    echo "==> installing Debian's haproxy for the multi-replica test (server/tests/replicas.rs)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q haproxy
  fi
  if [ ! -d end2end/node_modules/@playwright/test ]; then
    echo "==> installing the Playwright test runner (no browser download)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi
