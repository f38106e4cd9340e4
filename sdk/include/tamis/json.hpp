// tamis/json.hpp — small JSON text helpers shared by the SDK and the host.
//
// Annotation values cross the ABI as JSON text; these helpers build that text safely:
//
//     std::string v = tamis::json::quote("naïve \"quote\"");   // "\"naïve \\\"quote\\\"\""
//     tamis::json::append_quoted(out, text);
//     std::string n = tamis::json::number(0.25);                // "0.25"
#ifndef TAMIS_JSON_HPP
#define TAMIS_JSON_HPP

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace tamis::json {

// Appends `s` to `out` as a JSON string literal (with quotes). Bytes >= 0x80 pass through unchanged,
// so valid UTF-8 stays valid UTF-8; control characters are escaped.
inline void append_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(s.data() + run_start, s.size() - run_start);
  out.push_back('"');
}

inline std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_quoted(out, s);
  return out;
}

// Shortest text that reads back as the same double; non-finite values become null (JSON has none).
inline std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("null");
}

inline std::string number(int64_t v) { return std::to_string(v); }
inline std::string number(uint64_t v) { return std::to_string(v); }
inline std::string number(int v) { return std::to_string(v); }
inline std::string boolean(bool v) { return v ? "true" : "false"; }

// JSON allows numbers of any size; simdjson refuses integers beyond 64 bits and doubles beyond
// ±1.8e308 (NUMBER_ERROR). This copies `text` to `out` with each such number, when it is well formed,
// turned into a string of its digits ("123456789012345678901234567890"), so that the record can still
// be parsed and its other fields read. Returns false when no number needed quoting (then `out` is
// unspecified). Malformed numbers are left alone, so invalid JSON stays invalid.
inline bool quote_big_numbers(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size() + 16);
  bool changed = false;
  size_t i = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"') {  // copy a string whole
      size_t j = i + 1;
      while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, text.size());
      out.append(text.substr(i, j - i));
      i = j;
      continue;
    }
    if (c != '-' && !digit(c)) {
      out.push_back(c);
      ++i;
      continue;
    }
    // A number token: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    size_t j = i;
    if (text[j] == '-') ++j;
    const size_t int_start = j;
    while (j < text.size() && digit(text[j])) ++j;
    bool ok = j > int_start && !(text[int_start] == '0' && j - int_start > 1);
    bool integer = true;
    if (ok && j < text.size() && text[j] == '.') {
      integer = false;
      const size_t f = ++j;
      while (j < text.size() && digit(text[j])) ++j;
      ok = j > f;
    }
    if (ok && j < text.size() && (text[j] == 'e' || text[j] == 'E')) {
      integer = false;
      ++j;
      if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
      const size_t e = j;
      while (j < text.size() && digit(text[j])) ++j;
      ok = j > e;
    }
    const std::string_view token = text.substr(i, j - i);
    bool fits = true;
    if (ok) {
      if (integer) {
        int64_t v;
        uint64_t u;
        fits = std::from_chars(token.data(), token.data() + token.size(), v).ec == std::errc() ||
               std::from_chars(token.data(), token.data() + token.size(), u).ec == std::errc();
      } else {
        double d;
        const auto r = std::from_chars(token.data(), token.data() + token.size(), d);
        fits = r.ec == std::errc() && std::isfinite(d);
        if (r.ec == std::errc::result_out_of_range && std::fabs(d) < 1.0) fits = true;  // underflow to 0 is fine
      }
    }
    if (ok && !fits) {
      out.push_back('"');
      out.append(token);
      out.push_back('"');
      changed = true;
    } else {
      out.append(token);
    }
    i = j == i ? i + 1 : j;
  }
  return changed;
}

}  // namespace tamis::json

#endif  // TAMIS_JSON_HPP
