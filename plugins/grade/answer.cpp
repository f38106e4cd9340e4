// Answer extraction, normalisation and equivalence. Rules and their order: docs/grading.md.
#include "answer.hpp"
#include "latex_cursor.hpp"
#include "symbolic.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

namespace tamis::grade {

namespace {

__extension__ typedef __int128 i128;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The index of the '}' matching the '{' at `open`, or npos. Backslash-escaped braces do not count.
size_t match_brace(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (c == '{') ++depth;
    else if (c == '}' && --depth == 0) return i;
  }
  return std::string_view::npos;
}

// Replaces every `from` by `to`; true when there was one.
bool replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return false;
  size_t hit = s.find(from);
  if (hit == std::string::npos) return false;  // the common case: no string is built
  std::string out;
  size_t pos = 0;
  for (; hit != std::string::npos; pos = hit + from.size(), hit = s.find(from, pos)) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
  return true;
}

// The next command \NAME at or after `from` (any character may follow it), or npos. Scans for '\\' only,
// so that text without a backslash costs one memchr and no pattern string is built.
size_t find_command(std::string_view s, std::string_view name, size_t from = 0) {
  for (size_t hit = s.find('\\', from); hit != std::string_view::npos; hit = s.find('\\', hit + 1))
    if (s.compare(hit + 1, name.size(), name) == 0) return hit;
  return std::string_view::npos;
}

// Replaces the command \NAME (not followed by a letter, so \left does not hit \leftarrow) by `to`; true
// when there was one.
bool replace_command(std::string& s, std::string_view name, std::string_view to) {
  size_t hit = find_command(s, name);
  while (hit != std::string::npos && hit + 1 + name.size() < s.size() && is_alpha(s[hit + 1 + name.size()]))
    hit = find_command(s, name, hit + 1);
  if (hit == std::string::npos) return false;  // the common case: no string is built
  std::string out;
  size_t pos = 0;
  for (; hit != std::string::npos; hit = find_command(s, name, hit + 1)) {
    const size_t end = hit + 1 + name.size();
    if (end < s.size() && is_alpha(s[end])) continue;
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = end;
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
  return true;
}

// A set of byte values (which bytes a text holds).
class ByteSet {
 public:
  explicit ByteSet(std::string_view t) { add(t); }
  __attribute__((always_inline)) void add(std::string_view t) {
    for (char c : t) bits_[static_cast<unsigned char>(c) >> 6] |= uint64_t{1} << (static_cast<unsigned char>(c) & 63);
  }
  __attribute__((always_inline)) bool has(char c) const { return (bits_[static_cast<unsigned char>(c) >> 6] >> (static_cast<unsigned char>(c) & 63)) & 1; }
  __attribute__((always_inline)) bool has_all(std::string_view t) const {
    for (char c : t)
      if (!has(c)) return false;
    return true;
  }

 private:
  uint64_t bits_[4] = {};
};

// ---------------------------------------------------------------------------------------------
// Extraction
// ---------------------------------------------------------------------------------------------

// The content of the last top-level \boxed{...} or \fbox{...}; nullopt when there is none.
// `problem` is set when the last one is unbalanced.
std::optional<std::string> last_boxed(std::string_view s, std::string* problem) {
  std::optional<std::string> found;
  size_t pos = 0;
  while (true) {
    // The next \boxed or \fbox at or after pos: one memchr per backslash, the names compared in place
    // (linear: pos only grows).
    size_t hit = s.find('\\', pos), name_end = 0;
    for (; hit != std::string_view::npos; hit = s.find('\\', hit + 1)) {
      const size_t left = s.size() - hit;
      const char* c = s.data() + hit;
      if (left >= 6 && c[1] == 'b' && c[2] == 'o' && c[3] == 'x' && c[4] == 'e' && c[5] == 'd') name_end = hit + 6;
      else if (left >= 5 && c[1] == 'f' && c[2] == 'b' && c[3] == 'o' && c[4] == 'x') name_end = hit + 5;
      else continue;
      break;
    }
    if (hit == std::string_view::npos) break;
    size_t i = name_end;
    while (i < s.size() && s[i] == ' ') ++i;
    if (i < s.size() && s[i] == '{') {
      const size_t close = match_brace(s, i);
      if (close == std::string_view::npos) {
        if (problem) *problem = "unbalanced braces after \\boxed";
        break;  // nothing after an unbalanced box can be trusted as the last box
      }
      found = std::string(trim(s.substr(i + 1, close - i - 1)));
      if (problem) problem->clear();
      pos = close + 1;
    } else if (i < s.size() && i > name_end && s[i] != '\\') {
      // "\boxed 5": the token up to '$' or whitespace
      size_t end = i;
      while (end < s.size() && !is_space(s[end]) && s[end] != '$') ++end;
      if (end > i) found = std::string(s.substr(i, end - i));
      pos = end;
    } else {
      pos = i;
    }
  }
  return found;
}

// The position of the last "####" (as rfind), found from the '#' bytes by memrchr instead of a compare at
// every position.
size_t last_gsm8k_mark(std::string_view s) {
  for (size_t end = s.size(); end >= 4;) {
    const void* hash = memrchr(s.data(), '#', end);
    if (hash == nullptr) break;
    const size_t i = static_cast<size_t>(static_cast<const char*>(hash) - s.data());  // the last '#' before end
    if (i >= 3 && s[i - 1] == '#' && s[i - 2] == '#' && s[i - 3] == '#') return i - 3;
    end = i;
  }
  return std::string_view::npos;
}

std::string_view rest_of_line(std::string_view s, size_t from) {
  const size_t nl = s.find('\n', from);
  return s.substr(from, nl == std::string_view::npos ? std::string_view::npos : nl - from);
}

std::string clean_phrase_answer(std::string_view a) {
  a = trim(a);
  while (!a.empty() && (a.front() == ':' || a.front() == '*' || is_space(a.front()))) a.remove_prefix(1);
  // "... is 5. I hope it is correct": keep only the first sentence ("." followed by a space).
  for (size_t i = 0; i + 1 < a.size(); ++i)
    if (a[i] == '.' && a[i + 1] == ' ') {
      a = a.substr(0, i);
      break;
    }
  // Strip trailing sentence punctuation and $ delimiters.
  while (!a.empty() && (a.back() == '.' || a.back() == '*' || is_space(a.back()) || a.back() == '$')) a.remove_suffix(1);
  while (!a.empty() && (a.front() == '$' || is_space(a.front()))) a.remove_prefix(1);
  return std::string(a);
}

// The last position where an answer phrase starts (case-insensitive), and its length in `len`; npos when
// there is none. Every phrase holds "answer", so its 'w' (either case) anchors the search: the w's are
// visited from the end by memrchr (a few per response), and at each the phrases that would have their 'w'
// there are compared. A match at start i ends the search once the w's left could only start phrases at
// or before i. No phrase is a prefix of another, so at most one matches at a position.
size_t last_phrase_at(std::string_view s, size_t& len) {
  static constexpr std::string_view kPhrases[] = {"the final answer is", "final answer:", "the answer is", "answer:"};
  static constexpr auto kW = [] {  // the offset of each phrase's 'w'
    std::array<size_t, std::size(kPhrases)> w{};
    for (size_t k = 0; k < w.size(); ++k) {
      if (kPhrases[k].find("answer") == std::string_view::npos) throw "every phrase must hold \"answer\"";  // compile-time
      w[k] = kPhrases[k].find("answer") + 3;
    }
    return w;
  }();
  static constexpr size_t kMinW = *std::min_element(kW.begin(), kW.end());
  auto previous = [&](char c, size_t end) -> size_t {  // the last c before end, or npos
    const void* hit = end > 0 ? memrchr(s.data(), c, end) : nullptr;
    return hit ? static_cast<size_t>(static_cast<const char*>(hit) - s.data()) : std::string_view::npos;
  };
  size_t best = std::string_view::npos;
  size_t lower_w = previous('w', s.size()), upper_w = previous('W', s.size());
  while (lower_w != std::string_view::npos || upper_w != std::string_view::npos) {
    size_t j;  // the next w from the end
    if (upper_w == std::string_view::npos || (lower_w != std::string_view::npos && lower_w > upper_w)) {
      j = lower_w;
      lower_w = previous('w', j);
    } else {
      j = upper_w;
      upper_w = previous('W', j);
    }
    if (best != std::string_view::npos && j <= best + kMinW) break;  // phrases anchored here start at or before best
    for (size_t k = 0; k < kW.size(); ++k) {
      const std::string_view p = kPhrases[k];
      if (j < kW[k]) continue;
      const size_t i = j - kW[k];
      if (p.size() > s.size() - i || (best != std::string_view::npos && i <= best)) continue;
      size_t m = 0;
      while (m < p.size() && lower(s[i + m]) == p[m]) ++m;
      if (m == p.size()) best = i, len = p.size();
    }
  }
  return best;
}

std::optional<std::string> last_phrase(std::string_view s) {
  size_t best_len = 0;
  size_t best = last_phrase_at(s, best_len);
  // A line starting with "A:" (GSM8K model solutions).
  size_t line = 0;
  while (line < s.size()) {
    const size_t start = line;
    size_t i = start;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i + 1 < s.size() && s[i] == 'A' && s[i + 1] == ':' && (best == std::string_view::npos || i > best)) {
      best = i;
      best_len = 2;
    }
    const size_t nl = s.find('\n', start);
    if (nl == std::string_view::npos) break;
    line = nl + 1;
  }
  if (best == std::string_view::npos) return std::nullopt;
  std::string a = clean_phrase_answer(rest_of_line(s, best + best_len));
  if (a.empty()) return std::nullopt;
  return a;
}

// The last complete math span: $$...$$, \[...\] (may span lines), $...$, \(...\) (one line only); its
// content, cut before a top-level \approx and, in a chain a = b = c, after the last '='. Linear: each
// closing delimiter is searched for once and reused until passed.
std::optional<std::string> last_math_span(std::string_view s) {
  std::optional<std::string_view> found;
  size_t close_paren = 0, close_bracket = 0, close_dollars = 0;
  bool have_paren = false, have_bracket = false, have_dollars = false;
  auto next = [&](std::string_view t, size_t from, size_t& cache, bool& have) {
    if (!have || (cache != std::string_view::npos && cache < from)) cache = s.find(t, from), have = true;
    return cache;
  };
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      const char d = s[i + 1];
      if (d == '(' || d == '[') {
        const size_t close = d == '(' ? next("\\)", i + 2, close_paren, have_paren) : next("\\]", i + 2, close_bracket, have_bracket);
        if (close != std::string_view::npos) {
          const std::string_view body = s.substr(i + 2, close - i - 2);
          if (d == '[' || body.find('\n') == std::string_view::npos) {
            found = body;
            i = close + 2;
            continue;
          }
        }
      }
      i += 2;  // an escaped character (\$ is not a delimiter)
      continue;
    }
    if (c != '$') {
      ++i;
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '$') {
      const size_t close = next("$$", i + 2, close_dollars, have_dollars);
      if (close == std::string_view::npos) break;
      found = s.substr(i + 2, close - i - 2);
      i = close + 2;
      continue;
    }
    size_t close = i + 1;
    while (close < s.size() && s[close] != '$' && s[close] != '\n') close += s[close] == '\\' ? 2 : 1;
    if (close >= s.size()) break;
    if (s[close] == '\n') {
      i = close;
      continue;
    }
    found = s.substr(i + 1, close - i - 1);
    i = close + 1;
  }
  if (!found) return std::nullopt;
  std::string_view body = trim(*found);
  // Top-level '=' and \approx.
  std::vector<size_t> eqs;
  int depth = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '{' || c == '(' || c == '[') ++depth;
    else if (c == '}' || c == ')' || c == ']') --depth;
    else if (depth == 0 && c == '=' && (i == 0 || (body[i - 1] != '<' && body[i - 1] != '>' && body[i - 1] != '!'))) eqs.push_back(i);
    else if (depth == 0 && body.compare(i, 7, "\\approx") == 0) {
      body = trim(body.substr(0, i));
      break;
    }
  }
  while (!eqs.empty() && eqs.back() >= body.size()) eqs.pop_back();
  if (eqs.size() >= 2) body = trim(body.substr(eqs.back() + 1));
  while (!body.empty() && (body.back() == '.' || body.back() == ',')) body = trim(body.substr(0, body.size() - 1));
  if (body.empty()) return std::nullopt;
  return std::string(body);
}

// Words of two or more letters outside LaTeX commands.
int count_words(std::string_view s) {
  int words = 0;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '\\') {
      ++i;
      while (i < s.size() && is_alpha(s[i])) ++i;
      continue;
    }
    size_t k = i;
    while (k < s.size() && is_alpha(s[k])) ++k;
    if (k - i >= 2) ++words;
    i = k > i ? k : i + 1;
  }
  return words;
}

