// The run's outputs: the sinks' files and the side files plugins hand over, from the first byte to the
// commit. Each batch is rendered by the sinks' kinds (in parallel), compressed (in parallel), given
// its offset in each file (serially, in input order) and written there (in parallel); at the end the
// report is written and every output is put in place as one set (io/output_set.hpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/batch.hpp"
#include "engine/runner.hpp"
#include "io/atomic_writer.hpp"
#include "io/output_set.hpp"
#include "pipeline/pipeline.hpp"

namespace tamis {

class RunOutputs {
 public:
  explicit RunOutputs(const Pipeline& p);

  // Opens every sink as a temporary beside its target (none in a dry run: nothing is written).
  void open(bool dry_run);
  // The set plugins' side files join (StageContext::outputs).
  io::OutputSet& set() { return outputs_; }

  // Parallel: each sink's lines for this batch (kinds that keep records first; they decide which input
  // lines are kept), then compressed. `source` and `file` name the batch's source and file.
  void render(Batch& b, const std::string& source, const std::string& file) const;
  // Serial, in input order: each sink's bytes of this batch get their offset in its file.
  void reserve(Batch& b);
  // Parallel: the batch's bytes go to their offsets.
  void write(const Batch& b) const;
  // The end of the run: the report (`report_json`, for the sinks written at the end), then every
  // output put in place as one set. A failure before the first rename changes nothing; signals wait
  // until the renames are done. Throws RunError.
  void commit(const std::string& report_json);

  std::vector<SinkTotals> totals() const;

 private:
  void write_parquet();
  std::string review_page(const std::string& report_json) const;
  const Pipeline& p_;
  std::vector<std::unique_ptr<io::AtomicWriter>> writers_;  // by sink index (null: report, discard, dry run)
  std::vector<std::unique_ptr<io::AtomicWriter>> report_writers_;
  io::OutputSet outputs_;                                 // every output of the run, put in place together
  std::vector<std::vector<bool>> rejected_sink_stages_;  // per sink: which stages' rejections it takes
  std::vector<int> records_sink_bit_;                     // per sink: its bit in InputEntry::sink_mask
  std::vector<uint64_t> sink_lines_;
};

}  // namespace tamis
