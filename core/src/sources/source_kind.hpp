// Source kinds: how a source's files are read. Each kind is one file here (jsonl_source.cpp,
// parquet_source.cpp) and one entry in the table of source_kinds.cpp. The loader (the `format:` key,
// or the file name when it is absent), `--dry-run` and the runner go through the table, so a new kind
// is a new file and a table entry (docs/architecture.md).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/chunk_reader.hpp"
#include "io/jsonl_reader.hpp"

namespace tamis {

class SourceKind {
 public:
  virtual ~SourceKind() = default;
  // The kind's name: a source's `format:` value, shown by --dry-run.
  virtual std::string_view name() const = 0;
  // Whether a file of this name is of this kind when the source gives no `format:` (by extension).
  virtual bool claims(std::string_view path) const = 0;
  // Why this tamis cannot read the kind (built without what it needs), or "" when it can.
  virtual std::string unavailable() const { return {}; }
  // A reader of one file. Throws io::ReadError naming the file.
  virtual std::unique_ptr<io::ChunkReader> open(const std::string& path, const io::ReaderLimits& limits,
                                                io::BufferPool& pool) const = 0;
};

// Every kind; the last one (jsonl) claims every file the others do not.
const std::vector<const SourceKind*>& source_kinds();
const SourceKind* find_source_kind(std::string_view name);
// The kind of a file named `path` by its extension.
const SourceKind& source_kind_of(std::string_view path);

// The kinds, defined one per file (the table refers to them).
const SourceKind& jsonl_source_kind();
const SourceKind& parquet_source_kind();

}  // namespace tamis
