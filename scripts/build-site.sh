#!/usr/bin/env bash
# Builds the browser side into target/site: the hydration wasm (through wasm-bindgen), the CSS and
# the public assets. Usage: scripts/build-site.sh debug|release
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-debug}
case "$mode" in
  debug)   profile_flag=(); wasm_dir=debug ;;
  release) profile_flag=(--profile wasm-release); wasm_dir=wasm-release ;;
  *) echo "usage: $0 debug|release" >&2; exit 2 ;;
esac

cargo build -p frontend --lib --target wasm32-unknown-unknown "${profile_flag[@]}"
mkdir -p target/site/pkg
# The server asks for /pkg/tileworks.js and /pkg/tileworks_bg.wasm (wasm-bindgen's own names).
wasm-bindgen --target web --no-typescript --out-dir target/site/pkg --out-name tileworks \
  "target/wasm32-unknown-unknown/$wasm_dir/frontend.wasm"
# One stylesheet for the page: main.css (the base) first, then one file per page or feature.
{ cat style/main.css; for f in style/*.css; do [ "$f" = style/main.css ] || cat "$f"; done; } \
  > target/site/pkg/tileworks.css
cp -r public/. target/site/
echo "site built in target/site ($mode)"
