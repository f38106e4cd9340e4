#!/usr/bin/env bash
# Accuracy of translate.import's fidelity checks (docs/translation.md#fidelity-checks) on planted errors:
# per check, recall on the translations planted with that error and the pass rate on faithful ones.
#
#   bench/accuracy/fidelity.sh          BUILD=build (uses $BUILD/core/tamis), TAMIS_DATA=../shared/data
#   SHOW=1 bench/accuracy/fidelity.sh   also list every miss and every faithful translation a check refused
#
# The cases are tests/plugins/translate/data/fidelity_cases.jsonl: translations written by hand of real
# GSM8K test and MATH-500 problems into French, German, Chinese, Spanish, Italian and Russian (label
# `faithful`), and planted errors made from them by a hand-chosen edit each (label `planted`, the check
# that should catch it in `check`, the edit in `what`): a number changed (often into one that occurs
# elsewhere), a formula changed or dropped, a preamble / note / answer / closing / code fence added (in
# the target language or English), the text cut or followed by the English original, the wrong language.
# The originals are read from $TAMIS_DATA by `src` (file:line for GSM8K, file:unique_id for MATH-500).
# A case fails a check when the record is rejected with it as reason or lists it in fidelity_failures.
#
# Second table, the number check alone on every GSM8K test question and MATH-500 problem (real text):
# `locale form` is the problem with each number outside math written the French way (1 234,5 with a
# narrow no-break space) or the German way (1.234,5), alternately: it must pass; `repeat changed` is the
# problem with the last occurrence of a number that occurs at least twice outside math changed into
# another number of the text (or the number + 1): the case the issue saw pass (numbers compared as sets).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${BUILD:-build}
data=${TAMIS_DATA:-../shared/data}
tamis=$BUILD/core/tamis
cases=tests/plugins/translate/data/fidelity_cases.jsonl
if [[ ! -f $data/gsm8k/test.jsonl || ! -f $data/math/math500_test.jsonl ]]; then
  echo "fidelity.sh: no shared data in $data: skipped"
  exit 0
fi
[[ -x $tamis ]] || { echo "fidelity.sh: no $tamis (build it, or set BUILD)" >&2; exit 2; }
tmp=$(mktemp -d)
[[ -n ${KEEP:-} ]] && echo "fidelity.sh: outputs kept in $tmp" >&2 || trap 'rm -rf -- "$tmp"' EXIT

python3 - "$data" "$cases" "$tmp" <<'PY'
import json, sys
data, cases, tmp = sys.argv[1:]
gsm = [json.loads(l)["question"] for l in open(f"{data}/gsm8k/test.jsonl", encoding="utf-8")]
math = {r["unique_id"]: r["problem"] for r in map(json.loads, open(f"{data}/math/math500_test.jsonl", encoding="utf-8"))}
with open(f"{tmp}/in.jsonl", "w") as fin, open(f"{tmp}/tr.jsonl", "w") as ftr:
    for c in map(json.loads, open(cases, encoding="utf-8")):
        path, key = c["src"].split(":", 1)
        original = gsm[int(key) - 1] if path.startswith("gsm8k/") else math[key]
        fin.write(json.dumps({"id": c["id"], "problem": original, "translate_to": c["lang"]}, ensure_ascii=False) + "\n")
        ftr.write(json.dumps({"id": c["id"], "text": c["text"].replace("{original}", original)}, ensure_ascii=False) + "\n")
PY
cat > "$tmp/p.yaml" <<YAML
version: 1
sources:
  cases: { path: in.jsonl, id: id }
stages:
  import:
    uses: translate.import
    with: { translations: [tr.jsonl] }
sinks:
  kept: { path: kept.jsonl }
  rejected: { path: rejected.jsonl, rejected: true }
YAML
"$tamis" run "$tmp/p.yaml" >"$tmp/run.log" 2>&1 || { cat "$tmp/run.log" >&2; exit 1; }

python3 - "$cases" "$tmp/rejected.jsonl" "${SHOW:-}" <<'PY'
import json, sys
cases, rejected, show = sys.argv[1:]
fired, detail = {}, {}
for r in map(json.loads, open(rejected, encoding="utf-8")):
    t = r["tamis"]
    fired[r["id"]] = {t["reason"], *t.get("fidelity_failures", [])}
    detail[r["id"]] = f'{t["reason"]}: {t["detail"]}'
cs = [json.loads(l) for l in open(cases, encoding="utf-8")]
faithful = [c for c in cs if c["label"] == "faithful"]
checks = ["numbers_changed", "latex_changed", "added_content", "length_ratio", "wrong_language"]
print("| check | planted | caught (recall) | faithful | passed (pass rate) |")
print("|---|---:|---:|---:|---:|")
notes = []
for ch in checks:
    planted = [c for c in cs if c.get("check") == ch]
    caught = [c for c in planted if ch in fired.get(c["id"], set())]
    passed = [c for c in faithful if ch not in fired.get(c["id"], set())]
    print(f"| `{ch}` | {len(planted)} | {len(caught)} ({100 * len(caught) / len(planted):.1f}%) | {len(faithful)} | "
          f"{len(passed)} ({100 * len(passed) / len(faithful):.1f}%) |")
    notes += [f"missed   {c['id']} ({c['what']})" for c in planted if c not in caught]
    notes += [f"refused  {c['id']}: {detail[c['id']]}" for c in faithful if c not in passed]
