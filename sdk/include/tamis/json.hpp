// tamis/json.hpp — small JSON text helpers shared by the SDK and the host.
//
// Annotation values cross the ABI as JSON text; these helpers build that text safely:
//
//     std::string v = tamis::json::quote("naïve \"quote\"");   // "\"naïve \\\"quote\\\"\""
//     tamis::json::append_quoted(out, text);
//     std::string n = tamis::json::number(0.25);                // "0.25"
//     for (const auto& m : tamis::json::members(record_text)) ...  // top-level members, as byte ranges
#ifndef TAMIS_JSON_HPP
#define TAMIS_JSON_HPP

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

namespace detail {

inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Index just past the JSON string starting at `i` (which holds '"'). Jumps from quote to quote with
// memchr (long prompts are mostly plain text); a quote preceded by an odd run of backslashes is escaped.
inline size_t skip_string(std::string_view s, size_t i) {
  size_t j = i + 1;
  while (j < s.size()) {
    const void* hit = std::memchr(s.data() + j, '"', s.size() - j);
    if (!hit) return s.size();
    const size_t q = static_cast<size_t>(static_cast<const char*>(hit) - s.data());
    size_t slashes = 0;
    while (q - slashes > i + 1 && s[q - slashes - 1] == '\\') ++slashes;
    if (slashes % 2 == 0) return q + 1;
    j = q + 1;
  }
  return s.size();
}

// Index just past the JSON value starting at `i`.
inline size_t skip_value(std::string_view s, size_t i) {
  if (i >= s.size()) return s.size();
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '"') i = skip_string(s, i) - 1;
      else if (c == '{' || c == '[') ++depth;
      else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
    }
    return s.size();
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_ws(s[i])) ++i;
  return i;
}

inline void append_utf8(std::string& out, uint32_t cp) {
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

inline uint32_t hex4(std::string_view s, size_t i) {
  uint32_t v = 0;
  for (size_t k = i; k < i + 4 && k < s.size(); ++k) {
    const char c = s[k];
    v = v * 16 + static_cast<uint32_t>(c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10);
  }
  return v;
}

}  // namespace detail

// One top-level member of a JSON object text, as byte offsets into that text.
struct Member {
  size_t key_start;    // the key's opening quote
  size_t key_end;      // just past its closing quote
  size_t value_end;    // just past the value
  std::string_view key;  // as written (escapes kept), without the quotes
};

// The top-level members of a JSON object text, in order. The text must be valid JSON (as every
// record is): this only finds boundaries, it does not validate.
inline std::vector<Member> members(std::string_view s) {
  std::vector<Member> out;
  size_t i = s.find('{');
  if (i == std::string_view::npos) return out;
  ++i;
  while (i < s.size()) {
    while (i < s.size() && (detail::is_ws(s[i]) || s[i] == ',')) ++i;
    if (i >= s.size() || s[i] != '"') break;
    const size_t key_end = detail::skip_string(s, i);
    Member m{i, key_end, 0, s.substr(i + 1, key_end - i - 2)};
    i = key_end;
    while (i < s.size() && (detail::is_ws(s[i]) || s[i] == ':')) ++i;
    m.value_end = detail::skip_value(s, i);
    i = m.value_end;
    out.push_back(m);
  }
  return out;
}

// The JSON object text `obj` (valid JSON) with top-level member `key` set to `value_json`: every member
// of that name (as written) dropped, the new one added at the end.
inline std::string set_member(std::string_view obj, std::string_view key, std::string_view value_json) {
  std::string out;
  size_t from = 0;
  const auto ms = members(obj);
  for (size_t m = 0; m < ms.size(); ++m) {
    if (ms[m].key != key) continue;
    // Drop the member and the comma that joins it to its neighbour.
    const size_t start = m > 0 ? ms[m - 1].value_end : ms[m].key_start;
    const size_t end = m > 0 ? ms[m].value_end : (m + 1 < ms.size() ? ms[m + 1].key_start : ms[m].value_end);
    out += obj.substr(from, start - from);
    from = end;
  }
  out += obj.substr(from);
  size_t close = out.rfind('}');
  while (close > 0 && detail::is_ws(out[close - 1])) --close;
  out.resize(close);
  const bool empty = out.find_first_not_of(" \t\r\n", 1) == std::string::npos;
  out += empty ? "" : ",";
  append_quoted(out, key);
  out += ':';
  out += value_json;
  out += '}';
  return out;
}

// The text of member `key` (compared unescaped) of the JSON object `obj` (valid JSON), as written:
// from the value's first byte to just past it. The first of duplicate keys wins, as in simdjson.
// Nothing when `obj` is not an object or has no such key.
inline std::optional<std::string_view> member_value(std::string_view obj, std::string_view key);

// The text of a JSON string body (valid JSON, without the quotes), unescaped to UTF-8.
inline std::string unescape(std::string_view k) {
  if (k.find('\\') == std::string_view::npos) return std::string(k);
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
        uint32_t cp = detail::hex4(k, i + 1);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < k.size() && k[i + 1] == '\\' && k[i + 2] == 'u') {
          const uint32_t lo = detail::hex4(k, i + 3);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        }
        detail::append_utf8(out, cp);
        break;
      }
      default: out.push_back(e);  // \" \\ \/
    }
  }
  return out;
}

