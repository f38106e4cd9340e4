#!/usr/bin/python3
"""Planted near copies for bench/accuracy/dedup.sh: real problems from DeepScaleR MATH train, lightly
reworded (a prefix, an ending word changed, spacing and LaTeX spelling), each with its reference answer
written in another but equivalent form (12 -> 12.0, $12$, x = 12, a worked solution ending \\boxed{12};
\\frac{3}{4} -> 3/4, \\dfrac{3}{4}). A dedup that compares answers by the grader must still collapse every
one onto its original; one that compared them as text would keep them all.

With --conflicts, the copies are exact (the problem text unchanged); every other one keeps an equivalent
answer form (a plain duplicate) and the rest get a wrong answer (the integer plus one, the fraction's
numerator plus one, or "0" after "1"): an answer conflict that must be flagged ("planted_conflict": true).

usage: plant_rewordings.py [--conflicts] POOL.jsonl N OUT.jsonl    (deterministic: same arguments, same file)
"""
import hashlib
import json
import re
import sys

conflicts = "--conflicts" in sys.argv
args = [a for a in sys.argv[1:] if a != "--conflicts"]
pool, n, out = args[0], int(args[1]), args[2]


def h(s):
    return int(hashlib.sha256(s.encode()).hexdigest(), 16)


records = [json.loads(l) for l in open(pool, encoding="utf-8")]
# Problems long enough that a light rewording stays above Jaccard 0.8 on 5-word shingles, with a
# plain answer (a number, a fraction or a short expression).
cands = [(i, r) for i, r in enumerate(records)
         if len(r["problem"].split()) >= 30 and isinstance(r.get("answer"), str) and 0 < len(r["answer"]) <= 20]
cands.sort(key=lambda ir: h("plant:" + str(ir[0])))
prefixes = ["Problem: ", "Question: ", "Solve the following. ", ""]
with open(out, "w", encoding="utf-8") as f:
    for k, (i, r) in enumerate(cands[:n]):
        text = r["problem"]
        a = r["answer"].strip()
        if conflicts:
            wrong = k % 2 == 1
            if wrong:
                if re.fullmatch(r"-?\d+", a):
                    bad = str(int(a) + 1)
                elif m := re.fullmatch(r"\\frac\{(\d+)\}\{(\d+)\}", a):
                    bad = "\\frac{" + str(int(m[1]) + 1) + "}{" + m[2] + "}"
                else:
                    bad = "0" if a != "0" else "1"
                planted = {"problem": text, "answer": bad, "planted_from": i + 1, "planted_conflict": True}
            else:
                planted = {"problem": text, "answer": "$" + a + "$" if k % 4 == 0 else "The answer is $\\boxed{" + a + "}$.\n",
                           "planted_from": i + 1, "planted_conflict": False}
            f.write(json.dumps(planted, ensure_ascii=False) + "\n")
            continue
        text = prefixes[k % len(prefixes)] + text
        text = text.replace("\\frac", "\\dfrac", 1) if k % 3 == 0 else text
        text = re.sub(r" ", "  ", text, count=3) if k % 2 == 0 else text
        if text.rstrip().endswith("?"):
            text = text.rstrip()[:-1] + " ?"
        forms = []
        if re.fullmatch(r"-?\d+", a):
            forms = [a + ".0", "$" + a + "$", "x = " + a, "We find the value.\nTherefore the answer is $\\boxed{" + a + "}$."]
        elif m := re.fullmatch(r"\\frac\{(\d+)\}\{(\d+)\}", a):
            forms = [m[1] + "/" + m[2], "\\dfrac{" + m[1] + "}{" + m[2] + "}", "$\\frac{" + m[1] + "}{" + m[2] + "}$"]
        else:
            forms = ["$" + a + "$", "Working omitted.\nSo the answer is $\\boxed{" + a + "}$."]
        planted = {"problem": text, "answer": forms[k % len(forms)], "planted_from": i + 1}
        f.write(json.dumps(planted, ensure_ascii=False) + "\n")
