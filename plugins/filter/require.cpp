#include <algorithm>
#include <charconv>
#include <cmath>

#include "ops.hpp"

namespace tamis::filter {

namespace {
constexpr const char* kTypes[] = {"any", "string", "number", "integer", "boolean", "array", "object", nullptr};

// The JSON type of a value's text (valid JSON). As in JSON Schema, a number whose fractional part is
// zero (3.0, 1e3) is an integer.
const char* type_of(std::string_view raw) {
  switch (raw.front()) {
    case '"': return "string";
    case '{': return "object";
    case '[': return "array";
    case 't': case 'f': return "boolean";
    case 'n': return "null";
    default: break;
  }
  if (raw.find_first_of(".eE") == std::string_view::npos) return "integer";
  double d = 0;
  const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), d);
  (void)end;
  return ec == std::errc() && std::isfinite(d) && std::floor(d) == d ? "integer" : "number";
}

// Whether a JSON string body (escapes kept) holds only whitespace, without unescaping it: stops at
// the first other character, so a long prompt costs a byte or two.
bool blank_json_string(std::string_view body) {
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == ' ') continue;
    if (c != '\\' || i + 1 >= body.size()) return false;
    const char e = body[++i];
    if (e == 'n' || e == 't' || e == 'r') continue;
    if (e == 'u' && i + 4 < body.size() && body.substr(i + 1, 2) == "00") {
      const std::string_view h = body.substr(i + 3, 2);
      if (h == "20" || h == "09" || h == "0a" || h == "0A" || h == "0d" || h == "0D") {
        i += 4;
        continue;
      }
    }
    return false;
  }
  return true;
}

// Whether an array or object text has no member.
bool empty_container(std::string_view raw) {
  size_t i = 1;
  while (i < raw.size() && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r')) ++i;
  return i < raw.size() && (raw[i] == ']' || raw[i] == '}');
}
}  // namespace

const ParamTable Require::params = {
    {.name = "fields", .type = ParamType::string_list, .required = true,
     .help = "fields that must be present (paths like meta.level or /meta/level allowed)"},
    {.name = "non_empty", .type = ParamType::boolean, .default_json = "true",
     .help = "also reject empty values: blank strings, [], {} (null always counts as missing)"},
    {.name = "type", .type = ParamType::string, .default_json = "\"any\"",
     .help = "required JSON type of every listed field; as in JSON Schema, integer is a number whose fractional part is zero (3, 3.0, 1e3)", .choices = kTypes},
};

Require::Require(const Params& p)
    : fields_(p.get_strings("fields")), non_empty_(p.get_bool("non_empty")), type_(p.get_string("type")) {}

void Require::process(Record& r) const {
  for (const auto& f : fields_) {
    const auto raw = r.raw_field(f);  // the value's text: no DOM parse
    if (!raw || raw->empty() || *raw == "null") return r.reject_missing_field(f, "missing_field", "field '" + f + "' is missing or null");
    if (type_ != "any") {
      const std::string_view t = type_of(*raw);
      const bool ok = t == type_ || (type_ == "number" && t == "integer");
      if (!ok) return r.reject("wrong_type", "field '" + f + "' is " + std::string(t) + ", not " + type_);
    }
    if (non_empty_) {
      const char c = raw->front();
      const bool empty = c == '"' ? blank_json_string(raw->substr(1, raw->size() - 2))
                                  : (c == '[' || c == '{') && empty_container(*raw);
      if (empty) return r.reject("empty_field", "field '" + f + "' is empty");
    }
  }
}

}  // namespace tamis::filter
