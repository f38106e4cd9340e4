#!/usr/bin/env bash
# The dedup family's cost against an earlier revision, in instructions (valgrind callgrind counts:
# repeatable on a shared, noisy machine where wall time is not). Whole runs at 1 thread (read, parse,
# the stage, write) on the same generated file, this tree against BASE:
#
#   BASE=6c9f671 bench/dedup_instructions.sh        BUILD=build (this tree, built), RECORDS=30000
#
# BASE is checked out into a temporary worktree and built (Release) in it. Rows: dedup.exact,
# dedup.exact with answer_field (answer conflicts), dedup.minhash, dedup.minhash with answers: distinct
# (this tree only: BASE has no such parameter; its row is compared with BASE's text-only run), and
# dedup.decontaminate (bench/pipelines/decontaminate-bench.yaml: AIME 2024 + 2025, MATH-500, GSM8K test).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
BASE=${BASE:?set BASE to a revision, e.g. BASE=6c9f671}
BUILD=${BUILD:-build}
RECORDS=${RECORDS:-30000}
refs=$(cd "$root/.." && pwd)/shared/data
[[ -s $refs/math/math500_test.jsonl ]] || { echo "dedup_instructions.sh: ../shared/data is absent"; exit 0; }
command -v valgrind > /dev/null || { echo "dedup_instructions.sh: valgrind is needed" >&2; exit 1; }
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/base" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/base" "$BASE" > /dev/null 2>&1
cmake -S "$work/base" -B "$work/base/build" -DCMAKE_BUILD_TYPE=Release -DTAMIS_BUILD_TESTS=OFF > "$work/base-cmake.log"
# plugins/basic became plugins/filter and plugins/map in issue 15: build whichever BASE has.
base_plugins=$([[ -d $work/base/plugins/basic ]] && echo tamis_basic || echo tamis_filter tamis_map)
cmake --build "$work/base/build" -j2 --target tamis tamis_dedup $base_plugins > "$work/base-build.log"
cmake --build "$BUILD" -j2 --target tamis tamis_dedup tamis_filter tamis_map tamis_gen_prompts > /dev/null
"$BUILD/bench/gen_prompts" --records "$RECORDS" --seed 1 --out "$work/in.jsonl" 2> /dev/null
count() {  # binary, pipeline directory, pipeline, extra args...: instructions of the whole run
  local bin=$1 dir=$2 pipe=$3; shift 3
  BENCH_INPUT=$work/in.jsonl BENCH_OUT=$work/out BENCH_REFS=$refs TAMIS_PLUGIN_PATH= \
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" run "$dir/$pipe.yaml" --threads 1 "$@" \
    > /dev/null 2> "$work/cg.err" || { cat "$work/cg.err" >&2; exit 1; }
  grep -o 'Collected : [0-9]*' "$work/cg.err" | grep -o '[0-9]*'
}
mkdir -p "$work/out"
echo "| run ($RECORDS records, 1 thread) | $BASE | this tree | ratio |"
echo "|---|---:|---:|---:|"
row() {  # label, pipeline, base args (or -), our args...
  local label=$1 pipe=$2 base_args=$3; shift 3
  local b n
  # BASE runs its own pipeline files (op names as BASE knows them; issue 15 renamed some).
  local base_dir=$work/base/bench/pipelines
  [[ -f $base_dir/$pipe.yaml ]] || base_dir=bench/pipelines
  if [[ $base_args == - ]]; then b=$(count "$work/base/build/core/tamis" "$base_dir" "$pipe"); else b=$(count "$work/base/build/core/tamis" "$base_dir" "$pipe" $base_args); fi
  n=$(count "$BUILD/core/tamis" bench/pipelines "$pipe" "$@")
  awk -v l="$label" -v b="$b" -v n="$n" 'BEGIN { printf "| %s | %.1fM | %.1fM | %.3f |\n", l, b/1e6, n/1e6, n/b }'
}
row "dedup.exact" dedup-exact -
row "dedup.exact, answer_field: answer" dedup-exact "--set exact.answer_field=answer" --set exact.answer_field=answer
row "dedup.minhash" dedup-minhash -
row "dedup.minhash, answers: distinct (base: text only)" dedup-minhash - --set near.answers=distinct
row "dedup.decontaminate" decontaminate-bench -
