#include <algorithm>

#include "ops.hpp"

namespace tamis::basic {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_string(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return s.size();
}

size_t skip_value(std::string_view s, size_t i) {
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      if (s[i] == '"') i = skip_string(s, i) - 1;
      else if (s[i] == '{' || s[i] == '[') ++depth;
      else if ((s[i] == '}' || s[i] == ']') && --depth == 0) return i + 1;
    }
    return s.size();
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && !is_ws(s[i])) ++i;
  return i;
}

struct Member {
  std::string_view key;    // as written, without quotes
  std::string_view value;  // the value's text, byte for byte
};

// The top-level members of a valid JSON object, in order.
std::vector<Member> members(std::string_view s) {
  std::vector<Member> out;
  size_t i = s.find('{') + 1;
  while (i < s.size()) {
    while (i < s.size() && (is_ws(s[i]) || s[i] == ',')) ++i;
    if (i >= s.size() || s[i] != '"') break;
    const size_t k_end = skip_string(s, i);
    const std::string_view key = s.substr(i + 1, k_end - i - 2);
    i = k_end;
    while (i < s.size() && (is_ws(s[i]) || s[i] == ':')) ++i;
    const size_t v_end = skip_value(s, i);
    out.push_back({key, s.substr(i, v_end - i)});
    i = v_end;
  }
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

const ParamTable Rename::params = {
    {.name = "drop", .type = ParamType::string_list, .default_json = "[]", .help = "top-level fields to remove"},
    {.name = "keep", .type = ParamType::string_list,
     .help = "if set, only these top-level fields (named after renaming) are kept, in their original order"},
    {.name = "*", .type = ParamType::string,
     .help = "any other key renames the field KEY to VALUE, e.g. `question: problem`; a field already named VALUE is replaced"},
};

Rename::Rename(const Params& p)
    : renames_(p.get_map("*")), drop_(p.get_strings("drop")), has_keep_(p.has("keep")) {
  if (has_keep_) keep_ = p.get_strings("keep");
}

void Rename::check(const Params& p) {
  if (p.get_map("*").empty() && p.get_strings("drop").empty() && !p.has("keep"))
    throw Error("nothing to do: give renames (old: new), drop or keep");
}

void Rename::process(Record& r) const {
  const std::string_view text = r.json();
  const std::vector<Member> in = members(text);
  // The names after renaming, to know which original fields a rename replaces.
  auto renamed = [&](std::string_view key) -> std::string_view {
    for (const auto& [from, to] : renames_)
      if (key == from) return to;
    return key;
  };
  std::vector<std::string_view> targets;
  for (const auto& m : in)
    if (renamed(m.key) != m.key) targets.push_back(renamed(m.key));
  std::string out = "{";
  bool changed = false;
  for (const auto& m : in) {
    const std::string_view name = renamed(m.key);
    const bool is_renamed = name != m.key;
    const bool replaced = !is_renamed && std::find(targets.begin(), targets.end(), m.key) != targets.end();
    if (replaced || contains(drop_, name) || (has_keep_ && !contains(keep_, name))) {
      changed = true;
      continue;
    }
    if (out.size() > 1) out += ',';
    out += '"';
    out += name;
    out += "\":";
    out += m.value;
    changed |= is_renamed;
  }
  out += '}';
  if (changed) r.replace(std::move(out));
}

}  // namespace tamis::basic
