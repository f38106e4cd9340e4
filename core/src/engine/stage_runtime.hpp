// A stage while the run lasts: its op, its plugin (kept loaded), its state, and what it does to a batch:
// the parallel part (process), the serial part of an ordered op (process_ordered, or observe_ordered in
// a first pass), and the sorting of its records into rejected and passed on (finalize).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/batch.hpp"
#include "engine/crash_context.hpp"
#include "engine/runner.hpp"
#include "engine/stage_call.hpp"
#include "io/output_set.hpp"
#include "pipeline/pipeline.hpp"

namespace tamis {

// The sources and their files as shown to users (messages, record views).
struct RunNames {
  std::vector<std::string> sources;
  std::vector<std::vector<std::string>> files;  // per source
};

struct StageRuntime {
  const StageSpec* spec = nullptr;
  int index = -1;
  const tamis_op_desc* op = nullptr;
  std::shared_ptr<const LoadedPlugin> plugin;
  void* state = nullptr;
  StageContext ctx;
  std::vector<bool> clone_input;  // per input: the input is read by others too, so work on copies
  std::string crash_text;         // "stage 'x' (op y, plugin FILE)": what the crash handler names

  ~StageRuntime();

  // Creates stage `idx`'s state (again, for a stage re-run after the first pass). `consumers` counts
  // the readers of each node (Batch::node_out index); side files join `outputs`. Throws RunError.
  static std::unique_ptr<StageRuntime> start(const Pipeline& p, int idx, int threads, const std::vector<int>& consumers,
                                             io::OutputSet& outputs, bool dry_run);
  // Parallel: process() on the batch's records from the stage's inputs; a record or expanding op is
  // then finalized, an ordered op's call waits in the batch for run_ordered.
  void run_parallel(const Pipeline& p, const RunNames& names, Batch& b);
  // Serial, in input order: process_ordered(), then finalize.
  void run_ordered(const Pipeline& p, const RunNames& names, Batch& b);
  // Serial, first pass: observe_ordered(); the batch is then dropped.
  void run_observe(const RunNames& names, Batch& b);

 private:
  void finalize(const Pipeline& p, Batch& b, StageCall& call);
  void check(const RunNames& names, StageCall& call, tamis_status rc, const tamis_error& err, const char* hook);
};

// The warning for a stage that rejected (nearly) all its input for missing fields, if it did: about
// the field (or reason) most records were rejected for.
std::optional<RunWarning> missing_field_warning(const StageRuntime& st, const StageBatchStats& t);

}  // namespace tamis
