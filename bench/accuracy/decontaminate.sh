#!/usr/bin/env bash
# Precision and recall of `dedup.decontaminate` (docs/dedup.md#decontamination) on ../shared/data:
#   BUILD=build-x bench/accuracy/decontaminate.sh
# References: AIME 2024 and 2025, MATH-500, AMC, Minerva, OlympiadBench (DeepScaleR's test copies) and
# GSM8K test. Pools: DeepScaleR train_math and train_aime, MATH test, GSM8K train.
#  - Labeled copies: MATH test holds every MATH-500 item verbatim (same problem text, found by string
#    equality here): each must be a hit (recall); the other hits of every pool are listed with their
#    evidence and were hand-checked (bench/accuracy/decontaminate_handcheck.tsv).
#  - Planted copies: items of every benchmark rewritten four ways (wrapped in an instruction, LaTeX
#    formatting changed, instruction words reworded, short items with two words edited): each must be a hit
#    with the right item. Planted template siblings (every number changed) must NOT be hits under the default
#    `match: copies`, and are hits under `match: siblings`.
# Prints a markdown table. Skips (exit 0) when ../shared/data is absent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
BUILD=${BUILD:-build}
data=$(cd "$root/.." && pwd)/shared/data
if [[ ! -d $data/deepscaler || ! -d $data/math || ! -d $data/aime || ! -d $data/gsm8k ]]; then
  echo "decontaminate accuracy: ../shared/data is absent; skipped"
  exit 0
fi
tamis=$root/$BUILD/core/tamis
[[ -x $tamis ]] || { echo "no $tamis: build it first (cmake --build $BUILD --target tamis tamis_dedup)" >&2; exit 1; }
work=$(mktemp -d)
trap '[[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT; [[ -n ${KEEP:-} ]] && echo "work: $work"

cat >"$work/decon.yaml" <<YAML
version: 1
sources:
  pool: { path: "\${DECON_IN}" }
stages:
  decon:
    uses: dedup.decontaminate
    with:
      field: "\${DECON_FIELD:-problem}"
      references:
        - { name: aime24, path: $data/aime/aime24.jsonl }
        - { name: aime25, path: $data/aime/aime25.jsonl }
        - { name: math500, path: $data/math/math500_test.jsonl, id: unique_id }
        - { name: amc, path: $data/deepscaler/test_amc.jsonl, id: url }
        - { name: minerva, path: $data/deepscaler/test_minerva.jsonl, id: idx }
        - { name: olympiad, path: $data/deepscaler/test_olympiad_bench.jsonl }
        - { name: gsm8k_test, path: $data/gsm8k/test.jsonl, fields: [question] }
sinks:
  kept:     { path: "\${DECON_OUT}/kept.jsonl", inputs: [decon] }
  rejected: { path: "\${DECON_OUT}/rejected.jsonl", rejected: true }
  report:   { path: "\${DECON_OUT}/report.json", report: true }
YAML

run() {  # run NAME INPUT FIELD [--set ...]
  local name=$1 input=$2 field=$3
  shift 3
  mkdir -p "$work/$name"
  DECON_IN=$input DECON_FIELD=$field DECON_OUT=$work/$name "$tamis" run "$work/decon.yaml" -q --threads 2 "$@" >/dev/null
}

# Planted copies and siblings, from the reference files (deterministic: a seeded sample).
python3 - "$data" "$work/planted.jsonl" <<'PY'
import json, random, re, sys
data, out = sys.argv[1], sys.argv[2]
refs = [("aime24", "aime/aime24.jsonl", "problem", "id"), ("aime25", "aime/aime25.jsonl", "problem", None),
        ("math500", "math/math500_test.jsonl", "problem", "unique_id"), ("amc", "deepscaler/test_amc.jsonl", "problem", "url"),
        ("minerva", "deepscaler/test_minerva.jsonl", "problem", "idx"),
        ("olympiad", "deepscaler/test_olympiad_bench.jsonl", "problem", "id"), ("gsm8k_test", "gsm8k/test.jsonl", "question", None)]
swap = [("Find", "Determine"), ("Compute", "Calculate"), ("Determine", "Find"), ("Evaluate", "Compute"),
        ("What is", "Find"), ("How many", "Find how many"), ("Calculate", "Compute")]
def words(t): return re.findall(r"[A-Za-z]+|[0-9]+", t)
def reword(t):
    for a, b in swap:
        if re.search(r"\b" + a + r"\b", t):
            return re.sub(r"\b" + a + r"\b", b, t, count=1)
    return "Please answer: " + t
rng = random.Random(12)
rows = []
for name, path, field, idf in refs:
    items = []
    for n, line in enumerate(open(f"{data}/{path}"), 1):
        if not line.strip(): continue
        r = json.loads(line)
        key = json.dumps(r[idf]) if idf and idf in r else str(n)
        items.append((key, r[field]))
    sample = rng.sample(items, min(40, len(items)))
    for key, t in sample:
        tag = f"{name}|{key}"
        rows.append(("wrapped", tag, "Solve the following problem. " + t + " Put your final answer in \\boxed{}."))
        f = t.replace("$", "").replace("\\dfrac", "\\frac").replace("\\ldots", "\\dots")
        rows.append(("format", tag, re.sub(r"\s+", " ", f).strip()))
        rows.append(("reworded", tag, reword(t)))
        if len(words(t)) <= 24:
            rows.append(("short_two_edits", tag, "Please " + reword(t)))
        if re.search(r"[0-9]", t):
            rows.append(("sibling", tag, re.sub(r"[0-9]+", lambda m: str(int(m.group()) + 1), t)))
