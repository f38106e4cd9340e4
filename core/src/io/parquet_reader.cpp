#include "io/parquet_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

#include <tamis/json.hpp>

#include "io/parquet_duckdb.hpp"

namespace tamis::io {

namespace pd = parquet_detail;

namespace {

constexpr char kHex[] = "0123456789abcdef";

// 128-bit integers (GCC and Clang): HUGEINT, UHUGEINT and wide decimals.
__extension__ typedef __int128 I128;
__extension__ typedef unsigned __int128 U128;

void append_json_string(std::string& out, const char* s, size_t n) { json::append_quoted(out, std::string_view(s, n)); }

void append_base64(std::string& out, const unsigned char* s, size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out += '"';
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{s[i]} << 16) | (uint32_t{s[i + 1]} << 8) | s[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < n) {
    const uint32_t v = (uint32_t{s[i]} << 16) | (i + 1 < n ? uint32_t{s[i + 1]} << 8 : 0);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  out += '"';
}

template <class T>
void append_number(std::string& out, T v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_float(std::string& out, double v, bool is_float) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  if (is_float) {
    append_number(out, static_cast<float>(v));
  } else {
    append_number(out, v);
  }
}

void append_u128(std::string& out, U128 v) {
  char buf[48];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v);
  out.append(p, buf + sizeof buf);
}

void append_i128(std::string& out, I128 v) {
  if (v < 0) {
    out += '-';
    append_u128(out, static_cast<U128>(-(v + 1)) + 1);
  } else {
    append_u128(out, static_cast<U128>(v));
  }
}

// A decimal's exact text: the unscaled integer with the point `scale` digits from the right.
void append_decimal(std::string& out, I128 v, unsigned scale) {
  std::string digits;
  if (v < 0) out += '-';
  append_u128(digits, v < 0 ? static_cast<U128>(-(v + 1)) + 1 : static_cast<U128>(v));
  if (scale == 0) {
    out += digits;
    return;
  }
  if (digits.size() <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
  out.append(digits, 0, digits.size() - scale);
  out += '.';
  out.append(digits, digits.size() - scale, scale);
}

void append_padded(std::string& out, int64_t v, int width) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v < 0 ? -v : v);
  if (v < 0) out += '-';
  for (auto n = r.ptr - buf; n < width; ++n) out += '0';
  out.append(buf, r.ptr);
}

// Days since 1970-01-01 → civil date (proleptic Gregorian).
void civil_from_days(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<int64_t>(z - era * 146097);
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
}

void append_date_text(std::string& out, int64_t days) {
  int64_t y;
  int m, d;
  civil_from_days(days, y, m, d);
  append_padded(out, y, 4);
  out += '-';
  append_padded(out, m, 2);
  out += '-';
  append_padded(out, d, 2);
}

