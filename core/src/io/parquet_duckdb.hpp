// What the Parquet reader and writer share: an in-process DuckDB database (io/parquet_reader.hpp,
// io/parquet_writer.hpp; docs/parquet.md). Internal to those two files; built only with TAMIS_HAVE_PARQUET.
#pragma once

#include <duckdb.h>

#include "io/duckdb_api.hpp"

#include <string>
#include <string_view>

namespace tamis::io::parquet_detail {

// DuckDB's settings for one reader or writer.
struct DuckdbSettings {
  int threads = 1;                    // DuckDB's own worker threads
  std::string memory_limit = "1GB";   // DuckDB's buffer manager limit (e.g. "512MB")
};

// An in-memory database and one connection to it; no extension is ever installed or loaded (Parquet
// and JSON are built into the library), and no file other than those named in the queries is touched.
class Duckdb {
 public:
  // `what` prefixes every error (the file the database works on). Throws `Error`.
  template <class Error>
  static Duckdb open(const DuckdbSettings& settings, const std::string& what);
  ~Duckdb();
  Duckdb(Duckdb&& other) noexcept;
  Duckdb& operator=(Duckdb&&) = delete;
  Duckdb(const Duckdb&) = delete;

  duckdb_connection connection() const { return connection_; }

 private:
  Duckdb() = default;
  // "" on success, else why.
  std::string init(const DuckdbSettings& settings);
  duckdb_database database_ = nullptr;
  duckdb_connection connection_ = nullptr;
};

template <class Error>
Duckdb Duckdb::open(const DuckdbSettings& settings, const std::string& what) {
  Duckdb db;
  if (std::string why = db.init(settings); !why.empty()) throw Error(what + ": cannot start DuckDB: " + why);
  return db;
}

// `text` as an SQL string literal ('...', quotes doubled).
std::string sql_string(std::string_view text);
// `text` as an SQL identifier ("...", quotes doubled).
std::string sql_identifier(std::string_view text);
// The first line of a DuckDB error message (the rest is the query with a caret).
std::string first_line(const char* message);
// Whether a file name would be taken as a glob pattern by DuckDB's file functions (*, ?, [).
bool has_glob_characters(std::string_view path);
// The version of the DuckDB library loaded (e.g. "v1.4.4").
std::string duckdb_version();

}  // namespace tamis::io::parquet_detail
