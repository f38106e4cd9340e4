#!/usr/bin/env bash
# fingerprint.profile throughput (MB/s of input) at 1 and 2 threads, next to a passthrough of the same
# file measured in the same rounds, runs interleaved. Prints a Markdown table (also saved to
# bench/results/fingerprint.md).
#
#   bench/fingerprint.sh                    defaults below
#   REPEAT=5 bench/fingerprint.sh           rounds (each row: its best run by wall time; default 3)
#   INPUT=FILE bench/fingerprint.sh         the pool (default bench/data/prompts-1m.jsonl, made by bench/run.sh;
#                                           it is not regenerated here)
#   TAMIS_DATA=DIR bench/fingerprint.sh     where ../shared/data is (default: ../shared/data); the slop rows
#                                           are skipped when DIR/slop is absent
#   bench/fingerprint.sh sweep              instead of timing: each model's nearest neighbour on the slop data
#                                           under other settings (robustness of docs/fingerprint.md's findings;
#                                           saved to bench/results/fingerprint-sweep.md)
#   BUILD_DIR=DIR bench/fingerprint.sh      Release build dir (default build-fingerprint-bench: only tamis and
#                                           this plugin, so no stale plugin of another family is loaded)
#
# Runs:
#   passthrough  tamis run bench/pipelines/passthrough.yaml          (read, parse, write back: the floor)
#   prompts      tamis run bench/pipelines/fingerprint-prompts.yaml  (profile of `problem` by `source`)
#   slop         tamis run bench/pipelines/fingerprint-slop.yaml     (12 models' outputs by `model`, against
#                                                                      the prompts as reference)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

repeat=${REPEAT:-3}
input=${INPUT:-$root/bench/data/prompts-1m.jsonl}
data=${TAMIS_DATA:-$root/../shared/data}
build_dir=${BUILD_DIR:-build-fingerprint-bench}
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "fingerprint.sh: REPEAT must be a positive integer" >&2; exit 2; }
mode=${1:-time}
[[ $mode == time || $mode == sweep ]] || { echo "fingerprint.sh: unknown mode '$mode' (time or sweep)" >&2; exit 2; }
[[ $mode == sweep || -s $input ]] || { echo "fingerprint.sh: no $input; run bench/run.sh once (it generates it), or set INPUT" >&2; exit 2; }
data=$(cd "$data" 2>/dev/null && pwd || echo "$data")
[[ $mode == sweep ]] || input=$(cd "$(dirname "$input")" && pwd)/$(basename "$input")

results=$root/bench/results
logs=$results/logs
mkdir -p "$logs"
out=$(mktemp -d /dev/shm/tamis-fp-bench.XXXXXX 2>/dev/null || mktemp -d "$root/bench/out.XXXXXX")
cleanup() { [[ ${KEEP_OUTPUTS:-0} == 1 ]] || rm -rf -- "$out"; }
trap cleanup EXIT
log() { echo "fingerprint.sh: $*" >&2; }

if [[ ! -x /usr/bin/time ]]; then
  log "installing GNU time (apt-get install -y time)"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2
fi

log "building tamis and the fingerprint plugin in $build_dir (Release)"
if ! { cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTAMIS_BUILD_TESTS=OFF &&
  cmake --build "$build_dir" -j2 --target tamis tamis_fingerprint; } >"$logs/fingerprint-build.log" 2>&1; then
  tail -n 30 "$logs/fingerprint-build.log" >&2
  exit 1
fi
tamis=$root/$build_dir/core/tamis

