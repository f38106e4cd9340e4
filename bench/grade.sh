#!/usr/bin/env bash
# Grading and difficulty benchmarks: `grade.answer` throughput (answers/s) on GSM8K's real graded solutions and
# on MATH-style LaTeX answers, and `grade.difficulty` with a sidecar of 16 rollouts per problem, each at 1 and
# 2 threads, runs interleaved in rounds. Prints a Markdown table (also saved to bench/results/grade.md).
#
#   bench/grade.sh                          defaults below
#   REPEAT=5 bench/grade.sh                 rounds (each row: its best run by wall time; default 3)
#   GSM8K_REPEAT=100 LATEX_RECORDS=500000 PROBLEMS=100000 ROLLOUTS=16 bench/grade.sh
#   TAMIS_DATA=DIR bench/grade.sh           where ../shared/data is (default: ../shared/data)
#   BUILD_DIR=DIR bench/grade.sh            Release build dir (default build-bench, as bench/run.sh)
#   DATA_DIR=DIR bench/grade.sh             generated inputs (default /dev/shm/tamis-grade-data, kept
#                                           between runs, regenerated when the generator is newer)
#
# Inputs (made by build-bench/bench/gen_grade, deterministic, seed 42):
#   gsm8k   the 5,276 graded solutions of gsm8k/example_model_solutions.jsonl (1,319 problems x 4 models),
#           one per line, the whole set written GSM8K_REPEAT times (the set alone grades in well under
#           a second);
#   latex   LATEX_RECORDS real MATH solutions (math/math_test.jsonl, cycled) whose last \boxed{} holds
#           the reference in an equivalent form (70%) or a wrong one (30%);
#   rollouts PROBLEMS problems with real MATH / DeepScaleR reference answers and a sidecar of ROLLOUTS
#           rollouts each, one line per rollout.
# Runs: `tamis run bench/pipelines/{grade-gsm8k,grade-latex,difficulty-sidecar}.yaml --threads N`, and
# difficulty on a one-problem file with the same sidecar (the time to load the sidecar alone).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

repeat=${REPEAT:-3}
gsm8k_repeat=${GSM8K_REPEAT:-100}
latex_records=${LATEX_RECORDS:-500000}
problems=${PROBLEMS:-100000}
rollouts=${ROLLOUTS:-16}
seed=42
data=${TAMIS_DATA:-$root/../shared/data}
build_dir=${BUILD_DIR:-build-bench}
data_dir=${DATA_DIR:-/dev/shm/tamis-grade-data}
for v in repeat gsm8k_repeat latex_records problems rollouts; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "grade.sh: $v must be a positive integer" >&2; exit 2; }
done
[[ -s $data/gsm8k/example_model_solutions.jsonl && -s $data/math/math_test.jsonl ]] ||
  { echo "grade.sh: no shared data in $data (set TAMIS_DATA)" >&2; exit 2; }

results=$root/bench/results
logs=$results/logs
mkdir -p "$logs" "$data_dir"
out=$(mktemp -d /dev/shm/tamis-grade-bench.XXXXXX 2>/dev/null || mktemp -d "$root/bench/out.XXXXXX")
cleanup() { [[ ${KEEP_OUTPUTS:-0} == 1 ]] || rm -rf -- "$out"; }
trap cleanup EXIT
log() { echo "grade.sh: $*" >&2; }

if [[ ! -x /usr/bin/time ]]; then
  log "installing GNU time (apt-get install -y time)"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2
fi

log "building tamis, the grade plugin and gen_grade in $build_dir (Release)"
if ! { cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTAMIS_BUILD_TESTS=OFF &&
  cmake --build "$build_dir" -j2 --target tamis tamis_grade tamis_gen_grade; } >"$logs/grade-build.log" 2>&1; then
  tail -n 30 "$logs/grade-build.log" >&2
  exit 1
fi
gen=$root/$build_dir/bench/gen_grade
tamis=$root/$build_dir/core/tamis

