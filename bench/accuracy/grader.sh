#!/usr/bin/env bash
# Agreement of the answer grader (`grade.answer` op, defaults) with labeled answer pairs, through `tamis run`:
#   - our table of hard pairs (tests/plugins/grade/answer_pairs.tsv: expected verdicts written by hand);
#   - GSM8K example model solutions (../shared/data/gsm8k/example_model_solutions.jsonl: the stored
#     is_correct label of each of 4 models' solutions, 5,276 in all);
#   - MATH-500 (../shared/data/math/math500_test.jsonl): each worked solution (its last \boxed{}) against
#     the set's `answer` field, all expected equivalent (the same answer written twice by the dataset).
# Prints a Markdown table. Usage: BUILD=build-grader bench/accuracy/grader.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${BUILD:-build}
data=${TAMIS_DATA:-../shared/data}
tamis=$BUILD/core/tamis
[[ -x $tamis ]] || { echo "grader.sh: no $tamis (build first: cmake --build $BUILD --target tamis tamis_grade)" >&2; exit 2; }
if [[ ! -s $data/gsm8k/example_model_solutions.jsonl || ! -s $data/math/math500_test.jsonl ]]; then
  echo "grader.sh: no shared data in $data; skipped"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

python3 - "$data" "$work" <<'PY'
import json, sys
data, work = sys.argv[1], sys.argv[2]
with open(f"{work}/table.jsonl", "w") as out:
    for n, line in enumerate(open("tests/plugins/grade/answer_pairs.tsv", encoding="utf-8")):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        mode, a, b, expected = line.split("\t")[:4]
        a, b = a.replace("<NL>", "\n"), b.replace("<NL>", "\n")
        if mode == "e":  # an answer pair: each side boxed, graded both ways
            for x, y in ((a, b), (b, a)):
                out.write(json.dumps({"id": f"t{n}", "response": "\\boxed{" + x + "}", "answer": y, "label": expected == "1"}, separators=(",", ":")) + "\n")
        else:
            out.write(json.dumps({"id": f"t{n}", "response": a, "answer": b, "label": expected == "1"}, separators=(",", ":")) + "\n")
with open(f"{work}/gsm8k.jsonl", "w") as out:
    for n, line in enumerate(open(f"{data}/gsm8k/example_model_solutions.jsonl", encoding="utf-8")):
        d = json.loads(line)
        for m in ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"):
            if m in d:
                out.write(json.dumps({"id": f"g{n}-{m}", "response": d[m]["solution"], "answer": d["ground_truth"],
                                      "label": bool(d[m]["is_correct"])}, separators=(",", ":")) + "\n")
with open(f"{work}/math500.jsonl", "w") as out:
    for n, line in enumerate(open(f"{data}/math/math500_test.jsonl", encoding="utf-8")):
        d = json.loads(line)
        out.write(json.dumps({"id": f"m{n}", "response": d["solution"], "answer": d["answer"], "label": True}, separators=(",", ":")) + "\n")
PY

run() {  # NAME: grades $work/NAME.jsonl, prints "agree total tp fp fn tn"
  local name=$1
  cat >"$work/$name.yaml" <<YAML
version: 1
sources:
  input: { path: '$work/$name.jsonl', id: id }
stages:
  graded:
    uses: grade.answer
    inputs: [input]
sinks:
  out: { path: '$work/$name.out.jsonl' }
YAML
  "$tamis" run "$work/$name.yaml" --threads 2 >/dev/null 2>"$work/$name.log" || { cat "$work/$name.log" >&2; exit 1; }
  awk '{ label = index($0, "\"label\":true") > 0; graded = index($0, "\"correct\":true") > 0
         if (label && graded) tp++; else if (!label && graded) fp++; else if (label && !graded) fn++; else tn++ }
       END { printf "%d %d %d %d %d %d\n", tp + tn, NR, tp, fp, fn, tn }' "$work/$name.out.jsonl"
}

echo "| labeled set | pairs | agreement | precision (correct) | recall (correct) | false positives | false negatives |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for set in table:"hard pairs table (tests/plugins/grade/answer_pairs.tsv)" gsm8k:"GSM8K example model solutions (is_correct)" math500:"MATH-500 solution box vs answer field"; do
  name=${set%%:*} label=${set#*:}
  read -r agree total tp fp fn tn < <(run "$name")
  awk -v l="$label" -v a="$agree" -v n="$total" -v tp="$tp" -v fp="$fp" -v fn="$fn" 'BEGIN {
    p = (tp + fp) ? sprintf("%.2f%%", 100 * tp / (tp + fp)) : "-"; r = (tp + fn) ? sprintf("%.2f%%", 100 * tp / (tp + fn)) : "-"
    printf "| %s | %d | %d / %d = %.2f%% | %s | %s | %d | %d |\n", l, n, a, n, 100 * a / n, p, r, fp, fn }'
done
