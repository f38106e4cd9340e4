#!/usr/bin/env bash
# grade.verifiable against an earlier revision (issue 19, item 2): the same verdicts, and the cost.
#
#   BASE=f747d73 bench/format.sh        BUILD=build (this tree, built), RECORDS=100000, CALLGRIND=1
#   BASE_BUILD=dir                      use BASE as already built in dir (no worktree, no build)
#
# BASE is checked out into a temporary worktree and built (Release). Then:
# 1. Differential: both builds run bench/pipelines/format.yaml on every JSONL file of ../shared/data, once
#    with each string field of the file's first record as problem_field (answer_field: answer), and once
#    with each field of it as answer_field (problem_field: the file's problem text field), and on the whole
#    bench/data/prompts-1m.jsonl; the kept and rejected outputs (each rejection's reason and detail) must
#    be identical byte for byte. Any difference is printed and the script exits 1.
# 2. Cost (CALLGRIND=1): valgrind callgrind instruction counts of whole runs at 1 thread on the first
#    RECORDS records of the bench file, format.yaml and passthrough.yaml with each build; the stage's
#    cost is the difference (instructions are repeatable on a shared machine where wall time is not).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
BASE=${BASE:?set BASE to a revision, e.g. BASE=f747d73}
BUILD=${BUILD:-build}
RECORDS=${RECORDS:-100000}
data=$(cd "$root/.." && pwd)/shared/data
bench=$root/bench/data/prompts-1m.jsonl
[[ -s $bench ]] || { echo "format.sh: no $bench (bench/run.sh makes it)" >&2; exit 2; }
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/base" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
if [[ -n ${BASE_BUILD:-} ]]; then  # BASE already built there (a build directory of a BASE checkout)
  old=$BASE_BUILD/core/tamis
else
  git worktree add --detach "$work/base" "$BASE" > /dev/null 2>&1
  cmake -S "$work/base" -B "$work/base/build" -DCMAKE_BUILD_TYPE=Release -DTAMIS_BUILD_TESTS=OFF > "$work/base-cmake.log"
  cmake --build "$work/base/build" -j2 --target tamis tamis_grade > "$work/base-build.log"
  old=$work/base/build/core/tamis
fi
cmake --build "$BUILD" -j2 --target tamis tamis_grade > /dev/null
new=$BUILD/core/tamis
# The data files have no id field: records are named by their line.
sed 's/, id: id }/ }/' bench/pipelines/format.yaml > "$work/format-noid.yaml"
# A BASE before issue 15 knows grade.verifiable as filter.format: it runs copies that name the op so.
old_op=grade.verifiable
TAMIS_PLUGIN_PATH= "$old" plugins info grade.verifiable > /dev/null 2>&1 || old_op=filter.format
sed "s/uses: grade.verifiable/uses: $old_op/" "$work/format-noid.yaml" > "$work/format-noid-old.yaml"
sed "s/uses: grade.verifiable/uses: $old_op/" bench/pipelines/format.yaml > "$work/format-old.yaml"

# 1. Differential.
run() {  # binary, input, out dir, --set args...: the outputs' bytes to stdout
  local bin=$1 in=$2 out=$3; shift 3
  local pipe=$work/format-noid.yaml
  [[ $bin == "$old" ]] && pipe=$work/format-noid-old.yaml
  mkdir -p "$out"
  BENCH_INPUT=$in BENCH_OUT=$out TAMIS_PLUGIN_PATH= "$bin" run "$pipe" --threads 1 "$@" > /dev/null 2>&1 ||
    { echo "format.sh: $bin failed on $in $*" >&2; exit 1; }
  cat "$out/format.jsonl" "$out/format.rejected.jsonl"
}
python3 - "$data" > "$work/runs" <<'PY'
import json, os, sys
data = sys.argv[1]
if not os.path.isdir(data):
    sys.exit(0)
for dirpath, _, files in sorted(os.walk(data)):
    for f in sorted(files):
        if not f.endswith(".jsonl"):
            continue
        path = os.path.join(dirpath, f)
        with open(path, encoding="utf-8") as fh:
            first = json.loads(fh.readline())
        texts = [k for k, v in first.items() if isinstance(v, str)]
        if not texts:
            continue
        main = next((k for k in ["problem", "question", "Problem", "prompt", "content", "input", "body", "Body"] if k in texts), texts[0])
        runs = {(k, "answer") for k in texts} | {(main, k) for k in first}
        for p, a in sorted(runs):
            if "\t" not in p + a and "." not in p + a:
                print(f"{path}\t{p}\t{a}")
PY
runs=0 records=0 diffs=0
while IFS=$'\t' read -r file p a; do
  o=$(run "$old" "$file" "$work/o" --set "format.problem_field=$p" --set "format.answer_field=$a" | sha256sum)
  n=$(run "$new" "$file" "$work/n" --set "format.problem_field=$p" --set "format.answer_field=$a" | sha256sum)
  runs=$((runs + 1)) records=$((records + $(wc -l < "$file")))
  [[ $o == "$n" ]] || { diffs=$((diffs + 1)); echo "DIFFERENT: $file problem_field=$p answer_field=$a"; }
done < "$work/runs"
o=$(run "$old" "$bench" "$work/o" | sha256sum)
n=$(run "$new" "$bench" "$work/n" | sha256sum)
[[ $o == "$n" ]] || { diffs=$((diffs + 1)); echo "DIFFERENT: $bench"; }
echo "differential: $runs runs over $(wc -l < "$work/runs" | awk '{print $1}') (file, problem_field, answer_field) of ../shared/data ($records records in all) and $(wc -l < "$bench" | awk '{print $1}') records of the bench file: $diffs different"
[[ $diffs == 0 ]] || exit 1

# 2. Cost in instructions.
[[ ${CALLGRIND:-1} == 1 ]] || exit 0
command -v valgrind > /dev/null || { echo "format.sh: valgrind is needed for the instruction counts" >&2; exit 1; }
head -n "$RECORDS" "$bench" > "$work/in.jsonl"
count() {  # binary, pipeline file: instructions of the whole run
  mkdir -p "$work/out"
  BENCH_INPUT=$work/in.jsonl BENCH_OUT=$work/out TAMIS_PLUGIN_PATH= \
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$1" run "$2" --threads 1 \
    > /dev/null 2> "$work/cg.err" || { cat "$work/cg.err" >&2; exit 1; }
  grep -o 'Collected : [0-9]*' "$work/cg.err" | grep -o '[0-9]*'
}
op=$(count "$old" bench/pipelines/passthrough.yaml) of=$(count "$old" "$work/format-old.yaml")
np=$(count "$new" bench/pipelines/passthrough.yaml) nf=$(count "$new" bench/pipelines/format.yaml)
echo "| run ($RECORDS records of the bench file, 1 thread) | $BASE | this tree | old/new |"
echo "|---|---:|---:|---:|"
awk -v op="$op" -v of="$of" -v np="$np" -v nf="$nf" -v r="$RECORDS" 'BEGIN {
  printf "| passthrough.yaml | %.1fM | %.1fM | %.2fx |\n", op / 1e6, np / 1e6, op / np
  printf "| format.yaml | %.1fM | %.1fM | %.2fx |\n", of / 1e6, nf / 1e6, of / nf
  printf "| grade.verifiable alone (format - passthrough), per record | %.0f | %.0f | %.2fx |\n", (of - op) / r, (nf - np) / r, (of - op) / (nf - np) }'