# --- inputs -----------------------------------------------------------------------------------------------
gsm8k_in=$data_dir/gsm8k-x$gsm8k_repeat.jsonl
latex_in=$data_dir/latex-$latex_records.jsonl
problems_in=$data_dir/problems-$problems-k$rollouts.jsonl
sidecar_in=$data_dir/sidecar-$problems-k$rollouts.jsonl
one_in=$data_dir/problems-one.jsonl
fresh() { [[ -s $1 && ! $gen -nt $1 ]]; }
if ! fresh "$gsm8k_in"; then
  log "generating $gsm8k_in"
  "$gen" gsm8k --in "$data/gsm8k/example_model_solutions.jsonl" --repeat "$gsm8k_repeat" --out "$gsm8k_in"
fi
if ! fresh "$latex_in"; then
  log "generating $latex_in"
  "$gen" latex --in "$data/math/math_test.jsonl" --records "$latex_records" --seed "$seed" --out "$latex_in"
fi
if ! fresh "$sidecar_in" || ! fresh "$problems_in"; then
  log "generating $problems_in and $sidecar_in"
  "$gen" rollouts --answers "$data/math/math_test.jsonl,$data/deepscaler/train_math.jsonl" --problems "$problems" \
    --rollouts "$rollouts" --seed "$seed" --out-problems "$problems_in" --out-sidecar "$sidecar_in"
fi
head -n 1 "$problems_in" >"$one_in"
for f in "$gsm8k_in" "$latex_in" "$problems_in" "$sidecar_in"; do cat "$f" >/dev/null; done  # page cache

# --- measurements -------------------------------------------------------------------------------------------
declare -A wall rss cpu state
measure_once() {  # KEY CMD...: keeps the fastest run's wall time, peak RSS and CPU time
  local key=$1 w m u s start
  shift
  [[ ${state[$key]:-ok} == ok ]] || return 0
  start=$EPOCHREALTIME
  if ! /usr/bin/time -f '%M %U %S' -o "$logs/grade-$key.time" "$@" >"$logs/grade-$key.log" 2>&1; then
    state[$key]="failed (see bench/results/logs/grade-$key.log)"
    log "$key failed:"
    tail -n 5 "$logs/grade-$key.log" >&2
    return 0
  fi
  w=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
  read -r m u s <"$logs/grade-$key.time"
  if [[ -z ${wall[$key]:-} ]] || awk -v a="$w" -v b="${wall[$key]}" 'BEGIN { exit !(a < b) }'; then
    wall[$key]=$w
    rss[$key]=$m
    cpu[$key]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
  fi
  state[$key]=ok
}

run_key() {  # KEY = NAME-tN
  local name=${1%-t*} threads=${1##*-t} pipeline input
  case $name in
    gsm8k) pipeline=grade-gsm8k input=$gsm8k_in ;;
    latex) pipeline=grade-latex input=$latex_in ;;
    difficulty) pipeline=difficulty-sidecar input=$problems_in ;;
    load) pipeline=difficulty-sidecar input=$one_in ;;
  esac
  rm -rf "${out:?}/$1" && mkdir -p "$out/$1"
  measure_once "$1" env BENCH_INPUT="$input" BENCH_OUT="$out/$1" BENCH_SIDECAR="$sidecar_in" \
    "$tamis" run "$root/bench/pipelines/$pipeline.yaml" --threads "$threads"
}

keys=(gsm8k-t1 gsm8k-t2 latex-t1 latex-t2 difficulty-t1 difficulty-t2 load-t1 load-t2)
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= repeat; round++)); do
  log "round $round of $repeat"
  for key in "${keys[@]}"; do run_key "$key"; done
done

same() {  # DIR1 DIR2 FILE...
  local a=$1 b=$2 f
  shift 2
  for f in "$@"; do cmp -s "$a/$f" "$b/$f" || { echo DIFFER; return; }; done
  echo identical
}
declare -A check items
check[gsm8k-t2]=$(same "$out/gsm8k-t1" "$out/gsm8k-t2" grade-gsm8k.jsonl)
check[latex-t2]=$(same "$out/latex-t1" "$out/latex-t2" grade-latex.jsonl)
check[difficulty-t2]=$(same "$out/difficulty-t1" "$out/difficulty-t2" difficulty.jsonl difficulty.rejected.jsonl)
items[gsm8k]=$(wc -l <"$gsm8k_in")
items[latex]=$(wc -l <"$latex_in")
items[difficulty]=$(wc -l <"$sidecar_in")
items[load]=${items[difficulty]}