inline std::optional<std::string_view> member_value(std::string_view obj, std::string_view key) {
  size_t i = 0;
  while (i < obj.size() && detail::is_ws(obj[i])) ++i;
  if (i >= obj.size() || obj[i] != '{') return std::nullopt;
  ++i;
  while (i < obj.size()) {
    while (i < obj.size() && (detail::is_ws(obj[i]) || obj[i] == ',')) ++i;
    if (i >= obj.size() || obj[i] != '"') return std::nullopt;
    const size_t key_end = detail::skip_string(obj, i);
    const std::string_view raw = obj.substr(i + 1, key_end - i - 2);
    i = key_end;
    while (i < obj.size() && (detail::is_ws(obj[i]) || obj[i] == ':')) ++i;
    const size_t value_end = detail::skip_value(obj, i);
    const bool match = raw.find('\\') == std::string_view::npos ? raw == key : unescape(raw) == key;
    if (match) return obj.substr(i, value_end - i);
    i = value_end;
  }
  return std::nullopt;
}

// The length of the JSON number token at the start of `text` (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?),
// or 0 when `text` does not start with a well-formed one.
inline size_t number_token_length(std::string_view text) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t j = 0;
  if (j < text.size() && text[j] == '-') ++j;
  const size_t int_start = j;
  while (j < text.size() && digit(text[j])) ++j;
  if (j == int_start || (text[int_start] == '0' && j - int_start > 1)) return 0;
  if (j < text.size() && text[j] == '.') {
    const size_t f = ++j;
    while (j < text.size() && digit(text[j])) ++j;
    if (j == f) return 0;
  }
  if (j < text.size() && (text[j] == 'e' || text[j] == 'E')) {
    ++j;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    const size_t e = j;
    while (j < text.size() && digit(text[j])) ++j;
    if (j == e) return 0;
  }
  return j;
}

// Whether a well-formed JSON number token is one simdjson cannot hold: an integer beyond 64 bits
// (below -2^63 or above 2^64-1), or a number with a fraction or an exponent beyond the range of a
// double (±1.8e308). Numbers too small for a double are not: they read as 0 (or a subnormal).
inline bool big_number(std::string_view token) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  const size_t n = token.size();
  size_t i = n > 0 && token[0] == '-' ? 1 : 0;
  const size_t int_start = i;
  while (i < n && digit(token[i])) ++i;
  const size_t int_end = i;
  if (int_end == n) {  // an integer
    if (n < 19) return false;  // at most 18 digits: always an int64
    int64_t v;
    uint64_t u;
    return std::from_chars(token.data(), token.data() + n, v).ec != std::errc() &&
           std::from_chars(token.data(), token.data() + n, u).ec != std::errc();
  }
  // The decimal exponent of the first significant digit, from the text: below 308 the number is less
  // than 1e308 and fits, above it the number is at least 1e309 and does not; at 308, the value decides.
  int64_t exponent = 0;
  bool zero = true;
  for (size_t k = int_start; k < int_end; ++k) {
    if (token[k] != '0') {
      exponent = static_cast<int64_t>(int_end - k - 1);
      zero = false;
      break;
    }
  }
  if (i < n && token[i] == '.') {
    const size_t frac_start = ++i;
    while (i < n && digit(token[i])) {
      if (zero && token[i] != '0') {
        exponent = -static_cast<int64_t>(i - frac_start + 1);
        zero = false;
      }
      ++i;
    }
  }
  if (zero) return false;
  if (i < n && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    const bool negative = i < n && token[i] == '-';
    if (i < n && (token[i] == '+' || token[i] == '-')) ++i;
    int64_t x = 0;
    for (; i < n; ++i) x = std::min<int64_t>(x * 10 + (token[i] - '0'), int64_t{1} << 40);  // saturates
    exponent += negative ? -x : x;
  }
  if (exponent != 308) return exponent > 308;
  double d = 0;
  const auto r = std::from_chars(token.data(), token.data() + n, d);  // out of range leaves `d` as it was
  return r.ec == std::errc::result_out_of_range || (r.ec == std::errc() && !std::isfinite(d));
}

// JSON allows numbers of any size; simdjson refuses integers beyond 64 bits and doubles beyond
// ±1.8e308 (NUMBER_ERROR). This copies `text` to `out` with each such number (big_number), when it is
// well formed, turned into a string of its text as written ("123456789012345678901234567890",
// "1e400"), so that the record can still be parsed and its other fields read. Returns false when no
// number needed quoting (then `out` is unspecified). Malformed numbers are left alone, so invalid JSON
// stays invalid.
inline bool quote_big_numbers(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size() + 16);
  bool changed = false;
  size_t i = 0;
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
    if (c != '-' && !(c >= '0' && c <= '9')) {
      out.push_back(c);
      ++i;
      continue;
    }
    const size_t n = number_token_length(text.substr(i));
    if (n == 0) {  // malformed ("01", "1.", "-x"): copied as it is, with the number-like bytes after it
      size_t j = i + 1;
      while (j < text.size() && text[j] != '\0' && std::strchr("0123456789+-.eE", text[j])) ++j;
      out.append(text.substr(i, j - i));
      i = j;
      continue;
    }
    const std::string_view token = text.substr(i, n);
    if (big_number(token)) {
      out.push_back('"');
      out.append(token);
      out.push_back('"');
      changed = true;
    } else {
      out.append(token);
    }
    i += n;
  }
  return changed;
}

}  // namespace tamis::json

#endif  // TAMIS_JSON_HPP
