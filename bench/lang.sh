#!/usr/bin/env bash
# lang.identify throughput, plain CLD2 (fast_path: false) against the fast path, at 1 and 2 threads, on the
# 1M-record pool (bench/data/prompts-1m.jsonl, mostly English) and on a multilingual pool (bench/data/
# multilingual-200k.jsonl: en 30%, fr/de/es/it/ru/zh/ja 10% each); and how often the two modes agree.
# Prints the Markdown tables quoted in docs/languages.md.
#
#   bench/lang.sh                  3 rounds (each row: its best run)
#   REPEAT=1 bench/lang.sh         one round
#   FILES=multilingual bench/lang.sh   only the multilingual pool (FILES=prompts: only the 1M pool)
#
# Steps: build tamis and the lang, filter and map plugins in Release into build-lang-bench/; generate the pools
# when missing (prompts-1m.jsonl with bench/gen_prompts, seed 42, exactly as bench/run.sh does; an
# existing file is never regenerated; the multilingual pool with bench/gen_multilingual.py, seed 7);
# warm the page cache; then per round, for each pool, run interleaved: the baseline (a stage that
# parses the problem field and writes the record: bench/pipelines/lang-annotate-baseline.yaml), lang.identify
# plain, lang.identify fast (bench/pipelines/lang-langid.yaml), each at 1 and 2 threads. MB/s is the input size
# over the run's own time (report.json). Outputs go to /dev/shm (tmpfs).
# Finally: the 1- and 2-thread outputs are compared byte for byte, and the `lang` annotations of the two
# modes record by record (and against the pools' meta.lang).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
repeat=${REPEAT:-3}
files=${FILES:-prompts,multilingual}
build_dir=build-lang-bench
if ! [[ $repeat =~ ^[1-9][0-9]*$ ]]; then
  echo "lang.sh: REPEAT must be a positive integer" >&2
  exit 2
fi
log() { echo "lang.sh: $*" >&2; }

out=/dev/shm/tamis-lang-bench-$$
[[ -d /dev/shm && -w /dev/shm ]] || out=$root/bench/out-lang-$$
mkdir -p "$out"
trap 'rm -rf -- "$out"' EXIT

# --- build ------------------------------------------------------------------------------------------------
log "building in $build_dir (Release)"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTAMIS_BUILD_TESTS=OFF >"$out/build.log" 2>&1 ||
  { tail -n 30 "$out/build.log" >&2; exit 1; }
cmake --build "$build_dir" -j2 --target tamis tamis_filter tamis_map tamis_lang tamis_gen_prompts >>"$out/build.log" 2>&1 ||
  { tail -n 30 "$out/build.log" >&2; exit 1; }
tamis=$root/$build_dir/core/tamis

# --- data -------------------------------------------------------------------------------------------------
mkdir -p bench/data
declare -A input
if [[ $files == *prompts* ]]; then
  input[prompts]=$root/bench/data/prompts-1m.jsonl
  if [[ ! -s ${input[prompts]} ]]; then
    log "generating bench/data/prompts-1m.jsonl (1000000 records, seed 42)"
    "$root/$build_dir/bench/gen_prompts" --records 1000000 --seed 42 --out "${input[prompts]}.partial"
    mv "${input[prompts]}.partial" "${input[prompts]}"
  fi
fi
if [[ $files == *multilingual* ]]; then
  input[multilingual]=$root/bench/data/multilingual-200k.jsonl
  if [[ ! -s ${input[multilingual]} ]]; then
    log "generating bench/data/multilingual-200k.jsonl (200000 records, seed 7)"
    /usr/bin/python3 bench/gen_multilingual.py --records 200000 --seed 7 --out "${input[multilingual]}"
  fi
fi
pools=()
for pool in prompts multilingual; do [[ -n ${input[$pool]:-} ]] && pools+=("$pool"); done

