#include "normalize.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace tamis::text {

namespace {

inline void put(char*& w, std::string_view t) {
  for (char c : t) *w++ = c;
}

// Applies `f(w, cp)` to every valid code point of s, writing into `out` (replaced) through the pointer
// w; invalid bytes are copied as they are. No step here writes more than 3 bytes for a code point of
// fewer bytes, and never more than 3 bytes per input byte, so 3 * size is a safe bound.
template <class F>
void map_code_points_into(std::string_view s, std::string& out, F&& f) {
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
}

template <class F>
std::string map_code_points(std::string_view s, F&& f) {
  std::string out;
  map_code_points_into(s, out, f);
  return out;
}

bool is_space(char32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

constexpr bool is_ascii_punct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

constexpr bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

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

namespace {
// The NFKC subset for one code point.
void nfkc_one(char*& out, char32_t c) {
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
}
}  // namespace

std::string nfkc_subset(std::string_view s) { return map_code_points(s, nfkc_one); }

std::string lowercase(std::string_view s) {
  if (std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    std::string out(s);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 0x20);
    return out;
  }
  return map_code_points(s, [](char*& out, char32_t c) { encode(out, lower(c)); });
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

namespace {

// Index of the next '$' or '\\' at or after i (s.size() if none): most of a prompt is neither.
size_t next_latex_special(std::string_view s, size_t i) {
#ifdef __SSE2__
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const int m = _mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('$')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    if (m != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(m)));
  }
#endif
  while (i < s.size() && s[i] != '$' && s[i] != '\\') ++i;
  return i;
}

// The LaTeX step as a transducer: calls emit(span) with consecutive pieces of its output, each either a
// slice of `s` or a literal. Slices are cut only at ASCII bytes, so (for valid UTF-8) a multi-byte
// sequence never straddles two spans: the streaming steps after it may decode each span on its own.
template <class Emit>
void latex_spans(std::string_view s, Emit& emit) {
  size_t run = 0;  // start of the pending slice, emitted when something is dropped or replaced
  size_t i = 0;
  auto flush = [&](size_t end) {
    if (end > run) emit(s.substr(run, end - run));
  };
  while ((i = next_latex_special(s, i)) < s.size()) {
    const char c = s[i];
    if (c == '$') {  // $...$ and $$...$$ delimiters
      flush(i);
      run = ++i;
      continue;
    }
    if (i + 1 >= s.size()) break;  // a final backslash is kept
    const char n = s[i + 1];
    if (n == ',' || n == ';' || n == '!' || n == ':' || n == '(' || n == ')' || n == '[' || n == ']') {
      flush(i);  // thin/medium/negative spaces, \( \) \[ \] delimiters
      run = i += 2;
      continue;
    }
    if (!is_letter(n)) {  // \$ \{ \\ ...: kept as written
      i += 2;
      continue;
    }
    size_t e = i + 1;
    while (e < s.size() && is_letter(s[e])) ++e;
    const std::string_view cmd = s.substr(i + 1, e - i - 1);
    if (cmd == "quad" || cmd == "qquad" || cmd == "displaystyle") {
      flush(i);
      run = i = e;
      continue;
    }
    if (cmd == "left" || cmd == "right") {
      flush(i);
      i = e;
      if (i < s.size() && s[i] == '.') ++i;  // \left. / \right. : an invisible delimiter
      run = i;
      continue;
    }
    if (cmd == "dfrac" || cmd == "tfrac") {
      flush(i);
      emit(std::string_view("\\frac"));
      run = i = e;
      continue;
    }
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
          flush(i);
          latex_spans(s.substr(b + 1, k - b - 1), emit);
          run = i = k + 1;
          continue;
        }
      }
    }
    i = e;  // any other command: kept as written
  }
  flush(s.size());
}

