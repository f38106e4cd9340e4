// The Parquet writer: turns a finished JSONL file (one JSON object per line, as a run's sink wrote it)
// into a Parquet file with a declared or inferred schema (docs/parquet.md).
//
//   io::ParquetWriteOptions options;
//   options.schema = io::parse_parquet_schema(
//       "data_source: string, prompt: list<struct<role: string, content: string>>, ability: string, "
//       "reward_model: struct<style: string, ground_truth: string>, extra_info: json");
//   io::write_parquet_from_jsonl("out.jsonl.tmp", ".out.parquet.tmp", options);
//
// Two passes over the JSONL file, each streaming (memory bounded by a chunk of lines and a row group):
//   1. tamis reads every line (io/jsonl_reader.hpp) and checks it against the declared schema, or infers
//      one (the rule is at infer below). A value that does not fit is an error naming the file, the line
//      and the column (e.g. "prompt[1].role: expected a string, got a number").
//   2. DuckDB (its C API, libduckdb.so) reads the file with that schema and writes the Parquet file:
//      compression zstd (default) or snappy, row groups of `row_group_rows` rows, one thread, so that
//      the same input gives the same bytes. The file is fsynced.
// Built only when CMake found DuckDB (TAMIS_HAVE_PARQUET).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "io/atomic_writer.hpp"
#include "io/jsonl_reader.hpp"

namespace tamis::io {

// A column's type: what JSON values it takes and the Parquet type it is written as.
struct ParquetType {
  enum class Kind {
    string,     // JSON string → BYTE_ARRAY (UTF8)
    boolean,    // true/false → BOOLEAN
    int32,      // JSON integer within int32 → INT32
    int64,      // JSON integer within int64 → INT64
    float32,    // any JSON number → FLOAT
    float64,    // any JSON number → DOUBLE
    json,       // any JSON value, kept as its (minified) text → BYTE_ARRAY (JSON)
    list,       // JSON array → LIST of `children[0]`
    structure,  // JSON object with the keys `names` → group of `children`
  };
  Kind kind = Kind::json;
  std::vector<std::string> names;     // structure: field names, in order
  std::vector<ParquetType> children;  // list: the element type; structure: the field types

  bool operator==(const ParquetType&) const = default;
};

// The top-level columns, in order: a structure type.
using ParquetSchema = ParquetType;

// Thrown for a schema text that does not parse; the message says where.
class ParquetSchemaError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// "name: type, name: type, ..." with type one of string, bool, int32, int64, float, double, json,
// list<type>, struct<name: type, ...>; a name is bare (letters, digits, _ - . /) or "double-quoted".
ParquetSchema parse_parquet_schema(std::string_view text);
// One type, e.g. "list<struct<role: string, content: string>>".
ParquetType parse_parquet_type(std::string_view text);
// The text that parse_parquet_schema reads back.
std::string to_string(const ParquetSchema& schema);
std::string type_to_string(const ParquetType& type);

enum class ParquetCompression { zstd, snappy, uncompressed };

struct ParquetWriteOptions {
  // The columns; absent: inferred from every line (infer below).
  std::optional<ParquetSchema> schema;
  ParquetCompression compression = ParquetCompression::zstd;
  uint64_t row_group_rows = 100000;  // rows per row group (the writer holds one row group in memory)
  // A top-level or nested key that the declared schema does not name: an error (default), or dropped.
  bool drop_undeclared_keys = false;
  size_t max_line_bytes = kDefaultMaxLineBytes;  // a longer line is an error
  std::string memory_limit = "1GB";              // DuckDB's memory limit
};

struct ParquetWriteResult {
  uint64_t rows = 0;
  ParquetSchema schema;  // the one written (the declared one, or the inferred one)
};

// The schema inferred from every line of `jsonl_path`. Rule: the columns are the top-level keys in the
// order of first appearance; a field's type unifies the values it has on every line where it is not
// null: all strings → string, all booleans → bool, all integers within int64 → int64, integers and
// other numbers → double, all arrays → list of the unified element type, all objects → struct of the
// unified fields (in order of first appearance), anything else (a mix such as string and number, or
// only nulls and empty arrays) → json. Throws WriteError (naming the line) for a line that is not a
// JSON object, ReadError for a file that cannot be read.
ParquetSchema infer_parquet_schema(const std::string& jsonl_path, size_t max_line_bytes = kDefaultMaxLineBytes);

// Writes `parquet_path` (created or replaced in place: give it a temporary path) from `jsonl_path`.
// Throws WriteError naming the file (and the line and column for a value that does not fit the schema),
// ReadError when the JSONL file cannot be read. Empty input: a Parquet file of no rows with the declared
// schema; with no declared schema it is an error (no column to infer).
ParquetWriteResult write_parquet_from_jsonl(const std::string& jsonl_path, const std::string& parquet_path,
                                            const ParquetWriteOptions& options = {});

}  // namespace tamis::io