// The last number of the text that is not glued to a letter on its left ("AB2C" has none), with a currency
// sign that follows it ("2,74 $": its comma is then a decimal comma, see normalize()).
std::optional<std::string> last_free_number(std::string_view s) {
  size_t end = s.size();
  while (true) {
    while (end > 0 && !is_digit(s[end - 1])) --end;
    if (end == 0) return std::nullopt;
    size_t start = end;
    while (start > 0 && (is_digit(s[start - 1]) || s[start - 1] == '.' || s[start - 1] == ',')) --start;
    while (start < end && !is_digit(s[start]) && s[start] != '.') ++start;
    if (start > 0 && is_alpha(s[start - 1])) {
      end = start;
      continue;
    }
    if (start > 0 && s[start - 1] == '-') --start;
    std::string n(s.substr(start, end - start));
    size_t k = end;
    while (k < s.size() && s[k] == ' ') ++k;
    if (s.substr(k, 1) == "$" || s.substr(k, 3) == "\xE2\x82\xAC") n += "$";
    return n;
  }
}

std::optional<std::string> last_number(std::string_view s) {
  size_t i = s.size();
  while (i > 0 && !is_digit(s[i - 1])) --i;
  if (i == 0) return std::nullopt;
  const size_t end = i;
  size_t start = end;
  while (start > 0 && (is_digit(s[start - 1]) || s[start - 1] == '.' || s[start - 1] == ',')) --start;
  while (start < end && !is_digit(s[start])) ++start;  // no leading separator
  if (start > 0 && s[start - 1] == '-') --start;
  return std::string(s.substr(start, end - start));
}

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

// Replaces \CMD{X} by X (for formatting commands).
void unwrap_command(std::string& s, std::string_view name) {
  for (size_t guard = 0; guard < 1000; ++guard) {
    size_t hit = find_command(s, name);
    while (hit != std::string::npos && s.compare(hit + 1 + name.size(), 1, "{") != 0) hit = find_command(s, name, hit + 1);
    if (hit == std::string::npos) return;
    const size_t open = hit + 1 + name.size();
    const size_t close = match_brace(s, open);
    if (close == std::string::npos) return;
    s = s.substr(0, hit) + s.substr(open + 1, close - open - 1) + s.substr(close + 1);
  }
}

// \text{...} at the end, after something else, is a unit: dropped (with a following ^2 or ^3).
// Elsewhere \text{X} becomes X.
void handle_text(std::string& s) {
  static constexpr std::string_view kText[] = {"\\text{", "\\textnormal{", "\\mbox{", "\\textrm{", "\\textit{", "\\mathrm{"};
  if (s.find('\\') == std::string::npos) return;  // every pattern starts with a backslash
  for (size_t guard = 0; guard < 1000; ++guard) {
    size_t hit = std::string::npos, plen = 0;
    for (auto p : kText) {
      const size_t h = s.find(p);
      if (h < hit) hit = h, plen = p.size();
    }
    if (hit == std::string::npos) return;
    const size_t open = hit + plen - 1;
    const size_t close = match_brace(s, open);
    if (close == std::string::npos) return;
    std::string_view rest = std::string_view(s).substr(close + 1);
    std::string_view tail = trim(rest);
    const bool unit_tail = tail.empty() || tail == "^2" || tail == "^3" || tail == "^{2}" || tail == "^{3}";
    const std::string_view before = trim(std::string_view(s).substr(0, hit));
    const std::string_view content = trim(std::string_view(s).substr(open + 1, close - open - 1));
    const bool unit = unit_tail && !before.empty() && !content.empty() && is_alpha(content.front()) &&
                      (is_digit(before.back()) || before.back() == '}' || before.back() == ')' || before.back() == ' ');
    if (unit) s = std::string(before);
    else s = s.substr(0, hit) + std::string(content) + std::string(rest);
  }
}

// \sqrt2 → \sqrt{2}, \frac12 → \frac{1}{2}, \frac1b → \frac{1}{b}.
void brace_arguments(std::string& s) {
  {
    // Most answers need nothing: every \sqrt / \frac is followed by '{', '[' or a command (or ends the text).
    bool needed = false;
    for (size_t i = s.find('\\'); i != std::string::npos && !needed; i = s.find('\\', i + 1)) {
      if (s.compare(i, 5, "\\sqrt") != 0 && s.compare(i, 5, "\\frac") != 0) continue;
      needed = i + 5 < s.size() && !is_alpha(s[i + 5]) && s[i + 5] != '{' && s[i + 5] != '[' && s[i + 5] != '\\';
    }
    if (!needed) return;
  }
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const bool sqrt = s.compare(i, 5, "\\sqrt") == 0 && !(i + 5 < s.size() && is_alpha(s[i + 5]));
    const bool frac = s.compare(i, 5, "\\frac") == 0 && !(i + 5 < s.size() && is_alpha(s[i + 5]));
    if (!sqrt && !frac) {
      out.push_back(s[i++]);
      continue;
    }
    out.append(s, i, 5);
    i += 5;
    for (int arg = 0; arg < (frac ? 2 : 1); ++arg) {
      while (i < s.size() && s[i] == ' ') ++i;
      if (i >= s.size()) break;
      if (s[i] == '{' || s[i] == '[' || s[i] == '\\') break;  // already braced, optional arg, or a command
      out.push_back('{');
      out.push_back(s[i++]);
      out.push_back('}');
    }
  }
  s = std::move(out);
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

// -?\d{1,3}(,\d{3})+(\.\d+)?
bool thousands(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  const size_t dot = s.find('.');
  std::string_view ip = s.substr(0, dot);
  if (dot != std::string_view::npos && !all_of(s.substr(dot + 1), is_digit)) return false;
  const size_t first = ip.find(',');
  if (first == std::string_view::npos || first == 0 || first > 3) return false;
  if (!all_of(ip.substr(0, first), is_digit)) return false;
  for (size_t i = first; i < ip.size(); i += 4) {
    if (ip[i] != ',' || i + 4 > ip.size() || !all_of(ip.substr(i + 1, 3), is_digit)) return false;
  }
  return true;
}

// "x=5" → "5", "x\in[1,2]" → "[1,2]": a short left-hand side (a variable, maybe with a subscript).
// `dropped`, when given, receives what was dropped ("x=", "f(x)=", "x\in").
void drop_variable_lhs(std::string& s, std::string* dropped = nullptr) {
  size_t eq = std::string::npos, len = 0;
  int depth = 0;
  int count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '{' || c == '(' || c == '[') ++depth;
    else if (c == '}' || c == ')' || c == ']') --depth;
    else if (depth == 0 && c == '=') {
      ++count;
      if (eq == std::string::npos) eq = i, len = 1;
    } else if (depth == 0 && c == '\\' && s.compare(i, 3, "\\in") == 0 && !(i + 3 < s.size() && is_alpha(s[i + 3]))) {
      ++count;
      if (eq == std::string::npos) eq = i, len = 3;
    }
  }
  if (count != 1 || eq == 0) return;
  const std::string_view lhs = std::string_view(s).substr(0, eq);
  // "f(x)", "p(t)": a function of one-letter arguments.
  const size_t paren = lhs.find('(');
  bool function = paren != std::string_view::npos && paren >= 1 && paren <= 2 && lhs.size() <= 10 && lhs.back() == ')' &&
                  std::all_of(lhs.begin(), lhs.begin() + static_cast<long>(paren), is_alpha);
  if (function)
    for (char c : lhs.substr(paren + 1, lhs.size() - paren - 2)) function = function && (is_alpha(c) || c == ',');
  // "(x,y)": a tuple of one-letter variables.
  bool tuple = lhs.size() >= 5 && lhs.size() <= 13 && lhs.front() == '(' && lhs.back() == ')';
  for (size_t i = 1; tuple && i + 1 < lhs.size(); ++i) tuple = (i % 2 == 1) ? is_alpha(lhs[i]) : lhs[i] == ',';
  const bool variable = function || tuple || (lhs.size() <= 2 && is_alpha(lhs[0])) ||
                        (lhs.size() <= 6 && is_alpha(lhs[0]) && lhs.size() > 1 && lhs[1] == '_');
  if (variable && eq + len < s.size()) {
    if (dropped) *dropped = s.substr(0, eq + len);
    s = s.substr(eq + len);
  }
}

// x^{2} → x^2, 1011_{2} → 1011_2: braces around one character carry nothing.
void unbrace_single(std::string& s) {
  auto single = [&](size_t i) {  // "^{c}" / "_{c}" at i
    return (s[i] == '^' || s[i] == '_') && i + 3 < s.size() && s[i + 1] == '{' && s[i + 3] == '}' && s[i + 2] != '\\' &&
           s[i + 2] != '{' && s[i + 2] != '}';
  };
  size_t i = 0;
  while (i < s.size() && !single(i)) ++i;
  if (i == s.size()) return;  // nothing to rewrite: most answers (no string is built)
  std::string out(s, 0, i);
  for (; i < s.size(); ++i) {
    if (single(i)) {
      out.push_back(s[i]);
      out.push_back(s[i + 2]);
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  s = std::move(out);
}

// \begin{pmatrix} a & b \\ c & d \end{pmatrix} → ((a,b),(c,d)); a column or a row → (a,b).
void matrices_to_tuples(std::string& s) {
  if (s.find("\\begin{") == std::string::npos) return;  // no environment at all: no pattern strings built
  for (auto env : {"pmatrix", "bmatrix", "Bmatrix", "matrix", "vmatrix", "array"}) {
    const std::string open = std::string("\\begin{") + env + "}", close = std::string("\\end{") + env + "}";
    for (int guard = 0; guard < 100; ++guard) {
      size_t a = s.find(open);
      if (a == std::string::npos) break;
      size_t b = s.find(close, a);
      if (b == std::string::npos) break;
      size_t body_start = a + open.size();
      if (std::string_view(env) == "array" && body_start < s.size() && s[body_start] == '{') {  // {cc}: the column spec
        const size_t spec = match_brace(s, body_start);
        if (spec == std::string::npos || spec > b) break;
        body_start = spec + 1;
      }
      std::string body = s.substr(body_start, b - body_start);
      size_t end = b + close.size();
      {
        // "[\begin{array}...\end{array}]" (from \left[ ... \right]): the brackets are the matrix's.
        size_t l = a, r = end;
        while (l > 0 && s[l - 1] == ' ') --l;
        while (r < s.size() && s[r] == ' ') ++r;
        if (l > 0 && r < s.size() && ((s[l - 1] == '[' && s[r] == ']') || (s[l - 1] == '(' && s[r] == ')'))) a = l - 1, end = r + 1;
      }
      std::vector<std::string> rows;
      size_t start = 0;
      for (size_t k; (k = body.find("\\\\", start)) != std::string::npos; start = k + 2) rows.push_back(body.substr(start, k - start));
      rows.push_back(body.substr(start));
      while (!rows.empty() && trim(rows.back()).empty()) rows.pop_back();
      std::string out = "(";
      const bool column = std::all_of(rows.begin(), rows.end(), [](const std::string& r) { return r.find('&') == std::string::npos; });
      for (size_t r = 0; r < rows.size(); ++r) {
        if (r) out += ",";
        std::string row = rows[r];
        if (column) {
          out += row;
        } else {
          replace_all(row, "&", ",");
          out += rows.size() == 1 ? row : "(" + row + ")";
        }
      }
      out += ")";
      s = s.substr(0, a) + out + s.substr(end);
    }
  }
}

// 0.\overline{3} → \frac{3}{9}, 1.2\overline{34} → a fraction (the whole answer only, up to 18 digits).
void repeating_decimal(std::string& s) {
  std::string_view v = s;
  const bool neg = !v.empty() && v[0] == '-';
  if (neg) v.remove_prefix(1);
  const size_t dot = v.find('.'), over = v.find("\\overline{");
  if (dot == std::string_view::npos || over == std::string_view::npos || over < dot || v.back() != '}') return;
  const std::string_view ip = v.substr(0, dot), fp = v.substr(dot + 1, over - dot - 1), rp = v.substr(over + 10, v.size() - over - 11);
  if ((!ip.empty() && !all_of(ip, is_digit)) || (!fp.empty() && !all_of(fp, is_digit)) || !all_of(rp, is_digit)) return;
  if (ip.size() + fp.size() + rp.size() > 18) return;
  const std::string head = std::string(ip.empty() ? "0" : ip) + std::string(fp);
  const long long a = std::stoll(head), ab = std::stoll(head + std::string(rp));
  long long den = 1;
  for (size_t i = 0; i < rp.size(); ++i) den *= 10;
  den -= 1;
  for (size_t i = 0; i < fp.size(); ++i) den *= 10;
  s = std::string(neg ? "-" : "") + "\\frac{" + std::to_string(ab - a) + "}{" + std::to_string(den) + "}";
}

// "-2<x<3" → "(-2,3)", "x\geq2" → "[2,\infty)", "1\leqx<4" → "[1,4)": inequalities in one variable as intervals.
void inequality_to_interval(std::string& s) {
  struct Cmp {
    size_t at, len;
    bool less, strict;
  };
  std::vector<Cmp> cmps;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '(' || c == '[' || c == '{') ++depth;
    else if (c == ')' || c == ']' || c == '}') --depth;
    if (depth != 0) continue;
    if (c == '<' || c == '>') cmps.push_back({i, 1, c == '<', true});
    else if (c == '\\' && (s.compare(i, 4, "\\leq") == 0 || s.compare(i, 4, "\\geq") == 0)) cmps.push_back({i, 4, s[i + 1] == 'l', false});
    if (cmps.size() > 2) return;
  }
  if (cmps.empty()) return;
  auto var = [](std::string_view t) { return t.size() == 1 && is_alpha(t[0]); };
  if (cmps.size() == 2) {
    const Cmp& x = cmps[0];
    const Cmp& y = cmps[1];
    if (x.less != y.less) return;
    const std::string lo(std::string_view(s).substr(0, x.at)), mid(std::string_view(s).substr(x.at + x.len, y.at - x.at - x.len)),
        hi(std::string_view(s).substr(y.at + y.len));
    if (!var(mid) || lo.empty() || hi.empty()) return;
    if (x.less) s = std::string(x.strict ? "(" : "[") + lo + "," + hi + (y.strict ? ")" : "]");
    else s = std::string(y.strict ? "(" : "[") + hi + "," + lo + (x.strict ? ")" : "]");
    return;
  }
  const Cmp& c = cmps[0];
  const std::string left(std::string_view(s).substr(0, c.at)), right(std::string_view(s).substr(c.at + c.len));
  bool less = c.less;
  std::string bound;
  if (var(left) && !right.empty()) bound = right;
  else if (var(right) && !left.empty()) bound = left, less = !less;
  else return;
  if (less) s = "(-\\infty," + bound + (c.strict ? ")" : "]");
  else s = std::string(c.strict ? "(" : "[") + bound + ",\\infty)";
}

