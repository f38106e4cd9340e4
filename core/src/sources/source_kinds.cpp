// The table of source kinds (source_kind.hpp). A new kind: its file, and one line here (before jsonl,
// which takes every file the others do not claim).
#include "sources/source_kind.hpp"

namespace tamis {

const std::vector<const SourceKind*>& source_kinds() {
  static const std::vector<const SourceKind*> kinds = {
      &parquet_source_kind(),
      &jsonl_source_kind(),  // last: the default
  };
  return kinds;
}

const SourceKind* find_source_kind(std::string_view name) {
  for (const SourceKind* k : source_kinds())
    if (k->name() == name) return k;
  return nullptr;
}

const SourceKind& source_kind_of(std::string_view path) {
  for (const SourceKind* k : source_kinds())
    if (k->claims(path)) return *k;
  return jsonl_source_kind();
}

}  // namespace tamis
