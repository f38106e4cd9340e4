#!/usr/bin/env bash
# Precision and recall of grade.verifiable (docs/grading.md) on real problem sets from ../shared/data.
#
#   bench/accuracy/format.sh                 BUILD=build (uses $BUILD/core/tamis), TAMIS_DATA=../shared/data
#   SAMPLE=1 bench/accuracy/format.sh        also print the hand-check sample (id, decision, detail, text)
#
# Input: one record {id, set, problem, answer, label} per problem of DeepScaleR MATH train, MATH-500 and the
# Qwen2.5-Math evaluation sets (fields mapped to problem/answer; sat_math, aqua and mmlu_stem get their
# stored options appended to the question as they are stored: inline "A) .. B) ..", one per line "A)..",
# and lines "A. ..."). `label` comes from the data's own fields where they say it:
#   multiple_choice  gaokao2024_mix / cn_middle_school with a choice_answer, gaokao2024_I/II type
#                    single|multi, gaokao_math_qa (options; answer = its label letter), sat_math, aqua,
#                    mmlu_stem, and MATH problems whose answer is an option letter ("\text{(C)}", "B, E");
#   multi_part       gaokao_math_cloze answers with several blanks ("$5$;$10$");
#   missing_answer   an answer that is null or blank.
# (gaokao2024_mix / cn_middle_school without a choice_answer and gaokao2024 type blank are not multiple
# choice; they count against multiple_choice's precision on those sets, and are otherwise unlabelled.)
# Everything else has no field label: its decisions are measured on a hand-checked sample.
# Hand-check: format_handcheck.tsv beside this script (id, true reasons, note; "ok" = gradable as is).
# The sample is deterministic: per decision (each reason, and kept among records without a field
# label), the SAMPLE_N records (default 40; kept: twice as many) with the smallest sha1(id).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${BUILD:-build}
data=${TAMIS_DATA:-../shared/data}
tamis=$BUILD/core/tamis
if [[ ! -d $data/qwen25math_eval || ! -d $data/deepscaler || ! -d $data/math ]]; then
  echo "format.sh: no shared data in $data: skipped"
  exit 0
fi
[[ -x $tamis ]] || { echo "format.sh: no $tamis (build it, or set BUILD)" >&2; exit 2; }
tmp=$(mktemp -d)
[[ -n ${KEEP:-} ]] && echo "format.sh: outputs kept in $tmp" >&2 || trap 'rm -rf -- "$tmp"' EXIT

