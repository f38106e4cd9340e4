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

// Bytes past the end of a text that the 16-byte loads and stores of the fused path may touch: every
// text it reads sits in a buffer with this many spare bytes after it (see padded_copy()).
constexpr size_t kPad = 32;

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
  return std::string("v2;ws=") + b(whitespace) + ";case=" + b(lowercase) + ";nfkc=" + b(nfkc) +
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
    // Invisible format characters, dropped (not NFKC either): soft hyphen, zero-width space, non-joiner
    // and joiner, word joiner, and U+FEFF (byte-order mark / zero-width no-break space). Pasted text
    // carries them where a reader sees nothing.
    case 0xAD: case 0x200B: case 0x200C: case 0x200D: case 0x2060: case 0xFEFF: return;
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

// Index of the first byte at or after i for which `scalar` holds (s.size() if none). `vec` is the same
// test on 16 bytes (a byte mask). The last partial window is the text's last 16 bytes, the part before i
// masked off, so that no byte past the end is read.
template <class Vec, class Scalar>
size_t find_first(std::string_view s, size_t i, Vec vec, Scalar scalar) {
#ifdef __SSE2__
  const char* const p = s.data();
  const size_t n = s.size();
  for (; i + 16 <= n; i += 16) {
    const auto m = static_cast<unsigned>(_mm_movemask_epi8(vec(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)))));
    if (m != 0) return i + static_cast<size_t>(__builtin_ctz(m));
  }
  if (i < n && n >= 16) {
    const unsigned skip = static_cast<unsigned>(16 - (n - i));
    const auto m = static_cast<unsigned>(_mm_movemask_epi8(vec(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16))))) >> skip;
    return m != 0 ? i + static_cast<size_t>(__builtin_ctz(m)) : n;
  }
#else
  (void)vec;
#endif
  while (i < s.size() && !scalar(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

#ifdef __SSE2__
#define TAMIS_VEC(body) [](__m128i v) { return body; }
#else
#define TAMIS_VEC(body) 0
#endif

// Index of the next '$' or '\\' at or after i (s.size() if none): most of a prompt is neither.
size_t next_latex_special(std::string_view s, size_t i) {
  return find_first(
      s, i, TAMIS_VEC(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('$')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))),
      [](unsigned char b) { return b == '$' || b == '\\'; });
}

// next_latex_special() for the many calls of one latex_spans() pass: the positions of '$' and '\\' are
// found 64 bytes at a time (four independent 16-byte compares) into a bit mask kept for the following
// calls, so that going from one special byte to the next (math text has one every few bytes) is a bit
// scan rather than a load and compare each time.
class LatexSpecials {
 public:
  explicit LatexSpecials(std::string_view s) : s_(s) {}

  size_t next(size_t i) {
#ifdef __SSE2__
    const size_t n = s_.size();
    if (n < 16) return next_latex_special(s_, i);
    while (i < n) {
      const size_t b = i & ~size_t{63};
      if (b != base_) {
        base_ = b;
        mask_ = block(b);
      }
      const uint64_t m = mask_ >> (i - b);
      if (m != 0) return i + static_cast<size_t>(__builtin_ctzll(m));
      i = b + 64;
    }
    return n;
#else
    return next_latex_special(s_, i);
#endif
  }

 private:
#ifdef __SSE2__
  // The mask of bytes [b, b + 64) (bits past the end clear). A window that would run past the end is
  // the text's last 16 bytes, shifted: nothing past the end is read.
  uint64_t block(size_t b) const {
    const size_t n = s_.size();
    uint64_t mask = 0;
    for (size_t k = 0; k < 64 && b + k < n; k += 16) {
      const size_t at = b + k + 16 <= n ? b + k : n - 16;
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s_.data() + at));
      const auto m = static_cast<unsigned>(_mm_movemask_epi8(
          _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('$')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))));
      mask |= static_cast<uint64_t>(m >> (b + k - at)) << k;
    }
    return mask;
  }