// "x<-2\cupx>3" (from "x < -2 or x > 3") → "(-\infty,-2)\cup(3,\infty)": each piece an interval, or
// nothing changes.
void inequalities_to_intervals(std::string& s) {
  if (s.find("\\cup") == std::string::npos) {
    inequality_to_interval(s);
    return;
  }
  std::string out;
  for (size_t start = 0; start <= s.size();) {
    size_t end = s.find("\\cup", start);
    if (end == std::string::npos) end = s.size();
    std::string piece = s.substr(start, end - start);
    if (piece.find_first_of("<>") != std::string::npos || piece.find("\\leq") != std::string::npos ||
        piece.find("\\geq") != std::string::npos) {
      inequality_to_interval(piece);
      if (piece.empty() || (piece[0] != '(' && piece[0] != '[')) return;  // not read as an interval
    }
    if (!out.empty()) out += "\\cup";
    out += piece;
    start = end + 4;
  }
  s = std::move(out);
}

void mixed_number(std::string& s) {
  // "3\frac{1}{2}", "3 1/2", "-3\frac12" (the whole answer) → an improper \frac.
  std::string_view v = trim(s);
  bool neg = !v.empty() && v[0] == '-';
  if (neg) v.remove_prefix(1);
  size_t i = 0;
  while (i < v.size() && is_digit(v[i])) ++i;
  if (i > 0 && i <= 18) {
    const std::string_view whole = v.substr(0, i);
    std::string_view rest = v.substr(i);
    std::string_view num, den;
    if (rest.substr(0, 6) == "\\frac{") {
      const size_t c1 = match_brace(rest, 5);
      if (c1 != std::string_view::npos && c1 + 1 < rest.size() && rest[c1 + 1] == '{') {
        const size_t c2 = match_brace(rest, c1 + 1);
        if (c2 == rest.size() - 1) num = rest.substr(6, c1 - 6), den = rest.substr(c1 + 2, c2 - c1 - 2);
      }
    } else if (!rest.empty() && rest[0] == ' ') {
      rest = trim(rest);
      const size_t slash = rest.find('/');
      if (slash != std::string_view::npos) num = rest.substr(0, slash), den = rest.substr(slash + 1);
    }
    if (all_of(num, is_digit) && all_of(den, is_digit) && num.size() <= 18 && den.size() <= 18) {
      const long long w = std::stoll(std::string(whole)), n = std::stoll(std::string(num)), d = std::stoll(std::string(den));
      if (d > 0 && n < d && w < (1LL << 40) && d < (1LL << 20)) {
        s = std::string(neg ? "-" : "") + "\\frac{" + std::to_string(w * d + n) + "}{" + std::to_string(d) + "}";
      }
    }
  }
}

// "2,74 $", "€ 3,5", "1000,25": a decimal comma where a list or a thousands separator cannot be meant
// (a currency sign with one or two decimals, or four or more integer digits). The whole answer only.
void decimal_comma(std::string& s) {
  std::string_view v = trim(s);
  bool currency = false;
  auto strip_currency = [&](bool front) {
    for (std::string_view c : {std::string_view("\\$"), std::string_view("$"), std::string_view("\xE2\x82\xAC")}) {
      if (front ? v.substr(0, c.size()) == c : (v.size() >= c.size() && v.substr(v.size() - c.size()) == c)) {
        front ? v.remove_prefix(c.size()) : v.remove_suffix(c.size());
        v = trim(v);
        currency = true;
        return;
      }
    }
  };
  strip_currency(true);
  strip_currency(false);
  const bool neg = !v.empty() && v[0] == '-';
  if (neg) v.remove_prefix(1);
  const size_t comma = v.find(',');
  if (comma == std::string_view::npos || comma == 0) return;
  const std::string_view ip = v.substr(0, comma), fp = v.substr(comma + 1);
  if (!all_of(ip, is_digit) || !all_of(fp, is_digit)) return;
  if (!((currency && fp.size() <= 2) || (ip.size() >= 4 && fp.size() != 3))) return;
  s = std::string(neg ? "-" : "") + std::string(ip) + "." + std::string(fp);
}

// "1 000", "12 345 678.5": digit groups separated by single spaces (the whole answer only).
void space_thousands(std::string& s) {
  std::string_view v = trim(s);
  if (!v.empty() && v[0] == '-') v.remove_prefix(1);
  const size_t dot = v.find('.');
  const std::string_view ip = v.substr(0, dot);
  if (dot != std::string_view::npos && !all_of(v.substr(dot + 1), is_digit)) return;
  const size_t first = ip.find(' ');
  if (first == std::string_view::npos || first == 0 || first > 3 || !all_of(ip.substr(0, first), is_digit)) return;
  for (size_t i = first; i < ip.size(); i += 4)
    if (ip[i] != ' ' || i + 4 > ip.size() || !all_of(ip.substr(i + 1, 3), is_digit)) return;
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  s = std::string(trim(s));
}

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

// A Greek letter's command name (\pi included: a constant, but spaced the same way).
bool greek_letter(std::string_view name) {
  static constexpr std::string_view kGreek[] = {
      "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
      "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
      "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega"};
  return std::find(std::begin(kGreek), std::end(kGreek), name) != std::end(kGreek);
}

// A unit token: a word of two or more letters (maybe with a final '.'), one capital letter, or such
// words joined by '/', each maybe with a power ^2, ^3, ^{2}, ^{3}.
bool unit_token(std::string_view t) {
  if (t.empty() || t.size() > 24) return false;
  size_t i = 0;
  while (i < t.size()) {
    size_t k = i;
    while (k < t.size() && is_alpha(t[k])) ++k;
    const size_t letters = k - i;
    const bool compound = t.find('/') != std::string_view::npos, superscript = t.substr(k, 2) == "\xC2\xB2" || t.substr(k, 2) == "\xC2\xB3";
    if (letters == 0 || (letters == 1 && !is_upper(t[i]) && !compound && !superscript)) return false;
    if (superscript) k += 2;
    if (k < t.size() && t[k] == '.') ++k;
    for (std::string_view pw : {"^{2}", "^{3}", "^2", "^3"})
      if (t.substr(k, pw.size()) == pw) {
        k += pw.size();
        break;
      }
    if (k == t.size()) return true;
    if (t[k] != '/') return false;
    i = k + 1;
  }
  return false;
}

// "125 miles per hour" → "125", "7.6 Z" → "7.6", "15 cm^2" → "15", "\frac56 liters" → "\frac56", "15cm" →
// "15", "1,000.99m²" → "1,000.99": unit words after a value (the text before them ends in a digit, '}' or
// ')'). One lowercase letter after a space is a variable, not a unit ("2 x" stays a product).
void drop_unit_words(std::string& s) {
  std::string_view v = trim(s);
  size_t cut = v.size();
  while (cut > 0) {
    size_t start = cut;
    while (start > 0 && v[start - 1] != ' ') --start;
    if (start == 0 || !unit_token(v.substr(start, cut - start))) break;
    size_t before = start;
    while (before > 0 && v[before - 1] == ' ') --before;
    cut = before;
  }
  if (cut < v.size() && cut > 0) {
    const char b = v[cut - 1];
    if (is_digit(b) || b == '}' || b == ')' || b == '.') {
      s = std::string(v.substr(0, cut));
      return;
    }
  }
  // Glued to a number: a common unit, or letters with a superscript ² or ³.
  size_t i = v.size();
  while (i > 0 && (is_alpha(v[i - 1]) || static_cast<unsigned char>(v[i - 1]) >= 0x80 || v[i - 1] == '/')) --i;
  if (i == 0 || i == v.size() || !is_digit(v[i - 1])) return;
  const std::string_view unit = v.substr(i);
  static constexpr std::string_view kUnits[] = {"cm", "mm", "km", "kg", "mg", "ml", "mL", "ft", "yd", "mi", "lb", "lbs", "oz",
                                                "hr", "hrs", "min", "sec", "km/h", "mph", "cm\xC2\xB2", "cm\xC2\xB3", "m\xC2\xB2",
                                                "m\xC2\xB3", "km\xC2\xB2", "mm\xC2\xB2", "ft\xC2\xB2", "in\xC2\xB2"};
  for (auto u : kUnits)
    if (unit == u) {
      s = std::string(v.substr(0, i));
      return;
    }
}

// "\sin x" → "\sin(x)", "\cos^2 x" → "\cos^2(x)", "\tan 2x" → "\tan(2x)": a function applied to a short
// argument without parentheses (before spaces are removed, which would glue "\sinx").
void parenthesise_function_arguments(std::string& s) {
  static constexpr std::string_view kFunctions[] = {"sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan",
                                                    "sinh", "cosh", "tanh", "ln", "log", "exp"};
  auto function_name = [&](size_t i) {  // the command at s[i] == '\\' is one of kFunctions
    size_t k = i + 1;
    while (k < s.size() && is_alpha(s[k])) ++k;
    const std::string_view name = std::string_view(s).substr(i + 1, k - i - 1);
    return std::find(std::begin(kFunctions), std::end(kFunctions), name) != std::end(kFunctions);
  };
  {
    // Without a function command the text is copied unchanged: skip building it.
    size_t i = s.find('\\');
    while (i != std::string::npos && !function_name(i)) i = s.find('\\', i + 1);
    if (i == std::string::npos) return;
  }
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    if (s[i] != '\\') {
      out.push_back(s[i++]);
      continue;
    }
    size_t k = i + 1;
    while (k < s.size() && is_alpha(s[k])) ++k;
    const std::string_view name = std::string_view(s).substr(i + 1, k - i - 1);
    const bool function = std::find(std::begin(kFunctions), std::end(kFunctions), name) != std::end(kFunctions);
    out.append(s, i, k - i);
    i = k;
    if (!function) continue;
    if (i + 1 < s.size() && s[i] == '^' && is_digit(s[i + 1])) out.append(s, i, 2), i += 2;
    else if (s.compare(i, 2, "^{") == 0) {
      const size_t close = match_brace(s, i + 1);
      if (close == std::string::npos) continue;
      out.append(s, i, close + 1 - i);
      i = close + 1;
    }
    size_t a = i;
    while (a < s.size() && s[a] == ' ') ++a;
    if (a == i) continue;
    size_t b = a;
    while (b < s.size() && is_digit(s[b])) ++b;
    if (b < s.size() && is_alpha(s[b]) && !(b + 1 < s.size() && is_alpha(s[b + 1]))) ++b;
    else if (s.compare(b, 1, "\\") == 0) {  // a Greek letter: \sin \theta
      size_t c = b + 1;
      while (c < s.size() && is_alpha(s[c])) ++c;
      if (c - b > 2) b = c;
    }
    if (b == a) continue;
    out += "(";
    out.append(s, a, b - a);
    out += ")";
    i = b;
  }
  s = std::move(out);
}

