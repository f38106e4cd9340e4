#include "detect.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>  // before CLD2's header, which uses FILE without including it
#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>
#include <cstdlib>

#include "normalize.hpp"
#include "script.hpp"
#include "utf8.hpp"

namespace tamis::lang {

namespace {

using text::Script;

// ============================================================================================
// Stripping
// ============================================================================================

bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

bool starts_with(std::string_view s, size_t i, std::string_view prefix) {
  return s.size() - i >= prefix.size() && s.compare(i, prefix.size(), prefix) == 0;
}

// Environments whose whole body is math, code or a figure: dropped with their content. Others
// (itemize, enumerate, center, quote, problem...) hold prose: only their \begin/\end markers go.
bool drop_environment(std::string_view name) {
  if (!name.empty() && name.back() == '*') name.remove_suffix(1);
  static constexpr std::array<std::string_view, 37> kDrop{
      "equation", "align",    "aligned",     "alignat",  "gather",   "gathered", "multline", "split",
      "eqnarray", "array",    "matrix",      "pmatrix",  "bmatrix",  "Bmatrix",  "vmatrix",  "Vmatrix",
      "smallmatrix", "cases", "dcases",      "tabular",  "tabularx", "table",    "tikzpicture", "picture",
      "figure",   "verbatim", "lstlisting",  "minted",   "code",     "displaymath", "math",  "asy",
      "CD",       "subequations", "flalign", "algorithmic", "algorithm"};
  return std::find(kDrop.begin(), kDrop.end(), name) != kDrop.end();
}

// Commands whose braced argument is prose (kept); every other command is dropped together with the
// [..] and {..} groups right after it (\frac{1}{2}, \label{x}, \color{red}, \sqrt[3]{x}).
bool text_command(std::string_view name) {
  static constexpr std::array<std::string_view, 36> kText{
      "text",    "textbf",  "textit",   "textrm",   "textsf",        "textsc",  "textup",  "textmd",
      "textnormal", "textsl", "emph",   "mbox",     "hbox",          "underline", "uline", "section",
      "subsection", "subsubsection", "paragraph", "subparagraph", "chapter", "title", "caption", "footnote",
      "item",    "noindent", "par",     "indent",   "newline",       "centering", "bf",    "it",
      "em",      "rm",      "large",    "small"};
  return std::find(kText.begin(), kText.end(), name) != kText.end();
}

// Tags of HTML and of reasoning traces: the tag goes, its content stays.
bool known_tag(std::string_view name) {
  static constexpr std::array<std::string_view, 30> kTags{
      "think", "answer", "reasoning", "solution", "br", "p", "div", "span", "b", "i",
      "u", "em", "strong", "sub", "sup", "img", "a", "code", "pre", "table",
      "tr", "td", "th", "ul", "ol", "li", "hr", "h1", "h2", "h3"};
  return std::find(kTags.begin(), kTags.end(), name) != kTags.end();
}

class Stripper {
 public:
  explicit Stripper(std::string_view s) : s_(s) { out_.reserve(s.size()); }

  std::string run() {
    const size_t n = s_.size();
    while (i_ < n) {
      const char c = s_[i_];
      if (is_ascii_alpha(c)) {  // a run of ASCII letters: most of the text, copied at once
        if ((c == 'h' || c == 'w' || c == 'f') && url()) continue;
        size_t j = i_ + 1;
        while (j < n && is_ascii_alpha(s_[j])) ++j;
        out_.append(s_.data() + i_, j - i_);
        i_ = j;
        continue;
      }
      if (c == '`') { code(); continue; }
      if (c == '$') { dollar(); continue; }
      if (c == '\\') { command(); continue; }
      if (c == '[' && (starts_with(s_, i_, "[asy]") || starts_with(s_, i_, "[ASY]"))) {
        skip_to_after("[/asy]", "[/ASY]", i_ + 5);  // Asymptote figures of AoPS / MATH problems
        continue;
      }
      if (c == '<' && tag()) continue;
      if (is_ascii_digit(c) || is_ascii_space(c) || c == '{' || c == '}') { space(); ++i_; continue; }
      if (static_cast<unsigned char>(c) < 0x80) { out_.push_back(c); ++i_; continue; }
      const text::Decoded d = text::decode(s_, i_);
      // Invalid bytes become spaces: CLD2 requires valid UTF-8, and they are not words anyway.
      // Fullwidth digits are numbers; Unicode spaces are spaces.
      if (!d.ok || (d.cp >= 0xFF10 && d.cp <= 0xFF19) || d.cp == 0xA0 || d.cp == 0x3000 ||
          (d.cp >= 0x2000 && d.cp <= 0x200B) || d.cp == 0x202F || d.cp == 0x2028 || d.cp == 0x2029) {
        space();
      } else {
        out_.append(s_.data() + i_, d.len);
      }
      i_ += d.len;
    }
    if (!out_.empty() && out_.back() == ' ') out_.pop_back();
    return std::move(out_);
  }

