#include "script.hpp"

#include <algorithm>
#include <array>

namespace tamis::text {

namespace {

struct Range {
  char32_t lo, hi;
  Script script;
};

using S = Script;

// Letter ranges, sorted and disjoint. Code points between them are not letters.
constexpr std::array kRanges{
    Range{0x00AA, 0x00AA, S::latin},     Range{0x00BA, 0x00BA, S::latin},
    Range{0x00C0, 0x00D6, S::latin},     Range{0x00D8, 0x00F6, S::latin},
    Range{0x00F8, 0x02AF, S::latin},     // Latin-1 letters, Extended-A/B, IPA
    Range{0x0370, 0x0373, S::greek},     Range{0x0376, 0x0377, S::greek},
    Range{0x037B, 0x037D, S::greek},     Range{0x037F, 0x037F, S::greek},
    Range{0x0386, 0x0386, S::greek},     Range{0x0388, 0x03F5, S::greek},
    Range{0x03F7, 0x03FF, S::greek},     Range{0x0400, 0x0481, S::cyrillic},
    Range{0x048A, 0x052F, S::cyrillic},  Range{0x0531, 0x0556, S::armenian},
    Range{0x0560, 0x0588, S::armenian},  Range{0x05D0, 0x05EA, S::hebrew},
    Range{0x05EF, 0x05F2, S::hebrew},    Range{0x0620, 0x064A, S::arabic},
    Range{0x066E, 0x066F, S::arabic},    Range{0x0671, 0x06D3, S::arabic},
    Range{0x06D5, 0x06D5, S::arabic},    Range{0x06E5, 0x06E6, S::arabic},
    Range{0x06EE, 0x06EF, S::arabic},    Range{0x06FA, 0x06FC, S::arabic},
    Range{0x06FF, 0x06FF, S::arabic},    Range{0x0710, 0x072F, S::other},   // Syriac
    Range{0x0750, 0x077F, S::arabic},    Range{0x0780, 0x07A5, S::other},   // Thaana
    Range{0x08A0, 0x08C9, S::arabic},
    // 0x0900-0x0DFF (Devanagari ... Sinhala) is handled in script_of: letters and vowel signs.
    Range{0x0E01, 0x0E3A, S::thai},      Range{0x0E40, 0x0E4E, S::thai},
    Range{0x0E81, 0x0EDF, S::other},     // Lao
    Range{0x0F40, 0x0F6C, S::other},     // Tibetan
    Range{0x1000, 0x102A, S::other},     // Myanmar
    Range{0x10A0, 0x10C5, S::georgian},  Range{0x10D0, 0x10FF, S::georgian},
    Range{0x1100, 0x11FF, S::hangul},    Range{0x1200, 0x135A, S::other},   // Ethiopic
    Range{0x13A0, 0x13F5, S::other},     // Cherokee
    Range{0x1400, 0x167F, S::other},     // Canadian syllabics
    Range{0x1780, 0x17B3, S::other},     // Khmer
    Range{0x1820, 0x1878, S::other},     // Mongolian
    Range{0x1C80, 0x1C88, S::cyrillic},  Range{0x1C90, 0x1CBF, S::georgian},
    Range{0x1E00, 0x1EFF, S::latin},     Range{0x1F00, 0x1FBC, S::greek},
    Range{0x1FC2, 0x1FCC, S::greek},     Range{0x1FD0, 0x1FDB, S::greek},
    Range{0x1FE0, 0x1FEC, S::greek},     Range{0x1FF2, 0x1FFC, S::greek},
    Range{0x2C60, 0x2C7F, S::latin},     Range{0x3005, 0x3005, S::han},     // 々
    Range{0x3007, 0x3007, S::han},       // 〇
    Range{0x3041, 0x3096, S::hiragana},  Range{0x309D, 0x309F, S::hiragana},
    Range{0x30A1, 0x30FA, S::katakana},  Range{0x30FC, 0x30FF, S::katakana},
    Range{0x3105, 0x312F, S::other},     // Bopomofo
    Range{0x3131, 0x318E, S::hangul},    Range{0x31F0, 0x31FF, S::katakana},
    Range{0x3400, 0x4DBF, S::han},       Range{0x4E00, 0x9FFF, S::han},
    Range{0xA640, 0xA66E, S::cyrillic},  Range{0xA680, 0xA69D, S::cyrillic},
    Range{0xA722, 0xA7FF, S::latin},     Range{0xAC00, 0xD7A3, S::hangul},
    Range{0xD7B0, 0xD7FB, S::hangul},    Range{0xF900, 0xFAFF, S::han},
    Range{0xFB00, 0xFB06, S::latin},     Range{0xFB1D, 0xFB4F, S::hebrew},
    Range{0xFB50, 0xFDFB, S::arabic},    Range{0xFE70, 0xFEFC, S::arabic},
    Range{0xFF21, 0xFF3A, S::latin},     Range{0xFF41, 0xFF5A, S::latin},
    Range{0xFF66, 0xFF9D, S::katakana},  Range{0xFFA0, 0xFFDC, S::hangul},
    Range{0x20000, 0x323AF, S::han},
};

constexpr bool sorted_and_disjoint() {
  for (size_t i = 0; i < kRanges.size(); ++i) {
    if (kRanges[i].lo > kRanges[i].hi) return false;
    if (i > 0 && kRanges[i - 1].hi >= kRanges[i].lo) return false;
  }
  return true;
}
static_assert(sorted_and_disjoint(), "kRanges must be sorted and disjoint (binary search)");

}  // namespace

Script script_of(char32_t c) {
  if (c < 0x80) return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? S::latin : S::none;
  if (c >= 0x0900 && c <= 0x0DFF) {
    // Each Indic block is 128 code points with its digits at offsets 0x66-0x6F; । ॥ are the dandas.
    const char32_t off = c & 0x7F;
    if ((off >= 0x66 && off <= 0x6F) || c == 0x0964 || c == 0x0965) return S::none;
    return S::indic;
  }
  const auto it = std::upper_bound(kRanges.begin(), kRanges.end(), c,
                                   [](char32_t v, const Range& r) { return v < r.lo; });
  if (it == kRanges.begin()) return S::none;
  const Range& r = *(it - 1);
  return c <= r.hi ? r.script : S::none;
}

const char* script_name(Script s) {
  switch (s) {
    case S::none: return "none";
    case S::latin: return "latin";
    case S::greek: return "greek";
    case S::cyrillic: return "cyrillic";
    case S::armenian: return "armenian";
    case S::hebrew: return "hebrew";
    case S::arabic: return "arabic";
    case S::indic: return "indic";
    case S::thai: return "thai";
    case S::georgian: return "georgian";
    case S::hangul: return "hangul";
    case S::hiragana: return "hiragana";
    case S::katakana: return "katakana";
    case S::han: return "han";
    case S::other: return "other";
  }
  return "none";
}

}  // namespace tamis::text
