#include "io/duckdb_api.hpp"

#include <dlfcn.h>

#include <stdexcept>
#include <string>

namespace tamis::io::parquet_detail {

namespace {

DuckdbApi load() {
  void* lib = nullptr;
  std::string tried;
  for (const char* name : {TAMIS_DUCKDB_LIBRARY, "libduckdb.so"}) {
    if (*name == '\0') continue;
    lib = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (lib) break;
    const char* why = ::dlerror();
    tried += std::string(tried.empty() ? "" : "; ") + (why ? why : name);
  }
  if (!lib)
    throw std::runtime_error("cannot load DuckDB's library for Parquet (" + tried + "); run scripts/install-deps.sh, or use JSONL");
  DuckdbApi api;
#define TAMIS_DUCKDB_LOOKUP(f)                                                                              \
  api.f = reinterpret_cast<decltype(api.f)>(::dlsym(lib, #f));                                               \
  if (!api.f) throw std::runtime_error(std::string("DuckDB's library has no ") + #f + ": not the DuckDB tamis was built with (" TAMIS_DUCKDB_LIBRARY ")");
  TAMIS_DUCKDB_FUNCTIONS(TAMIS_DUCKDB_LOOKUP)
#undef TAMIS_DUCKDB_LOOKUP
  return api;  // the library stays loaded for the process
}

}  // namespace

const DuckdbApi& duckdb_api() {
  static const DuckdbApi api = load();  // a failed load throws, and the next call tries again
  return api;
}

}  // namespace tamis::io::parquet_detail
