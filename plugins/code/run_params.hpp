// The parameters code.verify and code.grade share: the sandbox's limits, the comparison of outputs, the
// harness's prelude, how many sandboxes run at once. One table, read into JudgeOptions.
#pragma once

#include <tamis/sdk.hpp>

#include <condition_variable>
#include <mutex>

#include "judge.hpp"

namespace tamis::code {

// Appended to each op's own parameter table.
ParamTable run_params();
void check_run_params(const Params& p);
JudgeOptions judge_options(const Params& p);

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
