// tamis/json.hpp — small JSON text helpers shared by the SDK and the host.
//
// Annotation values cross the ABI as JSON text; these helpers build that text safely:
//
//     std::string v = tamis::json::quote("naïve \"quote\"");   // "\"naïve \\\"quote\\\"\""
//     tamis::json::append_quoted(out, text);
//     std::string n = tamis::json::number(0.25);                // "0.25"
#ifndef TAMIS_JSON_HPP
#define TAMIS_JSON_HPP

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

}  // namespace tamis::json

#endif  // TAMIS_JSON_HPP
