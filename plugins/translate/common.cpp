#include <algorithm>
#include <tuple>

#include "ops.hpp"

namespace tamis::translate {

std::optional<std::string> read_tag(const Record& r, const std::string& key) {
  if (auto a = r.annotation_string(key)) return a;
  // Most records carry no such tag (translate.export sees ~90% untagged records): when the key's last
  // component does not occur in the text at all, no field can hold it, and the two member scans of
  // the record (Record::string_field) are skipped. A key written with \u escapes of plain letters
  // would be missed; no tool writes keys that way.
  const bool pointer = !key.empty() && key.front() == '/';
  const std::string_view last = std::string_view(key).substr(key.rfind(pointer ? '/' : '.') + 1);
  const bool plain = std::all_of(last.begin(), last.end(),
                                 [](char c) { return c > 0x20 && c < 0x7F && c != '\\' && c != '"' && c != '~'; });
  if (plain && !last.empty() && r.json().find(last) == std::string_view::npos) return std::nullopt;
  if (auto f = r.string_field(key)) return std::string(*f);
  if (auto t = r.string_field("tamis." + key)) return std::string(*t);
  return std::nullopt;
}

std::string set_members(std::string_view object, const std::vector<MemberEdit>& edits) {
  const std::vector<json::Member> members = json::members(object);
  // (value start, value end, new value) for each replaced member, in text order.
  std::vector<std::tuple<size_t, size_t, const std::string*>> cuts;
  std::string appended;
  for (const MemberEdit& e : edits) {
    const json::Member* found = nullptr;
    for (const auto& m : members)
      if (json::unescape(m.key) == e.key) {
        found = &m;
        break;
      }
    if (found) {
      size_t v = found->key_end;
      while (v < object.size() && (object[v] == ' ' || object[v] == '\t' || object[v] == '\n' || object[v] == '\r' || object[v] == ':')) ++v;
      cuts.emplace_back(v, found->value_end, &e.value_json);
    } else if (e.append) {
      if (!members.empty() || !appended.empty()) appended += ',';
      json::append_quoted(appended, e.key);
      appended += ':';
      appended += e.value_json;
    }
  }
  std::sort(cuts.begin(), cuts.end());
  std::string out;
  out.reserve(object.size() + appended.size() + 64);
  size_t at = 0;
  for (const auto& [b, e, v] : cuts) {
    out.append(object.substr(at, b - at));
    out += *v;
    at = e;
  }
  if (appended.empty()) {
    out.append(object.substr(at));
    return out;
  }
  // Appended members go just before the closing brace (after the last member's value).
  const size_t close = object.rfind('}');
  const size_t insert_at = members.empty() ? close : members.back().value_end;
  out.append(object.substr(at, insert_at - at));
  out += appended;
  out.append(object.substr(insert_at));
  return out;
}

}  // namespace tamis::translate
