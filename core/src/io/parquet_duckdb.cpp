#include "io/parquet_duckdb.hpp"

namespace tamis::io::parquet_detail {

std::string Duckdb::init(const DuckdbSettings& settings) {
  duckdb_config config = nullptr;
  if (duckdb_api().duckdb_create_config(&config) != DuckDBSuccess) return "out of memory";
  const std::string threads = std::to_string(settings.threads < 1 ? 1 : settings.threads);
  const std::pair<const char*, const char*> options[] = {
      {"autoinstall_known_extensions", "false"},  // never reach the network
      {"autoload_known_extensions", "false"},
      {"threads", threads.c_str()},
      {"memory_limit", settings.memory_limit.c_str()},
      {"preserve_insertion_order", "true"},  // rows in file order
  };
  for (const auto& [name, value] : options) {
    if (duckdb_api().duckdb_set_config(config, name, value) != DuckDBSuccess) {
      duckdb_api().duckdb_destroy_config(&config);
      return std::string("bad setting ") + name + "=" + value;
    }
  }
  char* error = nullptr;
  const duckdb_state state = duckdb_api().duckdb_open_ext(nullptr, &database_, config, &error);
  duckdb_api().duckdb_destroy_config(&config);
  if (state != DuckDBSuccess) {
    std::string why = error ? first_line(error) : "unknown error";
    duckdb_api().duckdb_free(error);
    return why;
  }
  if (duckdb_api().duckdb_connect(database_, &connection_) != DuckDBSuccess) return "cannot connect";
  return {};
}

Duckdb::~Duckdb() {
  if (connection_) duckdb_api().duckdb_disconnect(&connection_);
  if (database_) duckdb_api().duckdb_close(&database_);
}

Duckdb::Duckdb(Duckdb&& other) noexcept : database_(other.database_), connection_(other.connection_) {
  other.database_ = nullptr;
  other.connection_ = nullptr;
}

namespace {
std::string quoted(std::string_view text, char quote) {
  std::string out(1, quote);
  for (char c : text) {
    if (c == quote) out += quote;
    out += c;
  }
  out += quote;
  return out;
}
}  // namespace

std::string sql_string(std::string_view text) { return quoted(text, '\''); }
std::string sql_identifier(std::string_view text) { return quoted(text, '"'); }

std::string first_line(const char* message) {
  if (!message) return "unknown error";
  std::string_view m(message);
  m = m.substr(0, m.find('\n'));
  while (!m.empty() && (m.back() == ' ' || m.back() == '\r')) m.remove_suffix(1);
  return std::string(m);
}

bool has_glob_characters(std::string_view path) { return path.find_first_of("*?[") != std::string_view::npos; }

std::string duckdb_version() { return duckdb_api().duckdb_library_version(); }

}  // namespace tamis::io::parquet_detail