#endif

  std::string_view s_;
  size_t base_ = SIZE_MAX;  // start of the 64-byte block whose mask is kept
  uint64_t mask_ = 0;
};

// cmd == lit, with the length a constant: memcmp inlined rather than called. With kFold, any case of
// the letters of cmd (a command name: ASCII letters only, so `| 0x20` is their lowercase) matches the
// lowercase literal.
template <bool kFold, size_t N>
inline bool is(std::string_view cmd, const char (&lit)[N]) {
  if (cmd.size() != N - 1) return false;
  if constexpr (kFold) {
    for (size_t k = 0; k + 1 < N; ++k)
      if ((cmd[k] | 0x20) != lit[k]) return false;
    return true;
  } else {
    return std::memcmp(cmd.data(), lit, N - 1) == 0;
  }
}

// The LaTeX step as a transducer: calls emit(span) with consecutive pieces of its output, each either a
// slice of `s` or a literal. Slices are cut only at ASCII bytes, so (for valid UTF-8) a multi-byte
// sequence never straddles two spans: the streaming steps after it may decode each span on its own.
// kFold (the lowercase step is on): command names are recognised in any case (`\TEXT{A}`, `\DFRAC`,
// `\Left(` as `\text{A}`, `\dfrac`, `\left(`), as they would be if lowercasing ran first; the text is
// not changed here (the lowercase step does that after).
template <bool kFold, class Emit>
void latex_spans(std::string_view s, Emit& emit) {
  size_t run = 0;  // start of the pending slice, emitted when something is dropped or replaced
  size_t i = 0;
  auto flush = [&](size_t end) {
    if (end > run) emit(s.substr(run, end - run));
  };
  LatexSpecials specials(s);
  while ((i = specials.next(i)) < s.size()) {
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
    if (is<kFold>(cmd, "quad") || is<kFold>(cmd, "qquad") || is<kFold>(cmd, "displaystyle")) {
      flush(i);
      run = i = e;
      continue;
    }
    if (is<kFold>(cmd, "left") || is<kFold>(cmd, "right")) {
      flush(i);
      i = e;
      if (i < s.size() && s[i] == '.') ++i;  // \left. / \right. : an invisible delimiter
      run = i;
      continue;
    }
    if (is<kFold>(cmd, "dfrac") || is<kFold>(cmd, "tfrac")) {
      flush(i);
      // Padded, like every input of Tail (which may read 16 bytes from any position of a span).
      alignas(16) static constexpr char kFrac[kPad + 8] = "\\frac";
      emit(std::string_view(kFrac, 5));
      run = i = e;
      continue;
    }
    if (is<kFold>(cmd, "text") || is<kFold>(cmd, "textrm") || is<kFold>(cmd, "mbox")) {
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
          latex_spans<kFold>(s.substr(b + 1, k - b - 1), emit);
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
// Bytes past the bound that Tail's stores may touch: the branch-free byte stores, and the 16-byte
// stores of the SIMD path (a whole vector written where fewer bytes are kept).
constexpr size_t kSlack = kPad;

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

// The steps after LaTeX, fused: lowercase -> punctuation -> digits -> whitespace, one pass over the
// text, writing into a buffer sized in advance (none of these steps makes text longer: a lowercase
// letter never takes more UTF-8 bytes than its capital in the covered ranges). The input must be valid
// UTF-8 (normalize_append sends invalid text to the reference path).
//
// A space run is written as one ' ' just before the next kept character, never at the start of the
// output nor at its end: `pending_` carries a run across the end of one chunk or call.
class Tail {
 public:
  Tail(const NormalizeOptions& o, char* w)
      : table_(kTables[(o.lowercase ? 1 : 0) | (o.punctuation ? 2 : 0) | (o.digits ? 4 : 0) | (o.whitespace ? 8 : 0)]),
        lowercase_(o.lowercase), whitespace_(o.whitespace), punct_(o.punctuation), digits_(o.digits), begin_(w),
        w_(w) {}

  void operator()(std::string_view s) {
#ifdef __SSE2__
    // One instantiation per option set, so that the loop holds no test of an option.
    const int m = (lowercase_ ? 1 : 0) | (whitespace_ ? 2 : 0) | (punct_ ? 4 : 0) | (digits_ ? 8 : 0);
    switch (m) {
      case 0: return run<false, false, false, false>(s);
      case 1: return run<true, false, false, false>(s);
      case 2: return run<false, true, false, false>(s);
      case 3: return run<true, true, false, false>(s);
      case 4: return run<false, false, true, false>(s);
      case 5: return run<true, false, true, false>(s);
      case 6: return run<false, true, true, false>(s);
      case 7: return run<true, true, true, false>(s);
      case 8: return run<false, false, false, true>(s);
      case 9: return run<true, false, false, true>(s);
      case 10: return run<false, true, false, true>(s);
      case 11: return run<true, true, false, true>(s);
      case 12: return run<false, false, true, true>(s);
      case 13: return run<true, false, true, true>(s);
      case 14: return run<false, true, true, true>(s);
      default: return run<true, true, true, true>(s);
    }
#else
    scalar(s);
#endif
  }
  char* end() const { return w_; }

 private:
  // One code point at s[i] of 2 to 4 bytes (valid UTF-8): written lowercased, or as a pending space.
  // (run() copies those from U+4000 on itself.)
  template <bool kLc, bool kWs>
  static void non_ascii(std::string_view s, size_t& i, char*& w, bool& pending, const int16_t* action,
                        const char* begin) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    // From U+4000 on (lead byte E4 and above) no code point is a capital or a space of the covered
    // ranges: the bytes are copied as they are.
    if (b0 >= 0xE4) {
      const size_t len = b0 >= 0xF0 ? 4 : 3;
      if (pending) *w++ = ' ';
      pending = false;
      w[0] = s[i];
      w[1] = s[i + 1];
      w[2] = s[i + 2];
      if (len == 4) w[3] = s[i + 3];
      w += len;
      i += len;
      return;
    }
    char32_t cp;
    if (b0 < 0xE0) {
      cp = (static_cast<char32_t>(b0 & 0x1F) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3F);
      i += 2;
    } else {
      cp = (static_cast<char32_t>(b0 & 0x0F) << 12) | ((static_cast<char32_t>(static_cast<unsigned char>(s[i + 1]) & 0x3F)) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3F);
      i += 3;
    }
    // Basic Cyrillic inline (Russian text is one such letter after another), the rest through lower().
    char32_t c = cp;
    if constexpr (kLc) c = in(cp, 0x410, 0x42F) ? cp + 0x20 : in(cp, 0x430, 0x45F) ? cp : lower(cp);
    if (c < 0x80) {  // İ -> i: an ASCII letter, never punctuation, a digit or a space
      const int16_t a = action[c];
      if (a >= 0) {
        if (pending) *w++ = ' ';
        pending = false;
        *w++ = static_cast<char>(a);
      } else if (a == kSpace) {
        pending = w != begin;
      }
    } else if (kWs && is_space(c)) {
      pending = w != begin;
    } else {
      if (pending) *w++ = ' ';
      pending = false;
      encode(w, c);
    }
  }

#ifdef __SSE2__
  static __m128i in_range(__m128i v, char lo, char hi) {
    return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
                         _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(hi + 1))));
  }

  // The whole text, 16 bytes at a time: the ASCII prefix of each 16-byte window is classified with
  // vector compares into kept characters K, dropped ones D (punctuation, digits) and spaces S; a space
  // is written only when the next byte that is not dropped is a kept character of the same window (the
  // last space of a run), and a run that reaches the window's end stays pending. When the kept bytes
  // are a prefix of the window (nearly always with the default options) the window is one store; else
  // they are compacted by runs of consecutive kept positions. Non-ASCII code points go one by one.
  template <bool kLc, bool kWs, bool kPunct, bool kDigits>
  void run(std::string_view s) {
    char* w = w_;
    bool pending = pending_;
    const int16_t* const action = table_.action;
    const char* const p = s.data();
    const size_t size = s.size();
    alignas(16) char tmp[32] = {};
    // Whether anything was written (w != begin_), kept apart so that the masks of a window do not
    // wait for the previous window's w.
    bool started = w != begin_;
    // One window: the bytes of `valid` (its low bits: the ASCII bytes to do).
    auto window = [&](__m128i v, unsigned valid) {
      if constexpr (kLc)
        v = _mm_add_epi8(v, _mm_and_si128(in_range(v, 'A', 'Z'), _mm_set1_epi8(0x20)));
      unsigned S = 0, D = 0;
      if constexpr (kWs) {
        const __m128i sp = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), in_range(v, 0x09, 0x0D));
        S = static_cast<unsigned>(_mm_movemask_epi8(sp)) & valid;
        v = _mm_or_si128(_mm_andnot_si128(sp, v), _mm_and_si128(sp, _mm_set1_epi8(' ')));
      }
      if constexpr (kPunct) {
        const __m128i pu = _mm_or_si128(_mm_or_si128(in_range(v, '!', '/'), in_range(v, ':', '@')),
                                        _mm_or_si128(in_range(v, '[', '`'), in_range(v, '{', '~')));
        D |= static_cast<unsigned>(_mm_movemask_epi8(pu));
      }
      if constexpr (kDigits) D |= static_cast<unsigned>(_mm_movemask_epi8(in_range(v, '0', '9')));
      D &= valid;
      const unsigned K = valid & ~S & ~D;
      unsigned keep = K;
      bool lead = false;  // a pending space from before goes first
      if constexpr (kWs) {
        // G: positions whose next byte that is not dropped (itself included) is a kept character.
        unsigned G = K;
        if constexpr (kPunct || kDigits) {
          unsigned P = D;
          G |= P & (G >> 1);
          P &= P >> 1;
          G |= P & (G >> 2);
          P &= P >> 2;
          G |= P & (G >> 4);
          P &= P >> 4;
          G |= P & (G >> 8);
        }
        unsigned SK = S & (G >> 1);
        if (!started) SK &= ~((K & -K) - 1);  // no space before the first kept character of the output
        const unsigned X = S | K;
        lead = pending & ((X & -X & K) != 0);    // the first non-dropped byte is kept: the run ends here
        keep |= SK;
        // Spaces after the last kept character stay pending (as does a pending run when none is kept).
        const unsigned upto_last_k = K != 0 ? 0xFFFFFFFFu >> __builtin_clz(K) : 0u;
        pending = ((S & ~upto_last_k) != 0) | (pending & (K == 0));
      }
      *w = ' ';
      w += lead;
      if ((keep & (keep + 1)) == 0) {
        // The kept bytes are a prefix (all of them, or all but a final run of spaces now pending):
        // one store; the bytes written past the kept ones are overwritten next.
        _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);
        w += __builtin_ctz(~keep);  // the number of kept bytes
      } else {
        // Runs of kept positions: usually one to three.
        _mm_store_si128(reinterpret_cast<__m128i*>(tmp), v);
        while (keep != 0) {
          const unsigned a = static_cast<unsigned>(__builtin_ctz(keep));
          const unsigned len = static_cast<unsigned>(__builtin_ctz(~(keep >> a)));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(w), _mm_loadu_si128(reinterpret_cast<const __m128i*>(tmp + a)));
          w += len;
          keep &= ~(((1u << len) - 1) << a);  // len <= 16
        }
      }
      if constexpr (kWs) {
        started |= K != 0;
        pending &= started;
      }
    };
    for (size_t i = 0; i < size;) {
      // The window: 16 bytes from i (the input is padded: bytes past its end may be read). The common
      // case, 16 ASCII bytes, advances i by a constant: no dependency of the next load on this one.
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      const auto non_ascii_bits = static_cast<unsigned>(_mm_movemask_epi8(v));
      const size_t rem = size - i;
      if (non_ascii_bits == 0 && rem >= 16) [[likely]] {
        window(v, 0xFFFFu);
        i += 16;
        continue;
      }
      // Up to the first non-ASCII byte or the end of the text.
      unsigned n = non_ascii_bits != 0 ? static_cast<unsigned>(__builtin_ctz(non_ascii_bits)) : 16u;
      if (n > rem) n = static_cast<unsigned>(rem);
      if (n == 0) {
        do {
          // From U+4000 on (CJK most often), copied as they are: inline, 4 bytes at once (the input is
          // padded, the output has slack).
          const auto b0 = static_cast<unsigned char>(p[i]);
          if (b0 >= 0xE4) {
            const size_t len = b0 >= 0xF0 ? 4 : 3;
            *w = ' ';
            w += pending;
            pending = false;
            std::memcpy(w, p + i, 4);
            w += len;
            i += len;
          } else {
            non_ascii<kLc, kWs>(s, i, w, pending, action, begin_);
          }
        } while (i < size && static_cast<unsigned char>(p[i]) >= 0x80);
        started = w != begin_;
        continue;
      }
      window(v, (1u << n) - 1);
      i += n;
    }
    w_ = w;
    pending_ = pending;
  }