 private:
  void space() {
    if (!out_.empty() && out_.back() != ' ') out_.push_back(' ');
  }

  // Moves past the first `close` (or `alt`) at or after `from`; to the end of the text when missing
  // (an unclosed block is still not prose).
  void skip_to_after(std::string_view close, std::string_view alt, size_t from) {
    size_t e = s_.find(close, from);
    if (!alt.empty()) e = std::min(e, s_.find(alt, from));
    i_ = e == std::string_view::npos ? s_.size() : e + close.size();
    space();
  }

  void code() {
    if (starts_with(s_, i_, "```")) return skip_to_after("```", {}, i_ + 3);
    // Inline code ends at the next backtick of the same paragraph; a lone backtick is punctuation.
    const size_t e = s_.find('`', i_ + 1);
    const size_t para = s_.find("\n\n", i_ + 1);
    i_ = (e != std::string_view::npos && e < para) ? e + 1 : i_ + 1;
    space();
  }

  void dollar() {
    if (starts_with(s_, i_, "$$")) {
      const size_t e = s_.find("$$", i_ + 2);
      i_ = e == std::string_view::npos ? i_ + 2 : e + 2;
      return space();
    }
    const size_t e = inline_math_end();
    i_ = e == std::string_view::npos ? i_ + 1 : e + 1;
    space();
  }

  // The closing $ of inline math opened at i_, by pandoc's rule: the opening $ is followed by a
  // non-space, the closing one preceded by a non-space and not followed by a digit. So prices
  // ("costs $5 and $7") are not math. Math does not cross a blank line; the search is bounded so
  // that a text full of lone dollars stays linear.
  size_t inline_math_end() const {
    const size_t n = s_.size();
    if (i_ + 1 >= n || is_ascii_space(s_[i_ + 1])) return std::string_view::npos;
    const size_t limit = std::min(n, i_ + 4096);
    for (size_t j = i_ + 1; j < limit; ++j) {
      const char c = s_[j];
      if (c == '\\') { ++j; continue; }
      if (c == '\n' && j + 1 < n && s_[j + 1] == '\n') return std::string_view::npos;
      if (c == '$' && !is_ascii_space(s_[j - 1]) && !(j + 1 < n && is_ascii_digit(s_[j + 1]))) return j;
    }
    return std::string_view::npos;
  }

  // A balanced {..} or [..] group starting at i_; returns false (and moves nothing) when there is none.
  bool skip_group(char open, char close) {
    if (i_ >= s_.size() || s_[i_] != open) return false;
    int depth = 0;
    for (size_t j = i_; j < s_.size(); ++j) {
      const char c = s_[j];
      if (c == '\\') { ++j; continue; }
      if (c == open) ++depth;
      else if (c == close && --depth == 0) { i_ = j + 1; return true; }
      else if (open == '[' && c == '\n') return false;  // an optional argument is short
    }
    i_ = s_.size();  // unbalanced to the end: math or code, not prose
    return true;
  }

  void command() {
    const size_t n = s_.size();
    if (i_ + 1 >= n) { ++i_; return; }
    const char next = s_[i_ + 1];
    if (next == '(' || next == '[') {
      // When no closing \) (\]) follows one opening, none follows a later one: the search is not
      // repeated (a text of many unclosed "\(" was quadratic: 6 s for 200 KB).
      bool& none = next == '(' ? no_paren_close_ : no_bracket_close_;
      const size_t e = none ? std::string_view::npos : s_.find(next == '(' ? "\\)" : "\\]", i_ + 2);
      none = e == std::string_view::npos;
      i_ = e == std::string_view::npos ? i_ + 2 : e + 2;
      return space();
    }
    if (!is_ascii_alpha(next)) {  // \$ \% \\ \, ...: an escaped symbol or spacing
      i_ += (static_cast<unsigned char>(next) < 0x80) ? 2 : 1;
      return space();
    }
    size_t j = i_ + 1;
    while (j < n && is_ascii_alpha(s_[j])) ++j;
    const std::string_view name = s_.substr(i_ + 1, j - i_ - 1);
    if (j < n && s_[j] == '*') ++j;
    i_ = j;
    space();
    if (name == "begin" || name == "end") {
      const size_t env_start = i_ + 1;
      if (!skip_group('{', '}')) return;
      const std::string_view env = s_.substr(env_start, i_ - 1 - env_start);
      if (name == "begin" && drop_environment(env)) {
        const std::string end = "\\end{" + std::string(env) + "}";
        skip_to_after(end, {}, i_);
      }
      return;
    }
    if (text_command(name)) return;  // its {argument} stays: the braces become spaces
    if (name == "href") {            // \href{url}{text}: the text stays
      skip_group('{', '}');
      return;
    }
    while (skip_group('[', ']') || skip_group('{', '}')) {
    }
  }

