#!/usr/bin/env bash
# dedup.minhash at 1 and 2 threads, two builds interleaved (old 1t, new 1t, old 2t, new 2t per round, so
# that a slow phase of a shared machine hits both alike), on the bench file and on its first HEAD
# records: best wall seconds, records/s, the 2t/1t ratio of each build, serial share and index bytes per
# record (from the run report), peak RSS (/usr/bin/time).
#
#   OLD=/path/to/old/build NEW=build-minhash ROUNDS=3 HEAD=100000 bench/minhash_scaling.sh
#
# OLD and NEW are build directories (core/tamis and plugins/ of a Release build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OLD=${OLD:?set OLD to the older build directory}
NEW=${NEW:?set NEW to the newer build directory}
ROUNDS=${ROUNDS:-3}
HEAD=${HEAD:-100000}
input=${BENCH_INPUT:-$PWD/bench/data/prompts-1m.jsonl}
work=$(mktemp -d /dev/shm/mhs.XXXXXX)
trap 'rm -rf "$work"' EXIT
head -n "$HEAD" "$input" > "$work/head.jsonl"
export BENCH_OUT=$work
for ((r = 1; r <= ROUNDS; ++r)); do
  for file in "$work/head.jsonl" "$input"; do
    for t in 1 2; do
      for side in old new; do
        dir=$OLD; [[ $side == new ]] && dir=$NEW
        s=$EPOCHREALTIME
        BENCH_INPUT=$file TAMIS_PLUGIN_PATH= /usr/bin/time -f %M -o "$work/rss" "$dir/core/tamis" run bench/pipelines/dedup-minhash.yaml \
          --threads "$t" > /dev/null 2>&1 || { echo "minhash_scaling.sh: $side failed" >&2; exit 1; }
        e=$EPOCHREALTIME
        rep=$work/dedup-minhash.report.json
        read -r recs < <(grep -o '"read": [0-9]*' "$rep" | grep -o '[0-9]*$')
        stage=$(grep -o '"seconds": [0-9.]*, "time_share"' "$rep" | grep -o '[0-9.]*' | head -1)
        serial=$(grep -o '"serial_seconds": [0-9.]*' "$rep" | grep -o '[0-9.]*$')
        idx=$(grep -o '"index_bytes":[0-9]*' "$rep" | grep -o '[0-9]*$')
        echo "$(basename "$file") $t $side $(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }') $recs $stage $serial $idx $(cat "$work/rss")" >> "$work/times"
      done
    done
  done
done
echo "| file | threads | build | best s | records/s | 2t/1t (best) | serial share (1t) | index bytes/record | peak RSS MiB |"
echo "|---|---:|---|---:|---:|---:|---:|---:|---:|"
awk '
  { k = $1 " " $2 " " $3; if (!(k in best) || $4 < best[k]) { best[k] = $4 }; recs[$1] = $5
    if ($2 == 1) { ser[$1 " " $3] = $7 / $6 }; idx[$1 " " $3] = $8; rss[k] = $9 }
  END {
    n = split("head.jsonl " "'"$(basename "$input")"'", files, " ")
    for (i = 1; i <= n; ++i) for (t = 1; t <= 2; ++t) for (j = 1; j <= 2; ++j) {
      side = j == 1 ? "old" : "new"; f = files[i]; k = f " " t " " side
      ratio = t == 2 ? sprintf("%.2fx", best[f " 1 " side] / best[k]) : ""
      sh = t == 1 ? sprintf("%.0f%%", 100 * ser[f " " side]) : ""
      printf "| %s (%d) | %d | %s | %.3f | %.0fK | %s | %s | %.0f | %.0f |\n", f, recs[f], t, side, best[k], recs[f] / best[k] / 1000, ratio, sh, idx[f " " side] / recs[f], rss[k] / 1024
    }
  }' "$work/times"
