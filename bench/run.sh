#!/usr/bin/env bash
# Re-runs the tamis benchmarks and prints the performance table as Markdown (also saved to
# bench/results/latest.md). One command, from anywhere in the repository:
#
#   bench/run.sh                       1,000,000 records (~520 MB), bench/data/prompts-1m.jsonl
#   RECORDS=100000 bench/run.sh        a smaller pool for a quick run: bench/data/prompts-100000.jsonl
#   REPEAT=5 bench/run.sh              5 rounds instead of 3 (each row: its best run)
#   BENCH_OUT_DIR=DIR bench/run.sh     where run outputs go (default: a fresh directory under /dev/shm,
#                                      or bench/out when /dev/shm is missing)
#   KEEP_OUTPUTS=1 bench/run.sh        keep the outputs after the comparisons (default: delete them)
#
# Steps: build in Release into build-bench/; generate the pool (seed 42) if it is missing or older than
# the generator; warm the page cache; then, on the same file, measure bench/baseline and `tamis run` with
# bench/pipelines/passthrough.yaml and bench/pipelines/filters.yaml at 1 and 2 threads, each under
# /usr/bin/time (peak RSS, CPU seconds) with wall time from $EPOCHREALTIME. Outputs of the 1- and 2-thread
# runs are compared byte for byte with cmp.
#
# Outputs go to tmpfs by default so that page-cache writeback of one run's output does not slow the next
# run down: the table compares CPU work, not the disk.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

records=${RECORDS:-1000000}
repeat=${REPEAT:-3}
seed=42
build_dir=build-bench
if ! [[ $records =~ ^[1-9][0-9]*$ && $repeat =~ ^[1-9][0-9]*$ ]]; then
  echo "run.sh: RECORDS and REPEAT must be positive integers" >&2
  exit 2
fi
if [[ $records == 1000000 ]]; then name=prompts-1m.jsonl; else name=prompts-${records}.jsonl; fi
input=$root/bench/data/$name
results=$root/bench/results
logs=$results/logs
mkdir -p "$root/bench/data" "$logs"

if [[ -n ${BENCH_OUT_DIR:-} ]]; then
  out=$BENCH_OUT_DIR
elif [[ -d /dev/shm && -w /dev/shm ]]; then
  out=/dev/shm/tamis-bench-$$
else
  out=$root/bench/out
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
cleanup() { [[ ${KEEP_OUTPUTS:-0} == 1 ]] || rm -rf -- "$out"; }
trap cleanup EXIT

log() { echo "run.sh: $*" >&2; }

# --- GNU time -------------------------------------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
  log "installing GNU time (apt-get install -y time)"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2
fi

# --- build ------------------------------------------------------------------------------------------------
log "building in $build_dir (Release; logs in ${logs#"$root"/})"
if ! cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTAMIS_BUILD_TESTS=OFF >"$logs/build.log" 2>&1; then
  tail -n 30 "$logs/build.log" >&2
  log "cmake configure failed"
  exit 1
fi
if ! cmake --build "$build_dir" -j2 >>"$logs/build.log" 2>&1; then
  # The bench tools do not depend on tamis: still measure the baseline if they build.
  log "full build failed (see ${logs#"$root"/}/build.log); building the bench tools only"
  cmake --build "$build_dir" -j2 --target tamis_gen_prompts tamis_baseline >>"$logs/build.log" 2>&1 || {
    tail -n 30 "$logs/build.log" >&2
    exit 1
  }
fi
gen=$root/$build_dir/bench/gen_prompts
baseline=$root/$build_dir/bench/baseline
tamis=$root/$build_dir/core/tamis

# --- data -------------------------------------------------------------------------------------------------
# Regenerated when missing or older than the generator binary (the generator changed since).
if [[ ! -s $input || $gen -nt $input ]]; then
  log "generating ${input#"$root"/} ($records records, seed $seed)"
  "$gen" --records "$records" --seed "$seed" --out "$input.partial"
  mv "$input.partial" "$input"
fi
bytes=$(stat -c %s "$input")
cat "$input" >/dev/null  # warm the page cache: every run reads from memory

# --- measurements -------------------------------------------------------------------------------------------
declare -A wall rss cpu state

# measure_once KEY CMD...: runs CMD once and keeps its wall time, peak RSS and CPU time when it is the
# fastest run of KEY so far. Wall time comes from $EPOCHREALTIME (microseconds; /usr/bin/time's %e has
# only centiseconds).
measure_once() {
  local key=$1
  shift
  local w m u s start
  [[ ${state[$key]:-ok} == ok ]] || return 0
  start=$EPOCHREALTIME
  if ! /usr/bin/time -f '%M %U %S' -o "$logs/$key.time" "$@" >"$logs/$key.log" 2>&1; then
    state[$key]="failed (exit $(grep -o 'status [0-9]*' "$logs/$key.time" | cut -d' ' -f2); see ${logs#"$root"/}/$key.log)"
    log "$key failed:"
    tail -n 5 "$logs/$key.log" >&2
    return 0
  fi
  w=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
  read -r m u s <"$logs/$key.time"
  if [[ -z ${wall[$key]:-} ]] || awk -v a="$w" -v b="${wall[$key]}" 'BEGIN { exit !(a < b) }'; then
    wall[$key]=$w
    rss[$key]=$m
    cpu[$key]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
  fi
  state[$key]=ok
}

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