  bool tag() {
    size_t j = i_ + 1;
    if (j < s_.size() && s_[j] == '/') ++j;
    const size_t name_start = j;
    while (j < s_.size() && (is_ascii_alpha(s_[j]) || is_ascii_digit(s_[j]))) ++j;
    const std::string_view name = s_.substr(name_start, j - name_start);
    if (name.empty() || !known_tag(name)) return false;
    const size_t close = s_.find('>', j);
    if (close == std::string_view::npos || close - j > 200) return false;
    if (j < close && s_[j] != ' ' && s_[j] != '/') return false;  // "<think>", "<br/>", "<a href=..>"
    i_ = close + 1;
    space();
    return true;
  }

  bool url() {
    if (i_ > 0 && (is_ascii_alpha(s_[i_ - 1]) || is_ascii_digit(s_[i_ - 1]))) return false;
    if (!starts_with(s_, i_, "http://") && !starts_with(s_, i_, "https://") && !starts_with(s_, i_, "ftp://") &&
        !starts_with(s_, i_, "www."))
      return false;
    while (i_ < s_.size() && !is_ascii_space(s_[i_])) ++i_;
    space();
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string out_;
  bool no_paren_close_ = false, no_bracket_close_ = false;
};

// ============================================================================================
// Fast path: script counts and function words
// ============================================================================================

// Languages of the function-word lists. Only en, fr, de, es, it (and ru for Cyrillic) are ever
// decided by words; pt, nl, ca, gl and ro lists exist to veto: a Portuguese or Catalan text that
// shares a few words with Spanish must not be called Spanish without CLD2.
enum Lang : uint16_t { kEn, kFr, kDe, kEs, kIt, kPt, kNl, kCa, kGl, kRo, kRu, kLangs };
constexpr std::array<const char*, kLangs> kCodes{"en", "fr", "de", "es", "it", "pt", "nl", "ca", "gl", "ro", "ru"};
constexpr uint16_t bit(Lang l) { return static_cast<uint16_t>(1u << l); }
constexpr uint16_t kDecidable = bit(kEn) | bit(kFr) | bit(kDe) | bit(kEs) | bit(kIt);

struct WordList {
  uint16_t langs;
  std::initializer_list<std::string_view> words;
};

// Word -> languages, open addressing with FNV-1a: looked up for every word of every record, where
// std::unordered_map spent a third of the fast path's time hashing and chasing buckets.
class WordTable {
 public:
  void add(std::string_view word, uint16_t langs) {
    const uint64_t h = hash(word);
    for (size_t i = h & kMask;; i = (i + 1) & kMask) {
      Slot& slot = slots_[i];
      if (slot.langs == 0) {
        slot = {h, word, langs};
        if (++size_ * 2 > slots_.size()) std::abort();  // more words than the table was sized for
        return;
      }
      if (slot.hash == h && slot.word == word) {
        slot.langs |= langs;
        return;
      }
    }
  }
  uint16_t find(std::string_view word) const {
    const uint64_t h = hash(word);
    for (size_t i = h & kMask;; i = (i + 1) & kMask) {
      const Slot& slot = slots_[i];
      if (slot.langs == 0) return 0;
      if (slot.hash == h && slot.word == word) return slot.langs;
    }
  }

