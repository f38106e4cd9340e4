#!/usr/bin/env bash
# rollout.sample end to end: `tamis run` on RECORDS generated problems x N samples against the loopback
# test server answering at once; a first run (every sample asked, stored, graded), then a rerun (all from
# the cache: no request). Prints records/s and requests/s of each.
# Usage: bench/rollout_op.sh [BUILD_DIR] [RECORDS] [N] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
records=${2:-10000}
n=${3:-4}
threads=${4:-2}
cmake --build "$build" -j2 --target rollout_client_bench tamis tamis_rollout >/dev/null
bin="$build/tests/plugins/rollout/rollout_client_bench"
tmp=$(mktemp -d)
coproc SERVER { "$bin" --serve; }
trap 'exec {SERVER[1]}>&-; wait; rm -rf "$tmp"' EXIT
read -r url <&"${SERVER[0]}"
awk -v n="$records" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"q%d\",\"problem\":\"What is %d + %d?\",\"answer\":\"%d\"}\n", i, i, 7, i + 7 }' > "$tmp/in.jsonl"
cat > "$tmp/p.yaml" <<YAML
version: 1
sources:
  input: { path: in.jsonl, id: id }
stages:
  sample:
    uses: rollout.sample
    with: { endpoints: ["$url"], model: bench, n: $n, cache: cache.sqlite, max_in_flight: 64 }
sinks:
  kept: { path: out/kept.jsonl }
YAML
echo "machine: $(nproc) cores; $(uptime | sed 's/.*load average/load average/'); $records records x $n samples, --threads $threads"
for run in first rerun; do
  start=$(date +%s.%N)
  "$build/core/tamis" run "$tmp/p.yaml" --threads "$threads" 2>"$tmp/err.txt" >/dev/null || { cat "$tmp/err.txt"; exit 1; }
  end=$(date +%s.%N)
  awk -v r="$records" -v n="$n" -v s="$start" -v e="$end" -v run="$run" \
    'BEGIN { t = e - s; printf "%-6s %.2f s  %.0f records/s  %.0f samples/s\n", run, t, r / t, r * n / t }'
done