// HH:MM:SS and, when not zero, a fraction of `digits` digits (6 or 9) without its trailing zeros.
void append_time_text(std::string& out, int64_t seconds_of_day, int64_t fraction, int digits) {
  append_padded(out, seconds_of_day / 3600, 2);
  out += ':';
  append_padded(out, seconds_of_day / 60 % 60, 2);
  out += ':';
  append_padded(out, seconds_of_day % 60, 2);
  if (fraction) {
    std::string f;
    append_padded(f, fraction, digits);
    while (f.back() == '0') f.pop_back();
    out += '.';
    out += f;
  }
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// A timestamp of `units` per second since the epoch.
void append_timestamp(std::string& out, int64_t v, int64_t units, int digits, bool utc) {
  if (v == INT64_MAX || v == -INT64_MAX) {
    out += v > 0 ? "\"infinity\"" : "\"-infinity\"";
    return;
  }
  const int64_t per_day = 86400 * units;
  const int64_t days = floor_div(v, per_day);
  const int64_t in_day = v - days * per_day;
  out += '"';
  append_date_text(out, days);
  out += 'T';
  append_time_text(out, in_day / units, in_day % units, digits);
  if (utc) out += 'Z';
  out += '"';
}

// One column or nested child of the result, with its vector of the current DuckDB chunk.
struct Node {
  duckdb_type type = DUCKDB_TYPE_INVALID;
  std::string name;                      // the column's or field's name, for errors
  std::vector<Node> children;            // list/array: 1; struct: its fields; map: key, value
  std::vector<std::string> keys;         // struct: the fields' names as JSON strings with a colon
  std::vector<std::string> enum_labels;  // enum: the labels as JSON strings
  duckdb_type internal = DUCKDB_TYPE_INVALID;  // decimal and enum storage
  unsigned scale = 0;
  idx_t array_size = 0;
  bool json_text = false;  // VARCHAR holding JSON text (Parquet's JSON type)
  // Bound per chunk:
  const void* data = nullptr;
  const uint64_t* validity = nullptr;
};

Node make_node(duckdb_logical_type type, const std::string& name, const std::string& path) {
  Node node;
  node.type = pd::duckdb_api().duckdb_get_type_id(type);
  node.name = name;
  auto child = [&](duckdb_logical_type t, const std::string& n) {
    node.children.push_back(make_node(t, n, path));
    pd::duckdb_api().duckdb_destroy_logical_type(&t);
  };
  if (node.type == DUCKDB_TYPE_VARCHAR) {
    // A column of Parquet's JSON logical type: its text is JSON already, written as is.
    char* alias = pd::duckdb_api().duckdb_logical_type_get_alias(type);
    node.json_text = alias && std::strcmp(alias, "JSON") == 0;
    pd::duckdb_api().duckdb_free(alias);
  }
  switch (node.type) {
    case DUCKDB_TYPE_BOOLEAN: case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE: case DUCKDB_TYPE_VARCHAR: case DUCKDB_TYPE_BLOB: case DUCKDB_TYPE_DATE:
    case DUCKDB_TYPE_TIME: case DUCKDB_TYPE_TIMESTAMP: case DUCKDB_TYPE_TIMESTAMP_S: case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: case DUCKDB_TYPE_TIMESTAMP_TZ: case DUCKDB_TYPE_INTERVAL: case DUCKDB_TYPE_UUID:
    case DUCKDB_TYPE_SQLNULL:
      break;
    case DUCKDB_TYPE_DECIMAL:
      node.internal = pd::duckdb_api().duckdb_decimal_internal_type(type);
      node.scale = pd::duckdb_api().duckdb_decimal_scale(type);
      break;
    case DUCKDB_TYPE_ENUM: {
      node.internal = pd::duckdb_api().duckdb_enum_internal_type(type);
      const uint32_t n = pd::duckdb_api().duckdb_enum_dictionary_size(type);
      for (uint32_t i = 0; i < n; ++i) {
        char* label = pd::duckdb_api().duckdb_enum_dictionary_value(type, i);
        node.enum_labels.emplace_back();
        append_json_string(node.enum_labels.back(), label, std::strlen(label));
        pd::duckdb_api().duckdb_free(label);
      }
      break;
    }
    case DUCKDB_TYPE_LIST:
      child(pd::duckdb_api().duckdb_list_type_child_type(type), name + "[]");
      break;
    case DUCKDB_TYPE_ARRAY:
      node.array_size = pd::duckdb_api().duckdb_array_type_array_size(type);
      child(pd::duckdb_api().duckdb_array_type_child_type(type), name + "[]");
      break;
    case DUCKDB_TYPE_MAP:
      child(pd::duckdb_api().duckdb_map_type_key_type(type), name + ".key");
      child(pd::duckdb_api().duckdb_map_type_value_type(type), name + ".value");
      break;
    case DUCKDB_TYPE_STRUCT: {
      const idx_t n = pd::duckdb_api().duckdb_struct_type_child_count(type);
      for (idx_t i = 0; i < n; ++i) {
        char* field = pd::duckdb_api().duckdb_struct_type_child_name(type, i);
        std::string key;
        append_json_string(key, field, std::strlen(field));
        key += ':';
        node.keys.push_back(std::move(key));
        child(pd::duckdb_api().duckdb_struct_type_child_type(type, i), name + "." + field);
        pd::duckdb_api().duckdb_free(field);
      }
      break;
    }
    default: {
      std::string what;
      switch (node.type) {
        case DUCKDB_TYPE_UNION: what = "UNION"; break;
        case DUCKDB_TYPE_BIT: what = "BIT"; break;
        case DUCKDB_TYPE_TIME_TZ: what = "TIME WITH TIME ZONE"; break;
        default: what = "DuckDB type " + std::to_string(static_cast<int>(node.type)); break;
      }
      throw ReadError(path + ": column " + name + " has a type tamis cannot turn into JSON (" + what +
                      "); docs/parquet.md lists the types read");
    }
  }
  return node;
}

void bind(Node& node, duckdb_vector vector) {
  node.data = pd::duckdb_api().duckdb_vector_get_data(vector);
  node.validity = pd::duckdb_api().duckdb_vector_get_validity(vector);
  switch (node.type) {
    case DUCKDB_TYPE_LIST:
      bind(node.children[0], pd::duckdb_api().duckdb_list_vector_get_child(vector));
      break;
    case DUCKDB_TYPE_ARRAY:
      bind(node.children[0], pd::duckdb_api().duckdb_array_vector_get_child(vector));
      break;
    case DUCKDB_TYPE_MAP: {
      duckdb_vector entries = pd::duckdb_api().duckdb_list_vector_get_child(vector);
      bind(node.children[0], pd::duckdb_api().duckdb_struct_vector_get_child(entries, 0));
      bind(node.children[1], pd::duckdb_api().duckdb_struct_vector_get_child(entries, 1));
      break;
    }
    case DUCKDB_TYPE_STRUCT:
      for (size_t i = 0; i < node.children.size(); ++i) bind(node.children[i], pd::duckdb_api().duckdb_struct_vector_get_child(vector, i));
      break;
    default:
      break;
  }
}

template <class T>
T at(const Node& node, idx_t row) {
  T v;
  std::memcpy(&v, static_cast<const char*>(node.data) + row * sizeof(T), sizeof(T));
  return v;
}

std::string_view string_at(const Node& node, idx_t row) {
  const auto* s = static_cast<const duckdb_string_t*>(node.data) + row;
  const uint32_t n = s->value.inlined.length;
  if (n <= 12) return {s->value.inlined.inlined, n};
  return {s->value.pointer.ptr, n};
}

I128 hugeint_at(const Node& node, idx_t row) {
  const auto h = at<duckdb_hugeint>(node, row);
  return static_cast<I128>((static_cast<U128>(static_cast<uint64_t>(h.upper)) << 64) | h.lower);
}

void write_value(const Node& node, idx_t row, std::string& out);

void write_map_key(const Node& node, idx_t row, std::string& out) {
  if (node.type == DUCKDB_TYPE_VARCHAR) {
    const auto s = string_at(node, row);
    append_json_string(out, s.data(), s.size());
    return;
  }
  std::string text;
  write_value(node, row, text);
  if (text.starts_with('"')) {
    out += text;
  } else {
    append_json_string(out, text.data(), text.size());
  }
}

void write_value(const Node& node, idx_t row, std::string& out) {
  if (node.validity && !pd::duckdb_api().duckdb_validity_row_is_valid(const_cast<uint64_t*>(node.validity), row)) {
    out += "null";
    return;
  }
  switch (node.type) {
    case DUCKDB_TYPE_SQLNULL: out += "null"; break;
    case DUCKDB_TYPE_BOOLEAN: out += at<bool>(node, row) ? "true" : "false"; break;
    case DUCKDB_TYPE_TINYINT: append_number(out, at<int8_t>(node, row)); break;
    case DUCKDB_TYPE_SMALLINT: append_number(out, at<int16_t>(node, row)); break;
    case DUCKDB_TYPE_INTEGER: append_number(out, at<int32_t>(node, row)); break;
    case DUCKDB_TYPE_BIGINT: append_number(out, at<int64_t>(node, row)); break;
    case DUCKDB_TYPE_UTINYINT: append_number(out, at<uint8_t>(node, row)); break;
    case DUCKDB_TYPE_USMALLINT: append_number(out, at<uint16_t>(node, row)); break;
    case DUCKDB_TYPE_UINTEGER: append_number(out, at<uint32_t>(node, row)); break;
    case DUCKDB_TYPE_UBIGINT: append_number(out, at<uint64_t>(node, row)); break;
    case DUCKDB_TYPE_HUGEINT: append_i128(out, hugeint_at(node, row)); break;
    case DUCKDB_TYPE_UHUGEINT: {
      const auto h = at<duckdb_uhugeint>(node, row);
      append_u128(out, (static_cast<U128>(h.upper) << 64) | h.lower);
      break;
    }
    case DUCKDB_TYPE_FLOAT: append_float(out, at<float>(node, row), true); break;
    case DUCKDB_TYPE_DOUBLE: append_float(out, at<double>(node, row), false); break;
    case DUCKDB_TYPE_DECIMAL: {
      I128 v = 0;
      switch (node.internal) {
        case DUCKDB_TYPE_SMALLINT: v = at<int16_t>(node, row); break;
        case DUCKDB_TYPE_INTEGER: v = at<int32_t>(node, row); break;
        case DUCKDB_TYPE_BIGINT: v = at<int64_t>(node, row); break;
        default: v = hugeint_at(node, row); break;
      }
      append_decimal(out, v, node.scale);
      break;
    }
    case DUCKDB_TYPE_VARCHAR: {
      const auto s = string_at(node, row);
      if (node.json_text && !s.empty()) {
        out += s;
      } else {
        append_json_string(out, s.data(), s.size());
      }
      break;
    }
    case DUCKDB_TYPE_BLOB: {
      const auto s = string_at(node, row);
      append_base64(out, reinterpret_cast<const unsigned char*>(s.data()), s.size());
      break;
    }
    case DUCKDB_TYPE_DATE: {
      const int32_t days = at<int32_t>(node, row);
      if (days == INT32_MAX || days == -INT32_MAX) {
        out += days > 0 ? "\"infinity\"" : "\"-infinity\"";
        break;
      }
      out += '"';
      append_date_text(out, days);
      out += '"';
      break;
    }
    case DUCKDB_TYPE_TIME: {
      const int64_t micros = at<int64_t>(node, row);
      out += '"';
      append_time_text(out, micros / 1000000, micros % 1000000, 6);
      out += '"';
      break;
    }
    case DUCKDB_TYPE_TIMESTAMP: append_timestamp(out, at<int64_t>(node, row), 1000000, 6, false); break;
    case DUCKDB_TYPE_TIMESTAMP_TZ: append_timestamp(out, at<int64_t>(node, row), 1000000, 6, true); break;
    case DUCKDB_TYPE_TIMESTAMP_S: append_timestamp(out, at<int64_t>(node, row), 1, 6, false); break;
    case DUCKDB_TYPE_TIMESTAMP_MS: append_timestamp(out, at<int64_t>(node, row), 1000, 3, false); break;
    case DUCKDB_TYPE_TIMESTAMP_NS: append_timestamp(out, at<int64_t>(node, row), 1000000000, 9, false); break;
    case DUCKDB_TYPE_INTERVAL: {
      const auto v = at<duckdb_interval>(node, row);
      out += "{\"months\":";
      append_number(out, v.months);
      out += ",\"days\":";
      append_number(out, v.days);
      out += ",\"micros\":";
      append_number(out, v.micros);
      out += '}';
      break;
    }
    case DUCKDB_TYPE_UUID: {
      const auto h = at<duckdb_hugeint>(node, row);
      const uint64_t hi = static_cast<uint64_t>(h.upper) ^ (uint64_t{1} << 63);
      char text[37];
      int k = 0;
      for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) text[k++] = '-';
        const uint64_t word = i < 16 ? hi : h.lower;
        text[k++] = kHex[(word >> (60 - 4 * (i % 16))) & 15];
      }
      out += '"';
      out.append(text, 36);
      out += '"';
      break;
    }
    case DUCKDB_TYPE_ENUM: {
      uint32_t index = 0;
      switch (node.internal) {
        case DUCKDB_TYPE_UTINYINT: index = at<uint8_t>(node, row); break;
        case DUCKDB_TYPE_USMALLINT: index = at<uint16_t>(node, row); break;
        default: index = at<uint32_t>(node, row); break;
      }
      out += index < node.enum_labels.size() ? node.enum_labels[index] : "null";
      break;
    }
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_MAP: {
      const auto entry = at<duckdb_list_entry>(node, row);
      const bool map = node.type == DUCKDB_TYPE_MAP;
      out += map ? '{' : '[';
      for (uint64_t i = 0; i < entry.length; ++i) {
        if (i) out += ',';
        if (map) {
          write_map_key(node.children[0], entry.offset + i, out);
          out += ':';
          write_value(node.children[1], entry.offset + i, out);
        } else {
          write_value(node.children[0], entry.offset + i, out);
        }
      }
      out += map ? '}' : ']';
      break;
    }
    case DUCKDB_TYPE_ARRAY:
      out += '[';
      for (idx_t i = 0; i < node.array_size; ++i) {
        if (i) out += ',';
        write_value(node.children[0], row * node.array_size + i, out);
      }
      out += ']';
      break;
    case DUCKDB_TYPE_STRUCT:
      out += '{';
      for (size_t i = 0; i < node.children.size(); ++i) {
        if (i) out += ',';
        out += node.keys[i];
        write_value(node.children[i], row, out);
      }
      out += '}';
      break;
    default:
      out += "null";  // make_node refused every other type
      break;
  }
}

}  // namespace

