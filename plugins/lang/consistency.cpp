#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "ops.hpp"
#include "script.hpp"
#include "utf8.hpp"

namespace tamis::lang {

namespace {

using text::Script;

// The response's reasoning and answer. "<think>...</think>rest": both parts; "...</think>rest" (the
// opening tag left out, as some chat templates do): everything before the closing tag is thinking;
// "<think>..." never closed: all thinking (a trace cut by a length limit).
struct Parts {
  std::string_view think, answer;
  bool has_think = false;
};

Parts split_think(std::string_view response) {
  constexpr std::string_view kOpen = "<think>", kClose = "</think>";
  Parts parts;
  const size_t open = response.find(kOpen);
  const size_t close = response.find(kClose);
  if (close != std::string_view::npos) {
    parts.has_think = true;
    const size_t start = (open != std::string_view::npos && open < close) ? open + kOpen.size() : 0;
    parts.think = response.substr(start, close - start);
    parts.answer = response.substr(close + kClose.size());
  } else if (open != std::string_view::npos) {
    parts.has_think = true;
    parts.think = response.substr(open + kOpen.size());
  } else {
    parts.answer = response;
  }
  return parts;
}

// Which writing system a sentence is mostly in: chunks never mix two, so that a Chinese paragraph
// inside an English trace is detected on its own.
enum class Family { none, latin, cyrillic, cjk, hangul, other };
constexpr size_t kFamilies = 6;
using FamilyLetters = std::array<size_t, kFamilies>;  // weighted letters per family

Family family_of(Script s) {
  switch (s) {
    case Script::none: return Family::none;
    case Script::latin: return Family::latin;
    case Script::cyrillic: return Family::cyrillic;
    case Script::han: case Script::hiragana: case Script::katakana: return Family::cjk;
    case Script::hangul: return Family::hangul;
    default: return Family::other;
  }
}

// A sentence or a chunk of stripped text, with its letters per writing system.
struct Piece {
  std::string_view text;
  FamilyLetters letters{};
  size_t kana = 0;
  size_t total() const {
    size_t n = 0;
    for (size_t f = 1; f < kFamilies; ++f) n += letters[f];
    return n;
  }
  Family family() const {  // the writing system with most letters (none without letters)
    size_t best = 0;
    for (size_t f = 1; f < kFamilies; ++f) {
      if (letters[f] > letters[best]) best = f;
    }
    return static_cast<Family>(best);
  }
  void add(const Piece& p) {
    for (size_t f = 0; f < kFamilies; ++f) letters[f] += p.letters[f];
    kana += p.kana;
  }
};

std::vector<Piece> sentences(std::string_view s) {
  std::vector<Piece> out;
  Piece cur;
  size_t start = 0;
  for (size_t i = 0; i < s.size();) {
    const text::Decoded d = text::decode(s, i);
    i += d.len;
    const Script sc = d.ok ? text::script_of(d.cp) : Script::none;
    if (sc != Script::none) {
      cur.letters[static_cast<size_t>(family_of(sc))] += count_letters(s.substr(i - d.len, d.len));
      if (sc == Script::hiragana || sc == Script::katakana) ++cur.kana;
    }
    const bool ascii_end = (d.cp == '.' || d.cp == '!' || d.cp == '?' || d.cp == ';') && (i >= s.size() || s[i] == ' ');
    const bool cjk_end = d.cp == U'。' || d.cp == U'！' || d.cp == U'？' || d.cp == U'；';
    if (ascii_end || cjk_end || i >= s.size()) {
      cur.text = s.substr(start, i - start);
      out.push_back(cur);
      cur = Piece{};
      start = i;
    }
  }
  return out;
}

// Consecutive sentences of one writing system merged into chunks of at least `min_letters` letters
// (a short tail joins the chunk before it when both are in the same writing system), so that each
// chunk is long enough for a detector.
std::vector<Piece> chunks(std::string_view s, size_t min_letters) {
  std::vector<Piece> out;
  Piece cur;
  const char* begin = nullptr;
  const auto extend = [](Piece& p, const char* from, const Piece& sentence) {
    p.text = std::string_view(from, static_cast<size_t>(sentence.text.data() + sentence.text.size() - from));
    p.add(sentence);
  };
  for (const Piece& sentence : sentences(s)) {
    const Family f = sentence.family();
    if (cur.total() > 0 && f != Family::none && f != cur.family()) {
      out.push_back(cur);
      cur = Piece{};
      begin = nullptr;
    }
    if (!begin) begin = sentence.text.data();
    extend(cur, begin, sentence);
    if (cur.total() >= min_letters) {
      out.push_back(cur);
      cur = Piece{};
      begin = nullptr;
    }
  }
  if (cur.total() > 0) {
    if (cur.total() < min_letters && !out.empty() && out.back().family() == cur.family()) {
      extend(out.back(), out.back().text.data(), cur);
    } else {
      out.push_back(cur);
    }
  }
  return out;
}

using Tally = std::vector<std::pair<std::string, size_t>>;  // letters per language, by first appearance

void add(Tally& tally, const std::string& lang, size_t letters) {
  if (letters == 0) return;
  auto it = std::find_if(tally.begin(), tally.end(), [&](const auto& e) { return e.first == lang; });
  if (it == tally.end()) tally.emplace_back(lang, letters);
  else it->second += letters;
}

// Each chunk's letters go to its detected language, except letters of another non-Latin writing
// system inside it ("so we 计算 the area"): those go to the language their script says (Han: zh, or
// ja with kana; Hangul: ko; Cyrillic: "cyrillic"; any other: "other script"). Latin letters inside a non-Latin chunk (formula
// names, a technical term in English) are the chunk's.
void add_chunks(std::string_view stripped, size_t chunk_letters, const DetectOptions& options, Tally& tally) {
  for (const Piece& c : chunks(stripped, chunk_letters)) {
    const Detection d = detect_stripped(c.text, options);
    if (d.lang == "und") continue;
    const Family own = c.family();
    size_t foreign = 0;
    for (size_t f = static_cast<size_t>(Family::cyrillic); f < kFamilies; ++f) {
      if (static_cast<Family>(f) == own || c.letters[f] == 0) continue;
      foreign += c.letters[f];
      switch (static_cast<Family>(f)) {
        case Family::cjk: add(tally, c.kana > 0 ? "ja" : "zh", c.letters[f]); break;
        case Family::hangul: add(tally, "ko", c.letters[f]); break;
        case Family::cyrillic: add(tally, "cyrillic", c.letters[f]); break;
        default: add(tally, "other script", c.letters[f]); break;
      }
    }
    add(tally, d.lang, d.letters > foreign ? d.letters - foreign : 0);
  }
}

// The language with the most letters (the first one on a tie: deterministic), or nullptr.
const std::pair<std::string, size_t>* main_language(const Tally& tally) {
  const std::pair<std::string, size_t>* main = nullptr;
  for (const auto& e : tally) {
    if (!main || e.second > main->second) main = &e;
  }
  return main;
}

}  // namespace

const ParamTable Consistency::params = {
    {.name = "prompt_field", .type = ParamType::string, .default_json = "\"problem\"",
     .help = "the prompt's field (\"\": no prompt, compare the response's parts only)"},
    {.name = "response_field", .type = ParamType::string, .default_json = "\"response\"",
     .help = "the response's field (reasoning trace and answer)"},
    {.name = "think", .type = ParamType::boolean, .default_json = "true",
     .help = "treat the <think>...</think> part of the response apart from the answer after it"},
    {.name = "chunk_letters", .type = ParamType::integer, .default_json = "80",
     .help = "the response is cut at sentence ends into chunks of at least this many letters, each detected on its own"},
    {.name = "max_other_share", .type = ParamType::number, .default_json = "0.1",
     .help = "largest share of the response's letters (in chunks of known language) allowed in languages other than "
             "the response's main one"},
    {.name = "min_letters", .type = ParamType::integer, .default_json = "20",
     .help = "a part (prompt, think, answer) with fewer letters is `und` and not compared, unless min_cjk names it"},
    {.name = "min_cjk", .type = ParamType::integer, .default_json = "2",
     .help = "as in lang.identify: a part below min_letters with at least this many Han, kana and Hangul characters (80% of "
             "its letters) is named by the script (zh, ja, ko) and compared (0: off)"},
    {.name = "fast_path", .type = ParamType::boolean, .default_json = "true", .help = "as in lang.identify"},
};

Consistency::Consistency(const Params& p)
    : prompt_field_(p.get_string("prompt_field")),
      response_field_(p.get_string("response_field")),
      think_(p.get_bool("think")),
      chunk_letters_(static_cast<size_t>(p.get_int("chunk_letters"))),
      max_other_share_(p.get_double("max_other_share")) {
  options_.min_letters = static_cast<size_t>(p.get_int("min_letters"));
  options_.min_cjk = static_cast<size_t>(p.get_int("min_cjk"));
  options_.fast_path = p.get_bool("fast_path");
}

void Consistency::check(const Params& p) {
  if (p.get_string("response_field").empty()) throw Error("response_field is empty");
  const int64_t chunk = p.get_int("chunk_letters");
  if (chunk < 10 || chunk > 100000) throw Error("chunk_letters must be between 10 and 100000");
  const double share = p.get_double("max_other_share");
  if (!(share >= 0 && share < 1)) throw Error("max_other_share must be in [0, 1)");
  const int64_t min = p.get_int("min_letters");
  if (min < 0 || min > 1000000) throw Error("min_letters must be between 0 and 1000000");
  const int64_t min_cjk = p.get_int("min_cjk");
  if (min_cjk < 0 || min_cjk > 1000000) throw Error("min_cjk must be between 0 and 1000000");
}

void Consistency::process(Record& r) const {
  const auto response = r.string_field(response_field_);
  if (!response) return r.reject_missing_field(response_field_, "missing_field", "no string field '" + response_field_ + "'");
  std::optional<std::string_view> prompt;
  if (!prompt_field_.empty()) {
    prompt = r.string_field(prompt_field_);
    if (!prompt) return r.reject_missing_field(prompt_field_, "missing_field", "no string field '" + prompt_field_ + "'");
  }
  const Parts parts = think_ ? split_think(*response) : Parts{{}, *response, false};

  // Each part's language is its main language over its chunks (a part that mixes languages is named
  // by the one that holds most of its letters); the response's tally is its parts' together.
  DetectOptions chunk_options = options_;
  chunk_options.min_letters = std::min(options_.min_letters, chunk_letters_);
  const auto part_language = [&](std::string_view text, Tally& tally) {
    Tally own;
    const std::string stripped = strip_markup(text);
    add_chunks(stripped, chunk_letters_, chunk_options, own);
    const auto* main = main_language(own);
    size_t letters = 0;
    for (const auto& [lang, n] : own) {
      letters += n;
      add(tally, lang, n);
    }
    if (!main) return std::string("und");
    if (letters >= options_.min_letters) return main->first;
    // Too few letters: lang.identify's answer for the whole part, "und" or, for a short Han, kana or
    // Hangul text, the script's (min_cjk): a Chinese prompt "9只兔子有多少条腿？" is compared.
    return detect_stripped(stripped, options_).lang;
  };
  Tally response_tally, prompt_tally;  // the prompt's letters are not the response's
  std::string prompt_lang, think_lang;
  if (prompt) {
    prompt_lang = part_language(*prompt, prompt_tally);
    r.annotate("lang_prompt", prompt_lang);
  }
  if (parts.has_think) {
    think_lang = part_language(parts.think, response_tally);
    r.annotate("lang_think", think_lang);
  }
  const std::string answer_lang = part_language(parts.answer, response_tally);
  r.annotate("lang_answer", answer_lang);

  size_t known = 0;
  for (const auto& e : response_tally) known += e.second;
  const auto* main = main_language(response_tally);
  const double other_share = known == 0 ? 0.0 : 1.0 - static_cast<double>(main->second) / static_cast<double>(known);
  r.annotate("lang_response", main ? main->first : std::string("und"));
  r.annotate("lang_other_share", std::round(other_share * 1000) / 1000);

  // The parts: every one long enough to tell must agree.
  const std::pair<const char*, const std::string*> named[] = {
      {"prompt", &prompt_lang}, {"think", &think_lang}, {"answer", &answer_lang}};
  std::string first, detail;
  bool disagree = false;
  for (const auto& [part, lang] : named) {
    if (lang->empty()) continue;  // absent part
    detail += (detail.empty() ? "" : ", ") + std::string(part) + " " + *lang;
    if (*lang == "und") continue;
    if (first.empty()) first = *lang;
    else if (*lang != first) disagree = true;
  }
  if (disagree) return r.reject("mixed_language", "parts disagree: " + detail);
  if (other_share > max_other_share_) {
    std::string others;
    for (const auto& e : response_tally) {
      if (&e == main) continue;
      others += (others.empty() ? "" : ", ") + e.first + " " +
                json::number(std::round(1000.0 * static_cast<double>(e.second) / static_cast<double>(known)) / 10) + "%";
    }
    r.reject("mixed_language", "response mainly " + main->first + "; other languages hold " +
                                   json::number(std::round(other_share * 1000) / 10) + "% of its letters (" + others +
                                   "; limit " + json::number(max_other_share_ * 100) + "%)");
  }
}

}  // namespace tamis::lang
