#!/usr/bin/env bash
# Accuracy of near dedup on code problems (docs/code.md, "Duplicates"): dedup.minhash at 0.8 over the
# four files of ../shared/data/code with the text only, with `numbers: distinct`, and with numbers and
# tests distinct (answer_field: tests, answers: distinct: what pipelines/code.yaml runs). For every pair
# it merges: are the two problems' tests the same JSON (a label that needs no judgment), and the
# hand-checked verdict of bench/accuracy/code_dedup_handcheck.tsv. Prints Markdown tables.
#
#   bench/accuracy/code_dedup.sh       uses a built build/ (BUILD=dir to change); needs ../shared/data/code
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${BUILD:-build}
shared=$(cd .. && pwd)/shared/data
if [[ ! -s $shared/code/train_leetcode.jsonl ]]; then echo "code_dedup.sh: ../shared/data/code is absent: nothing to measure"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() {  # name, --set ...
  local name=$1; shift
  DATA=$shared OUT=$work/$name "$BUILD/core/tamis" run bench/accuracy/pipelines/code-dedup.yaml "$@" > "$work/$name.log" 2>&1
}
run text
run numbers --set near.numbers=distinct
run tests --set near.numbers=distinct --set near.answer_field=tests --set near.answers=distinct
/usr/bin/python3 - "$work" bench/accuracy/code_dedup_handcheck.tsv <<'PY'
import json, sys
work, handcheck = sys.argv[1], sys.argv[2]
verdict = {}
for line in open(handcheck, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    rec, other, v, note = line.rstrip("\n").split("\t")
    verdict[(rec, other)] = v
print("| mode | near duplicates | same tests | other tests | hand-checked: duplicate | hand-checked: different problem |")
print("|---|---:|---:|---:|---:|---:|")
same_tests_pairs = {}
for mode in ("text", "numbers", "tests"):
    rows = {}
    for f in ("kept", "rejected"):
        for line in open(f"{work}/{mode}/{f}.jsonl", encoding="utf-8"):
            r = json.loads(line)
            rows[r["tamis"]["id"]] = r
    n = same = dup = diff = 0
    for r in rows.values():
        t = r["tamis"]
        if t.get("reason") != "near_duplicate":
            continue
        n += 1
        other = rows[t["dup_of"]]
        s = r["tests"] == other["tests"]
        same += s
        if s:
            same_tests_pairs.setdefault(mode, set()).add(t["id"])
        v = verdict.get((t["id"], t["dup_of"]), "")
        dup += v == "duplicate"
        diff += v == "different"
    label = {"text": "text only", "numbers": "numbers: distinct", "tests": "numbers and tests distinct (the recipe)"}[mode]
    print(f"| {label} | {n} | {same} | {n - same} | {dup} | {diff} |")
PY
