#!/usr/bin/env bash
# Builds the browser side into target/site: the hydration wasm (through wasm-split and
# wasm-bindgen), the CSS and the public assets. Usage: scripts/build-site.sh debug|release
# (SITE_ROOT: another folder than target/site)
#
# Splitting (issue 12): most pages are lazy routes (app/src/lib.rs, `lazy_page!`). The wasm is
# linked with `--emit-relocs`, then `wasm-split-cli` (crate wasm_split_cli_support, pinned in
# scripts/install-tools.sh) cuts it into the main module, one module per lazy page
# (`split_<name>.wasm`), chunks of code that several pages share (`chunk_<n>.wasm`) and the
# JavaScript that loads them (`__wasm_split.js`, imported by the main module); wasm-bindgen then
# processes the main module only (`--keep-lld-exports`: the split modules import the main
# module's functions by their linker names). `pkg/split-manifest.json` lists, per lazy page, the
# files it needs: the server turns it into preload links (app `shell`), so a page's chunks load
# in parallel with the main module instead of after hydration reaches the page.
#
# debug: target/site/pkg/tileworks.js, tileworks_bg.wasm, tileworks.css (wasm-bindgen's names,
#   which the server asks for when pkg/asset-hash is absent), __wasm_split.js and the
#   split_*/chunk_* modules under wasm-split's names.
# release: every wasm module optimised for size by wasm-opt -Oz (binaryen from npm, pinned in
#   tools/package.json: Debian's wasm-opt 108 produces a module that fails at run time), debug,
#   name and producers sections stripped; all files named after one hash of their content
#   (tileworks.<hash>.js, tileworks.<hash>_bg.wasm, tileworks.<hash>.css,
#   tileworks.<hash>.split.js, tileworks.<hash>.split_<name>.wasm,
#   tileworks.<hash>.chunk_<n>.wasm; the references between them rewritten), the hash written
#   to pkg/asset-hash (the server reads it at start), and brotli (.br) and gzip (.gz) copies
#   beside them, which server/src/http/assets.rs sends by Accept-Encoding.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-debug}
case "$mode" in
  debug)   profile_flag=(); wasm_dir=debug ;;
  release) profile_flag=(--profile wasm-release); wasm_dir=wasm-release ;;
  *) echo "usage: $0 debug|release" >&2; exit 2 ;;
esac

# `cargo rustc` passes the link argument to the frontend crate's link only, so the dependencies
# keep the fingerprints `cargo build`/`clippy` give them (RUSTFLAGS would rebuild them all).
# wasm-split needs the relocations to move functions and data between modules.
cargo rustc -p frontend --lib --target wasm32-unknown-unknown "${profile_flag[@]}" \
  -- -C link-arg=--emit-relocs
site=${SITE_ROOT:-target/site}
pkg=$site/pkg
mkdir -p "$pkg"
# Whatever an earlier build left: its hashed names and copies would otherwise pile up, and a
# stale asset-hash would point the server at an old release build.
rm -f "$pkg"/tileworks.* "$pkg"/tileworks_bg.* "$pkg/asset-hash" "$pkg"/__wasm_split.* \
  "$pkg"/split_*.wasm "$pkg"/chunk_*.wasm "$pkg/split-manifest.json"

