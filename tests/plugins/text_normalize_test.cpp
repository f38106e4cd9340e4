// Differential tests of the fused normalisation (plugins/text/normalize.cpp): normalize() and
// normalize_append() against the step-by-step reference normalize_steps(), on random strings built from
// the cases the fast paths special-case (16-byte chunks, LaTeX spans, multi-byte UTF-8, runs of white
// space), for all 64 option combinations, and on every problem of a few real datasets.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <tamis/json.hpp>

#include "normalize.hpp"
#include "test_support.hpp"

namespace {

using namespace tamis::text;

NormalizeOptions from_mask(int m) { return NormalizeOptions::from_bits(static_cast<unsigned>(m)); }

// Reports the first few mismatches in full; returns whether all three forms agree.
bool agree(const std::string& s, const NormalizeOptions& o, size_t& failures) {
  const std::string want = normalize_steps(s, o);
  const std::string got = normalize(s, o);
  std::string appended = "Prefix  $x$ ";  // existing text is left alone and does not affect the new text
  normalize_append(s, o, appended);
  if (got == want && appended == "Prefix  $x$ " + want) return true;
  if (++failures <= 5)
    ADD_FAILURE() << "options " << o.describe() << "\ninput    [" << s << "]\nnormalize[" << got << "]\nappend   ["
                  << appended << "]\nsteps    [" << want << "]";
  return false;
}

// Pieces that exercise every branch: white space of all kinds and lengths, LaTeX commands the LaTeX step
// drops or rewrites (and near misses it keeps), ASCII capitals, punctuation and digits, 2/3/4-byte
// UTF-8 (capitals the lowercase step maps, code points the NFKC subset rewrites or leaves alone, Unicode
// spaces), and invalid bytes.
const std::vector<std::string>& pieces() {
  static const std::vector<std::string> p = {
      " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\v", "\f", " \t ", "a", "b", "Q", "Z", "x", "7", "0", ".", ",",
      "?", "!", "-", "(", ")", "{", "}", "[", "]", "^", "_", "'", "\"", "~", "\x7f", "\x01", "\x1f",
      "$", "$$", "\\,", "\\;", "\\!", "\\:", "\\(", "\\)", "\\[", "\\]", "\\left(", "\\right)", "\\left.", "\\right.",
      "\\leftarrow", "\\dfrac", "\\tfrac{a}{b}", "\\frac", "\\quad", "\\qquad ", "\\displaystyle", "\\text{",
      "\\text{Ab C}", "\\text {x$y$}", "\\textrm{Z}", "\\mbox{\\}}", "\\$", "\\\\", "\\{", "\\", "}", "\\sqrt{2}",
      "\\TEXT{Ab}", "\\Text {q$Y$}", "\\DFRAC", "\\TFrac", "\\LEFT(", "\\Right.", "\\QUAD", "\\MBOX{\\}}",
      "\\LEFTARROW", "\\DisplayStyle", "\\TEXTRM{Z}", "\\FRAC", "\\TRIANGLE",
      "\\alpha", "\\Gamma", "Hello World", "THE QUICK BROWN FOX", "jumps over the lazy dog", "x = 3y + 12",
      "abcdefghijklmnop", "ABCDEFGHIJKLMNOPQ", "Compute  the\tsum.",
      // 2-byte: Latin-1/Extended-A capitals, Greek, Cyrillic (+ supplement), micro, NBSP, NEL, superscripts
      "É", "é", "ß", "À", "Þ", "×", "÷", "Ÿ", "ÿ", "İ", "ı", "Ł", "ŉ", "ſ", "Σ", "σ", "ς", "Ά", "Ώ", "Ϙ", "Д", "д",
      "Ё", "Ѣ", "Ӏ", "Ӂ", "Ԁ", "µ", "²", "³", "¹", "«", "»", "\u00A0", "\u0085", "Привет Мир", "ΑΒΓ δεζ",
      // 3-byte: Vietnamese, Unicode spaces, ellipsis, super/subscripts, minus, CJK, fullwidth forms, ligatures
      "Ạ", "ẞ", "Ỹ", "\u1680", "\u2000", "\u2003", "\u200A", "\u200B", "\u2028", "\u2029", "\u202F", "\u205F",
      "\u3000", "…", "⁰", "ⁱ", "⁴", "⁹", "⁺", "⁾", "ⁿ", "₀", "₉", "₊", "₎", "−", "–", "中文", "，", "。", "、",
      "「", "Ａ", "Ｚ", "ａ", "ｚ", "！", "～", "＄", "＼", "｟", "ﬀ", "ﬁ", "ﬂ", "ﬃ", "ﬄ", "ﬅ", "ﬆ", "e\u0301",
      // 4-byte
      "😀", "𝑥", "𠀀"};
  return p;
}

// Invalid UTF-8: lone lead and continuation bytes, truncated sequences, overlong forms, a surrogate.
const std::vector<std::string>& invalid_pieces() {
  static const std::vector<std::string> p = {"\xff", "\xC3", "\x80", "\xBF", "\xE2\x82", "\xF0\x9F",
                                             "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"};
  return p;
}

// UTF-8 of one code point.
std::string utf8(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xE0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
  return s;
}

// Code points where the steps do something (case pairs, Unicode spaces, the NFKC subset) and their
// neighbours: every one of them is checked, and the random texts draw from them too.
const std::vector<char32_t>& special_code_points() {
  static const std::vector<char32_t> v = [] {
    std::vector<char32_t> r;
    const std::pair<char32_t, char32_t> ranges[] = {{0x80, 0x530},     {0x1670, 0x1690}, {0x1DF0, 0x1F10},
                                                    {0x1FF0, 0x2100},  {0x2200, 0x2220}, {0x2980, 0x2990},
                                                    {0x2FF0, 0x3010},  {0x4DF0, 0x4E10}, {0xFAF0, 0xFB10},
                                                    {0xFEFF, 0xFF70},  {0xFFF0, 0xFFFE}, {0x1F600, 0x1F610}};
    for (const auto& [lo, hi] : ranges)
      for (char32_t c = lo; c < hi; ++c) r.push_back(c);
    return r;
  }();
  return v;
}

TEST(text_normalize, FusedEqualsStepsOnEveryCoveredCodePoint) {
  size_t failures = 0;
  for (char32_t c : special_code_points()) {
    const std::string u = utf8(c);
    // Alone, repeated, between ASCII words and at both ends of a 16-byte window.
    const std::string texts[] = {u, u + u + " " + u, "Ab " + u + "x" + u + " Z", std::string(15, 'q') + u + "  ",
                                 "$" + u + "$ \\text{" + u + "}"};
    for (const std::string& s : texts)
      for (int m = 0; m < 64; ++m) agree(s, from_mask(m), failures);
  }
  EXPECT_EQ(failures, 0u);
}

TEST(text_normalize, FusedEqualsStepsOnRandomText) {
  std::mt19937_64 rng(20261124);
  const auto& p = pieces();
  size_t failures = 0, tried = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string s;
    const bool invalid_ok = i % 8 == 0;
    // Lengths around the 16- and 32-byte chunk sizes as well as longer texts.
    static constexpr size_t kTargets[] = {15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 100, 300};
    const size_t target = i % 3 == 0 ? kTargets[rng() % std::size(kTargets)] : rng() % 120;
    while (s.size() < target) {
      if (invalid_ok && rng() % 16 == 0) s += invalid_pieces()[rng() % invalid_pieces().size()];
      else if (rng() % 8 == 0) s += utf8(special_code_points()[rng() % special_code_points().size()]);
      else s += p[rng() % p.size()];
    }
    // Sometimes cut exactly at the target length (through a sequence: invalid UTF-8 at the end).
    if (invalid_ok && i % 16 == 0) s.resize(target);
    for (int m = 0; m < 64; ++m) {
      ++tried;
      agree(s, from_mask(m), failures);
    }
  }
  EXPECT_EQ(failures, 0u) << "of " << tried;
}