python3 - "$data" "$tmp/in.jsonl" <<'PY'
import json, re, sys
data, out = sys.argv[1], sys.argv[2]
recs = []
def rows(path):
    with open(f"{data}/{path}", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                yield n, json.loads(line)
def add(set_, n, problem, answer, label=None):
    if answer is not None and not isinstance(answer, (str, int, float, list)):
        answer = None
    if label is None and (answer is None or (isinstance(answer, str) and not answer.strip())
                          or (isinstance(answer, list) and not answer)):
        label = "missing_answer"
    recs.append({"id": f"{set_}:{n}", "set": set_, "problem": problem, "answer": answer, "label": label})
letter = re.compile(r"\s*(\\text\{)?\s*\(?[A-E]\)?(\s*,\s*\(?[A-E]\)?)*\s*\}?\s*,?\s*")
def math_label(a):
    return "multiple_choice" if isinstance(a, str) and letter.fullmatch(a) else None
for n, r in rows("deepscaler/train_math.jsonl"): add("train_math", n, r["problem"], r["answer"], math_label(r["answer"]))
for n, r in rows("math/math500_test.jsonl"): add("math500", n, r["problem"], r["answer"], math_label(r["answer"]))
q = "qwen25math_eval/"
for n, r in rows(q + "olympiadbench_test.jsonl"): add("olympiadbench", n, r["question"], r["final_answer"])
for s in ["gaokao2024_mix", "cn_middle_school"]:
    for n, r in rows(q + s + "_test.jsonl"):
        add(s, n, r["question"], r["answer"], "multiple_choice" if r.get("choice_answer") else None)
for s in ["gaokao2024_I", "gaokao2024_II"]:
    for n, r in rows(q + s + "_test.jsonl"):
        add(s, n, r["question"], r["answer"], "multiple_choice" if r["type"] in ("single", "multi") else None)
for n, r in rows(q + "gaokao_math_qa_test.jsonl"): add("gaokao_math_qa", n, r["question"], r["label"], "multiple_choice")
for n, r in rows(q + "gaokao_math_cloze_test.jsonl"):
    a = r["answer"]
    add("gaokao_math_cloze", n, r["question"], a, "multi_part" if isinstance(a, str) and ";" in a else None)
for n, r in rows(q + "gaokao2023en_test.jsonl"): add("gaokao2023en", n, r["question"], r["answer"])
for n, r in rows(q + "college_math_test.jsonl"): add("college_math", n, r["question"], r["answer"])
for n, r in rows(q + "cmath_test.jsonl"): add("cmath", n, r["question"], r["answer"])
for n, r in rows(q + "carp_en_test.jsonl"): add("carp_en", n, r["content"], r["answer"])
for n, r in rows(q + "asdiv_test.jsonl"): add("asdiv", n, r["body"] + " " + r["question"], r["answer"])
for n, r in rows(q + "svamp_test.jsonl"): add("svamp", n, r["Body"] + " " + r["Question"], r["Answer"])
for n, r in rows(q + "mawps_test.jsonl"): add("mawps", n, r["input"], r["target"])
for n, r in rows(q + "amc23_test.jsonl"): add("amc23", n, r["question"], r["answer"])
for n, r in rows(q + "sat_math_test.jsonl"): add("sat_math", n, r["question"] + "\n" + r["options"], r["Answer"], "multiple_choice")
for n, r in rows(q + "aqua_test.jsonl"): add("aqua", n, r["question"] + "\n" + "\n".join(r["options"]), r["correct"], "multiple_choice")
for n, r in rows(q + "mmlu_stem_test.jsonl"):
    opts = "\n".join(f"{'ABCD'[i]}. {c}" for i, c in enumerate(r["choices"]))
    add("mmlu_stem", n, r["question"] + "\n" + opts, "ABCD"[r["answer"]], "multiple_choice")
with open(out, "w", encoding="utf-8") as f:
    for r in recs:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
PY

cat > "$tmp/p.yaml" <<'YAML'
version: 1
sources:
  in: { path: in.jsonl, id: id }
stages:
  format: { uses: grade.verifiable }
sinks:
  kept: { path: out/kept.jsonl, inputs: [format] }
  rejected: { path: out/rejected.jsonl, rejected: true }
YAML
"$tamis" run "$tmp/p.yaml" --threads 2 >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }

python3 - "$tmp" bench/accuracy/format_handcheck.tsv "${SAMPLE:-0}" "${SAMPLE_N:-40}" <<'PY'
import collections, hashlib, json, sys
tmp, tsv, show, sample_n = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])
recs = {}
for line in open(f"{tmp}/in.jsonl", encoding="utf-8"):
    r = json.loads(line); r["decision"] = "kept"; r["detail"] = ""; recs[r["id"]] = r
for line in open(f"{tmp}/out/rejected.jsonl", encoding="utf-8"):
    r = json.loads(line); a = r["tamis"]
    recs[r["id"]]["decision"] = a["reason"]; recs[r["id"]]["detail"] = a.get("detail", "")
truth = {}
for line in open(tsv, encoding="utf-8"):
    if line.startswith("#") or not line.strip(): continue
    f = line.rstrip("\n").split("\t")
    truth[f[0]] = set(f[1].split(","))
reasons = ["missing_answer", "multiple_choice", "proof", "multi_part", "needs_figure", "long_answer"]
n = len(recs); dec = collections.Counter(r["decision"] for r in recs.values())
print(f"### grade.verifiable on {n:,} real problems ({len(set(r['set'] for r in recs.values()))} sets)\n")
print("| decision | records |\n|---|---:|")
for d in ["kept"] + reasons: print(f"| {d} | {dec[d]:,} |")
# 1. Field labels.
print("\n#### Against the data's own labels\n")
print("| label | labelled | rejected for it | rejected, other reason | kept | recall | precision (on labelled sets) |")
print("|---|---:|---:|---:|---:|---:|---:|")
labelled_sets = {"multiple_choice": {"gaokao2024_mix", "cn_middle_school", "gaokao2024_I", "gaokao2024_II"},
                 "multi_part": {"gaokao_math_cloze"}}
