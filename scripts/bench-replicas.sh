#!/usr/bin/env bash
# Replicas benchmark (issue 15): the PKS plan form page and a mixed API load, against one
# replica and against three behind haproxy, in the same run. Results go into BENCHMARKS.md
# ("Several replicas behind a load balancer").
#
# Starts a throw-away PostgreSQL (scripts/postgres-for-tests.sh, with its test-only shortcuts
# switched back to PostgreSQL's durable defaults), one `tileworks director`, three `tileworks
# serve` replicas on that database and that Director, and Debian's haproxy in front of them
# (round robin, the README's configuration). Logs in through the login form (session cookie)
# and takes a token (om's password grant), stages the bundled PKS tile, then runs wrk four times:
#   page  @ replica-1   GET /products/<guid>/settings?form=plan1 with the session
#   page  @ haproxy     the same through the load balancer
#   api   @ replica-1   the mixed API load (scripts/bench-replicas.lua): per 10 requests, 3 reads
#                       of the staged products, 3 of the product's properties, 2 of the Change
#                       Log, 1 of pending changes and 1 staged property write, with the token
#   api   @ haproxy     the same through the load balancer
# and prints requests/s and p99 latency of each. Any answer other than 2xx fails the run.
# Everything started is stopped on exit.
#
# Usage: scripts/bench-replicas.sh
# Environment: WRK_THREADS (2), WRK_CONNECTIONS (16), WRK_DURATION (15s), FORM (plan1),
# TILEWORKS_BIN (the release build: ${CARGO_TARGET_DIR:-target}/release/tileworks, built if
# missing), SITE_ROOT (a built site for the pages' asset names; none by default: the page's
# HTML is the same but for those names). Tools: scripts/install-tools.sh --for-bench.
set -euo pipefail
cd "$(dirname "$0")/.."

threads=${WRK_THREADS:-2}
connections=${WRK_CONNECTIONS:-16}
duration=${WRK_DURATION:-15s}
form=${FORM:-plan1}
product=pivotal-container-service

for tool in wrk /usr/sbin/haproxy psql curl jq python3; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "$tool is missing: scripts/install-tools.sh --for-bench" >&2; exit 1; }
done
bin=${TILEWORKS_BIN:-${CARGO_TARGET_DIR:-target}/release/tileworks}
[ -x "$bin" ] || cargo build --release -p server
site_args=()
[ -n "${SITE_ROOT:-}" ] && site_args=(--site-root "$SITE_ROOT")

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# Waits until a process's log says it listens; prints the URL.
listening() {
  local log=$1 pid=$2
  for _ in $(seq 1 300); do
    url=$(sed -n 's/.*listening on \(https\?:[^ ]*\).*/\1/p' "$log" 2>/dev/null | head -n1 || true)
    [ -n "$url" ] && { echo "$url"; return; }
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.2
  done
  echo "no 'listening on' in $log" >&2; cat "$log" >&2; exit 1
}

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${PG_TEST_DIR:-}" ] && scripts/postgres-for-tests.sh stop "$PG_TEST_DIR"
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

eval "$(scripts/postgres-for-tests.sh start)"
psql "$TILEWORKS_TEST_DATABASE_URL" -q -v ON_ERROR_STOP=1 \
  -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
  -c "ALTER SYSTEM SET full_page_writes = on" -c "SELECT pg_reload_conf()" \
  -c "CREATE DATABASE tileworks" >/dev/null
