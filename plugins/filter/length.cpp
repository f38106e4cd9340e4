#include "ops.hpp"

namespace tamis::filter {

namespace {
constexpr const char* kUnits[] = {"chars", "bytes", "words", nullptr};
}

const ParamTable Length::params = {
    {.name = "field", .type = ParamType::string, .required = true, .help = "the string field to measure"},
    {.name = "unit", .type = ParamType::string, .default_json = "\"chars\"",
     .help = "chars: Unicode code points; bytes: UTF-8 bytes; words: runs of non-space characters", .choices = kUnits},
    {.name = "min", .type = ParamType::integer, .default_json = "0", .help = "shortest length kept (inclusive)"},
    {.name = "max", .type = ParamType::integer, .default_json = "-1", .help = "longest length kept (inclusive); -1 for no limit"},
    {.name = "annotate", .type = ParamType::boolean, .default_json = "false",
     .help = "annotate each record with its length as `length`"},
};

Length::Length(const Params& p)
    : field_(p.get_string("field")), min_(p.get_int("min")), max_(p.get_int("max")), annotate_(p.get_bool("annotate")) {
  const std::string u = p.get_string("unit");
  unit_ = u == "bytes" ? Unit::bytes : u == "words" ? Unit::words : Unit::chars;
}

void Length::check(const Params& p) {
  const int64_t min = p.get_int("min"), max = p.get_int("max");
  if (min < 0) throw Error("min must be >= 0");
  if (max < -1) throw Error("max must be >= 0, or -1 for no limit");
  if (max >= 0 && max < min) throw Error("max (" + std::to_string(max) + ") is below min (" + std::to_string(min) + ")");
}

uint64_t Length::measure(std::string_view text, Unit unit) {
  switch (unit) {
    case Unit::bytes: return text.size();
    case Unit::chars: {
      uint64_t n = 0;
      for (unsigned char c : text) n += (c & 0xC0) != 0x80;  // count lead bytes
      return n;
    }
    case Unit::words: {
      uint64_t n = 0;
      bool in_word = false;
      for (unsigned char c : text) {
        const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
        if (!space && !in_word) ++n;
        in_word = !space;
      }
      return n;
    }
  }
  return 0;
}

void Length::process(Record& r) const {
  const auto string = r.string_field(field_);  // no DOM parse
  if (!string) {
    const auto raw = r.raw_field(field_);
    if (!raw || *raw == "null") return r.reject_missing_field(field_, "missing_field", "field '" + field_ + "' is missing");
    return r.reject_missing_field(field_, "not_a_string", "field '" + field_ + "' is not a string");
  }
  const std::string_view text = *string;
  const uint64_t n = measure(text, unit_);
  if (annotate_) r.annotate("length", n);
  static constexpr const char* kUnitNames[] = {"chars", "bytes", "words"};
  const char* unit = kUnitNames[static_cast<int>(unit_)];
  if (static_cast<int64_t>(n) < min_)
    return r.reject("too_short", std::to_string(n) + " " + unit + " < min " + std::to_string(min_));
  if (max_ >= 0 && static_cast<int64_t>(n) > max_)
    return r.reject("too_long", std::to_string(n) + " " + unit + " > max " + std::to_string(max_));
}

}  // namespace tamis::filter