struct ParquetFileReader::State {
  explicit State(pd::Duckdb db) : duckdb(std::move(db)) {}
  ~State() {
    if (chunk) pd::duckdb_api().duckdb_destroy_data_chunk(&chunk);
    if (have_result) pd::duckdb_api().duckdb_destroy_result(&result);
  }
  pd::Duckdb duckdb;
  duckdb_result result{};
  bool have_result = false;
  Node row;  // a struct node: the columns
  duckdb_data_chunk chunk = nullptr;
  idx_t chunk_rows = 0;
  idx_t next_row = 0;  // in chunk
  bool done = false;
  std::string text;      // the JSON text of the row taken but not yet placed in a chunk
  bool have_text = false;
  uint64_t text_number = 0;
};

ParquetFileReader::ParquetFileReader(const std::string& path, const ReaderLimits& limits, BufferPool& pool,
                                     const ParquetReadSettings& settings)
    : path_(path), limits_(limits), pool_(pool) {
  // The file itself first: DuckDB's messages for a missing or unreadable file name no file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ReadError(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  const bool is_dir = ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
  ::close(fd);
  if (is_dir) throw ReadError(path + ": is a folder, not a Parquet file");
  file_size_ = static_cast<uint64_t>(st.st_size);
  if (pd::has_glob_characters(path)) {
    throw ReadError(path + ": a Parquet file name with *, ? or [ is not supported (DuckDB reads it as a pattern); rename the file");
  }

  state_ = std::make_unique<State>(pd::Duckdb::open<ReadError>({settings.threads, settings.memory_limit}, path));
  duckdb_connection con = state_->duckdb.connection();
  const std::string file = pd::sql_string(path);

  // The footer: the row count, and whether this is a Parquet file at all.
  duckdb_result meta;
  if (pd::duckdb_api().duckdb_query(con, ("SELECT coalesce(sum(num_rows), 0)::BIGINT FROM parquet_file_metadata(" + file + ")").c_str(), &meta) != DuckDBSuccess) {
    const std::string why = pd::first_line(pd::duckdb_api().duckdb_result_error(&meta));
    pd::duckdb_api().duckdb_destroy_result(&meta);
    const bool foreign = why.find("magic bytes") != std::string::npos || why.find("too small") != std::string::npos;
    throw ReadError(path + (foreign ? ": not a Parquet file, or a truncated one (" : ": cannot read as Parquet (") + why + ")");
  }
  row_count_ = static_cast<uint64_t>(pd::duckdb_api().duckdb_value_int64(&meta, 0, 0));
  pd::duckdb_api().duckdb_destroy_result(&meta);

  duckdb_prepared_statement statement = nullptr;
  const std::string query = "SELECT * FROM read_parquet(" + file + ", binary_as_string = false)";
  if (pd::duckdb_api().duckdb_prepare(con, query.c_str(), &statement) != DuckDBSuccess) {
    const std::string why = pd::first_line(pd::duckdb_api().duckdb_prepare_error(statement));
    pd::duckdb_api().duckdb_destroy_prepare(&statement);
    throw ReadError(path + ": cannot read as Parquet (" + why + ")");
  }
  duckdb_pending_result pending = nullptr;
  const bool pending_ok = pd::duckdb_api().duckdb_pending_prepared_streaming(statement, &pending) == DuckDBSuccess;
  pd::duckdb_api().duckdb_destroy_prepare(&statement);
  if (!pending_ok) {
    const std::string why = pd::first_line(pd::duckdb_api().duckdb_pending_error(pending));
    pd::duckdb_api().duckdb_destroy_pending(&pending);
    throw ReadError(path + ": cannot read as Parquet (" + why + ")");
  }
  const bool ok = pd::duckdb_api().duckdb_execute_pending(pending, &state_->result) == DuckDBSuccess;
  pd::duckdb_api().duckdb_destroy_pending(&pending);
  state_->have_result = true;
  if (!ok) throw ReadError(path + ": cannot read as Parquet (" + pd::first_line(pd::duckdb_api().duckdb_result_error(&state_->result)) + ")");

  // The row as a struct of the columns.
  Node& row = state_->row;
  row.type = DUCKDB_TYPE_STRUCT;
  const idx_t columns = pd::duckdb_api().duckdb_column_count(&state_->result);
  for (idx_t c = 0; c < columns; ++c) {
    const char* name = pd::duckdb_api().duckdb_column_name(&state_->result, c);
    std::string key;
    append_json_string(key, name, std::strlen(name));
    key += ':';
    row.keys.push_back(std::move(key));
    duckdb_logical_type type = pd::duckdb_api().duckdb_column_logical_type(&state_->result, c);
    try {
      row.children.push_back(make_node(type, name, path));
    } catch (...) {
      pd::duckdb_api().duckdb_destroy_logical_type(&type);
      throw;
    }
    pd::duckdb_api().duckdb_destroy_logical_type(&type);
  }
}

