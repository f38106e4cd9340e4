#include "sinks/render.hpp"

#include <tamis/json.hpp>

namespace tamis {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Index just past the JSON string starting at `i` (which holds '"').
size_t skip_string(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return s.size();
}

// Index just past the JSON value starting at `i`.
size_t skip_value(std::string_view s, size_t i) {
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '"') {
        i = skip_string(s, i) - 1;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return s.size();
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_ws(s[i])) ++i;
  return i;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

uint32_t hex4(std::string_view s, size_t i) {
  uint32_t v = 0;
  for (size_t k = i; k < i + 4 && k < s.size(); ++k) {
    const char c = s[k];
    v = v * 16 + static_cast<uint32_t>(c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10);
  }
  return v;
}

// The text of a JSON string body (valid JSON, without quotes), unescaped.
std::string unescape_key(std::string_view k) {
  std::string out;
  for (size_t i = 0; i < k.size(); ++i) {
    if (k[i] != '\\' || i + 1 >= k.size()) {
      out.push_back(k[i]);
      continue;
    }
    const char e = k[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        uint32_t cp = hex4(k, i + 1);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < k.size() + 0 && k[i + 1] == '\\' && k[i + 2] == 'u') {
          const uint32_t lo = hex4(k, i + 3);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        }
        append_utf8(out, cp);
        break;
      }
      default: out.push_back(e);  // \" \\ \/
    }
  }
  return out;
}

}  // namespace

std::pair<size_t, size_t> find_member(std::string_view s, std::string_view key) {
  size_t i = s.find('{');
  if (i == std::string_view::npos) return {std::string_view::npos, 0};
  ++i;
  size_t prev_value_end = std::string_view::npos;  // end of the previous member's value
  while (i < s.size()) {
    while (i < s.size() && (is_ws(s[i]) || s[i] == ',')) ++i;
    if (i >= s.size() || s[i] != '"') break;
    const size_t key_start = i;
    const size_t key_end = skip_string(s, i);
    std::string_view k = s.substr(key_start + 1, key_end - key_start - 2);
    std::string unescaped;
    if (k.find('\\') != std::string_view::npos) {
      unescaped = unescape_key(k);
      k = unescaped;
    }
    i = key_end;
    while (i < s.size() && (is_ws(s[i]) || s[i] == ':')) ++i;
    const size_t value_end = skip_value(s, i);
    if (k == key) {
      // Remove the member with one comma: the one before it, or else the one after it.
      if (prev_value_end != std::string_view::npos) return {prev_value_end, value_end - prev_value_end};
      size_t j = value_end;
      while (j < s.size() && is_ws(s[j])) ++j;
      if (j < s.size() && s[j] == ',') ++j;
      return {key_start, j - key_start};
    }
    prev_value_end = value_end;
    i = value_end;
  }
  return {std::string_view::npos, 0};
}

void render_record(std::string& out, const Record& r, std::string_view field, const RejectionText* rejection) {
  std::string_view text = r.text;
  std::string stripped;
  if (r.has_annotation_field) {
    const auto [pos, len] = find_member(text, field);
    if (pos != std::string_view::npos) {
      stripped.reserve(text.size());
      stripped.append(text.substr(0, pos)).append(text.substr(pos + len));
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
