// Whole-number command-line values (--threads, --batch-bytes, fingerprint's --min-count...).
#pragma once

#include <cerrno>
#include <cstdlib>

namespace tamis::cli {

// A whole number in [1, max]; out-of-range text ("99999999999999999999") is refused, not clamped.
inline bool positive(const char* v, long long max, long long& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtoll(v, &end, 10);
  return *v && !*end && errno != ERANGE && out >= 1 && out <= max;
}

}  // namespace tamis::cli