 private:
  static uint64_t hash(std::string_view w) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (char c : w) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    return h ^ (h >> 29);
  }
  struct Slot {
    uint64_t hash = 0;
    std::string_view word;
    uint16_t langs = 0;
  };
  static constexpr size_t kMask = 2047;
  std::array<Slot, kMask + 1> slots_{};
  size_t size_ = 0;
};

// Frequent words that are rare as words in the other listed languages (a word frequent in several,
// like "que" or "la", is either absent or carries every language it belongs to).
const WordTable& word_table() {
  static const WordTable table = [] {
    const WordList lists[] = {
        {bit(kEn),
         {"the", "and", "that", "this", "these", "those", "with", "from", "what", "how", "many", "much", "are",
          "has", "have", "had", "which", "find", "there", "their", "they", "she", "his", "her", "him", "it", "its",
          "by", "at", "than", "when", "who", "each", "be", "been", "if", "not", "can", "does", "did", "would",
          "should", "after", "into", "is", "of", "to", "you", "your", "we", "our", "then", "were", "one", "two",
          "three", "all", "some", "only", "every", "where", "why", "bought", "buys", "sold", "gets", "got", "left",
          "more", "less", "times", "number", "costs", "cost", "let", "given", "such", "same", "other", "must",
          "could"}},
        {bit(kFr),
         {"les", "des", "est", "une", "du", "et", "dans", "pour", "combien", "qui", "sur", "au", "aux", "avec", "ce",
          "cette", "ces", "il", "elle", "ils", "elles", "sont", "pas", "par", "nous", "vous", "leur", "leurs", "quel",
          "quelle", "quels", "quelles", "son", "ses", "sa", "on", "était", "être", "avoir", "ont", "fait", "chaque",
          "calculer", "déterminer", "trouver", "valeur", "nombre", "où", "après", "plus", "été", "donc", "alors",
          "dont", "deux", "trois", "soit", "achète", "coûte", "euros"}},
        {bit(kFr) | bit(kIt), {"le"}},
        {bit(kFr), {"qu", "j"}},  // "qu'il", "j'ai": apostrophes split words
        {bit(kDe),
         {"der", "das", "und", "ist", "ein", "eine", "einen", "einem", "einer", "mit", "von", "den", "dem", "wie",
          "viele", "viel", "auf", "für", "nicht", "sich", "zu", "im", "hat", "haben", "sind", "wird", "werden",
          "wenn", "dass", "sie", "auch", "noch", "nach", "bei", "aus", "oder", "aber", "jeden", "jede", "jeder",
          "kostet", "berechne", "berechnen", "bestimme", "bestimmen", "finde", "insgesamt", "zwei", "drei", "beim",
          "zum", "zur", "vom", "ins", "diese", "dieser", "dieses", "ihre", "seine", "wieviel", "groß", "welche"}},
        {bit(kDe) | bit(kNl), {"die", "er"}},
        {bit(kEs),
         {"y", "los", "las", "más", "cuántos", "cuántas", "cuánto", "cuánta", "cuantos", "cuantas", "cuál",
          "cuáles", "hay", "tiene", "tienen", "muy", "dónde", "qué", "está", "están", "sus", "pero", "también",
          "después", "mismo", "misma", "ella", "ellos", "ellas", "hasta", "cuando", "dinero", "años", "año",
          "cuesta", "cuestan", "compra", "compró", "gasta", "gastó", "precio", "halla", "encuentra", "calcula",
          "sí", "resuelve", "pesos", "días", "sea", "siguiente", "entonces", "mayor", "sabiendo", "puntos", "cuyo",
          "cuya", "ningún", "ninguna", "estos", "estas", "esos", "esas", "usted"}},
        {bit(kEs) | bit(kCa), {"el", "del", "es"}},
        {bit(kEs) | bit(kIt), {"lo", "con"}},
        {bit(kEs) | bit(kIt) | bit(kCa), {"una", "al"}},
        {bit(kEs) | bit(kPt) | bit(kGl), {"por", "para", "como"}},
        {bit(kIt),
         {"il", "di", "che", "della", "delle", "dei", "degli", "gli", "sono", "è", "quanti", "quante", "quanto",
          "quanta", "ogni", "nel", "nella", "nei", "alla", "alle", "anche", "come", "suo", "loro", "questo",
          "questa", "quale", "quali", "calcola", "trova", "determinare", "quindi", "ed", "dal", "dalla", "sul",
          "sulla", "dell", "nell", "dall", "sull", "quest", "numero", "essere", "viene", "deve", "devono", "tutti",
          "tutte", "dopo", "ancora", "lato", "volte", "più", "perché", "mentre", "ciascuno", "ciascuna", "tra", "fra", "costa", "costano", "allora", "sia", "hanno"}},
        {bit(kIt) | bit(kCa), {"per"}},
        {bit(kIt) | bit(kGl), {"non"}},
        {bit(kPt),
         {"não", "um", "em", "é", "ao", "aos", "quantos", "quantas", "você", "são", "também", "então", "tem", "têm",
          "seu", "ele", "ela", "eles", "elas", "isso", "muito", "qual", "pelo", "pela", "com", "foi", "uma",
          "reais", "comprou"}},
        {bit(kPt) | bit(kGl), {"do", "da", "dos", "das", "na", "onde"}},
        {bit(kGl), {"unha", "cantos", "cantas", "ten", "teñen", "moito", "tamén", "sen", "polo", "pola", "cal"}},
        {bit(kCa), {"els", "amb", "és", "són", "quants", "quantes", "quant", "què", "però", "aquest", "aquesta",
                    "seva", "també", "hi", "ho", "mateix"}},
        {bit(kFr) | bit(kCa), {"les"}},
        {bit(kNl), {"het", "een", "van", "zijn", "niet", "wat", "hoeveel", "voor", "met", "dat", "op", "te",
                    "naar", "bij", "ook", "hij", "zij", "ze", "worden", "wordt", "heeft", "hebben", "kost"}},
        {bit(kRo), {"și", "şi", "este", "sunt", "care", "pentru", "din", "în", "câte", "câți", "cât", "să",
                    "dacă", "fiecare", "lui", "lor", "unei", "unui"}},
        {bit(kRu),
         {"что", "это", "если", "сколько", "найдите", "найти", "вычислите", "чему", "равно", "равна", "равен",
          "равны", "который", "которая", "которое", "которые", "было", "были", "будет", "можно", "нужно", "его",
          "её", "ее", "всего", "каждый", "каждая", "каждое", "каждого", "каждой", "также", "чтобы", "чем",
          "является", "получил", "купил", "стоит", "стоят", "рублей"}},
    };
    WordTable t;
    for (const WordList& l : lists) {
      for (std::string_view w : l.words) t.add(w, l.langs);
    }
    return t;
  }();
  return table;
}

// Non-ASCII Latin letters (lowercase) each decidable language writes: any other one sends the text
// to CLD2 (a "ã" or "ł" says the text is something else, or a mix).
uint16_t latin_letter_langs(char32_t c) {
  switch (c) {
    case U'à': return bit(kFr) | bit(kIt);
    case U'â': case U'æ': case U'ç': case U'ê': case U'ë': case U'ï': case U'ô': case U'œ': case U'û':
    case U'ÿ':
      return bit(kFr);
    case U'é': return bit(kFr) | bit(kEs) | bit(kIt);
    case U'è': case U'ù': return bit(kFr) | bit(kIt);
    case U'î': return bit(kFr) | bit(kIt);
    case U'ü': return bit(kFr) | bit(kDe) | bit(kEs);
    case U'ä': case U'ö': case U'ß': return bit(kDe);
    case U'á': case U'í': case U'ó': case U'ú': return bit(kEs) | bit(kIt);
    case U'ñ': return bit(kEs);
    case U'ì': case U'ò': return bit(kIt);
    default: return 0;
  }
}

bool russian_alphabet(char32_t lower) { return (lower >= 0x430 && lower <= 0x44F) || lower == 0x451; }

// Han, kana and Hangul characters count as two letters: one carries about as much as two Latin
// letters, and "妈妈带了30元，买了一条鱼，剩6元，这条鱼多少钱？" (17 characters) is plainly Chinese.
size_t weight(Script s) {
  return (s == Script::han || s == Script::hiragana || s == Script::katakana || s == Script::hangul) ? 2 : 1;
}

size_t weight_of(Script s) { return s == Script::none ? 0 : weight(s); }

struct Analysis {
  size_t letters = 0;                // weighted (see weight())
  size_t single_latin = 0;           // one-letter Latin words: variables and option labels, not language
  std::array<size_t, text::kScriptCount> by_script{};  // characters per script
  size_t words = 0;                 // Latin and Cyrillic words
  std::array<size_t, kLangs> hits{};  // words of each language's list
  uint16_t latin_ok = kDecidable;   // languages whose orthography has every non-ASCII Latin letter seen
  size_t non_russian_cyrillic = 0;  // Cyrillic letters outside the 33 of Russian (і ї є ґ ў ј љ ә ...)
  size_t russian_only_letters = 0;  // ы э ё: not in Bulgarian, Ukrainian, Serbian, Macedonian
};

class Analyzer {
 public:
  Analysis run(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
      const auto b = static_cast<unsigned char>(s[i]);
      if (b < 0x80) {  // ASCII: most of the text of most records
        ++i;
        const auto lc = static_cast<char>(b | 0x20);
        if (lc < 'a' || lc > 'z') {  // apostrophes too: "qu'il" is "qu" + "il"
          end_word();
          continue;
        }
        ++a_.letters;
        ++a_.by_script[static_cast<size_t>(Script::latin)];
        ++word_letters_;
        word_latin_ = true;
        if (len_ + 4 <= word_.size()) word_[len_++] = lc;
        else long_ = true;
        continue;
      }
      const text::Decoded d = text::decode(s, i);
      i += d.len;
      const Script sc = d.ok ? text::script_of(d.cp) : Script::none;
      if (sc == Script::none) {
        end_word();
        continue;
      }
      a_.letters += weight(sc);
      ++a_.by_script[static_cast<size_t>(sc)];
      if (sc != Script::latin && sc != Script::cyrillic) {
        end_word();
        continue;
      }
      ++word_letters_;
      word_latin_ = sc == Script::latin;
      const char32_t lc = text::lower(d.cp);
      if (sc == Script::latin && lc >= 0x80) a_.latin_ok &= latin_letter_langs(lc);
      if (sc == Script::cyrillic) {
        if (!russian_alphabet(lc)) ++a_.non_russian_cyrillic;
        else if (lc == U'ы' || lc == U'э' || lc == U'ё') ++a_.russian_only_letters;
      }
      if (len_ + 4 <= word_.size()) {
        char* w = word_.data() + len_;
        char* const start = w;
        text::encode(w, lc);
        len_ += static_cast<size_t>(w - start);
      } else {
        long_ = true;
      }
    }
    end_word();
    return a_;
  }

