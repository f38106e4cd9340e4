#!/usr/bin/env bash
# Rows per second and peak RSS of the Parquet writer and reader (docs/parquet.md), on ROWS (default
# 1,000,000) generated verl-shaped rows:
#
#   BUILD=build-parquet ROWS=1000000 bench/parquet.sh
#
# Builds a small driver against BUILD's libtamis_core.a (BUILD must be configured with DuckDB: see
# scripts/install-deps.sh), generates the JSONL into a scratch folder (removed at the end), then times
#   write   write_parquet_from_jsonl with the verl schema declared (zstd, 100,000-row row groups)
#   infer   the same with the schema inferred
#   read    ParquetFileReader over the file, 4 MiB chunks (every row turned into JSON text)
# each in its own process under /usr/bin/time (peak RSS), and prints one Markdown table.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
build=${BUILD:-build}
rows=${ROWS:-1000000}
duckdb=${TAMIS_DUCKDB_ROOT:-/opt/tamis-deps/duckdb-1.4.4}
[[ -f $build/core/libtamis_core.a ]] || { echo "parquet.sh: no $build/core/libtamis_core.a (cmake --build $build --target tamis_core)" >&2; exit 2; }
[[ -f $duckdb/lib/libduckdb.so ]] || { echo "parquet.sh: no DuckDB in $duckdb (scripts/install-deps.sh)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/driver.cpp" <<'EOF'
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include <duckdb.h>

#include "io/parquet_reader.hpp"
#include "io/parquet_writer.hpp"

using namespace tamis::io;

int main(int argc, char** argv) {
  const std::string mode = argv[1];
  const auto start = std::chrono::steady_clock::now();
  uint64_t rows = 0, bytes = 0;
  if (mode == "version") {
    std::printf("%s\n", duckdb_library_version());
    return 0;
  }
  if (mode == "gen") {  // problems of 20-60 words drawn by a fixed LCG: about as compressible as real ones
    static const char* kWords[] = {"triangle", "integer", "sum", "roots", "polynomial", "probability", "circle",
                                   "radius", "prime", "divisible", "sequence", "real", "number", "function",
                                   "maximum", "area", "digits", "remainder", "positive", "distinct", "equal",
                                   "square", "angle", "$x$", "$n^2+1$", "$\\\\frac{a}{b}$", "points", "least"};
    std::ofstream out(argv[2]);
    const long n = std::stol(argv[3]);
    uint64_t state = 42;
    for (long i = 0; i < n; ++i) {
      std::string text;
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const int words = 20 + static_cast<int>((state >> 33) % 41);
      for (int w = 0; w < words; ++w) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        text += kWords[(state >> 33) % (sizeof kWords / sizeof *kWords)];
        text += w % 9 == 8 ? ". " : " ";
      }
      out << "{\"data_source\":\"" << (i % 3 ? "DigitalLearningGmbH/MATH-lighteval" : "openai/gsm8k")
          << "\",\"prompt\":[{\"role\":\"user\",\"content\":\"Problem " << i << ": " << text
          << "Let's think step by step and output the final answer within \\\\boxed{}.\"}],"
          << "\"ability\":\"math\",\"reward_model\":{\"style\":\"rule\",\"ground_truth\":\"" << -(i % 97)
          << "\"},\"extra_info\":{\"index\":" << i << ",\"split\":\"train\",\"pass_rate\":" << (i % 8) / 8.0 << "}}\n";
    }
    return 0;
  }
  if (mode == "write" || mode == "infer") {
    ParquetWriteOptions options;
    if (mode == "write") {
      options.schema = parse_parquet_schema(
          "data_source: string, prompt: list<struct<role: string, content: string>>, ability: string, "
          "reward_model: struct<style: string, ground_truth: string>, extra_info: json");
    }
    rows = write_parquet_from_jsonl(argv[2], argv[3], options).rows;
  } else {
    ReaderLimits limits;
    BufferPool pool(limits.chunk_bytes);
    ParquetFileReader reader(argv[2], limits, pool);
    LineChunk chunk;
    while (reader.next(chunk)) {
      rows += chunk.lines.size();
      bytes += chunk.bytes;
      pool.put(std::move(chunk.buffer));
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s %llu %.3f %llu\n", mode.c_str(), static_cast<unsigned long long>(rows), s, static_cast<unsigned long long>(bytes));
  return 0;
}
EOF
c++ -O2 -std=c++20 -DTAMIS_HAVE_PARQUET=1 -I"$root/core/src" -I"$duckdb/include" "$work/driver.cpp" -o "$work/driver" \
  "$build/core/libtamis_core.a" -L"$duckdb/lib" -lduckdb -Wl,-rpath,"$duckdb/lib" -lsimdjson -lzstd -lz

measure() {  # prints "rows seconds peak_rss_kib"
  /usr/bin/time -f '%M' -o "$work/rss" "$work/driver" "$@" >"$work/out"
  echo "$(awk '{print $2, $3}' "$work/out") $(cat "$work/rss")"
}
"$work/driver" gen "$work/in.jsonl" "$rows"
jsonl_mb=$(( $(stat -c %s "$work/in.jsonl") >> 20 ))
read -r w_rows w_s w_rss < <(measure write "$work/in.jsonl" "$work/out.parquet")
parquet_mb=$(( $(stat -c %s "$work/out.parquet") >> 20 ))
read -r i_rows i_s i_rss < <(measure infer "$work/in.jsonl" "$work/inferred.parquet")
read -r r_rows r_s r_rss < <(measure read "$work/out.parquet")
row() { awk -v n="$1" -v r="$2" -v s="$3" -v m="$4" 'BEGIN { printf "| %s | %d | %.2f | %.0f | %.0f |\n", n, r, s, r / s, m / 1024 }'; }
echo "DuckDB $("$work/driver" version), $rows rows: JSONL $jsonl_mb MiB, Parquet (zstd) $parquet_mb MiB; $(nproc) cores"
echo
echo "| step | rows | seconds | rows/s | peak RSS (MiB) |"
echo "| --- | --- | --- | --- | --- |"
row "write, declared schema" "$w_rows" "$w_s" "$w_rss"
row "write, inferred schema" "$i_rows" "$i_s" "$i_rss"
row "read (rows as JSON)" "$r_rows" "$r_s" "$r_rss"