# --- runs -------------------------------------------------------------------------------------------------
declare -A best
# run_one POOL CONFIG THREADS: one run; keeps the best MB/s of the key.
run_one() {
  local pool=$1 config=$2 threads=$3 key dir pipeline set=()
  key=$pool-$config-t$threads
  dir=$out/$key
  mkdir -p "$dir"
  case $config in
    baseline) pipeline=bench/pipelines/lang-annotate-baseline.yaml ;;
    plain) pipeline=bench/pipelines/lang-langid.yaml; set=(--set langid.fast_path=false) ;;
    fast) pipeline=bench/pipelines/lang-langid.yaml ;;
  esac
  BENCH_INPUT=${input[$pool]} BENCH_OUT=$dir "$tamis" run "$pipeline" --threads "$threads" "${set[@]}" \
    >"$dir/run.log" 2>&1 || { log "$key failed:"; tail -n 5 "$dir/run.log" >&2; exit 1; }
  local report mbs
  report=$(ls "$dir"/*.report.json)
  mbs=$(grep -o '"mb_per_second": [0-9.e+-]*' "$report" | cut -d' ' -f2)
  if [[ -z ${best[$key]:-} ]] || awk -v a="$mbs" -v b="${best[$key]}" 'BEGIN { exit !(a > b) }'; then
    best[$key]=$mbs
    cp "$report" "$out/$key.best-report.json"
  fi
  log "$key: $(printf '%.1f' "$mbs") MB/s"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for pool in "${pools[@]}"; do cat "${input[$pool]}" >/dev/null; done
for ((round = 1; round <= repeat; ++round)); do
  for pool in "${pools[@]}"; do
    for threads in 1 2; do
      for config in baseline plain fast; do run_one "$pool" "$config" "$threads"; done
    done
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- tables -----------------------------------------------------------------------------------------------
mbs() { printf '%.1f' "${best[$1]}"; }
ratio() { awk -v a="${best[$1]}" -v b="${best[$2]}" 'BEGIN { printf "%.2fx", a / b }'; }
counter() { grep -o "\"decided_by_$2\": [0-9]*" "$out/$1.best-report.json" | cut -d' ' -f2 || echo 0; }

echo "## lang.identify throughput ($(date -u +%Y-%m-%d), $(nproc) CPUs, best of $repeat, load $load_start -> $load_end)"
echo
echo "| pool | records | MB | baseline t1 / t2 (MB/s) | plain CLD2 t1 / t2 | fast path t1 / t2 | fast / plain t1 / t2 | t2 / t1 plain, fast |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for pool in "${pools[@]}"; do
  records=$(grep -o '"read": [0-9]*' "$out/$pool-fast-t1.best-report.json" | cut -d' ' -f2)
  mb=$(awk -v b="$(stat -c %s "${input[$pool]}")" 'BEGIN { printf "%.0f", b / 1e6 }')
  echo "| $pool | $records | $mb | $(mbs $pool-baseline-t1) / $(mbs $pool-baseline-t2) | $(mbs $pool-plain-t1) / $(mbs $pool-plain-t2)" \
       "| $(mbs $pool-fast-t1) / $(mbs $pool-fast-t2) | $(ratio $pool-fast-t1 $pool-plain-t1) / $(ratio $pool-fast-t2 $pool-plain-t2)" \
       "| $(ratio $pool-plain-t2 $pool-plain-t1), $(ratio $pool-fast-t2 $pool-fast-t1) |"
done
echo
echo "Who decided, fast path (records): script / words (fast path), cld2, check (after CLD2), short (und)"
echo
for pool in "${pools[@]}"; do
  k=$pool-fast-t1
  echo "- $pool: script $(counter $k script), words $(counter $k words), cld2 $(counter $k cld2), check $(counter $k check), short $(counter $k short)"
done
echo
echo "## Agreement and determinism"
echo
for pool in "${pools[@]}"; do
  for config in plain fast; do
    if cmp -s "$out/$pool-$config-t1/langid.jsonl" "$out/$pool-$config-t2/langid.jsonl"; then
      echo "- $pool, $config: 1- and 2-thread outputs byte-identical"
    else
      echo "- $pool, $config: 1- and 2-thread outputs DIFFER"
    fi
  done
  /usr/bin/python3 - "$pool" "$out/$pool-plain-t1/langid.jsonl" "$out/$pool-fast-t1/langid.jsonl" <<'EOF'
import collections, json, sys
pool, plain_path, fast_path = sys.argv[1:]
n = agree = 0
truth = collections.Counter()  # (mode, outcome)
confusions = collections.Counter()
with open(plain_path, encoding="utf-8") as a, open(fast_path, encoding="utf-8") as b:
    for la, lb in zip(a, b):
        ra, rb = json.loads(la), json.loads(lb)
        pa, pb = ra["tamis"]["lang"], rb["tamis"]["lang"]
        n += 1
        agree += pa == pb
        if pa != pb:
            confusions[(pa, pb)] += 1
        meta = ra.get("meta")
        gold = meta.get("lang") if isinstance(meta, dict) else None
        if gold:
            for mode, got in (("plain", pa), ("fast", pb)):
                truth[(mode, "und" if got == "und" else ("right" if got == gold else "wrong"))] += 1
print(f"- {pool}: plain and fast path give the same lang on {agree} of {n} records ({100.0 * agree / n:.3f}%)"
      + (f"; differences (plain -> fast): {dict(confusions.most_common(8))}" if confusions else ""))
for mode in ("plain", "fast"):
    r, w, u = truth[(mode, "right")], truth[(mode, "wrong")], truth[(mode, "und")]
    if r + w:
        print(f"  - {mode} against meta.lang: {r} right, {w} wrong, {u} und ({100.0 * r / (r + w):.3f}% of those detected)")
EOF
done
echo
echo "Command: \`bench/lang.sh\` (REPEAT=$repeat, FILES=$files)."
