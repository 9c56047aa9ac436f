#!/usr/bin/env bash
# Fails when the release wasm, as browsers download it (brotli), grows past its budget: every
# operator's first page load pays for each kilobyte (BENCHMARKS.md "Bytes per page load").
# Builds the release site into target/site-release (so the debug site the browser tests use is
# left alone) unless SKIP_BUILD=1. Usage: scripts/check-wasm-budget.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The budget, in bytes of brotli. Raise it only with a reason in the commit message.
# 1,110,000: the Clusters, cluster and Audit pages (merged after the budget was set) added
# 73 KB; the 1 MiB cold-load goal now needs per-page splitting.
# 1,170,000: the Certificate Authorities page, the clusters' Upgrade action and relative times, the
# dashboard's Deployed/Pending/Delete states and the Review page's adapter warnings added 48.5 KB
# (1,158,553 measured). Per-page splitting (issue 12) is what brings it back down, not trimming.
# 1,200,000: the Director's Security, Syslog and Resource Config sections added 32.5 KB
# (1,191,104 measured, same day).
budget=${WASM_BUDGET_BYTES:-1200000}
site=target/site-release
if [ "${SKIP_BUILD:-}" != 1 ]; then
  SITE_ROOT=$site scripts/build-site.sh release >/dev/null
fi
hash=$(cat "$site/pkg/asset-hash")
wasm=$site/pkg/tileworks.${hash}_bg.wasm
size=$(stat -c %s "$wasm.br")
raw=$(stat -c %s "$wasm")
echo "release wasm: $raw bytes, $size bytes brotli (budget $budget)"
if [ "$size" -gt "$budget" ]; then
  echo "the release wasm is over its budget by $((size - budget)) bytes (brotli)" >&2
  exit 1
fi
