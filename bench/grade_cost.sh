#!/usr/bin/env bash
# Instructions the grader spends per answer, counted by callgrind inside tamis::grade::grade() (exact and
# repeatable: the load of a shared machine does not change them, unlike wall time), for the working tree
# and any older revisions of plugins/grade, each compiled the same way with bench/grade_cost.cpp. Inputs
# are those of bench/grade.sh at a small size: GSM8K's 5,276 graded solutions (the reference a worked
# solution) and LATEX_RECORDS MATH solutions whose last \boxed{} holds the reference rewritten (seed 42).
# Prints a Markdown table, and whether each revision's verdicts equal the working tree's line for line.
#
#   bench/grade_cost.sh                           the working tree only
#   bench/grade_cost.sh b38bb3d~1 HEAD            those revisions, then the working tree
#   BUILD=build-grader bench/grade_cost.sh ...    where gen_grade is (target tamis_gen_grade; default build)
#   LATEX_RECORDS=N                               (default 20000)
#
# A revision's sources are plugins/grade/{answer,symbolic}.{cpp,hpp} and latex_cursor.hpp (those it has),
# compiled with the flags of the Release build (-O3 -DNDEBUG, GiNaC when pkg-config finds it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD=${BUILD:-build}
data=${TAMIS_DATA:-../shared/data}
latex_records=${LATEX_RECORDS:-20000}
[[ $latex_records =~ ^[1-9][0-9]*$ ]] || { echo "grade_cost.sh: LATEX_RECORDS must be a positive integer" >&2; exit 2; }
if [[ ! -s $data/gsm8k/example_model_solutions.jsonl || ! -s $data/math/math_test.jsonl ]]; then
  echo "grade_cost.sh: no shared data in $data; skipped"
  exit 0
fi
command -v valgrind >/dev/null || { echo "grade_cost.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
gen=$BUILD/bench/gen_grade
[[ -x $gen ]] || { echo "grade_cost.sh: no $gen (cmake --build $BUILD --target tamis_gen_grade)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
"$gen" gsm8k --in "$data/gsm8k/example_model_solutions.jsonl" --repeat 1 --out "$work/gsm8k.jsonl" >&2
"$gen" latex --in "$data/math/math_test.jsonl" --records "$latex_records" --seed 42 --out "$work/latex.jsonl" >&2

ginac=0
libs=(-lsimdjson)
if pkg-config --exists ginac 2>/dev/null; then
  ginac=1
  read -r -a ginac_libs <<<"$(pkg-config --libs ginac)"
  libs+=("${ginac_libs[@]}")
fi

build() {  # REV DIR: DIR/grade_cost from REV's grader sources ("worktree": the files as they are)
  local rev=$1 dir=$2 f sources=()
  mkdir -p "$dir"
  for f in answer.cpp answer.hpp symbolic.cpp symbolic.hpp latex_cursor.hpp; do
    if [[ $rev == worktree ]]; then
      [[ -f plugins/grade/$f ]] && cp "plugins/grade/$f" "$dir/"
    else
      git show "$rev:plugins/grade/$f" >"$dir/$f" 2>/dev/null || rm -f "$dir/$f"
    fi
  done
  for f in answer.cpp symbolic.cpp; do [[ -f $dir/$f ]] && sources+=("$dir/$f"); done
  c++ -O3 -DNDEBUG -std=c++20 -DTAMIS_GRADE_GINAC=$ginac -I"$dir" bench/grade_cost.cpp "${sources[@]}" -o "$dir/grade_cost" "${libs[@]}"
}

count() {  # DIR SET FIELD: instructions inside grade(); verdicts to DIR/SET.tsv
  valgrind --tool=callgrind --toggle-collect='tamis::grade::grade(*' --callgrind-out-file="$1/$2.callgrind" \
    "$1/grade_cost" "$work/$2.jsonl" "$3" >"$1/$2.tsv" 2>"$1/$2.log" || { tail -n 5 "$1/$2.log" >&2; exit 1; }
  grep -o 'Collected : [0-9]*' "$1/$2.log" | grep -o '[0-9]*$'
}

revs=("$@" worktree)
gsm8k_n=$(wc -l <"$work/gsm8k.jsonl")
latex_n=$(wc -l <"$work/latex.jsonl")
declare -A gi li
for i in "${!revs[@]}"; do
  echo "grade_cost.sh: ${revs[$i]}" >&2
  build "${revs[$i]}" "$work/r$i"
  gi[$i]=$(count "$work/r$i" gsm8k reference)
  li[$i]=$(count "$work/r$i" latex answer)
done

last=$((${#revs[@]} - 1))
echo "| revision | GSM8K: instructions in grade() | per answer | LaTeX: instructions in grade() | per answer | verdicts = working tree |"
echo "|---|---:|---:|---:|---:|---|"
for i in "${!revs[@]}"; do
  rev=${revs[$i]}
  label=$rev
  [[ $rev == worktree ]] || label="$rev ($(git rev-parse --short "$rev"))"
  same=identical
  cmp -s "$work/r$i/gsm8k.tsv" "$work/r$last/gsm8k.tsv" && cmp -s "$work/r$i/latex.tsv" "$work/r$last/latex.tsv" || same=differ
  awk -v l="$label" -v g="${gi[$i]}" -v gn="$gsm8k_n" -v x="${li[$i]}" -v xn="$latex_n" -v s="$same" \
    'BEGIN { printf "| %s | %d | %.0f | %d | %.0f | %s |\n", l, g, g / gn, x, x / xn, s }'
done
echo
echo "GSM8K: $gsm8k_n graded solutions (gsm8k/example_model_solutions.jsonl); LaTeX: $latex_n MATH answers (gen_grade latex, seed 42); GiNaC: $([[ $ginac == 1 ]] && echo yes || echo no)."
