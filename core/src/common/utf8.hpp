// Cutting UTF-8 text without splitting a character.
#pragma once

#include <cstddef>
#include <string_view>

namespace tamis {

// The first `max` bytes of `s` at most, ending at a character boundary (the cut moves back over
// continuation bytes).
inline std::string_view utf8_prefix(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace tamis
