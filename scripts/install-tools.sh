#!/usr/bin/env bash
# Installs what Tileworks's build needs and is missing: the wasm32 target, the wasm-bindgen CLI
# at exactly the version of the wasm-bindgen crate, and wasm-split-cli (splits the wasm into the
# main module and the lazy pages' modules, scripts/build-site.sh). With --for-tests also Debian's chromium and the
# Playwright npm packages, Debian's haproxy (the multi-replica test), and a local S3-compatible
# server (moto, from PyPI into target/tools/moto: the object store test, server/tests/object_store.rs), and
# Debian's chronyd unpacked into target/tools/chrony (the NTP verifier's test), and Debian's MariaDB
# unpacked into target/tools/mariadb (the database verifiers' test). With --for-bench Debian's
# wrk, haproxy and postgresql (scripts/bench-replicas.sh, scripts/bench-apply.sh with postgres).
# Safe to run again: each step is skipped when already satisfied.
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

# wasm-split-cli reads the split points that leptos's `#[lazy]` (wasm_split_helpers 0.2, see
# Cargo.lock) puts in the wasm; 0.2.4 is the release of the same 0.2 line that cargo-leptos 0.3
# links as a library. It has no --version, so cargo's install list says what is there.
WASM_SPLIT_VERSION=0.2.4
if ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
  echo "==> installing wasm-split-cli $WASM_SPLIT_VERSION (a few minutes, once)"
  cargo install wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary \
    --locked --force
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
  # The object store test starts this S3-compatible server itself. Pinned: the test relies on
  # its path-style buckets and unsigned bucket requests.
  MOTO_VERSION=5.2.1
  # grep reads pip's whole answer (not -q): stopping at the match broke pip's pipe, which under
  # pipefail made the check fail and reinstalled moto on every run.
  if ! target/tools/moto/bin/pip show moto 2>/dev/null | grep -x "Version: $MOTO_VERSION" >/dev/null; then
    echo "==> installing moto[server] $MOTO_VERSION (a local S3 server) into target/tools/moto"
    rm -rf target/tools/moto
    mkdir -p target/tools
    # Debian's python3 makes a venv only with python3-venv (ensurepip) installed.
    if ! python3 -m venv target/tools/moto 2>/dev/null; then
      SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
      $SUDO apt-get update -q
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3 python3-venv
      rm -rf target/tools/moto
      python3 -m venv target/tools/moto
    fi
    target/tools/moto/bin/pip install -q "moto[server]==$MOTO_VERSION"
  fi
  # The NTP verifier's test asks a real NTP server: Debian's chronyd, unpacked from its package
  # into target/tools/chrony (not installed, so no system service starts), run by the test on
  # a loopback port with control of the clock off.
  if [ ! -x target/tools/chrony/usr/sbin/chronyd ]; then
    echo "==> unpacking Debian's chrony (an NTP server) into target/tools/chrony"
    mkdir -p target/tools/chrony-deb
    if ! (cd target/tools/chrony-deb && apt-get download chrony >/dev/null 2>&1); then
      SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
      $SUDO apt-get update -q
      (cd target/tools/chrony-deb && apt-get download chrony)
    fi
    dpkg -x target/tools/chrony-deb/chrony_*.deb target/tools/chrony
    rm -rf target/tools/chrony-deb
  fi
  # The database verifiers' test signs in to a real MySQL server: Debian's MariaDB, unpacked
  # from its packages into target/tools/mariadb (not installed, so no system service starts)
  # and run by the test on a loopback port with a data directory of its own.
  if [ ! -x target/tools/mariadb/usr/sbin/mariadbd ]; then
    echo "==> unpacking Debian's MariaDB (a MySQL server) into target/tools/mariadb"
    mkdir -p target/tools/mariadb-deb
    if ! (cd target/tools/mariadb-deb && apt-get download mariadb-server-core mariadb-client-core >/dev/null 2>&1); then
      SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
      $SUDO apt-get update -q
      (cd target/tools/mariadb-deb && apt-get download mariadb-server-core mariadb-client-core)
    fi
    for deb in target/tools/mariadb-deb/*.deb; do dpkg -x "$deb" target/tools/mariadb; done
    rm -rf target/tools/mariadb-deb
  fi
  # Its shared libraries come from Debian's base; the few a slimmer image may lack are installed.
  if ldd target/tools/mariadb/usr/sbin/mariadbd target/tools/mariadb/usr/bin/mariadb | grep -q "not found"; then
    echo "==> installing the libraries MariaDB needs"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q libaio1 liburing2 libnuma1 \
      libpcre2-8-0 libsnappy1v5 libssl3 libsystemd0 liblz4-1 libzstd1 libncurses6 libedit2
  fi
  if [ ! -d end2end/node_modules/@playwright/test ]; then
    echo "==> installing the Playwright test runner (no browser download)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi

if [ "${1:-}" = "--for-bench" ]; then
  missing=()
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
  command -v jq >/dev/null 2>&1 || missing+=(jq)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing Debian's ${missing[*]} for the benchmarks"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
  fi
fi
