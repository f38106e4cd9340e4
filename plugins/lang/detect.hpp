// Language identification of math and code prompts: strip what is not natural language (LaTeX, code,
// URLs, numbers), count the letters that remain, and name the language with CLD2, after an optional
// fast path that decides from the script and from function words where they are decisive.
//
//     tamis::lang::Detection d = tamis::lang::detect("Combien vaut $\\frac{3}{4} + 2$ ? Justifiez.");
//     d.lang;        // "fr"
//     d.letters;     // letters after stripping ("Combien vaut Justifiez": 20)
//
// Thread-safe: no shared mutable state; CLD2's detector is reentrant (its header lists "Thread safe"
// among its design goals; it keeps its scoring state on the stack of each call).
//
// Library target `tamis_langdetect` (static, position-independent, hidden symbols): link it into any
// plugin that needs it (plugins/translate does). See docs/languages.md for what is stripped and why,
// the accuracy measured and the fast path's agreement with plain CLD2.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tamis::lang {

struct DetectOptions {
  size_t min_letters = 20;   // fewer letters after stripping -> "und", except for short CJK text (min_cjk)
  // Below min_letters, a text with at least this many Han, kana and Hangul characters, whose letters
  // are at least 80% those scripts, is named by the script alone (zh: Han without kana; ja: kana at
  // least 2 and 10% of the CJK characters; ko: Hangul). The script, not the amount of text, tells these
  // languages apart, so "9只兔子有多少条腿？" (8 characters, 16 letters) is zh. 0: off. With
  // min_cjk >= min_letters / 2 it never applies (such a text already has min_letters letters).
  size_t min_cjk = 2;
  bool fast_path = true;     // script/stop-word shortcut before CLD2 (same labels as CLD2 alone, faster)
};

struct Detection {
  std::string lang;          // ISO 639-1 ("en", "fr", "zh" for both Chinese scripts, ...) or "und"
  double confidence = 0;     // 0..1
  bool reliable = false;
  size_t letters = 0;        // letters counted after stripping (a Han, kana or Hangul character counts 2)
  // Who decided: "short" (below min_letters, "und"); "short_cjk" (below min_letters, named by the
  // script: see DetectOptions::min_cjk; reliable = false); "script" or "words" (fast path, reliable =
  // true); "cld2"; "check": the check after CLD2 overruled it (see detect(); reliable = false).
  const char* method = "short";
};

// Removes LaTeX ($...$, $$...$$, \(...\), \[...\], environments, commands), code blocks (``` and
// inline `...`), URLs and numbers; keeps the natural-language words.
std::string strip_markup(std::string_view text);

// strip_markup + letter count + (fast path) + CLD2.
// After CLD2, in both modes, a check (method "check", reliable = false): when CLD2 says "unknown", the
// fast path's rules, then the function words decide; when CLD2 names a language with a function-word
// list none of whose words occur while another list has at least 2 (CLD2 calls some short Spanish
// math prompts "en"), the words decide; "ja" without kana becomes "zh", "zh" with kana "ja".
Detection detect(std::string_view text, const DetectOptions& options = {});

// ---- Parts of detect(), for callers that strip once and detect several pieces (lang.consistency),
// ---- and for the tests that measure the fast path against plain CLD2.

// Letters (tamis::text::is_letter) in a text, a Han, kana or Hangul character counting 2 (it carries
// about as much as two Latin letters: with min_letters 20, a Chinese prompt needs 10 characters);
// invalid UTF-8 bytes are not letters.
size_t count_letters(std::string_view text);

// detect() on text that strip_markup already cleaned.
Detection detect_stripped(std::string_view stripped, const DetectOptions& options = {});

// The fast path alone, on stripped text: a Detection with method "script" or "words", or lang "" when
// it cannot decide (detect() then asks CLD2). Does not apply min_letters.
Detection fast_path(std::string_view stripped);

// CLD2 alone on stripped text (no min_letters check, no fast path, no word check): lang "und" when
// CLD2 does not know.
Detection cld2_detect(std::string_view stripped);

// CLD2's language code mapped to ISO 639-1 where one exists: "zh-Hant" -> "zh", "iw" -> "he",
// "jw" -> "jv", "sr-ME" -> "sr"; pseudo-languages ("xx-Qaai") and "un" -> "und". Exposed for tests.
std::string iso_code(std::string_view cld2_code);

}  // namespace tamis::lang