if [[ $mode == sweep ]]; then
  [[ -d $data/slop ]] || { log "no $data/slop"; exit 2; }
  settings=("defaults" "profile.measure=jaccard" "profile.rank=z" "profile.prior=0.01" "profile.prior=1"
            "profile.min_records=3" "profile.min_records=10" "profile.top_words=300" "profile.drop_stopwords=false"
            "profile.human=[]")
  declare -A nearest
  for s in "${settings[@]}"; do
    log "sweep: $s"
    set_args=()
    [[ $s == defaults ]] || set_args=(--set "$s")
    env TAMIS_DATA="$data" BENCH_OUT="$out" "$tamis" run "$root/bench/pipelines/fingerprint-slop.yaml" --threads 2 -q \
      "${set_args[@]}"
    while IFS=$'\t' read -r m n; do nearest[$m,$s]=$n; done < <(jq -r '.neighbours | to_entries[] |
      [.key, (.value[0].name | sub("^[^/]*/"; "") | sub("-Instruct-2506"; ""))] | @tsv' "$out/slop-profile/profile.json")
  done
  models=$(jq -r '.distances.names[]' "$out/slop-profile/profile.json")
  report=$results/fingerprint-sweep.md
  {
    echo "## nearest neighbour per model on ../shared/data/slop, per setting (bench/fingerprint.sh sweep)"
    echo
    echo "Each column changes one parameter of bench/pipelines/fingerprint-slop.yaml (--set); commit $(git rev-parse --short HEAD)."
    echo
    printf '| model |'; for s in "${settings[@]}"; do printf ' %s |' "${s#profile.}"; done; echo
    printf '|---|'; for s in "${settings[@]}"; do printf -- '---|'; done; echo
    while read -r m; do
      printf '| %s |' "${m#*/}"; for s in "${settings[@]}"; do printf ' %s |' "${nearest[$m,$s]}"; done; echo
    done <<<"$models"
  } | tee "$report"
  log "table saved to ${report#"$root"/}"
  exit 0
fi

keys=(passthrough-t1 prompts-t1 passthrough-t2 prompts-t2)
declare -A bytes
bytes[passthrough]=$(stat -c %s "$input")
bytes[prompts]=${bytes[passthrough]}
if [[ -d $data/slop ]]; then
  keys+=(slop-t1 slop-t2)
  bytes[slop]=$(cat "$data"/slop/*.jsonl | wc -c)
  cat "$data"/slop/*.jsonl >/dev/null
else
  log "no $data/slop: slop rows skipped"
fi
cat "$input" >/dev/null  # page cache

declare -A wall rss cpu state
measure_once() {  # KEY CMD...: keeps the fastest run's wall time, peak RSS and CPU time
  local key=$1 w m u s start
  shift
  [[ ${state[$key]:-ok} == ok ]] || return 0
  start=$EPOCHREALTIME
  if ! /usr/bin/time -f '%M %U %S' -o "$logs/fingerprint-$key.time" "$@" >"$logs/fingerprint-$key.log" 2>&1; then
    state[$key]="failed (see bench/results/logs/fingerprint-$key.log)"
    log "$key failed:"
    tail -n 5 "$logs/fingerprint-$key.log" >&2
    return 0
  fi
  w=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
  read -r m u s <"$logs/fingerprint-$key.time"
  if [[ -z ${wall[$key]:-} ]] || awk -v a="$w" -v b="${wall[$key]}" 'BEGIN { exit !(a < b) }'; then
    wall[$key]=$w
    rss[$key]=$m
    cpu[$key]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
  fi
  state[$key]=ok
}

run_key() {  # KEY = NAME-tN
  local name=${1%-t*} threads=${1##*-t} pipeline
  case $name in
    passthrough) pipeline=passthrough ;;
    prompts) pipeline=fingerprint-prompts ;;
    slop) pipeline=fingerprint-slop ;;
  esac
  rm -rf "${out:?}/$1" && mkdir -p "$out/$1"
  measure_once "$1" env BENCH_INPUT="$input" BENCH_OUT="$out/$1" TAMIS_DATA="$data" \
    "$tamis" run "$root/bench/pipelines/$pipeline.yaml" --threads "$threads"
}

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
declare -A check
for name in prompts slop; do
  [[ ${state[$name-t2]:-} == ok ]] || continue
  check[$name-t2]=$(same "$out/$name-t1/$name-profile" "$out/$name-t2/$name-profile" profile.json tree.nwk \
    dendrogram.txt neighbours.md)
done

row() {  # KEY LABEL
  local key=$1 label=$2 threads=${1##*-t} name=${1%-t*} rate cpu_rate speedup="" ratio=""
  if [[ ${state[$key]:-} != ok ]]; then
    echo "| $label | $threads | ${state[$key]:-not run} | | | | | | | |"
    return
  fi
  rate=$(awk -v n="${bytes[$name]}" -v s="${wall[$key]}" 'BEGIN { printf "%.1f", n / s / 1e6 }')
  cpu_rate=$(awk -v n="${bytes[$name]}" -v s="${cpu[$key]}" 'BEGIN { printf "%.1f", n / s / 1e6 }')
  if [[ $threads == 2 && ${state[$name-t1]:-} == ok ]]; then
    speedup=$(awk -v a="${wall[$name-t1]}" -v b="${wall[$key]}" 'BEGIN { printf "%.2fx", a / b }')
  fi
  if [[ $name == prompts && ${state[passthrough-t$threads]:-} == ok ]]; then
    ratio=$(awk -v a="${wall[passthrough-t$threads]}" -v b="${wall[$key]}" 'BEGIN { printf "%.2f", a / b }')
  fi
  echo "| $label | $threads | ${wall[$key]} | ${cpu[$key]} | $rate | $cpu_rate | $speedup | $ratio | $(awk -v k="${rss[$key]}" 'BEGIN { printf "%.0f", k / 1024 }') | ${check[$key]:-} |"
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- plugins/fingerprint bench/fingerprint.sh bench/pipelines 2>/dev/null ||
  commit="$commit (uncommitted changes)"
report=$results/fingerprint.md
{
  echo "## tamis fingerprint benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs; load average at start: $load_at_start"
  echo "- build: Release (\`$build_dir\`), commit $commit; best of $repeat interleaved rounds; MB/s = input bytes / wall s (MB = 10^6 bytes)"
  echo "- prompts: ${input#"$root"/}, $(awk -v b="${bytes[prompts]}" 'BEGIN { printf "%.0f", b / 1e6 }') MB; slop: ${TAMIS_DATA:-../shared/data}/slop/*.jsonl, $(awk -v b="${bytes[slop]:-0}" 'BEGIN { printf "%.1f", b / 1e6 }') MB"
  echo
  echo "| run | threads | wall s | CPU s | MB/s | MB per CPU-s | 2t / 1t | vs passthrough | peak RSS MiB | 1t = 2t files |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  row passthrough-t1 "passthrough (read, parse, write)"
  row passthrough-t2 "passthrough (read, parse, write)"
  row prompts-t1 "fingerprint.profile, prompts by source"
  row prompts-t2 "fingerprint.profile, prompts by source"
  if [[ -n ${bytes[slop]:-} ]]; then
    row slop-t1 "fingerprint.profile, slop outputs by model"
    row slop-t2 "fingerprint.profile, slop outputs by model"
  fi
  echo
  echo "\"vs passthrough\" = passthrough wall time / profile wall time at the same thread count (1.00: no cost over the floor)."
  echo "MB per CPU-s = input bytes / (user + system) seconds: the per-core cost, steadier than wall time on a busy machine."
} | tee "$report"
log "table saved to ${report#"$root"/}"
