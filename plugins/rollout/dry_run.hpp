// What `tamis run --dry-run` tells of a rollout.sample stage: how many samples the run would ask at most,
// how many the cache already holds, and the tokens that would cost. No request is sent and the cache is
// only read (not created). Design: docs/rollouts.md ("Dry run").
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cache.hpp"

namespace tamis::rollout {

class DryRunPlanner {
 public:
  // `cache_path` need not exist (then nothing is cached). `max_tokens` bounds each response.
  DryRunPlanner(const std::string& cache_path, std::vector<std::string> models, int64_t n, int64_t max_tokens);

  // One record: its request key per model (in the order of `models`) and the canonical prompt's bytes.
  // Returns the detail for its `dry_run` rejection ("would ask 12 of 16 samples (4 in the cache)").
  // Thread-safe.
  std::string plan(const std::vector<Key>& keys, size_t prompt_bytes);

  std::string report_json() const;  // the stage's report in the dry run
  std::string summary() const;      // one line for the log

 private:
  struct PerModel {
    int64_t records = 0, budget = 0, cached = 0;
    int64_t prompt_bytes_to_send = 0;  // summed over the samples to ask (each request sends the prompt)
    Cache::Usage usage;                // of the cache's stored responses: the calibration
  };
  double tokens_per_byte(const PerModel& m) const;
  std::unique_ptr<Cache> cache_;
  std::vector<std::string> models_;
  int64_t n_, max_tokens_;
  mutable std::mutex mu_;
  std::vector<PerModel> per_model_;
};

}  // namespace tamis::rollout
