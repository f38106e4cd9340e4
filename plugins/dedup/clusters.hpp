// The clusters file of dedup.exact and dedup.minhash: one JSONL line per group of duplicates, in the
// order of the groups' survivors, members in input order, written atomically at the end:
//   {"cluster":"a","survivor":"a","members":[{"id":"b", ...},{"id":"c", ...}]}
#pragma once

#include <tamis/files.hpp>
#include <tamis/json.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace tamis::dedup {

// `members`: each with `group` (its survivor's number, rising with input order) and `id`; name(group):
// the survivor's id; more(member, out): appends the member's other JSON fields (",\"similarity\":...").
template <class Member, class Name, class More>
void write_clusters_file(const std::string& path, const std::vector<Member>& members, Name name, More more) {
  std::vector<size_t> order(members.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return members[a].group < members[b].group; });
  std::string text;
  for (size_t i = 0; i < order.size();) {
    const uint32_t g = members[order[i]].group;
    const std::string quoted = json::quote(name(g));
    text += "{\"cluster\":" + quoted + ",\"survivor\":" + quoted + ",\"members\":[";
    for (bool first = true; i < order.size() && members[order[i]].group == g; ++i, first = false) {
      const Member& m = members[order[i]];
      text += std::string(first ? "" : ",") + "{\"id\":" + json::quote(m.id);
      more(m, text);
      text += "}";
    }
    text += "]}\n";
  }
  write_file_atomically(path, text, "clusters file");
}

}  // namespace tamis::dedup
