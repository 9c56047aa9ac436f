#!/usr/bin/env bash
# Page-load benchmark: the PKS "Plan 1" form page under load, compared with a static asset
# (the stylesheet, /pkg/tileworks.<hash>.css) of the same server. Results go into BENCHMARKS.md ("Pages under load").
#
# Builds the release server and site, starts `tileworks serve` on a free loopback port with a
# throw-away data dir, logs in through the browser form (session cookie), stages the bundled
# PKS tile through the API (password-grant token, `opsman` client), then runs wrk against both
# URLs and prints the results and their ratio. The server is stopped on exit, whatever happens.
#
# Usage: scripts/bench-pages.sh
# Environment: WRK_THREADS (2), WRK_CONNECTIONS (16), WRK_DURATION (15s), SKIP_BUILD=1 to use the
# binaries already built, SITE_ROOT (target/site) for another built site, FORM (plan1) to load
# another form of the tile, TILEWORKS_BIN (target/release/tileworks) for another build of the
# server (e.g. target/debug/tileworks with SKIP_BUILD=1, to compare two commits without a
# release build), PERF_OUT (a file: record a perf profile of the server during the page run),
# SERVER_RUST_LOG (the server's RUST_LOG, warn) with SERVER_LOG_OUT (a file: the server's log is
# copied there at the end), e.g. SERVER_RUST_LOG=sqlx::query=debug to count the queries a
# page makes.
set -euo pipefail
cd "$(dirname "$0")/.."

threads=${WRK_THREADS:-2}
connections=${WRK_CONNECTIONS:-16}
duration=${WRK_DURATION:-15s}
form=${FORM:-plan1}
site=${SITE_ROOT:-target/site}
product=pivotal-container-service

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then
  echo "installing wrk (apt)" >&2
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
for tool in curl jq python3; do
  need "$tool" || { echo "$tool is needed" >&2; exit 1; }
done

if [ "${SKIP_BUILD:-}" != 1 ]; then
  cargo build --release -p server
  scripts/build-site.sh release
fi
bin=${TILEWORKS_BIN:-target/release/tileworks}
[ -x "$bin" ] || { echo "$bin is missing (build it, or unset SKIP_BUILD)" >&2; exit 1; }
[ -f "$site/pkg/asset-hash" ] || { echo "$site is missing: run scripts/build-site.sh release" >&2; exit 1; }
stylesheet=tileworks.$(cat "$site/pkg/asset-hash").css

# A free loopback port: ask the kernel for one, release it, hand it to the server.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
base="http://127.0.0.1:$port"
work=$(mktemp -d)
password="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  [ -z "${SERVER_LOG_OUT:-}" ] || cp "$work/server.log" "$SERVER_LOG_OUT" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

TILEWORKS_ADMIN_PASSWORD="$password" RUST_LOG="${SERVER_RUST_LOG:-warn}" \
  "$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/data" --site-root "$site" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q "Tileworks listening" "$work/server.log" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.2
done
grep -q "Tileworks listening" "$work/server.log" || { echo "server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

# Browser login: the session cookie goes into a jar, then into wrk's Cookie header.
curl -fsS -o /dev/null -c "$work/cookies" \
  --data-urlencode "username=admin" --data-urlencode "password=$password" "$base/login"
cookie=$(awk '$6 == "tileworks_session" {print $6 "=" $7}' "$work/cookies" | head -n1)
[ -n "$cookie" ] || { echo "no session cookie after login" >&2; cat "$work/cookies" >&2; exit 1; }

# API: token (password grant, public client `opsman`), then stage the bundled PKS tile.
token=$(curl -fsS -u opsman: \
  --data-urlencode grant_type=password --data-urlencode username=admin \
  --data-urlencode "password=$password" "$base/uaa/oauth/token" | jq -r .access_token)
version=$(curl -fsS -H "Authorization: Bearer $token" "$base/api/v0/available_products" |
  jq -r --arg n "$product" 'map(select(.name == $n)) | .[0].product_version')
[ -n "$version" ] && [ "$version" != null ] || { echo "$product is not available" >&2; exit 1; }
guid=$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "$(jq -nc --arg n "$product" --arg v "$version" '{name: $n, product_version: $v}')" \
  "$base/api/v0/staged/products" | jq -r .guid)
[ -n "$guid" ] && [ "$guid" != null ] || { echo "staging $product failed" >&2; exit 1; }

page="$base/products/$guid/settings?form=$form"
asset="$base/pkg/$stylesheet"
# Both must answer 200 with the session (a redirect to /login would measure the wrong page).
for url in "$page" "$asset"; do
  code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Cookie: $cookie" "$url")
  [ "$code" = 200 ] || { echo "$url answered $code" >&2; head -c 400 "$work/body" >&2; exit 1; }
done
page_bytes=$(curl -s -H "Cookie: $cookie" "$page" | wc -c)
asset_bytes=$(curl -s -H "Cookie: $cookie" "$asset" | wc -c)
# What a browser receives (it asks for gzip): the compressed size as sent on the wire.
page_gzip_bytes=$(curl -s -H "Cookie: $cookie" -H 'Accept-Encoding: gzip' "$page" | wc -c)
grep -q "Plan 1" <(curl -s -H "Cookie: $cookie" "$page") ||
  { echo "the page does not show the Plan 1 form" >&2; exit 1; }

echo "== $product $version staged as $guid; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== wrk -t$threads -c$connections -d$duration (loopback)"
run() {
  local label=$1 url=$2 out=$3
  echo "-- $label: $url"
  wrk -t"$threads" -c"$connections" -d"$duration" --latency -H "Cookie: $cookie" "$url" | tee "$out"
}
if [ -n "${PERF_OUT:-}" ]; then
  # A CPU profile of the server while wrk loads the page (self time by function):
  # perf report -i "$PERF_OUT" --no-children --sort symbol.
  perf record -F 499 --call-graph "${PERF_CALL_GRAPH:-fp}" -o "$PERF_OUT" -p "$server_pid" -- sleep "${duration%s}" >/dev/null 2>&1 &
  perf_pid=$!
fi
run "plan form page ($page_bytes bytes, $page_gzip_bytes gzipped)" "$page" "$work/page.txt"
[ -z "${PERF_OUT:-}" ] || wait "$perf_pid"
run "static asset ($asset_bytes bytes)" "$asset" "$work/asset.txt"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
non2xx() { awk '/Non-2xx or 3xx responses:/ {print $5}' "$1"; }
page_rps=$(rps "$work/page.txt")
asset_rps=$(rps "$work/asset.txt")
for f in page asset; do
  bad=$(non2xx "$work/$f.txt")
  [ -z "$bad" ] || echo "WARNING: $f run had $bad non-2xx/3xx responses" >&2
done
python3 - "$page_rps" "$asset_rps" <<'EOF'
import sys
page, asset = (float(x) for x in sys.argv[1:3])
print(f"== requests/s: plan form page {page:.1f}, static asset {asset:.1f}; "
      f"the asset is served {asset / page:.1f}x as fast as the page")
EOF
