// Sink kinds: what a sink writes. Each kind is one file here (records_sink.cpp, rejected_sink.cpp, ...)
// and one entry in the table of sink_kinds.cpp. The loader (which YAML key selects a kind, which inputs
// it takes), `--dry-run`, the runner (rendering each batch) and the summary go through the table, so a
// new kind is a new file and a table entry (docs/architecture.md).
#pragma once

#include <string_view>
#include <vector>

#include "engine/batch.hpp"

namespace tamis {

struct Pipeline;
struct SinkSpec;
struct InputRef;

// What a kind may read while it renders one batch (in parallel with other batches).
struct SinkRenderContext {
  const Pipeline& pipeline;
  const SinkSpec& sink;
  std::string_view source;            // the batch's source name
  std::string_view file;              // the batch's file, as shown to users
  std::string_view annotation_field;  // where annotations go in a record (the pipeline's `annotations.field`)
  const std::vector<bool>& rejected_stages;  // this sink's: which stages' rejections it takes (rejected kinds)
  const std::vector<int>& records_sink_bit;  // per sink: its bit in InputEntry::sink_mask, -1 for other kinds
  const std::vector<const Record*>& rejected;  // the batch's rejected records, in input order
};

class SinkKind {
 public:
  // What a sink's `inputs:` may name: sources and stages (records: default the last stage), stages
  // (rejected: default all), or nothing.
  enum class Inputs { nodes, stages, none };

  virtual ~SinkKind() = default;
  // The kind's name: shown by --dry-run and the summary; the YAML key `NAME: true` selects it (the
  // first kind of the table, records, is the default and has no key).
  virtual std::string_view name() const = 0;
  virtual Inputs inputs() const = 0;
  // Records that reach a sink of this kind are kept (their fate); rendered before the other kinds,
  // and marks InputEntry::sink_mask.
  virtual bool keeps_records() const { return false; }
  // It writes the lines of the source that could not be read (on_error: skip needs one to keep them).
  virtual bool keeps_unreadable_lines() const { return false; }
  // It writes one document at the end of the run (the report), not lines per batch.
  virtual bool written_at_end() const { return false; }
  // Appends this batch's output to `out` (lines, and their count in out.lines). Kinds that keep records
  // run first and set sink_mask; the others run once every input line's fate is known.
  virtual void render(const SinkRenderContext& ctx, Batch& b, RenderedOutput& out) const = 0;
};

// Every kind, records first.
const std::vector<const SinkKind*>& sink_kinds();
const SinkKind* find_sink_kind(std::string_view name);
const SinkKind& default_sink_kind();  // records

// The kinds, defined one per file (the table refers to them).
const SinkKind& records_sink_kind();
const SinkKind& rejected_sink_kind();
const SinkKind& errors_sink_kind();
const SinkKind& ledger_sink_kind();
const SinkKind& report_sink_kind();

}  // namespace tamis
