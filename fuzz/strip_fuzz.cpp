// The markup stripper of language identification (plugins/lang/detect.hpp: strip_markup removes
// LaTeX, code, URLs and numbers), then detection on what is left. Checked: nothing crashes, leaks or
// meets undefined behaviour; stripping never grows the text by more than a few bytes per input byte.
#include <cstdint>
#include <string>

#include "detect.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string stripped = tamis::lang::strip_markup(text);
  FUZZ_CHECK(stripped.size() <= 2 * text.size() + 16);
  (void)tamis::lang::detect_stripped(stripped);
  (void)tamis::lang::detect(text);
  return 0;
}
