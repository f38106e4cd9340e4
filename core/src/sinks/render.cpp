#include "sinks/render.hpp"

#include <tamis/json.hpp>

namespace tamis {
namespace {
bool is_ws(char c) { return json::detail::is_ws(c); }
}  // namespace

std::pair<size_t, size_t> find_member(std::string_view s, std::string_view key) {
  const std::vector<json::Member> ms = json::members(s);
  for (size_t k = 0; k < ms.size(); ++k) {
    if (json::unescape(ms[k].key) != key) continue;
    // Remove the member with one comma: the one before it, or else the one after it.
    if (k > 0) return {ms[k - 1].value_end, ms[k].value_end - ms[k - 1].value_end};
    size_t j = ms[k].value_end;
    while (j < s.size() && is_ws(s[j])) ++j;
    if (j < s.size() && s[j] == ',') ++j;
    return {ms[k].key_start, j - ms[k].key_start};
  }
  return {std::string_view::npos, 0};
}

bool strip_members(std::string_view s, std::string_view key, std::string& out) {
  const std::vector<json::Member> ms = json::members(s);
  size_t copied = 0;                          // s[0, copied) is settled (in `out` or dropped)
  size_t kept_end = std::string_view::npos;   // end of the last member kept, if any
  bool found = false;
  for (const json::Member& m : ms) {
    const bool match = m.key.find('\\') == std::string_view::npos ? m.key == key : json::unescape(m.key) == key;
    if (!match) {
      kept_end = m.value_end;
      continue;
    }
    if (!found) {
      out.clear();
      out.reserve(s.size());
      found = true;
    }
    if (kept_end != std::string_view::npos) {  // drop the comma before it and the member
      if (kept_end > copied) out.append(s.substr(copied, kept_end - copied));
      copied = m.value_end;
    } else {  // no member before it is kept: drop the member and the comma after it
      out.append(s.substr(copied, m.key_start - copied));
      size_t j = m.value_end;
      while (j < s.size() && is_ws(s[j])) ++j;
      if (j < s.size() && s[j] == ',') ++j;
      copied = j;
    }
  }
  if (found) out.append(s.substr(copied));
  return found;
}

void render_record(std::string& out, const Record& r, std::string_view field, const RejectionText* rejection) {
  std::string_view text = r.text;
  std::string stripped;
  if (r.has_annotation_field) {
    if (strip_members(text, field, stripped)) {  // every such member: a key written twice goes too
      text = stripped;
    } else if (r.annotations.empty() && !rejection) {
      out.append(text).push_back('\n');
      return;
    }
  } else if (r.annotations.empty() && !rejection) {
    out.append(text).push_back('\n');
    return;
  }
  // Insert `,"field":{...}` before the closing brace.
  size_t close = text.size();
  while (close > 0 && text[close - 1] != '}') --close;
  if (close == 0) {  // not an object: cannot happen for validated records
    out.append(text).push_back('\n');
    return;
  }
  --close;
  size_t last = close;
  while (last > 0 && is_ws(text[last - 1])) --last;
  const bool empty_object = last > 0 && text[last - 1] == '{';
  out.append(text.substr(0, last));
  if (!empty_object) out.push_back(',');
  json::append_quoted(out, field);
  out += ":{";
  bool first = true;
  for (const auto& a : r.annotations) {
    if (!first) out.push_back(',');
    first = false;
    json::append_quoted(out, a.key);
    out.push_back(':');
    out += a.value_json;
  }
  if (rejection) {
    if (!first) out.push_back(',');
    out += "\"rejected_by\":";
    json::append_quoted(out, rejection->stage);
    out += ",\"reason\":";
    json::append_quoted(out, rejection->reason);
    out += ",\"detail\":";
    json::append_quoted(out, rejection->detail);
  }
  out += "}}\n";
}

}  // namespace tamis