# One stylesheet for the page: main.css (the base) first, then one file per page or feature.
css() { cat style/main.css; for f in style/*.css; do [ "$f" = style/main.css ] || cat "$f"; done; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wasm-split-cli --target web --out-name tileworks \
  "target/wasm32-unknown-unknown/$wasm_dir/frontend.wasm" "$work/split" >/dev/null

# The manifest: for each lazy page (wasm-split's split name, which the server's render records
# when the page is shown), the modules it loads — its shared chunks, then its own module — read
# from the loader script wasm-split wrote. Arguments: the loader script, a prefix for the file
# stems (the release build's hashed names), the loader's name as served, the output file.
manifest() {
  node -e '
    const fs = require("fs");
    const [js, prefix, loader, out] = process.argv.slice(1);
    const text = fs.readFileSync(js, "utf8");
    const chunks = {};
    for (const m of text.matchAll(/const (__chunk_\d+) = makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\.\/(chunk_\d+)\.wasm"/g))
      chunks[m[1]] = m[2];
    const preloads = {};
    for (const m of text.matchAll(/export const __wasm_split_load_(\w+) = wrapAsyncCb\(makeLoad\(([\s\S]*?), \[([^\]]*)\]\)\);/g)) {
      const files = m[3].split(",").map((d) => d.trim()).filter(Boolean).map((d) => {
        if (!(d in chunks)) throw new Error(`wasm-split loader names an unknown chunk ${d}`);
        return chunks[d];
      });
      const own = m[2].match(/"\.\/(split_\w+)\.wasm"/);
      if (own) files.push(own[1]);
      preloads[m[1]] = files.map((f) => prefix + f);
    }
    if (Object.keys(preloads).length === 0) throw new Error(`no lazy pages found in ${js}`);
    fs.writeFileSync(out, JSON.stringify({ loader, preloads }, null, 2) + "\n");
  ' "$@"
}

if [ "$mode" = debug ]; then
  wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
    --out-dir "$pkg" --out-name tileworks "$work/split/tileworks.wasm"
  cp "$work/split/__wasm_split.js" "$work/split"/split_*.wasm "$pkg/"
  cp "$work/split"/chunk_*.wasm "$pkg/" 2>/dev/null || true
  manifest "$pkg/__wasm_split.js" "" "__wasm_split.js" "$pkg/split-manifest.json"
  css > "$pkg/tileworks.css"
else
  wasm_opt=tools/node_modules/.bin/wasm-opt
  if [ ! -x "$wasm_opt" ]; then
    (cd tools && npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent)
  fi
  wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
    --remove-name-section --remove-producers-section \
    --out-dir "$work" --out-name tileworks "$work/split/tileworks.wasm"
  # Without -g wasm-opt drops the names section; the features are those rustc's wasm32 target
  # enables by default. The split modules are optimised one by one: each keeps its imports and
  # exports (the main module's exports are what the others link against), so they still fit.
  opt() {
    "$wasm_opt" -Oz --strip-debug --strip-producers \
      --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals --enable-reference-types --enable-multivalue \
      -o "$2" "$1"
  }
  opt "$work/tileworks_bg.wasm" "$work/opt.wasm"
  mkdir "$work/parts"
  for f in "$work/split"/split_*.wasm "$work/split"/chunk_*.wasm; do
    [ -e "$f" ] && opt "$f" "$work/parts/$(basename "$f")"
  done
  css > "$work/tileworks.css"
  hash=$(cat "$work/tileworks.js" "$work/opt.wasm" "$work/tileworks.css" \
    "$work/split/__wasm_split.js" "$work/parts"/*.wasm | sha256sum | cut -c1-16)
  # The references between the files, rewritten to the hashed names: the main script imports
  # the loader (only the `import` line: the wasm's import object keeps the module name the wasm
  # asks for), the loader imports the main script's initSync and fetches the modules.
  sed "/^import /s#\./__wasm_split\.js#./tileworks.$hash.split.js#" "$work/tileworks.js" \
    > "$pkg/tileworks.$hash.js"
  sed -e "s#\./tileworks\.js#./tileworks.$hash.js#g" \
    -e "s#\./\(split_[A-Za-z0-9_]*\|chunk_[0-9]*\)\.wasm#./tileworks.$hash.\1.wasm#g" \
    "$work/split/__wasm_split.js" > "$pkg/tileworks.$hash.split.js"
  cp "$work/opt.wasm" "$pkg/tileworks.${hash}_bg.wasm"
  cp "$work/tileworks.css" "$pkg/tileworks.$hash.css"
  for f in "$work/parts"/*.wasm; do cp "$f" "$pkg/tileworks.$hash.$(basename "$f")"; done
  manifest "$work/split/__wasm_split.js" "tileworks.$hash." "tileworks.$hash.split.js" \
    "$pkg/split-manifest.json"
  for f in "$pkg"/tileworks.$hash.* "$pkg/tileworks.${hash}_bg.wasm"; do
    case "$f" in *.gz|*.br) continue ;; esac
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