planted = [c for c in cs if c["label"] == "planted"]
any_caught = sum(1 for c in planted if c["id"] in fired)
ok = sum(1 for c in faithful if c["id"] not in fired)
print(f"| any check | {len(planted)} | {any_caught} ({100 * any_caught / len(planted):.1f}%) | {len(faithful)} | {ok} ({100 * ok / len(faithful):.1f}%) |")
if show:
    print()
    for n in notes: print(n)
PY

python3 - "$data" "$tmp" <<'PY'
import json, re, sys
data, tmp = sys.argv[1:]
texts = [("gsm8k:%d" % (i + 1), json.loads(l)["question"]) for i, l in enumerate(open(f"{data}/gsm8k/test.jsonl", encoding="utf-8"))]
texts += [("math500:" + r["unique_id"], r["problem"]) for r in map(json.loads, open(f"{data}/math/math500_test.jsonl", encoding="utf-8"))]
math = re.compile(r"\$\$.*?\$\$|\$.*?\$|\\\(.*?\\\)|\\\[.*?\\\]|\[asy\].*?\[/asy\]", re.S)
num = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])|(?<![\d.,])\d+(?:\.\d+)?(?![\d])")
def prose(t):  # (start, end) of the text outside math
    out, at = [], 0
    for m in math.finditer(t):
        out.append((at, m.start())); at = m.end()
    return out + [(at, len(t))]
def numbers(t):
    return [m for a, b in prose(t) for m in num.finditer(t, a, b)]
def localise(n, style):
    ip, _, fp = n.replace(",", "").partition(".")
    groups = []
    while len(ip) > 3 and "," in n: groups.insert(0, ip[-3:]); ip = ip[:-3]
    sep = "\u202f" if style == "fr" else "."
    return sep.join([ip] + groups) + ("," + fp if fp else "")
with open(f"{tmp}/num_in.jsonl", "w") as fin, open(f"{tmp}/num_tr.jsonl", "w") as ftr:
    for k, (id, t) in enumerate(texts):
        ms = numbers(t)
        if not ms: continue
        style = "fr" if k % 2 == 0 else "de"
        loc = t
        for m in reversed(ms): loc = loc[:m.start()] + localise(m.group(), style) + loc[m.end():]
        fin.write(json.dumps({"id": id + "#locale", "problem": t, "translate_to": style}, ensure_ascii=False) + "\n")
        ftr.write(json.dumps({"id": id + "#locale", "text": loc}, ensure_ascii=False) + "\n")
        vals = [m.group().replace(",", "") for m in ms]
        rep = [i for i, v in enumerate(vals) if vals.count(v) >= 2]
        if not rep: continue
        i = rep[-1]
        others = [v for v in vals if v != vals[i]]
        new = others[0] if others else str(int(float(vals[i])) + 1)
        m = ms[i]
        ch = t[:m.start()] + new + t[m.end():]
        fin.write(json.dumps({"id": id + "#changed", "problem": t, "translate_to": "en"}, ensure_ascii=False) + "\n")
        ftr.write(json.dumps({"id": id + "#changed", "text": ch}, ensure_ascii=False) + "\n")
PY
cat > "$tmp/num.yaml" <<YAML
version: 1
sources:
  cases: { path: num_in.jsonl, id: id }
stages:
  import:
    uses: translate.import
    with: { translations: [num_tr.jsonl], check_language: false, check_latex: false }
sinks:
  kept: { path: num_kept.jsonl }
  rejected: { path: num_rejected.jsonl, rejected: true }
YAML
"$tamis" run "$tmp/num.yaml" >"$tmp/num.log" 2>&1 || { cat "$tmp/num.log" >&2; exit 1; }
python3 - "$tmp" "${SHOW:-}" <<'PY'
import json, sys
tmp, show = sys.argv[1:]
fired = {}
for r in map(json.loads, open(f"{tmp}/num_rejected.jsonl", encoding="utf-8")):
    t = r["tamis"]
    fired[r["id"]] = ({t["reason"], *t.get("fidelity_failures", [])}, t["detail"])
ids = [json.loads(l)["id"] for l in open(f"{tmp}/num_in.jsonl", encoding="utf-8")]
loc = [i for i in ids if i.endswith("#locale")]
chg = [i for i in ids if i.endswith("#changed")]
ok = [i for i in loc if "numbers_changed" not in fired.get(i, (set(), ""))[0]]
caught = [i for i in chg if "numbers_changed" in fired.get(i, (set(), ""))[0]]
print()
print("| real problems (GSM8K test, MATH-500), number check | cases | numbers_changed | rate |")
print("|---|---:|---:|---:|")
print(f"| locale form (fr / de separators), must pass | {len(loc)} | {len(loc) - len(ok)} | {100 * len(ok) / len(loc):.1f}% passed |")
print(f"| a repeated number changed, must be caught | {len(chg)} | {len(caught)} | {100 * len(caught) / len(chg):.1f}% caught |")
if show:
    for i in loc:
        if i not in ok: print("refused ", i, fired[i][1])
    for i in chg:
        if i not in caught: print("missed  ", i)
PY