// "\sin 15^\circ" → "\sin(15*\pi/180)", "\cos(60°)" → "\cos(60*\pi/180)": a trigonometric function whose
// argument is a number of degrees (^\circ, ^{\circ}, \circ, \degree or °), read in radians as the evaluator
// does. Other degree marks are left to be dropped.
void trig_degrees(std::string& s) {
  static constexpr std::string_view kTrig[] = {"sin", "cos", "tan", "sec", "csc", "cot"};
  static constexpr std::string_view kMarks[] = {"^{\\circ}", "^\\circ", "\\circ", "\\degree", "\xC2\xB0"};
  std::string out;
  size_t copied = 0;
  for (size_t i = s.find('\\'); i != std::string::npos; i = s.find('\\', i + 1)) {
    size_t k = i + 1;
    while (k < s.size() && is_alpha(s[k])) ++k;
    const std::string_view name = std::string_view(s).substr(i + 1, k - i - 1);
    if (std::find(std::begin(kTrig), std::end(kTrig), name) == std::end(kTrig)) continue;
    // \sin^2 30^\circ: the power stays with the function.
    if (k + 1 < s.size() && s[k] == '^' && is_digit(s[k + 1])) k += 2;
    else if (s.compare(k, 2, "^{") == 0) {
      const size_t close = match_brace(s, k + 1);
      if (close == std::string::npos) continue;
      k = close + 1;
    }
    const size_t power_end = k;
    auto spaces = [&] {
      while (k < s.size() && s[k] == ' ') ++k;
    };
    spaces();
    char closer = 0;
    if (k < s.size() && (s[k] == '(' || s[k] == '{')) closer = s[k] == '(' ? ')' : '}', ++k, spaces();
    const size_t num_at = k;
    if (k < s.size() && s[k] == '-') ++k;
    const size_t digits_at = k;
    while (k < s.size() && is_digit(s[k])) ++k;
    if (k == digits_at) continue;
    if (k + 1 < s.size() && s[k] == '.' && is_digit(s[k + 1])) {
      ++k;
      while (k < s.size() && is_digit(s[k])) ++k;
    }
    const size_t num_end = k;
    spaces();
    size_t mark = 0;
    for (auto m : kMarks)
      if (s.compare(k, m.size(), m) == 0 && !(is_alpha(m.back()) && k + m.size() < s.size() && is_alpha(s[k + m.size()]))) {
        mark = m.size();
        break;
      }
    if (mark == 0) continue;
    k += mark;
    spaces();
    if (closer) {
      if (k >= s.size() || s[k] != closer) continue;
      ++k;
    }
    out.append(s, copied, power_end - copied);
    out += "(";
    out.append(s, num_at, num_end - num_at);
    out += "*\\pi/180)";
    copied = k;
    i = k - 1;
  }
  if (copied == 0) return;
  out.append(s, copied);
  s = std::move(out);
}

// "x < -2 or x > 3" → "x < -2 \\cup x > 3" when every side of " or " has an inequality.
void or_of_inequalities(std::string& s) {
  size_t start = 0, pieces = 0;
  for (;;) {
    const size_t end = std::min(s.find(" or ", start), s.size());
    const std::string_view piece = std::string_view(s).substr(start, end - start);
    if (piece.find_first_of("<>") == std::string_view::npos && piece.find("\\leq") == std::string_view::npos &&
        piece.find("\\geq") == std::string_view::npos)
      return;
    ++pieces;
    if (end == s.size()) break;
    start = end + 4;
  }
  if (pieces > 1) replace_all(s, " or ", " \\cup ");
}

// "five" → "5", "Twenty-one" → "21", "three hundred and six" → "306": a whole answer that is an English
// number word (zero to nineteen, the tens, with hundred and thousand), below a million.
void number_words(std::string& s) {
  static constexpr std::string_view kSmall[] = {"zero",    "one",     "two",       "three",    "four",
                                                "five",    "six",     "seven",     "eight",    "nine",
                                                "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                                "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
  static constexpr std::string_view kTens[] = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};
  std::vector<std::string> words;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == ' ' || s[i] == '-') {
      ++i;
      continue;
    }
    if (!is_alpha(s[i])) return;
    std::string w;
    while (i < s.size() && is_alpha(s[i])) w.push_back(lower(s[i++]));
    if (w != "and") words.push_back(std::move(w));
  }
  if (words.empty()) return;
  long total = 0, group = 0;  // group: the part below the next "thousand"
  int last = 0;  // what came before: 1 a word below twenty, 2 a ten, 3 hundred, 4 thousand
  for (const std::string& w : words) {
    const auto small = std::find(std::begin(kSmall), std::end(kSmall), w);
    const auto ten = std::find(std::begin(kTens), std::end(kTens), w);
    if (small != std::end(kSmall)) {
      const long v = small - std::begin(kSmall);
      if (last == 1 || (last == 2 && (v == 0 || v >= 10)) || (v == 0 && last != 0)) return;
      group += v, last = 1;
    } else if (ten != std::end(kTens)) {
      if (last == 1 || last == 2) return;
      group += 20 + 10 * (ten - std::begin(kTens)), last = 2;
    } else if (w == "hundred") {
      if (last != 1 || group >= 10 || group == 0) return;
      group *= 100, last = 3;
    } else if (w == "thousand") {
      if (group == 0 || last == 4 || total != 0) return;
      total = group * 1000, group = 0, last = 4;
    } else {
      return;
    }
  }
  s = std::to_string(total + group);
}

// `dropped` receives the variable left-hand side normalisation removed ("x=" of "x = 5"), if any.
std::string normalize_impl(std::string_view in, std::string* dropped = nullptr) {
  std::string s(trim(in));
  {
    // A plain integer (most GSM8K answers) is already canonical: no pass below changes it.
    const size_t sign = !s.empty() && s[0] == '-';
    if (s.size() > sign && std::all_of(s.begin() + static_cast<long>(sign), s.end(), is_digit)) return s;
  }
  // A whole answer in \boxed{} (references are sometimes stored that way).
  if (s.rfind("\\boxed{", 0) == 0 && match_brace(s, 6) == s.size() - 1) s = s.substr(7, s.size() - 8);
  if (s.find("\\boxed") != std::string::npos) unwrap_command(s, "boxed");
  if (s.find(',') != std::string::npos) decimal_comma(s);
  // The bytes of s, kept a superset while s is rewritten: a replacement adds the bytes it writes, a pass
  // that writes new bytes is followed by present.add of those it can write, and the other passes only
  // remove or reorder bytes. A replacement or pass whose pattern has a byte that is not present cannot hit
  // and is skipped: most answers have few distinct bytes.
  ByteSet present(s);
  // Inlined, so that the byte test of a literal pattern costs a few instructions and no call.
  auto rep = [&](std::string_view from, std::string_view to) __attribute__((always_inline)) {
    if (present.has_all(from) && replace_all(s, from, to)) present.add(to);
  };
  auto cmd = [&](std::string_view name, std::string_view to) __attribute__((always_inline)) {
    if (present.has('\\') && present.has_all(name) && replace_command(s, name, to)) present.add(to);
  };
  rep("\\$", "");
  rep("$", "");
  rep("\xE2\x82\xAC", "");  // €
  rep("\xC2\xA3", "");      // £
  cmd("euro", "");
  {
    std::string_view v = trim(s);
    if ((v.substr(0, 2) == "\\(" && v.substr(v.size() - 2) == "\\)") || (v.substr(0, 2) == "\\[" && v.substr(v.size() >= 2 ? v.size() - 2 : 0) == "\\]"))
      s = std::string(v.substr(2, v.size() - 4));
  }
  rep("\n", " ");
  cmd("left", "");
  cmd("right", "");
  if (present.has_all("\\begin{")) matrices_to_tuples(s);
  present.add("(),");  // the only bytes matrices_to_tuples writes
  cmd("displaystyle", "");
  cmd("dfrac", "\\frac");
  cmd("tfrac", "\\frac");
  cmd("cfrac", "\\frac");
  if (present.has_all("\\binom")) {
    cmd("dbinom", "\\binom");
    cmd("tbinom", "\\binom");
  }
  cmd("qquad", " ");
  cmd("quad", " ");
  rep("{,}", ",");
  rep("\\!", "");
  rep("\\,", "");
  rep("\\;", "");
  rep("\\:", "");
  rep("\\ ", " ");
  rep("~", " ");
  // "\sin 15^\circ", "\cos(60°)": a trigonometric function of degrees, in radians before the marks go.
  if (present.has('\\') && (present.has_all("circ") || present.has_all("degree") || present.has_all("\xC2\xB0"))) {
    trig_degrees(s);
    present.add("()*\\pi/180");  // what trig_degrees writes
  }
  rep("^{\\circ}", "");
  rep("^\\circ", "");
  cmd("circ", "");
  cmd("degree", "");
  rep("\xC2\xB0", "");  // °
  rep("\\%", "");
  rep("%", "");
  rep("\xE2\x88\x9E", "\\infty");  // ∞
  rep("\xE2\x88\x92", "-");        // − (minus sign)
  rep("\xC3\x97", "\\times ");      // ×
  rep("\xC2\xB7", "\\cdot ");       // ·
  rep("\xC3\xB7", "\\div ");        // ÷
  rep("\xCF\x80", "\\pi ");         // π
  rep("\xE2\x88\x9A", "\\sqrt");    // √
  rep("\xC2\xB1", "\\pm ");         // ±
  cmd("le", "\\leq");
  cmd("ge", "\\geq");
  cmd("ne", "\\neq");
  if (s.find_first_of("<>=\\\xE2") != std::string::npos) {  // relations (cheap test first: most answers have none)
    cmd("leqslant", "\\leq");
    cmd("geqslant", "\\geq");
    cmd("lt", "<");
    cmd("gt", ">");
    rep("\xE2\x89\xA5", "\\geq ");  // ≥
    rep("\xE2\x89\xA4", "\\leq ");  // ≤
    rep("\xE2\x89\xA0", "\\neq ");  // ≠
    rep(">=", "\\geq ");
    rep("<=", "\\leq ");
    rep("!=", "\\neq ");
  }
  cmd("varnothing", "\\emptyset");
  cmd("emptyset", "\\emptyset");
  if (present.has_all("\\{") && (present.has_all("text") || present.has_all("mbox") || present.has_all("mathrm"))) handle_text(s);
  if (present.has_all("\\{"))
    for (std::string_view name : {"mathbf", "textbf", "mathit", "boldsymbol", "mathbb", "operatorname"})
      if (present.has_all(name)) unwrap_command(s, name);
  drop_unit_words(s);  // "18 dollars", "5 cm", "28 percent", "15 cm^2", "7.6 Z"
  if (s.find(' ') != std::string::npos) space_thousands(s);
  if (s.find('\xC2') != std::string::npos) {
    rep("\xC2\xB2", "^2");  // ²
    rep("\xC2\xB3", "^3");  // ³
  }
  if (s.find('\\') != std::string::npos) {
    parenthesise_function_arguments(s);
    brace_arguments(s);  // \sqrt and \frac only: nothing to do without a backslash
    present.add("(){}");  // the only bytes these two write
  }
  if (s.size() >= 3 && s.size() <= 80 && is_alpha(s[0]) &&
      std::all_of(s.begin(), s.end(), [](char c) { return is_alpha(c) || c == ' ' || c == '-'; }))
    number_words(s);  // "five", "twenty-one"
  // "2 and 3", "2 \text{ or } 3": lists of answers.
  rep(" and ", ",");
  // "x < -2 or x > 3": a union of intervals (each side an inequality), read once spaces are gone.
  if ((present.has('<') || present.has('>') || present.has_all("\\leq") || present.has_all("\\geq")) && present.has_all(" or ")) {
    or_of_inequalities(s);
    present.add("\\cup ");  // what or_of_inequalities writes
  }
  rep(" or ", ",");
  mixed_number(s);
  present.add("-\\frac{}0123456789");  // what mixed_number writes
  // "\pi r^2": removing the space would make the command "\pir"; a product is meant.
  // "x \\cdot y", "a \\times b": the operator as * (the command would swallow the letter once spaces go).
  for (std::string_view op : {std::string_view("\\cdot "), std::string_view("\\times ")})
    for (size_t at = present.has_all(op) ? s.find(op) : std::string::npos; at != std::string::npos; at = s.find(op, at + 1)) {
      size_t k = at + std::string_view(op).size();
      while (k < s.size() && s[k] == ' ') ++k;
      if (k < s.size() && is_alpha(s[k])) s.replace(at, k - at, "*");
    }
  // The same for a Greek letter: "\\alpha x" is a product, not the command "\\alphax".
  for (size_t at = s.find('\\'); at != std::string::npos; at = s.find('\\', at + 1)) {
    size_t k = at + 1;
    while (k < s.size() && is_alpha(s[k])) ++k;
    if (k == at + 1 || k >= s.size() || s[k] != ' ' || !greek_letter(std::string_view(s).substr(at + 1, k - at - 1))) continue;
    size_t m = k;
    while (m < s.size() && s[m] == ' ') ++m;
    if (m < s.size() && is_alpha(s[m])) s.replace(k, m - k, "*");
  }
  present.add("*");  // what the two loops above write
  s.erase(std::remove_if(s.begin(), s.end(), is_space), s.end());
  // 1011_{(2)}: a base in parentheses.
  for (size_t at = present.has_all("_{(") ? s.find("_{(") : std::string::npos; at != std::string::npos; at = s.find("_{(", at + 1)) {
    const size_t close = s.find(")}", at);
    if (close != std::string::npos && close - at <= 6) s.erase(close, 1), s.erase(at + 2, 1);
  }
  unbrace_single(s);
  if (s.find('.') != std::string::npos) {
    // "-1./3", "3.\cdot2": a point after an integer with no digits after it.
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '.' && i > 0 && is_digit(s[i - 1]) && i + 1 < s.size() && !is_digit(s[i + 1]) && s[i + 1] != '\\' && s[i + 1] != '.')
        continue;
      out.push_back(s[i]);
    }
    s = std::move(out);
  }
  // The passes below need bytes most answers lack: a fresh byte set (a superset again: what follows a
  // pass that writes only removes bytes, or takes another fresh set).
  ByteSet late(s);
  if (late.has_all(".\\overline{")) {
    repeating_decimal(s);
    late = ByteSet(s);
  }
  if (late.has('<') || late.has('>') || late.has_all("\\leq") || late.has_all("\\geq")) {
    inequalities_to_intervals(s);
    late = ByteSet(s);
  }
  if (late.has_all("+\\infty")) replace_all(s, "+\\infty", "\\infty");
  if (s.rfind("+", 0) == 0) s.erase(0, 1);
  if (late.has('=') || late.has_all("\\in")) drop_variable_lhs(s, dropped);  // a '=' or \in is what it looks for
  if (late.has_all("\\frac{")) mixed_number(s);  // again: "x = 3\frac18" is a mixed number once its variable is gone
  if (thousands(s)) s.erase(std::remove(s.begin(), s.end(), ','), s.end());
  while (!s.empty() && s.back() == '.') s.pop_back();
  {
    // Trailing ".0" and leading ".5".
    std::string_view v = s;
    const bool neg = !v.empty() && v[0] == '-';
    if (neg) v.remove_prefix(1);
    const size_t dot = v.find('.');
    if (dot != std::string_view::npos && all_of(v.substr(dot + 1), is_digit) && (dot == 0 || all_of(v.substr(0, dot), is_digit))) {
      std::string frac(v.substr(dot + 1));
      while (!frac.empty() && frac.back() == '0') frac.pop_back();
      std::string ip(v.substr(0, dot));
      if (ip.empty()) ip = "0";
      s = std::string(neg ? "-" : "") + ip + (frac.empty() ? "" : "." + frac);
    }
  }
  {
    // "a/b" of integers → \frac{a}{b}
    std::string_view v = s;
    const bool neg = !v.empty() && v[0] == '-';
    if (neg) v.remove_prefix(1);
    const size_t slash = v.find('/');
    if (slash != std::string_view::npos && all_of(v.substr(0, slash), is_digit) && all_of(v.substr(slash + 1), is_digit))
      s = std::string(neg ? "-" : "") + "\\frac{" + std::string(v.substr(0, slash)) + "}{" + std::string(v.substr(slash + 1)) + "}";
  }
  // "(A)" → "A" (a choice letter)
  if (s.size() == 3 && s[0] == '(' && s[2] == ')' && s[1] >= 'A' && s[1] <= 'Z') s = s.substr(1, 1);
  if (s == "\\{\\}") s = "\\emptyset";
  return s;
}