export TILEWORKS_DATABASE_URL=${TILEWORKS_TEST_DATABASE_URL%/*}/tileworks
export TILEWORKS_DECRYPTION_PASSPHRASE="bench-passphrase-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export TILEWORKS_DIRECTOR_CLIENT_SECRET="bench-director-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
password="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export RUST_LOG=warn

RUST_LOG=info "$bin" director --listen 127.0.0.1:0 --data-dir "$work/director" \
  >"$work/director.log" 2>&1 &
pids+=($!)
export TILEWORKS_DIRECTOR_URL
TILEWORKS_DIRECTOR_URL=$(listening "$work/director.log" "$!")
export TILEWORKS_DIRECTOR_CA_CERT=$work/director/tls/ca.crt TILEWORKS_DIRECTOR_CLIENT=admin

# The first replica sets the database up (and the administrator); the others join it.
replicas=()
for i in 1 2 3; do
  port=$(free_port)
  TILEWORKS_ADMIN_PASSWORD=$password "$bin" serve --listen "127.0.0.1:$port" \
    --data-dir "$work/replica-$i" --replica-id "replica-$i" "${site_args[@]}" \
    >"$work/replica-$i.log" 2>&1 &
  pids+=($!)
  listening "$work/replica-$i.log" "$!" >/dev/null
  replicas+=("127.0.0.1:$port")
done

lb_port=$(free_port)
cat >"$work/haproxy.cfg" <<CFG
global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
frontend tileworks
    bind 127.0.0.1:$lb_port
    stats enable
    stats uri /haproxy-stats
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /api/v0/info
    server replica-1 ${replicas[0]} check
    server replica-2 ${replicas[1]} check
    server replica-3 ${replicas[2]} check
CFG
/usr/sbin/haproxy -c -q -f "$work/haproxy.cfg"
/usr/sbin/haproxy -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$lb_port/api/v0/info" && break; sleep 0.1; done

one="http://${replicas[0]}"
lb="http://127.0.0.1:$lb_port"
curl -fsS -o /dev/null -c "$work/cookies" \
  --data-urlencode "username=admin" --data-urlencode "password=$password" "$lb/login"
cookie=$(awk '$6 == "tileworks_session" {print $6 "=" $7}' "$work/cookies" | head -n1)
[ -n "$cookie" ] || { echo "no session cookie after login" >&2; exit 1; }
token=$(curl -fsS -u opsman: --data-urlencode grant_type=password \
  --data-urlencode username=admin --data-urlencode "password=$password" \
  "$lb/uaa/oauth/token" | jq -r .access_token)
version=$(curl -fsS -H "Authorization: Bearer $token" "$lb/api/v0/available_products" |
  jq -r --arg n "$product" 'map(select(.name == $n)) | .[0].product_version')
guid=$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "$(jq -nc --arg n "$product" --arg v "$version" '{name: $n, product_version: $v}')" \
  "$lb/api/v0/staged/products" | jq -r .guid)
[ -n "$guid" ] && [ "$guid" != null ] || { echo "staging $product failed" >&2; exit 1; }

page="/products/$guid/settings?form=$form"
# The page must answer 200 with the session on every replica (a redirect to /login would
# measure the wrong page), and show the form.
for base in "$one" "$lb" "$lb" "$lb"; do
  code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Cookie: $cookie" "$base$page")
  [ "$code" = 200 ] && grep -q "Plan 1" "$work/body" ||
    { echo "$base$page answered $code" >&2; head -c 400 "$work/body" >&2; exit 1; }
done
page_bytes=$(curl -s -H "Cookie: $cookie" "$one$page" | wc -c)

echo "== $product $version staged as $guid; three replicas on PostgreSQL, haproxy in front"
echo "== wrk -t$threads -c$connections -d$duration (loopback); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run() {
  local name=$1 url=$2
  shift 2
  echo "-- $name: $url"
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@" "$url" | tee "$work/$name.txt"
  if grep -q "Non-2xx or 3xx responses" "$work/$name.txt"; then
    echo "$name: answers other than 2xx; see above and $work" >&2
    exit 1
  fi
}
run page-one "$one$page" -H "Cookie: $cookie"
run page-lb "$lb$page" -H "Cookie: $cookie"
export BENCH_TOKEN=$token BENCH_GUID=$guid
run api-one "$one" -s scripts/bench-replicas.lua
run api-lb "$lb" -s scripts/bench-replicas.lua
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== requests each replica answered through haproxy (its stats: stot):"
curl -fsS "$lb/haproxy-stats;csv" | awk -F, '$1 == "replicas" && $2 ~ /^replica-/ {print $2 ": " $8}'
rps() { awk '/^Requests\/sec:/ {print $2}' "$work/$1.txt"; }
p99() { awk '$1 == "99%" {print $2}' "$work/$1.txt"; }
printf '\n| target | requests/s | p99 |\n|---|---|---|\n'
printf '| plan form page (%s bytes), one replica | %s | %s |\n' "$page_bytes" "$(rps page-one)" "$(p99 page-one)"
printf '| plan form page, three replicas behind haproxy | %s | %s |\n' "$(rps page-lb)" "$(p99 page-lb)"
printf '| mixed API load, one replica | %s | %s |\n' "$(rps api-one)" "$(p99 api-one)"
printf '| mixed API load, three replicas behind haproxy | %s | %s |\n' "$(rps api-lb)" "$(p99 api-lb)"
