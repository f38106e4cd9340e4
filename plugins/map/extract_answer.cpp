#include <algorithm>

#include "ops.hpp"

namespace tamis::map {

namespace {
constexpr const char* kMethods[] = {"boxed", "gsm8k", "phrase", "math", "short", "last_number", nullptr};
constexpr const char* kOnNone[] = {"reject", "keep", nullptr};

bool has(const std::vector<std::string>& v, std::string_view x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// The last `n` bytes of `text` (whole UTF-8 characters, newlines shown as \n), for evidence.
std::string tail(std::string_view text, size_t n) {
  size_t from = text.size() > n ? text.size() - n : 0;
  while (from > 0 && from < text.size() && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) ++from;
  std::string out = from > 0 ? "..." : "";
  for (char c : text.substr(from)) {
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}
}  // namespace

const ParamTable ExtractAnswer::params = {
    {.name = "from", .type = ParamType::string, .default_json = "\"solution\"", .help = "the field holding the worked solution"},
    {.name = "to", .type = ParamType::string, .default_json = "\"answer\"", .help = "the field to write the answer to (a.b for a nested object); may be `from` itself"},
    {.name = "methods", .type = ParamType::string_list, .default_json = "[\"boxed\", \"gsm8k\", \"phrase\", \"math\", \"short\"]",
     .help = "the grader's extraction rules to use (docs/grading.md): boxed (last \\boxed{}/\\fbox{}), gsm8k (last #### N), phrase "
             "(\"The answer is X\", \"Answer: X\", a line \"A: X\"), math (last $...$ or \\(...\\)), short (a one-line text of at most "
             "100 bytes), last_number (the last number, when nothing else matched)",
     .choices = kMethods},
    {.name = "normalize", .type = ParamType::boolean, .default_json = "false",
     .help = "write the answer in the grader's canonical form (no spaces, \\dfrac → \\frac, units dropped, ...) rather than as found"},
    {.name = "overwrite", .type = ParamType::boolean, .default_json = "true",
     .help = "replace the `to` field when present; false: records that have it are left as they are"},
    {.name = "on_none", .type = ParamType::string, .default_json = "\"reject\"",
     .help = "when no answer is found: reject (no_answer, with the end of the text as evidence) or keep the record without the field",
     .choices = kOnNone},
    {.name = "annotate", .type = ParamType::boolean, .default_json = "false",
     .help = "annotate answer_method: the rule that found the answer (boxed, gsm8k, phrase, math, short, last_number)"},
};

ExtractAnswer::ExtractAnswer(const Params& p)
    : from_(p.get_string("from")), to_(p.get_string("to")), keys_(split_path(to_, "to")),
      normalize_(p.get_bool("normalize")), overwrite_(p.get_bool("overwrite")),
      reject_none_(p.get_string("on_none") == "reject"), annotate_(p.get_bool("annotate")) {
  const auto m = p.get_strings("methods");
  options_.boxed = has(m, "boxed");
  options_.gsm8k = has(m, "gsm8k");
  options_.answer_phrase = has(m, "phrase");
  options_.math_span = has(m, "math");
  options_.short_response = has(m, "short");
  options_.last_number = has(m, "last_number");
}

void ExtractAnswer::check(const Params& p) {
  (void)split_path(p.get_string("to"), "to");
  if (p.get_string("from").empty()) throw Error("from: give the field holding the solution");
  if (p.get_strings("methods").empty()) throw Error("methods: give at least one rule");
}

void ExtractAnswer::process(Record& r) const {
  if (!overwrite_ && to_ != from_ && r.raw_field(to_)) return;
  std::string why;
  const auto text = field_text(r, from_, &why);
  if (!text) return r.reject_missing_field(from_, "missing_field", why);
  const grade::Extraction e = grade::extract(*text, options_);
  if (!e.found) {
    if (!reject_none_) return;
    std::string detail = "no final answer in '" + from_ + "'";
    if (!e.problem.empty() && e.problem != "no final answer found") detail += " (" + e.problem + ")";  // the grader's reason
    detail += ": \"" + tail(*text, 80) + "\"";
    return r.reject("no_answer", detail);
  }
  const std::string answer = normalize_ ? grade::normalize(e.answer) : e.answer;
  std::string out, conflict;
  switch (set_member(r.json(), keys_, json::quote(answer), true, out, conflict)) {
    case SetResult::changed: r.replace(std::move(out)); break;
    case SetResult::unchanged: break;
    case SetResult::conflict:
      return r.reject("path_conflict", "cannot set '" + to_ + "': '" + conflict + "' is not an object");
  }
  if (annotate_) r.annotate("answer_method", e.method);
}

}  // namespace tamis::map
