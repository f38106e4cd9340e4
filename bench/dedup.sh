#!/usr/bin/env bash
# Benchmarks the dedup family (dedup.exact, dedup.minhash, dedup.decontaminate) next to a pass-through run on
# the same file, and prints a Markdown table (also saved to bench/results/dedup-latest.md):
#
#   bench/dedup.sh                     bench/data/prompts-1m.jsonl (the file bench/run.sh uses)
#   REPEAT=5 bench/dedup.sh            5 rounds instead of 3 (each row: its best run by wall time)
#   BUILD_DIR=build-x bench/dedup.sh   build (Release) and run from that directory (default build-bench)
#   BENCH_REFS=DIR bench/dedup.sh      the shared data folder holding the decontamination references
#                                      (default ../shared/data beside the repository)
#
# Rows: pass-through (bench/pipelines/passthrough.yaml), filter.require on problem (require-problem.yaml:
# the cheapest stage, what any one stage costs over the pass-through), dedup.exact (dedup-exact.yaml: key problem,
# default normalisation), dedup.minhash (dedup-minhash.yaml: word 5-grams, 128 permutations, threshold
# 0.8, exact Jaccard) and decontaminate (decontaminate-bench.yaml: AIME 2024 + 2025, MATH-500, GSM8K
# test), each at 1 and 2 threads. Every round runs every configuration once (interleaved), so a slow
# phase of a shared machine hits all rows alike; ratios to the pass-through are taken at the same thread
# count within this one script run. Wall time from $EPOCHREALTIME, CPU seconds and peak RSS from
# /usr/bin/time. The 1- and 2-thread outputs (kept and rejected files) are compared with cmp. For the
# ordered stages (dedup.exact, dedup.minhash) the table also shows the share of the stage's time spent
# in its serial part (report.json's serial_seconds), which bounds the gain from more threads.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
repeat=${REPEAT:-3}
build_dir=${BUILD_DIR:-build-bench}
input=$root/bench/data/prompts-1m.jsonl
refs=${BENCH_REFS:-$(cd "$root/.." && pwd)/shared/data}
results=$root/bench/results
logs=$results/logs
mkdir -p "$logs" "$root/bench/data"
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "dedup.sh: REPEAT must be a positive integer" >&2; exit 2; }
log() { echo "dedup.sh: $*" >&2; }

for f in aime/aime24.jsonl aime/aime25.jsonl math/math500_test.jsonl gsm8k/test.jsonl; do
  [[ -s $refs/$f ]] || { log "reference $refs/$f is missing (set BENCH_REFS to the shared data folder)"; exit 1; }
done
[[ -x /usr/bin/time ]] || { log "GNU time is needed: apt-get install -y time"; exit 1; }

log "building tamis and the dedup plugin in $build_dir (Release; log in ${logs#"$root"/}/dedup-build.log)"
{
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTAMIS_BUILD_TESTS=OFF &&
    cmake --build "$build_dir" -j2 --target tamis tamis_filter tamis_map tamis_dedup tamis_gen_prompts
} >"$logs/dedup-build.log" 2>&1 || { tail -n 30 "$logs/dedup-build.log" >&2; log "build failed"; exit 1; }
tamis=$root/$build_dir/core/tamis

# The same file as bench/run.sh; generated (seed 42) only when missing.
if [[ ! -s $input ]]; then
  log "generating ${input#"$root"/} (1,000,000 records, seed 42)"
  "$root/$build_dir/bench/gen_prompts" --records 1000000 --seed 42 --out "$input.partial"
  mv "$input.partial" "$input"
fi
bytes=$(stat -L -c %s "$input")
records=$(wc -l <"$input")
cat "$input" >/dev/null  # warm the page cache

out=/dev/shm/tamis-dedup-bench-$$
[[ -d /dev/shm && -w /dev/shm ]] || out=$root/bench/out/dedup-$$
mkdir -p "$out"
trap 'rm -rf -- "$out"' EXIT

declare -A wall cpu rss
pipelines=(passthrough require-problem dedup-exact dedup-minhash decontaminate-bench)
measure() {  # measure PIPELINE THREADS
  local key=$1-t$2 start w m u s
  rm -rf "${out:?}/$key" && mkdir -p "$out/$key"
  start=$EPOCHREALTIME
  if ! BENCH_INPUT=$input BENCH_OUT=$out/$key BENCH_REFS=$refs /usr/bin/time -f '%M %U %S' -o "$logs/dedup-$key.time" \
    "$tamis" run "$root/bench/pipelines/$1.yaml" --threads "$2" >"$logs/dedup-$key.log" 2>&1; then
    tail -n 5 "$logs/dedup-$key.log" >&2
    log "$key failed"
    exit 1
  fi
  w=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
  read -r m u s <"$logs/dedup-$key.time"
  if [[ -z ${wall[$key]:-} ]] || awk -v a="$w" -v b="${wall[$key]}" 'BEGIN { exit !(a < b) }'; then
    wall[$key]=$w
    cpu[$key]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    rss[$key]=$((m / 1024))
  fi
  # Keep the 1-thread outputs for the comparison with 2 threads.
  [[ $2 == 1 ]] && { rm -rf "${out:?}/keep-$1" && mv "$out/$key" "$out/keep-$1"; }
  return 0
}

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= repeat; round++)); do
  log "round $round of $repeat"
  for p in "${pipelines[@]}"; do
    for t in 1 2; do measure "$p" "$t"; done
  done
