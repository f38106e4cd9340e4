#include "normalize.hpp"
#include "utf8.hpp"

#include <algorithm>

namespace tamis::text {

namespace {

inline void put(char*& w, std::string_view t) {
  for (char c : t) *w++ = c;
}

// Applies `f(w, cp)` to every valid code point, writing through the pointer w; invalid bytes are copied
// as they are. No step here writes more than 3 bytes for a code point of fewer bytes, and never more
// than 3 bytes per input byte, so 3 * size is a safe bound.
template <class F>
std::string map_code_points(std::string_view s, F&& f) {
  std::string out;
  out.resize(s.size() * 3);
  char* w = out.data();
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {  // ASCII fast path
      f(w, static_cast<char32_t>(b));
      ++i;
      continue;
    }
    const Decoded d = decode(s, i);
    if (d.ok) f(w, d.cp);
    else *w++ = s[i];
    i += d.len;
  }
  out.resize(static_cast<size_t>(w - out.data()));
  return out;
}

bool is_space(char32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool is_ascii_punct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Even upper / odd lower pairs (or the reverse) within [lo, hi].
inline bool in(char32_t c, char32_t lo, char32_t hi) { return c >= lo && c <= hi; }

}  // namespace

std::string NormalizeOptions::describe() const {
  auto b = [](bool v) { return v ? "1" : "0"; };
  return std::string("v1;ws=") + b(whitespace) + ";case=" + b(lowercase) + ";nfkc=" + b(nfkc) +
         ";latex=" + b(latex) + ";punct=" + b(punctuation) + ";digits=" + b(digits);
}

char32_t lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
  // Latin-1 Supplement: À-Þ except × (U+00D7).
  if (in(c, 0xC0, 0xDE)) return c == 0xD7 ? c : c + 0x20;
  if (c < 0x100) return c;
  // Latin Extended-A (U+0100-017F).
  if (c <= 0x17F) {
    if (c == 0x130) return 'i';             // İ: plain i (no combining dot; simple mapping)
    if (c == 0x178) return 0xFF;            // Ÿ -> ÿ
    if (in(c, 0x100, 0x137) || in(c, 0x14A, 0x177)) return (c % 2 == 0) ? c + 1 : c;
    if (in(c, 0x139, 0x148) || in(c, 0x179, 0x17E)) return (c % 2 == 1) ? c + 1 : c;
    return c;  // ı (U+0131), ĸ (U+0138), ŉ (U+0149), ſ (U+017F) are lowercase already
  }
  // Greek (U+0370-03FF).
  if (in(c, 0x370, 0x3FF)) {
    if (c == 0x386) return 0x3AC;                  // Ά
    if (in(c, 0x388, 0x38A)) return c + 0x25;      // Έ Ή Ί
    if (c == 0x38C) return 0x3CC;                  // Ό
    if (c == 0x38E || c == 0x38F) return c + 0x3F; // Ύ Ώ
    if (in(c, 0x391, 0x3A1) || in(c, 0x3A3, 0x3AB)) return c + 0x20;  // Α-Ρ, Σ-Ϋ
    if (in(c, 0x3D8, 0x3EF)) return (c % 2 == 0) ? c + 1 : c;         // archaic/Coptic pairs
    return c;
  }
  // Cyrillic (U+0400-04FF) and Cyrillic Supplement (U+0500-052F).
  if (in(c, 0x400, 0x52F)) {
    if (in(c, 0x400, 0x40F)) return c + 0x50;      // Ѐ-Џ
    if (in(c, 0x410, 0x42F)) return c + 0x20;      // А-Я
    if (in(c, 0x460, 0x481) || in(c, 0x48A, 0x4BF) || in(c, 0x4D0, 0x52F)) return (c % 2 == 0) ? c + 1 : c;
    if (c == 0x4C0) return 0x4CF;                  // Ӏ palochka
    if (in(c, 0x4C1, 0x4CE)) return (c % 2 == 1) ? c + 1 : c;
    return c;
  }
  // Latin Extended Additional (U+1E00-1EFF): Vietnamese and other accented pairs.
  if (in(c, 0x1E00, 0x1EFF)) {
    if (c == 0x1E9E) return 0xDF;  // ẞ -> ß
    if (in(c, 0x1E00, 0x1E95) || in(c, 0x1EA0, 0x1EFF)) return (c % 2 == 0) ? c + 1 : c;
    return c;
  }
  return c;
}

