// What code.verify and code.grade share: their parameters (where the tests are, the sandbox's limits, the
// comparison of outputs, the harness's prelude, how many sandboxes run at once), read into JudgeOptions;
// and reading a record's tests.
#pragma once

#include <tamis/sdk.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

#include "judge.hpp"

namespace tamis::code {

// Appended to each op's own parameter table.
ParamTable run_params();
void check_run_params(const Params& p);
JudgeOptions judge_options(const Params& p);

// The record's tests as a Suite (tests_field, or the first present of fields.hpp's kTestFields), or
// nullopt after rejecting the record (missing_tests, unparseable_tests).
std::optional<Suite> record_suite(Record& r, const std::string& tests_field, const std::string& entry_point_field);

// At most `n` sandboxes at once over the whole stage (its parallel parameter).
class RunSlots {
 public:
  explicit RunSlots(int64_t n) : free_(n) {}
  void acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t free_;
};

// Seconds as the report gives them: count, total, mean, median, p95 and max of a stage's runs.
std::string seconds_summary(std::vector<double> seconds);

}  // namespace tamis::code
