#include "io/parquet_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <simdjson.h>

#include "io/parquet_duckdb.hpp"

namespace tamis::io {

namespace pd = parquet_detail;
using Kind = ParquetType::Kind;

// ---------------------------------------------------------------------------------------------------
// The schema text.

namespace {

class SchemaParser {
 public:
  explicit SchemaParser(std::string_view text) : text_(text) {}

  ParquetType fields(char close) {
    ParquetType t;
    t.kind = Kind::structure;
    skip();
    if (peek() == close) fail("expected a field name");
    while (true) {
      std::string name = field_name();
      for (const auto& n : t.names) {
        if (n == name) fail("field \"" + name + "\" is given twice");
      }
      skip();
      expect(':');
      t.names.push_back(std::move(name));
      t.children.push_back(type());
      skip();
      if (peek() == ',') {
        ++pos_;
        skip();
        continue;
      }
      if (peek() == close) return t;
      fail(close ? std::string("expected ',' or '") + close + "'" : "expected ',' or the end");
    }
  }

  ParquetType type() {
    skip();
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
    const std::string_view word = text_.substr(start, pos_ - start);
    ParquetType t;
    if (word == "string") {
      t.kind = Kind::string;
    } else if (word == "bool" || word == "boolean") {
      t.kind = Kind::boolean;
    } else if (word == "int32") {
      t.kind = Kind::int32;
    } else if (word == "int64") {
      t.kind = Kind::int64;
    } else if (word == "float" || word == "float32") {
      t.kind = Kind::float32;
    } else if (word == "double" || word == "float64") {
      t.kind = Kind::float64;
    } else if (word == "json") {
      t.kind = Kind::json;
    } else if (word == "list") {
      t.kind = Kind::list;
      skip();
      expect('<');
      t.children.push_back(type());
      skip();
      expect('>');
    } else if (word == "struct") {
      skip();
      expect('<');
      t = fields('>');
      expect('>');
    } else {
      pos_ = start;
      fail("expected a type (string, bool, int32, int64, float, double, json, list<...>, struct<...>)");
    }
    return t;
  }

  void end() {
    skip();
    if (pos_ != text_.size()) fail("unexpected text");
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string field_name() {
    if (peek() == '"') {
      std::string name;
      for (++pos_; pos_ < text_.size() && text_[pos_] != '"'; ++pos_) name += text_[pos_];
      if (pos_ == text_.size()) fail("unterminated quoted name");
      ++pos_;
      if (name.empty()) fail("empty field name");
      return name;
    }
    const size_t start = pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.' && c != '/') break;
      ++pos_;
    }
    if (pos_ == start) fail("expected a field name");
    return std::string(text_.substr(start, pos_ - start));
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw ParquetSchemaError("Parquet schema, at character " + std::to_string(pos_ + 1) + ": " + what + " in \"" +
                             std::string(text_) + "\"");
  }

  std::string_view text_;
  size_t pos_ = 0;
};

std::string name_text(const std::string& name) {
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.' && c != '/') return "\"" + name + "\"";
  }
  return name;
}

std::string fields_text(const ParquetType& t) {
  std::string out;
  for (size_t i = 0; i < t.names.size(); ++i) {
    if (i) out += ", ";
    out += name_text(t.names[i]) + ": " + type_to_string(t.children[i]);
  }
  return out;
}

// DuckDB's name of the type.
std::string duckdb_type(const ParquetType& t) {
  switch (t.kind) {
    case Kind::string: return "VARCHAR";
    case Kind::boolean: return "BOOLEAN";
    case Kind::int32: return "INTEGER";
    case Kind::int64: return "BIGINT";
    case Kind::float32: return "FLOAT";
    case Kind::float64: return "DOUBLE";
    case Kind::json: return "JSON";
    case Kind::list: return duckdb_type(t.children[0]) + "[]";
    case Kind::structure: {
      std::string out = "STRUCT(";
      for (size_t i = 0; i < t.names.size(); ++i) {
        if (i) out += ", ";
        out += pd::sql_identifier(t.names[i]) + " " + duckdb_type(t.children[i]);
      }
      return out + ")";
    }
  }
  return "JSON";
}

}  // namespace

ParquetSchema parse_parquet_schema(std::string_view text) {
  SchemaParser p(text);
  ParquetSchema s = p.fields('\0');
  p.end();
  return s;
}

ParquetType parse_parquet_type(std::string_view text) {
  SchemaParser p(text);
  ParquetType t = p.type();
  p.end();
  return t;
}

