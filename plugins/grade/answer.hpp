// Answer grading for math problems: extract a final answer from a response, normalise LaTeX answers,
// and decide whether two answers are equivalent. Plain C++ with no SDK dependency, so that ops
// (grade.answer, grade.difficulty) and tests share it. Rules: docs/grading.md.
//
// Every function is bounded: inputs longer than the limits in GradeOptions are refused with a reason,
// parsing has a depth limit, and numbers that cannot be held exactly fall back to doubles (or to
// "not a number" when they do not fit a double). Nothing here throws on bad input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tamis::grade {

struct ExtractOptions {
  bool boxed = true;          // last \boxed{...} / \fbox{...}
  bool gsm8k = true;          // last "#### N"
  bool answer_phrase = true;  // "The answer is X", "Answer: X", a line "A: X"
  bool last_number = false;   // the last number in the text, when nothing else matched
  bool math_span = true;      // the last $...$, $$...$$, \(...\) or \[...\] (after the rules above)
  bool short_response = true; // a one-line response of at most 100 bytes: itself when it reads as an
                              // answer (at most 3 words), else its last number
};

// How an answer was found; method is "boxed", "gsm8k", "phrase", "math", "short", "last_number", or ""
// when not found.
struct Extraction {
  bool found = false;
  std::string answer;
  std::string method;
  std::string problem;  // why nothing was found when it was not (e.g. "unbalanced \\boxed{")
};

Extraction extract(std::string_view response, const ExtractOptions& options = {});

// The answer in canonical text form: the normalisation rules of docs/grading.md (no whitespace,
// \dfrac → \frac, units and spacing removed, x = 5 → 5, ...).
std::string normalize(std::string_view answer);

struct GradeOptions {
  ExtractOptions extract;
  double tolerance = 1e-6;              // relative tolerance for inexact numbers
  size_t max_response_bytes = 1 << 22;  // longer responses are graded incorrect ("response_too_long")
  size_t max_answer_chars = 1000;       // longer extracted answers are graded incorrect ("answer_too_long")
};

// Why two answers were compared as they were: "" when equivalent; "mismatch" when both were read and
// differ; otherwise a code for answers that could not be compared ("answer_too_long", ...).
struct Equivalence {
  bool equal = false;
  std::string reason;
};

Equivalence equivalent(std::string_view answer, std::string_view reference, const GradeOptions& options = {});

// The same for answers already passed through normalize(): for grouping many answers, each normalised
// once. Length limits apply to the normalised texts.
Equivalence equivalent_normalized(std::string_view answer, std::string_view reference, const GradeOptions& options = {});

struct Verdict {
  bool correct = false;
  std::string extracted;  // the answer taken from the response ("" when none)
  std::string reason;     // "" when correct; "mismatch"; "no_answer", "response_too_long", ...
};

// A reference reduced to its final answer: a worked solution (it contains \boxed, \fbox or "####", or
// spans several lines) gives its boxed / #### answer (multi-line ones also "The answer is X"); anything
// else, or a worked solution where nothing is found, is returned as given. grade() uses it with
// `extract_reference`; dedup uses it to compare the answers of duplicates.
std::string reference_answer(std::string_view reference, const GradeOptions& options = {});

// Grades a whole response against a reference answer. The reference is used as given, unless
// `extract_reference` is set and it contains a \boxed{} or "####" (a full worked solution).
Verdict grade(std::string_view response, std::string_view reference, const GradeOptions& options = {},
              bool extract_reference = true);

}  // namespace tamis::grade