std::string nfkc_subset(std::string_view s) {
  return map_code_points(s, [](char*& out, char32_t c) {
    if (c < 0x80) { *out++ = static_cast<char>(c); return; }
    if (in(c, 0xFF01, 0xFF5E)) { *out++ = static_cast<char>(c - 0xFEE0); return; }  // fullwidth ASCII
    if (c == 0x3000 || c == 0xA0 || in(c, 0x2000, 0x200A) || c == 0x202F || c == 0x205F) { *out++ = ' '; return; }
    switch (c) {
      case 0xFB00: put(out, "ff"); return;
      case 0xFB01: put(out, "fi"); return;
      case 0xFB02: put(out, "fl"); return;
      case 0xFB03: put(out, "ffi"); return;
      case 0xFB04: put(out, "ffl"); return;
      case 0xFB05: case 0xFB06: put(out, "st"); return;
      case 0x2070: *out++ = '0'; return;       // superscripts
      case 0xB9: *out++ = '1'; return;
      case 0xB2: *out++ = '2'; return;
      case 0xB3: *out++ = '3'; return;
      case 0x2071: *out++ = 'i'; return;
      case 0x207F: *out++ = 'n'; return;
      case 0x2026: put(out, "..."); return;    // horizontal ellipsis
      case 0xB5: encode(out, 0x3BC); return; // micro sign -> Greek mu
      case 0x2212: *out++ = '-'; return;       // minus sign (NFKC keeps it; a common near-identical form)
      case 0xFF5F: encode(out, 0x2985); return;
      default: break;
    }
    if (in(c, 0x2074, 0x2079)) { *out++ = static_cast<char>('4' + (c - 0x2074)); return; }
    if (in(c, 0x2080, 0x2089)) { *out++ = static_cast<char>('0' + (c - 0x2080)); return; }  // subscripts
    static constexpr char signs[] = {'+', '-', '=', '(', ')'};
    if (in(c, 0x207A, 0x207E)) { *out++ = signs[c - 0x207A]; return; }
    if (in(c, 0x208A, 0x208E)) { *out++ = signs[c - 0x208A]; return; }
    encode(out, c);
  });
}

std::string lowercase(std::string_view s) {
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    std::string out(s);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 0x20);
    return out;
  }
  return map_code_points(s, [](char*& out, char32_t c) { encode(out, lower(c)); });
}

std::string latex_normalize(std::string_view s) {
  if (s.find_first_of("\\$") == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '$') { ++i; continue; }  // $...$ and $$...$$ delimiters
    if (c != '\\' || i + 1 >= s.size()) { out += c; ++i; continue; }
    const char n = s[i + 1];
    if (n == ',' || n == ';' || n == '!' || n == ':' || n == '(' || n == ')' || n == '[' || n == ']') {
      i += 2;  // thin/medium/negative spaces, \( \) \[ \] delimiters
      continue;
    }
    if (!is_letter(n)) {  // \$ \{ \\ ...: kept as written
      out += c;
      out += n;
      i += 2;
      continue;
    }
    size_t e = i + 1;
    while (e < s.size() && is_letter(s[e])) ++e;
    const std::string_view cmd = s.substr(i + 1, e - i - 1);
    if (cmd == "quad" || cmd == "qquad" || cmd == "displaystyle") { i = e; continue; }
    if (cmd == "left" || cmd == "right") {
      i = e;
      if (i < s.size() && s[i] == '.') ++i;  // \left. / \right. : an invisible delimiter
      continue;
    }
    if (cmd == "dfrac" || cmd == "tfrac") { out += "\\frac"; i = e; continue; }
    if (cmd == "text" || cmd == "textrm" || cmd == "mbox") {
      size_t b = e;
      while (b < s.size() && s[b] == ' ') ++b;
      if (b < s.size() && s[b] == '{') {
        int depth = 0;
        size_t k = b;
        for (; k < s.size(); ++k) {
          if (s[k] == '\\' && k + 1 < s.size()) { ++k; continue; }
          if (s[k] == '{') ++depth;
          else if (s[k] == '}' && --depth == 0) break;
        }
        if (k < s.size()) {  // balanced: unwrap (the content may hold $...$ or more commands)
          out += latex_normalize(s.substr(b + 1, k - b - 1));
          i = k + 1;
          continue;
        }
      }
    }
    out.append(s.substr(i, e - i));
    i = e;
  }
  return out;
}

std::string strip_punctuation(std::string_view s) {
  std::string out(s.size(), '\0');
  char* w = out.data();
  for (char c : s)
    if (!is_ascii_punct(c)) *w++ = c;
  out.resize(static_cast<size_t>(w - out.data()));
  return out;
}

std::string strip_digits(std::string_view s) {
  std::string out(s.size(), '\0');
  char* w = out.data();
  for (char c : s)
    if (c < '0' || c > '9') *w++ = c;
  out.resize(static_cast<size_t>(w - out.data()));
  return out;
}

std::string collapse_whitespace(std::string_view s) {
  std::string out;
  out.resize(s.size());
  char* const begin = out.data();
  char* w = begin;
  bool pending = false;  // a space to write before the next non-space
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = 1;
    bool space;
    if (b < 0x80) {
      space = b == ' ' || (b >= 0x09 && b <= 0x0D);
    } else {
      const Decoded d = decode(s, i);
      len = d.len;
      space = d.ok && is_space(d.cp);
    }
    if (space) {
      pending = w != begin;
    } else {
      if (pending) *w++ = ' ';
      pending = false;
      for (size_t k = 0; k < len; ++k) *w++ = s[i + k];
    }
    i += len;
  }
  out.resize(static_cast<size_t>(w - begin));
  return out;
}

std::string normalize(std::string_view s, const NormalizeOptions& o) {
  std::string t(s);
  if (o.nfkc) t = nfkc_subset(t);
  if (o.latex) t = latex_normalize(t);
  if (o.lowercase) t = lowercase(t);
  if (o.punctuation) t = strip_punctuation(t);
  if (o.digits) t = strip_digits(t);
  if (o.whitespace) t = collapse_whitespace(t);
  return t;
}

}  // namespace tamis::text
