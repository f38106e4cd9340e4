// Records and batches: the unit of work of the engine.
//
// A Batch is a run of consecutive lines of one input file (a few MiB). It travels through every
// filter of the TBB pipeline (read → parse → each stage → render → write) as one token, and carries
// everything that happens to its records: each node's output, rejections, counters, rendered sink
// bytes. Because every descendant of a record stays in the batch of that record, the fate of each
// input line is known when its batch reaches the writer, and no state is shared between batches
// except inside ordered ops (which see batches in order).
#pragma once

#include <tamis/abi.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/content_ids.hpp"
#include "engine/distributions.hpp"
#include "io/jsonl_reader.hpp"

namespace tamis {

// What one input line costs a batch beyond its bytes, in bytes: its InputEntry, Record, ids, output
// pieces and ledger line (about 450-550 bytes in a pass-through run with a ledger). The reader ends a
// batch when its bytes plus this much per line reach the batch size, so that the batch size bounds a
// batch's memory for tiny records too (a 4 MiB batch of `{"id":N}` lines holds about 8,000 lines,
// not 400,000).
constexpr size_t kBatchLineCost = 512;

struct Annotation {
  std::string key;
  std::string value_json;
};

struct Record {
  std::string_view text;  // the current JSON object; kPadding readable bytes follow it
  std::string owned;      // storage of `text` once replaced or emitted (else text points into the batch buffer)
  std::string id;
  uint32_t origin = 0;    // index of the input line (Batch::inputs) this record descends from
  bool has_annotation_field = false;  // the text has a top-level annotations field (replaced on output)
  std::vector<Annotation> annotations;
  int rejected_by = -1;   // stage index, or -1
  std::string reason;
  std::string detail;
  bool field_rejection = false;  // rejected through callback_reject_field: for `missing_field`
  std::string missing_field;

  void set_text(std::string_view t) {
    owned.reserve(t.size() + io::kPadding);
    owned.assign(t.data(), t.size());
    text = owned;
  }
  // A copy that owns what must not be shared.
  Record clone() const {
    Record r = *this;
    if (!owned.empty()) r.set_text(owned);
    return r;
  }
  // Storage of annotations replaced or outgrown during a hook, kept until the record dies: the plugin's
  // views of the record's annotations (tamis_record::annotations, rebuilt after the hook) point into
  // it, and an op may read an annotation after adding one (translate.import did: a use after free
  // that AddressSanitizer found).
  struct Retired {
    std::vector<std::vector<Annotation>> tables;
    std::vector<std::string> values;
  };
  std::shared_ptr<Retired> retired;

  void annotate(std::string_view key, std::string_view value) {
    for (auto& a : annotations)
      if (a.key == key) {
        keep().values.push_back(std::move(a.value_json));  // its heap buffer, if any, stays where views see it
        a.value_json.assign(value);
        return;
      }
    if (annotations.empty()) {
      annotations.reserve(4);
    } else if (annotations.size() == annotations.capacity()) {
      std::vector<Annotation> bigger;
      bigger.reserve(annotations.size() * 2);
      bigger.insert(bigger.end(), annotations.begin(), annotations.end());  // copies: the old table stays intact
      keep().tables.push_back(std::move(annotations));
      annotations = std::move(bigger);
    }
    annotations.push_back({std::string(key), std::string(value)});
  }

 private:
  Retired& keep() {
    if (!retired) retired = std::make_shared<Retired>();
    return *retired;
  }
};

enum class Fate : uint8_t { pending, kept, rejected, error };

// One non-blank input line and what became of it.
struct InputEntry {
  uint64_t line = 0;
  uint32_t offset = 0, size = 0;  // the line in the chunk buffer
  Fate fate = Fate::pending;
  std::string id;
  std::string error;             // parse error message, when fate == error
  uint64_t line_bytes = 0;       // a line longer than the source's max_line_bytes: its length (size: the part kept)
  uint64_t sink_mask = 0;        // records sinks a descendant reached
  const Record* rejection = nullptr;  // first rejection of a descendant, when fate == rejected
};

// Rejections of one stage for one missing or unusable field: those made with callback_reject_field
// (keyed by the field), and, from ops that give only a reason, those whose reason starts with
// "missing_" (keyed by the reason). With the first such record's evidence, in input order.
struct MissingFieldStats {
  uint64_t count = 0;
  std::string field;   // empty when the op gave only a reason
  std::string reason;  // of the first such record
  std::string detail;
  std::vector<std::string> record_fields;  // the first such record's top-level keys