have_tamis=0
[[ -x $tamis ]] && have_tamis=1
keys=(baseline baseline-null)
for pipeline in passthrough filters; do
  for threads in 1 2; do
    key=$pipeline-t$threads
    if ((have_tamis)); then
      keys+=("$key")
      mkdir -p "$out/$key"
    else
      state[$key]="not run: ${tamis#"$root"/} was not built"
    fi
  done
done
mkdir -p "$out/baseline"

# run_key KEY: one run of that configuration.
run_key() {
  case $1 in
    baseline) measure_once baseline "$baseline" --in "$input" --out "$out/baseline/baseline.jsonl" ;;
    # The same without writing: how much of the baseline is output (page allocation and copy in the kernel).
    baseline-null) measure_once baseline-null "$baseline" --in "$input" --out /dev/null ;;
    *)
      local pipeline=${1%-t*} threads=${1##*-t}
      rm -rf "${out:?}/$1" && mkdir -p "$out/$1"  # a fresh output dir: no old file to free on rename
      measure_once "$1" env BENCH_INPUT="$input" BENCH_OUT="$out/$1" \
        "$tamis" run "$root/bench/pipelines/$pipeline.yaml" --threads "$threads"
      ;;
  esac
}

# Rounds: every configuration once per round, so that a slow phase of the machine (these are shared
# VMs) hits all rows alike instead of the rows that happened to run then.
for ((round = 1; round <= repeat; round++)); do
  log "round $round of $repeat"
  for key in "${keys[@]}"; do run_key "$key"; done
done
[[ ${state[baseline]:-} == ok ]] || { log "the baseline must run"; exit 1; }

# same_files DIR1 DIR2 FILE...: "identical" when every FILE is byte-identical in both directories.
same_files() {
  local a=$1 b=$2 f
  shift 2
  for f in "$@"; do
    cmp -s "$a/$f" "$b/$f" || { echo DIFFER; return; }
  done
  echo identical
}

declare -A check
if [[ ${state[passthrough-t1]} == ok && ${state[passthrough-t2]} == ok ]]; then
  check[passthrough-t2]=$(same_files "$out/passthrough-t1" "$out/passthrough-t2" passthrough.jsonl)
fi
if [[ ${state[filters-t1]} == ok && ${state[filters-t2]} == ok ]]; then
  check[filters-t2]=$(same_files "$out/filters-t1" "$out/filters-t2" filters.jsonl filters.rejected.jsonl)
fi

# --- table --------------------------------------------------------------------------------------------------
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? b / s / 1e6 : 0) }'; }
base_mbps=$(mbps "${wall[baseline]}")

row() {  # row KEY LABEL THREADS
  local key=$1 label=$2 threads=$3
  if [[ ${state[$key]} != ok ]]; then
    echo "| $label | $threads | ${state[$key]} | | | | | | |"
    return
  fi
  local speed ratio speedup="" mib
  speed=$(mbps "${wall[$key]}")
  ratio=$(awk -v a="$speed" -v b="$base_mbps" 'BEGIN { printf "%.2fx", a / b }')
  mib=$(awk -v k="${rss[$key]}" 'BEGIN { printf "%.0f", k / 1024 }')
  if [[ $threads == 2 && ${state[${key%-t2}-t1]:-} == ok ]]; then
    speedup=$(awk -v a="${wall[${key%-t2}-t1]}" -v b="${wall[$key]}" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')
  fi
  echo "| $label | $threads | ${wall[$key]} | ${cpu[$key]} | $speed | $ratio | $speedup | $mib | ${check[$key]:-} |"
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (uncommitted changes)"
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
report=$results/latest.md
{
  echo "## tamis benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- input: \`bench/data/$name\`: $records records, $bytes bytes (gen_prompts, seed $seed)"
  echo "- machine: $cpu_model, $(nproc) CPUs; load average at start: $load_at_start"
  echo "- build: Release (\`$build_dir\`), commit $commit"
  echo "- each row: best of $repeat run(s) by wall time, runs interleaved in rounds; MB/s = input bytes / wall seconds (MB = 10^6 bytes);"
  echo "  CPU s = user + system; outputs written to ${out#"$root"/}"
  echo
  echo "| run | threads | wall s | CPU s | MB/s | vs baseline | 2t / 1t | peak RSS MiB | 1t = 2t output |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  row baseline "baseline (simdjson iterate_many, reads \`problem\`)" 1
  row baseline-null "baseline, output to /dev/null" 1
  row passthrough-t1 "tamis passthrough.yaml" 1
  row passthrough-t2 "tamis passthrough.yaml" 2
  row filters-t1 "tamis filters.yaml (require + length)" 1
  row filters-t2 "tamis filters.yaml (require + length)" 2
  if [[ ${state[passthrough-t1]} == ok ]]; then
    echo
    echo "- passthrough output vs baseline output: $(cmp -s "$out/passthrough-t1/passthrough.jsonl" \
      "$out/baseline/baseline.jsonl" && echo identical || echo DIFFER)"
  fi
  if [[ ${state[filters-t1]} == ok ]]; then
    echo "- filters (1 thread): $(wc -l <"$out/filters-t1/filters.jsonl") kept, $(wc -l <"$out/filters-t1/filters.rejected.jsonl") rejected"
  fi
} | tee "$report"
log "table saved to ${report#"$root"/}"