# More short items: every short MATH-500 and GSM8K item, with two words edited.
for name, path, field, idf in refs:
    for n, line in enumerate(open(f"{data}/{path}"), 1):
        r = json.loads(line)
        t = r[field]
        if 10 <= len(words(t)) <= 24 and name in ("math500", "gsm8k_test"):
            key = json.dumps(r[idf]) if idf and idf in r else str(n)
            rows.append(("short_two_edits", f"{name}|{key}", "Please " + reword(t)))
with open(out, "w") as o:
    for i, (kind, tag, text) in enumerate(rows):
        o.write(json.dumps({"id": f"{kind}#{i}", "kind": kind, "source": tag, "problem": text}) + "\n")
PY

run math_test "$data/math/math_test.jsonl" problem
run train_math "$data/deepscaler/train_math.jsonl" problem
run train_aime "$data/deepscaler/train_aime.jsonl" problem
run gsm8k_train "$data/gsm8k/train.jsonl" question
run planted "$work/planted.jsonl" problem
run planted_siblings "$work/planted.jsonl" problem --set decon.match=siblings
run math_test_siblings "$data/math/math_test.jsonl" problem --set decon.match=siblings

python3 - "$data" "$work" "$root/bench/accuracy/decontaminate_handcheck.tsv" <<'PY'
import json, sys, collections, os
data, work, handcheck = sys.argv[1:4]
def rejected(name):
    return [json.loads(l) for l in open(f"{work}/{name}/rejected.jsonl")]
m500 = {json.loads(l)["problem"].strip() for l in open(f"{data}/math/math500_test.jsonl")}
verdicts = {}
if os.path.exists(handcheck):
    for line in open(handcheck):
        if line.startswith("#") or line.startswith("pool\t") or not line.strip(): continue
        f = line.rstrip("\n").split("\t")
        verdicts[(f[0], f[1])] = f[2]
print("| pool | records | hits | labeled copies (recall) | other hits | other hits hand-checked right |")
print("|---|---:|---:|---:|---:|---:|")
unchecked = []
for name, path, field in [("math_test", "math/math_test.jsonl", "problem"), ("train_math", "deepscaler/train_math.jsonl", "problem"),
                          ("train_aime", "deepscaler/train_aime.jsonl", "problem"), ("gsm8k_train", "gsm8k/train.jsonl", "question")]:
    total = sum(1 for _ in open(f"{data}/{path}"))
    hits = rejected(name)
    labeled = sum(1 for l in open(f"{data}/{path}") if name == "math_test" and json.loads(l)["problem"].strip() in m500)
    found = sum(1 for h in hits if name == "math_test" and h["problem"].strip() in m500)
    other = [h for h in hits if not (name == "math_test" and h["problem"].strip() in m500)]
    right = 0
    for h in other:
        key = (name, h["tamis"]["contaminated_by"]["benchmark"] + " " + json.dumps(h["tamis"]["contaminated_by"]["item"]) + " " + h[field][:60].replace("\t", " ").replace("\n", " "))
        v = verdicts.get(key)
        if v is None: unchecked.append(key)
        right += v == "copy"
    rec = f"{found} / {labeled} ({found / labeled:.1%})" if labeled else "-"
    print(f"| {name} | {total} | {len(hits)} | {rec} | {len(other)} | {right} / {len(other)} |")
print()
print("| planted | records | hits, default (copies) | right item | hits, `match: siblings` |")
print("|---|---:|---:|---:|---:|")
def by_id(name): return {h["id"]: h for h in rejected(name)}
copies, sibl = by_id("planted"), by_id("planted_siblings")
kinds = collections.OrderedDict()
for l in open(f"{work}/planted.jsonl"):
    r = json.loads(l); kinds.setdefault(r["kind"], []).append(r)
for kind, rows in kinds.items():
    hit = [r for r in rows if r["id"] in copies]
    right = [r for r in hit if copies[r["id"]]["tamis"]["contaminated_by"]["benchmark"] + "|" + json.dumps(copies[r["id"]]["tamis"]["contaminated_by"]["item"]).strip('"') == r["source"].replace('"', '')]
    sh = sum(1 for r in rows if r["id"] in sibl)
    print(f"| {kind} | {len(rows)} | {len(hit)} ({len(hit) / len(rows):.1%}) | {len(right)} | {sh} ({sh / len(rows):.1%}) |")
sib = rejected("math_test_siblings")
print()
print(f"MATH test with `match: siblings`: {len(sib)} hits ({len(sib) - 500} beyond the 500 MATH-500 copies).")
if unchecked:
    print(f"\n{len(unchecked)} hits not in {os.path.basename(handcheck)} (pool, key):")
    for k in unchecked: print("\t".join(k))
PY
