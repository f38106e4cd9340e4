// The fidelity checks of translate.import (docs/translation.md#fidelity-checks) as plain functions over
// UTF-8 text: numbers, LaTeX math spans and length.
//
//     missing_numbers("Tom has 12 apples and 3.5 kg", "Tom a 12 pommes et 3,5 kg")  // {"3.5"}
//     missing_math("Solve $x^2 = 4$.", "Résoudre $x^2=4$.")                       // {} (spaces do not count)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tamis::translate {

// The numbers of a text, in order: maximal runs of ASCII digits joined by single dots ("3.5", "1.2.3"),
// after the NFKC subset of plugins/text (fullwidth and superscript digits become ASCII). Signs, commas
// and spaces separate numbers: "1,000" is 1 and 000, as is "1 000"; "3.5" and "3,5" differ, because the
// export prompt asks to keep numbers exactly as written.
std::vector<std::string> numbers(std::string_view text);

// One LaTeX math span: as written (delimiters included) and normalised for comparison (the content
// without delimiters and whitespace, arguments of \text-like commands emptied: translating the words
// inside \text{...} is faithful).
struct MathSpan {
  std::string raw;
  std::string key;
};
// Math spans: $...$, $$...$$, \(...\), \[...\] and math environments (equation, align, gather,
// multline, eqnarray, displaymath, math, with or without *). An escaped \$ opens nothing. As in
// pandoc, a single $ opens only before a non-space character and closes only after a non-space
// character not followed by a digit, so "costs $5 and $6" holds no math.
std::vector<MathSpan> math_spans(std::string_view text);

// Distinct numbers of `original` absent from `translation`, in order of first appearance.
std::vector<std::string> missing_numbers(std::string_view original, std::string_view translation);
// Distinct math spans of `original` (raw text) with no span of the same key in `translation`.
std::vector<std::string> missing_math(std::string_view original, std::string_view translation);

// Unicode code points (lead bytes) of UTF-8 text.
size_t code_points(std::string_view text);

}  // namespace tamis::translate
