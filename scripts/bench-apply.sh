#!/usr/bin/env bash
# Apply Changes benchmark (issue #5): 20 small generated tiles (2 instance groups of 1 instance
# each) deployed by one `POST /api/v0/installations` against the embedded Director stand-in with
# zero VM latency, once with independent products in parallel (`--apply-parallelism`, default 5)
# and once forced serial (`--apply-parallelism 1`), each on a fresh data dir.
#
#   scripts/bench-apply.sh                       # release build (built if missing)
#   TILEWORKS_BIN=target/debug/tileworks scripts/bench-apply.sh
#   PRODUCTS=20 PARALLEL=5 scripts/bench-apply.sh
#   DATABASES="sqlite postgres" scripts/bench-apply.sh   # the same runs on each database
#
# Reports, per mode, the apply's wall time (POST until GET /api/v0/installations/:id says it
# ended, polled every 20 ms) and that time divided by the number of instance groups: with no
# VM latency this is the pipeline's overhead per instance group (render, uploads, Director
# task, events followed, snapshot), target < 50 ms. Then the speed-up of parallel over serial.
# With `postgres` in DATABASES the runs are repeated on a throw-away PostgreSQL
# (scripts/postgres-for-tests.sh, one fresh database per run, the embedded Director allowed with
# --single-replica as for one replica) whose test-only shortcuts are switched back to PostgreSQL's
# defaults first (fsync, synchronous_commit, full_page_writes on), so each commit is as durable
# as SQLite's (WAL, synchronous FULL). Needs python3 (standard library only), psql for postgres.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TILEWORKS_BIN:-$ROOT/target/release/tileworks}
if [ ! -x "$BIN" ]; then
    (cd "$ROOT" && cargo build --release -p server)
fi
WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/tileworks-bench-apply.XXXXXX")
DATABASES=${DATABASES:-sqlite}
PG_ADMIN_URL=""
cleanup() {
    [ -n "${PG_TEST_DIR:-}" ] && "$ROOT/scripts/postgres-for-tests.sh" stop "$PG_TEST_DIR"
    rm -rf "$WORK"
}
trap cleanup EXIT
case " $DATABASES " in
*" postgres "*)
    eval "$("$ROOT/scripts/postgres-for-tests.sh" start)"
    PG_ADMIN_URL=$TILEWORKS_TEST_DATABASE_URL
    psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 \
        -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
        -c "ALTER SYSTEM SET full_page_writes = on" -c "SELECT pg_reload_conf()" >/dev/null
    ;;
esac

python3 - "$BIN" "$WORK" "${PRODUCTS:-20}" "${PARALLEL:-5}" "$DATABASES" "$PG_ADMIN_URL" <<'PY'
import io, json, os, re, subprocess, sys, time, urllib.request, urllib.error, uuid, zipfile

BIN, WORK, PRODUCTS, PARALLEL = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
DATABASES, PG_ADMIN_URL = sys.argv[5].split(), sys.argv[6]
PASSWORD = "bench-password"
GROUPS = ["web", "worker"]

def metadata(i):
    jobs = ""
    for g in GROUPS:
        jobs += f"""
- name: {g}
  resource_label: {g.title()}
  max_in_flight: 1
  instance_definition: {{name: instances, type: integer, configurable: true, default: 1}}
  resource_definitions:
  - {{name: cpu, type: integer, configurable: true, default: 1}}
  - {{name: ram, type: integer, configurable: true, default: 1024}}
  - {{name: ephemeral_disk, type: integer, configurable: true, default: 2048}}
  - {{name: persistent_disk, type: integer, configurable: true, default: 0}}
  templates:
  - name: {g}
    release: bench-{i}-release
    manifest: |
      greeting: (( .properties.greeting.value ))
      group: {g}
"""
    return f"""name: bench-{i}
product_version: 1.0.0
metadata_version: '2.1'
label: Bench {i}
rank: 1
minimum_version_for_upgrade: 1.0.0
stemcell_criteria: {{os: ubuntu-xenial, version: '97.17'}}
releases:
- {{name: bench-{i}-release, version: 1.0.0, file: bench-{i}-release-1.0.0.tgz}}
property_blueprints:
- {{name: greeting, type: string, configurable: true, default: hello {i}}}
form_types:
- name: settings
  label: Settings
  property_inputs:
  - {{reference: .properties.greeting, label: Greeting}}
job_types:{jobs}"""

def pivotal(i):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"metadata/bench-{i}.yml", metadata(i), compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()