// ---------------------------------------------------------------------------------------------
// Numbers: exact rationals in 128 bits, doubles otherwise
// ---------------------------------------------------------------------------------------------

i128 gcd128(i128 a, i128 b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b != 0) {
    const i128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

struct Num {
  bool exact = false;
  i128 p = 0, q = 1;  // exact: p/q, q > 0, reduced
  double d = 0;

  static Num real(double v) {
    Num n;
    n.d = v;
    return n;
  }
  static Num ratio(i128 p, i128 q) {  // q != 0
    if (q < 0) p = -p, q = -q;
    const i128 g = gcd128(p, q);
    Num n;
    n.exact = true;
    n.p = g ? p / g : p;
    n.q = g ? q / g : q;
    n.d = static_cast<double>(n.p) / static_cast<double>(n.q);
    return n;
  }
};

constexpr i128 kLimit = (static_cast<i128>(1) << 120);

bool fits(i128 v) { return v < kLimit && v > -kLimit; }

std::optional<i128> mul(i128 a, i128 b) {
  i128 r;
  if (__builtin_mul_overflow(a, b, &r) || !fits(r)) return std::nullopt;
  return r;
}

Num add(const Num& a, const Num& b, int sign) {
  if (a.exact && b.exact) {
    auto x = mul(a.p, b.q), y = mul(b.p, a.q), z = mul(a.q, b.q);
    if (x && y && z) return Num::ratio(sign > 0 ? *x + *y : *x - *y, *z);
  }
  return Num::real(sign > 0 ? a.d + b.d : a.d - b.d);
}

Num multiply(const Num& a, const Num& b) {
  if (a.exact && b.exact) {
    auto x = mul(a.p, b.p), z = mul(a.q, b.q);
    if (x && z) return Num::ratio(*x, *z);
  }
  return Num::real(a.d * b.d);
}

std::optional<Num> divide(const Num& a, const Num& b) {
  if (b.exact ? b.p == 0 : b.d == 0) return std::nullopt;
  if (a.exact && b.exact) {
    auto x = mul(a.p, b.q), z = mul(a.q, b.p);
    if (x && z) return Num::ratio(*x, *z);
  }
  return Num::real(a.d / b.d);
}

std::optional<Num> power(const Num& a, const Num& b) {
  if (b.exact && b.q == 1 && b.p >= -256 && b.p <= 256 && a.exact) {
    const bool neg = b.p < 0;
    long long e = static_cast<long long>(neg ? -b.p : b.p);
    Num result = Num::ratio(1, 1), base = a;
    bool ok = true;
    while (e > 0 && ok) {
      if (e & 1) {
        result = multiply(result, base);
        ok = result.exact;
      }
      e >>= 1;
      if (e > 0) {
        base = multiply(base, base);
        ok = ok && base.exact;
      }
    }
    if (ok) return neg ? divide(Num::ratio(1, 1), result) : std::optional<Num>(result);
  }
  const double v = std::pow(a.d, b.d);
  if (!std::isfinite(v)) return std::nullopt;
  return Num::real(v);
}

i128 isqrt(i128 v) {
  if (v < 0) return -1;
  i128 r = static_cast<i128>(std::sqrt(static_cast<double>(v)));
  while (r > 0 && r * r > v) --r;
  while ((r + 1) * (r + 1) <= v) ++r;
  return r;
}

std::optional<Num> square_root(const Num& a) {
  if (a.exact) {
    if (a.p < 0) return std::nullopt;
    const i128 rp = isqrt(a.p), rq = isqrt(a.q);
    if (rp * rp == a.p && rq * rq == a.q) return Num::ratio(rp, rq);
  }
  if (a.d < 0) return std::nullopt;
  return Num::real(std::sqrt(a.d));
}

// The functions both readers know (the symbolic reader in symbolic.cpp has the same list).
constexpr const char* kFunctionNames[] = {"\\sin",    "\\cos",    "\\tan",  "\\sec",  "\\csc",  "\\cot", "\\arcsin",
                                          "\\arccos", "\\arctan", "\\sinh", "\\cosh", "\\tanh", "\\ln",  "\\log",
                                          "\\exp"};

// A recursive-descent evaluator over normalised answers: numbers, + - * / ^, \frac, \sqrt, \cdot,
// \times, \div, \pi, e, parentheses, implicit products, and (when `vars` is given) one-letter variables.
// The grammar both evaluators share: sums of products of signed powers, with implicit products (`2\pi`,
// `3i`) and braced groups. `Derived` supplies the values and the rest of the grammar: static sum(a, b,
// sign), product(a, b), quotient(a, b) (nullopt for a division by zero), negated(v), and the members
// starts_atom() and power_().
template <class Derived, class V>
class InfixGrammar : protected detail::LatexCursor {
 protected:
  using LatexCursor::LatexCursor;

  std::optional<V> expr() {
    Depth guard(*this);
    if (failed_) return std::nullopt;
    auto left = term();
    while (left && !failed_ && pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
      const int sign = s_[pos_++] == '+' ? 1 : -1;
      auto right = term();
      if (!right) return std::nullopt;
      left = Derived::sum(*left, *right, sign);
    }
    return left;
  }

  std::optional<V> term() {
    Depth guard(*this);
    if (failed_) return std::nullopt;
    auto left = unary();
    while (left && !failed_) {
      if (eat('*') || (at_command("\\cdot") && (pos_ += 5)) || (at_command("\\times") && (pos_ += 6))) {
        auto right = unary();
        if (!right) return std::nullopt;
        left = Derived::product(*left, *right);
      } else if (eat('/') || (at_command("\\div") && (pos_ += 4))) {
        auto right = unary();
        if (!right) return std::nullopt;
        left = Derived::quotient(*left, *right);
      } else if (self().starts_atom()) {
        auto right = self().power_();
        if (!right) return std::nullopt;
        left = Derived::product(*left, *right);
      } else {
        break;
      }
    }
    return left;
  }

  std::optional<V> unary() {
    Depth guard(*this);
    if (failed_) return std::nullopt;
    if (eat('-')) {
      auto v = unary();
      if (!v) return std::nullopt;
      return Derived::negated(*v);
    }
    if (eat('+')) return unary();
    return self().power_();
  }

  std::optional<V> braced() {
    if (!eat('{')) return std::nullopt;
    auto v = expr();
    if (!v || !eat('}')) return std::nullopt;
    return v;
  }

  // `(expr)`, at its opening parenthesis.
  std::optional<V> parenthesised() {
    ++pos_;
    auto v = expr();
    if (!v || !eat(')')) return std::nullopt;
    return v;
  }

  // `\frac{a}{b}`, at the command.
  std::optional<V> fraction() {
    pos_ += 5;
    auto a = braced();
    if (!a) return std::nullopt;
    auto b = braced();
    if (!b) return std::nullopt;
    return Derived::quotient(*a, *b);
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

class Evaluator : private InfixGrammar<Evaluator, Num> {
 public:
  Evaluator(std::string_view s, const double* vars) : InfixGrammar(s), vars_(vars) {}

  std::optional<Num> run() {
    auto v = expr();
    if (!v || pos_ != s_.size() || failed_) return std::nullopt;
    if (!v->exact && !std::isfinite(v->d)) return std::nullopt;
    return v;
  }

 private:
  friend class InfixGrammar<Evaluator, Num>;
  const double* vars_;

  static Num sum(const Num& a, const Num& b, int sign) { return add(a, b, sign); }
  static Num product(const Num& a, const Num& b) { return multiply(a, b); }
  static std::optional<Num> quotient(const Num& a, const Num& b) { return divide(a, b); }
  static Num negated(const Num& v) { return multiply(Num::ratio(-1, 1), v); }

  bool starts_atom() const {
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (is_digit(c) || c == '(' || c == '{' || c == '.') return true;
    if (is_alpha(c)) return true;
    if (c != '\\') return false;  // the rest are commands
    return at_command("\\frac") || at_command("\\sqrt") || at_command("\\pi") || at_command("\\binom") || function_at() != nullptr;
  }

  using Fn = double (*)(double);
  // A function command at pos_ (kFunctionNames).
  const char* function_at() const {
    if (pos_ >= s_.size() || s_[pos_] != '\\') return nullptr;
    for (const char* f : kFunctionNames)
      if (at_command(f)) return f;
    return nullptr;
  }

  std::optional<Num> power_() {
    Depth guard(*this);
    if (failed_) return std::nullopt;
    auto base = atom();
    if (!base) return std::nullopt;
    if (pos_ < s_.size() && s_[pos_] == '!' && !(pos_ + 1 < s_.size() && s_[pos_ + 1] == '=')) {
      ++pos_;
      if (!base->exact || base->q != 1 || base->p < 0 || base->p > 170) return std::nullopt;
      Num f = Num::ratio(1, 1);
      for (i128 i = 2; i <= base->p; ++i) f = multiply(f, Num::ratio(i, 1));
      base = f;
    }
    if (eat('^')) {
      std::optional<Num> e;
      if (pos_ < s_.size() && s_[pos_] == '{') e = atom();
      else if (pos_ < s_.size() && is_digit(s_[pos_])) e = Num::ratio(s_[pos_++] - '0', 1);
      else if (eat('-')) {
        auto inner = atom();
        if (inner) e = multiply(Num::ratio(-1, 1), *inner);
      } else e = atom();
      if (!e) return std::nullopt;
      return power(*base, *e);
    }
    return base;
  }

  std::optional<Num> number() {
    const size_t start = pos_;
    size_t digits = 0, frac_digits = 0;
    i128 mant = 0;
    bool overflow = false;
    while (pos_ < s_.size() && is_digit(s_[pos_])) {
      if (!overflow) {
        mant = mant * 10 + (s_[pos_] - '0');
        overflow = !fits(mant * 10);
      }
      ++pos_, ++digits;
    }
    if (pos_ < s_.size() && s_[pos_] == '.' && pos_ + 1 < s_.size() && is_digit(s_[pos_ + 1])) {
      ++pos_;
      while (pos_ < s_.size() && is_digit(s_[pos_])) {
        if (!overflow) {
          mant = mant * 10 + (s_[pos_] - '0');
          ++frac_digits;
          overflow = !fits(mant * 10);
        }
        ++pos_, ++digits;
      }
    }
    if (digits == 0) return std::nullopt;
    long long exp10 = 0;
    // Scientific notation: 1e5, 2.5E-3 (an 'e' followed by digits; otherwise 'e' is a factor).
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t k = pos_ + 1;
      bool neg = false;
      if (k < s_.size() && (s_[k] == '-' || s_[k] == '+')) neg = s_[k++] == '-';
      if (k < s_.size() && is_digit(s_[k])) {
        while (k < s_.size() && is_digit(s_[k])) {
          if (exp10 < 100000000) exp10 = exp10 * 10 + (s_[k] - '0');
          ++k;
        }
        if (neg) exp10 = -exp10;
        pos_ = k;
      }
    }
    if (!overflow && exp10 - static_cast<long long>(frac_digits) > -36 && exp10 - static_cast<long long>(frac_digits) < 36) {
      long long e = exp10 - static_cast<long long>(frac_digits);
      i128 p = mant, q = 1;
      bool ok = true;
      for (; e > 0 && ok; --e) {
        auto m = mul(p, 10);
        ok = m.has_value();
        if (ok) p = *m;
      }
      for (; e < 0 && ok; ++e) {
        auto m = mul(q, 10);
        ok = m.has_value();
        if (ok) q = *m;
      }
      if (ok) return Num::ratio(p, q);
    }
    const std::string text(s_.substr(start, pos_ - start));
    const double v = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(v)) {
      failed_ = true;
      return std::nullopt;
    }
    return Num::real(v);
  }

  std::optional<Num> atom() {
    Depth guard(*this);
    if (failed_ || pos_ >= s_.size()) return std::nullopt;
    const char c = s_[pos_];
    if (is_digit(c) || c == '.') return number();
    if (c == '(') return parenthesised();
    if (c == '{') return braced();
    if (at_command("\\frac")) return fraction();
    if (at_command("\\sqrt")) {
      pos_ += 5;
      std::optional<Num> index;
      if (eat('[')) {
        index = expr();
        if (!index || !eat(']')) return std::nullopt;
      }
      auto v = braced();
      if (!v) return std::nullopt;
      if (!index) return square_root(*v);
      auto inv = divide(Num::ratio(1, 1), *index);
      if (!inv) return std::nullopt;
      if (v->d < 0) return std::nullopt;
      const double r = std::pow(v->d, inv->d);
      // Exact when the root is an integer: \sqrt[3]{27} = 3.
      const double rr = std::round(r);
      if (v->exact && v->q == 1 && index->exact && index->q == 1 && std::fabs(r - rr) < 1e-9 && std::fabs(rr) < 1e15) {
        auto check = power(Num::ratio(static_cast<i128>(rr), 1), *index);
        if (check && check->exact && check->p == v->p && check->q == 1) return Num::ratio(static_cast<i128>(rr), 1);
      }
      return Num::real(r);
    }
    if (const char* f = function_at()) {
      const std::string_view name(f);
      pos_ += name.size();
      std::optional<Num> base;
      if (name == "\\log" && eat('_')) {
        base = pos_ < s_.size() && is_digit(s_[pos_]) ? std::optional<Num>(Num::ratio(s_[pos_++] - '0', 1)) : atom();
        if (!base) return std::nullopt;
      }
      // \sin^2(x): a power of the value (an exponent -1 would mean the inverse function: not read).
      std::optional<Num> fpow;
      if (eat('^')) {
        fpow = pos_ < s_.size() && is_digit(s_[pos_]) ? std::optional<Num>(Num::ratio(s_[pos_++] - '0', 1)) : braced();
        if (!fpow || !fpow->exact || fpow->q != 1 || fpow->p < 1 || fpow->p > 16) return std::nullopt;
      }
      auto arg = power_();
      if (!arg) return std::nullopt;
      const double x = arg->d;
      double v;
      if (name == "\\sin") v = std::sin(x);
      else if (name == "\\cos") v = std::cos(x);
      else if (name == "\\tan") v = std::tan(x);
      else if (name == "\\sec") v = 1 / std::cos(x);
      else if (name == "\\csc") v = 1 / std::sin(x);
      else if (name == "\\cot") v = std::cos(x) / std::sin(x);
      else if (name == "\\arcsin") v = x >= -1 && x <= 1 ? std::asin(x) : NAN;
      else if (name == "\\arccos") v = x >= -1 && x <= 1 ? std::acos(x) : NAN;
      else if (name == "\\arctan") v = std::atan(x);
      else if (name == "\\sinh") v = std::sinh(x);
      else if (name == "\\cosh") v = std::cosh(x);
      else if (name == "\\tanh") v = std::tanh(x);
      else if (name == "\\exp") v = std::exp(x);
      else if (name == "\\ln") v = x > 0 ? std::log(x) : NAN;
      else v = x > 0 && (!base || (base->d > 0 && base->d != 1)) ? std::log(x) / std::log(base ? base->d : 10.0) : NAN;
      if (fpow) v = std::pow(v, static_cast<double>(fpow->p));
      if (!std::isfinite(v)) return std::nullopt;
      // Exact when the value is an integer that checks back (\log_2 8 = 3).
      const double r = std::round(v);
      if (std::fabs(v - r) < 1e-12 && std::fabs(r) < 1e15) return Num::ratio(static_cast<i128>(r), 1);
      return Num::real(v);
    }
    if (at_command("\\binom")) {
      pos_ += 6;
      auto n = braced();
      if (!n) return std::nullopt;
      auto k = braced();
      if (!k || !n->exact || !k->exact || n->q != 1 || k->q != 1 || k->p < 0 || n->p < k->p || n->p > 1000) return std::nullopt;
      Num r = Num::ratio(1, 1);
      for (i128 i = 1; i <= k->p; ++i) {
        auto m = divide(multiply(r, Num::ratio(n->p - k->p + i, 1)), Num::ratio(i, 1));
        if (!m) return std::nullopt;
        r = *m;
      }
      return r;
    }
    if (at_command("\\pi")) {
      pos_ += 3;
      return Num::real(M_PI);
    }
    if (is_alpha(c)) {
      // One letter: e is Euler's number, other letters are variables (only when evaluating with them).
      ++pos_;
      if (c == 'e') return Num::real(M_E);
      if (!vars_) return std::nullopt;
      return Num::real(vars_[c >= 'a' ? c - 'a' : c - 'A' + 26]);
    }
    return std::nullopt;
  }
};

std::optional<Num> evaluate(std::string_view s, const double* vars = nullptr) { return Evaluator(s, vars).run(); }

// A complex number with exact (or inexact) parts.
struct Complex {
  Num re, im;
};

// The evaluator of answers in the imaginary unit i and numbers: + - * / ^ (integer powers up to 64),
// parentheses and braces, \frac, \sqrt of a real number (of a negative one: an imaginary number), \pi,
// implicit products. Parts stay exact rationals while they can.
class ComplexEvaluator : private InfixGrammar<ComplexEvaluator, Complex> {
 public:
  explicit ComplexEvaluator(std::string_view s) : InfixGrammar(s) {}

  std::optional<Complex> run() {
    auto v = expr();
    if (!v || pos_ != s_.size() || failed_) return std::nullopt;
    if (!std::isfinite(v->re.d) || !std::isfinite(v->im.d)) return std::nullopt;
    return v;
  }

 private:
  friend class InfixGrammar<ComplexEvaluator, Complex>;
  static Complex real(const Num& n) { return {n, Num::ratio(0, 1)}; }
  static Complex sum(const Complex& a, const Complex& b, int sign) { return {add(a.re, b.re, sign), add(a.im, b.im, sign)}; }
  static Complex product(const Complex& a, const Complex& b) { return times(a, b); }
  static std::optional<Complex> quotient(const Complex& a, const Complex& b) { return over(a, b); }
  static Complex negated(const Complex& v) { return {multiply(Num::ratio(-1, 1), v.re), multiply(Num::ratio(-1, 1), v.im)}; }
  static Complex times(const Complex& a, const Complex& b) {
    return {add(multiply(a.re, b.re), multiply(a.im, b.im), -1), add(multiply(a.re, b.im), multiply(a.im, b.re), 1)};
  }
  static std::optional<Complex> over(const Complex& a, const Complex& b) {
    const Num den = add(multiply(b.re, b.re), multiply(b.im, b.im), 1);
    if (den.exact ? den.p == 0 : den.d == 0) return std::nullopt;
    auto re = divide(add(multiply(a.re, b.re), multiply(a.im, b.im), 1), den);
    auto im = divide(add(multiply(a.im, b.re), multiply(a.re, b.im), -1), den);
    if (!re || !im) return std::nullopt;
    return Complex{*re, *im};
  }

  bool starts_atom() const {
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    return is_digit(c) || c == '(' || c == '{' || c == '.' || c == 'i' || at_command("\\frac") || at_command("\\sqrt") ||
           at_command("\\pi");
  }

  std::optional<Complex> power_() {
    Depth guard(*this);
    if (failed_) return std::nullopt;
    auto base = atom();
    if (!base || !eat('^')) return base;
    // An integer exponent: a digit, or braced digits with an optional sign.
    const bool braced = eat('{');
    const bool negative = eat('-');
    int n = 0, digits = 0;
    while (pos_ < s_.size() && is_digit(s_[pos_]) && digits < 3) n = n * 10 + (s_[pos_++] - '0'), ++digits;
    if (digits == 0 || (!braced && (digits > 1 || negative)) || (braced && !eat('}')) || n > 64) return std::nullopt;
    Complex r = real(Num::ratio(1, 1));
    for (int k = 0; k < n; ++k) r = times(r, *base);
    if (!negative) return r;
    return over(real(Num::ratio(1, 1)), r);
  }

  std::optional<Complex> atom() {
    Depth guard(*this);
    if (failed_ || pos_ >= s_.size()) return std::nullopt;
    const char c = s_[pos_];
    if (is_digit(c) || c == '.') {
      const size_t start = pos_;
      while (pos_ < s_.size() && (is_digit(s_[pos_]) || s_[pos_] == '.')) ++pos_;
      auto v = evaluate(s_.substr(start, pos_ - start));
      if (!v) return std::nullopt;
      return real(*v);
    }
    if (c == 'i') {
      ++pos_;
      return Complex{Num::ratio(0, 1), Num::ratio(1, 1)};
    }
    if (c == '(') return parenthesised();
    if (c == '{') return braced();
    if (at_command("\\frac")) return fraction();
    if (at_command("\\sqrt")) {
      pos_ += 5;
      auto v = braced();
      if (!v || !(v->im.exact ? v->im.p == 0 : v->im.d == 0)) return std::nullopt;
      const bool negative = v->re.exact ? v->re.p < 0 : v->re.d < 0;
      auto r = square_root(negative ? multiply(Num::ratio(-1, 1), v->re) : v->re);
      if (!r) return std::nullopt;
      return negative ? Complex{Num::ratio(0, 1), *r} : real(*r);
    }
    if (at_command("\\pi")) {
      pos_ += 3;
      return real(Num::real(M_PI));
    }
    return std::nullopt;
  }
};

bool close_enough(double a, double b, double tol) {
  if (a == b) return true;
  if (!std::isfinite(a) || !std::isfinite(b)) return false;
  return std::fabs(a - b) <= tol * std::max(std::fabs(a), std::fabs(b));
}

bool numbers_equal(const Num& a, const Num& b, double tol) {
  if (a.exact && b.exact) return a.p == b.p && a.q == b.q;
  return close_enough(a.d, b.d, tol);
}

// The one-letter variables of a normalised answer (letters outside commands), as a bit set; -1 when
// something other than letters, digits, operators and known commands appears.
int64_t variables(std::string_view s) {
  int64_t set = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      size_t k = i + 1;
      while (k < s.size() && is_alpha(s[k])) ++k;
      const std::string_view cmd = s.substr(i + 1, k - i - 1);
      bool known = cmd == "frac" || cmd == "sqrt" || cmd == "pi" || cmd == "cdot" || cmd == "times" || cmd == "div" || cmd == "binom";
      for (const char* f : kFunctionNames) known = known || cmd == std::string_view(f).substr(1);
      if (!known) return -1;
      i = k - 1;
    } else if (is_alpha(c)) {
      if (c == 'e') continue;
      set |= int64_t{1} << (c >= 'a' ? c - 'a' : c - 'A' + 26);
    }
  }
  return set;
}

