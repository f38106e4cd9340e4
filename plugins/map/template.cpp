#include "ops.hpp"

namespace tamis::map {

namespace {
constexpr const char* kOnMissing[] = {"reject", "keep", nullptr};
}

const ParamTable Template::params = {
    {.name = "to", .type = ParamType::string, .required = true, .help = "the field to write (a.b for a nested object)"},
    {.name = "template", .type = ParamType::json, .required = true,
     .help = "a string with {FIELD} places ({{ and }} are braces), e.g. \"{system}\\n\\n{problem}\"; or any JSON value whose strings are such "
             "templates, e.g. [{role: user, content: \"{problem}\"}]. A string that is exactly one {FIELD} copies that field's value "
             "whatever its type; in other strings a field must be a string, number or boolean"},
    {.name = "overwrite", .type = ParamType::boolean, .default_json = "true",
     .help = "replace the field when the record has it; false: leave such records as they are"},
    {.name = "on_missing", .type = ParamType::string, .default_json = "\"reject\"",
     .help = "when a field of the template is missing, null or unusable: reject the record (missing_field, naming the field) or keep it unchanged",
     .choices = kOnMissing},
};

Template::Template(const Params& p)
    : to_(p.get_string("to")), keys_(split_path(to_, "to")),
      template_(JsonTemplate::compile(p.get_json("template"), "template")),
      overwrite_(p.get_bool("overwrite")), reject_missing_(p.get_string("on_missing") == "reject") {}

void Template::check(const Params& p) {
  (void)split_path(p.get_string("to"), "to");
  (void)JsonTemplate::compile(p.get_json("template"), "template");
}

void Template::process(Record& r) const {
  if (!overwrite_ && r.raw_field(to_)) return;
  Missing missing;
  const auto value = template_.render(r, missing);
  if (!value) {
    if (reject_missing_) reject_for(r, missing);
    return;
  }
  std::string out, conflict;
  switch (set_member(r.json(), keys_, *value, overwrite_, out, conflict)) {
    case SetResult::changed: r.replace(std::move(out)); break;
    case SetResult::unchanged: break;
    case SetResult::conflict:
      r.reject("path_conflict", "cannot set '" + to_ + "': '" + conflict + "' is not an object");
  }
}

}  // namespace tamis::map
