#!/usr/bin/env bash
# Accuracy of lang.identify (docs/languages.md) on real problem sets from ../shared/data: share labelled `und`,
# share labelled right, wrong labels, per set, before (min_cjk: 0, the rule off: a Han, kana or Hangul
# character counts only as 2 letters toward min_letters) and after (the defaults: short CJK text named
# by its script); then precision and recall per language over all sets, for the defaults.
#
#   bench/accuracy/langid.sh               BUILD=build (uses $BUILD/core/tamis), TAMIS_DATA=../shared/data
#   SHOW=und bench/accuracy/langid.sh      also list the records still `und` (SHOW=wrong: the wrong ones)
#
# Labels come from the data set: the Qwen2.5-Math evaluation sets cmath, cn_middle_school, gaokao2024_I,
# gaokao2024_II, gaokao2024_mix, gaokao_math_cloze and gaokao_math_qa are Chinese (field question), and
# the English sets gaokao2023en, olympiadbench, college_math, minerva_math, amc23, carp_en, svamp, asdiv,
# mawps, aqua, sat_math, mmlu_stem, gsm8k (test) and MATH-500 are English. Records whose text does not
# bear the set's label out were hand-checked; the verdicts are in langid_handcheck.tsv beside this script
# (id, expected lang, note), and they replace the set's label: `und` where the record holds no word of
# any language once its formulas are stripped (`$(1+\sqrt{3} i)^{3}=( )$`). Which records to check: every
# record of a Chinese set with fewer than two Han characters outside `$...$`, and every record of an
# English set with a Han, kana or Hangul character.
# `und` counts as not right and not wrong: recall is right / all records of the language, precision is
# right / all records given that language.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${BUILD:-build}
data=${TAMIS_DATA:-../shared/data}
tamis=$BUILD/core/tamis
if [[ ! -d $data/qwen25math_eval || ! -d $data/math || ! -d $data/gsm8k ]]; then
  echo "langid.sh: no shared data in $data: skipped"
  exit 0
fi
[[ -x $tamis ]] || { echo "langid.sh: no $tamis (build it, or set BUILD)" >&2; exit 2; }
tmp=$(mktemp -d)
[[ -n ${KEEP:-} ]] && echo "langid.sh: outputs kept in $tmp" >&2 || trap 'rm -rf -- "$tmp"' EXIT

python3 - "$data" "$tmp/in.jsonl" bench/accuracy/langid_handcheck.tsv <<'PY'
import json, sys
data, out, handcheck = sys.argv[1:]
fixed = {}
with open(handcheck, encoding="utf-8") as f:
    for line in f:
        if line.strip() and not line.startswith("#"):
            rid, lang, _note = line.rstrip("\n").split("\t", 2)
            fixed[rid] = lang
q = "qwen25math_eval/"
zh = ["cmath", "cn_middle_school", "gaokao2024_I", "gaokao2024_II", "gaokao2024_mix", "gaokao_math_cloze",
      "gaokao_math_qa"]
