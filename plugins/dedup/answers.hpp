// Reference answers for answer-aware dedup (docs/dedup.md#answer-aware-dedup): two records whose texts
// are duplicates but whose reference answers are not equivalent are different problems (the same
// template with other numbers) or the same problem with a conflicting label. Both ops read the answer
// field the same way and compare answers with the grader (plugins/grade/answer.hpp), not as text:
// `97` = `097`, `83^\circ` = `83`, `1, 2` = `1,2`, `\frac{1}{2}` = `0.5`, a worked solution (GSM8K's
// `... #### 72`, MATH's `... \boxed{72}`) = its final answer `72`.
//
//     std::string a;
//     read_answer(r, "answer", a);              // the final answer, "" when the record has no answer
//     if (!answers_agree(a, theirs)) ...        // not equivalent: different problems (or a conflict)
#pragma once

#include <tamis/sdk.hpp>

#include <string>
#include <string_view>

namespace tamis::dedup {

// The prefix of a structured answer's text (read_answer): "tests:" and 16 hex digits of XXH3-64 of the
// value's minified JSON.
inline constexpr std::string_view kStructuredAnswer = "tests:";

// Reads the answer field `field` of `r` into `out`: a string (trimmed; a worked solution reduced to its
// final answer by grade::reference_answer), a number (its JSON text), an array of strings and
// numbers (joined with ", ", as OlympiadBench's `final_answer`), or an object or a list of objects (a
// code problem's tests: kStructuredAnswer + a hash of the JSON, equal only to the same JSON). `out` is "" when the field is absent,
// null, of another type, or blank: such a record has no answer and agrees with any. Not normalised
// yet: that is left to answers_agree, which few records reach.
void read_answer(const Record& r, std::string_view field, std::string& out);

// Whether two answers (from read_answer) may belong to the same problem: structured answers (tests) when
// their JSON is the same; otherwise true when either is empty or
// normalises to nothing, when they are the same text, the same plain decimal number (`97` = `097` =
// `97.0`, without normalising), the same text after grade::normalize, or when the grader finds them
// equivalent (exact rationals, intervals, sets, symbolic forms; bounded work). Answers too long for the
// grader to compare (over its 1,000-character limit: a proof, a worked solution without a final
// answer) are no answer, so they agree. Answers too complex to decide count as different: both
// records are kept, which loses nothing.
bool answers_agree(std::string_view a, std::string_view b);

}  // namespace tamis::dedup