ParquetFileReader::~ParquetFileReader() = default;

uint64_t ParquetFileReader::file_bytes_consumed() const {
  if (row_count_ == 0) return state_ && state_->done ? file_size_ : 0;
  return static_cast<uint64_t>(static_cast<long double>(file_size_) * static_cast<long double>(rows_started_) /
                               static_cast<long double>(row_count_));
}

bool ParquetFileReader::next(LineChunk& chunk) {
  chunk.reset();
  State& s = *state_;
  if (s.done && !s.have_text) return false;

  chunk.buffer = pool_.get(limits_.chunk_bytes);
  size_t size = 0;
  while (true) {
    if (!s.have_text) {
      if (s.next_row == s.chunk_rows) {
        if (s.chunk) pd::duckdb_api().duckdb_destroy_data_chunk(&s.chunk);
        s.chunk = s.done ? nullptr : pd::duckdb_api().duckdb_fetch_chunk(s.result);
        if (!s.chunk) {
          const char* error = pd::duckdb_api().duckdb_result_error(&s.result);
          s.done = true;
          if (error) {
            throw ReadError(path_ + ": row " + std::to_string(rows_started_ + 1) +
                            ": cannot read as Parquet, damaged file? (" + pd::first_line(error) + ")");
          }
          break;
        }
        s.chunk_rows = pd::duckdb_api().duckdb_data_chunk_get_size(s.chunk);
        s.next_row = 0;
        for (size_t c = 0; c < s.row.children.size(); ++c) bind(s.row.children[c], pd::duckdb_api().duckdb_data_chunk_get_vector(s.chunk, c));
        continue;
      }
      s.text.clear();
      s.text_number = rows_started_ + 1;
      write_value(s.row, s.next_row++, s.text);
      s.have_text = true;
    }
    const bool too_long = s.text.size() > limits_.max_line_bytes;
    const size_t keep = too_long ? std::min(limits_.max_line_bytes, kLongLineKept) : s.text.size();
    const size_t need = size + keep + 1;
    if (!chunk.lines.empty() && need + (chunk.lines.size() + 1) * limits_.line_cost > limits_.chunk_bytes) break;
    if (need > UINT32_MAX) throw ReadError(path_ + ": row " + std::to_string(s.text_number) + ": a chunk longer than 4 GiB");
    if (need > chunk.buffer.capacity) {
      Buffer bigger = pool_.get(std::max(need, chunk.buffer.capacity * 2));
      std::memcpy(bigger.data.get(), chunk.buffer.data.get(), size);
      pool_.put(std::move(chunk.buffer));
      chunk.buffer = std::move(bigger);
    }
    char* buf = chunk.buffer.data.get();
    std::memcpy(buf + size, s.text.data(), keep);
    buf[size + keep] = '\n';
    if (too_long) chunk.long_lines.push_back({chunk.lines.size(), s.text.size()});
    chunk.lines.push_back(Line{static_cast<uint32_t>(size), static_cast<uint32_t>(keep), s.text_number});
    size = need;
    s.have_text = false;
    rows_started_ = s.text_number;
    if (s.text.capacity() > (size_t{4} << 20)) std::string().swap(s.text);  // a huge row's memory is not kept
  }
  chunk.bytes = size;
  if (chunk.lines.empty()) {
    pool_.put(std::move(chunk.buffer));
    chunk.buffer = Buffer{};
    return false;
  }
  return true;
}

}  // namespace tamis::io
