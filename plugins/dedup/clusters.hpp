// The clusters file of dedup.exact and dedup.minhash: one JSONL line per group of duplicates, in the
// order of the groups' survivors, members in input order, written atomically at the end:
//   {"cluster":"a","survivor":"a","members":[{"id":"b", ...},{"id":"c", ...}]}
#pragma once

#include <tamis/files.hpp>
#include <tamis/json.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace tamis::dedup {

// The sizes of the groups of duplicates (a survivor and the records rejected as its copies), for the
// op's report and the review page's chart: a count per group that has copies (about 30 bytes each),
// reported as the number of groups of each size in bins 2, 3, 4, 5-8, 9-16, ..., and the largest.
class ClusterSizes {
 public:
  void add_copy(uint32_t group) { ++copies_[group]; }
  // ,"cluster_sizes":[{"size":"2","clusters":N},...],"largest_cluster":{"size":S,"survivor":ID}
  template <class Name>
  std::string json(Name name) const {
    std::map<uint32_t, uint64_t> bins;  // lower bound of the bin -> groups
    uint32_t largest = 0, largest_group = 0;
    for (const auto& [group, copies] : copies_) {
      const uint32_t size = copies + 1;
      uint32_t low = size <= 4 ? size : 5;
      while (size > low * 2 - 2) low = low * 2 - 1;  // 5-8, 9-16, 17-32, ...
      ++bins[low];
      if (size > largest || (size == largest && group < largest_group)) {
        largest = size;
        largest_group = group;
      }
    }
    std::string out = ",\"cluster_sizes\":[";
    bool first = true;
    for (const auto& [low, groups] : bins) {
      const std::string label = low <= 4 ? std::to_string(low) : std::to_string(low) + "-" + std::to_string(low * 2 - 2);
      out += std::string(first ? "" : ",") + "{\"size\":\"" + label + "\",\"clusters\":" + std::to_string(groups) + "}";
      first = false;
    }
    out += "]";
    if (largest > 0) out += ",\"largest_cluster\":{\"size\":" + std::to_string(largest) + ",\"survivor\":" + json::quote(name(largest_group)) + "}";
    return out;
  }

 private:
  std::unordered_map<uint32_t, uint32_t> copies_;
};

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