sets = [(s, q + s + "_test.jsonl", lambda r: r["question"], "zh") for s in zh] + [
    ("gaokao2023en", q + "gaokao2023en_test.jsonl", lambda r: r["question"], "en"),
    ("olympiadbench", q + "olympiadbench_test.jsonl", lambda r: r["question"], "en"),
    ("college_math", q + "college_math_test.jsonl", lambda r: r["question"], "en"),
    ("minerva_math", q + "minerva_math_test.jsonl", lambda r: r["problem"], "en"),
    ("amc23", q + "amc23_test.jsonl", lambda r: r["question"], "en"),
    ("carp_en", q + "carp_en_test.jsonl", lambda r: r["content"], "en"),
    ("svamp", q + "svamp_test.jsonl", lambda r: r["Body"] + " " + r["Question"], "en"),
    ("asdiv", q + "asdiv_test.jsonl", lambda r: r["body"] + " " + r["question"], "en"),
    ("mawps", q + "mawps_test.jsonl", lambda r: r["input"], "en"),
    ("aqua", q + "aqua_test.jsonl", lambda r: r["question"], "en"),
    ("sat_math", q + "sat_math_test.jsonl", lambda r: r["question"], "en"),
    ("mmlu_stem", q + "mmlu_stem_test.jsonl", lambda r: r["question"], "en"),
    ("gsm8k_test", "gsm8k/test.jsonl", lambda r: r["question"], "en"),
    ("math500", "math/math500_test.jsonl", lambda r: r["problem"], "en"),
]
seen = set()
with open(out, "w", encoding="utf-8") as o:
    for name, path, text, label in sets:
        with open(f"{data}/{path}", encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                rid = f"{name}:{n}"
                seen.add(rid)
                o.write(json.dumps({"id": rid, "set": name, "label": fixed.get(rid, label),
                                    "problem": text(json.loads(line))}, ensure_ascii=False) + "\n")
missing = sorted(set(fixed) - seen)
if missing:
    sys.exit(f"langid.sh: hand-checked ids not in the data: {missing[:5]}")
PY

for mode in before after; do
  set_args=()
  [[ $mode == before ]] && set_args=(--set langid.min_cjk=0)
  cat >"$tmp/$mode.yaml" <<EOF
version: 1
sources:
  in: { path: $tmp/in.jsonl, id: id }
stages:
  langid:
    uses: lang.identify
    with: { fields: [problem] }
sinks:
  kept: { path: $tmp/$mode.jsonl }
EOF
  "$tamis" run "$tmp/$mode.yaml" "${set_args[@]}" >"$tmp/$mode.log" 2>&1 ||
    { cat "$tmp/$mode.log" >&2; exit 1; }
done

python3 - "$tmp/before.jsonl" "$tmp/after.jsonl" "${SHOW:-}" <<'PY'
import collections, json, sys
before_path, after_path, show = sys.argv[1:]
def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f]
before, after = load(before_path), load(after_path)
assert [r["id"] for r in before] == [r["id"] for r in after]
sets = list(dict.fromkeys(r["set"] for r in after))
def outcome(r):
    got = r["tamis"]["lang"]
    if got == r["label"]:
        return "right"
    return "und" if got == "und" else "wrong"
print("## lang.identify on real problem sets: before (`min_cjk: 0`) -> after (defaults)\n")
print("| set | label | records | und | right | wrong |")
print("|---|---|---:|---:|---:|---:|")
pct = lambda a, n: f"{100.0 * a / n:.1f}%"
totals = collections.Counter()
for s in sets:
    b = collections.Counter(outcome(r) for r in before if r["set"] == s)
    a = collections.Counter(outcome(r) for r in after if r["set"] == s)
    n = sum(a.values())
    label = next(r["label"] for r in after if r["set"] == s and r["id"].endswith(":1"))
    und_b = sum(1 for r in before if r["set"] == s and r["tamis"]["lang"] == "und")
    und_a = sum(1 for r in after if r["set"] == s and r["tamis"]["lang"] == "und")
    print(f"| {s} | {label} | {n} | {und_b} ({pct(und_b, n)}) -> {und_a} ({pct(und_a, n)}) "
          f"| {pct(b['right'], n)} -> {pct(a['right'], n)} | {b['wrong']} -> {a['wrong']} |")
    for k in ("right", "wrong"):
        totals[("before", k)] += b[k]
        totals[("after", k)] += a[k]
print("\n## Precision and recall per language (gold: the set's label or the hand-check)\n")
print("| lang | mode | records | called that | right | precision | recall | und |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for mode, recs in (("before", before), ("after", after)):
    golds = collections.Counter(r["label"] for r in recs)
    called = collections.Counter(r["tamis"]["lang"] for r in recs)
    right = collections.Counter(r["label"] for r in recs if r["tamis"]["lang"] == r["label"])
    und = collections.Counter(r["label"] for r in recs if r["tamis"]["lang"] == "und")
    for lang in sorted(set(golds) | set(called)):
        if lang == "und":
            continue
        p = f"{100.0 * right[lang] / called[lang]:.2f}%" if called[lang] else "-"
        rc = f"{100.0 * right[lang] / golds[lang]:.2f}%" if golds[lang] else "-"
        print(f"| {lang} | {mode} | {golds[lang]} | {called[lang]} | {right[lang]} | {p} | {rc} | {und[lang]} |")
if golds["und"]:
    print(f"\nHand-checked as holding no language (gold `und`): {golds['und']}, "
          f"of which `und`: {right['und']}.")
print(f"\nWrong labels over all sets: {totals[('before', 'wrong')]} before, {totals[('after', 'wrong')]} after.")
if show:
    print()
    for r in after:
        if outcome(r) == show:
            print(f"- {r['id']} ({r['label']} -> {r['tamis']['lang']}): {r['problem'][:160]!r}")
PY
echo
echo "Command: \`bench/accuracy/langid.sh\` (BUILD=$BUILD)."
