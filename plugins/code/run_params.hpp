// What code.verify and code.grade share: their parameters (where the tests are, the sandbox's limits, the
// comparison of outputs, the harness's prelude, how many sandboxes run at once), read into JudgeOptions;
// and reading a record's tests.
#pragma once

#include <tamis/sdk.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "judge.hpp"

namespace tamis::code {

// Appended to each op's own parameter table.
ParamTable run_params();
void check_run_params(const Params& p);
JudgeOptions judge_options(const Params& p);

// The record's tests as a Suite (tests_field, or the first present of fields.hpp's kTestFields), or
// nullopt after rejecting the record (missing_tests, unparseable_tests).
std::optional<Suite> record_suite(Record& r, const std::string& tests_field, const std::string& entry_point_field);

// A stage's runs of programs in the sandbox: its Judge, at most `parallel` runs at once over the whole
// stage (0: the thread count), and the runs' wall times for the report. Thread-safe.
class StageRuns {
 public:
  // Throws tamis::Error when no sandbox can be made (the Judge's message).
  StageRuns(const Params& p, const Stage& stage);

  // `program` against `suite`, when a slot is free. Throws tamis::Error naming record `id` when the
  // sandbox itself failed (not a verdict on the program).
  Verdict run(std::string_view program, const Suite& suite, std::string_view id) const;
  // The runs' wall times so far: count, total, mean, median, p95 and max, as a JSON object.
  std::string seconds_json() const;

 private:
  std::unique_ptr<Judge> judge_;
  mutable std::mutex mu_;
  mutable std::condition_variable freed_;
  mutable int64_t free_;                 // slots, under mu_
  mutable std::vector<double> seconds_;  // under mu_
};

}  // namespace tamis::code