#endif

  // Portable byte-at-a-time form of run() (targets without SSE2).
  [[maybe_unused]] void scalar(std::string_view s) {
    char* w = w_;
    bool pending = pending_;
    const int16_t* const action = table_.action;
    for (size_t i = 0; i < s.size();) {
      const auto b = static_cast<unsigned char>(s[i]);
      if (b >= 0x80) {
        if (lowercase_) {
          if (whitespace_) non_ascii<true, true>(s, i, w, pending, action, begin_);
          else non_ascii<true, false>(s, i, w, pending, action, begin_);
        } else {
          if (whitespace_) non_ascii<false, true>(s, i, w, pending, action, begin_);
          else non_ascii<false, false>(s, i, w, pending, action, begin_);
        }
        continue;
      }
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
    }
    w_ = w;
    pending_ = pending;
  }

  const AsciiTable& table_;
  bool lowercase_, whitespace_, punct_, digits_;
  char* const begin_;
  char* w_;
  bool pending_ = false;  // a space to write before the next kept character (never at the start or end)
};

// Index of the first byte >= 0x80 at or after i (s.size() if none).
size_t next_non_ascii(std::string_view s, size_t i) {
  return find_first(s, i, TAMIS_VEC(v), [](unsigned char b) { return b >= 0x80; });
}