for lab in ["multiple_choice", "multi_part", "missing_answer"]:
    pos = [r for r in recs.values() if r["label"] == lab]
    hit = sum(r["decision"] == lab for r in pos); other = sum(r["decision"] not in ("kept", lab) for r in pos)
    # precision where every record of the set carries a label (or for missing_answer, every record)
    pool = [r for r in recs.values() if lab == "missing_answer" or r["set"] in labelled_sets.get(lab, ())]
    flagged = [r for r in pool if r["decision"] == lab]
    prec = f"{sum(r['label'] == lab for r in flagged)}/{len(flagged)}" if flagged else "-"
    print(f"| {lab} | {len(pos)} | {hit} | {other} | {len(pos) - hit - other} | {hit / len(pos):.1%} | {prec} |")
by_set = collections.defaultdict(collections.Counter)
for r in recs.values():
    if r["label"] == "multiple_choice": by_set[r["set"]][r["decision"] == "multiple_choice"] += 1
print("\nmultiple_choice recall per set: " + ", ".join(f"{s} {c[True]}/{c[True] + c[False]}" for s, c in sorted(by_set.items())))
# 2. Hand-checked sample.
def key(r): return hashlib.sha1(r["id"].encode()).hexdigest()
print(f"\n#### Hand-checked sample (first {sample_n} by sha1(id) per decision; kept: first {2 * sample_n} of the records without a field label)\n")
print("| decision | in sample | checked | right reason | right to reject | precision | unchecked |")
print("|---|---:|---:|---:|---:|---:|---:|")
need = []
est_tp = 0.0
for d in reasons + ["kept"]:
    pool = [r for r in recs.values() if r["decision"] == d and (d != "kept" or r["label"] is None)]
    if d != "kept": pool = [r for r in pool if r["label"] is None]
    sample = sorted(pool, key=key)[:sample_n * (2 if d == "kept" else 1)]
    checked = [r for r in sample if r["id"] in truth]
    need += [r for r in sample if r["id"] not in truth]
    if d == "kept":
        bad = sum(truth[r["id"]] != {"ok"} for r in checked)
        kept_pool = len(pool)
        miss_rate = bad / len(checked) if checked else 0.0
        print(f"| kept (no field label) | {len(sample)} | {len(checked)} | {len(checked) - bad} ok | {bad} should be rejected | "
              f"{(len(checked) - bad) / max(1, len(checked)):.1%} (kept right) | {len(sample) - len(checked)} |")
        continue
    right = sum(d in truth[r["id"]] for r in checked)
    reject = sum(truth[r["id"]] != {"ok"} for r in checked)
    if checked: est_tp += len(pool) * reject / len(checked)
    print(f"| {d} | {len(sample)} | {len(checked)} | {right} | {reject} | "
          f"{(f'{right / len(checked):.1%}' if checked else '-')} | {len(sample) - len(checked)} |")
est_miss = kept_pool * miss_rate
print(f"\nRecall over records without a field label (estimated): rejections that are right, scaled to each reason's "
      f"count: {est_tp:.0f}; misses, kept-sample rate x {kept_pool:,} kept: {est_miss:.0f}; "
      f"recall ~ {est_tp / max(1e-9, est_tp + est_miss):.1%}")
wrong = [(r["id"], r["decision"], ",".join(sorted(truth[r["id"]]))) for r in recs.values()
         if r["id"] in truth and ((r["decision"] == "kept") != (truth[r["id"]] == {"ok"}))]
if wrong: print("\nHand-checked records decided wrongly now: " + "; ".join(f"{i} {d} (true: {t})" for i, d, t in sorted(wrong)))
if show:
    print("\n#### Unchecked sample\n")
    for r in need:
        print(f"=== {r['id']}\t{r['decision']}\t{r['detail']}\nANSWER: {json.dumps(r['answer'], ensure_ascii=False)[:300]}\n{r['problem'][:1500]}\n")
PY
