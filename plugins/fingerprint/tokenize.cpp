#include "tokenize.hpp"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "normalize.hpp"
#include "utf8.hpp"

namespace tamis::fingerprint {

namespace {

// English function words: articles, pronouns, auxiliaries, prepositions, conjunctions, their common
// contractions. Content words ("said", "voice", "felt") are not here: they are what slop is made of.
constexpr std::array kStopwords = std::to_array<std::string_view>({
    "a", "about", "above", "after", "again", "against", "ain't", "all", "am", "an", "and", "any", "are",
    "aren't", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
    "can", "can't", "cannot", "could", "couldn't", "d", "did", "didn't", "do", "does", "doesn't", "doing",
    "don't", "down", "during", "each", "few", "for", "from", "further", "had", "hadn't", "has", "hasn't",
    "have", "haven't", "having", "he", "he'd", "he'll", "he's", "her", "here", "here's", "hers", "herself",
    "him", "himself", "his", "how", "how's", "i", "i'd", "i'll", "i'm", "i've", "if", "in", "into", "is",
    "isn't", "it", "it'd", "it'll", "it's", "its", "itself", "just", "ll", "m", "me", "might", "mightn't",
    "more", "most", "must", "mustn't", "my", "myself", "needn't", "no", "nor", "not", "now", "o", "of", "off",
    "on", "once", "only", "or", "other", "ought", "our", "ours", "ourselves", "out", "over", "own", "re", "s",
    "same", "shall", "shan't", "she", "she'd", "she'll", "she's", "should", "should've", "shouldn't", "so",
    "some", "such", "t", "than", "that", "that'll", "that's", "the", "their", "theirs", "them", "themselves",
    "then", "there", "there's", "these", "they", "they'd", "they'll", "they're", "they've", "this", "those",
    "through", "to", "too", "under", "until", "up", "upon", "us", "ve", "very", "was", "wasn't", "we", "we'd",
    "we'll", "we're", "we've", "were", "weren't", "what", "what's", "when", "when's", "where", "where's",
    "which", "while", "who", "who's", "whom", "why", "why's", "will", "with", "won't", "would", "wouldn't",
    "y", "you", "you'd", "you'll", "you're", "you've", "your", "yours", "yourself", "yourselves",
});

constexpr size_t kLongestStopword = 10;  // "themselves", "yourselves"
constexpr bool check_stopwords() {
  for (size_t i = 0; i < kStopwords.size(); ++i)
    if (kStopwords[i].size() > kLongestStopword || (i > 0 && !(kStopwords[i - 1] < kStopwords[i]))) return false;
  return true;
}
static_assert(check_stopwords(), "kStopwords: sorted (to spot duplicates), none longer than kLongestStopword");

// Stopwords by (first byte, length): a lookup compares at most a handful of candidates. A binary search
// over the whole list was a seventh of the profile's time on long texts.
size_t bucket(std::string_view w) {
  const auto c = static_cast<unsigned char>(w[0]);
  return (c >= 'a' && c <= 'z' ? c - 'a' : 26) * (kLongestStopword + 1) + w.size();
}
const std::vector<std::vector<std::string_view>>& stopword_buckets() {
  static const auto buckets = [] {
    std::vector<std::vector<std::string_view>> b(27 * (kLongestStopword + 1));
    for (const std::string_view w : kStopwords) b[bucket(w)].push_back(w);
    return b;
  }();
  return buckets;
}

bool is_apostrophe(char32_t c) { return c == U'\'' || c == U'\u2019' || c == U'\u02BC'; }
// Combining marks continue a word without counting as letters ("e" + U+0301).
bool is_mark(char32_t c) { return (c >= 0x300 && c <= 0x36F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x20D0 && c <= 0x20FF); }
bool is_sentence_end(char32_t c) {
  return c == '.' || c == '!' || c == '?' || c == ';' || c == ':' || c == '\n' || c == '\r' || c == U'\u2026' ||
         c == U'\u3002' || c == U'\uFF01' || c == U'\uFF1F' || c == U'\u2029';
}

}  // namespace

bool is_letter(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  if (c < 0x100) return c == 0xAA || c == 0xB5 || c == 0xBA || (c >= 0xC0 && c != 0xD7 && c != 0xF7);
  if (c <= 0x2AF) return true;                                            // Latin Extended-A/B, IPA
  if (c >= 0x370 && c <= 0x3FF) return c != 0x375 && c != 0x37E && c != 0x384 && c != 0x385 && c != 0x387;
  if (c >= 0x400 && c <= 0x52F) return c < 0x482 || c > 0x489;           // Cyrillic (+ Supplement)
  if (c >= 0x531 && c <= 0x587) return c < 0x557 || c > 0x560;           // Armenian
  if (c >= 0x5D0 && c <= 0x5EA) return true;                              // Hebrew
  if (c >= 0x620 && c <= 0x64A) return true;                              // Arabic
  if (c >= 0x900 && c <= 0xDFF) return true;                              // Indic scripts, marks included
  if (c >= 0xE01 && c <= 0xE4E) return true;                              // Thai
  if (c >= 0x10A0 && c <= 0x10FF) return true;                            // Georgian
  if (c >= 0x1100 && c <= 0x11FF) return true;                            // Hangul Jamo
  if (c >= 0x1E00 && c <= 0x1FFF) return c < 0x1FBD || (c >= 0x1FC2 && c != 0x1FCD && c != 0x1FCE && c != 0x1FCF &&
                                                         c != 0x1FDD && c != 0x1FDE && c != 0x1FDF && c != 0x1FED &&
                                                         c != 0x1FEE && c != 0x1FEF && c != 0x1FFD && c != 0x1FFE);
  if (c >= 0x3041 && c <= 0x30FF) return c != 0x30A0 && c != 0x30FB;     // kana
  if (c >= 0x3400 && c <= 0x4DBF) return true;                            // CJK Extension A
  if (c >= 0x4E00 && c <= 0x9FFF) return true;                            // CJK Unified Ideographs
  if (c >= 0xAC00 && c <= 0xD7A3) return true;                            // Hangul syllables
  return false;
}

bool is_stopword(std::string_view word) {
  if (word.empty() || word.size() > kLongestStopword) return false;
  for (const std::string_view w : stopword_buckets()[bucket(word)])
    if (w == word) return true;
  return false;
}

uint64_t feature_hash(std::string_view text) { return XXH3_64bits(text.data(), text.size()); }

void Tokens::clear() {
  text.clear();
  start.clear();
  end.clear();
  letters.clear();
  segment.clear();
  words = 0;
}

std::string_view Tokens::ngram(size_t i, size_t n) const {
  if (n == 0 || i + n > size() || segment[i] != segment[i + n - 1]) return {};
  return std::string_view(text).substr(start[i], end[i + n - 1] - start[i]);
}

void tokenize(std::string_view input, const TokenizeOptions& options, Tokens& out) {
  out.clear();
  const std::string s = text::nfkc_subset(input);
  uint32_t segment = 0;
  bool segment_used = false;  // a new segment number only after a segment that holds a kept word
  std::string word;
  uint16_t letters = 0;
  bool pending_apostrophe = false;

  auto end_word = [&] {
    pending_apostrophe = false;
    if (letters == 0) {
      word.clear();
      return;
    }
    ++out.words;
    if (!(options.drop_stopwords && is_stopword(word))) {
      if (!out.text.empty()) out.text.push_back(' ');
      out.start.push_back(static_cast<uint32_t>(out.text.size()));
      out.text += word;
      out.end.push_back(static_cast<uint32_t>(out.text.size()));
      out.letters.push_back(letters);
      out.segment.push_back(segment);
      segment_used = true;
    }
    word.clear();
    letters = 0;
  };

  for (size_t i = 0; i < s.size();) {
    const text::Decoded d = text::decode(s, i);
    i += d.len;
    const char32_t c = d.ok ? d.cp : 0xFFFD;
    if (d.ok && is_letter(c)) {
      if (pending_apostrophe) word.push_back('\'');
      pending_apostrophe = false;
      char buf[4];
      char* w = buf;
      text::encode(w, text::lower(c));
      word.append(buf, static_cast<size_t>(w - buf));
      if (letters < UINT16_MAX) ++letters;
    } else if (d.ok && is_mark(c) && letters > 0) {
      word.append(s, i - d.len, d.len);
    } else if (d.ok && is_apostrophe(c) && letters > 0 && !pending_apostrophe) {
      pending_apostrophe = true;  // kept only if a letter follows
    } else {
      end_word();
      if (d.ok && is_sentence_end(c) && segment_used) {
        ++segment;
        segment_used = false;
      }
    }
  }
  end_word();
}

}  // namespace tamis::fingerprint
