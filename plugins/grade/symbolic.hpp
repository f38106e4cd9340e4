// Symbolic equivalence of two normalised answers with GiNaC (Debian's libginac-dev), an optional part of
// the answer library: built when CMake finds GiNaC (TAMIS_GINAC=AUTO|ON|OFF), otherwise every call
// answers `unknown` and the grader keeps its numeric checks. Rules: docs/grading.md ("Symbolic check").
#pragma once

#include <string_view>

namespace tamis::grade::detail {

enum class Symbolic {
  equal,      // a - b simplifies to 0
  different,  // both are rational functions with exact coefficients and a - b is not 0 (decided exactly)
  unknown,    // not read, over the size caps, non-rational and not shown equal, or built without GiNaC
};

// Both arguments are outputs of normalize(). Bounded: answers over 300 bytes, with more than 4 variables,
// degree estimates over 32 or more than 5,000 possible terms are not tried (unknown). Serialised by a
// mutex (GiNaC is not thread-safe), which is cheap because the grader calls it only after the numeric
// checks could not decide.
Symbolic symbolic_compare(std::string_view a, std::string_view b);

// Whether this build has GiNaC.
bool symbolic_built();

}  // namespace tamis::grade::detail
