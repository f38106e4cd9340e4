// Running a program against a problem's tests in the sandbox, as judges do (docs/code.md, "code.verify"):
// the record's tests read into a Suite, the harness (harness.py) run in the Sandbox, the outcomes of each
// test gathered into a Verdict, standard outputs compared here (whitespace-tolerant, optionally with a
// float tolerance and ignoring case).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "sandbox.hpp"

namespace tamis::code {

// A problem's tests, in the form the harness runs them.
struct Suite {
  enum class Mode { check, stdio, call };
  Mode mode = Mode::stdio;
  std::string test_code, entry_point;          // check: Python test code (a check function or asserts)
  std::vector<std::string> inputs, outputs;    // stdio: texts; call: JSON texts (argument lists, return values)
  std::string fn_name;                         // call
  int64_t declared = 0;                        // the tests the layout holds (check: its assert statements)
};

// The lines of Python test code that begin an assert statement: the tests code.format counts, and a
// check suite's `declared` (the harness counts the statements themselves when it runs).
int64_t count_asserts(std::string_view code);

// The suite in a tests value (the layouts of docs/code.md); the error names what could not be read.
struct SuiteOrError {
  std::optional<Suite> suite;
  std::string error;
};
SuiteOrError read_suite(simdjson::dom::element tests, std::string_view field, std::string_view entry_point);

// How an expected standard output is compared with what a program wrote.
struct Comparison {
  enum class Mode { tokens, lines, exact };
  Mode mode = Mode::tokens;
  double float_tolerance = 0;  // > 0: two numeric tokens match within this absolute or relative error
  bool case_sensitive = true;
};
bool outputs_match(std::string_view expected, std::string_view got, const Comparison& how);

struct TestOutcome {
  enum class Kind { pass, fail, error, timeout, not_run };
  Kind kind = Kind::not_run;
  std::string expected, got, error;  // the evidence of a failure (clipped)
  double seconds = -1;               // stdio: the test's own wall time
};
const char* outcome_name(TestOutcome::Kind k);

struct Verdict {
  std::vector<TestOutcome> tests;
  int64_t passed = 0;
  std::string program_error;  // the program did not compile or load, or the test code itself failed
  RunStatus run = RunStatus::exited;
  bool finished = false;      // the harness reported every test ("done")
  double wall_seconds = 0, cpu_seconds = 0;
  std::string sandbox_error;  // the sandbox failed (not the program): not a verdict on the program

  bool all_passed() const { return finished && program_error.empty() && !tests.empty() && passed == static_cast<int64_t>(tests.size()); }
  bool timed_out() const;
  // "test 3 of 5: expected '4', got '5'" (or the error, or the timeout); empty when all passed.
  std::string first_failure(size_t max_bytes = 300) const;
};

struct JudgeOptions {
  Limits limits;                       // of the whole run
  double test_seconds = 6;             // one test's wall and CPU time (stdio, call)
  Comparison comparison;
  bool prelude = true;                 // LeetCode's imports and ListNode/TreeNode helpers before the program
  std::string python = "/usr/bin/python3";
  Sandbox::Options sandbox;
};

class Judge {
 public:
  // Throws tamis::Error when no sandbox can be made (Sandbox's message).
  explicit Judge(JudgeOptions options);
  ~Judge();
  Judge(const Judge&) = delete;
  Judge& operator=(const Judge&) = delete;

  Verdict run(std::string_view program, const Suite& suite) const;
  const JudgeOptions& options() const { return options_; }

 private:
  JudgeOptions options_;
  std::string harness_dir_;  // on the host: harness.py, mounted read-only at /tamis/harness.py
  std::unique_ptr<Sandbox> sandbox_;
};

// The harness's source (harness.py, embedded at build time).
extern const char* const kHarnessSource;

}  // namespace tamis::code
