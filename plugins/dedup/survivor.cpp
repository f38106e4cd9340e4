#include "survivor.hpp"

#include <algorithm>

#include "fields.hpp"

namespace tamis::dedup {

namespace {
const char* const kPreferChoices[] = {"answer", "source", "longer", nullptr};
}  // namespace

void SurvivorPolicy::add_params(ParamTable& t, const char* answer_field_default) {
  t.push_back({.name = "prefer", .type = ParamType::string_list, .default_json = "[]",
               .help = "survivor policy: criteria, most important first: `answer` (a non-empty answer_field), `source` "
                       "(earlier in source_rank), `longer` (longer text); ties and [] (default): the first in input order. "
                       "Not empty: a first pass over the input (see docs/dedup.md)",
               .choices = kPreferChoices});
  if (answer_field_default)
    t.push_back({.name = "answer_field", .type = ParamType::string, .default_json = answer_field_default,
                 .help = "the answer field for `prefer: [answer]`"});
  t.push_back({.name = "source_rank", .type = ParamType::string_list, .default_json = "[]",
               .help = "source names, preferred first, for `prefer: [source]` (unlisted sources come after them)"});
}

void SurvivorPolicy::check(const Params& p) {
  const auto prefer = p.get_strings("prefer");
  for (size_t i = 0; i < prefer.size(); ++i)
    for (size_t j = i + 1; j < prefer.size(); ++j)
      if (prefer[i] == prefer[j]) throw Error("prefer lists '" + prefer[i] + "' twice");
  auto wants = [&](const char* c) { return std::find(prefer.begin(), prefer.end(), c) != prefer.end(); };
  if (wants("source") && p.get_strings("source_rank").empty())
    throw Error("prefer: [source] needs source_rank (source names, preferred first)");
  if (wants("answer") && (!p.has("answer_field") || p.get_string("answer_field").empty()))
    throw Error("prefer: [answer] needs answer_field");
}

SurvivorPolicy::SurvivorPolicy(const Params& p)
    : answer_field_(p.has("answer_field") ? p.get_string("answer_field") : std::string()),
      source_rank_(p.get_strings("source_rank")) {
  for (const auto& c : p.get_strings("prefer"))
    prefer_.push_back(c == "answer" ? Prefer::answer : c == "source" ? Prefer::source : Prefer::longer);
}

SurvivorPolicy::Score SurvivorPolicy::score(const Record& r, size_t text_bytes) const {
  Score s{};
  for (size_t i = 0; i < prefer_.size(); ++i) {
    switch (prefer_[i]) {
      case Prefer::answer: {
        thread_local std::string answer;
        s[i] = read_string_field(r, answer_field_, answer) == FieldKind::string &&
               answer.find_first_not_of(" \t\r\n") != std::string::npos;
        break;
      }
      case Prefer::source: {
        const auto it = std::find(source_rank_.begin(), source_rank_.end(), r.source());
        s[i] = -static_cast<int64_t>(it - source_rank_.begin());  // unlisted sources: after every listed one
        break;
      }
      case Prefer::longer:
        s[i] = static_cast<int64_t>(text_bytes);
        break;
    }
  }
  return s;
}

}  // namespace tamis::dedup
