// The grader (plugins/grade/answer.hpp). Input: [flags] answer '\0' reference. Both answers are
// compared (equivalent), the first graded as a whole response against the second (grade), both
// normalised and reduced to a reference answer. Checked: nothing crashes, leaks or meets undefined
// behaviour (every function is documented as bounded and non-throwing); the same call gives the same
// verdict twice; an answer that was read (compared with a "mismatch" or equal) equals itself.
#include <cstdint>
#include <string>

#include "answer.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace grade = tamis::grade;
  tamis::fuzz::Input in(data, size);
  const uint8_t flags = in.byte();
  const std::string answer(in.until(std::string_view("\0", 1)));
  const std::string reference(in.rest());

  grade::GradeOptions options;
  options.extract.last_number = flags & 1;
  options.extract.short_response = !(flags & 2);
  options.tolerance = flags & 4 ? 1e-2 : 1e-6;

  const grade::Equivalence e = grade::equivalent(answer, reference, options);
  const grade::Equivalence again = grade::equivalent(answer, reference, options);
  FUZZ_CHECK(e.equal == again.equal && e.reason == again.reason);
  FUZZ_CHECK(e.equal == e.reason.empty());
  if (e.equal || e.reason == "mismatch") FUZZ_CHECK(grade::equivalent(answer, answer, options).equal);

  const grade::Verdict v = grade::grade(answer, reference, options, flags & 8);
  FUZZ_CHECK(v.correct == v.reason.empty());
  (void)grade::normalize(answer);
  (void)grade::reference_answer(reference, options);
  (void)grade::extract(answer, options.extract);
  return 0;
}
