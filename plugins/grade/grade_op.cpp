#include <algorithm>
#include <cmath>

#include "ops.hpp"

namespace tamis::grade {

namespace {
// A field as answer text: a string as is, a number as its JSON text (svamp and asdiv store numbers).
std::optional<std::string> text_of(Record& r, const std::string& path) {
  auto e = r.field(path);
  if (!e) return std::nullopt;
  switch (e->type()) {
    case simdjson::dom::element_type::STRING: return std::string(e->get_string().value_unsafe());
    case simdjson::dom::element_type::INT64: return std::to_string(e->get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64: return std::to_string(e->get_uint64().value_unsafe());
    case simdjson::dom::element_type::DOUBLE: return json::number(e->get_double().value_unsafe());
    case simdjson::dom::element_type::ARRAY: {
      // ["5"], ["1", "2"] (OlympiadBench's final_answer): the items joined with ", ", as grade.verifiable reads them.
      std::string joined;
      size_t items = 0;
      simdjson::dom::array array;
      if (e->get_array().get(array) != simdjson::SUCCESS) return std::nullopt;
      for (auto item : array) {
        std::string_view v;
        if (item.get_string().get(v) != simdjson::SUCCESS) return std::nullopt;
        if (items++) joined += ", ";
        joined += v;
      }
      if (items == 0) return std::nullopt;
      return joined;
    }
    default: return std::nullopt;
  }
}
}  // namespace

const ParamTable Grade::params = {
    {.name = "response_field", .type = ParamType::string, .default_json = "\"response\"",
     .help = "the field holding the model's response (a string)"},
    {.name = "reference_field", .type = ParamType::string, .default_json = "\"answer\"",
     .help = "the field holding the reference answer (a string or a number)"},
    {.name = "extract_boxed", .type = ParamType::boolean, .default_json = "true",
     .help = "take the last \\boxed{...} / \\fbox{...} of the response (balanced braces)"},
    {.name = "extract_gsm8k", .type = ParamType::boolean, .default_json = "true",
     .help = "take the text after the last '#### ' of the response"},
    {.name = "extract_phrase", .type = ParamType::boolean, .default_json = "true",
     .help = "take the text after the last 'The answer is', 'Final answer:', 'Answer:', or a line starting 'A:'"},
    {.name = "extract_math", .type = ParamType::boolean, .default_json = "true",
     .help = "then the last math span: $...$ or \\(...\\) on one line, $$...$$ or \\[...\\] (its last '=' in a chain a = b = c)"},
    {.name = "extract_short", .type = ParamType::boolean, .default_json = "true",
     .help = "then a one-line response of at most 100 bytes: itself when it starts with its value or has at most two words, else its last number not glued to a letter"},
    {.name = "last_number", .type = ParamType::boolean, .default_json = "false",
     .help = "when nothing else matched, take the last number of the response"},
    {.name = "extract_reference", .type = ParamType::boolean, .default_json = "true",
     .help = "a reference holding \\boxed{} or '####' (a worked solution) is reduced to that final answer first"},
    {.name = "tolerance", .type = ParamType::number, .default_json = "1e-6",
     .help = "relative tolerance for numbers that are not exact rationals (\\sqrt, \\pi, huge values)"},
    {.name = "max_answer_chars", .type = ParamType::integer, .default_json = "1000",
     .help = "longer extracted or reference answers are graded incorrect (grade_reason answer_too_long / reference_too_long)"},
    {.name = "max_response_bytes", .type = ParamType::integer, .default_json = "4194304",
     .help = "longer responses are graded incorrect without being read (grade_reason response_too_long)"},
    {.name = "reject_incorrect", .type = ParamType::boolean, .default_json = "false",
     .help = "reject incorrect responses (reason incorrect, or the grade_reason) instead of only annotating them"},
};

Grade::Grade(const Params& p)
    : response_field_(p.get_string("response_field")),
      reference_field_(p.get_string("reference_field")),
      extract_reference_(p.get_bool("extract_reference")),
      reject_incorrect_(p.get_bool("reject_incorrect")) {
  options_.extract.boxed = p.get_bool("extract_boxed");
  options_.extract.gsm8k = p.get_bool("extract_gsm8k");
  options_.extract.answer_phrase = p.get_bool("extract_phrase");
  options_.extract.last_number = p.get_bool("last_number");
  options_.extract.math_span = p.get_bool("extract_math");
  options_.extract.short_response = p.get_bool("extract_short");
  options_.tolerance = p.get_double("tolerance");
  options_.max_answer_chars = static_cast<size_t>(p.get_int("max_answer_chars"));
  options_.max_response_bytes = static_cast<size_t>(p.get_int("max_response_bytes"));
}

void Grade::check(const Params& p) {
  const double tol = p.get_double("tolerance");
  if (!(tol >= 0 && tol < 1)) throw Error("tolerance must be in [0, 1)");
  if (p.get_int("max_answer_chars") < 1) throw Error("max_answer_chars must be at least 1");
  if (p.get_int("max_response_bytes") < 1) throw Error("max_response_bytes must be at least 1");
  if (!p.get_bool("extract_boxed") && !p.get_bool("extract_gsm8k") && !p.get_bool("extract_phrase") &&
      !p.get_bool("last_number") && !p.get_bool("extract_math") && !p.get_bool("extract_short"))
    throw Error(
        "every extraction method is off: enable at least one of extract_boxed, extract_gsm8k, extract_phrase, extract_math, "
        "extract_short, last_number");
}

void Grade::process(Record& r) const {
  const auto response = r.string_field(response_field_);
  std::string reason;
  Verdict v;
  if (!response) {
    reason = "missing_response";
  } else {
    const auto reference = text_of(r, reference_field_);
    if (!reference) {
      reason = "missing_reference";
    } else {
      v = grade(*response, *reference, options_, extract_reference_);
      reason = v.reason;
    }
  }
  r.annotate("correct", v.correct);
  r.annotate("extracted", v.extracted);
  if (!v.correct && reason != "mismatch") r.annotate("grade_reason", reason);
  r.count(v.correct ? "correct" : "incorrect");
  if (reject_incorrect_ && !v.correct) {
    if (reason == "mismatch")
    {
      size_t cut = std::min<size_t>(v.extracted.size(), 200);
      while (cut > 0 && cut < v.extracted.size() && (static_cast<unsigned char>(v.extracted[cut]) & 0xC0) == 0x80) --cut;
      return r.reject("incorrect", "answer '" + v.extracted.substr(0, cut) + "' does not match the reference");
    }
    return r.reject(reason, "response not graded: " + reason);
  }
}

}  // namespace tamis::grade
