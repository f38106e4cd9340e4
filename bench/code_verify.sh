#!/usr/bin/env bash
# The verification rate of code.verify (docs/code.md): train_leetcode's reference solutions run against
# their tests in the sandbox, at 1 thread and at THREADS threads: problems/s, the verdicts, and the
# reference runs' wall times from the report.
#
#   BUILD=build N=400 THREADS=2 bench/code_verify.sh
# N: the first N problems of the file (0: all 1,889). Needs bubblewrap and ../shared/data/code.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${BUILD:-build}
N=${N:-400}
THREADS=${THREADS:-2}
data=${TAMIS_DATA:-../shared/data}/code/train_leetcode.jsonl
[ -f "$data" ] || { echo "code_verify.sh: $data is missing" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$N" -gt 0 ]; then head -n "$N" "$data" > "$work/in.jsonl"; else cp "$data" "$work/in.jsonl"; fi
count=$(wc -l < "$work/in.jsonl")
cat > "$work/verify.yaml" <<'YAML'
version: 1
sources:
  train_leetcode: { path: in.jsonl }
stages:
  verify: { uses: code.verify }
sinks:
  kept:   { path: out/kept.jsonl }
  report: { path: out/report.json, report: true }
YAML
printf '%d problems of train_leetcode (load average before: %s)\n' "$count" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %10s %12s %10s %10s %10s %10s\n' threads seconds problems/s verified rejected "run mean" "run p95"
for t in 1 "$THREADS"; do
  s=$EPOCHREALTIME
  TAMIS_PLUGIN_PATH= "$BUILD/core/tamis" run "$work/verify.yaml" --threads "$t" > /dev/null 2> "$work/log" || { cat "$work/log" >&2; exit 1; }
  e=$EPOCHREALTIME
  secs=$(echo "$e - $s" | bc)
  report=$work/out/report.json
  kept=$(jq '.stages[] | select(.name == "verify") | .kept' "$report")
  rejected=$(jq '.stages[] | select(.name == "verify") | .rejected' "$report")
  mean=$(jq '.stages[] | select(.name == "verify") | .report.reference_seconds.mean' "$report")
  p95=$(jq '.stages[] | select(.name == "verify") | .report.reference_seconds.p95' "$report")
  printf '%-8s %10.1f %12.1f %10s %10s %9.3fs %9.3fs\n' "$t" "$secs" "$(echo "$count / $secs" | bc -l)" "$kept" "$rejected" "$mean" "$p95"
done
