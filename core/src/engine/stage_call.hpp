// The host side of one hook call: what a plugin's callbacks act on.
#pragma once

#include <tamis/abi.h>

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/batch.hpp"
#include "io/output_set.hpp"

namespace tamis {

// What callback_count / callback_log may receive: a batch call or a stage.
struct HostCtx {
  virtual ~HostCtx() = default;
  virtual void count(std::string_view name, int64_t delta) = 0;
  virtual const std::string& who() const = 0;
  void* as_void() { return static_cast<void*>(this); }
  static HostCtx* from(void* p) { return static_cast<HostCtx*>(p); }
};

// A stage for the length of the run: outside batches (create, finish) its counters and report.
struct StageContext final : HostCtx {
  std::string name;
  io::OutputSet* outputs = nullptr;  // where side files handed over in finish go (callback_commit_file)
  std::mutex mutex;
  std::map<std::string, int64_t> counters;
  std::string report_json;

  void count(std::string_view counter, int64_t delta) override {
    std::lock_guard lock(mutex);
    counters[std::string(counter)] += delta;
  }
  const std::string& who() const override { return name; }
};

// One stage's call on one batch.
struct StageCall final : HostCtx {
  StageContext* stage = nullptr;
  int stage_index = -1;
  tamis_op_kind kind = TAMIS_OP_RECORD;
  Batch* batch = nullptr;
  std::vector<Record*> records;               // the stage's input, in order
  std::vector<std::vector<Record*>> emitted;  // per input record, for expanding ops
  std::vector<tamis_record> views;
  std::vector<tamis_annotation> annotation_views;
  tamis_batch cbatch{};
  bool views_stale = false;  // an annotate/replace changed what the views point into: rebuild before reuse
  std::string error;  // first misuse of a callback (bad JSON, bad index)
  int64_t error_index = -1;

  void count(std::string_view counter, int64_t delta) override {
    batch->stage_stats[stage_index].counters[std::string(counter)] += delta;
  }
  const std::string& who() const override { return stage->name; }

  void fail(size_t index, std::string message) {
    if (error.empty()) {
      error = std::move(message);
      error_index = static_cast<int64_t>(index);
    }
  }
  // (Re)builds the C views of `records`, after any change to them.
  void build_views(const std::vector<std::string>& source_names, const std::vector<std::vector<std::string>>& file_names);
};

}  // namespace tamis
