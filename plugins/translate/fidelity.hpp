// The fidelity checks of translate.import (docs/translation.md#fidelity-checks) as plain functions over
// UTF-8 text: numbers (as multisets, read across locale formats), LaTeX math spans, content a model
// added (preambles, notes, an answer) and length.
//
//     compare_numbers("3 sprints 3 times", "3 sprints 4 fois")       // missing {"3 (2 in the original, 1 in the translation)"}, added {"4"}
//     compare_numbers("$80,000 and 3.5 kg", "80 000 $ et 3,5 kg")    // nothing: the same numbers in French form
//     compare_math("Solve $x^2 = 4$.", "Résoudre $x^2=4$.")          // nothing (spaces do not count)
//     added_content("Find x.", "Voici la traduction :\nTrouver x.")  // {preamble, "Voici la traduction :"}
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tamis::translate {

// One number of a text: as written (after the NFKC subset) and its value, a canonical decimal string
// ("80000", "3.5", "0.125"): the same for every usual locale form.
struct Number {
  std::string written;
  std::string value;
};
// The numbers of a text, in order, after the NFKC subset of plugins/text (fullwidth and superscript
// digits become ASCII, no-break and thin spaces plain spaces). A number is a run of digits with single
// separators inside (`,` `.` space, LaTeX `{,}` and `\,`), read the same whatever the locale:
//  - groups of exactly 3 digits after a first group of 1-3 digits (not starting with 0) are thousands:
//    "80,000" = "80.000" = "80 000" = 80000, also with a decimal part in the other separator
//    ("1,234.5" = "1.234,5" = "1 234,5");
//  - one `.` or `,` otherwise is a decimal point: "3.5" = "3,5";
//  - anything else is a list: "1,2,3" is 1, 2 and 3; "2020 100" is 2020 and 100.
// A run of 3 digits after one separator ("1,000", "1.000") is read as thousands on both sides, so the
// English and German forms of one number agree. Digits followed by 万 or 亿 are multiplied (8万 = 80000).
// Signs are not part of a number. Leading zeros of the integer part and trailing zeros of the
// fraction do not count ("05" = 5, "1.50" = 1.5).
std::vector<Number> numbers(std::string_view text);

// Values of the numbers written in words in `text`, for the language `lang` ("en", "fr", "de", "es",
// "it", "ru", "zh"; anything else: none): cardinals to twelve, the tens, hundred and thousand, "dozen",
// the first ordinals, "twice"; tens-hyphen-units compounds ("twenty-five"); Chinese numerals (三十五).
// With `include_one` false, words for 1 are left out (they are also articles: "un", "ein", 一个).
std::vector<std::string> number_words(std::string_view text, std::string_view lang, bool include_one);

// How the numbers of a translation differ from the original's, compared as multisets of values:
// `missing` are numbers of the original that the translation lacks (as written; with both counts
// when the value occurs more than once: "3 (2 in the original, 1 in the translation)"), `added` the
// numbers the translation has in excess. A missing number is excused when the translation writes it
// in words (target language), an added one when the original did (source language).
struct NumberChanges {
  std::vector<std::string> missing, added;
  bool empty() const { return missing.empty() && added.empty(); }
};
NumberChanges compare_numbers(std::string_view original, std::string_view translation, std::string_view source_lang = "en",
                              std::string_view target_lang = "");

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

// Math spans of the original (raw text) with no span of the same key in the translation, and spans of
// the translation whose key is in no span of the original (a changed formula shows in both; a formula
// the model added, e.g. an answer "$x = 2$", in `added`). Distinct keys, in order of appearance.
struct MathChanges {
  std::vector<std::string> missing, added;
  bool empty() const { return missing.empty() && added.empty(); }
};
MathChanges compare_math(std::string_view original, std::string_view translation);

// Content a model adds around a translation: what kind and where, and the text found (a short excerpt).
//   preamble   "Here is the translation:", "Voici la traduction :", "Sure!", "以下是翻译：", "Translation:" ...
//   note       "Note:", "Remarque :", "Hinweis:", "注：", "Nota:", "Примечание:", "(Translator's note" ...
//   answer     "Answer:", "Réponse :", "Antwort:", "答案：", "Respuesta:", "Risposta:", "Ответ:",
//              "Solution:", "The answer is", "La réponse est" ...
//   closing    "I hope this helps", "Let me know", "J'espère que", "Надеюсь" ...
//   code fence ``` wrapped around the text
//   original text  the original's prose repeated (60% of its word 5-grams, math, [asy] and code aside,
//              when it has at least 6): the model echoed the text it was given
// A phrase counts at the start of the text, of a line, or of a sentence (after . ? ! 。？！), after
// Markdown marks (** # > -); a label (Answer, Note, Translation ...) must be followed by a colon within a
// few words. Each kind is found in the original the same way (in any of the languages): only the
// translation's occurrences beyond the original's count are returned (an original with "Note:" may
// keep it as "Remarque :").
struct Addition {
  std::string kind;
  std::string text;
};
std::vector<Addition> added_content(std::string_view original, std::string_view translation);

// Unicode code points (lead bytes) of UTF-8 text.
size_t code_points(std::string_view text);

}  // namespace tamis::translate