 private:
  void end_word() {
    if (len_ == 0) return;
    ++a_.words;
    if (word_letters_ == 1 && word_latin_) ++a_.single_latin;
    word_letters_ = 0;
    if (!long_) {
      const uint16_t langs = word_table().find(std::string_view(word_.data(), len_));
      if (langs != 0) {
        for (int l = 0; l < kLangs; ++l) {
          if (langs & (1u << l)) ++a_.hits[static_cast<size_t>(l)];
        }
      }
    }
    len_ = 0;
    long_ = false;
  }

  Analysis a_;
  // Longer words are never looked up: the longest listed word ("вычислите") has 18 bytes, and most
  // words of a text that are longer than that cost a hash for nothing.
  std::array<char, 24> word_{};
  size_t len_ = 0;
  size_t word_letters_ = 0;
  bool word_latin_ = false;
  bool long_ = false;
};

Detection decided(const char* lang, double share, size_t letters, const char* method) {
  Detection d;
  d.lang = lang;
  d.confidence = share;
  d.reliable = true;
  d.letters = letters;
  d.method = method;
  return d;
}

Detection decide(const Analysis& a) {
  Detection none;
  none.lang.clear();
  none.letters = a.letters;
  // Shares are of the letters outside one-letter Latin words: "设 a, b ∈ R, 则 a^3=b^3 是 3^a=3^b 的
  // ( ) A. 充分不必要条件 B. ..." is Chinese whatever its variables and option labels.
  const size_t base = a.letters - a.single_latin;
  if (base == 0) return none;
  const auto count = [&](Script s) { return a.by_script[static_cast<size_t>(s)] * weight(s); };
  const auto share = [&](size_t n) { return std::min(1.0, static_cast<double>(n) / static_cast<double>(base)); };
  // A script "dominates" with at least 80% of the letters; the rest is variable names, units, a
  // quoted word.
  const auto dominant = [&](size_t n) { return n * 5 >= base * 4; };

  const size_t han = count(Script::han);
  const size_t kana = count(Script::hiragana) + count(Script::katakana);
  const size_t hangul = count(Script::hangul);
  if (dominant(han + kana) && hangul == 0) {
    // Han without kana is Chinese (both scripts: CLD2's zh and zh-Hant). Japanese writes kana in
    // every sentence (particles, verb endings): at least 10% of its CJK letters. A text in between
    // (a kana or two in Chinese) goes to CLD2.
    if (kana == 0) return decided("zh", share(han), a.letters, "script");
    if (kana >= 4 && kana * 10 >= han + kana) return decided("ja", share(han + kana), a.letters, "script");
    return none;
  }
  if (dominant(hangul)) return decided("ko", share(hangul), a.letters, "script");
  // Scripts written by one language only (among those CLD2 knows).
  if (dominant(count(Script::thai))) return decided("th", share(count(Script::thai)), a.letters, "script");
  if (dominant(count(Script::greek))) return decided("el", share(count(Script::greek)), a.letters, "script");
  if (dominant(count(Script::georgian)))
    return decided("ka", share(count(Script::georgian)), a.letters, "script");
  if (dominant(count(Script::armenian)))
    return decided("hy", share(count(Script::armenian)), a.letters, "script");

  // Cyrillic is also Ukrainian, Bulgarian, Serbian, Macedonian, Belarusian, Kazakh...: Russian only
  // when every Cyrillic letter is in the Russian alphabet and the text shows two signs of Russian
  // (ы э ё, absent from bg/uk/sr/mk, or words of the Russian list).
  const size_t cyr = count(Script::cyrillic);
  if (cyr * 10 >= base * 9) {
    if (a.non_russian_cyrillic == 0 && a.russian_only_letters + a.hits[kRu] >= 2)
      return decided("ru", share(cyr), a.letters, "words");
    return none;
  }

  // Latin: a language whose function words are at least 3, a fifth of the words, three times as
  // many as any other list's, and whose orthography has every accented letter of the text.
  const size_t lat = count(Script::latin) - a.single_latin;
  if (lat * 10 < base * 9) return none;
  int best = -1;
  for (int l = 0; l < kLangs; ++l) {
    if (best < 0 || a.hits[static_cast<size_t>(l)] > a.hits[static_cast<size_t>(best)]) best = l;
  }
  const size_t top = a.hits[static_cast<size_t>(best)];
  if (!(kDecidable & a.latin_ok & (1u << best))) return none;
  if (top < 3 || top * 5 < a.words) return none;
  for (int l = 0; l < kLangs; ++l) {
    if (l != best && a.hits[static_cast<size_t>(l)] * 3 > top) return none;
  }
  return decided(kCodes[static_cast<size_t>(best)], share(lat), a.letters, "words");
}

// Below min_letters (both modes): a text of Han, kana or Hangul with at least `min_cjk` of those
// characters is named by its script, as the fast path would name it, since the script and not the
// amount of text tells zh, ja and ko apart. The same 80% share as the fast path, over the letters
// outside one-letter Latin words; Japanese needs only two kana here (and 10% of the CJK characters),
// as in the check after CLD2: a short Japanese prompt ("値を求めよ") may hold no more. Anything else
// (a Latin word or two, a stray kana in Chinese) stays "und". Reliable = false: a short text.
Detection decide_short_cjk(const Analysis& a, size_t min_cjk) {
  Detection none;
  none.lang = "und";
  none.letters = a.letters;
  const auto chars = [&](Script s) { return a.by_script[static_cast<size_t>(s)]; };
  const size_t han = chars(Script::han);
  const size_t kana = chars(Script::hiragana) + chars(Script::katakana);
  const size_t hangul = chars(Script::hangul);
  if (min_cjk == 0 || han + kana + hangul < min_cjk) return none;
  const size_t base = a.letters - a.single_latin;
  const auto dominant = [&](size_t n) { return n * weight(Script::han) * 5 >= base * 4; };
  const auto named = [&](const char* lang, size_t n) {
    Detection d = decided(lang, std::min(1.0, static_cast<double>(n * weight(Script::han)) / static_cast<double>(base)),
                          a.letters, "short_cjk");
    d.reliable = false;
    return d;
  };
  if (hangul == 0 && dominant(han + kana)) {
    if (kana == 0) return named("zh", han);
    if (kana >= 2 && kana * 10 >= han + kana) return named("ja", han + kana);
    return none;
  }
  if (dominant(hangul)) return named("ko", hangul);
  return none;
}

// The check after CLD2 (both modes). CLD2's small tables miss on some short math prompts once the
// formulas are gone: "unknown" for "Sea un número complejo tal que y . Halla la parte imaginaria de
// sabiendo que es positiva", even "en" (reliable!) for "Halla la parte imaginaria de sabiendo que es
// positiva". When CLD2 says unknown, the fast path's rules decide, then the function words; when CLD2
// names a language with a word list none of whose words occur while another list has at least 2
// (and twice as many as any other list), the words decide. Either way reliable = false.
Detection check_with_words(Detection d, const Analysis& a) {
  // CLD2 mixes Chinese and Japanese up on short texts (a Chinese prompt with a few Latin words comes
  // out "ja"); the script settles it: Japanese without kana does not occur, Chinese has none.
  const size_t han = a.by_script[static_cast<size_t>(Script::han)];
  const size_t kana = a.by_script[static_cast<size_t>(Script::hiragana)] + a.by_script[static_cast<size_t>(Script::katakana)];
  const bool ja_by_kana = kana >= 2 && kana * 10 >= han + kana;
  if ((d.lang == "ja" && kana == 0 && han > 0) || (d.lang == "zh" && ja_by_kana)) {
    d.lang = d.lang == "ja" ? "zh" : "ja";
    d.reliable = false;
    d.method = "check";
    return d;
  }
  int best = -1;
  for (int l = 0; l < kLangs; ++l) {
    if (best < 0 || a.hits[static_cast<size_t>(l)] > a.hits[static_cast<size_t>(best)]) best = l;
  }
  const size_t top = a.hits[static_cast<size_t>(best)];
  for (int l = 0; l < kLangs; ++l) {
    if (l != best && a.hits[static_cast<size_t>(l)] * 2 > top) return d;  // no clear winner
  }
  const std::string_view winner = kCodes[static_cast<size_t>(best)];
  if (d.lang == "und") {
    // The script rules of the fast path first (CLD2 knows no language for some Chinese prompts with
    // a Latin word in them).
    Detection by_script = decide(a);
    if (!by_script.lang.empty()) {
      by_script.reliable = false;
      by_script.method = "check";
      return by_script;
    }
    if (top < 2) return d;
  } else {
    const auto listed = std::find(kCodes.begin(), kCodes.end(), d.lang);
    if (listed == kCodes.end() || d.lang == winner || top < 2) return d;
    if (a.hits[static_cast<size_t>(listed - kCodes.begin())] != 0) return d;
  }
  d.lang = std::string(winner);
  d.confidence = static_cast<double>(top) / static_cast<double>(std::max<size_t>(a.words, 1));
  d.reliable = false;
  d.method = "check";
  return d;
}

// CLD2 reads at most this much: its cost grows with the text, and a language is settled long before.
constexpr size_t kMaxCld2Bytes = 256 * 1024;

}  // namespace

