#!/usr/bin/python3
"""The figures of bench/accuracy/dedup.sh from the runs it made (see that script).

usage: dedup_report.py SHARED_DATA PLANTED.jsonl ANSWER_EQUIV WORK CONFLICTS.jsonl
WORK holds near-{ignore,distinct,numbers}/, qwen-{ignore,distinct,numbers}/ and exact/ (each kept.jsonl,
rejected.jsonl, ledger.jsonl).
"""
import difflib
import hashlib
import json
import os
import subprocess
import sys

shared, planted, equiv, work, conflicts = sys.argv[1:6]
conflicts = os.path.realpath(conflicts)
shared = os.path.realpath(shared)
planted = os.path.realpath(planted)
sources = [  # (file, answer field), as the pipelines read them
    (os.path.join(shared, "deepscaler/train_math.jsonl"), "answer", "problem"),
    (os.path.join(shared, "math/math_test.jsonl"), "solution", "problem"),
    (os.path.join(shared, "gsm8k/train.jsonl"), "answer", "question"),
    (planted, "answer", "problem"),
    (os.path.join(shared, "math/math500_test.jsonl"), "answer", "problem"),
    (conflicts, "answer", "problem"),
] + [(os.path.join(shared, f"qwen25math_eval/{q}_test.jsonl"), "answer", "question")
     for q in ("cmath", "cn_middle_school", "gaokao_math_qa", "gaokao_math_cloze", "gaokao2024_mix", "gaokao2023en",
               "college_math", "asdiv")]
answer, problem = {}, {}
for path, afield, pfield in sources:
    for i, line in enumerate(open(path, encoding="utf-8"), 1):
        r = json.loads(line)
        a = r.get(afield)
        if isinstance(a, list):
            a = ", ".join(str(x) for x in a)
        answer[f"{path}:{i}"] = "" if a is None else str(a)
        problem[f"{path}:{i}"] = r.get(pfield, "")


def judge(pairs):
    """Grader verdicts (1/0) for (a, b) answer pairs; pairs with a blank side count as agreeing."""
    if not pairs:
        return []
    text = "".join(json.dumps({"a": a, "b": b}) + "\n" for a, b in pairs)
    out = subprocess.run([equiv], input=text, capture_output=True, text=True, check=True).stdout.splitlines()
    return [a.strip() == "" or b.strip() == "" or line.split("\t")[0] == "1" for (a, b), line in zip(pairs, out)]


