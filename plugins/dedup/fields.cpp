#include "fields.hpp"

#include <cstring>

namespace tamis::dedup {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Index of the closing quote of the string whose opening quote is at i (valid JSON: it exists).
size_t string_end(std::string_view s, size_t i) {
  size_t j = i + 1;
  while (true) {
    const void* p = std::memchr(s.data() + j, '"', s.size() - j);
    if (!p) return s.size();
    const size_t q = static_cast<size_t>(static_cast<const char*>(p) - s.data());
    size_t slashes = 0;
    while (q - slashes > i + 1 && s[q - slashes - 1] == '\\') ++slashes;
    if (slashes % 2 == 0) return q;
    j = q + 1;
  }
}

// Index just past the value starting at i.
size_t value_end(std::string_view s, size_t i) {
  if (s[i] == '"') return string_end(s, i) + 1;
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '"') i = string_end(s, i);
      else if (c == '{' || c == '[') ++depth;
      else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
    }
    return s.size();
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_ws(s[i])) ++i;
  return i;
}

uint32_t hex4(std::string_view s, size_t i) {
  uint32_t v = 0;
  for (size_t k = i; k < i + 4 && k < s.size(); ++k) {
    const char c = s[k];
    v = v * 16 + static_cast<uint32_t>(c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10);
  }
  return v;
}

void append_utf8(std::string& out, uint32_t cp) {
  char buf[4];
  size_t n;
  if (cp < 0x80) { buf[0] = static_cast<char>(cp); n = 1; }
  else if (cp < 0x800) { buf[0] = static_cast<char>(0xC0 | (cp >> 6)); buf[1] = static_cast<char>(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    buf[0] = static_cast<char>(0xE0 | (cp >> 12));
    buf[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[2] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    buf[0] = static_cast<char>(0xF0 | (cp >> 18));
    buf[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 4;
  }
  out.append(buf, n);
}

}  // namespace

RawField find_top_level(std::string_view s, std::string_view key) {
  size_t i = s.find('{');
  if (i == std::string_view::npos) return {};
  ++i;
  std::string unescaped;
  while (i < s.size()) {
    while (i < s.size() && (is_ws(s[i]) || s[i] == ',')) ++i;
    if (i >= s.size() || s[i] != '"') return {};
    const size_t kend = string_end(s, i);
    const std::string_view k = s.substr(i + 1, kend - i - 1);
    i = kend + 1;
    while (i < s.size() && (is_ws(s[i]) || s[i] == ':')) ++i;
    if (i >= s.size()) return {};
    bool match = k == key;
    if (!match && k.find('\\') != std::string_view::npos) {  // an escaped key: compare its text
      unescaped.clear();
      match = append_unescaped(k, unescaped) && unescaped == key;
    }
    if (match) {
      if (s[i] != '"') return {FieldKind::other, {}};
      return {FieldKind::string, s.substr(i + 1, string_end(s, i) - i - 1)};
    }
    i = value_end(s, i);
  }
  return {};
}

bool append_unescaped(std::string_view k, std::string& out) {
  size_t run = 0;
  for (size_t i = 0; i < k.size(); ++i) {
    const void* p = std::memchr(k.data() + i, '\\', k.size() - i);
    if (!p) break;
    i = static_cast<size_t>(static_cast<const char*>(p) - k.data());
    if (i + 1 >= k.size()) break;
    out.append(k.data() + run, i - run);
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
        if (cp >= 0xDC00 && cp < 0xE000) return false;
        if (cp >= 0xD800 && cp < 0xDC00) {
          const uint32_t lo = i + 6 < k.size() && k[i + 1] == '\\' && k[i + 2] == 'u' ? hex4(k, i + 3) : 0;
          if (lo < 0xDC00 || lo >= 0xE000) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        }
        append_utf8(out, cp);
        break;
      }
      default: out.push_back(e);  // \" \\ \/
    }
    run = i + 1;
  }
  out.append(k.data() + run, k.size() - run);
  return true;
}

FieldKind read_string_field(const Record& r, std::string_view path, std::string& out) {
  if (plain_key(path)) {
    const RawField f = find_top_level(r.json(), path);
    if (f.kind != FieldKind::string) return f.kind;
    out.clear();
    if (append_unescaped(f.raw, out)) return f.kind;
    // A surrogate escape that is not a proper pair: let simdjson decide, as everywhere else.
  }
  const auto e = r.field(path);
  if (!e) return FieldKind::absent;
  std::string_view v;
  if (e->get_string().get(v) != simdjson::SUCCESS) return FieldKind::other;
  out.assign(v);
  return FieldKind::string;
}

}  // namespace tamis::dedup