// Two complex numbers written with the imaginary unit i ("(1+i)^2" and "2i"): decided when i is the only
// letter of both answers and at least one has it, and both are read; nullopt otherwise.
std::optional<bool> complex_equal(std::string_view a, std::string_view b, double tol) {
  constexpr int64_t kI = int64_t{1} << ('i' - 'a');
  const int64_t va = variables(a), vb = variables(b);
  if (va < 0 || vb < 0 || (va | vb) != kI || a.find('e') != std::string_view::npos || b.find('e') != std::string_view::npos)
    return std::nullopt;
  auto x = ComplexEvaluator(a).run(), y = ComplexEvaluator(b).run();
  if (!x || !y) return std::nullopt;
  if (x->re.exact && x->im.exact && y->re.exact && y->im.exact)
    return x->re.p == y->re.p && x->re.q == y->re.q && x->im.p == y->im.p && x->im.q == y->im.q;
  const double scale = std::max(std::hypot(x->re.d, x->im.d), std::hypot(y->re.d, y->im.d));
  return std::fabs(x->re.d - y->re.d) <= tol * scale && std::fabs(x->im.d - y->im.d) <= tol * scale;
}

// Equal as functions of their variables: evaluated at a few fixed points.
bool symbolic_equal(std::string_view a, std::string_view b, double tol) {
  const int64_t va = variables(a), vb = variables(b);
  if (va <= 0 || va != vb) return false;
  static constexpr double kPoints[][3] = {{0.5377, 1.8339, -2.2588}, {0.8622, 0.3188, -1.3077}, {-0.4336, 0.3426, 3.5784}};
  int agreed = 0;
  for (const auto& pt : kPoints) {
    double vars[52];
    for (int i = 0; i < 52; ++i) vars[i] = pt[i % 3] + 0.1 * i;
    auto x = evaluate(a, vars), y = evaluate(b, vars);
    if (!x && !y) continue;
    if (!x || !y || !close_enough(x->d, y->d, std::max(tol, 1e-9))) return false;
    ++agreed;
  }
  return agreed >= 2;
}

