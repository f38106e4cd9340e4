#include "fidelity.hpp"

#include <algorithm>
#include <array>
#include <unordered_set>

#include "normalize.hpp"

namespace tamis::translate {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }
bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

constexpr std::array<std::string_view, 8> kMathEnvs = {"equation", "align",       "gather", "multline",
                                                       "eqnarray", "displaymath", "math",   "alignat"};
// Commands whose argument is prose: translating it is faithful, so it does not count in the key.
constexpr std::array<std::string_view, 8> kTextCommands = {"text",   "textrm", "textit", "textbf",
                                                           "textsf", "texttt", "mbox",   "textnormal"};

bool math_env(std::string_view name) {
  if (!name.empty() && name.back() == '*') name.remove_suffix(1);
  return std::find(kMathEnvs.begin(), kMathEnvs.end(), name) != kMathEnvs.end();
}

// Index of the next `delim` at or after `from` that is not escaped by a backslash, or npos.
size_t find_unescaped(std::string_view s, size_t from, std::string_view delim) {
  for (size_t i = from; i + delim.size() <= s.size(); ++i) {
    if (s[i] == '\\' && delim[0] != '\\') {
      ++i;  // skip the escaped character
      continue;
    }
    if (s.compare(i, delim.size(), delim) == 0) return i;
    if (s[i] == '\\') ++i;  // "\\" inside a span does not start the closing "\)" twice
  }
  return std::string_view::npos;
}

// The closing $ of an inline span opened at `open` (pandoc's rule), or npos. `exhausted` is set when
// the search ran to the end of the text without a closing $.
size_t find_inline_close(std::string_view s, size_t open, bool& exhausted) {
  if (open + 1 >= s.size() || space(s[open + 1])) return std::string_view::npos;
  for (size_t i = open + 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] != '$') continue;
    if (space(s[i - 1])) continue;
    if (i + 1 < s.size() && digit(s[i + 1])) continue;
    return i;
  }
  exhausted = true;
  return std::string_view::npos;
}

// The comparison key of a span's content: no whitespace, \text{...}-like arguments emptied.
std::string span_key(std::string_view c) {
  std::string out;
  out.reserve(c.size());
  for (size_t i = 0; i < c.size();) {
    if (c[i] == '\\' && i + 1 < c.size() && letter(c[i + 1])) {
      size_t j = i + 1;
      while (j < c.size() && letter(c[j])) ++j;
      const std::string_view name = c.substr(i + 1, j - i - 1);
      out.append(c.substr(i, j - i));
      i = j;
      if (std::find(kTextCommands.begin(), kTextCommands.end(), name) == kTextCommands.end()) continue;
      while (i < c.size() && space(c[i])) ++i;
      if (i >= c.size() || c[i] != '{') continue;
      int depth = 0;
      for (; i < c.size(); ++i) {
        if (c[i] == '\\') { ++i; continue; }
        if (c[i] == '{') ++depth;
        else if (c[i] == '}' && --depth == 0) { ++i; break; }
      }
      out += "{}";
      continue;
    }
    if (c[i] == '\\' && i + 1 < c.size()) {  // a control symbol (\{, \\, \,) is kept whole
      if (!space(c[i + 1])) out.append(c.substr(i, 2));
      i += 2;
      continue;
    }
    if (!space(c[i])) out.push_back(c[i]);
    ++i;
  }
  return out;
}

}  // namespace

std::vector<std::string> numbers(std::string_view text) {
  const std::string t = text::nfkc_subset(text);
  std::vector<std::string> out;
  for (size_t i = 0; i < t.size();) {
    if (!digit(t[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (true) {
      while (j < t.size() && digit(t[j])) ++j;
      if (j + 1 < t.size() && t[j] == '.' && digit(t[j + 1])) {
        ++j;
        continue;
      }
      break;
    }
    out.emplace_back(t.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<MathSpan> math_spans(std::string_view s) {
  std::vector<MathSpan> out;
  auto add = [&](size_t begin, size_t content_begin, size_t content_end, size_t end) {
    std::string key = span_key(s.substr(content_begin, content_end - content_begin));
    if (!key.empty()) out.push_back({std::string(s.substr(begin, end - begin)), std::move(key)});
  };
  // Once a search for a closing $ has run to the end of the text in vain, every later one would too
  // (it scans a suffix of the same positions, skipping the same escapes): a text full of prices
  // ("$5, $7, ...") is scanned once, not once per $.
  // Likewise for \) and \] ("\(" written many times unclosed).
  bool no_inline_close = false, no_paren_close = false, no_bracket_close = false;
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      const char n = s[i + 1];
      if (n == '(' || n == '[') {
        bool& none = n == '(' ? no_paren_close : no_bracket_close;
        const size_t close = none ? std::string_view::npos : find_unescaped(s, i + 2, n == '(' ? "\\)" : "\\]");
        none = close == std::string_view::npos;
        if (close != std::string_view::npos) {
          add(i, i + 2, close, close + 2);
          i = close + 2;
          continue;
        }
      } else if (s.compare(i, 7, "\\begin{") == 0) {
        const size_t name_end = s.find('}', i + 7);
        if (name_end != std::string_view::npos) {
          const std::string_view name = s.substr(i + 7, name_end - i - 7);
          if (math_env(name)) {
            const std::string end_tag = "\\end{" + std::string(name) + "}";
            const size_t close = s.find(end_tag, name_end + 1);
            if (close != std::string_view::npos) {
              // The key keeps the environment's name: align* and gather are different layouts.
              std::string key = std::string(name) + ":" + span_key(s.substr(name_end + 1, close - name_end - 1));
              out.push_back({std::string(s.substr(i, close + end_tag.size() - i)), std::move(key)});
              i = close + end_tag.size();
              continue;
            }
          }
        }
      }
      i += 2;  // an escaped character (\$, \\) or a command
      continue;
    }
    if (c == '$') {
      if (i + 1 < s.size() && s[i + 1] == '$') {
        const size_t close = find_unescaped(s, i + 2, "$$");
        if (close != std::string_view::npos) {
          add(i, i + 2, close, close + 2);
          i = close + 2;
          continue;
        }
        i += 2;
        continue;
      }
      const size_t close = no_inline_close ? std::string_view::npos : find_inline_close(s, i, no_inline_close);
      if (close != std::string_view::npos) {
        add(i, i + 1, close, close + 1);
        i = close + 1;
        continue;
      }
    }
    ++i;
  }
  return out;
}

std::vector<std::string> missing_numbers(std::string_view original, std::string_view translation) {
  const std::vector<std::string> have = numbers(translation);
  const std::unordered_set<std::string> in_translation(have.begin(), have.end());
  std::unordered_set<std::string> seen;
  std::vector<std::string> out;
  for (auto& n : numbers(original))
    if (!in_translation.count(n) && seen.insert(n).second) out.push_back(std::move(n));
  return out;
}

std::vector<std::string> missing_math(std::string_view original, std::string_view translation) {
  std::unordered_set<std::string> in_translation;
  for (auto& m : math_spans(translation)) in_translation.insert(std::move(m.key));
  std::unordered_set<std::string> seen;
  std::vector<std::string> out;
  for (auto& m : math_spans(original))
    if (!in_translation.count(m.key) && seen.insert(m.key).second) out.push_back(std::move(m.raw));
  return out;
}

size_t code_points(std::string_view text) {
  size_t n = 0;
  for (const unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace tamis::translate
