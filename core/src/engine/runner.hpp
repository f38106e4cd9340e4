// Running a validated pipeline: the TBB pipeline over batches, the sinks, the totals.
//
// The stage graph is executed as one oneTBB parallel_pipeline whose tokens are batches:
//
//   read (serial, in order) → parse (parallel) → stage filters in topological order → render
//   (parallel) → write (serial, in order)
//
// where a record or expanding op is one parallel filter and an ordered op is a parallel filter (its
// process hook) followed by a serial in-order filter (its process_ordered hook). Within a batch each
// stage reads the outputs of its inputs (fan-in merges them by input line, ties in the order the
// inputs are listed), so the graph's semantics do not depend on which thread runs what: outputs are
// byte-identical for any thread count. At most `tokens` batches are in flight, so memory is bounded
// by the batch size, not the input size.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pipeline/pipeline.hpp"

namespace tamis {

struct RunOptions {
  int threads = 0;              // 0: all cores
  size_t chunk_bytes = 4 << 20;  // bytes of input per batch
  bool progress = false;        // draw a progress line on stderr
  // Every record is read and goes through the stages (told TAMIS_RUN_DRY), but no sink is opened, no
  // output folder is touched and side files handed over are discarded: nothing is written.
  bool dry_run = false;
};

struct StageTotals {
  std::string name, op;
  uint64_t in = 0, out = 0, emitted = 0;
  std::map<std::string, uint64_t> rejected;
  std::map<std::string, int64_t> counters;
  double seconds = 0;
  std::string report_json;
  std::string samples_json;    // engine/evidence.hpp; "" when the stage saw no record
  double serial_seconds = -1;  // ordered stages: the share of `seconds` spent in the serial part; -1: not ordered
};

struct SourceTotals {
  std::string name;
  uint64_t files = 0, lines = 0, blank = 0, records = 0, errors = 0, bytes = 0;
};

struct SinkTotals {
  std::string name, path, kind;
  uint64_t lines = 0, bytes = 0;
};

// A stage that rejected all or nearly all of its input (kMissingFieldShare, at least kMissingFieldMin
// records) for a missing or unusable field: most often a field parameter that names a field the records
// do not have. Printed on stderr at the end of the run, shown in the summary, listed in the report.
struct RunWarning {
  std::string stage, op;
  std::string field;           // as the op named it; empty when the op gave only a reason code
  std::string reason, detail;  // of the first such record
  uint64_t count = 0;          // records rejected for this field (or reason)
  uint64_t other = 0;          // records rejected for other missing fields
  uint64_t in = 0;             // the stage's input
  std::vector<std::string> record_fields;  // the top-level fields of the first such record

  std::string message() const;
};
inline constexpr double kMissingFieldShare = 0.9;
inline constexpr uint64_t kMissingFieldMin = 5;

struct RunTotals {
  uint64_t read = 0, kept = 0, rejected = 0, errors = 0;
  std::vector<RunWarning> warnings;  // in stage execution order
  std::string distributions_json;    // engine/distributions.hpp
  std::vector<SourceTotals> sources;
  std::vector<StageTotals> stages;  // in execution order
  std::vector<SinkTotals> sinks;
  double seconds = 0, parse_seconds = 0, render_seconds = 0;
  double first_pass_seconds = 0;  // included in seconds
  size_t first_pass_stages = 0;   // stages that asked for a first pass over their input
  uint64_t input_bytes = 0;
  int threads = 0;
  bool dry_run = false;  // nothing was written (RunOptions::dry_run)
  bool balanced() const { return read == kept + rejected + errors; }
};

// A run that stopped: a data error with on_error: fail, a stage failure, an interrupt, an I/O error.
class RunError : public std::runtime_error {
 public:
  explicit RunError(const std::string& message, bool outputs_changed = false)
      : std::runtime_error(message), outputs_changed_(outputs_changed) {}
  // Whether some outputs were put in place before the run stopped (a rename failed halfway through the
  // commit; the message says which). Otherwise no output file was written or changed.
  bool outputs_changed() const { return outputs_changed_; }

 private:
  bool outputs_changed_ = false;
};

// Set by the SIGINT/SIGTERM handler; the reader stops at the next batch.
extern std::atomic<bool> g_interrupted;

// Runs `p`; on success every output is in place and the totals are returned. On failure throws
// RunError and leaves no output file changed (every output is written to a temporary first, and they
// are put in place together: io/output_set.hpp), except when a rename fails halfway through that
// last step (RunError::outputs_changed; the message says which files are in place).
RunTotals run_pipeline(const Pipeline& p, const RunOptions& options);

// The end-of-run table: per stage in, kept, rejected by reason, time share; and the totals.
std::string format_summary(const RunTotals& t);
// The JSON run report.
std::string format_report(const Pipeline& p, const RunTotals& t);

}  // namespace tamis
