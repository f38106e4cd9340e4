#!/usr/bin/env bash
# Wall time of two builds of tamis, run alternately on the same file (interleaved, so that a slow phase
# of a shared machine hits both alike), one thread, for pipelines of bench/pipelines/:
#
#   OLD=/path/to/old-checkout NEW=. ROUNDS=5 PIPES="passthrough dedup-exact dedup-minhash" bench/compare_builds.sh
#
# OLD and NEW are checkouts, each built (Release) in its build-bench/ (bench/dedup.sh builds it there; for
# an older revision: git worktree add ../old REV, then run its bench/dedup.sh once or build it). Each
# pipeline runs from its own checkout's bench/pipelines/. Input: BENCH_INPUT (default NEW's
# bench/data/prompts-1m.jsonl); references: BENCH_REFS (default ../shared/data). Prints, per pipeline,
# the best and median seconds of each build and old/new (above 1: the new build is faster).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OLD=${OLD:?set OLD to the older checkout}
NEW=${NEW:-.}
ROUNDS=${ROUNDS:-5}
PIPES=${PIPES:-passthrough require-problem dedup-exact dedup-minhash decontaminate-bench}
export BENCH_INPUT=${BENCH_INPUT:-$(cd "$NEW" && pwd)/bench/data/prompts-1m.jsonl}
export BENCH_REFS=${BENCH_REFS:-$(cd "$NEW/.." && pwd)/shared/data}
[[ -s $BENCH_INPUT ]] || { echo "compare_builds.sh: no $BENCH_INPUT (bench/run.sh or bench/dedup.sh makes it)" >&2; exit 2; }
for side in "$OLD" "$NEW"; do
  [[ -x $side/build-bench/core/tamis ]] || { echo "compare_builds.sh: no $side/build-bench/core/tamis" >&2; exit 2; }
done
out=$(mktemp -d /dev/shm/compare.XXXXXX)
trap 'rm -rf "$out"' EXIT
export BENCH_OUT=$out
times=$out/times
for ((r = 1; r <= ROUNDS; ++r)); do
  for p in $PIPES; do
    for side in old new; do
      dir=$OLD; [[ $side == new ]] && dir=$NEW
      s=$EPOCHREALTIME
      TAMIS_PLUGIN_PATH= "$dir/build-bench/core/tamis" run "$dir/bench/pipelines/$p.yaml" --threads 1 > /dev/null 2>&1 ||
        { echo "compare_builds.sh: $side $p failed" >&2; exit 1; }
      e=$EPOCHREALTIME
      echo "$p $side $(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')" >> "$times"
    done
  done
done
echo "| pipeline (1 thread, $ROUNDS rounds) | old best s | new best s | old median s | new median s | old/new (best) | old/new (median) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for p in $PIPES; do
  awk -v p="$p" '
    $1 == p { t[$2, ++n[$2]] = $3 }
    function sort(side, a,   i, j, k, x) { k = n[side]; for (i = 1; i <= k; ++i) a[i] = t[side, i]
      for (i = 2; i <= k; ++i) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; --j) a[j + 1] = a[j]; a[j + 1] = x } return k }
    function median(a, k) { return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
    END { ko = sort("old", o); kn = sort("new", m)
          printf "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", p, o[1], m[1], median(o, ko), median(m, kn), o[1] / m[1], median(o, ko) / median(m, kn) }' "$times"
done
