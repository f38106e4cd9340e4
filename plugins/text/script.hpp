// Which writing system a code point belongs to, for letters only: the language ops (lang.identify) use it to
// count letters and to decide a language from its script where the script alone is decisive (Hangul,
// kana, Thai...), before asking a statistical detector.
//
//     using tamis::text::Script;
//     tamis::text::script_of(U'ж') == Script::cyrillic;
//     tamis::text::script_of(U'7') == Script::none;      // digits, punctuation, marks: not letters
//
// Honest scope: a hand-written table of the main letter blocks of the scripts below, not the full
// Unicode Script property. Combining marks count as letters only inside the Indic and Thai blocks
// (vowel signs are part of the written word there). Letters of scripts not listed map to `other`.
#pragma once

#include <cstdint>

namespace tamis::text {

enum class Script : uint8_t {
  none,       // not a letter: digits, punctuation, symbols, spaces, combining marks, invalid
  latin,      // incl. Latin-1, Extended-A/B, IPA, Extended Additional, fullwidth A-Z
  greek,
  cyrillic,
  armenian,
  hebrew,
  arabic,
  indic,      // Devanagari ... Malayalam, Sinhala (many languages: never decisive on its own)
  thai,
  georgian,
  hangul,
  hiragana,
  katakana,   // incl. halfwidth katakana and the prolonged sound mark
  han,        // CJK ideographs (both Chinese scripts, Japanese kanji), 々 and 〇
  other,      // letters of any other script
};

inline constexpr int kScriptCount = static_cast<int>(Script::other) + 1;

// The script of a code point when it is a letter, Script::none otherwise.
Script script_of(char32_t c);

inline bool is_letter(char32_t c) { return script_of(c) != Script::none; }

// A short lowercase name: "latin", "han"... (for reports and test messages).
const char* script_name(Script s);

}  // namespace tamis::text
