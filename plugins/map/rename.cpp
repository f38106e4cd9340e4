#include <algorithm>

#include "ops.hpp"

namespace tamis::map {

namespace {

using json::Member;
using json::members;

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
  // Splices the original text: kept members keep their bytes and the separators before them; a
  // renamed member gets a new key and keeps the rest (": " and the value) as written.
  const std::string_view text = r.json();
  const std::vector<Member> in = members(text);
  if (in.empty()) return;
  auto renamed = [&](std::string_view key) -> const std::string* {
    for (const auto& rn : renames_)
      if (key == rn.first) return &rn.second;
    return nullptr;
  };
  std::vector<std::string_view> targets;
  for (const auto& m : in)
    if (const std::string* to = renamed(m.key)) targets.push_back(*to);
  std::string out(text.substr(0, in.front().key_start));
  bool changed = false;
  bool any_kept = false;
  for (size_t k = 0; k < in.size(); ++k) {
    const Member& m = in[k];
    const std::string* to = renamed(m.key);
    const std::string_view name = to ? std::string_view(*to) : m.key;
    const bool replaced = !to && std::find(targets.begin(), targets.end(), m.key) != targets.end();
    if (replaced || contains(drop_, name) || (has_keep_ && !contains(keep_, name))) {
      changed = true;
      continue;
    }
    if (any_kept) {
      // The separator that stood before this member (", " or ",\n  "), or a bare comma for the first.
      out.append(k > 0 ? text.substr(in[k - 1].value_end, m.key_start - in[k - 1].value_end) : std::string_view(","));
    }
    any_kept = true;
    if (to) {
      json::append_quoted(out, *to);
      out.append(text.substr(m.key_end, m.value_end - m.key_end));
      changed = true;
    } else {
      out.append(text.substr(m.key_start, m.value_end - m.key_start));
    }
  }
  out.append(text.substr(in.back().value_end));
  if (changed) r.replace(std::move(out));
}

}  // namespace tamis::map
