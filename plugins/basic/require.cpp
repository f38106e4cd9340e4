#include <algorithm>
#include <cmath>

#include "ops.hpp"

namespace tamis::basic {

namespace {
constexpr const char* kTypes[] = {"any", "string", "number", "integer", "boolean", "array", "object", nullptr};

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

const char* type_of(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::STRING: return "string";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64: return "integer";
    case simdjson::dom::element_type::DOUBLE: {
      // As in JSON Schema, a number with a zero fractional part (3.0, 1e3) is an integer.
      const double d = e.get_double().value_unsafe();
      return std::isfinite(d) && std::floor(d) == d ? "integer" : "number";
    }
    case simdjson::dom::element_type::BOOL: return "boolean";
    case simdjson::dom::element_type::ARRAY: return "array";
    case simdjson::dom::element_type::OBJECT: return "object";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "?";
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
    auto e = r.field(f);
    if (!e || e->is_null()) return r.reject("missing_field", "field '" + f + "' is missing or null");
    if (type_ != "any") {
      const std::string_view t = type_of(*e);
      const bool ok = t == type_ || (type_ == "number" && t == "integer");
      if (!ok) return r.reject("wrong_type", "field '" + f + "' is " + std::string(t) + ", not " + type_);
    }
    if (non_empty_) {
      std::string_view s;
      simdjson::dom::array a;
      simdjson::dom::object o;
      if ((e->get_string().get(s) == simdjson::SUCCESS && blank(s)) ||
          (e->get_array().get(a) == simdjson::SUCCESS && a.size() == 0) ||
          (e->get_object().get(o) == simdjson::SUCCESS && o.size() == 0))
        return r.reject("empty_field", "field '" + f + "' is empty");
    }
  }
}

}  // namespace tamis::basic
