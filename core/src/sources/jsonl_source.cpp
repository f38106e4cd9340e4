// The JSONL source kind: one JSON object per line, plain or .gz/.zst (io/jsonl_reader.hpp).
#include "sources/source_kind.hpp"

namespace tamis {

namespace {

class JsonlSource final : public SourceKind {
 public:
  std::string_view name() const override { return "jsonl"; }
  bool claims(std::string_view) const override { return true; }
  std::unique_ptr<io::ChunkReader> open(const std::string& path, const io::ReaderLimits& limits, io::BufferPool& pool) const override {
    return std::make_unique<io::JsonlFileReader>(path, limits, pool);
  }
};

}  // namespace

const SourceKind& jsonl_source_kind() {
  static const JsonlSource kind;
  return kind;
}

}  // namespace tamis
