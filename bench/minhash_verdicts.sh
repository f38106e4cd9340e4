#!/usr/bin/env bash
# dedup.minhash's verdicts as checksums, to compare two builds byte for byte (the kept, rejected and
# clusters files of each case, md5). Cases: the bench file (1M records: default settings with a clusters
# file; its first 200K with answers: distinct + numbers: distinct, and with max_candidates: 0), and
# ../shared/data (problem-field sets and question-field sets, each with answers/numbers: distinct, and
# char shingles with signature verification, also at num_perm 100).
#
#   TAMIS=build-minhash/core/tamis THREADS=2 bench/minhash_verdicts.sh > after.txt; diff before.txt after.txt
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TAMIS=${TAMIS:-build/core/tamis}
THREADS=${THREADS:-2}
input=${BENCH_INPUT:-$PWD/bench/data/prompts-1m.jsonl}
data=$(cd .. && pwd)/shared/data
work=$(mktemp -d /dev/shm/mhv.XXXXXX)
trap 'rm -rf "$work"' EXIT
run() {  # name, sources yaml, with yaml
  local name=$1
  cat > "$work/p.yaml" <<YAML
version: 1
sources:
$2
stages:
  near:
    uses: dedup.minhash
    with: { $3, clusters: "$work/clusters.jsonl" }
sinks:
  kept:     { path: "$work/kept.jsonl" }
  rejected: { path: "$work/rejected.jsonl", rejected: true }
  report:   { path: "$work/report.json", report: true }
YAML
  TAMIS_PLUGIN_PATH= "$TAMIS" run "$work/p.yaml" --threads "$THREADS" > /dev/null 2> "$work/err" || { cat "$work/err" >&2; exit 1; }
  local cand
  cand=$(grep -o '"candidates":[0-9]*' "$work/report.json")
  echo "$name $(cat "$work/kept.jsonl" | md5sum | cut -c1-12) $(cat "$work/rejected.jsonl" | md5sum | cut -c1-12) $(md5sum < "$work/clusters.jsonl" | cut -c1-12) $(wc -l < "$work/rejected.jsonl") $cand"
}
head -n 200000 "$input" > "$work/in200k.jsonl"
run bench-1m "  bench: { path: \"$input\", id: id }" "field: problem"
run bench-200k-distinct "  bench: { path: \"$work/in200k.jsonl\", id: id }" "field: problem, answer_field: answer, answers: distinct, numbers: distinct"
run bench-200k-uncapped "  bench: { path: \"$work/in200k.jsonl\", id: id }" "field: problem, max_candidates: 0"
if [[ -d $data/deepscaler ]]; then
  p="  s1: { path: \"$data/deepscaler/train_math.jsonl\" }
  s2: { path: \"$data/math/math_test.jsonl\" }
  s3: { path: \"$data/deepscaler/test_math.jsonl\" }
  s4: { path: \"$data/math/math500_test.jsonl\" }
  s5: { path: \"$data/deepscaler/train_aime.jsonl\" }
  s6: { path: \"$data/deepscaler/test_gsm8k.jsonl\" }"
  q="  s1: { path: \"$data/gsm8k/train.jsonl\" }
  s2: { path: \"$data/gsm8k/test.jsonl\" }
  s3: { path: \"$data/qwen25math_eval/college_math_test.jsonl\" }
  s4: { path: \"$data/qwen25math_eval/mmlu_stem_test.jsonl\" }
  s5: { path: \"$data/gsm8k/test_socratic.jsonl\" }"
  run shared-problem "$p" "field: problem, threshold: 0.7, answer_field: answer, answers: distinct, numbers: distinct"
  run shared-problem-chars "$p" "field: problem, shingle: chars, ngram: 7, verify: signature, threshold: 0.6"
  # num_perm not a multiple of 8: the AVX2 signature's scalar tail, and signature values in the similarities
  run shared-problem-chars-100 "$p" "field: problem, shingle: chars, ngram: 5, num_perm: 100, verify: signature, threshold: 0.6"
  run shared-question "$q" "field: question, threshold: 0.5, answer_field: answer, answers: distinct, numbers: distinct"
  run shared-question-plain "$q" "field: question, threshold: 0.6, max_candidates: 4"
fi