row() {  # KEY LABEL
  local key=$1 label=$2 threads=${1##*-t} name=${1%-t*} rate per_cpu speedup=""
  if [[ ${state[$key]:-} != ok ]]; then
    echo "| $label | $threads | ${state[$key]:-not run} | | | | | | |"
    return
  fi
  rate=$(awk -v n="${items[$name]}" -v s="${wall[$key]}" 'BEGIN { printf "%.0f", n / s }')
  per_cpu=$(awk -v n="${items[$name]}" -v s="${cpu[$key]}" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
  if [[ $threads == 2 && ${state[$name-t1]:-} == ok ]]; then
    speedup=$(awk -v a="${wall[$name-t1]}" -v b="${wall[$key]}" 'BEGIN { printf "%.2fx", a / b }')
  fi
  echo "| $label | $threads | ${wall[$key]} | ${cpu[$key]} | $rate | $per_cpu | $speedup | $(awk -v k="${rss[$key]}" 'BEGIN { printf "%.0f", k / 1024 }') | ${check[$key]:-} |"
}

# Agreement of the GSM8K run with the stored labels; of the LaTeX run with the generator's intent.
agree() {  # FILE LABELKEY: lines whose annotation "correct" equals the label
  awk -v key="$2" '
    { label = index($0, "\"" key "\":true") > 0; graded = index($0, "\"correct\":true") > 0; n++; if (label == graded) a++ }
    END { printf "%d / %d", a, n }' "$1"
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (uncommitted changes)"
report=$results/grade.md
{
  echo "## tamis grading benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs; load average at start: $load_at_start"
  echo "- build: Release (\`$build_dir\`), commit $commit; best of $repeat interleaved rounds; items/s = items / wall s;"
  echo "  items / CPU s = items / (user + system s): the work per item, which other load on the machine does not change"
  echo "- gsm8k: ${items[gsm8k]} answers (example_model_solutions.jsonl's 5,276 solutions x $gsm8k_repeat); latex: ${items[latex]} answers;"
  echo "  difficulty: $(wc -l <"$problems_in") problems, ${items[difficulty]} sidecar rollouts ($rollouts each); load: the same sidecar, one problem"
  echo
  echo "| run | threads | wall s | CPU s | items/s | items / CPU s | 2t / 1t (wall) | peak RSS MiB | 1t = 2t output |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  row gsm8k-t1 "grade.answer, GSM8K solutions (answers)"
  row gsm8k-t2 "grade.answer, GSM8K solutions (answers)"
  row latex-t1 "grade.answer, MATH LaTeX answers (answers)"
  row latex-t2 "grade.answer, MATH LaTeX answers (answers)"
  row difficulty-t1 "grade.difficulty, sidecar (rollouts)"
  row difficulty-t2 "grade.difficulty, sidecar (rollouts)"
  row load-t1 "grade.difficulty, sidecar load + 1 problem (rollouts)"
  row load-t2 "grade.difficulty, sidecar load + 1 problem (rollouts)"
  echo
  [[ ${state[gsm8k-t1]:-} == ok ]] && echo "- GSM8K: graded correct = stored is_correct on $(agree "$out/gsm8k-t1/grade-gsm8k.jsonl" is_correct)"
  [[ ${state[latex-t1]:-} == ok ]] && echo "- LaTeX: graded correct = generator's intent (equivalent / wrong rewrite) on $(agree "$out/latex-t1/grade-latex.jsonl" expect)"
  if [[ ${state[difficulty-t1]:-} == ok ]]; then
    echo "- difficulty (1 thread): $(wc -l <"$out/difficulty-t1/difficulty.jsonl") kept; rejected by reason:" \
      "$(grep -o '"reason":"[a-z_]*"' "$out/difficulty-t1/difficulty.rejected.jsonl" | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), substr($2, 11, length($2) - 11), $1 }')"
  fi
} | tee "$report"
log "table saved to ${report#"$root"/}"