std::string strip_markup(std::string_view text) { return Stripper(text).run(); }

size_t count_letters(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      n += ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') ? 1 : 0;
      ++i;
      continue;
    }
    const text::Decoded d = text::decode(s, i);
    if (d.ok) n += weight_of(text::script_of(d.cp));
    i += d.len;
  }
  return n;
}

std::string iso_code(std::string_view code) {
  if (code.empty() || code == "un" || code == "xxx" || code.substr(0, 3) == "xx-") return "und";
  if (code == "iw") return "he";
  if (code == "jw") return "jv";
  const size_t dash = code.find('-');  // zh-Hant, sr-ME
  return std::string(code.substr(0, dash));
}

namespace {

Detection run_cld2(std::string_view stripped) {
  if (stripped.size() > kMaxCld2Bytes) {
    size_t cut = kMaxCld2Bytes;
    while (cut > 0 && (static_cast<unsigned char>(stripped[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    stripped = stripped.substr(0, cut);
  }
  CLD2::Language language3[3];
  int percent3[3] = {0, 0, 0};
  double scores3[3] = {0, 0, 0};
  int text_bytes = 0;
  bool reliable = false;
  const CLD2::CLDHints hints = {nullptr, nullptr, CLD2::UNKNOWN_ENCODING, CLD2::UNKNOWN_LANGUAGE};
  // No kCLDFlagBestEffort: on a text CLD2 cannot place, best effort answers "en" (its default), even
  // for plain Spanish; "unknown" lets the word check below do better.
  const CLD2::Language lang = CLD2::ExtDetectLanguageSummary(
      stripped.data(), static_cast<int>(stripped.size()), /*is_plain_text=*/true, &hints, /*flags=*/0,
      language3, percent3, scores3, /*resultchunkvector=*/nullptr, &text_bytes, &reliable);
  Detection d;
  d.lang = iso_code(CLD2::LanguageCode(lang));
  d.method = "cld2";
  if (d.lang != "und") {
    d.confidence = std::clamp(percent3[0] / 100.0, 0.0, 1.0);
    d.reliable = reliable;
  }
  return d;
}

}  // namespace

Detection cld2_detect(std::string_view stripped) {
  Detection d = run_cld2(stripped);
  d.letters = count_letters(stripped);
  return d;
}

Detection fast_path(std::string_view stripped) { return decide(Analyzer().run(stripped)); }

Detection detect_stripped(std::string_view stripped, const DetectOptions& options) {
  const Analysis a = Analyzer().run(stripped);
  if (a.letters < options.min_letters) return decide_short_cjk(a, options.min_cjk);
  if (options.fast_path) {
    Detection d = decide(a);
    if (!d.lang.empty()) return d;
  }
  Detection d = run_cld2(stripped);
  d.letters = a.letters;
  return check_with_words(std::move(d), a);
}

Detection detect(std::string_view text, const DetectOptions& options) {
  return detect_stripped(strip_markup(text), options);
}

}  // namespace tamis::lang
