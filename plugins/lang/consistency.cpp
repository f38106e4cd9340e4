#include <algorithm>
#include <array>
#include <optional>
#include <cmath>
#include <map>

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

struct Sentence {
  std::string_view text;
  size_t letters = 0;  // weighted, as Detection::letters
  Family family = Family::none;
};

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

std::vector<Sentence> sentences(std::string_view s) {
  std::vector<Sentence> out;
  std::array<size_t, 6> by_family{};
  size_t start = 0;
  const auto close = [&](size_t end) {
    Sentence sentence{s.substr(start, end - start)};
    size_t best = 0;
    for (size_t f = 1; f < by_family.size(); ++f) {
      sentence.letters += by_family[f];
      if (by_family[f] > by_family[best]) best = f;
    }
    sentence.family = static_cast<Family>(best);
    out.push_back(sentence);
    by_family.fill(0);
    start = end;
  };
  for (size_t i = 0; i < s.size();) {
    const text::Decoded d = text::decode(s, i);
    i += d.len;
    const Script sc = d.ok ? text::script_of(d.cp) : Script::none;
    if (sc != Script::none) by_family[static_cast<size_t>(family_of(sc))] += count_letters(s.substr(i - d.len, d.len));
    const bool ascii_end = (d.cp == '.' || d.cp == '!' || d.cp == '?' || d.cp == ';') && (i >= s.size() || s[i] == ' ');
    const bool cjk_end = d.cp == U'。' || d.cp == U'！' || d.cp == U'？' || d.cp == U'；';
    if (ascii_end || cjk_end) close(i);
  }
  if (start < s.size()) close(s.size());
  return out;
}

// Consecutive sentences of one writing system merged into chunks of at least `min_letters` letters
// (a short tail joins the chunk before it when both are in the same writing system), so that each
// chunk is long enough for a detector.
std::vector<std::string_view> chunks(std::string_view s, size_t min_letters) {
  std::vector<std::string_view> out;
  std::vector<Family> families;
  const char* begin = nullptr;
  const char* end = nullptr;
  size_t letters = 0;
  Family family = Family::none;
  const auto flush = [&] {
    if (letters > 0) {
      out.emplace_back(begin, static_cast<size_t>(end - begin));
      families.push_back(family);
    }
    begin = end = nullptr;
    letters = 0;
    family = Family::none;
  };
  for (const Sentence& sentence : sentences(s)) {
    if (letters > 0 && sentence.family != Family::none && sentence.family != family) flush();
    if (!begin) begin = sentence.text.data();
    end = sentence.text.data() + sentence.text.size();
    letters += sentence.letters;
    if (family == Family::none) family = sentence.family;
    if (letters >= min_letters) flush();
  }
  if (letters > 0 && letters < min_letters && !out.empty() && families.back() == family) {
    out.back() = std::string_view(out.back().data(), static_cast<size_t>(end - out.back().data()));
  } else {
    flush();
  }
  return out;
}

using Tally = std::vector<std::pair<std::string, size_t>>;  // letters per language, by first appearance

void add_chunks(std::string_view stripped, size_t chunk_letters, const DetectOptions& options, Tally& tally) {
  for (std::string_view c : chunks(stripped, chunk_letters)) {
    const Detection d = detect_stripped(c, options);
    if (d.lang == "und") continue;
    auto it = std::find_if(tally.begin(), tally.end(), [&](const auto& e) { return e.first == d.lang; });
    if (it == tally.end()) tally.emplace_back(d.lang, d.letters);
    else it->second += d.letters;
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
     .help = "a part (prompt, think, answer) with fewer letters is `und` and not compared"},
    {.name = "fast_path", .type = ParamType::boolean, .default_json = "true", .help = "as in langid"},
};

Consistency::Consistency(const Params& p)
    : prompt_field_(p.get_string("prompt_field")),
      response_field_(p.get_string("response_field")),
      think_(p.get_bool("think")),
      chunk_letters_(static_cast<size_t>(p.get_int("chunk_letters"))),
      max_other_share_(p.get_double("max_other_share")) {
  options_.min_letters = static_cast<size_t>(p.get_int("min_letters"));
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
}

void Consistency::process(Record& r) const {
  const auto response = r.string_field(response_field_);
  if (!response) return r.reject("missing_field", "no string field '" + response_field_ + "'");
  std::optional<std::string_view> prompt;
  if (!prompt_field_.empty()) {
    prompt = r.string_field(prompt_field_);
    if (!prompt) return r.reject("missing_field", "no string field '" + prompt_field_ + "'");
  }
  const Parts parts = think_ ? split_think(*response) : Parts{{}, *response, false};

  // Each part's language is its main language over its chunks (a part that mixes languages is named
  // by the one that holds most of its letters); the response's tally is its parts' together.
  DetectOptions chunk_options = options_;
  chunk_options.min_letters = std::min(options_.min_letters, chunk_letters_);
  const auto part_language = [&](std::string_view text, Tally& tally) {
    Tally own;
    add_chunks(strip_markup(text), chunk_letters_, chunk_options, own);
    const auto* main = main_language(own);
    size_t letters = 0;
    for (const auto& [lang, n] : own) {
      letters += n;
      auto it = std::find_if(tally.begin(), tally.end(), [&](const auto& e) { return e.first == lang; });
      if (it == tally.end()) tally.emplace_back(lang, n);
      else it->second += n;
    }
    return (main && letters >= options_.min_letters) ? main->first : std::string("und");
  };
  Tally response_tally, prompt_tally;
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
