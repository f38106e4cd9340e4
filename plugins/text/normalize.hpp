// Text normalisation for dedup keys. Each step is switchable; they run in a fixed order:
//   nfkc -> latex -> case -> punctuation -> digits -> whitespace
// (NFKC first so fullwidth "ＡＢＣ" becomes ASCII before case folding and punctuation removal; LaTeX
// before punctuation, which would otherwise eat the backslashes; whitespace last so every earlier
// removal leaves no double spaces behind.) When `lowercase` is on, the LaTeX step recognises command
// names in any case (`\TEXT{Find}`, `\DFRAC`, `\LEFT(` as `\text{find}`, `\dfrac`, `\left(`), as if
// lowercasing had run first: an upper-cased copy gets the same key.
//
// Honest scope (see docs/dedup.md):
//  - `nfkc` is a practical SUBSET of Unicode NFKC, written by hand: fullwidth ASCII U+FF01-FF5E,
//    compatibility spaces, the Latin ligatures U+FB00-FB06, superscript/subscript digits and signs,
//    a few others (U+2026 ellipsis, U+00B5 micro sign, U+2212 minus), and it drops the invisible
//    U+00AD, U+200B-200D, U+2060 and U+FEFF. No decomposition or composition
//    of accented letters: "é" precomposed and "e"+U+0301 stay different.
//  - `lowercase` is a simple one-to-one code point mapping for ASCII, Latin-1, Latin Extended-A,
//    Latin Extended Additional (Vietnamese), Greek and Cyrillic (incl. Cyrillic Supplement
//    U+0500-052F). Other scripts are left alone. No special casing (İ maps to plain i).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tamis::text {

struct NormalizeOptions {
  bool whitespace = true;   // collapse every run of (Unicode) whitespace to one space, trim both ends
  bool lowercase = true;    // Unicode-aware lowercase (ranges above)
  bool nfkc = true;         // the NFKC subset above
  bool latex = true;        // drop spacing commands, \left/\right, $ and \( \) \[ \] delimiters; unwrap \text{}
  bool punctuation = false; // remove ASCII punctuation
  bool digits = false;      // remove ASCII digits

  // A canonical description, e.g. "v2;ws=1;case=1;nfkc=1;latex=1;punct=0;digits=0". Stored in index
  // files: an index is only reused with the same settings. Bump the "v" when any step's behaviour
  // changes, so old index files are refused rather than silently mismatched (v2: LaTeX command names
  // in any case when lowercasing; the NFKC subset drops zero-width characters).
  std::string describe() const;
  // The options of one of the 64 combinations, for tests and benchmarks that go through them all: bit
  // 0 whitespace, 1 lowercase, 2 nfkc, 3 latex, 4 punctuation, 5 digits.
  static NormalizeOptions from_bits(unsigned bits) {
    return {(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0, (bits & 16) != 0, (bits & 32) != 0};
  }
};

// Lowercase of one code point (identity outside the covered ranges).
char32_t lower(char32_t c);

// The individual steps (exposed for tests). Input is UTF-8; invalid bytes pass through unchanged.
std::string nfkc_subset(std::string_view s);
std::string latex_normalize(std::string_view s);  // command names as written (case-sensitive)
// fold_case: command names in any case (what normalize() does when `lowercase` is on).
std::string latex_normalize(std::string_view s, bool fold_case);
std::string lowercase(std::string_view s);
std::string strip_punctuation(std::string_view s);
std::string strip_digits(std::string_view s);
std::string collapse_whitespace(std::string_view s);

// All enabled steps, in order. This is the fast path: NFKC only when the text holds a lead byte of a
// code point it changes (into a per-thread buffer), LaTeX into another, then the other four steps fused
// in one pass over the whole text, 16 bytes at a time where the bytes are ASCII. Its output equals
// normalize_steps() byte for byte (differential tests hold it to that: tests/plugins/text_normalize_test.cpp);
// invalid UTF-8 takes the step-by-step path.
std::string normalize(std::string_view s, const NormalizeOptions& o);
// The same, appended to `out` (no allocation once `out` has grown): for keys built from several fields.
void normalize_append(std::string_view s, const NormalizeOptions& o, std::string& out);
// The reference: each enabled step above in turn, one string each.
std::string normalize_steps(std::string_view s, const NormalizeOptions& o);

}  // namespace tamis::text