// An expression in variables that is a constant (\sin^2(x)+\cos^2(x), x-x+1) and a number: equal at every
// sample point.
bool constant_equal(std::string_view expr, const Num& value, double tol) {
  if (variables(expr) <= 0) return false;
  static constexpr double kPoints[] = {0.5377, 0.8622, -0.4336};
  for (double pt : kPoints) {
    double vars[52];
    for (int i = 0; i < 52; ++i) vars[i] = pt + 0.1 * i;
    auto x = evaluate(expr, vars);
    if (!x || !close_enough(x->d, value.d, std::max(tol, 1e-9))) return false;
  }
  return true;
}

// Splits at top-level occurrences of `sep` (outside (), [], {}).
std::vector<std::string_view> split_top(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '{' || s[i + 1] == '}')) {
      depth += s[i + 1] == '{' ? 1 : -1;
      ++i;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    else if (c == ')' || c == ']' || c == '}') --depth;
    else if (depth == 0 && s.compare(i, sep.size(), sep) == 0) {
      parts.push_back(s.substr(start, i - start));
      start = i + sep.size();
      i = start - 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

struct Listing {
  std::string open, close;  // "" for a bare list
  std::vector<std::string_view> items;
};

// "(1,2]", "\{1,2\}", "[1,2]", "1,2": delimiters and top-level items. nullopt for a single value.
std::optional<Listing> as_list(std::string_view s) {
  // Without a ',' there is one item, a list only inside \{ \}: most answers, known without building anything.
  if (s.find(',') == std::string_view::npos && s.substr(0, 2) != "\\{") return std::nullopt;
  Listing l;
  std::string_view inner = s;
  auto wrapped = [&](std::string_view o, std::string_view c) {
    if (s.size() >= o.size() + c.size() && s.substr(0, o.size()) == o && s.substr(s.size() - c.size()) == c) {
      // The opening delimiter must close at the end (not "(1)+(2)").
      std::string_view mid = s.substr(o.size(), s.size() - o.size() - c.size());
      int depth = 0;
      for (size_t i = 0; i < mid.size(); ++i) {
        const char ch = mid[i];
        if (ch == '(' || ch == '[' || ch == '{') ++depth;
        else if (ch == ')' || ch == ']' || ch == '}') {
          if (--depth < 0 && !(ch == ']' || ch == ')')) return false;
        }
      }
      l.open = o, l.close = c, inner = mid;
      return true;
    }
    return false;
  };
  if (!wrapped("\\{", "\\}")) {
    const char f = s.empty() ? 0 : s.front(), b = s.empty() ? 0 : s.back();
    if ((f == '(' || f == '[') && (b == ')' || b == ']')) {
      l.open = std::string(1, f), l.close = std::string(1, b), inner = s.substr(1, s.size() - 2);
    }
  }
  l.items = split_top(inner, ",");
  if (l.items.size() < 2 && l.open != "\\{") return std::nullopt;
  for (auto it : l.items)
    if (it.empty()) return std::nullopt;
  return l;
}

bool equal_normalized(std::string_view a, std::string_view b, double tol, int depth);

bool items_equal(const std::vector<std::string_view>& x_in, const std::vector<std::string_view>& y_in, bool ordered, double tol, int depth) {
  if (x_in.size() != y_in.size() || x_in.size() > 64) return false;
  // Items such as "x=1" in "x=1, x=2" lose their variable like whole answers do.
  std::vector<std::string> xs(x_in.begin(), x_in.end()), ys(y_in.begin(), y_in.end());
  for (auto& v : xs) drop_variable_lhs(v);
  for (auto& v : ys) drop_variable_lhs(v);
  const std::vector<std::string_view> x(xs.begin(), xs.end()), y(ys.begin(), ys.end());
  if (ordered) {
    for (size_t i = 0; i < x.size(); ++i)
      if (!equal_normalized(x[i], y[i], tol, depth + 1)) return false;
    return true;
  }
  std::vector<bool> used(y.size(), false);
  for (auto xi : x) {
    bool matched = false;
    for (size_t j = 0; j < y.size() && !matched; ++j)
      if (!used[j] && equal_normalized(xi, y[j], tol, depth + 1)) used[j] = matched = true;
    if (!matched) return false;
  }
  return true;
}

bool words_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!is_alpha(a[i]) && a[i] != ' ') return false;
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return a.size() > 1;  // one letter: case matters (A vs a)
}

// Comparisons left for the current equivalent() call: nested sets compare pairs of items, so the
// work is capped, not just the depth.
thread_local long g_budget = 0;

// "1\pm\sqrt{2}" → "\{1+\sqrt{2},1-\sqrt{2}\}" (one top-level \pm or \mp).
// One \pm or \mp anywhere in a single answer: its two values ("\frac{-1\pm\sqrt5}{2}" too).
std::optional<std::pair<std::string, std::string>> pm_values(std::string_view s) {
  size_t at = std::string_view::npos, count = 0;
  bool minus_first = false;
  for (size_t i = s.find('\\'); i != std::string_view::npos; i = s.find('\\', i + 1)) {
    const bool pm = s.compare(i, 3, "\\pm") == 0, mp = s.compare(i, 3, "\\mp") == 0;
    if ((pm || mp) && s.compare(i, 5, "\\pmod") != 0) {  // spaces are gone: "\\pmi" is \\pm i
      if (++count > 1) return std::nullopt;
      at = i, minus_first = mp;
    }
  }
  if (count != 1 || at + 3 >= s.size()) return std::nullopt;
  const std::string head(s.substr(0, at)), tail(s.substr(at + 3));
  std::pair<std::string, std::string> r{head + "+" + tail, head + "-" + tail};
  if (minus_first) std::swap(r.first, r.second);
  return r;
}

// "1\pm\sqrt{2}" → "\{1+\sqrt{2},1-\sqrt{2}\}"; in a set or a bare list, each item with one \pm becomes two.
std::optional<std::string> expand_pm(std::string_view s) {
  if (s.find("\\pm") == std::string_view::npos && s.find("\\mp") == std::string_view::npos) return std::nullopt;
  if (split_top(s, ",").size() == 1 && !(s.size() > 4 && s.substr(0, 2) == "\\{")) {
    auto v = pm_values(s);
    if (!v) return std::nullopt;
    return "\\{" + v->first + "," + v->second + "\\}";
  }
  auto l = as_list(s);
  if (!l || !(l->open.empty() || l->open == "\\{") || l->items.size() > 32) return std::nullopt;
  std::string out = "\\{";
  bool any = false;
  for (size_t i = 0; i < l->items.size(); ++i) {
    if (i) out += ",";
    auto v = pm_values(l->items[i]);
    if (v) out += v->first + "," + v->second, any = true;
    else out += l->items[i];
  }
  if (!any) return std::nullopt;
  return out + "\\}";
}

// "204_5", "A3_{16}": digits (at least one decimal digit) valid in a base from 2 to 36 written as a subscript.
std::optional<std::pair<std::string_view, int>> base_numeral(std::string_view s) {
  const size_t us = s.find('_');
  if (us == std::string_view::npos || us == 0) return std::nullopt;
  std::string_view digits = s.substr(0, us), base = s.substr(us + 1);
  if (base.size() >= 2 && base.front() == '{' && base.back() == '}') base = base.substr(1, base.size() - 2);
  if (base.empty() || base.size() > 2 || !all_of(base, is_digit)) return std::nullopt;
  const int b = std::atoi(std::string(base).c_str());
  if (b < 2 || b > 36) return std::nullopt;
  bool decimal = false;
  for (char c : digits) {
    const int v = is_digit(c) ? c - '0' : is_alpha(c) ? lower(c) - 'a' + 10 : 99;
    if (v >= b) return std::nullopt;
    decimal = decimal || is_digit(c);
  }
  if (!decimal) return std::nullopt;
  return std::make_pair(digits, b);
}

// Greek letters (not \pi), primed letters (x', f''), and subscripted letters (x_1, a_{10}) as one-letter
// variables: each distinct one becomes the same unused capital letter in both answers, so that the
// evaluator and the symbolic check, which read one-letter variables, can compare them.
bool rename_symbols(std::string& a, std::string& b) {
  std::vector<std::string> names;
  std::string_view free_letters = "ABCDFGHJKLMNOPQRSTUVWXYZ";
  auto symbol_at = [](std::string_view s, size_t i) -> size_t {  // length of a symbol token at i, or 0
    if (s[i] == '\\') {
      size_t k = i + 1;
      while (k < s.size() && is_alpha(s[k])) ++k;
      const std::string_view name = s.substr(i + 1, k - i - 1);
      return name != "pi" && greek_letter(name) ? k - i : 0;
    }
    if (!is_alpha(s[i]) || (i > 0 && (is_alpha(s[i - 1]) || s[i - 1] == '\\'))) return 0;
    size_t k = i + 1;
    if (k < s.size() && s[k] == '\'') {
      while (k < s.size() && s[k] == '\'') ++k;
      return k - i;
    }
    if (k + 1 < s.size() && s[k] == '_') {
      if (is_digit(s[k + 1]) || is_alpha(s[k + 1])) return k + 2 - i;
      if (s[k + 1] == '{') {
        size_t c = k + 2;
        while (c < s.size() && (is_digit(s[c]) || is_alpha(s[c]))) ++c;
        if (c < s.size() && s[c] == '}' && c > k + 2 && c - k < 8) return c + 1 - i;
      }
    }
    return 0;
  };
  std::string out[2];
  const std::string* in[2] = {&a, &b};
  for (int side = 0; side < 2; ++side) {
    const std::string& s = *in[side];
    for (size_t i = 0; i < s.size();) {
      const size_t len = symbol_at(s, i);
      if (len == 0) {
        out[side].push_back(s[i++]);
        continue;
      }
      const std::string name = s.substr(i, len);
      auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) {
        names.push_back(name);
        it = names.end() - 1;
      }
      const size_t index = static_cast<size_t>(it - names.begin());
      size_t used = 0, letter = 0;
      for (; letter < free_letters.size(); ++letter) {
        const char c = free_letters[letter];
        if (a.find(c) != std::string::npos || b.find(c) != std::string::npos) continue;
        if (used++ == index) break;
      }
      if (letter >= free_letters.size()) return false;
      out[side].push_back(free_letters[letter]);
      i += len;
    }
  }
  if (names.empty()) return false;
  a = std::move(out[0]);
  b = std::move(out[1]);
  return true;
}

