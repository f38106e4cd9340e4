// The `code` plugin family: code problems whose tests a verifier runs (docs/code.md).
//   code.format  rejects problems a test-based verifier cannot grade: tests missing, unparseable, too few
//                or with unequal inputs and outputs; no reference solution when one is required; a
//                problem asking for another language
//   code.verify  runs each problem's reference solution against its tests in the sandbox; rejects the
//                problems whose reference fails or times out
//   code.grade   runs sampled responses' last code block against the tests; the pass rate and a
//                correct list grade.difficulty bands, as for math
#pragma once

#include <tamis/sdk.hpp>

#include <map>
#include <string>
#include <vector>

#include "judge.hpp"
#include "run_params.hpp"

namespace tamis::code {

class Format {
 public:
  static constexpr const char* name = "code.format";
  static constexpr const char* summary =
      "Rejects code problems a test-based verifier cannot grade (tests missing, unparseable, too few or "
      "mismatched; no reference solution when required; another language asked for); annotates the test "
      "layout and count.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit Format(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

 private:
  std::string tests_field_;     // empty: detected
  int64_t min_tests_;
  bool require_solution_;
  std::string solution_field_;  // empty: detected
  std::string problem_field_;   // empty: detected
  std::string language_;        // normalised; "any": not checked
};

// The last fenced code block of a response (Magistral's format rule), in the part after the last
// </think> when there is one (none when a <think> is never closed); a block tagged with a language other
// than `language` (```bash after the program) is passed over; an unclosed block does not count.
std::optional<std::string> last_code_block(std::string_view response, std::string_view language = "python");

class Verify {
 public:
  static constexpr const char* name = "code.verify";
  static constexpr const char* summary =
      "Runs each problem's reference solution against its tests in a sandbox; rejects problems whose reference fails "
      "(reference_fails, with the first failing test: expected vs got) or times out (reference_timeout); annotates "
      "per-test outcomes.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  Verify(const Params& p, Stage& stage);
  static void check(const Params& p);
  void process(Record& r) const;
  void finish(Stage& stage);

 private:
  std::string tests_field_, solution_field_, entry_point_field_;
  bool annotate_time_;
  bool keep_unverified_;  // without_solution: keep
  bool dry_run_;
  StageRuns runs_;
};

class Grade {
 public:
  static constexpr const char* name = "code.grade";
  static constexpr const char* summary =
      "Grades sampled code responses: the last fenced code block of each (none: incorrect) runs against the problem's "
      "tests in a sandbox; correct = every test passes. Writes a field with the correct list and tests passed per "
      "response (grade.difficulty's correct_field) and annotates pass_rate.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  Grade(const Params& p, Stage& stage);
  static void check(const Params& p);
  void process(Record& r) const;
  void finish(Stage& stage);

 private:
  std::vector<std::string> responses_of(const Record& r, bool& found) const;

  std::string tests_field_, entry_point_field_, responses_field_, rollouts_field_, language_;
  std::map<std::string, std::vector<std::string>> sidecar_;  // record id -> responses, in the file's order
  bool from_sidecar_ = false;
  bool dry_run_;
  StageRuns runs_;
};

}  // namespace tamis::code
