#include "ops.hpp"

namespace tamis::map {

namespace {

// The (path, value) pairs of the `fields` parameter; throws for a bad one.
std::vector<std::pair<std::string, std::string>> field_values(const Params& p) {
  simdjson::dom::object obj;
  if (p.get_json("fields").get_object().get(obj) != simdjson::SUCCESS)
    throw Error("fields must be a mapping of field paths to values, e.g. {data_source: gsm8k, meta.split: train}");
  std::vector<std::pair<std::string, std::string>> out;
  for (auto field : obj) out.emplace_back(std::string(field.key), simdjson::minify(field.value));
  if (out.empty()) throw Error("fields is empty: nothing to set");
  return out;
}

}  // namespace

const ParamTable Set::params = {
    {.name = "fields", .type = ParamType::json, .required = true,
     .help = "a mapping of field paths (a.b for nested objects, created when absent) to values of any JSON type, e.g. {data_source: gsm8k, ability: math, meta.tags: [rl]}"},
    {.name = "overwrite", .type = ParamType::boolean, .default_json = "true",
     .help = "replace a field that is already present; false: set only the fields a record does not have"},
};

Set::Set(const Params& p) : overwrite_(p.get_bool("overwrite")) {
  for (auto& [path, value] : field_values(p)) {
    auto keys = split_path(path, "fields");
    fields_.push_back({path, std::move(keys), std::move(value)});
  }
}

void Set::check(const Params& p) {
  const auto fields = field_values(p);
  for (size_t i = 0; i < fields.size(); ++i) {
    (void)split_path(fields[i].first, "fields");
    for (size_t j = 0; j < fields.size(); ++j) {
      const std::string& a = fields[i].first;
      const std::string& b = fields[j].first;
      if (i != j && b.size() > a.size() && b.compare(0, a.size(), a) == 0 && b[a.size()] == '.')
        throw Error("fields: '" + a + "' and '" + b + "' overlap: set '" + a + "' to an object instead");
    }
  }
}

void Set::process(Record& r) const {
  std::string text(r.json());
  bool changed = false;
  std::string next, conflict;
  for (const auto& f : fields_) {
    switch (set_member(text, f.keys, f.value_json, overwrite_, next, conflict)) {
      case SetResult::changed:
        text.swap(next);
        changed = true;
        break;
      case SetResult::unchanged: break;
      case SetResult::conflict:
        return r.reject("path_conflict", "cannot set '" + f.path + "': '" + conflict + "' is not an object");
    }
  }
  if (changed) r.replace(std::move(text));
}

}  // namespace tamis::map