std::string type_to_string(const ParquetType& t) {
  switch (t.kind) {
    case Kind::string: return "string";
    case Kind::boolean: return "bool";
    case Kind::int32: return "int32";
    case Kind::int64: return "int64";
    case Kind::float32: return "float";
    case Kind::float64: return "double";
    case Kind::json: return "json";
    case Kind::list: return "list<" + type_to_string(t.children[0]) + ">";
    case Kind::structure: return "struct<" + fields_text(t) + ">";
  }
  return "json";
}

std::string to_string(const ParquetSchema& schema) { return fields_text(schema); }

// ---------------------------------------------------------------------------------------------------
// Pass 1: every line, checked or inferred.

namespace {

const char* json_kind(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: return "an array";
    case simdjson::dom::element_type::OBJECT: return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64: return "an integer";
    case simdjson::dom::element_type::DOUBLE: return "a number";
    case simdjson::dom::element_type::STRING: return "a string";
    case simdjson::dom::element_type::BOOL: return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

// A value that does not fit: where (built while unwinding) and why.
struct Misfit {
  std::string path;
  std::string what;
};

bool check(simdjson::dom::element e, const ParquetType& t, bool drop_undeclared, Misfit& misfit);

bool check_fields(simdjson::dom::object o, const ParquetType& t, bool drop_undeclared, Misfit& misfit) {
  for (auto field : o) {
    size_t i = 0;
    while (i < t.names.size() && t.names[i] != field.key) ++i;
    if (i == t.names.size()) {
      if (drop_undeclared) continue;
      misfit.path = "." + std::string(field.key);
      misfit.what = "a key the declared schema does not name";
      return false;
    }
    if (!check(field.value, t.children[i], drop_undeclared, misfit)) {
      misfit.path = "." + t.names[i] + misfit.path;
      return false;
    }
  }
  return true;
}

bool check(simdjson::dom::element e, const ParquetType& t, bool drop_undeclared, Misfit& misfit) {
  using ET = simdjson::dom::element_type;
  const ET et = e.type();
  if (et == ET::NULL_VALUE) return true;
  auto expected = [&](const char* what) {
    misfit.what = std::string("expected ") + what + ", got " + json_kind(e);
    return false;
  };
  switch (t.kind) {
    case Kind::json: return true;
    case Kind::string: return et == ET::STRING || expected("a string");
    case Kind::boolean: return et == ET::BOOL || expected("a boolean");
    case Kind::int32: {
      if (et == ET::INT64) {
        const int64_t v = e.get_int64().value_unsafe();
        if (v >= INT32_MIN && v <= INT32_MAX) return true;
        misfit.what = "integer " + std::to_string(v) + " out of the range of int32";
        return false;
      }
      if (et == ET::UINT64) {
        misfit.what = "integer out of the range of int32";
        return false;
      }
      return expected("an integer");
    }
    case Kind::int64:
      if (et == ET::INT64) return true;
      if (et == ET::UINT64) {
        misfit.what = "integer " + std::to_string(e.get_uint64().value_unsafe()) + " out of the range of int64";
        return false;
      }
      return expected("an integer");
    case Kind::float32:
    case Kind::float64: return et == ET::INT64 || et == ET::UINT64 || et == ET::DOUBLE || expected("a number");
    case Kind::list: {
      if (et != ET::ARRAY) return expected("an array");
      simdjson::dom::array array;
      if (e.get_array().get(array) != simdjson::SUCCESS) throw WriteError("internal error: a JSON value changed type");
      size_t i = 0;
      for (auto v : array) {
        if (!check(v, t.children[0], drop_undeclared, misfit)) {
          misfit.path = "[" + std::to_string(i) + "]" + misfit.path;
          return false;
        }
        ++i;
      }
      return true;
    }
    case Kind::structure:
      if (et != ET::OBJECT) return expected("an object");
      {
        simdjson::dom::object object;
        if (e.get_object().get(object) != simdjson::SUCCESS) throw WriteError("internal error: a JSON value changed type");
        return check_fields(object, t, drop_undeclared, misfit);
      }
  }
  return true;
}

// A type being inferred: `unknown` until a value that is not null is seen.
struct Inferred {
  enum class State { unknown, string, boolean, int64, float64, list, structure, json };
  State state = State::unknown;
  std::unique_ptr<Inferred> element;  // list
  std::vector<std::string> names;     // structure, in order of first appearance
  std::vector<Inferred> fields;
  std::map<std::string, size_t, std::less<>> index;

  void to_json() {
    state = State::json;
    element.reset();
    names.clear();
    fields.clear();
    index.clear();
  }

  void add_fields(simdjson::dom::object o) {
    for (auto field : o) {
      auto it = index.find(field.key);
      size_t i;
      if (it == index.end()) {
        i = fields.size();
        index.emplace(std::string(field.key), i);
        names.emplace_back(field.key);
        fields.emplace_back();
      } else {
        i = it->second;
      }
      fields[i].add(field.value);
    }
  }

  void add(simdjson::dom::element e) {
    using ET = simdjson::dom::element_type;
    if (state == State::json) return;
    State s;
    switch (e.type()) {
      case ET::NULL_VALUE: return;
      case ET::STRING: s = State::string; break;
      case ET::BOOL: s = State::boolean; break;
      case ET::INT64: s = State::int64; break;
      case ET::UINT64:
      case ET::DOUBLE: s = State::float64; break;
      case ET::ARRAY: s = State::list; break;
      case ET::OBJECT: s = State::structure; break;
      default: s = State::json; break;
    }
    if (state == State::unknown) {
      state = s;
      if (s == State::list) element = std::make_unique<Inferred>();
    } else if (state != s) {
      if ((state == State::int64 && s == State::float64) || (state == State::float64 && s == State::int64)) {
        state = State::float64;
      } else {
        to_json();
      }
      return;
    }
    if (s == State::list) {
      simdjson::dom::array array;
      if (e.get_array().get(array) != simdjson::SUCCESS) throw WriteError("internal error: a JSON value changed type");
      for (auto v : array) element->add(v);
    } else if (s == State::structure) {
      simdjson::dom::object object;
      if (e.get_object().get(object) != simdjson::SUCCESS) throw WriteError("internal error: a JSON value changed type");
      add_fields(object);
    }
  }

  ParquetType type() const {
    ParquetType t;
    switch (state) {
      case State::unknown:
      case State::json: t.kind = Kind::json; break;
      case State::string: t.kind = Kind::string; break;
      case State::boolean: t.kind = Kind::boolean; break;
      case State::int64: t.kind = Kind::int64; break;
      case State::float64: t.kind = Kind::float64; break;
      case State::list:
        t.kind = Kind::list;
        t.children.push_back(element->type());
        break;
      case State::structure:
        t.kind = Kind::structure;
        t.names = names;
        for (const auto& f : fields) t.children.push_back(f.type());
        break;
    }
    return t;
  }
};

// Reads every line of `path`: `fn(object, line_number)` for each; returns the number of lines (records).
template <class Fn>
uint64_t for_each_object(const std::string& path, size_t max_line_bytes, Fn&& fn) {
  BufferPool pool(4 << 20);
  ReaderLimits limits;
  limits.max_line_bytes = max_line_bytes;
  JsonlFileReader reader(path, limits, pool);
  simdjson::dom::parser parser;
  LineChunk chunk;
  uint64_t rows = 0;
  while (reader.next(chunk)) {
    if (chunk.truncated) throw ReadError(path + ": " + *chunk.truncated);
    size_t long_index = 0;
    for (size_t i = 0; i < chunk.lines.size(); ++i) {
      const Line& l = chunk.lines[i];
      if (long_index < chunk.long_lines.size() && chunk.long_lines[long_index].index == i) {
        throw WriteError(path + ":" + std::to_string(l.number) + ": line of " + std::to_string(chunk.long_lines[long_index].length) +
                         " bytes, longer than the maximum line size " + std::to_string(max_line_bytes));
      }
      simdjson::dom::element doc;
      if (auto error = parser.parse(chunk.buffer.data.get() + l.offset, l.size, false).get(doc)) {
        throw WriteError(path + ":" + std::to_string(l.number) + ": not valid JSON (" + simdjson::error_message(error) + ")");
      }
      if (doc.type() != simdjson::dom::element_type::OBJECT) {
        throw WriteError(path + ":" + std::to_string(l.number) + ": not a JSON object (a Parquet row is one object)");
      }
      simdjson::dom::object object;
      if (doc.get_object().get(object) != simdjson::SUCCESS) throw WriteError("internal error: a JSON value changed type");
      fn(object, l.number);
      ++rows;
    }
    pool.put(std::move(chunk.buffer));
  }
  return rows;
}

const char* codec_name(ParquetCompression c) {
  switch (c) {
    case ParquetCompression::zstd: return "zstd";
    case ParquetCompression::snappy: return "snappy";
    case ParquetCompression::uncompressed: return "uncompressed";
  }
  return "zstd";
}

}  // namespace

ParquetSchema infer_parquet_schema(const std::string& jsonl_path, size_t max_line_bytes) {
  Inferred top;
  top.state = Inferred::State::structure;
  for_each_object(jsonl_path, max_line_bytes, [&](simdjson::dom::object o, uint64_t) { top.add_fields(o); });
  return top.type();
}

// ---------------------------------------------------------------------------------------------------
// Pass 2: DuckDB writes the file.

ParquetWriteResult write_parquet_from_jsonl(const std::string& jsonl_path, const std::string& parquet_path,
                                            const ParquetWriteOptions& options) {
  for (const std::string* p : {&jsonl_path, &parquet_path}) {
    if (pd::has_glob_characters(*p)) {
      throw WriteError(*p + ": a file name with *, ? or [ is not supported by the Parquet writer (DuckDB reads it as a pattern)");
    }
  }
  if (options.row_group_rows == 0) throw WriteError(parquet_path + ": row_group_rows must be at least 1");
  ParquetWriteResult result;
  uint64_t rows = 0;
  if (options.schema) {
    if (options.schema->kind != Kind::structure || options.schema->names.empty()) {
      throw WriteError(parquet_path + ": the declared Parquet schema has no column");
    }
    result.schema = *options.schema;
    Misfit misfit;
    rows = for_each_object(jsonl_path, options.max_line_bytes, [&](simdjson::dom::object o, uint64_t line) {
      if (!check_fields(o, result.schema, options.drop_undeclared_keys, misfit)) {
        throw WriteError(jsonl_path + ":" + std::to_string(line) + ": column " + misfit.path.substr(1) + ": " + misfit.what +
                         " (declared schema: " + to_string(result.schema) + ")");
      }
    });
  } else {
    Inferred top;
    top.state = Inferred::State::structure;
    rows = for_each_object(jsonl_path, options.max_line_bytes, [&](simdjson::dom::object o, uint64_t) { top.add_fields(o); });
    result.schema = top.type();
    if (result.schema.names.empty()) {
      throw WriteError(parquet_path + ": no column to write: " + (rows ? "every record is {}" : "no record") +
                       " and no declared schema (declare one to write an empty Parquet file)");
    }
  }

  pd::Duckdb db = pd::Duckdb::open<WriteError>({1, options.memory_limit}, parquet_path);
  std::string columns = "{";
  for (size_t i = 0; i < result.schema.names.size(); ++i) {
    if (i) columns += ", ";
    columns += pd::sql_string(result.schema.names[i]) + ": " + pd::sql_string(duckdb_type(result.schema.children[i]));
  }
  columns += "}";
  // maximum_object_size: DuckDB's buffer for one line (it must hold the longest line pass 1 accepted).
  const size_t max_object = std::max<size_t>(options.max_line_bytes + 1, 1 << 20);
  const std::string query =
      "COPY (SELECT * FROM read_json(" + pd::sql_string(jsonl_path) +
      ", format = 'newline_delimited', records = true, columns = " + columns +
      ", maximum_object_size = " + std::to_string(max_object) + ")) TO " + pd::sql_string(parquet_path) +
      " (FORMAT parquet, COMPRESSION " + codec_name(options.compression) + ", ROW_GROUP_SIZE " +
      std::to_string(options.row_group_rows) + ", USE_TMP_FILE false)";
  duckdb_result res;
  if (pd::duckdb_api().duckdb_query(db.connection(), query.c_str(), &res) != DuckDBSuccess) {
    const std::string why = pd::first_line(pd::duckdb_api().duckdb_result_error(&res));
    pd::duckdb_api().duckdb_destroy_result(&res);
    ::unlink(parquet_path.c_str());
    throw WriteError(parquet_path + ": cannot write Parquet from " + jsonl_path + " (" + why + ")");
  }
  const auto written = static_cast<uint64_t>(pd::duckdb_api().duckdb_value_int64(&res, 0, 0));
  pd::duckdb_api().duckdb_destroy_result(&res);
  if (written != rows) {
    ::unlink(parquet_path.c_str());
    throw WriteError(parquet_path + ": DuckDB wrote " + std::to_string(written) + " rows, " + jsonl_path + " has " +
                     std::to_string(rows) + " records");
  }

  const int fd = ::open(parquet_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw WriteError(parquet_path + ": cannot fsync: " + why);
  }
  ::close(fd);
  result.rows = rows;
  return result;
}

}  // namespace tamis::io