// Every split of a fixed text: each chunk boundary of the fast paths falls on every kind of byte.
TEST(text_normalize, FusedEqualsStepsAtEveryOffset) {
  const std::string body =
      "Soit  $f(x) = \\dfrac{x^2}{\\left(1+x\\right)}$\\,\\quad ÉTUDIER   Σ ΟΔΌΣ\tпри\n\nＡＢＣ ﬁn…²  中文。 "
      "\\text{Wenn } x\\in\\mathbb{R}\u00A0et\u3000y  \\displaystyle\\sum_{i=1}^{n} i!  ";
  size_t failures = 0;
  for (size_t lead = 0; lead < 40; ++lead)
    for (int m = 0; m < 64; ++m) agree(std::string(lead, lead % 3 == 0 ? ' ' : 'A') + body, from_mask(m), failures);
  EXPECT_EQ(failures, 0u);
}

// Issue 12: a copy whose LaTeX command names were upper-cased must get the key of the original when
// lowercasing is on (the LaTeX step then recognises `\TEXT{}`, `\DFRAC`, `\LEFT(` ... in any case), and
// the commands must stay case-sensitive when it is off.
TEST(text_normalize, UpperCasedLatexCommandsGiveTheSameKey) {
  const NormalizeOptions def;
  const std::string lower = "In $\\triangle ABC$, \\text{find} $\\dfrac{m}{n}$ \\left( in lowest terms \\right)\\quad "
                            "\\displaystyle \\mbox{and} \\textrm{q}, \\left. x \\right| \\tfrac12";
  const std::string upper = "IN $\\TRIANGLE ABC$, \\TEXT{FIND} $\\DFRAC{M}{N}$ \\LEFT( IN LOWEST TERMS \\RIGHT)\\QUAD "
                            "\\DISPLAYSTYLE \\MBOX{AND} \\TextRm{Q}, \\Left. X \\RIGHT| \\TFRAC12";
  const std::string want = "in \\triangle abc, find \\frac{m}{n} ( in lowest terms ) and q, x | \\frac12";
  for (const auto& s : {lower, upper}) {
    EXPECT_EQ(normalize(s, def), want) << s;
    EXPECT_EQ(normalize_steps(s, def), want) << s;
  }
  // Only the case of whole command names is folded: \LEFTARROW is not \left.
  EXPECT_EQ(normalize("\\LEFTARROW \\Rightarrow", def), "\\leftarrow \\rightarrow");
  // Without lowercasing, LaTeX is case-sensitive: \TEXT is not \text, \DFRAC not \dfrac.
  NormalizeOptions keep_case = def;
  keep_case.lowercase = false;
  EXPECT_EQ(normalize("\\TEXT{A} \\text{B} \\DFRAC12 \\Left( x", keep_case), "\\TEXT{A} B \\DFRAC12 \\Left( x");
  EXPECT_EQ(latex_normalize("\\TEXT{A} \\DFRAC"), "\\TEXT{A} \\DFRAC");
  EXPECT_EQ(latex_normalize("\\TEXT{A} \\DFRAC", true), "A \\frac");
}