// What the streaming steps (case, punctuation, digits, whitespace) do to one ASCII byte: a byte to
// write, or kDrop, or kSpace (a whitespace character, collapsed with its neighbours).
constexpr int16_t kDrop = -1, kSpace = -2;
constexpr size_t kSlack = 2;  // bytes past the bound that Tail's branch-free stores may touch

struct AsciiTable {
  int16_t action[128];
};

constexpr AsciiTable make_table(bool lc, bool punct, bool digits, bool ws) {
  AsciiTable t{};
  for (int b = 0; b < 128; ++b) {
    const char c = static_cast<char>(lc && b >= 'A' && b <= 'Z' ? b + 0x20 : b);
    const bool space = c == ' ' || (c >= 0x09 && c <= 0x0D);
    if (punct && is_ascii_punct(c)) t.action[b] = kDrop;
    else if (digits && c >= '0' && c <= '9') t.action[b] = kDrop;
    else if (ws && space) t.action[b] = kSpace;
    else t.action[b] = c;
  }
  return t;
}

constexpr auto kTables = [] {
  std::array<AsciiTable, 16> t{};
  for (int m = 0; m < 16; ++m) t[static_cast<size_t>(m)] = make_table(m & 1, m & 2, m & 4, m & 8);
  return t;
}();

// The steps after LaTeX, fused: lowercase -> punctuation -> digits -> whitespace, one pass over each
// span, writing into a buffer sized in advance (none of these steps makes text longer: a lowercase
// letter never takes more UTF-8 bytes than its capital in the covered ranges).
class Tail {
 public:
  Tail(const NormalizeOptions& o, char* w)
      : table_(kTables[(o.lowercase ? 1 : 0) | (o.punctuation ? 2 : 0) | (o.digits ? 4 : 0) | (o.whitespace ? 8 : 0)]),
        lowercase_(o.lowercase), whitespace_(o.whitespace), simd_(!o.punctuation && !o.digits), begin_(w), w_(w) {}

  void operator()(std::string_view s) {
    // Locals, not members, in the loop: stores through char* may alias any member, which would make the
    // compiler reload and store w_ for every byte.
    char* w = w_;
    bool pending = pending_;
    const int16_t* const action = table_.action;
    auto keep = [&](char c) {
      if (pending) *w++ = ' ';
      pending = false;
      *w++ = c;
    };
    for (size_t i = 0; i < s.size();) {
      if (i + 16 <= s.size() && plain_chunk(s.data() + i, w, pending)) {
        i += 16;
        continue;
      }
      const auto b = static_cast<unsigned char>(s[i]);
      if (b < 0x80) {
        // Branch-free: a space before every fourth character or so would mispredict otherwise. Both
        // stores land inside the buffer (the output never outgrows the input consumed so far, and the
        // buffer has kSlack bytes more); only the advances of w depend on the action.
        const int16_t a = action[b];
        const bool kept = a >= 0, space = a == kSpace;
        *w = ' ';
        w += pending & kept;
        *w = static_cast<char>(a);
        w += kept;
        pending = (space & (w != begin_)) | (pending & !kept & !space);
        ++i;
        continue;
      }
      const Decoded d = decode(s, i);
      if (!d.ok) {
        keep(s[i]);
        ++i;
        continue;
      }
      i += d.len;
      const char32_t c = lowercase_ ? lower(d.cp) : d.cp;
      if (c < 0x80) {  // İ -> i: an ASCII letter, never punctuation, a digit or a space
        const int16_t a = action[c];
        if (a >= 0) keep(static_cast<char>(a));
        else if (a == kSpace) pending = w != begin_;
      } else if (whitespace_ && is_space(c)) {
        pending = w != begin_;
      } else {
        if (pending) *w++ = ' ';
        pending = false;
        encode(w, c);
      }
    }
    w_ = w;
    pending_ = pending;
  }
  char* end() const { return w_; }

