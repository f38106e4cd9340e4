#!/usr/bin/env bash
# Peak memory (RSS) of `tamis run` on tiny, typical and huge records at 1, 2 and 8 threads, and on
# decompression bombs; prints a Markdown table (docs/performance.md, "Memory"; issue 13, items 4, 5).
#
#   bench/memory.sh                       tamis from build-bench/ (built if missing)
#   BUILD_DIR=build-x bench/memory.sh     another build directory (relative to the repository)
#   THREADS="1 2" bench/memory.sh         other thread counts (default "1 2 8")
#   BATCH_BYTES=1048576 bench/memory.sh   passes --batch-bytes (default: tamis's 4 MiB)
#   TAMIS=/path/to/tamis bench/memory.sh  measures that binary (its plugins found as it finds them)
#   INPUTS="tiny typical" PIPELINES=pass bench/memory.sh   a part of the table (default: all inputs
#                                         "tiny typical huge bombs", pipelines "pass dedup")
#
# Inputs, made in a temporary directory on each run (deterministic, nothing is downloaded):
#   tiny     6,000,000 records {"id":N,"problem":"pN"} (~170 MB; ~28 bytes a line)
#   typical  200,000 records of bench/gen_prompts, seed 42 (~105 MB; ~520 bytes a line)
#   huge     40 records of 5 MiB each (200 MiB)
#   bombs    1 GiB of zeros without a newline as .gz (gzip -9, ~1 MB) and as .zst (~33 KB), and one
#            endless JSON line of 1 GiB as .zst (~33 KB), each between two small records; and 17
#            valid records of 60 MB each, just under the default max_line_bytes (.zst, ~35 KB)
# Pipelines: "pass" (records sink, ledger, errors sink, report) and "dedup" (dedup.exact on problem,
# kept and rejected sinks, report); bombs run "pass" with on_error: skip and the default
# max_line_bytes. Peak RSS is GNU time's %M (maximum resident set size), in MB (10^6 bytes).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-build-bench}
threads_list=${THREADS:-1 2 8}
inputs=${INPUTS:-tiny typical huge bombs}
pipelines=${PIPELINES:-pass dedup}
batch_args=()
[[ -n ${BATCH_BYTES:-} ]] && batch_args=(--batch-bytes "$BATCH_BYTES")

tamis=${TAMIS:-$root/$build_dir/core/tamis}
gen=$root/$build_dir/bench/gen_prompts
if [[ ! -e $root/$build_dir/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$root/$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
if [[ -n ${TAMIS:-} ]]; then
  cmake --build "$root/$build_dir" -j2 --target tamis_gen_prompts >/dev/null
else
  cmake --build "$root/$build_dir" -j2 --target tamis tamis_filter tamis_map tamis_dedup tamis_gen_prompts >/dev/null
fi
[[ -x /usr/bin/time ]] || { echo "memory.sh: needs GNU time (/usr/bin/time)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tamis-memory.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# ---- inputs
awk 'BEGIN { for (i = 1; i <= 6000000; i++) printf "{\"id\":%d,\"problem\":\"p%d\"}\n", i, i }' >"$work/tiny.jsonl"
"$gen" --records 200000 --seed 42 --out "$work/typical.jsonl"
awk 'BEGIN { s = "x"; while (length(s) < 5242880) s = s s; s = substr(s, 1, 5242880)
             for (i = 1; i <= 40; i++) printf "{\"id\":%d,\"problem\":\"%d %s\"}\n", i, i, s }' >"$work/huge.jsonl"
first='{"id":"a","problem":"first"}'
last='{"id":"b","problem":"after"}'
{ echo "$first"; head -c 1073741824 /dev/zero; printf '\n%s\n' "$last"; } | gzip -9 >"$work/zeros.jsonl.gz"
{ echo "$first"; head -c 1073741824 /dev/zero; printf '\n%s\n' "$last"; } | zstd -q -19 -o "$work/zeros.jsonl.zst"
{ echo "$first"; printf '{"id":"x","problem":"'; head -c 1073741824 /dev/zero | tr '\0' a; printf '\n%s\n' "$last"; } |
  zstd -q -19 -o "$work/endless.jsonl.zst"
awk 'BEGIN { s = "a"; while (length(s) < 60000000) s = s s; s = substr(s, 1, 60000000)
             for (i = 1; i <= 17; i++) printf "{\"id\":\"n%d\",\"problem\":\"%s\"}\n", i, s }' |
  zstd -q -19 -o "$work/near-limit.jsonl.zst"

cat >"$work/pass.yaml" <<'EOF'
version: 1
sources:
  in: { path: "${MEM_INPUT}", id: id, on_error: skip }
sinks:
  kept:   { path: "${MEM_OUT}/kept.jsonl" }
  errors: { path: "${MEM_OUT}/errors.jsonl", errors: true }
  ledger: { path: "${MEM_OUT}/ledger.jsonl", ledger: true }
  report: { path: "${MEM_OUT}/report.json", report: true }
EOF
cat >"$work/dedup.yaml" <<'EOF'
version: 1
sources:
  in: { path: "${MEM_INPUT}", id: id }
stages:
  exact:
    uses: dedup.exact
    with: { fields: [problem] }
sinks:
  kept:     { path: "${MEM_OUT}/kept.jsonl", inputs: [exact] }
  rejected: { path: "${MEM_OUT}/rejected.jsonl", rejected: true }
  report:   { path: "${MEM_OUT}/report.json", report: true }
EOF

# measure PIPELINE INPUT THREADS: prints "peak_MB wall_s"
measure() {
  rm -rf "$work/out" && mkdir -p "$work/out"
  if ! MEM_INPUT=$work/$2 MEM_OUT=$work/out /usr/bin/time -f '%M %e' -o "$work/time" \
    "$tamis" run "$work/$1.yaml" --threads "$3" --quiet "${batch_args[@]}" >"$work/log" 2>&1; then
    echo "memory.sh: $1 on $2 at $3 threads failed:" >&2
    tail -n 5 "$work/log" >&2
    exit 1
  fi
  awk '{ printf "%.0f %s", $1 * 1024 / 1e6, $2 }' "$work/time"
}

echo "tamis $("$tamis" --version 2>/dev/null | head -n 1), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"
echo
header="| input | pipeline |"
rule="|---|---|"
for t in $threads_list; do
  header+=" ${t} thread(s): peak RSS, wall |"
  rule+="---|"
done
echo "$header"
echo "$rule"
for input in $inputs; do
  [[ $input == bombs ]] && continue
  for pipeline in $pipelines; do
    row="| $input ($(du -m "$work/$input.jsonl" | cut -f1) MB) | $pipeline |"
    for t in $threads_list; do
      res=$(measure "$pipeline" "$input.jsonl" "$t")
      row+=" ${res% *} MB, ${res#* } s |"
    done
    echo "$row"
  done
done
[[ " $inputs " == *" bombs "* ]] || exit 0
for bomb in zeros.jsonl.gz zeros.jsonl.zst endless.jsonl.zst near-limit.jsonl.zst; do
  row="| bomb $bomb ($(stat -c %s "$work/$bomb") bytes) | pass |"
  for t in $threads_list; do
    res=$(measure pass "$bomb" "$t")
    errors=$(stat -c %s "$work/out/errors.jsonl")
    row+=" ${res% *} MB, ${res#* } s (errors sink $((errors / 1000)) KB) |"
  done
  echo "$row"
done