// Characters a reader does not see (left by copying from web pages and PDFs) do not change the key.
TEST(text_normalize, InvisibleCharactersAreDropped) {
  const NormalizeOptions def;
  const std::string want = normalize("Find the hypotenuse of the triangle.", def);
  EXPECT_EQ(normalize("\uFEFFFind the\u200B hypo\u00ADtenuse of\u2060 the \u200Ctri\u200Dangle.", def), want);
  EXPECT_EQ(normalize("Find the \u200B hypotenuse of the triangle.\u200B", def), want);  // no double space left
  EXPECT_EQ(nfkc_subset("a\u200Bb\uFEFFc\u00ADd"), "abcd");
  NormalizeOptions no_nfkc = def;
  no_nfkc.nfkc = false;
  EXPECT_EQ(normalize("a\u200Bb", no_nfkc), "a\u200Bb");  // part of the nfkc step, as documented
}

// The same on every problem of MATH-500 (skipped without ../shared/data): the problem with its command
// names upper-cased, and the whole problem in ASCII capitals, have the key of the problem itself.
TEST(text_normalize, UpperCasedCopiesOfRealProblemsGiveTheSameKey) {
  const auto path = tamis::test::shared_data("math/math500_test.jsonl");
  if (path.empty() || !std::filesystem::exists(path)) GTEST_SKIP() << "no ../shared/data/math/math500_test.jsonl";
  std::ifstream in(path);
  const NormalizeOptions def;
  size_t problems = 0, changed = 0, missed = 0;
  for (std::string line; std::getline(in, line);) {
    auto raw = tamis::json::member_value(line, "problem");
    if (!raw || raw->empty() || raw->front() != '"') continue;
    const std::string p = tamis::json::unescape(*raw);
    std::string commands = p, all = p;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] >= 'a' && p[i] <= 'z') all[i] = static_cast<char>(p[i] - 0x20);
      if (p[i] == '\\')
        for (size_t k = i + 1; k < p.size() && p[k] >= 'a' && p[k] <= 'z'; ++k) commands[k] = static_cast<char>(p[k] - 0x20);
    }
    ++problems;
    changed += commands != p;
    const std::string key = normalize(p, def);
    for (const std::string& copy : {commands, all})
      if (normalize(copy, def) != key && ++missed <= 3) ADD_FAILURE() << "original [" << p << "]\ncopy [" << copy << "]";
  }
  EXPECT_EQ(problems, 500u);
  EXPECT_GT(changed, 200u);  // half of them hold a command (252)
  EXPECT_EQ(missed, 0u);
}

