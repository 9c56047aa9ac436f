#!/usr/bin/env bash
# Fails when the release wasm, as browsers download it (brotli), grows past its budget: every
# operator's first page load pays for each kilobyte (BENCHMARKS.md "Page loads").
# Two budgets since the bundle is split per page (issue 12): the main module, which every page
# loads first (the dashboard loads nothing else), and all modules together (the main module,
# the lazy pages' modules and their shared chunks), so code cannot hide in the chunks.
# Builds the release site into target/site-release (so the debug site the browser tests use is
# left alone) unless SKIP_BUILD=1. Usage: scripts/check-wasm-budget.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The budgets, in bytes of brotli. Raise them only with a reason in the commit message.
# History of the single-module budget: 1,050,000 when set; 1,110,000 (Clusters, cluster and
# Audit pages); 1,170,000 (Certificate Authorities, cluster upgrades, dashboard states);
# 1,200,000 (the Director's Security, Syslog and Resource Config sections; 1,191,104 measured).
# Since splitting: 246,000 (main) and 1,480,000 (all), about 3 % above what was measured
# (BENCHMARKS.md); 252,000 and 1,540,000 after main's TLS certificate, VM extensions and
# passphrase pages, cluster upgrades and job-spec warnings (244,667 and 1,498,252 measured).
# Lowered to 250,000 and 1,340,000 when the wasm left the regex crate for regex-lite and read
# resources with one serde_json reader (243,123 and 1,301,793 measured), so the saving stays.
main_budget=${WASM_MAIN_BUDGET_BYTES:-250000}
total_budget=${WASM_TOTAL_BUDGET_BYTES:-1340000}
site=target/site-release
if [ "${SKIP_BUILD:-}" != 1 ]; then
  SITE_ROOT=$site scripts/build-site.sh release >/dev/null
fi
hash=$(cat "$site/pkg/asset-hash")
main=$site/pkg/tileworks.${hash}_bg.wasm
main_size=$(stat -c %s "$main.br")
main_raw=$(stat -c %s "$main")
total_size=0
total_raw=0
modules=0
for f in "$site/pkg/tileworks.$hash".*.wasm "$main"; do
  [ -e "$f" ] || continue
  total_size=$((total_size + $(stat -c %s "$f.br")))
  total_raw=$((total_raw + $(stat -c %s "$f")))
  modules=$((modules + 1))
done
echo "main wasm module: $main_raw bytes, $main_size bytes brotli (budget $main_budget)"
echo "all $modules wasm modules: $total_raw bytes, $total_size bytes brotli (budget $total_budget)"
status=0
if [ "$main_size" -gt "$main_budget" ]; then
  echo "the main wasm module is over its budget by $((main_size - main_budget)) bytes (brotli)" >&2
  status=1
fi
if [ "$total_size" -gt "$total_budget" ]; then
  echo "the wasm modules together are over their budget by $((total_size - total_budget)) bytes (brotli)" >&2
  status=1
fi
exit $status
