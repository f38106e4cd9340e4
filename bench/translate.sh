#!/usr/bin/env bash
# translate.tag benchmark: records/s of translate.tag (tag mode with assign: balanced and hash, copy
# mode) and of translate.tag + translate.export, at 1 and 2 threads, next to a passthrough run of the
# same file measured in the same rounds. Prints a Markdown table (also saved to bench/results/translate.md).
#
#   bench/translate.sh                 bench/data/prompts-1m.jsonl (generated as bench/run.sh does, only if missing)
#   REPEAT=5 bench/translate.sh        rounds (each row: its best run by wall time; default 3)
#   BUILD_DIR=DIR bench/translate.sh   Release build dir (default build-bench, as bench/run.sh)
#   INPUT=FILE bench/translate.sh      another pool (records need id and meta.lang)
#
# Rows (`tamis run bench/pipelines/P.yaml --threads N`, outputs to /dev/shm):
#   passthrough          bench/pipelines/passthrough.yaml: read, parse, write; the floor of every row
#   tag, balanced        translate-tag.yaml, mode tag, assign balanced (the defaults)
#   tag, hash            translate-tag.yaml, mode tag, assign hash
#   copy                 translate-tag.yaml, mode copy (a tagged copy emitted per selected record)
#   tag + export         translate-export.yaml: also writes the Batch API request file
# Columns: wall and CPU seconds, records/s (input records / wall s), the CPU seconds above the
# passthrough run with the same threads and the records per such second (the cost of the translate
# stages alone; CPU time, unlike wall time, barely grows when other work shares the machine), 2-thread
# speedup, peak RSS, and whether the 1- and 2-thread outputs are byte-identical.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

repeat=${REPEAT:-3}
build_dir=${BUILD_DIR:-build-bench}
input=${INPUT:-$root/bench/data/prompts-1m.jsonl}
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "translate.sh: REPEAT must be a positive integer" >&2; exit 2; }
results=$root/bench/results
logs=$results/logs
mkdir -p "$logs" "$root/bench/data"
out=$(mktemp -d /dev/shm/tamis-translate-bench.XXXXXX 2>/dev/null || mktemp -d "$root/bench/out.XXXXXX")
cleanup() { [[ ${KEEP_OUTPUTS:-0} == 1 ]] || rm -rf -- "$out"; }
trap cleanup EXIT
log() { echo "translate.sh: $*" >&2; }

if [[ ! -x /usr/bin/time ]]; then
  log "installing GNU time (apt-get install -y time)"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >&2
fi

log "building tamis and the translate plugin in $build_dir (Release; log in bench/results/logs/translate-build.log)"
if ! { cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTAMIS_BUILD_TESTS=OFF &&
  cmake --build "$build_dir" -j2 --target tamis tamis_translate tamis_gen_prompts; } >"$logs/translate-build.log" 2>&1; then
  tail -n 30 "$logs/translate-build.log" >&2
  exit 1
fi
tamis=$root/$build_dir/core/tamis
if [[ ! -s $input ]]; then
  [[ $input == "$root/bench/data/prompts-1m.jsonl" ]] || { log "no input $input"; exit 2; }
  log "generating ${input#"$root"/} (1,000,000 records, seed 42, as bench/run.sh)"
  "$root/$build_dir/bench/gen_prompts" --records 1000000 --seed 42 --out "$input.partial"
  mv "$input.partial" "$input"
fi
records=$(wc -l <"$input")
cat "$input" >/dev/null  # page cache

declare -A wall rss cpu state
measure_once() {  # KEY CMD...: keeps the fastest run's wall time, peak RSS and CPU time
  local key=$1 w m u s start
  shift
  [[ ${state[$key]:-ok} == ok ]] || return 0
  start=$EPOCHREALTIME
  if ! /usr/bin/time -f '%M %U %S' -o "$logs/translate-$key.time" "$@" >"$logs/translate-$key.log" 2>&1; then
    state[$key]="failed (see bench/results/logs/translate-$key.log)"
    log "$key failed:"
    tail -n 5 "$logs/translate-$key.log" >&2
    return 0
  fi
  w=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
  read -r m u s <"$logs/translate-$key.time"
  if [[ -z ${wall[$key]:-} ]] || awk -v a="$w" -v b="${wall[$key]}" 'BEGIN { exit !(a < b) }'; then
    wall[$key]=$w
    rss[$key]=$m
    cpu[$key]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    cp "$out/$key/"*.report.json "$out/$key.best-report.json" 2>/dev/null || true
  fi
  state[$key]=ok
}