// Whether s is valid UTF-8 from i on: 16 ASCII bytes at a time, sequences one by one.
bool valid_utf8_from(std::string_view s, size_t i) {
  const size_t n = s.size();
  while (i < n) {
#ifdef __SSE2__
    if (i + 16 <= n) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
      const auto m = static_cast<unsigned>(_mm_movemask_epi8(v));
      if (m == 0) {
        i += 16;
        continue;
      }
      // ASCII and whole 2- and 3-byte sequences only (Latin-1, Greek, Cyrillic, CJK text): each lead
      // C2-DF followed by one continuation 80-BF, each lead E1-EF but ED by two, every continuation
      // where one is due, no sequence cut by the window's end (E0, ED and 4-byte leads, whose next
      // byte has a narrower range, go byte-wise). A window never starts inside a sequence: the
      // byte-wise loop below ends only before an ASCII byte.
      const auto lead2 = static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(
          _mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(0xC1))), _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(0xE0))))));
      const auto lead3 = static_cast<unsigned>(_mm_movemask_epi8(_mm_andnot_si128(
          _mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(0xED))),
          _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(0xE0))),
                        _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(0xF0)))))));
      const auto cont = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(0xC0)))));
      if ((lead2 | lead3 | cont) == m && cont == (((lead2 << 1) | (lead3 << 1) | (lead3 << 2)) & 0xFFFFu) &&
          (lead2 & 0x8000u) == 0 && (lead3 & 0xC000u) == 0) {
        i += 16;
        continue;
      }
      i += static_cast<size_t>(__builtin_ctz(m));
    }
