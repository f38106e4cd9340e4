#!/usr/bin/env bash
# What content ids cost a pass-through run (docs/pipeline-format.md, Record ids): the same file of N
# records that have an id field, read with `id: id` (ids from the field, records written as their input
# bytes) and without (content ids, written with the records as the id and source annotations),
# interleaved ROUNDS times: best wall seconds and peak RSS of each, and their ratio.
#
#   BUILD=build N=1000000 ROUNDS=3 THREADS=2 bench/content_ids.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${BUILD:-build}
N=${N:-1000000}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
work=$(mktemp -d /dev/shm/cids.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
awk -v n="$N" 'BEGIN { for (i = 0; i < n; ++i) printf "{\"id\":\"p%d\",\"q\":\"problem number %d about things\",\"a\":\"%d\"}\n", i, i, i }' > "$work/in.jsonl"
printf 'version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nsinks:\n  out: { path: out/field.jsonl }\n' > "$work/field.yaml"
printf 'version: 1\nsources:\n  s: { path: in.jsonl }\nsinks:\n  out: { path: out/content.jsonl }\n' > "$work/content.yaml"
declare -A best rss
for ((r = 1; r <= ROUNDS; ++r)); do
  for side in field content; do
    s=$EPOCHREALTIME
    TAMIS_PLUGIN_PATH= /usr/bin/time -f %M -o "$work/rss" "$BUILD/core/tamis" run "$work/$side.yaml" --threads "$THREADS" > /dev/null 2>&1
    e=$EPOCHREALTIME
    t=$(echo "$e - $s" | bc)
    if [[ -z ${best[$side]:-} ]] || (( $(echo "$t < ${best[$side]}" | bc) )); then best[$side]=$t; fi
    rss[$side]=$(cat "$work/rss")
  done
done
printf '%d records, %d threads, best of %d\n' "$N" "$THREADS" "$ROUNDS"
printf '  id: id        %6.2f s  %7d KB peak RSS\n' "${best[field]}" "${rss[field]}"
printf '  content ids   %6.2f s  %7d KB peak RSS\n' "${best[content]}" "${rss[content]}"
printf '  ratio         %6.2fx\n' "$(echo "${best[content]} / ${best[field]}" | bc -l)"