run_key() {  # KEY = NAME-tN
  local name=${1%-t*} threads=${1##*-t} pipeline mode=tag assign=balanced
  case $name in
    passthrough) pipeline=passthrough ;;
    balanced) pipeline=translate-tag ;;
    hash) pipeline=translate-tag assign=hash ;;
    copy) pipeline=translate-tag mode=copy ;;
    export) pipeline=translate-export ;;
  esac
  rm -rf "${out:?}/$1" && mkdir -p "$out/$1"
  measure_once "$1" env BENCH_INPUT="$input" BENCH_OUT="$out/$1" BENCH_MODE="$mode" BENCH_ASSIGN="$assign" \
    "$tamis" run "$root/bench/pipelines/$pipeline.yaml" --threads "$threads"
  # Keep the outputs of the last round only for the 1t = 2t comparison.
}

names=(passthrough balanced hash copy export)
keys=()
for n in "${names[@]}"; do keys+=("$n-t1" "$n-t2"); done
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
check[passthrough-t2]=$(same "$out/passthrough-t1" "$out/passthrough-t2" passthrough.jsonl)
for n in balanced hash copy; do check[$n-t2]=$(same "$out/$n-t1" "$out/$n-t2" translate-tag.jsonl); done
check[export-t2]=$(same "$out/export-t1" "$out/export-t2" translate-export.jsonl batch.1.jsonl batch.2.jsonl)

row() {  # KEY LABEL
  local key=$1 label=$2 threads=${1##*-t} name=${1%-t*} rate speedup="" extra="" xrate=""
  if [[ ${state[$key]:-} != ok ]]; then
    echo "| $label | $threads | ${state[$key]:-not run} | | | | | | | |"
    return
  fi
  rate=$(awk -v n="$records" -v s="${wall[$key]}" 'BEGIN { printf "%.0f", n / s }')
  if [[ $threads == 2 && ${state[$name-t1]:-} == ok ]]; then
    speedup=$(awk -v a="${wall[$name-t1]}" -v b="${wall[$key]}" 'BEGIN { printf "%.2fx", a / b }')
  fi
  if [[ $name != passthrough && ${state[passthrough-t$threads]:-} == ok ]]; then
    extra=$(awk -v a="${cpu[$key]}" -v b="${cpu[passthrough-t$threads]}" 'BEGIN { printf "%.2f", a - b }')
    xrate=$(awk -v n="$records" -v s="$extra" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
  fi
  echo "| $label | $threads | ${wall[$key]} | ${cpu[$key]} | $rate | $extra | $xrate | $speedup | $(awk -v k="${rss[$key]}" 'BEGIN { printf "%.0f", k / 1024 }') | ${check[$key]:-} |"
}

# What the default run selected (1 thread, assign balanced), from its report.
selection() {
  /usr/bin/python3 - "$out/balanced-t1.best-report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = next(s["report"] for s in r["stages"] if s["name"] == "tag")
langs = ", ".join(f"{k} {v:,}" for k, v in t["languages"].items())
b = t["balance"]
print(f"{t['selected']:,} of {t['source_records']:,} English records selected ({t['selected_share']:.4%}); {langs}; "
      f"largest deviation from the mean {b['max_deviation_from_mean']:.4%}, max/min {b['max_over_min']:.4f}")
PY
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (uncommitted changes)"
report=$results/translate.md
{
  echo "## tamis translate.tag benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs; load average at start: $load_at_start"
  echo "- build: Release (\`$build_dir\`), commit $commit; best of $repeat interleaved rounds"
  echo "- input: ${input#"$root"/}, $records records, $(stat -c %s "$input") bytes; records/s = input records / wall s;"
  echo "  extra CPU s = CPU s - CPU s of passthrough with the same threads; records per extra CPU s = the translate stages' own rate"
  echo
  echo "| run | threads | wall s | CPU s | records/s | extra CPU s | records / extra CPU s | 2t / 1t | peak RSS MiB | 1t = 2t output |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  row passthrough-t1 "passthrough"
  row passthrough-t2 "passthrough"
  row balanced-t1 "translate.tag, tag, assign balanced"
  row balanced-t2 "translate.tag, tag, assign balanced"
  row hash-t1 "translate.tag, tag, assign hash"
  row hash-t2 "translate.tag, tag, assign hash"
  row copy-t1 "translate.tag, copy"
  row copy-t2 "translate.tag, copy"
  row export-t1 "translate.tag + translate.export"
  row export-t2 "translate.tag + translate.export"
  echo
  [[ ${state[balanced-t1]:-} == ok ]] && echo "- selection (defaults): $(selection)"
  [[ ${state[export-t1]:-} == ok ]] && echo "- batch files: $(cat "$out/export-t1/"batch*.jsonl | wc -l) requests, $(cat "$out/export-t1/"batch*.jsonl | wc -c) bytes in $(ls "$out/export-t1/" | grep -c '^batch')"" file(s)"
} | tee "$report"
log "table saved to ${report#"$root"/}"