class Api:
    def __init__(self, url):
        self.url = url
        body = "grant_type=password&username=admin&password=" + PASSWORD
        req = urllib.request.Request(url + "/uaa/oauth/token", data=body.encode(), method="POST")
        req.add_header("Authorization", "Basic b3BzbWFuOg==")  # opsman:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        self.token = json.load(urllib.request.urlopen(req))["access_token"]

    def call(self, method, path, body=None, raw=None, content_type="application/json"):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req) as r:
                text = r.read()
        except urllib.error.HTTPError as e:
            sys.exit(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}")
        return json.loads(text) if text.strip() else None

    def upload(self, name, data):
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"product[file]\"; "
                f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
        body += data + f"\r\n--{boundary}--\r\n".encode()
        return self.call("POST", "/api/v0/available_products", raw=body,
                         content_type="multipart/form-data; boundary=" + boundary)

def configure_director(api):
    api.call("PUT", "/api/v0/staged/director/properties", {
        "iaas_configuration": {"vcenter_host": "vcsa.example.com",
            "vcenter_username": "administrator@vsphere.local", "vcenter_password": "secret",
            "datacenter": "dc1", "persistent_datastore_names": "ds1",
            "ephemeral_datastore_names": "ds1"},
        "director_configuration": {"ntp_servers_string": "0.pool.ntp.org"}})
    for az in ["az1", "az2"]:
        api.call("POST", "/api/v0/staged/director/availability_zones",
                 {"availability_zone": {"name": az, "clusters": [{"cluster": "c-" + az, "resource_pool": "rp"}]}})
    api.call("PUT", "/api/v0/staged/director/networks", {"icmp_checks_enabled": False, "networks": [
        {"name": "infra", "subnets": [{"iaas_identifier": "VM Network", "cidr": "10.0.0.0/22",
            "dns": "8.8.8.8", "gateway": "10.0.0.1", "reserved_ip_ranges": "10.0.0.1-10.0.0.10",
            "availability_zone_names": ["az1", "az2"]}]}]})
    api.call("PUT", "/api/v0/staged/director/network_and_az", {"network_and_az": {
        "network": {"name": "infra"}, "singleton_availability_zone": {"name": "az1"}}})

def database_args(database, name):
    """`serve` arguments for a fresh database of the kind asked for (SQLite: the data dir's)."""
    if database == "sqlite":
        return []
    subprocess.run(["psql", PG_ADMIN_URL, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    f"CREATE DATABASE {name}"], check=True)
    return ["--database-url", PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, "--single-replica"]

def run(database, mode, parallelism):
    data = os.path.join(WORK, database + "-" + mode)
    os.makedirs(data)
    env = dict(os.environ, TILEWORKS_ADMIN_PASSWORD=PASSWORD, RUST_LOG="warn")
    env.pop("TILEWORKS_DATABASE_URL", None)
    server = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", data,
                               "--director-vm-create-ms", "0", "--apply-parallelism", str(parallelism)]
                              + database_args(database, f"bench_apply_{mode}"),
                              stdout=subprocess.PIPE, stderr=open(os.path.join(data, "server.err"), "w"),
                              env=env, text=True)
    try:
        url = None
        for line in server.stdout:
            m = re.search(r"listening on (http\S+)", line)
            if m:
                url = m.group(1)
                break
        if not url:
            sys.exit("the server did not start: " + open(os.path.join(data, "server.err")).read())
        api = Api(url)
        configure_director(api)
        for i in range(PRODUCTS):
            api.upload(f"bench-{i}.pivotal", pivotal(i))
            guid = api.call("POST", "/api/v0/staged/products",
                            {"name": f"bench-{i}", "product_version": "1.0.0"})["guid"]
            api.call("PUT", f"/api/v0/staged/products/{guid}/networks_and_azs", {"networks_and_azs": {
                "singleton_availability_zone": {"name": "az1"},
                "other_availability_zones": [{"name": "az1"}, {"name": "az2"}],
                "network": {"name": "infra"}}})
        start = time.monotonic()
        iid = api.call("POST", "/api/v0/installations", {"deploy_products": "all"})["install"]["id"]
        while True:
            status = api.call("GET", f"/api/v0/installations/{iid}")
            if status["status"] != "running":
                break
            time.sleep(0.02)
        wall = time.monotonic() - start
        if status["status"] != "succeeded":
            logs = api.call("GET", f"/api/v0/installations/{iid}/logs")["logs"]
            sys.exit(f"{mode}: installation {status['status']}\n{logs[-4000:]}")
        deployed = api.call("GET", "/api/v0/deployed/products")
        assert len(deployed) == PRODUCTS + 1, deployed
        return wall
    finally:
        server.terminate()
        server.wait()

groups = PRODUCTS * len(GROUPS)
for database in DATABASES:
    results = {}
    for mode, p in [("parallel", PARALLEL), ("serial", 1)]:
        wall = run(database, mode, p)
        results[mode] = wall
        print(f"{database:8} {mode:8} --apply-parallelism {p}: {PRODUCTS} products, "
              f"{groups} instance groups: {wall:.2f} s, "
              f"{1000 * wall / groups:.1f} ms per instance group", flush=True)
    print(f"{database:8} speed-up of parallel over serial: "
          f"{results['serial'] / results['parallel']:.2f}x", flush=True)
PY
