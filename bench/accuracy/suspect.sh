#!/usr/bin/env bash
# Recall and precision of difficulty's suspect-label rule (docs/grading.md, "Suspect labels") on GSM8K test
# with planted wrong references.
#
#   bench/accuracy/suspect.sh            BUILD=build (uses $BUILD/core/tamis), TAMIS_DATA=../shared/data
#   SHOW=1 bench/accuracy/suspect.sh     also list the flags on unplanted problems (for the hand-check)
#
# Data: gsm8k/example_model_solutions.jsonl, 1,319 problems, each with one solution from each of four GPT-3
# models (6b/175b, finetuning/verification) = 4 rollouts per problem. The reference is the final number of
# `ground_truth` ("A: 18"). Planted errors: the problems whose sha1(id) is 0 mod 10 (id = gsm8k-test:LINE)
# get a wrong reference, the true number plus 1 + (sha1 mod 9) (so 18 may become 19 ... 27); every other
# reference is left as it is. The op runs with `models` (4 response fields), min_samples 4,
# suspect_action annotate, at each suspect_share. A flag on a planted problem is a hit; a flag on an
# unplanted problem is false unless suspect_handcheck.tsv (beside this script) says the stored reference
# is really wrong (hand-checked: verdict label_error).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${BUILD:-build}
data=${TAMIS_DATA:-../shared/data}
tamis=$BUILD/core/tamis
src=$data/gsm8k/example_model_solutions.jsonl
if [[ ! -s $src ]]; then
  echo "suspect.sh: no $src: skipped"
  exit 0
fi
[[ -x $tamis ]] || { echo "suspect.sh: no $tamis (build it, or set BUILD)" >&2; exit 2; }
tmp=$(mktemp -d)
[[ -n ${KEEP:-} ]] && echo "suspect.sh: outputs kept in $tmp" >&2 || trap 'rm -rf -- "$tmp"' EXIT

python3 - "$src" "$tmp/in.jsonl" <<'PY'
import hashlib, json, re, sys
src, out = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as o:
    for n, line in enumerate(f, 1):
        r = json.loads(line)
        rid = f"gsm8k-test:{n}"
        true = re.search(r"A:\s*(-?[0-9][0-9,]*(?:\.[0-9]+)?)\s*$", r["ground_truth"]).group(1).replace(",", "")
        h = int(hashlib.sha1(rid.encode()).hexdigest(), 16)
        planted = h % 10 == 0
        ref = str(int(float(true)) + 1 + h % 9) if planted else true  # GSM8K answers are whole numbers
        r.update(id=rid, reference=ref, true_reference=true, planted=planted)
        o.write(json.dumps(r, ensure_ascii=False) + "\n")
PY

for share in 0.5 0.75 1; do
  cat > "$tmp/p$share.yaml" <<YAML
version: 1
sources:
  in: { path: in.jsonl, id: id }
stages:
  difficulty:
    uses: grade.difficulty
    with:
      models: {m6b_ft: 6b_finetuning.solution, m6b_ver: 6b_verification.solution, m175b_ft: 175b_finetuning.solution, m175b_ver: 175b_verification.solution}
      reference_field: reference
      min_samples: 4
      suspect_share: $share
      suspect_action: annotate
sinks:
  kept: { path: out$share/kept.jsonl, inputs: [difficulty] }
  rejected: { path: out$share/rejected.jsonl, rejected: true }
YAML
  "$tamis" run "$tmp/p$share.yaml" --threads 2 >"$tmp/log$share" 2>&1 || { cat "$tmp/log$share" >&2; exit 1; }
done

python3 - "$tmp" bench/accuracy/suspect_handcheck.tsv "${SHOW:-0}" <<'PY'
import json, sys
tmp, tsv, show = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
real = {}
for line in open(tsv, encoding="utf-8"):
    if line.startswith("#") or not line.strip(): continue
    f = line.rstrip("\n").split("\t")
    real[f[0]] = f[1]
print("### difficulty suspect labels: GSM8K test, 4 model solutions per problem, planted wrong references\n")
print("| suspect_share | planted | flagged planted | recall | flags on unplanted | of them hand-checked real label errors | precision | unchecked |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
notes = []
for share in ["0.5", "0.75", "1"]:
    recs = []
    for name in ["kept", "rejected"]:
        for line in open(f"{tmp}/out{share}/{name}.jsonl", encoding="utf-8"):
            recs.append(json.loads(line))
    planted = [r for r in recs if r["planted"]]
    hit = [r for r in planted if r["tamis"].get("suspect_label")]
    other = [r for r in recs if not r["planted"] and r["tamis"].get("suspect_label")]
    real_err = [r for r in other if real.get(r["id"]) == "label_error"]
    checked = [r for r in other if r["id"] in real]
    tp = len(hit) + len(real_err)
    flags = len(hit) + len(other)
    print(f"| {share} | {len(planted)} | {len(hit)} | {len(hit) / len(planted):.1%} | {len(other)} | {len(real_err)} of {len(checked)} checked | "
          f"{tp / flags:.1%} | {len(other) - len(checked)} |" if flags else f"| {share} | {len(planted)} | 0 | 0% | 0 | - | - | - |")
    if share == "0.5":
        # Why planted errors are missed: the rollouts' own agreement.
        miss = [r for r in planted if not r["tamis"].get("suspect_label")]
        no_major = sum(1 for r in miss if r["tamis"].get("majority_share", 0) < 0.5)
        notes.append(f"Planted and missed at 0.5: {len(miss)}, of which {no_major} have no answer shared by 2 of the 4 rollouts.")
        if show:
            for r in sorted(other, key=lambda r: -r["tamis"]["majority_share"]):
                if r["id"] in real: continue
                print(f"=== {r['id']}\tshare {r['tamis']['majority_share']}\tmajority {r['tamis']['majority_answer']}\treference {r['reference']}\n"
                      f"{r['question']}\nGT: {r['ground_truth'][-300:]}\n")
print("\n" + " ".join(notes))
PY
