#!/usr/bin/env bash
# Throughput of the text normalisation (tamis::text::normalize_append, plugins/text/normalize.cpp) on the
# `problem` field of the benchmark files, per option combination (bench/normalize_bench.cpp):
#
#   bench/normalize.sh                  the current tree, on bench/data/prompts-1m.jsonl and (if present)
#                                       bench/data/multilingual-200k.jsonl
#   BASE=<rev> bench/normalize.sh       also builds the benchmark over <rev>'s normalize.cpp (same flags)
#                                       and runs old and new alternately; prints both and the ratio, and
#                                       checks that both give the same output checksum
#   REPEAT=3 ROUNDS=3 ALL=1 LIMIT=N     process runs per build (interleaved), timed rounds per process
#                                       (best kept), all 64 option combinations, first N records only
#   INPUTS="a.jsonl b.jsonl"            other JSONL files (field problem) instead of the two above
#
# Builds Release in build-bench-norm (BUILD_DIR to change). Numbers are best-of-all-rounds MB/s (10^6
# bytes of input text per second, one thread); the machine may be shared: compare ratios from one run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-build-bench-norm}
repeat=${REPEAT:-2}
rounds=${ROUNDS:-3}
log() { echo "normalize.sh: $*" >&2; }

base_args=()
if [[ -n ${BASE:-} ]]; then
  mkdir -p "$build_dir"
  git show "$BASE:plugins/text/normalize.cpp" > "$build_dir/normalize-base.cpp.new"
  # Only touch the copy when it changed, so that the base binary is not rebuilt every time.
  if cmp -s "$build_dir/normalize-base.cpp.new" "$build_dir/normalize-base.cpp"; then rm "$build_dir/normalize-base.cpp.new"
  else mv "$build_dir/normalize-base.cpp.new" "$build_dir/normalize-base.cpp"; fi
  base_args=(-DTAMIS_NORMALIZE_BASE_SRC="$root/$build_dir/normalize-base.cpp")
else
  base_args=(-DTAMIS_NORMALIZE_BASE_SRC=)
fi
log "building in $build_dir (Release)"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTAMIS_BUILD_TESTS=OFF "${base_args[@]}" > /dev/null
targets=(tamis_normalize_bench)
[[ -n ${BASE:-} ]] && targets+=(tamis_normalize_bench_base)
cmake --build "$build_dir" -j2 --target "${targets[@]}" > /dev/null

args=(--rounds "$rounds")
[[ -n ${ALL:-} ]] && args+=(--all)
[[ -n ${LIMIT:-} ]] && args+=(--limit "$LIMIT")
tmp=$(mktemp -d /dev/shm/normalize-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

read -r -a inputs <<< "${INPUTS:-bench/data/prompts-1m.jsonl bench/data/multilingual-200k.jsonl}"
for input in "${inputs[@]}"; do
  [[ -s $input ]] || { log "$input is missing (bench/run.sh and bench/gen_multilingual.py make it); skipped"; continue; }
  name=$(basename "$input" .jsonl)
  for ((r = 0; r < repeat; ++r)); do
    log "$name: run $((r + 1))/$repeat"
    if [[ -n ${BASE:-} ]]; then "$build_dir/bench/normalize_bench_base" --in "$input" "${args[@]}" >> "$tmp/$name.base"; fi
    "$build_dir/bench/normalize_bench" --in "$input" "${args[@]}" >> "$tmp/$name.new"
  done
  echo "## $name (field problem; best MB/s over $repeat x $rounds rounds)"
  if [[ -n ${BASE:-} ]]; then
    echo "| options | base $BASE | new | new/base | same output |"
    echo "|---|---:|---:|---:|---|"
  else
    echo "| options | MB/s |"
    echo "|---|---:|"
  fi
  # Best MB/s and the checksum per combination, in first-seen order.
  awk -v has_base="${BASE:+1}" '
    function field(k,   i) { for (i = 1; i <= NF; ++i) if (index($i, k "=") == 1) return substr($i, length(k) + 2) }
    FNR == 1 { side = (FILENAME ~ /\.base$/) ? "base" : "new" }
    { c = field("combo"); sub(/^v[0-9]+;/, "", c); v = field("MBps") + 0  # the same options across versions
      if (!(c in seen)) { seen[c] = 1; order[++n] = c }
      if (v > best[side, c]) best[side, c] = v
      sum[side, c] = field("checksum") }
    END {
      for (i = 1; i <= n; ++i) {
        c = order[i]
        if (has_base) printf "| %s | %.0f | %.0f | %.2fx | %s |\n", c, best["base", c], best["new", c],
                             best["new", c] / best["base", c], (sum["base", c] == sum["new", c]) ? "yes" : "NO"
        else printf "| %s | %.0f |\n", c, best["new", c]
      }
    }' $([[ -n ${BASE:-} ]] && echo "$tmp/$name.base") "$tmp/$name.new"
  echo
done