// Equations with the same solutions: lhs - rhs of one is a constant multiple of the other's, at sample points.
bool equations_equal(std::string_view a, std::string_view b, double tol) {
  auto ea = split_top(a, "="), eb = split_top(b, "=");
  if (ea.size() != 2 || eb.size() != 2) return false;
  const std::string da = "(" + std::string(ea[0]) + ")-(" + std::string(ea[1]) + ")";
  const std::string db = "(" + std::string(eb[0]) + ")-(" + std::string(eb[1]) + ")";
  const int64_t va = variables(da), vb = variables(db);
  if (va <= 0 || va != vb) return false;
  static constexpr double kPoints[][3] = {{0.5377, 1.8339, -2.2588}, {0.8622, 0.3188, -1.3077}, {-0.4336, 0.3426, 3.5784}};
  double ratio = 0;
  int agreed = 0;
  for (const auto& pt : kPoints) {
    double vars[52];
    for (int i = 0; i < 52; ++i) vars[i] = pt[i % 3] + 0.1 * i;
    auto x = evaluate(da, vars), y = evaluate(db, vars);
    if (!x || !y) continue;
    if (y->d == 0 || x->d == 0) return false;
    const double r = x->d / y->d;
    if (agreed == 0) ratio = r;
    else if (!close_enough(r, ratio, std::max(tol, 1e-9))) return false;
    ++agreed;
  }
  return agreed >= 2;
}

bool equal_normalized(std::string_view a, std::string_view b, double tol, int depth) {
  if (depth > 8 || --g_budget < 0) return false;
  if (a == b) return true;
  if (words_equal(a, b)) return true;
  {
    auto pa = expand_pm(a), pb = expand_pm(b);
    if (pa || pb) return equal_normalized(pa ? *pa : std::string(a), pb ? *pb : std::string(b), tol, depth + 1);
  }
  // Unions of intervals: order-insensitive pieces.
  {
    if (a.find("\\cup") != std::string_view::npos || b.find("\\cup") != std::string_view::npos) {  // else one piece each
      auto ua = split_top(a, "\\cup"), ub = split_top(b, "\\cup");
      if (ua.size() > 1 || ub.size() > 1) return items_equal(ua, ub, false, tol, depth);
    }
  }
  auto la = as_list(a), lb = as_list(b);
  if (la || lb) {
    if (!la || !lb) return false;
    const bool set_a = la->open == "\\{" || la->open.empty(), set_b = lb->open == "\\{" || lb->open.empty();
    if (set_a && set_b) return items_equal(la->items, lb->items, false, tol, depth);
    // Tuples and intervals: same delimiters. A bare list ("-2, 2": solutions) is neither a tuple nor an interval.
    if (la->open.empty() || lb->open.empty() || la->open != lb->open || la->close != lb->close) return false;
    return items_equal(la->items, lb->items, true, tol, depth);
  }
  {
    // Numerals with a base subscript: the same digits in the same base; a numeral without its base
    // ("204" for "204_5") is read in the base of the other.
    auto ba = base_numeral(a), bb = base_numeral(b);
    if (ba || bb) {
      auto digits_equal = [](std::string_view x, std::string_view y) {
        if (x.size() != y.size()) return false;
        for (size_t i = 0; i < x.size(); ++i)
          if (lower(x[i]) != lower(y[i])) return false;
        return true;
      };
      if (ba && bb) return ba->second == bb->second && digits_equal(ba->first, bb->first);
      const auto& n = ba ? *ba : *bb;
      return digits_equal(n.first, ba ? b : a);
    }
  }
  auto na = evaluate(a), nb = evaluate(b);
  if (na && nb) return numbers_equal(*na, *nb, tol);
  if (auto c = complex_equal(a, b, tol)) return *c;
  if (na || nb) return constant_equal(na ? b : a, na ? *na : *nb, tol);
  std::string ra(a), rb(b);
  if (rename_symbols(ra, rb)) {
    a = ra, b = rb;
    auto ma = evaluate(a), mb = evaluate(b);
    if (ma && mb) return numbers_equal(*ma, *mb, tol);
    if (ma || mb) return false;
  }
  // Expressions: GiNaC first (when built in) for an exact answer; sampling at fixed points otherwise.
  switch (detail::symbolic_compare(a, b)) {
    case detail::Symbolic::equal: return true;
    case detail::Symbolic::different: return false;
    case detail::Symbolic::unknown: break;
  }
  return symbolic_equal(a, b, tol) || equations_equal(a, b, tol);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Extraction extract(std::string_view response, const ExtractOptions& options) {
  Extraction e;
  std::string problem;
  if (options.boxed) {
    if (auto b = last_boxed(response, &problem)) {
      // A box inside the boxed text ("\boxed{x = \boxed{5}}"): the innermost last one.
      for (int depth = 0; depth < 8 && b->find("\\boxed") != std::string::npos; ++depth) {
        auto inner = last_boxed(*b, nullptr);
        if (!inner || inner->empty()) break;
        b = std::move(inner);
      }
      e.found = true, e.answer = std::move(*b), e.method = "boxed";
      return e;
    }
  }
  if (options.gsm8k) {
    const size_t hit = last_gsm8k_mark(response);
    if (hit != std::string_view::npos) {
      std::string a = clean_phrase_answer(rest_of_line(response, hit + 4));
      if (!a.empty()) {
        e.found = true, e.answer = std::move(a), e.method = "gsm8k";
        return e;
      }
    }
  }
  if (options.answer_phrase) {
    if (auto a = last_phrase(response)) {
      e.found = true, e.answer = std::move(*a), e.method = "phrase";
      return e;
    }
  }
  if (!problem.empty()) {  // an unbalanced box: nothing after it is trusted, nor a guess from the rest
    e.problem = problem;
    return e;
  }
  if (options.math_span) {
    if (auto a = last_math_span(response)) {
      e.found = true, e.answer = std::move(*a), e.method = "math";
      return e;
    }
  }
  if (options.short_response) {
    const std::string_view t = trim(response);
    if (!t.empty() && t.size() <= 100 && t.find('\n') == std::string_view::npos) {
      std::optional<std::string> a;
      const int words = count_words(t);
      // An answer starts with its value ("28 percent", "$1,000", "\\frac13", "(1, 2)"), or is one or two words
      // ("Evelyn", "No solution").
      const bool answer_like = words <= 2 || std::string_view("0123456789-+.$\\([{").find(t[0]) != std::string_view::npos;
      if (words <= 3 && answer_like && t.find(": ") == std::string_view::npos) a = std::string(t);
      else a = last_free_number(t);
      if (a && !a->empty()) {
        e.found = true, e.answer = std::move(*a), e.method = "short";
        return e;
      }
    }
  }
  if (options.last_number) {
    if (auto a = last_number(response)) {
      e.found = true, e.answer = std::move(*a), e.method = "last_number";
      return e;
    }
  }
  e.problem = problem.empty() ? "no final answer found" : problem;
  return e;
}

std::string normalize(std::string_view answer) {
  // Answers are short; text this long is not an answer and is returned trimmed, not rewritten.
  if (answer.size() > (1u << 16)) return std::string(trim(answer));
  return normalize_impl(answer);
}

namespace {

// "x=", "a_1=", "x\in": a left-hand side that is one variable (not a function or a tuple).
bool single_variable_lhs(std::string_view lhs) {
  if (lhs.back() == '=') lhs.remove_suffix(1);
  else if (lhs.size() > 3 && lhs.substr(lhs.size() - 3) == "\\in") lhs.remove_suffix(3);
  else return false;
  if (lhs.empty() || !is_alpha(lhs[0])) return false;
  if (lhs.size() == 1) return true;
  if (lhs[1] != '_') return false;
  for (char c : lhs.substr(2))
    if (!is_alpha(c) && !is_digit(c) && c != '{' && c != '}') return false;
  return lhs.size() > 2;
}

// "(B)12", "(B)7\sqrt{2}": an answer-choice letter followed by the choice's value (a number or a command,
// not an operator: "(C)+1" is not a choice); nullopt otherwise.
std::optional<std::string_view> choice_with_value(std::string_view s) {
  if (s.size() > 3 && s[0] == '(' && is_upper(s[1]) && s[2] == ')' && (is_digit(s[3]) || s[3] == '.' || s[3] == '\\'))
    return s.substr(1, 1);
  return std::nullopt;
}

}  // namespace

Equivalence equivalent(std::string_view answer, std::string_view reference, const GradeOptions& options) {
  Equivalence r;
  if (answer.size() > options.max_answer_chars) {
    r.reason = "answer_too_long";
    return r;
  }
  if (reference.size() > options.max_answer_chars) {
    r.reason = "reference_too_long";
    return r;
  }
  std::string lhs_a, lhs_b;
  const std::string a = normalize_impl(answer, &lhs_a), b = normalize_impl(reference, &lhs_b);
  // "x = 3" against "y = 3": values of different variables differ, but "x = 2y+1" and "y = (x-1)/2" are the
  // same equation: both are compared whole. A bare value ("3") or a function's value ("f(x) = 3") is not
  // told apart this way.
  if (!lhs_a.empty() && !lhs_b.empty() && lhs_a != lhs_b && single_variable_lhs(lhs_a) && single_variable_lhs(lhs_b) &&
      !a.empty() && !b.empty()) {
    if (lhs_a.back() == '=' && lhs_b.back() == '=') return equivalent_normalized(lhs_a + a, lhs_b + b, options);
    r.reason = "mismatch";
    return r;
  }
  r = equivalent_normalized(a, b, options);
  // "2x-y+1=0" against "y = 2x+1": the equation whose variable side was dropped, whole again.
  if (lhs_a.empty() != lhs_b.empty() && !r.equal && r.reason == "mismatch") {
    const std::string& lhs = lhs_a.empty() ? lhs_b : lhs_a;
    const std::string& other = lhs_a.empty() ? a : b;
    if (lhs.back() == '=' && split_top(other, "=").size() == 2) {
      const std::string whole = lhs + (lhs_a.empty() ? b : a);
      Equivalence again = lhs_a.empty() ? equivalent_normalized(a, whole, options) : equivalent_normalized(whole, b, options);
      if (again.equal) return again;
    }
  }
  return r;
}

Equivalence equivalent_normalized(std::string_view a, std::string_view b, const GradeOptions& options) {
  Equivalence r;
  if (a.size() > options.max_answer_chars) {
    r.reason = "answer_too_long";
    return r;
  }
  if (b.size() > options.max_answer_chars) {
    r.reason = "reference_too_long";
    return r;
  }
  if (b.empty()) {
    r.reason = "empty_reference";
    return r;
  }
  if (a.empty()) {
    r.reason = "empty_answer";
    return r;
  }
  // "(B) 12" against the bare choice letter "B": the letter is the answer.
  if (b.size() == 1 && is_upper(b[0])) {
    if (auto letter = choice_with_value(a)) a = *letter;
  } else if (a.size() == 1 && is_upper(a[0])) {
    if (auto letter = choice_with_value(b)) b = *letter;
  }
  g_budget = 20000;
  r.equal = equal_normalized(a, b, options.tolerance, 0);
  if (!r.equal) r.reason = g_budget < 0 ? "too_complex" : "mismatch";
  return r;
}

std::string reference_answer(std::string_view reference, const GradeOptions& options) {
  const bool worked = reference.find("\\boxed") != std::string_view::npos || reference.find("\\fbox") != std::string_view::npos ||
                      reference.find("####") != std::string_view::npos;
  const bool multiline = reference.find('\n') != std::string_view::npos;
  if (reference.size() <= options.max_response_bytes && (worked || multiline)) {
    // A worked solution: its boxed / #### answer; a multi-line one may also end with "The answer is" / "A:".
    ExtractOptions only;
    only.answer_phrase = multiline;
    only.math_span = only.short_response = false;
    Extraction re = extract(reference, only);
    if (re.found) return std::move(re.answer);
  }
  return std::string(reference);
}

Verdict grade(std::string_view response, std::string_view reference, const GradeOptions& options, bool extract_reference) {
  Verdict v;
  if (response.size() > options.max_response_bytes) {
    v.reason = "response_too_long";
    return v;
  }
  Extraction e = extract(response, options.extract);
  if (!e.found) {
    v.reason = "no_answer";
    return v;
  }
  v.extracted = e.answer;
  if (v.extracted.size() > options.max_answer_chars) {
    // Cut at a UTF-8 character boundary, so that the annotation stays valid UTF-8.
    size_t cut = options.max_answer_chars;
    while (cut > 0 && (static_cast<unsigned char>(v.extracted[cut]) & 0xC0) == 0x80) --cut;
    v.extracted.resize(cut);
  }
  const std::string ref = extract_reference ? reference_answer(reference, options) : std::string(reference);
  const Equivalence eq = equivalent(e.answer, ref, options);
  v.correct = eq.equal;
  v.reason = eq.reason;
  return v;
}

}  // namespace tamis::grade