 private:
  // 16 bytes at once when nothing in them needs more than lowercasing: only ASCII, no control
  // character, and (with the whitespace step) only single spaces that stay as they are. Writes the
  // chunk and returns true, or returns false and leaves the bytes to the per-byte loop. Only without
  // the punctuation and digits steps (the defaults), which would need a per-byte table anyway.
  bool plain_chunk(const char* p, char*& w, bool& pending) const {
#ifdef __SSE2__
    if (!simd_) return false;
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed compare: bytes >= 0x80 are negative, so "< 0x21" flags non-ASCII, controls and space.
    const __m128i space = _mm_cmpeq_epi8(v, _mm_set1_epi8(' '));
    const __m128i low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x21));
    const auto sp = static_cast<unsigned>(_mm_movemask_epi8(space));
    const auto special = static_cast<unsigned>(_mm_movemask_epi8(low)) & ~(whitespace_ ? sp : 0xFFFFu);
    if (whitespace_) {
      if (special != 0) return false;
      // A space is kept as is when it is single, not last (it might start a run, or end the text),
      // and, first in the chunk, when output exists and no space is pending.
      if ((sp & (sp >> 1)) != 0 || (sp & 0x8000u) != 0) return false;
      if ((sp & 1u) != 0 && (pending || w == begin_)) return false;
    } else if ((static_cast<unsigned>(_mm_movemask_epi8(v))) != 0) {
      return false;  // non-ASCII
    }
    if (lowercase_) {
      const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('Z' + 1)));
      v = _mm_add_epi8(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
    }
    if (pending) *w++ = ' ';
    pending = false;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);
    w += 16;
    return true;
#else
    (void)p, (void)w, (void)pending;
    return false;
#endif
  }

  const AsciiTable& table_;
  bool lowercase_, whitespace_, simd_;
  char* const begin_;
  char* w_;
  bool pending_ = false;  // a space to write before the next kept character (never at the start or end)
};

bool all_ascii(std::string_view s) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    acc |= v;
  }
  for (; i < s.size(); ++i) acc |= static_cast<unsigned char>(s[i]);
  return (acc & 0x8080808080808080ULL) == 0;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const Decoded d = decode(s, i);
    if (!d.ok) return false;
    i += d.len;
  }
  return true;
}

}  // namespace

std::string latex_normalize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto append = [&](std::string_view span) { out.append(span); };
  latex_spans(s, append);
  return out;
}

std::string normalize_steps(std::string_view s, const NormalizeOptions& o) {
  std::string t(s);
  if (o.nfkc) t = nfkc_subset(t);
  if (o.latex) t = latex_normalize(t);
  if (o.lowercase) t = lowercase(t);
  if (o.punctuation) t = strip_punctuation(t);
  if (o.digits) t = strip_digits(t);
  if (o.whitespace) t = collapse_whitespace(t);
  return t;
}

void normalize_append(std::string_view s, const NormalizeOptions& o, std::string& out) {
  const bool ascii = all_ascii(s);
  if (!ascii && !valid_utf8(s)) {
    // Removing a `$` may join the bytes of a broken sequence into a valid one, which the step-by-step
    // path then decodes and the span-wise path would not: keep invalid input on the reference path.
    out += normalize_steps(s, o);
    return;
  }
  // NFKC first, into a scratch buffer reused by this thread (ASCII text is NFKC-stable).
  thread_local std::string nfkc_buf;
  std::string_view t = s;
  if (o.nfkc && !ascii) {
    map_code_points_into(s, nfkc_buf, nfkc_one);
    t = nfkc_buf;
  }
  const size_t start = out.size();
  out.resize(start + t.size() + kSlack);
  Tail tail(o, out.data() + start);
  if (o.latex) latex_spans(t, tail);
  else tail(t);
  out.resize(static_cast<size_t>(tail.end() - out.data()));
}

std::string normalize(std::string_view s, const NormalizeOptions& o) {
  std::string out;
  normalize_append(s, o, out);
  return out;
}

}  // namespace tamis::text
