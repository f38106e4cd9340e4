#!/usr/bin/env bash
# Agreement of the answer grader (`grade.answer` op, defaults) with a held-out table of answer pairs,
# bench/accuracy/grader_heldout.tsv, written blind (without reading the grader's code, its tuning table
# tests/plugins/grade/answer_pairs.tsv or its tests): response<TAB>reference<TAB>expected<TAB>family,
# expected verdicts written by hand. Each pair is graded once, response against reference, through
# `tamis run`. Prints agreement overall and per family, then every disagreement.
# Needs no shared data. Usage: BUILD=build-heldout bench/accuracy/grader_heldout.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${BUILD:-build}
tamis=$BUILD/core/tamis
table=${TABLE:-bench/accuracy/grader_heldout.tsv}  # TABLE= grades another table of the same form
[[ -x $tamis ]] || { echo "grader_heldout.sh: no $tamis (build first: cmake --build $BUILD --target tamis tamis_grade)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

# pairs.jsonl is what the grader sees ({id, response, answer}); labels.jsonl keeps the verdicts aside.
python3 - "$table" "$work" <<'PY'
import json, sys
table, work = sys.argv[1], sys.argv[2]
with open(f"{work}/pairs.jsonl", "w", encoding="utf-8") as out, open(f"{work}/labels.jsonl", "w", encoding="utf-8") as lab:
    part = "all rows"
    for n, line in enumerate(open(table, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if line.startswith("# pass "):  # the table's rows were written in passes; each is reported apart too
            part = line[2:].split(":")[0]
        if not line or line.startswith("#"):
            continue
        response, reference, expected, family = line.split("\t")
        assert expected in ("0", "1"), f"{table}:{n}: expected must be 0 or 1"
        response = response.replace("<NL>", "\n")
        out.write(json.dumps({"id": f"h{n}", "response": response, "answer": reference}, separators=(",", ":")) + "\n")
        lab.write(json.dumps({"id": f"h{n}", "response": response, "answer": reference, "expected": expected == "1",
                              "family": family, "pass": part}, separators=(",", ":")) + "\n")
PY

cat >"$work/heldout.yaml" <<YAML
version: 1
sources:
  input: { path: '$work/pairs.jsonl', id: id }
stages:
  graded:
    uses: grade.answer
    inputs: [input]
sinks:
  out: { path: '$work/out.jsonl' }
YAML
"$tamis" run "$work/heldout.yaml" --threads 2 >/dev/null 2>"$work/run.log" || { cat "$work/run.log" >&2; exit 1; }

python3 - "$work/labels.jsonl" "$work/out.jsonl" <<'PY'
import json, sys
pairs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
graded = {}
for l in open(sys.argv[2], encoding="utf-8"):
    d = json.loads(l)
    graded[d["id"]] = d.get("tamis", {})  # the grade.answer op's annotations: correct, extracted, grade_reason
missing = [p["id"] for p in pairs if p["id"] not in graded]
if missing:
    sys.exit(f"grader_heldout.sh: {len(missing)} pairs missing from the output (first {missing[0]})")
fam, passes = {}, {}
tot = {"n": 0, "agree": 0, "tp": 0, "fp": 0, "fn": 0, "tn": 0}
bad = []
for p in pairs:
    g = graded[p["id"]]
    got = g.get("correct") is True
    exp = p["expected"]
    key = ("t" if got == exp else "f") + ("p" if got else "n")
    for s in (fam.setdefault(p["family"], {"n": 0, "agree": 0, "tp": 0, "fp": 0, "fn": 0, "tn": 0}),
              passes.setdefault(p["pass"], {"n": 0, "agree": 0, "tp": 0, "fp": 0, "fn": 0, "tn": 0}), tot):
        s["n"] += 1
        s["agree"] += got == exp
        s[key] += 1
    if got != exp:
        bad.append((p, g, got))
def pct(a, b):
    return f"{100 * a / b:.1f}%" if b else "-"
def row(name, s):
    print(f"| {name} | {s['n']} | {s['agree']} / {s['n']} = {pct(s['agree'], s['n'])} | "
          f"{pct(s['tp'], s['tp'] + s['fp'])} | {pct(s['tp'], s['tp'] + s['fn'])} | {s['fp']} | {s['fn']} |")
print("| family | pairs | agreement | precision (correct) | recall (correct) | false positives | false negatives |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name in sorted(fam):
    row(name, fam[name])
if len(passes) > 1:
    for name in sorted(passes):
        row(f"*{name}*", passes[name])
row("**all**", tot)
print()
print(f"Disagreements ({len(bad)}):")
print()
print("| family | response | reference | expected | got | extracted | grade_reason |")
print("|---|---|---|---:|---:|---|---|")
def cell(s):
    return "`" + str(s).replace("\n", "\\n").replace("|", "\\|") + "`"
for p, g, got in bad:
    print(f"| {p['family']} | {cell(p['response'])} | {cell(p['answer'])} | {int(p['expected'])} | {int(got)} | "
          f"{cell(g.get('extracted', ''))} | {g.get('grade_reason', '')} |")
PY
