#!/usr/bin/env bash
# Accuracy of answer-aware dedup (docs/accuracy.md): near dedup with answers and numbers ignored, answers
# `distinct`, and both `distinct`, on DeepScaleR MATH train + MATH test + GSM8K train (real pools) plus
# 200 planted light rewordings of real problems whose answers are written in other, equivalent forms
# (bench/accuracy/plant_rewordings.py), and on eight Qwen2.5-Math evaluation sets (Chinese and English);
# exact dedup's answer conflicts on the first pools and MATH-500 (short answers for the MATH
# test problems whose answers are worked solutions) and 200 planted exact copies, half of them with a
# wrong answer. Prints Markdown tables.
#
#   bench/accuracy/dedup.sh            uses a built build/ (BUILD=dir to change); needs ../shared/data
#   KEEP_SAMPLES=DIR bench/accuracy/dedup.sh   also keeps the samples for hand-checking in DIR
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
BUILD=${BUILD:-build}
shared=$(cd "$root/.." && pwd)/shared/data
if [[ ! -s $shared/deepscaler/train_math.jsonl || ! -s $shared/math/math_test.jsonl || ! -s $shared/gsm8k/train.jsonl ]]; then
  echo "dedup.sh: ../shared/data is absent: nothing to measure"; exit 0
fi
for f in core/tamis bench/answer_equiv; do
  [[ -x $BUILD/$f ]] || { echo "dedup.sh: no $BUILD/$f (build first: cmake --build $BUILD --target tamis tamis_dedup tamis_filter tamis_map tamis_answer_equiv)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 bench/accuracy/plant_rewordings.py "$shared/deepscaler/train_math.jsonl" 200 "$work/planted.jsonl"
# Modes: text only; answers: distinct; answers and numbers: distinct (what the recipes use).
run_modes() {  # pipeline, output prefix
  PLANTED=$work/planted.jsonl OUT=$work/$2-ignore "$BUILD/core/tamis" run "$1" > "$work/$2-ignore.log" 2>&1
  PLANTED=$work/planted.jsonl OUT=$work/$2-distinct "$BUILD/core/tamis" run "$1" --set near.answers=distinct > "$work/$2-distinct.log" 2>&1
  PLANTED=$work/planted.jsonl OUT=$work/$2-numbers "$BUILD/core/tamis" run "$1" --set near.answers=distinct \
    --set near.numbers=distinct > "$work/$2-numbers.log" 2>&1
}
run_modes bench/accuracy/pipelines/near-dedup.yaml near
run_modes bench/accuracy/pipelines/near-dedup-qwen.yaml qwen
/usr/bin/python3 bench/accuracy/plant_rewordings.py --conflicts "$shared/deepscaler/train_math.jsonl" 200 "$work/conflicts.jsonl"
PLANTED=$work/conflicts.jsonl OUT=$work/exact "$BUILD/core/tamis" run bench/accuracy/pipelines/exact-dedup.yaml > "$work/exact.log" 2>&1
/usr/bin/python3 bench/accuracy/dedup_report.py "$shared" "$work/planted.jsonl" "$BUILD/bench/answer_equiv" "$work" "$work/conflicts.jsonl"
if [[ -n ${KEEP_SAMPLES:-} ]]; then cp -r "$work/samples" "$KEEP_SAMPLES"; echo "samples copied to $KEEP_SAMPLES"; fi