#endif
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    // The same rules as decode() (no overlong forms, surrogates or values past U+10FFFF), on bytes.
    const auto* const u = reinterpret_cast<const unsigned char*>(s.data());
    auto cont = [&](size_t k) { return k < n && (u[k] & 0xC0) == 0x80; };
    do {
      const unsigned b0 = u[i];
      if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (!cont(i + 1)) return false;
        i += 2;
      } else if ((b0 & 0xF0) == 0xE0) {
        if (!cont(i + 1) || !cont(i + 2)) return false;
        if ((b0 == 0xE0 && u[i + 1] < 0xA0) || (b0 == 0xED && u[i + 1] >= 0xA0)) return false;
        i += 3;
      } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return false;
        if ((b0 == 0xF0 && u[i + 1] < 0x90) || (b0 == 0xF4 && u[i + 1] >= 0x90)) return false;
        i += 4;
      } else {
        return false;
      }
    } while (i < n && u[i] >= 0x80);
  }
  return true;
}

// Index of the next lead byte at or after i of a code point the NFKC subset may change (s.size() if
// none): all of them are U+00A0-00BF (lead C2), U+2000-2FFF (E2), U+3000-3FFF (E3) or U+F000-FFFF (EF).
// Other bytes, continuation bytes included, never equal these.
size_t next_nfkc_candidate(std::string_view s, size_t i) {
  return find_first(
      s, i,
      TAMIS_VEC(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(0xC2))),
                                          _mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(0xE2)))),
                             _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(0xE3))),
                                          _mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(0xEF)))))),
      [](unsigned char b) { return b == 0xC2 || b == 0xE2 || b == 0xE3 || b == 0xEF; });
}

