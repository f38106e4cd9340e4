// The Parquet source kind: one record per row, nested columns as JSON values (io/parquet_reader.hpp,
// through DuckDB; docs/parquet.md). Files named *.parquet, or `format: parquet`.
#include "sources/source_kind.hpp"

#ifdef TAMIS_HAVE_PARQUET
#include "io/parquet_reader.hpp"
#endif

namespace tamis {

namespace {

class ParquetSource final : public SourceKind {
 public:
  std::string_view name() const override { return "parquet"; }
  bool claims(std::string_view path) const override { return path.ends_with(".parquet"); }
  std::string unavailable() const override {
#ifdef TAMIS_HAVE_PARQUET
    return {};
#else
    return "this tamis was built without Parquet support (DuckDB): run scripts/install-deps.sh and rebuild";
#endif
  }
  std::unique_ptr<io::ChunkReader> open(const std::string& path, const io::ReaderLimits& limits, io::BufferPool& pool) const override {
#ifdef TAMIS_HAVE_PARQUET
    return std::make_unique<io::ParquetFileReader>(path, limits, pool);
#else
    (void)limits, (void)pool;
    throw io::ReadError(path + ": " + unavailable());
#endif
  }
};

}  // namespace

const SourceKind& parquet_source_kind() {
  static const ParquetSource kind;
  return kind;
}

}  // namespace tamis
