#include <algorithm>
#include <cmath>

#include "ops.hpp"

namespace tamis::lang {

const ParamTable LangId::params = {
    {.name = "fields", .type = ParamType::string_list, .default_json = "[\"problem\"]",
     .help = "text fields detected together, as one text (a missing or non-string field is skipped; a record with "
             "none of them is rejected missing_field)"},
    {.name = "min_letters", .type = ParamType::integer, .default_json = "20",
     .help = "fewer letters left after stripping LaTeX, code, URLs and numbers (a Han, kana or Hangul character counts 2): "
             "lang `und` (confidence 0, not reliable), unless min_cjk names it"},
    {.name = "min_cjk", .type = ParamType::integer, .default_json = "2",
     .help = "below min_letters, a text with at least this many Han, kana and Hangul characters that make at least 80% "
             "of its letters is named by the script: zh (Han, no kana), ja (2 kana or more, 10% of the characters), ko "
             "(Hangul); reliable false (0: off; the rule never applies when min_cjk >= min_letters / 2)"},
    {.name = "allow", .type = ParamType::string_list,
     .help = "when set, a filter: records whose lang is not listed are rejected (reason language); list `und` to keep "
             "records too short to tell"},
    {.name = "fast_path", .type = ParamType::boolean, .default_json = "true",
     .help = "decide from the script (Han, kana, Hangul...) and function words where they are decisive, before CLD2 "
             "(same labels on every measured set, 2-3x faster; see docs/languages.md); false: CLD2 on every record"},
};

LangId::LangId(const Params& p) : fields_(p.get_strings("fields")) {
  options_.min_letters = static_cast<size_t>(p.get_int("min_letters"));
  options_.min_cjk = static_cast<size_t>(p.get_int("min_cjk"));
  options_.fast_path = p.get_bool("fast_path");
  if (p.has("allow")) {
    filter_ = true;
    allow_ = p.get_strings("allow");
  }
}

void LangId::check(const Params& p) {
  const auto fields = p.get_strings("fields");
  if (fields.empty()) throw Error("fields is empty: name at least one text field (e.g. [problem])");
  for (const std::string& f : fields) {
    if (f.empty()) throw Error("fields holds an empty field name");
  }
  const int64_t min = p.get_int("min_letters");
  if (min < 0 || min > 1000000) throw Error("min_letters must be between 0 and 1000000");
  const int64_t min_cjk = p.get_int("min_cjk");
  if (min_cjk < 0 || min_cjk > 1000000) throw Error("min_cjk must be between 0 and 1000000");
  if (p.has("allow")) {
    const auto allow = p.get_strings("allow");
    if (allow.empty()) throw Error("allow is empty: every record would be rejected; list languages (e.g. [en, fr]) or drop allow");
    for (const std::string& code : allow) {
      if (code.empty() || !std::all_of(code.begin(), code.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '-'; }))
        throw Error("allow: '" + code + "' is not a lowercase language code (ISO 639-1 such as en, zh, or und)");
    }
  }
}

void LangId::process(Record& r) const {
  std::string text;
  bool any = false;
  for (const std::string& f : fields_) {
    const auto v = r.string_field(f);
    if (!v) continue;
    any = true;
    if (!text.empty()) text.push_back(' ');
    text += strip_markup(*v);
  }
  if (!any) {
    std::string names;
    for (const std::string& f : fields_) names += (names.empty() ? "'" : ", '") + f + "'";
    return r.reject_missing_field(fields_.size() == 1 ? fields_[0] : names, "missing_field", "no string field among " + names);
  }
  const Detection d = detect_stripped(text, options_);
  r.annotate("lang", d.lang);
  r.annotate("lang_confidence", std::round(d.confidence * 100) / 100);
  r.annotate("lang_reliable", d.reliable);
  // Who decided, per stage in the report: how much the fast path saves on this data.
  r.count(std::string("decided_by_") + d.method);
  if (filter_ && std::find(allow_.begin(), allow_.end(), d.lang) == allow_.end()) {
    std::string allowed;
    for (const std::string& a : allow_) allowed += (allowed.empty() ? "" : ", ") + a;
    r.reject("language", "detected " + d.lang + " (" + std::to_string(d.letters) + " letters, confidence " +
                             json::number(std::round(d.confidence * 100) / 100) + "); allowed: " + allowed);
  }
}

}  // namespace tamis::lang