#undef TAMIS_VEC

// Grows a per-thread scratch buffer to at least n + kPad bytes without shrinking it (resize() would
// fill the bytes each time the size goes up again).
[[gnu::noinline]] void grow(std::string& buf, size_t n) { buf.resize(std::max(n + kPad, 2 * buf.size())); }

inline char* scratch(std::string& buf, size_t n) {
  if (buf.size() < n + kPad) [[unlikely]] grow(buf, n);
  return buf.data();
}

std::string_view padded_copy(std::string_view s, std::string& buf) {
  char* const begin = scratch(buf, s.size());
  std::memcpy(begin, s.data(), s.size());
  return {begin, s.size()};
}

// The NFKC subset of valid UTF-8 text s (whose first non-ASCII byte is at `from`): s itself when it
// holds no code point the subset may change, else the result in buf (padded). Bytes between those code
// points are copied as they are; the subset never makes text longer.
std::string_view nfkc_into(std::string_view s, size_t from, std::string& buf) {
  size_t c = next_nfkc_candidate(s, from);
  if (c == s.size()) return s;
  char* const begin = scratch(buf, s.size());
  char* w = begin;
  size_t i = 0;
  while (c < s.size()) {
    std::memcpy(w, s.data() + i, c - i);
    w += c - i;
    const Decoded d = decode(s, c);
    nfkc_one(w, d.cp);
    i = c + d.len;
    c = next_nfkc_candidate(s, i);
  }
  std::memcpy(w, s.data() + i, s.size() - i);
  w += s.size() - i;
  return {begin, static_cast<size_t>(w - begin)};
}

