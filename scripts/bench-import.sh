#!/usr/bin/env bash
# Import benchmark: a generated .pivotal (1 GiB by default) uploaded through
# `POST /api/v0/available_products` (multipart `product[file]`, as `om upload-product` sends it),
# compared with `cp` of the same file in the same run, and the server's peak RSS growth during
# the import (VmHWM from /proc after resetting it with clear_refs).
#
#   scripts/bench-import.sh              # 1 GiB
#   SIZE_MIB=256 scripts/bench-import.sh # smaller
#
# Needs curl and python3; builds target/release/tileworks if missing (TILEWORKS_BIN overrides).
# Targets (BENCHMARKS.md): throughput >= 0.8x cp, peak RSS growth < 64 MiB.
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-1024}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TILEWORKS_BIN:-$ROOT/target/release/tileworks}
if [ ! -x "$BIN" ]; then
    (cd "$ROOT" && cargo build --release -p server)
fi

WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/tileworks-bench.XXXXXX")
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

TILE="$WORK/bench.pivotal"
echo "generating a ${SIZE_MIB} MiB tile in $WORK ..."
python3 - "$TILE" "$SIZE_MIB" "$ROOT/tiles/products/pks/metadata.yml" <<'PY'
import os, re, sys, zipfile
path, size_mib, metadata = sys.argv[1], int(sys.argv[2]), sys.argv[3]
meta = open(metadata).read()
meta = re.sub(r'^product_version: .*$', 'product_version: 99.0.0-bench', meta, count=1, flags=re.M)
chunk = os.urandom(1 << 20)  # incompressible, like release tarballs
with zipfile.ZipFile(path, 'w', allowZip64=True) as z:
    z.writestr('metadata/pks.yml', meta, compress_type=zipfile.ZIP_DEFLATED)
    with z.open(zipfile.ZipInfo('releases/bench-release.tgz'), 'w', force_zip64=True) as f:
        for i in range(size_mib):
            f.write(chunk[i % 7:] + chunk[:i % 7])
PY
BYTES=$(stat -c %s "$TILE")

now() { date +%s.%N; }
# Warm the page cache the same way for both.
cat "$TILE" > /dev/null

t0=$(now); cp "$TILE" "$WORK/copy.pivotal"; t1=$(now)
CP_S=$(echo "$t1 - $t0" | bc -l)
t0=$(now); cp "$TILE" "$WORK/copy2.pivotal"; sync -f "$WORK/copy2.pivotal" 2>/dev/null || sync; t1=$(now)
CP_SYNC_S=$(echo "$t1 - $t0" | bc -l)
rm -f "$WORK/copy.pivotal" "$WORK/copy2.pivotal"

mkdir -p "$WORK/data"
TILEWORKS_ADMIN_PASSWORD=bench-password RUST_LOG=warn \
    "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" > "$WORK/server.out" 2> "$WORK/server.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 100); do
    URL=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$WORK/server.out" | head -1)
    [ -n "$URL" ] && break
    sleep 0.1
done
[ -n "$URL" ] || { echo "server did not start"; cat "$WORK/server.err"; exit 1; }

TOKEN=$(curl -sf -u opsman: -d grant_type=password -d username=admin -d password=bench-password \
    "$URL/uaa/oauth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# One small request first so lazily created state does not count as import growth.
curl -sf -H "Authorization: Bearer $TOKEN" "$URL/api/v0/available_products" > /dev/null

rss_kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$SERVER_PID/status"; }
# Reset the peak (VmHWM) to the current RSS, so the peak below belongs to the import.
echo 5 > "/proc/$SERVER_PID/clear_refs" 2>/dev/null || true
RSS_BEFORE=$(rss_kib VmRSS)

OUT=$(curl -s -o "$WORK/response.json" -w '%{http_code} %{time_total}' \
    -H "Authorization: Bearer $TOKEN" -F "product[file]=@$TILE" "$URL/api/v0/available_products")
CODE=${OUT% *}
IMPORT_S=${OUT#* }
PEAK=$(rss_kib VmHWM)
[ "$CODE" = 200 ] || { echo "import failed: HTTP $CODE"; cat "$WORK/response.json"; exit 1; }

python3 - "$BYTES" "$CP_S" "$CP_SYNC_S" "$IMPORT_S" "$RSS_BEFORE" "$PEAK" <<'PY'
import sys
size, cp, cp_sync, imp, before, peak = sys.argv[1:]
size, cp, cp_sync, imp = int(size), float(cp), float(cp_sync), float(imp)
before, peak = int(before), int(peak)
mib = size / 2**20
growth = (peak - before) / 1024
ratio = cp / imp
print(f"file:                {mib:.0f} MiB")
print(f"cp:                  {cp:.2f} s  ({mib/cp:.0f} MiB/s)")
print(f"cp + fsync:          {cp_sync:.2f} s  ({mib/cp_sync:.0f} MiB/s)")
print(f"import (HTTP):       {imp:.2f} s  ({mib/imp:.0f} MiB/s)  sha256 + fsync + archive check + lint")
print(f"throughput vs cp:    {ratio:.2f}x   (target >= 0.8x; vs cp+fsync {cp_sync/imp:.2f}x)")
print(f"server RSS:          {before/1024:.1f} MiB before, peak {peak/1024:.1f} MiB, growth {growth:.1f} MiB (target < 64 MiB)")
PY
