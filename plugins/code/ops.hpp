// The `code` plugin family: code problems whose tests a verifier runs (docs/code.md).
//   code.format  rejects problems a test-based verifier cannot grade: tests missing, unparseable, too few
//                or with unequal inputs and outputs; no reference solution when one is required; a
//                problem asking for another language
#pragma once

#include <tamis/sdk.hpp>

#include <string>

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

}  // namespace tamis::code
