#!/usr/bin/env bash
# Cluster benchmarks (issue 10): `server/benches/clusters.rs` against the real binary and its
# embedded Director stand-in, with PKS deployed through Apply Changes.
#
#   scripts/bench-clusters.sh                          # both parts, 100 clusters
#   PART=provision CLUSTERS=100 CONCURRENCY=10 scripts/bench-clusters.sh
#   PART=upgrade CLUSTERS=100 LATENCY_MS=200 scripts/bench-clusters.sh
#   PROFILE=release scripts/bench-clusters.sh          # default: dev (debug build)
#
# provision: zero VM latency; total, wall time per cluster, and the broker's own time per
# cluster (the provision request until its 202). upgrade: LATENCY_MS per simulated VM call;
# upgrade-all of every cluster after a plan change, max_in_flight 1 and then 10.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
exec cargo bench -p server --bench clusters --profile "${PROFILE:-dev}"
