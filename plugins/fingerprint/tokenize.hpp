// Words and n-grams for slop fingerprints: the one tokeniser that fingerprint.profile (records and the
// human reference) and fingerprint.score (records and slop-list entries) share, so that a feature
// counted by one matches the same feature looked up by the other.
//
//     fingerprint::Tokens t;
//     fingerprint::tokenize("The voice was barely above a whisper.", {.drop_stopwords = true}, t);
//     // t.text == "voice barely whisper", t.size() == 3, t.words == 7 (every word, stopwords included)
//     t.ngram(0, 3)  // "voice barely whisper": a view into t.text
//
// Steps: the NFKC subset of plugins/text (fullwidth forms, ligatures), then Unicode letters (see
// is_letter) lowercased with text::lower(); an apostrophe (' U+2019 U+02BC) between two letters stays
// inside the word ("don't"), anything else ends it, so digits, hyphens and symbols split words.
// Sentence ends (. ! ? ; : …, 。！？ and line breaks) start a new segment: n-grams never span two segments.
// With drop_stopwords, English stopwords are removed before n-grams are formed, as the published slop
// lists were built ("voice barely above a whisper" gives the trigram "voice barely whisper").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tamis::fingerprint {

struct TokenizeOptions {
  bool drop_stopwords = true;
};

// The kept words of one text, joined by single spaces in `text`, so that the n-gram starting at word i
// is one contiguous view.
struct Tokens {
  std::string text;
  std::vector<uint32_t> start, end;   // byte range of each kept word in `text`
  std::vector<uint16_t> letters;      // letters in each kept word
  std::vector<uint32_t> segment;      // sentence segment of each kept word
  uint64_t words = 0;                 // every word of the input, stopwords included

  size_t size() const { return start.size(); }
  void clear();
  // Words i .. i+n-1, or an empty view when they do not exist or span two segments.
  std::string_view ngram(size_t i, size_t n) const;
};

void tokenize(std::string_view text, const TokenizeOptions& options, Tokens& out);

// Whether the lowercased word (with ' as its apostrophe) is an English stopword.
bool is_stopword(std::string_view word);
// Letters as the tokeniser sees them: Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic, Indic, Thai,
// Hangul, kana and CJK ideographs (block ranges, not the full Unicode property table).
bool is_letter(char32_t c);

// The feature key: XXH3-64 of the feature's text (n-gram words joined by one space).
uint64_t feature_hash(std::string_view text);

}  // namespace tamis::fingerprint
