// DuckDB's C functions that the Parquet reader and writer call, looked up in libduckdb.so when the
// first Parquet file is opened rather than linked: the library is large (its loading and relocation
// were about 90% of `tamis --version`'s start-up), and most runs read no Parquet. Internal to
// io/parquet_*.cpp; built only with TAMIS_HAVE_PARQUET. docs/parquet.md.
#pragma once

#include <duckdb.h>

namespace tamis::io::parquet_detail {

// Every DuckDB function the Parquet code calls; one more call is one more line here.
#define TAMIS_DUCKDB_FUNCTIONS(X) \
  X(duckdb_array_type_array_size) \
  X(duckdb_array_type_child_type) \
  X(duckdb_array_vector_get_child) \
  X(duckdb_close) \
  X(duckdb_column_count) \
  X(duckdb_column_logical_type) \
  X(duckdb_column_name) \
  X(duckdb_connect) \
  X(duckdb_create_config) \
  X(duckdb_data_chunk_get_size) \
  X(duckdb_data_chunk_get_vector) \
  X(duckdb_decimal_internal_type) \
  X(duckdb_decimal_scale) \
  X(duckdb_destroy_config) \
  X(duckdb_destroy_data_chunk) \
  X(duckdb_destroy_logical_type) \
  X(duckdb_destroy_pending) \
  X(duckdb_destroy_prepare) \
  X(duckdb_destroy_result) \
  X(duckdb_disconnect) \
  X(duckdb_enum_dictionary_size) \
  X(duckdb_enum_dictionary_value) \
  X(duckdb_enum_internal_type) \
  X(duckdb_execute_pending) \
  X(duckdb_fetch_chunk) \
  X(duckdb_free) \
  X(duckdb_get_type_id) \
  X(duckdb_library_version) \
  X(duckdb_list_type_child_type) \
  X(duckdb_list_vector_get_child) \
  X(duckdb_logical_type_get_alias) \
  X(duckdb_map_type_key_type) \
  X(duckdb_map_type_value_type) \
  X(duckdb_open_ext) \
  X(duckdb_pending_error) \
  X(duckdb_pending_prepared_streaming) \
  X(duckdb_prepare) \
  X(duckdb_prepare_error) \
  X(duckdb_query) \
  X(duckdb_result_error) \
  X(duckdb_set_config) \
  X(duckdb_struct_type_child_count) \
  X(duckdb_struct_type_child_name) \
  X(duckdb_struct_type_child_type) \
  X(duckdb_struct_vector_get_child) \
  X(duckdb_validity_row_is_valid) \
  X(duckdb_value_int64) \
  X(duckdb_vector_get_data) \
  X(duckdb_vector_get_validity)

struct DuckdbApi {
#define TAMIS_DUCKDB_MEMBER(f) decltype(&::f) f = nullptr;
  TAMIS_DUCKDB_FUNCTIONS(TAMIS_DUCKDB_MEMBER)
#undef TAMIS_DUCKDB_MEMBER
};

// The functions, from the library loaded on the first call (thread-safe): TAMIS_DUCKDB_LIBRARY (the
// path CMake found, where install-deps puts it), else libduckdb.so on the loader's search path. Throws
// std::runtime_error naming the library and the missing symbol when it cannot be loaded.
const DuckdbApi& duckdb_api();

}  // namespace tamis::io::parquet_detail