def records(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def with_ids(run):
    """(id, fate, record) of every kept and rejected record of a run: the ledger lists every input
    record in input order with its fate, and each sink writes its records in that same order."""
    kept, rej = records(f"{run}/kept.jsonl"), records(f"{run}/rejected.jsonl")
    for entry in records(f"{run}/ledger.jsonl"):
        rid = os.path.realpath(entry["file"]) + ":" + str(entry["line"])
        yield rid, entry["fate"], next(kept if entry["fate"] == "kept" else rej)


def near_figures(prefix, mode):
    out = list(with_ids(f"{work}/{prefix}-{mode}"))
    rej = [r for _, fate, r in out if fate == "rejected" and r["tamis"]["reason"] == "near_duplicate"]
    pairs, ids = [], []
    for rid, fate, r in out:
        if fate != "rejected" or r["tamis"]["reason"] != "near_duplicate":
            continue
        t = r["tamis"]
        ids.append((rid, t["dup_of"]))
        pairs.append((answer[rid], answer[t["dup_of"]]))
    agree = judge(pairs)
    # Planted copies: caught when rejected as a duplicate of their original (or of its survivor).
    dup_of = {rid: d for rid, d in ids}
    plant_total = plant_caught = 0
    if prefix == "near":
        for i, line in enumerate(open(planted, encoding="utf-8"), 1):
            p = json.loads(line)
            orig = f"{sources[0][0]}:{p['planted_from']}"
            plant_total += 1
            d = dup_of.get(f"{planted}:{i}")
            if d is not None and (d == orig or d == dup_of.get(orig)):
                plant_caught += 1
    distinct = [r for _, fate, r in out if fate == "kept" and "answer_distinct" in r.get("tamis", {})]
    by_numbers = sum(1 for _, fate, r in out if fate == "kept" and "numbers_distinct" in r.get("tamis", {}))
    return len(rej), sum(1 for a in agree if not a), plant_caught, plant_total, distinct, by_numbers


MODES = (("ignore", "`ignore`"), ("distinct", "answers `distinct`"), ("numbers", "answers and numbers `distinct`"))
for prefix, title in (("near", "DeepScaleR MATH train + MATH test + GSM8K train + 200 planted copies"),
                      ("qwen", "eight Qwen2.5-Math evaluation sets (cmath, cn_middle_school, gaokao_math_qa, gaokao_math_cloze, "
                               "gaokao2024_mix, gaokao2023en, college_math, asdiv; Chinese and English)")):
    print(f"### Near dedup (dedup.minhash, threshold 0.8) on {title}\n")
    print("| mode | near-duplicate rejections | of them with an answer the grader finds different | planted copies collapsed "
          "| kept as `answer_distinct` | kept as `numbers_distinct` |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode, label in MODES:
        n, differ, caught, total, distinct, by_numbers = near_figures(prefix, mode)
        planted_cell = f"{caught} / {total}" if total else "–"
        print(f"| {label} | {n} | {differ} | {planted_cell} | {len(distinct)} | {by_numbers} |")
        if prefix == "near" and mode == "distinct":
            kept_distinct = distinct
    print()

# Exact dedup conflicts: by the grader now, and what a text comparison (the op's old rule) would flag.
ex = [r for r in records(f"{work}/exact/kept.jsonl") if "answer_conflict" in r.get("tamis", {})]
text_conflicts = exact_dups = 0
for rid, fate, r in with_ids(f"{work}/exact"):
    if fate != "rejected":
        continue
    a, b = answer[rid].strip(), answer[r["tamis"]["dup_of"]].strip()
    exact_dups += bool(a and b)
    if a and b and " ".join(a.lower().split()) != " ".join(b.lower().split()):
        text_conflicts += 1
print("### Answer conflicts (dedup.exact, answer_field answer) on the same three pools + MATH-500\n")
print(f"| rule | conflicts flagged (of {exact_dups + len(ex)} exact duplicates with answers on both sides) |")
print("|---|---:|")
planted_wrong = {f"{conflicts}:{i}": json.loads(l)["planted_conflict"] for i, l in enumerate(open(conflicts, encoding="utf-8"), 1)}
flagged = {rid for rid, fate, r in with_ids(f"{work}/exact") if "answer_conflict" in r.get("tamis", {})}
real_flags = [rid for rid in flagged if not rid.startswith(conflicts + ":")]
print(f"| grader equivalence (now) | {len(ex)} (real pools: {len(real_flags)}; planted: {len(flagged) - len(real_flags)}) |")
print(f"| text after whitespace and case normalisation (before) | {text_conflicts + len(ex)} |")

caught = sum(1 for rid, wrong in planted_wrong.items() if wrong and rid in flagged)
false_flags = sum(1 for rid, wrong in planted_wrong.items() if not wrong and rid in flagged)
n_wrong = sum(planted_wrong.values())
print(f"\nPlanted exact copies: {caught} / {n_wrong} with a wrong answer flagged as conflicts; "
      f"{false_flags} / {len(planted_wrong) - n_wrong} with an equivalent answer form flagged.")

# Deterministic samples for hand-checking (bench/accuracy/dedup_handcheck.tsv holds the verdicts).
def h(s):
    return hashlib.sha256(s.encode()).hexdigest()

def word_diff(old, new):
    """The word-level edits that turn `old` into `new` (what a reviewer needs to judge a pair)."""
    ow, nw = old.split(), new.split()
    edits = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ow, nw, autojunk=False).get_opcodes():
        if op != "equal":
            edits.append(f"{' '.join(ow[i1:i2])[:80]!r} -> {' '.join(nw[j1:j2])[:80]!r}")
    return "; ".join(edits) or "(same words)"


sample_dir = f"{work}/samples"
os.makedirs(sample_dir, exist_ok=True)
with open(f"{sample_dir}/answer_distinct.txt", "w", encoding="utf-8") as f:
    for k, r in enumerate(sorted(kept_distinct, key=lambda r: h(r.get("problem", r.get("question", ""))))[:40], 1):
        d = r["tamis"]["answer_distinct"]
        text = r.get("problem", r.get("question", ""))
        f.write(f"{k}\tsimilarity {d['similarity']}\tanswers {d['answer']!r} vs {d['other_answer']!r} (of {d['of']})\n"
                f"\tedits: {word_diff(problem[d['of']], text)}\n")
with open(f"{sample_dir}/numbers_distinct.txt", "w", encoding="utf-8") as f:
    kept_numbers = [(rid, r) for prefix in ("near", "qwen") for rid, fate, r in with_ids(f"{work}/{prefix}-numbers")
                    if fate == "kept" and "numbers_distinct" in r.get("tamis", {})]
    for k, (rid, r) in enumerate(sorted(kept_numbers, key=lambda x: h(x[0].rsplit("/", 1)[-1]))[:40], 1):
        d = r["tamis"]["numbers_distinct"]
        f.write(f"{k}\t{rid.rsplit('/', 1)[-1]} similarity {d['similarity']}\tnumbers {d['numbers'][:60]!r} vs {d['other_numbers'][:60]!r}"
                f" (of {d['of'].rsplit('/', 1)[-1]})\n\tedits: {word_diff(problem[d['of']], problem[rid])}\n")
with open(f"{sample_dir}/near_duplicates.txt", "w", encoding="utf-8") as f:
    rejected = [(rid, r) for rid, fate, r in with_ids(f"{work}/near-numbers")
                if fate == "rejected" and not rid.startswith(planted + ":")]  # the real pools' rejections
    rejected += [(rid, r) for rid, fate, r in with_ids(f"{work}/qwen-numbers")
                 if fate == "rejected" and r["tamis"]["reason"] == "near_duplicate"]
    for k, (rid, r) in enumerate(sorted(rejected, key=lambda x: h(x[0].rsplit("/", 1)[-1]))[:40], 1):
        t = r["tamis"]
        f.write(f"{k}\t{rid.rsplit('/', 1)[-1]} similarity {t['similarity']}\tanswers {answer[rid][-40:]!r} vs {answer[t['dup_of']][-40:]!r}\n"
                f"\tedits: {word_diff(problem[t['dup_of']], problem[rid])}\n")
with open(f"{sample_dir}/conflicts.txt", "w", encoding="utf-8") as f:
    for r in ex:
        t = r["tamis"]
        f.write(f"=== {r.get('problem', r.get('question'))!r}\n    answer {t.get('answer')!r} vs survivor {t.get('conflicting_answer')!r} ({t['answer_conflict']})\n\n")
print(f"\nSamples for hand-checking (verdicts in bench/accuracy/dedup_handcheck.tsv): {sample_dir}/answer_distinct.txt, "
      f"{sample_dir}/numbers_distinct.txt, {sample_dir}/near_duplicates.txt, {sample_dir}/conflicts.txt")