// The string field `key` of each line of a JSONL file.
std::vector<std::string> field_values(const std::filesystem::path& file, std::string_view key) {
  std::vector<std::string> v;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (auto raw = tamis::json::member_value(line, key); raw && !raw->empty() && raw->front() == '"')
      v.push_back(tamis::json::unescape(*raw));
  return v;
}

TEST(text_normalize, FusedEqualsStepsOnSharedData) {
  if (tamis::test::shared_data("").empty()) GTEST_SKIP() << "no ../shared/data";
  struct Source { const char* file; const char* key; };
  const Source sources[] = {
      {"math/math_test.jsonl", "problem"},           {"math/math500_test.jsonl", "solution"},
      {"gsm8k/test.jsonl", "question"},              {"aime/aime24.jsonl", "solution"},
      {"qwen25math_eval/cmath_test.jsonl", "question"}, {"qwen25math_eval/gaokao2023en_test.jsonl", "question"},
      {"qwen25math_eval/cn_middle_school_test.jsonl", "question"},
      {"qwen25math_eval/gaokao_math_qa_test.jsonl", "question"},
      {"qwen25math_eval/olympiadbench_test.jsonl", "question"}};
  NormalizeOptions none = from_mask(0), all = from_mask(63), defaults;
  NormalizeOptions no_latex_punct = defaults;
  no_latex_punct.latex = false;
  no_latex_punct.punctuation = true;
  size_t texts = 0, failures = 0;
  for (const auto& src : sources) {
    const auto path = tamis::test::shared_data(src.file);
    if (path.empty() || !std::filesystem::exists(path)) continue;
    const auto values = field_values(path, src.key);
    EXPECT_FALSE(values.empty()) << path;
    for (const std::string& s : values) {
      ++texts;
      for (const NormalizeOptions& o : {defaults, none, all, no_latex_punct}) agree(s, o, failures);
    }
  }
  EXPECT_GT(texts, 5000u);
  EXPECT_EQ(failures, 0u) << "of " << texts << " texts";
}

}  // namespace
