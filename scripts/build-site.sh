#!/usr/bin/env bash
# Builds the browser side into target/site: the hydration wasm (through wasm-bindgen), the CSS and
# the public assets. Usage: scripts/build-site.sh debug|release (SITE_ROOT: another folder than
# target/site)
#
# debug: target/site/pkg/tileworks.js, tileworks_bg.wasm, tileworks.css (wasm-bindgen's names,
#   which the server asks for when pkg/asset-hash is absent).
# release: the wasm optimised for size by wasm-opt -Oz (binaryen from npm, pinned in
#   tools/package.json: Debian's wasm-opt 108 produces a module that fails at run time), debug,
#   name and producers sections stripped; the three files named after a hash of their content
#   (tileworks.<hash>.js, tileworks.<hash>_bg.wasm, tileworks.<hash>.css), the hash written to
#   pkg/asset-hash (the server reads it at start), and brotli (.br) and gzip (.gz) copies beside
#   them, which server/src/http/assets.rs sends by Accept-Encoding.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-debug}
case "$mode" in
  debug)   profile_flag=(); wasm_dir=debug ;;
  release) profile_flag=(--profile wasm-release); wasm_dir=wasm-release ;;
  *) echo "usage: $0 debug|release" >&2; exit 2 ;;
esac

cargo build -p frontend --lib --target wasm32-unknown-unknown "${profile_flag[@]}"
site=${SITE_ROOT:-target/site}
pkg=$site/pkg
mkdir -p "$pkg"
# Whatever an earlier build left: its hashed names and copies would otherwise pile up, and a
# stale asset-hash would point the server at an old release build.
rm -f "$pkg"/tileworks.* "$pkg"/tileworks_bg.* "$pkg/asset-hash"

# One stylesheet for the page: main.css (the base) first, then one file per page or feature.
css() { cat style/main.css; for f in style/*.css; do [ "$f" = style/main.css ] || cat "$f"; done; }

if [ "$mode" = debug ]; then
  wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name tileworks \
    "target/wasm32-unknown-unknown/$wasm_dir/frontend.wasm"
  css > "$pkg/tileworks.css"
else
  wasm_opt=tools/node_modules/.bin/wasm-opt
  if [ ! -x "$wasm_opt" ]; then
    (cd tools && npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent)
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
    --out-dir "$work" --out-name tileworks "target/wasm32-unknown-unknown/$wasm_dir/frontend.wasm"
  # Without -g wasm-opt drops the names section; the features are those rustc's wasm32 target
  # enables by default.
  "$wasm_opt" -Oz --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    -o "$work/opt.wasm" "$work/tileworks_bg.wasm"
  css > "$work/tileworks.css"
  hash=$(cat "$work/tileworks.js" "$work/opt.wasm" "$work/tileworks.css" | sha256sum | cut -c1-16)
  cp "$work/tileworks.js" "$pkg/tileworks.$hash.js"
  cp "$work/opt.wasm" "$pkg/tileworks.${hash}_bg.wasm"
  cp "$work/tileworks.css" "$pkg/tileworks.$hash.css"
  for f in "$pkg/tileworks.$hash.js" "$pkg/tileworks.${hash}_bg.wasm" "$pkg/tileworks.$hash.css"; do
    gzip -9 -n -k -f "$f"
    node -e '
      const fs = require("fs"), zlib = require("zlib");
      const input = fs.readFileSync(process.argv[1]);
      fs.writeFileSync(process.argv[1] + ".br", zlib.brotliCompressSync(input, { params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: input.length } }));' "$f"
  done
  echo "$hash" > "$pkg/asset-hash"
  ls -l "$pkg"
fi
cp -r public/. "$site/"
echo "site built in $site ($mode)"