done

same() {  # same PIPELINE: the last 1- and 2-thread runs wrote byte-identical kept and rejected files
  local f
  for f in "$out/keep-$1"/*.jsonl; do
    cmp -s "$f" "$out/$1-t2/$(basename "$f")" || { echo DIFFER; return; }
  done
  echo identical
}

serial_share() {  # serial_share PIPELINE: an ordered stage's serial_seconds / seconds, from its 1-thread report
  local f
  f=$(ls "$out/keep-$1"/*.report.json 2>/dev/null | head -1)
  [[ -n $f ]] || return 0
  python3 -c 'import json, sys
st = json.load(open(sys.argv[1]))["stages"]
print(" ".join("%.0f%%" % (100 * s["serial_seconds"] / s["seconds"]) for s in st if "serial_seconds" in s and s["seconds"] > 0))' "$f"
}

row() {  # row PIPELINE LABEL
  local p=$1 t ratio speedup
  for t in 1 2; do
    local k=$p-t$t
    ratio=$(awk -v a="${wall[passthrough-t$t]}" -v b="${wall[$k]}" 'BEGIN { printf "%.2fx", a / b }')
    speedup=""
    [[ $t == 2 ]] && speedup=$(awk -v a="${wall[$p-t1]}" -v b="${wall[$k]}" 'BEGIN { printf "%.2fx", a / b }')
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$t" "${wall[$k]}" "${cpu[$k]}" \
      "$(awk -v n="$records" -v s="${wall[$k]}" 'BEGIN { printf "%.0f", n / s / 1000 }')K" \
      "$(awk -v b="$bytes" -v s="${wall[$k]}" 'BEGIN { printf "%.0f", b / s / 1e6 }')" \
      "$ratio" "$speedup" "${rss[$k]}" "$([[ $t == 1 ]] && serial_share "$p" || true)" "$([[ $t == 2 ]] && same "$p" || true)"
  done
}

count() { [[ -f $1 ]] && wc -l <"$1" || echo 0; }
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- plugins/dedup plugins/text core sdk 2>/dev/null || commit="$commit (uncommitted changes)"
report=$results/dedup-latest.md
{
  echo "## tamis dedup benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- input: \`bench/data/prompts-1m.jsonl\`: $records records, $bytes bytes"
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs; load average at start: $load_at_start"
  echo "- build: Release (\`$build_dir\`), commit $commit; best of $repeat interleaved round(s) by wall time"
  echo "- records/s and MB/s: input records and bytes / wall seconds; vs pass-through: pass-through wall / this wall, same thread count"
  echo
  echo "- serial part: for an ordered stage, its \`serial_seconds\` / \`seconds\` in the 1-thread run's report (the share that does not scale with threads)"
  echo
  echo "| run | threads | wall s | CPU s | records/s | MB/s | vs pass-through | 2t / 1t | peak RSS MiB | serial part | 1t = 2t output |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  row passthrough "pass-through"
  row require-problem "filter.require (problem): one trivial stage"
  row dedup-exact "dedup.exact (problem)"
  row dedup-minhash "dedup.minhash (word 5-grams, 128 perms, 0.8)"
  row decontaminate-bench "dedup.decontaminate (AIME 24+25, MATH-500, GSM8K test)"
  echo
  echo "- dedup.exact: $(count "$out/keep-dedup-exact/dedup-exact.jsonl") kept, $(count "$out/keep-dedup-exact/dedup-exact.rejected.jsonl") rejected"
  echo "- dedup.minhash: $(count "$out/keep-dedup-minhash/dedup-minhash.jsonl") kept, $(count "$out/keep-dedup-minhash/dedup-minhash.rejected.jsonl") rejected; stage report: $(grep -o '"report": *{[^}]*}' "$out/keep-dedup-minhash/dedup-minhash.report.json" | head -1)"
  echo "- decontaminate: $(count "$out/keep-decontaminate-bench/decontaminate.rejected.jsonl") contaminated"
} | tee "$report"
log "table saved to ${report#"$root"/}"
