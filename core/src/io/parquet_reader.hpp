// The Parquet file reader: one JSON object text per row, in file order, handed to the engine as the
// JSONL reader hands lines (io/jsonl_reader.hpp's LineChunk; docs/parquet.md for the type mapping).
//
//   io::BufferPool pool(4 << 20);
//   io::ParquetFileReader reader("train.parquet", io::ReaderLimits{}, pool);
//   io::LineChunk chunk;
//   while (reader.next(chunk)) for (const io::Line& l : chunk.lines) use(chunk.text(l), l.number);
//
// The rows come from DuckDB's Parquet reader (its C API, libduckdb.so: built only when CMake found it,
// TAMIS_HAVE_PARQUET) as a streaming result: DuckDB decodes a row group at a time and hands over
// vectors of at most 2048 rows, which this reader turns into JSON text itself (not DuckDB's to_json,
// which writes NaN and blob escapes that are not JSON). So memory is bounded by a row group's decoded
// columns plus one chunk, whatever the file's size.
//
// Each row becomes {"column": value, ...} with the file's columns in order: lists and arrays become
// JSON arrays, structs objects (every field, null ones included), maps objects (keys as text), strings
// strings, blobs strings in base64 (RFC 4648, padded), integers and decimals JSON numbers (never
// strings: an int64 or a decimal(38, 10) keeps every digit), floats the shortest text that reads back
// the same, NaN and ±infinity null, booleans booleans, dates "YYYY-MM-DD", times "HH:MM:SS[.ffffff]",
// timestamps "YYYY-MM-DDTHH:MM:SS[.ffffff]" ("Z" appended for UTC-adjusted ones, nanoseconds kept
// for nanosecond ones), intervals {"months":M,"days":D,"micros":U}, UUIDs their 36-character text,
// enums their label. Any other type (union, bit string, varint, time with time zone) fails the read,
// naming the file and the column.
//
// A chunk ends when its bytes plus `line_cost` per row reach `limits.chunk_bytes` (at least one row
// per chunk); each row is followed by a newline and, for the last one, the buffer's padding, so that
// every row has kPadding readable bytes after it. Line::number is the 1-based row number. A row whose
// JSON text is longer than `limits.max_line_bytes` is handed over as a LongLine (its first bytes, as
// the JSONL reader does). Errors (no such file, not a Parquet file, a damaged or truncated one, an
// unsupported type) are ReadError naming the file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "io/chunk_reader.hpp"
#include "io/jsonl_reader.hpp"

namespace tamis::io {

struct ParquetReadSettings {
  int threads = 1;                   // DuckDB's decoding threads (row order is the file's whatever the count)
  std::string memory_limit = "1GB";  // DuckDB's memory limit for this file
};

class ParquetFileReader final : public ChunkReader {
 public:
  // Opens the file and reads its footer. Throws ReadError naming the file.
  ParquetFileReader(const std::string& path, const ReaderLimits& limits, BufferPool& pool,
                    const ParquetReadSettings& settings = {});
  ~ParquetFileReader() override;
  ParquetFileReader(const ParquetFileReader&) = delete;
  ParquetFileReader& operator=(const ParquetFileReader&) = delete;

  // Fills `chunk` (its buffer comes from the pool) with the next rows; false after the last row.
  bool next(LineChunk& chunk) override;
  // The file's bytes times the share of its rows read so far (Parquet is not read front to back).
  uint64_t file_bytes_consumed() const override;
  // Rows started so far.
  uint64_t lines_started() const override { return rows_started_; }
  // The number of rows in the file (from its footer).
  uint64_t row_count() const { return row_count_; }

 private:
  struct State;
  std::string path_;
  ReaderLimits limits_;
  BufferPool& pool_;
  std::unique_ptr<State> state_;
  uint64_t rows_started_ = 0;
  uint64_t row_count_ = 0;
  uint64_t file_size_ = 0;
};

}  // namespace tamis::io