  // Whether `r`, rejected by a stage, counts as rejected for a missing field; then its key.
  static bool key_of(const Record& r, std::string& key) {
    if (r.field_rejection) return key.assign("field:").append(r.missing_field), true;
    if (r.reason.starts_with("missing_")) return key.assign("reason:").append(r.reason), true;
    return false;
  }
};

// Per-stage figures of one batch, merged into the run totals by the writer, in order.
struct StageBatchStats {
  uint64_t in = 0, out = 0, emitted = 0;
  std::map<std::string, uint64_t> rejected;  // by reason
  std::map<std::string, MissingFieldStats> missing;  // by MissingFieldStats::key_of
  std::map<std::string, int64_t> counters;
  uint64_t nanos = 0;
  uint64_t serial_nanos = 0;  // ordered stages: of nanos, the serial part (input order, one batch at a time)
};

struct StageCall;

// One sink's output for one batch: pieces in order, each either a range of the batch's input buffer
// (a record written unchanged, with its newline: no copy) or a range of `owned` (rendered text).
struct RenderedOutput {
  struct Piece {
    const char* ref;  // into the input buffer, or nullptr: `offset` into owned
    size_t offset;
    size_t size;
  };
  std::string owned;
  std::vector<Piece> pieces;
  uint64_t size = 0;
  uint64_t lines = 0;

  bool empty() const { return size == 0; }
  // Appends input bytes [p, p+n); joins the previous piece when contiguous.
  void append_ref(const char* p, size_t n) {
    if (!pieces.empty() && pieces.back().ref && pieces.back().ref + pieces.back().size == p) pieces.back().size += n;
    else pieces.push_back({p, 0, n});
    size += n;
  }
  // Records that owned grew from `start` to its current size.
  void commit_owned(size_t start) {
    const size_t n = owned.size() - start;
    if (n == 0) return;
    if (!pieces.empty() && !pieces.back().ref && pieces.back().offset + pieces.back().size == start) pieces.back().size += n;
    else pieces.push_back({nullptr, start, n});
    size += n;
  }
  std::string_view piece(const Piece& pc) const {
    return pc.ref ? std::string_view(pc.ref, pc.size) : std::string_view(owned).substr(pc.offset, pc.size);
  }
  // All pieces as one string (for compression).
  std::string flatten() const {
    std::string out;
    out.reserve(size);
    for (const auto& pc : pieces) out.append(piece(pc));
    return out;
  }
};

struct Batch {
  int source = -1;  // source index
  int file = -1;    // file index within the source
  io::LineChunk chunk;
  std::vector<ContentId> content_ids;           // per line of `chunk`, for a source without `id:` (else empty)
  std::vector<InputEntry> inputs;
  std::deque<Record> records;                   // owns every record of the batch
  std::vector<std::vector<Record*>> node_out;   // sources first, then stages (by stage index)
  std::vector<Record*> rejected;                // in rejection order
  std::vector<std::unique_ptr<StageCall>> calls;  // per stage, alive between an ordered op's two parts
  std::vector<StageBatchStats> stage_stats;
  std::vector<RenderedOutput> rendered;         // per sink: output lines
  std::vector<std::string> encoded;             // per compressed sink: the gzip member / zstd frame
  std::vector<uint64_t> offsets;                // per sink: where the bytes go in the file
  Distributions distributions;                  // of the batch's records at the end (render step; engine/distributions.hpp)
  uint64_t parse_nanos = 0, render_nanos = 0;
  uint64_t errors = 0;
  std::string fatal;  // first error of an on_error: fail source, formatted; the writer stops the run

  std::string_view line_text(const InputEntry& e) const {
    return {chunk.buffer.data.get() + e.offset, e.size};
  }
};

}  // namespace tamis
