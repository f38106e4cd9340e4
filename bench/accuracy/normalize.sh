#!/usr/bin/env bash
# Accuracy of dedup.exact's normalisation (plugins/text/normalize.cpp, docs/dedup.md "Normalisation"),
# with the default steps and `fields: [problem]`:
#
#   BUILD=build-x bench/accuracy/normalize.sh      uses $BUILD/core/tamis (default build)
#
# Recall: bench/accuracy/normalize_planted.py takes 1,000 real problems (all of MATH-500 and the first
# 500 of DeepScaleR train_math) and makes, per problem, copies a person would call the same text (LaTeX
# commands or everything upper-cased, \dfrac for \frac, other math delimiters, \left( \right), \, and
# \displaystyle, non-breaking spaces, zero-width characters, Windows line ends, extra blanks, fullwidth
# letters, U+2212, curly quotes, a final period, spaces around operators, \le/\leq, pasted Unicode
# symbols, superscript digits). Label: a copy belongs to its original's group by construction. A copy
# is caught when dedup.exact rejects it as a duplicate of its own original (originals come first).
#
# Precision: dedup.exact over every problem of the shared math sets that have a `problem` field
# (DeepScaleR train and test sets, MATH test, MATH-500, AIME 2024/2025, AMC 2023, Minerva; ~17K records,
# which hold real copies across sets). A merge whose two texts are byte-identical is a true copy; every
# other merge is looked up in bench/accuracy/normalize_merges.tsv (hand-checked verdicts: `same` or
# `different`), and printed if it is not there. The planted set's false merges are counted too.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${BUILD:-build}
tamis=$BUILD/core/tamis
data=../shared/data
log() { echo "normalize.sh: $*" >&2; }
if [[ ! -s $data/math/math500_test.jsonl || ! -s $data/deepscaler/train_math.jsonl ]]; then
  echo "normalize.sh: ../shared/data is absent; skipped"
  exit 0
fi
[[ -x $tamis ]] || { log "$tamis is missing: build it first (cmake --build $BUILD --target tamis tamis_dedup)"; exit 1; }
data=$(cd "$data" && pwd)
here=$(pwd)/bench/accuracy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- recall on planted copies ---
/usr/bin/python3 "$here/normalize_planted.py" "$tmp/planted.jsonl" "$data/math/math500_test.jsonl" \
  "$data/deepscaler/train_math.jsonl:500"
cat > "$tmp/planted.yaml" <<EOF
version: 1
sources:
  planted: { path: $tmp/planted.jsonl, id: id }
stages:
  exact:
    uses: dedup.exact
    inputs: [planted]
    with: { fields: [problem] }
sinks:
  kept: { path: $tmp/planted-kept.jsonl }
  rejected: { path: $tmp/planted-rejected.jsonl, rejected: true }
EOF
"$tamis" run "$tmp/planted.yaml" > "$tmp/planted.log" 2>&1 || { cat "$tmp/planted.log" >&2; exit 1; }
echo "## dedup.exact recall on planted copies (default normalisation, field problem)"
echo
/usr/bin/python3 "$here/normalize_planted.py" score "$tmp/planted.jsonl" "$tmp/planted-rejected.jsonl"
echo

# --- precision on the real pool ---
files=(deepscaler/train_math deepscaler/train_aime deepscaler/test_math deepscaler/test_aime deepscaler/test_amc
       deepscaler/test_minerva deepscaler/test_olympiad_bench deepscaler/test_gsm8k math/math_test math/math500_test
       aime/aime24 aime/aime25 qwen25math_eval/amc23_test qwen25math_eval/minerva_math_test)
{
  echo "version: 1"
  echo "sources:"
  for f in "${files[@]}"; do echo "  ${f//\//_}: { path: $data/$f.jsonl }"; done
  echo "stages:"
  echo "  exact:"
  echo "    uses: dedup.exact"
  echo "    inputs: [$(printf '%s, ' "${files[@]//\//_}" | sed 's/, $//')]"
  echo "    with: { fields: [problem], clusters: $tmp/pool-clusters.jsonl }"
  echo "sinks:"
  echo "  kept: { path: $tmp/pool-kept.jsonl }"
} > "$tmp/pool.yaml"
"$tamis" run "$tmp/pool.yaml" > "$tmp/pool.log" 2>&1 || { cat "$tmp/pool.log" >&2; exit 1; }
echo "## dedup.exact precision on the real pool ($(grep -o 'read [0-9,]*' "$tmp/pool.log" | head -1) records of ${#files[@]} shared math sets)"
echo
/usr/bin/python3 - "$tmp/pool-clusters.jsonl" "$here/normalize_merges.tsv" <<'PY'
import json, sys
clusters, verdicts_path = sys.argv[1:3]
lines = {}
def text(i):  # the problem at "<path>:<line>"
    path, n = i.rsplit(":", 1)
    if path not in lines:
        with open(path, encoding="utf-8") as f:
            lines[path] = f.read().split("\n")
    return json.loads(lines[path][int(n) - 1])["problem"]
def short(i):  # "/.../shared/data/x/y.jsonl:12" -> "x/y.jsonl:12"
    return i.split("/shared/data/", 1)[-1]
verdicts = {}
with open(verdicts_path, encoding="utf-8") as f:
    for l in f:
        if l.strip() and not l.startswith("#"):
            dup, survivor, verdict = l.rstrip("\n").split("\t")[:3]
            verdicts[(dup, survivor)] = verdict
count = {"identical": 0, "same": 0, "different": 0, "unchecked": 0}
for l in open(clusters, encoding="utf-8"):
    c = json.loads(l)
    s = c["survivor"]
    for m in c["members"]:
        d = m["id"]
        if text(d) == text(s):
            count["identical"] += 1
            continue
        v = verdicts.get((short(d), short(s)), "unchecked")
        count[v if v in count else "unchecked"] += 1
        if v not in ("same", "different"):
            print(f"unchecked merge {short(d)} -> {short(s)}:\n  {text(d)!r}\n  {text(s)!r}", file=sys.stderr)
merges = sum(count.values())
true = count["identical"] + count["same"]
judged = merges - count["unchecked"]
print("| merges | byte-identical texts | other merges judged same text | judged different problems | unchecked | precision |")
print("|---:|---:|---:|---:|---:|---:|")
print(f"| {merges} | {count['identical']} | {count['same']} | {count['different']} | {count['unchecked']} | "
      f"{(100.0 * true / judged if judged else 100.0):.1f}% |")
PY