// The LaTeX step of s into buf (padded; the step never makes text longer). Spans are copied 16 bytes
// at a time (whatever lands past a span's end is overwritten by the next one or is padding) when the
// 16-byte reads stay inside s or its padding (`padded`), or come from the padded literal; the last
// bytes of an unpadded s go through memcpy.
template <bool kFold>
std::string_view latex_into(std::string_view s, bool padded, std::string& buf) {
  char* const begin = scratch(buf, s.size());
  char* w = begin;
  const auto lo = reinterpret_cast<uintptr_t>(s.data()), hi = lo + s.size();
  auto append = [&](std::string_view span) {
    const auto a = reinterpret_cast<uintptr_t>(span.data());
    if (padded || a + span.size() + 16 <= hi || a < lo || a > hi) {
      for (size_t k = 0; k < span.size(); k += 16) std::memcpy(w + k, span.data() + k, 16);
    } else {
      std::memcpy(w, span.data(), span.size());
    }
    w += span.size();
  };
  latex_spans<kFold>(s, append);
  return {begin, static_cast<size_t>(w - begin)};
}

}  // namespace

std::string latex_normalize(std::string_view s) { return latex_normalize(s, false); }

std::string latex_normalize(std::string_view s, bool fold_case) {
  std::string out;
  out.reserve(s.size());
  auto append = [&](std::string_view span) { out.append(span); };
  if (fold_case) latex_spans<true>(s, append);
  else latex_spans<false>(s, append);
  return out;
}

std::string normalize_steps(std::string_view s, const NormalizeOptions& o) {
  std::string t(s);
  if (o.nfkc) t = nfkc_subset(t);
  if (o.latex) t = latex_normalize(t, o.lowercase);
  if (o.lowercase) t = lowercase(t);
  if (o.punctuation) t = strip_punctuation(t);
  if (o.digits) t = strip_digits(t);
  if (o.whitespace) t = collapse_whitespace(t);
  return t;
}

void normalize_append(std::string_view s, const NormalizeOptions& o, std::string& out) {
  const size_t first_non_ascii = next_non_ascii(s, 0);
  if (first_non_ascii != s.size() && !valid_utf8_from(s, first_non_ascii)) {
    // Removing a `$` may join the bytes of a broken sequence into a valid one, which the step-by-step
    // path then decodes and the fused path would not: keep invalid input on the reference path.
    out += normalize_steps(s, o);
    return;
  }
  // NFKC into a scratch buffer reused by this thread (when the text holds a code point the subset may
  // change), then LaTeX into a second one, then the other steps fused in one pass over the whole text:
  // long runs for the 16-byte path rather than the short pieces between LaTeX commands. Tail reads
  // 16 bytes at a time, past the end too: its input is always one of the padded buffers.
  struct Buffers {
    std::string nfkc, latex;
  };
  thread_local Buffers buffers;  // one thread-local lookup (a call in a shared library), not two
  std::string& nfkc_buf = buffers.nfkc;
  std::string& latex_buf = buffers.latex;
  std::string_view t = s;
  if (o.nfkc && first_non_ascii != s.size()) t = nfkc_into(s, first_non_ascii, nfkc_buf);
  if (o.latex)
    t = o.lowercase ? latex_into<true>(t, t.data() != s.data(), latex_buf) : latex_into<false>(t, t.data() != s.data(), latex_buf);
  else if (t.data() == s.data()) t = padded_copy(s, nfkc_buf);
  const size_t start = out.size();
  out.resize(start + t.size() + kSlack);
  Tail tail(o, out.data() + start);
  tail(t);
  out.resize(static_cast<size_t>(tail.end() - out.data()));
}

std::string normalize(std::string_view s, const NormalizeOptions& o) {
  std::string out;
  normalize_append(s, o, out);
  return out;
}

}  // namespace tamis::text
