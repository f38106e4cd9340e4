// The `grade` plugin family: ops for verifiable math problems.
//   grade          grades a response field against a reference answer (answer.hpp)
//   filter.format  rejects problems that cannot be graded by a final answer (proofs, multi-part, ...)
#pragma once

#include <tamis/sdk.hpp>

#include <string>

#include "answer.hpp"

namespace tamis::grade {

class Grade {
 public:
  static constexpr const char* name = "grade";
  static constexpr const char* summary =
      "Grades a response against a reference answer (boxed / #### / 'The answer is' extraction, LaTeX normalisation, "
      "exact-rational and tolerant numeric equivalence); annotates correct, extracted and grade_reason.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit Grade(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

 private:
  std::string response_field_;
  std::string reference_field_;
  GradeOptions options_;
  bool extract_reference_;
  bool reject_incorrect_;
};

class Format {
 public:
  static constexpr const char* name = "filter.format";
  static constexpr const char* summary =
      "Rejects problems that are not verifiable by a final answer: proofs, multi-part, multiple choice, missing or "
      "long-prose reference answers, problems that need a figure. Each rule has its own reason and switch.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit Format(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

  struct Rules {
    bool proof = true, multi_part = true, multiple_choice = true, missing_answer = true, long_answer = true,
         needs_figure = true;
    size_t long_answer_chars = 300;
    size_t long_answer_words = 12;
  };
  // The rule a problem/answer pair breaks: {reason, detail}, or an empty reason. `answer` is nullptr
  // when the record has no usable answer field. Exposed for tests.
  static std::pair<std::string, std::string> classify(std::string_view problem, const std::string* answer, const Rules& rules);

 private:
  std::string problem_field_;
  std::string answer_field_;
  Rules rules_;
};

}  // namespace tamis::grade
