// Tests of the `grade` plugin family: the answer library (plugins/grade/answer.hpp) directly, the GSM8K
// agreement with stored labels, and the ops grade.answer and grade.verifiable through harness.hpp.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <simdjson.h>

#include "answer.hpp"
#include "harness.hpp"
#include "symbolic.hpp"

namespace {

using namespace tamis::grade;
using tamis::grade::Verdict;
using namespace tamis::test;
using Strings = std::vector<std::string>;

// ============================================================================================
// Equivalence: a table of MATH-style answer pairs (answer, reference, expected verdict)
// ============================================================================================

struct Pair {
  const char* answer;
  const char* reference;
  bool equal;
};

const Pair kPairs[] = {
    // fractions
    {"\\frac{1}{2}", "0.5", true},
    {"\\dfrac{1}{2}", "\\frac12", true},
    {"\\tfrac{3}{4}", "0.75", true},
    {"1/2", "\\frac{1}{2}", true},
    {"4/8", "\\frac12", true},
    {"\\frac{9}{3}", "3", true},
    {"\\dfrac{5}{12}", "5/12", true},
    {"-\\frac{1}{2}", "\\frac{-1}{2}", true},
    {"\\frac{-1}{2}", "-0.5", true},
    {"\\frac{1}{3}+\\frac{1}{6}", "\\frac12", true},
    {"\\displaystyle\\frac{2}{3}", "\\frac{2}{3}", true},
    {"0.1", "\\frac{1}{10}", true},
    {"2^{-1}", "0.5", true},
    {"\\frac{1}{3}", "0.333", false},
    {"0.33", "\\frac{1}{3}", false},
    {"\\frac{1}{2}", "\\frac{1}{4}", false},
    {"-\\frac{1}{2}", "\\frac{1}{2}", false},
    {"0.1", "0.10001", false},
    {"1.0000001", "1", false},
    {"\\frac{2}{4}", "\\frac{1}{2}", true},
    // integers and decimals
    {"2", "2.0", true},
    {"2.00", "2", true},
    {".5", "0.5", true},
    {"1.000", "1", true},
    {"7.", "7", true},
    {"-5", "- 5", true},
    {"0.000001", "10^{-6}", true},
    {"1e5", "100000", true},
    {"2.5e-3", "0.0025", true},
    {"1.5\\times10^{3}", "1500", true},
    {"2", "3", false},
    {"-5", "5", false},
    {"10000", "1000", false},
    {"1e5", "10000", false},
    {"14", "41", false},
    {"0012", "12", true},
    // thousands separators
    {"10{,}000", "10000", true},
    {"10,000", "10000", true},
    {"1,234,567", "1234567", true},
    {"1{,}000{,}000", "10^6", true},
    {"1\\,000\\,000", "1000000", true},
    {"5\\,000", "5000", true},
    {"1,000", "1", false},
    {"1,000", "1000", true},
    // currency, percent, degrees
    {"\\$10.50", "10.5", true},
    {"\\$1,000", "1000", true},
    {"\\$ 5", "5", true},
    {"\\$3.50", "3.5", true},
    {"$7$", "7", true},
    {"\\(7\\)", "7", true},
    {"50\\%", "50", true},
    {"12\\%", "12", true},
    {"100\\%", "1", false},
    {"50", "0.5", false},
    {"30^\\circ", "30", true},
    {"30^{\\circ}", "30", true},
    {"180^\\circ", "180", true},
    {"90", "90^\\circ", true},
    {"45^\\circ", "135^\\circ", false},
    // units and text
    {"5\\text{ cm}", "5", true},
    {"5 \\text{ cm}^2", "5", true},
    {"9\\text{ inches}", "9", true},
    {"25\\text{ square units}", "25", true},
    {"5\\mbox{ meters}", "5", true},
    {"1000 dollars", "1000", true},
    {"5", "6 \\text{ cm}", false},
    {"\\text{Evelyn}", "Evelyn", true},
    {"\\text{Evelyn}", "Emily", false},
    {"\\text{yes}", "Yes", true},
    {"\\text{even}", "even", true},
    {"yes", "no", false},
    {"\\text{(C)}", "C", true},
    {"(C)", "C", true},
    {"\\textbf{(C)}", "C", true},
    {"A", "B", false},
    {"A", "a", false},
    // equations with a variable on the left
    {"x = 5", "5", true},
    {"y=-3", "-3", true},
    {"x = \\frac{3}{4}", "0.75", true},
    {"k=7", "7", true},
    {"a_1 = 3", "3", true},
    {"y = 2x + 1", "2x+1", true},
    {"x=5", "x=6", false},
    {"x\\in[2,3]", "[2,3]", true},
    // square roots
    {"\\sqrt2", "\\sqrt{2}", true},
    {"2\\sqrt3", "2\\sqrt{3}", true},
    {"\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}", true},
    {"\\sqrt{8}", "2\\sqrt{2}", true},
    {"4\\sqrt{2}", "\\sqrt{32}", true},
    {"\\frac{1}{\\sqrt{2}}", "\\frac{\\sqrt{2}}{2}", true},
    {"\\sqrt{2}/2", "\\frac{\\sqrt{2}}{2}", true},
    {"\\sqrt[3]{27}", "3", true},
    {"\\sqrt{4}", "2", true},
    {"\\sqrt{\\frac{9}{4}}", "1.5", true},
    {"2+\\sqrt{3}", "\\sqrt{3}+2", true},
    {"\\frac{2+\\sqrt{3}}{4}", "\\frac{1}{2}+\\frac{\\sqrt{3}}{4}", true},
    {"\\sqrt{2}", "2", false},
    {"\\sqrt{8}", "2\\sqrt{3}", false},
    {"7", "7\\sqrt{2}", false},
    {"\\sqrt{3}", "3", false},
    // pi and e
    {"2\\pi", "2 \\pi", true},
    {"\\pi/2", "\\frac{\\pi}{2}", true},
    {"6.2831853", "2\\pi", true},
    {"\\frac{3}{2}\\pi", "\\frac{3\\pi}{2}", true},
    {"\\frac{\\pi}{3}", "1.0471975512", true},
    {"3.14159265", "\\pi", true},
    {"2\\pi", "6.28", false},
    {"\\pi", "3.14", false},
    {"e^2", "e^{2}", true},
    {"e^2", "7.389056099", true},
    // powers and products
    {"2^{10}", "1024", true},
    {"10^3", "1000", true},
    {"3 \\cdot 4", "12", true},
    {"3\\times 4", "12", true},
    {"(-2)^3", "-8", true},
    {"2^{10}", "1000", false},
    {"12\\div 4", "3", true},
    // mixed numbers
    {"3\\frac{1}{2}", "\\frac{7}{2}", true},
    {"3 1/2", "3.5", true},
    {"1\\frac{1}{4}", "1.25", true},
    {"-2\\frac{1}{3}", "-\\frac{7}{3}", true},
    {"\\frac{100}{3}", "33\\frac{1}{3}", true},
    {"3.5", "3\\frac{1}{3}", false},
    {"3 1/2", "3.25", false},
    {"1\\frac{1}{2}", "\\frac{1}{2}", false},
    {"x = 3\\frac18", "3\\frac18", true},  // the variable goes first, then the mixed number is read
    {"x = 12\\frac{3}{5}", "\\frac{63}{5}", true},
    {"y = 2\\frac{1}{2}", "2.25", false},
    // boxed and delimiters around the whole answer
    {"\\boxed{7}", "7", true},
    {"\\boxed{\\frac{1}{2}}", "0.5", true},
    {"\\left( 1, 2 \\right)", "(1,2)", true},
    // tuples (ordered)
    {"(1, 2)", "(1,2)", true},
    {"(3, -4)", "\\left(3,-4\\right)", true},
    {"(1,2,3)", "(1, 2, 3)", true},
    {"(\\frac{1}{2}, 3)", "(0.5, 3)", true},
    {"(2,3)", "2,3", false},  // a bare list is a list of solutions, not a point
    {"[-2,2]", "-2, 2", false},
    {"(0,1]", "0,1", false},
    {"(1,2)", "(2,1)", false},
    {"(1,2,3)", "(1,2)", false},
    {"(1, \\sqrt{2})", "(1, 1.41421356237)", true},
    // intervals
    {"(-\\infty, 2)", "(-\\infty,2)", true},
    {"[1, 5)", "[1,5)", true},
    {"\\left[ 0, 1 \\right]", "[0,1]", true},
    {"[-2, \\infty)", "[-2,\\infty)", true},
    {"(0, 1]", "(0,1]", true},
    {"(-\\infty, -1) \\cup (1, \\infty)", "(1,\\infty)\\cup(-\\infty,-1)", true},
    {"[\\frac{1}{2}, 3)", "[0.5, 3)", true},
    {"[1,2]", "(1,2)", false},
    {"(1, 5)", "[1,5)", false},
    {"(-\\infty, 2)", "(-\\infty, 2]", false},
    {"(1,2)\\cup(3,4)", "(1,2)\\cup(3,5)", false},
    {"\\infty", "-\\infty", false},
    {"\\infty", "\\infty", true},
    // sets (order-insensitive) and lists of solutions
    {"\\{1, 2, 3\\}", "\\{3, 2, 1\\}", true},
    {"1, 2, 3", "3, 1, 2", true},
    {"\\{-1, 1\\}", "\\{1,-1\\}", true},
    {"-1, 1", "\\{1,-1\\}", true},
    {"\\left\\{ 1, 2 \\right\\}", "\\{2,1\\}", true},
    {"\\frac{1}{2}, -3", "-3, 0.5", true},
    {"\\emptyset", "\\varnothing", true},
    {"\\{1,2\\}", "\\{1,2,3\\}", false},
    {"1, 2", "1, 2, 3", false},
    {"\\{1,2\\}", "(1,2)", false},
    {"1,2", "12", false},
    {"1, 1, 2", "1, 2, 2", false},
    // expressions (compared at sample points)
    {"2x+2", "2(x+1)", true},
    {"x^2-1", "(x-1)(x+1)", true},
    {"\\frac{x}{2}", "0.5x", true},
    {"a+b", "b+a", true},
    {"\\frac{1}{2}x^2", "\\frac{x^2}{2}", true},
    {"n(n+1)/2", "\\frac{n^2+n}{2}", true},
    {"x+1", "x-1", false},
    {"x^2", "2x", false},
    {"x+y", "x+z", false},
    {"2x", "2y", false},
    // plus-minus, matrices, subscripts, word lists
    {"1\\pm\\sqrt{2}", "1+\\sqrt{2}, 1-\\sqrt{2}", true},
    {"1-\\sqrt{2}, 1+\\sqrt{2}", "1 \\pm \\sqrt2", true},
    {"\\pm 3", "3, -3", true},
    {"1\\pm\\sqrt{2}", "1+\\sqrt{2}", false},
    {"\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\-2\\end{pmatrix}", true},
    {"\\begin{pmatrix} \\frac{1}{2} \\\\ 3 \\end{pmatrix}", "\\begin{pmatrix} 0.5 \\\\ 3 \\end{pmatrix}", true},
    {"\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}", true},
    {"\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}", false},
    {"1011_{2}", "1011_2", true},
    {"x^{2}+1", "x^2+1", true},
    {"2 \\text{ and } 3", "2, 3", true},
    {"x=1, x=2", "1, 2", true},
    {"x = -3 \\text{ or } x = 3", "3, -3", true},
    // functions, factorials, binomials
    {"\\log_2 8", "3", true},
    {"\\ln(e^2)", "2", true},
    {"\\sin(\\pi/6)", "\\frac12", true},
    {"\\cos 0", "1", true},
    {"5!", "120", true},
    {"\\binom{5}{2}", "10", true},
    {"\\frac{10!}{8!}", "90", true},
    {"\\binom{6}{3}", "15", false},
    // equations with the same solutions
    {"x+y=1", "1-x=y", true},
    {"2x+2y=2", "x+y=1", true},
    {"x+y=1", "x-y=1", false},
    // Unicode symbols
    {"\u2212" "5", "-5", true},
    {"3\u00d74", "12", true},
    {"2\u03c0", "2\\pi", true},
    {"\u221a2", "\\sqrt{2}", true},
    {"+\\infty", "\\infty", true},
    {"\\cfrac{1}{2}", "0.5", true},
    {"5\\mathrm{~cm}", "5", true},
    {"3.3 \\times 10^{12} \\mathrm{~m}", "3.3e12", true},
    {"\\mathrm{e}^{2}", "e^2", true},
    {"3+4i", "4i+3", true},
    {"3+4i", "3-4i", false},
    // degenerate
    {"12", "", false},
    {"", "12", false},
    {"1/0", "1", false},
};

TEST(plugins_grade_answer, TableOfLatexPairs) {
  size_t agree = 0;
  std::string failures;
  for (const auto& p : kPairs) {
    const Equivalence e = equivalent(p.answer, p.reference);
    if (e.equal == p.equal) ++agree;
    else failures += std::string("  ") + p.answer + " vs " + p.reference + ": expected " + (p.equal ? "equal" : "different") +
                     " (normalised '" + normalize(p.answer) + "' / '" + normalize(p.reference) + "')\n";
    // Symmetric: the verdict does not depend on which side is the reference.
    EXPECT_EQ(equivalent(p.reference, p.answer).equal, e.equal) << p.answer << " vs " << p.reference;
  }
  const size_t n = std::size(kPairs);
  std::printf("LaTeX table agreement: %zu/%zu = %.2f%%\n", agree, n, 100.0 * static_cast<double>(agree) / static_cast<double>(n));
  EXPECT_GE(n, 150u);
  EXPECT_EQ(agree, n) << failures;
}

// The table of hard pairs in tests/plugins/grade/answer_pairs.tsv (its header says how it is read):
// whole responses through grade() and answers through equivalent() both ways. Requires 100%.
TEST(plugins_grade_answer, TableOfHardPairs) {
  const std::filesystem::path path = std::filesystem::path(TAMIS_SOURCE_DIR) / "tests" / "plugins" / "grade" / "answer_pairs.tsv";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  auto unescape = [](std::string s) {
    for (size_t at; (at = s.find("<NL>")) != std::string::npos;) s.replace(at, 4, "\n");
    return s;
  };
  size_t n = 0, agree = 0, equal_cases = 0;
  std::string failures, line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    for (size_t start = 0;;) {
      const size_t tab = line.find('\t', start);
      cols.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    ASSERT_GE(cols.size(), 4u) << line;
    ASSERT_TRUE(cols[0] == "g" || cols[0] == "e") << line;
    ASSERT_TRUE(cols[3] == "1" || cols[3] == "0") << line;
    const std::string a = unescape(cols[1]), b = unescape(cols[2]);
    const bool expected = cols[3] == "1";
    bool got;
    std::string seen;
    if (cols[0] == "g") {
      const Verdict v = grade(a, b);
      got = v.correct;
      seen = "extracted '" + v.extracted + "' (" + v.reason + ")";
    } else {
      const Equivalence e = equivalent(a, b);
      got = e.equal && equivalent(b, a).equal;
      if (!expected) got = e.equal || equivalent(b, a).equal;
    }
    ++n;
    equal_cases += expected;
    if (got == expected) ++agree;
    else failures += "  " + cols[0] + " '" + a + "' vs '" + b + "': expected " + (expected ? "equal" : "different") + ", " + seen +
                     " normalised '" + normalize(a) + "' / '" + normalize(b) + "'\n";
  }
  std::printf("hard pairs table agreement: %zu/%zu = %.2f%% (%zu equivalent, %zu not)\n", agree, n,
              100.0 * static_cast<double>(agree) / static_cast<double>(n), equal_cases, n - equal_cases);
  EXPECT_GE(n, 250u);
  EXPECT_GE(n - equal_cases, 70u);  // false positives matter as much as misses
  EXPECT_EQ(agree, n) << failures;
}

// Expressions in variables. `cas` marks pairs that only GiNaC gets right (sampling at fixed points in
// doubles calls them equal); without GiNaC in the build they are skipped, the others must hold either way.
struct SymbolicPair {
  const char* answer;
  const char* reference;
  bool equal;
  bool cas;
};
const SymbolicPair kSymbolicPairs[] = {
    // factored vs expanded polynomials
    {"(x+1)^2", "x^2+2x+1", true, false},
    {"(x+y)^3", "x^3+3x^2y+3xy^2+y^3", true, false},
    {"(a+b)(a-b)", "a^2-b^2", true, false},
    {"2x(x-3)", "2x^2-6x", true, false},
    {"(x-1)(x-2)(x-3)", "x^3-6x^2+11x-6", true, false},
    {"(x+1)^2", "x^2+1", false, false},
    {"(x-1)(x+2)", "x^2+x+2", false, false},
    // rational functions
    {"\\frac{x^2-1}{x-1}", "x+1", true, false},
    {"\\frac{2x}{4}", "\\frac{x}{2}", true, false},
    {"\\frac{1}{x}+\\frac{1}{y}", "\\frac{x+y}{xy}", true, false},
    {"\\frac{x+1}{x-1}", "\\frac{x-1}{x+1}", false, false},
    // exact coefficients: a decimal is exact, so these differ although they agree to 1e-6 at any point
    {"0.3333333x", "\\frac{x}{3}", false, true},
    {"x^2+0.000000001x", "x^2", false, true},
    {"\\frac{1000001x}{1000000}", "x", false, true},
    {"0.5x+0.25", "\\frac{2x+1}{4}", true, false},
    // radicals
    {"\\sqrt{8}x", "2\\sqrt{2}x", true, false},
    {"\\frac{x}{\\sqrt{2}}", "\\frac{\\sqrt{2}x}{2}", true, false},
    {"\\sqrt{12}a+\\sqrt{3}a", "3\\sqrt{3}a", true, false},
    {"x\\sqrt{2}", "x\\sqrt{3}", false, false},
    // trigonometry: GiNaC does not apply identities; sampling decides
    {"\\sin(2x)", "2\\sin(x)\\cos(x)", true, false},
    {"\\tan(x)", "\\frac{\\sin(x)}{\\cos(x)}", true, false},
    {"\\sin(x)", "\\cos(x)", false, false},
    // constants
    {"\\pi r^2", "r^2\\pi", true, false},  // the space after \pi is a product, not part of a command "\pir"
    {"2\\pi r", "2r\\pi", true, false},
    {"2\\pi r", "\\pi d", false, false},
    {"e^{x}", "\\exp(x)", true, false},
};

TEST(plugins_grade_answer, SymbolicExpressions) {
  size_t agree = 0, run = 0;
  std::string failures;
  for (const auto& p : kSymbolicPairs) {
    if (p.cas && !detail::symbolic_built()) continue;
    ++run;
    const Equivalence e = equivalent(p.answer, p.reference);
    if (e.equal == p.equal) ++agree;
    else failures += std::string("  ") + p.answer + " vs " + p.reference + ": expected " + (p.equal ? "equal" : "different") + "\n";
    EXPECT_EQ(equivalent(p.reference, p.answer).equal, e.equal) << p.answer << " vs " << p.reference;
  }
  std::printf("Symbolic table agreement (%s): %zu/%zu\n", detail::symbolic_built() ? "with GiNaC" : "without GiNaC", agree, run);
  EXPECT_EQ(agree, run) << failures;
}

TEST(plugins_grade_answer, SymbolicCheckIsBoundedAndExact) {
  using detail::Symbolic;
  if (!detail::symbolic_built()) {
    EXPECT_EQ(detail::symbolic_compare("(x+1)^2", "x^2+2x+1"), Symbolic::unknown);
    GTEST_SKIP() << "built without GiNaC";
  }
  EXPECT_EQ(detail::symbolic_compare("(x+1)^2", "x^2+2x+1"), Symbolic::equal);
  EXPECT_EQ(detail::symbolic_compare("(x+1)^2", "x^2+1"), Symbolic::different);
  // Non-rational and not shown equal: left to sampling.
  EXPECT_EQ(detail::symbolic_compare("\\sin(2x)", "2\\sin(x)\\cos(x)"), Symbolic::unknown);
  // Numbers alone are the numeric evaluator's.
  EXPECT_EQ(detail::symbolic_compare("2", "2"), Symbolic::unknown);
  // Caps: degree, terms, variables, exponents, length, nesting. Each returns at once.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(detail::symbolic_compare("(x+1)^{40}", "(1+x)^{40}"), Symbolic::unknown);
  EXPECT_EQ(detail::symbolic_compare("(x+y+z+w)^{30}", "(w+x+y+z)^{30}"), Symbolic::unknown);
  EXPECT_EQ(detail::symbolic_compare("((x+1)^{8})^{8}", "(x+1)^{64}"), Symbolic::unknown);
  EXPECT_EQ(detail::symbolic_compare("a+b+c+d+f", "f+d+c+b+a"), Symbolic::unknown);
  EXPECT_EQ(detail::symbolic_compare("x^{99999999999}", "x"), Symbolic::unknown);
  EXPECT_EQ(detail::symbolic_compare("x^{\\frac{1}{1000}}", "x"), Symbolic::unknown);
  EXPECT_EQ(detail::symbolic_compare(std::string(400, 'x'), "x"), Symbolic::unknown);
  EXPECT_EQ(detail::symbolic_compare(std::string(100, '(') + "x" + std::string(100, ')'), "x"), Symbolic::unknown);
  EXPECT_EQ(detail::symbolic_compare("\\frac{x}{0}", "x"), Symbolic::unknown);
  EXPECT_EQ(detail::symbolic_compare("\\frac{1}{x-x}", "x"), Symbolic::unknown);
  EXPECT_EQ(detail::symbolic_compare("\\frac{1}{(x+1)^2-x^2-2x-1}", "x"), Symbolic::unknown);  // 0 only once expanded
  EXPECT_EQ(detail::symbolic_compare("(x-x)^{-1}", "x"), Symbolic::unknown);
  EXPECT_EQ(detail::symbolic_compare("1" + std::string(60, '0') + "x", "x"), Symbolic::unknown);
  // The largest allowed work: (a+b+c)^{12} against its own reordering (455 terms).
  EXPECT_EQ(detail::symbolic_compare("(a+b+c)^{12}", "(c+b+a)^{12}"), Symbolic::equal);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 2.0);
}

TEST(plugins_grade_answer, ReasonsForAnswersThatCannotBeCompared) {
  EXPECT_EQ(equivalent("1", "2").reason, "mismatch");
  EXPECT_EQ(equivalent("1", "1").reason, "");
  EXPECT_EQ(equivalent("", "1").reason, "empty_answer");
  EXPECT_EQ(equivalent("1", "  ").reason, "empty_reference");
  GradeOptions small;
  small.max_answer_chars = 10;
  EXPECT_EQ(equivalent("12345678901", "1", small).reason, "answer_too_long");
  EXPECT_EQ(equivalent("1", "12345678901", small).reason, "reference_too_long");
}

TEST(plugins_grade_answer, ToleranceAppliesToInexactNumbersOnly) {
  GradeOptions loose;
  loose.tolerance = 1e-2;
  EXPECT_TRUE(equivalent("3.14", "\\pi", loose).equal);
  EXPECT_FALSE(equivalent("3.14", "\\pi").equal);
  // Exact rationals are never compared with a tolerance.
  EXPECT_FALSE(equivalent("0.333", "\\frac{1}{3}", loose).equal);
  GradeOptions exact;
  exact.tolerance = 0;
  EXPECT_TRUE(equivalent("\\sqrt{2}", "\\sqrt2", exact).equal);
}

TEST(plugins_grade_answer, NormalisationExamples) {
  EXPECT_EQ(normalize("\\dfrac{1}{2}"), "\\frac{1}{2}");
  EXPECT_EQ(normalize("\\left( 1, 2 \\right)"), "(1,2)");
  EXPECT_EQ(normalize("10{,}000"), "10000");
  EXPECT_EQ(normalize("x = 5"), "5");
  EXPECT_EQ(normalize("\\sqrt2"), "\\sqrt{2}");
  EXPECT_EQ(normalize("\\frac12"), "\\frac{1}{2}");
  EXPECT_EQ(normalize("3\\frac{1}{2}"), "\\frac{7}{2}");
  EXPECT_EQ(normalize("5.0"), "5");
  EXPECT_EQ(normalize("30^\\circ"), "30");
  EXPECT_EQ(normalize("50\\%"), "50");
  EXPECT_EQ(normalize("\\$5"), "5");
  EXPECT_EQ(normalize("5\\text{ cm}^2"), "5");
  EXPECT_EQ(normalize("\\text{Evelyn}"), "Evelyn");
  EXPECT_EQ(normalize("\\rightarrow"), "\\rightarrow");  // \right is removed only as a command of its own
  EXPECT_EQ(normalize("\\le 3"), "\\leq3");
}

// Whole responses the way models write them, graded against references (extraction + normalisation + equivalence).
TEST(plugins_grade_answer, ModelStyleResponses) {
  const Pair cases[] = {
      {"The final answer is $\\boxed{\\dfrac{14}{3}}$", "\\frac{14}{3}", true},
      {"\\boxed{x=\\frac{1}{2}}", "\\frac12", true},
      {"\\boxed{\\text{(B)}}", "B", true},
      {"\\boxed{12\\text{ cm}^2}", "12", true},
      {"\\boxed{\\$1.50}", "1.5", true},
      {"\\boxed{50^\\circ}", "50", true},
      {"\\boxed{\\{-2, 3\\}}", "-2,3", true},
      {"\\boxed{(-\\infty, 0) \\cup (0, \\infty)}", "(-\\infty,0)\\cup(0,\\infty)", true},
      {"\\boxed{\\frac{\\sqrt{6}}{3}}", "\\frac{\\sqrt6}{3}", true},
      {"\\boxed{2 \\sqrt 2}", "2\\sqrt{2}", true},
      {"\\boxed{-\\frac{3}{2}}", "-1.5", true},
      {"\\boxed{1.5\\%}", "1.5", true},
      {"\\boxed{\\text{Sunday}}", "\\text{Sunday}", true},
      {"\\boxed{\\frac{3}{4}\\pi}", "\\frac{3\\pi}{4}", true},
      {"\\boxed{\\sqrt{3}/3}", "\\frac{\\sqrt{3}}{3}", true},
      {"\\boxed{y = -\\frac{1}{2}x + 3}", "y=-\\frac12x+3", true},
      {"\\boxed{f(x) = 2x}", "2x", true},
      {"\\boxed{0.\\overline{3}}", "\\frac13", true},
      {"\\boxed{1.\\overline{27}}", "\\frac{14}{11}", true},
      {"\\boxed{\\text{6 inches}}", "6", true},
      {"\\boxed{\\left(\\frac{1}{2}, \\frac{\\sqrt{3}}{2}\\right)}", "(\\frac12,\\frac{\\sqrt3}{2})", true},
      {"\\boxed{-1 \\pm i}", "-1+i, -1-i", true},
      {"\\boxed{5\\sqrt{2}}", "\\sqrt{50}", true},
      {"\\boxed{\\frac{5}{2}}", "\\frac{10}{4}", true},
      {"\\boxed{3^5}", "243", true},
      {"\\boxed{a = 3}", "3", true},
      {"\\boxed{10\\%}", "10\\%", true},
      {"\\boxed{\\dfrac{1}{2}}", "\\dfrac12", true},
      {"\\boxed{2 \\times 10^{-3}}", "0.002", true},
      {"\\boxed{\\frac{1}{2} \\text{ hour}}", "\\frac12", true},
      {"\\boxed{4\\text{ days}}", "4", true},
      {"\\boxed{\\text{no}}", "\\text{No}", true},
      {"\\boxed{x \\in (-2, 3)}", "(-2,3)", true},
      {"\\boxed{-2 < x < 3}", "(-2,3)", true},
      {"\\boxed{x^2+2x+1}", "(x+1)^2", true},
      {"\\boxed{\\frac{1}{x+1}}", "(x+1)^{-1}", true},
      {"\\boxed{3\\sqrt{2}}", "\\sqrt{18}", true},
      {"\\boxed{\\$18.00}", "18", true},
      {"\\boxed{18.00}", "18", true},
      {"\\boxed{1/3}", "0.\\overline{3}", true},
      {"\\boxed{11}", "11\\text{ cm}", true},
      {"\\boxed{p(x) = x^2 - 1}", "x^2-1", true},
  };
  for (const auto& c : cases) {
    const Verdict v = grade(c.answer, c.reference);
    EXPECT_EQ(v.correct, c.equal) << c.answer << " vs " << c.reference << ": extracted '" << v.extracted << "'";
  }
  EXPECT_GE(std::size(cases), 40u);
  // Inequalities read as intervals, and their mistakes.
  EXPECT_TRUE(equivalent("x \\geq 2", "[2, \\infty)").equal);
  EXPECT_TRUE(equivalent("x<3", "(-\\infty,3)").equal);
  EXPECT_TRUE(equivalent("5 > x \\geq 1", "[1,5)").equal);
  EXPECT_FALSE(equivalent("x > 2", "[2, \\infty)").equal);
  EXPECT_FALSE(equivalent("0.\\overline{3}", "0.3").equal);
}

// ============================================================================================
// Extraction
// ============================================================================================

TEST(plugins_grade_answer, Extraction) {
  struct Case {
    const char* response;
    const char* answer;  // nullptr: nothing found
    const char* method;
  };
  const Case cases[] = {
      {"so the answer is $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}", "boxed"},
      {"\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{3}}{2}", "boxed"},
      {"first \\boxed{1}, then \\boxed{2}", "2", "boxed"},
      {"\\boxed{\\boxed{3}}", "3", "boxed"},
      {"\\boxed{x = \\boxed{3}}", "3", "boxed"},
      {"$\\fbox{5}$", "5", "boxed"},
      {"$\\boxed 5$", "5", "boxed"},
      {"\\boxed{\\{1,2\\}}", "\\{1,2\\}", "boxed"},
      {"\\boxed{ 12 } The answer is 13", "12", "boxed"},
      {"Total: 3 + 4 = 7\n#### 7", "7", "gsm8k"},
      {"#### 1,234\n", "1,234", "gsm8k"},
      {"#### $5.50", "5.50", "gsm8k"},
      {"Thus, the answer is 42.", "42", "phrase"},
      {"The answer is: 7", "7", "phrase"},
      {"The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}", "phrase"},
      {"Answer: $\\frac{3}{4}$", "\\frac{3}{4}", "phrase"},
      {"She makes 9 * 2 = $18\nA: 18", "18", "phrase"},
      {"the answer is 5\nno wait, the answer is 6", "6", "phrase"},
      {"There are 3 apples and 4 pears.", "4", "short"},
      {"There are 3 apples and 4 pears.\nThat is all.", nullptr, ""},
      {"So $x = 2 + 3 = 5$, done", "5", "math"},
      {"Answer \\( 9 \\)", "9", "math"},
      {"Answer $ \n 9 \n $", nullptr, ""},
      {"$\\frac13 $", "\\frac13", "math"},
      {"125 miles", "125 miles", "short"},
      {"AB2C", "AB2C", "short"},
      {"", nullptr, ""},
      {"\\boxed{5", nullptr, ""},
      {"the answer is", nullptr, ""},
  };
  for (const auto& c : cases) {
    const Extraction e = extract(c.response);
    SCOPED_TRACE(c.response);
    EXPECT_EQ(e.found, c.answer != nullptr);
    if (c.answer) {
      EXPECT_EQ(e.answer, c.answer);
    }
    EXPECT_EQ(e.method, c.method);
  }
  EXPECT_EQ(extract("\\boxed{5").problem, "unbalanced braces after \\boxed");
  EXPECT_EQ(extract("I do not know.").problem, "no final answer found");
}

// The scans for the last phrase, the last "####" and the last box: the last occurrence of any of them,
// case-insensitive phrases, runs of '#', look-alike commands.
TEST(plugins_grade_answer, ExtractionTakesTheLastOccurrence) {
  const std::pair<const char*, const char*> cases[] = {
      {"Final Answer: 3. Then the answer is 4", "4"},
      {"The answer is 4. Final answer: 5", "5"},
      {"THE FINAL ANSWER IS 6", "6"},
      {"ANSWER: 8", "8"},
      {"the answer is 2, so the final answer is 9", "9"},
      {"the final answer is 7 and the final answ", "7 and the final answ"},
      {"the answer: 10\nA: 11", "11"},
      {"A: 12\nso the answer is 13", "13"},
      {"#####  7", "7"},
      {"#### 3\n#### 4", "4"},
      {"#### 3 ### 5", "3 ### 5"},
      {"#### 3 ## ##", "3 ## ##"},
      {"\\fbox{1} \\boxed{2} \\fbox{3}", "3"},
      {"\\boxe{1} \\boxed{4} \\fboxx", "4"},
      {"\\boxed{5} \\boxed", "5"},
      {"\\fbox 6", "6"},
  };
  for (const auto& [response, answer] : cases) {
    SCOPED_TRACE(response);
    EXPECT_EQ(extract(response).answer, answer);
  }
}

// Passes that skip work when their pattern cannot occur still rewrite what they are for.
TEST(plugins_grade_answer, NormalisationPassesThatSkipWork) {
  EXPECT_EQ(normalize("\\frac {1}{2}"), "\\frac{1}{2}");
  EXPECT_EQ(normalize("\\frac 1 2"), "\\frac{1}{2}");
  EXPECT_EQ(normalize("\\sqrt 2"), "\\sqrt{2}");
  EXPECT_EQ(normalize("\\sqrt[3]{8}"), "\\sqrt[3]{8}");
  EXPECT_EQ(normalize("\\frac\\pi2"), "\\frac\\pi2");
  EXPECT_EQ(normalize("\\sin x + \\cos^2 x"), "\\sin(x)+\\cos^2(x)");
  EXPECT_EQ(normalize("\\sinh 2x"), "\\sinh(2x)");
  EXPECT_EQ(normalize("x^{2}"), "x^2");
  EXPECT_EQ(normalize("a_{1}"), "a_1");
  EXPECT_EQ(normalize("x^{\\pi}"), "x^{\\pi}");
  EXPECT_EQ(normalize("x\\ge2"), "[2,\\infty)");
  EXPECT_EQ(normalize("2 < x"), "(2,\\infty)");
  EXPECT_EQ(normalize("x=\\frac {3}{4}"), "\\frac{3}{4}");
  EXPECT_EQ(normalize("y\\in(1,2)"), "(1,2)");
  EXPECT_EQ(normalize("0.\\overline{3}"), "\\frac{3}{9}");
  EXPECT_EQ(normalize("\\mathbf{v}"), "v");
  EXPECT_EQ(normalize("\\textbf{A}"), "A");
  EXPECT_EQ(normalize("\\alpha x"), "\\alpha*x");
  EXPECT_EQ(normalize("2 \\times y"), "2*y");
  EXPECT_EQ(normalize("x = 3\\frac18"), "\\frac{25}{8}");
  EXPECT_EQ(normalize("1011_{(2)}"), "1011_2");
}

// The forms added for the held-out table's families: their normalised text, and bounds on the new readers.
TEST(plugins_grade_answer, NumberWordsDegreesUnionsAndComplexNumbers) {
  EXPECT_EQ(normalize("\\text{Forty-two}"), "42");
  EXPECT_EQ(normalize("one thousand two hundred and three"), "1203");
  EXPECT_EQ(normalize("nineteen"), "19");
  EXPECT_EQ(normalize("twenty twenty"), "twentytwenty");  // not a number: left as words
  EXPECT_EQ(normalize("fifteen hundred"), "fifteenhundred");  // hundreds of a teen are not read
  EXPECT_EQ(normalize("\\sin 30^\\circ"), "\\sin(30*\\pi/180)");
  EXPECT_EQ(normalize("\\cos^2(45^{\\circ})"), "\\cos^2(45*\\pi/180)");
  EXPECT_EQ(normalize("\\tan x^\\circ"), "\\tan(x)");  // a variable of degrees is not rewritten
  EXPECT_EQ(normalize("x < -2 \\text{ or } x \\geq 3"), "(-\\infty,-2)\\cup[3,\\infty)");
  EXPECT_EQ(normalize("x < -2 \\text{ or } 5").find("\\cup"), std::string::npos);  // one side is no inequality: no union
  EXPECT_EQ(normalize("\\tbinom{5}{2}"), "\\binom{5}{2}");
  // Complex numbers: exact, both ways, bounded.
  EXPECT_TRUE(equivalent("(1+i)^{20}", "-1024").equal);
  EXPECT_TRUE(equivalent("\\frac{1+i}{1-i}", "i").equal);
  EXPECT_FALSE(equivalent("\\frac{1+i}{1-i}", "-i").equal);
  EXPECT_FALSE(equivalent("i^{65}", "i").equal);  // past the power bound: not read as complex
  EXPECT_FALSE(equivalent("\\frac{1}{1-1+0i}", "0").equal);  // division by zero
  EXPECT_FALSE(equivalent("x+i", "i").equal);  // another letter: not this reader's
  std::string deep = "i";
  for (int k = 0; k < 5000; ++k) deep = "(" + deep + ")";
  EXPECT_FALSE(equivalent(deep, "-i").equal);
  // The letter with its value only against a bare letter.
  EXPECT_TRUE(equivalent("\\textbf{(C) }\\frac{1}{2}", "C").equal);
  EXPECT_FALSE(equivalent("\\textbf{(C) }\\frac{1}{2}", "\\frac12").equal);
  // Two variables: equal as equations, different as values.
  EXPECT_TRUE(equivalent("u = 3v", "v = \\frac{u}{3}").equal);
  EXPECT_FALSE(equivalent("u = 3", "v = 3").equal);
  EXPECT_TRUE(equivalent("u = 3", "3").equal);
}

TEST(plugins_grade_answer, ExtractionOptions) {
  ExtractOptions last;
  last.last_number = true;
  EXPECT_EQ(extract("There are 3 apples and 4.5 pears.", last).answer, "4.5");
  EXPECT_EQ(extract("It costs -12 dollars", last).answer, "-12");
  EXPECT_EQ(extract("It costs 1,200 dollars", last).answer, "1,200");
  EXPECT_EQ(extract("It costs 1,200 dollars", last).method, "short");
  EXPECT_EQ(extract("It costs 1,200 dollars and was paid\nin cash", last).method, "last_number");
  ExtractOptions no_boxed;
  no_boxed.boxed = false;
  EXPECT_EQ(extract("\\boxed{1}\nThe answer is 2", no_boxed).answer, "2");
  ExtractOptions none{false, false, false, false, false, false};
  EXPECT_FALSE(extract("\\boxed{1} #### 2 The answer is 3", none).found);
}

TEST(plugins_grade_answer, GradeWholeResponses) {
  const Verdict v = grade("We get $x=\\frac{6}{4}$, so \\boxed{\\frac{3}{2}}.", "1.5");
  EXPECT_TRUE(v.correct);
  EXPECT_EQ(v.extracted, "\\frac{3}{2}");
  EXPECT_EQ(v.reason, "");
  // A worked reference solution is reduced to its final answer.
  EXPECT_TRUE(grade("\\boxed{18}", "She sells 9 eggs.\nShe makes 9 * 2 = $18.\n#### 18").correct);
  EXPECT_TRUE(grade("\\boxed{18}", "... so she makes $\\boxed{\\$18}$.").correct);
  EXPECT_TRUE(grade("A: 18", "Janet sells 9 eggs.\nA: 18").correct);
  EXPECT_FALSE(grade("\\boxed{18}", "... #### 18", {}, false).correct);
  EXPECT_EQ(grade("no answer here", "5").reason, "no_answer");
  EXPECT_EQ(grade("\\boxed{4}", "5").reason, "mismatch");
  GradeOptions small;
  small.max_response_bytes = 10;
  EXPECT_EQ(grade("The answer is 5 and more text", "5", small).reason, "response_too_long");
  GradeOptions short_answers;
  short_answers.max_answer_chars = 3;
  const Verdict too_long = grade("\\boxed{12345}", "12345", short_answers);
  EXPECT_EQ(too_long.reason, "answer_too_long");
  EXPECT_EQ(too_long.extracted, "123");
  // Cut at a character boundary: "éé" is 4 bytes; 3 bytes keep only the first character.
  EXPECT_EQ(grade("\\boxed{\xC3\xA9\xC3\xA9}", "1", short_answers).extracted, "\xC3\xA9");
}

// ============================================================================================
// Fuzz: random and adversarial answers neither crash nor hang
// ============================================================================================

TEST(plugins_grade_answer, FuzzRandomAndAdversarialAnswers) {
  using Clock = std::chrono::steady_clock;
  auto timed = [](const std::string& response, const std::string& reference) {
    const auto t0 = Clock::now();
    const Verdict v = grade(response, reference);
    (void)equivalent(response, reference);
    (void)normalize(response);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    EXPECT_LT(ms, 2000.0) << "slow on an input of " << response.size() << " bytes starting " << response.substr(0, 60);
    return v;
  };
  std::vector<std::pair<std::string, std::string>> adversarial = {
      {"\\boxed{" + std::string(100000, '{') + "1" + std::string(100000, '}') + "}", "1"},
      {"\\boxed{" + std::string(100000, '{'), "1"},
      {std::string(1 << 20, '7'), "7"},
      {"\\boxed{" + std::string(1 << 20, '9') + "}", "9"},
      {"\\boxed{1e999999}", "1"},
      {"\\boxed{1e-999999}", "0"},
      {"\\boxed{10^{10^{10^{10}}}}", "1"},
      {"\\boxed{2^{99999999}}", "1"},
      {"\\boxed{9^{9^{9}}}", "1"},
      {"\\boxed{(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))}", "1"},
      {"\\boxed{" + std::string(900, '(') + "}", "1"},
      {"\\boxed{" + [] { std::string s; for (int i = 0; i < 200; ++i) s += "\\frac{"; return s; }() + "}", "1"},
      {"\\boxed{" + [] { std::string s; for (int i = 0; i < 150; ++i) s += "\\sqrt{"; s += "2"; for (int i = 0; i < 150; ++i) s += "}"; return s; }() + "}", "2"},
      {"\\boxed{" + [] { std::string s = "\\{"; for (int i = 0; i < 60; ++i) s += std::to_string(i) + ","; return s + "0\\}"; }() + "}",
       [] { std::string s = "\\{"; for (int i = 60; i > 0; --i) s += std::to_string(i) + ","; return s + "0\\}"; }()},
      {"\\boxed{" + [] { std::string s; for (int i = 0; i < 8; ++i) s += "\\{1,"; s += "2"; for (int i = 0; i < 8; ++i) s += "\\}"; return s; }() + "}",
       [] { std::string s; for (int i = 0; i < 8; ++i) s += "\\{2,"; s += "1"; for (int i = 0; i < 8; ++i) s += "\\}"; return s; }()},
      {std::string(1 << 20, '\\'), "1"},
      {[] { std::string s; for (int i = 0; i < 100000; ++i) s += "\\boxed{"; return s; }(), "1"},
      {[] { std::string s; for (int i = 0; i < 100000; ++i) s += "\\boxed{1}"; return s; }(), "1"},
      {[] { std::string s; for (int i = 0; i < 50000; ++i) s += "The answer is "; return s; }(), "1"},
      {"\\boxed{" + [] { std::string s; for (int i = 0; i < 300; ++i) s += "\\text{"; return s; }() + "}", "1"},
      {"\\boxed{\\frac{1}{0}}", "1"},
      {"\\boxed{0^{-1}}", "1"},
      {"\\boxed{\\sqrt{-1}}", "1"},
      {"\\boxed{x^{x^{x^{x^{x^{x^{x}}}}}}}", "x^{x^{x^{x^{x^{x^{x}}}}}}"},
      {"\\boxed{99999999999999999999999999999999999999999999999999/3}", "33333333333333333333333333333333333333333333333333"},
      {"\\boxed{0." + std::string(500, '3') + "}", "\\frac{1}{3}"},
      {"#### " + std::string(1 << 20, '1'), "1"},
      {std::string("\\boxed{\xff\xfe\x00\x01}", 12), "1"},
  };
  for (const auto& [response, reference] : adversarial) {
    const Verdict v = timed(response, reference);
    (void)timed(reference, response);
    EXPECT_FALSE(v.correct && v.extracted.empty());
  }
  // The huge exact integer keeps its exactness (a 50-digit quotient).
  EXPECT_TRUE(grade("\\boxed{1e999999}", "1e999999").correct);  // same text: equal after normalisation
  EXPECT_FALSE(grade("\\boxed{1e999999}", "1e999998").correct);

  // Random strings over a LaTeX-ish alphabet.
  static const char* kTokens[] = {"\\boxed{", "\\fbox{", "{", "}", "(", ")", "[", "]", "\\frac", "\\sqrt", "\\left", "\\right", "\\{", "\\}",
                                  "1", "2", "0", "9", ".", ",", "-", "+", "^", "_", "x", "e", "\\pi", "\\text{", "=", "####", "The answer is ",
                                  "$", "\\%", "\\circ", " ", "\n", "A:", "\\cup", "\\infty", "/", "*", "\\cdot", "e999", "{,}"};
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<size_t> pick(0, std::size(kTokens) - 1);
  std::uniform_int_distribution<int> len(0, 60);
  const auto start = Clock::now();
  for (int i = 0; i < 20000; ++i) {
    std::string a, b;
    for (int k = len(rng); k > 0; --k) a += kTokens[pick(rng)];
    for (int k = len(rng) / 4; k > 0; --k) b += kTokens[pick(rng)];
    const Verdict v = grade(a, b);
    const Equivalence e1 = equivalent(a, b), e2 = equivalent(b, a);
    EXPECT_EQ(e1.equal, e2.equal) << a << " | " << b;
    EXPECT_EQ(v.correct, v.reason.empty());
  }
  // Random bytes.
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 5000; ++i) {
    std::string a;
    for (int k = len(rng) * 4; k > 0; --k) a.push_back(static_cast<char>(byte(rng)));
    (void)grade("\\boxed{" + a + "}", a);
    (void)grade(a, "1");
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_LT(seconds, 60.0);
}

// ============================================================================================
// Agreement with the stored labels of the GSM8K example model solutions
// ============================================================================================

std::filesystem::path shared_data() { return TAMIS_SHARED_DATA; }

TEST(plugins_grade_answer, Gsm8kAgreementWithStoredLabels) {
  const auto path = shared_data() / "gsm8k" / "example_model_solutions.jsonl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  simdjson::dom::parser parser;
  simdjson::dom::document_stream docs;
  simdjson::padded_string text = simdjson::padded_string::load(path.string()).value();
  ASSERT_EQ(parser.parse_many(text).get(docs), simdjson::SUCCESS);
  size_t total = 0, agree = 0, problems = 0;
  std::string disagreements;
  for (auto doc : docs) {
    simdjson::dom::element d;
    ASSERT_EQ(doc.get(d), simdjson::SUCCESS);
    ++problems;
    const std::string_view truth = d["ground_truth"].get_string().value();
    for (const char* model : {"6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"}) {
      simdjson::dom::element m;
      if (d[model].get(m) != simdjson::SUCCESS) continue;
      const std::string_view solution = m["solution"].get_string().value();
      const bool label = m["is_correct"].get_bool().value();
      const Verdict v = grade(solution, truth);
      ++total;
      if (v.correct == label) ++agree;
      else if (disagreements.size() < 4000)
        disagreements += "  problem " + std::to_string(problems) + " " + model + ": label " + (label ? "true" : "false") + ", extracted '" +
                         v.extracted + "' (" + v.reason + "), truth tail '" + std::string(truth.substr(truth.size() > 30 ? truth.size() - 30 : 0)) + "'\n";
    }
  }
  const double rate = 100.0 * static_cast<double>(agree) / static_cast<double>(total);
  std::printf("GSM8K agreement: %zu/%zu = %.2f%% (%zu problems)\n", agree, total, rate, problems);
  if (agree != total) std::printf("disagreements:\n%s", disagreements.c_str());
  EXPECT_EQ(total, 5276u);
  EXPECT_GE(rate, 99.5);
}

// ============================================================================================
// Op grade (through the tamis binary)
// ============================================================================================

TEST(plugins_grade_op, AnnotatesCorrectExtractedAndReason) {
  const Strings in = {
      R"({"id":"boxed","response":"so $x = \\boxed{\\dfrac{3}{2}}$.","answer":"1.5"})",
      R"({"id":"wrong","response":"The answer is 4.","answer":"5"})",
      R"({"id":"none","response":"I do not know.","answer":"5"})",
      R"({"id":"number_ref","response":"#### 1,234","answer":1234})",
      R"({"id":"worked_ref","response":"A: 18","answer":"9 * 2 = 18\n#### 18"})",
      R"({"id":"no_response","answer":"5"})",
      R"({"id":"no_reference","response":"\\boxed{5}"})",
      R"({"id":"unicode","response":"Réponse : la réponse est \\boxed{10{,}000} €","answer":"10000"})",
      R"({"id":"array_ref","response":"\\boxed{5}","answer":["5"]})",
      R"({"id":"array_refs","response":"\\boxed{2, 1}","answer":["1","2"]})",
      R"({"id":"array_wrong","response":"\\boxed{6}","answer":["5"]})",
  };
  const OpRun run = run_op("grade.answer", "", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), in.size());
  EXPECT_EQ(run.ledger.size(), in.size());
  auto ann = [&](size_t i, const char* key) { return run.annotation(run.kept[i], key); };
  EXPECT_EQ(ann(0, "correct"), "true");
  EXPECT_EQ(ann(0, "extracted"), R"("\\dfrac{3}{2}")");
  EXPECT_EQ(ann(0, "grade_reason"), std::nullopt);
  EXPECT_EQ(ann(1, "correct"), "false");
  EXPECT_EQ(ann(1, "extracted"), R"("4")");
  EXPECT_EQ(ann(1, "grade_reason"), std::nullopt);  // a plain mismatch has no reason
  EXPECT_EQ(ann(2, "correct"), "false");
  EXPECT_EQ(ann(2, "extracted"), R"("")");
  EXPECT_EQ(ann(2, "grade_reason"), R"("no_answer")");
  EXPECT_EQ(ann(3, "correct"), "true");
  EXPECT_EQ(ann(4, "correct"), "true");
  EXPECT_EQ(ann(5, "grade_reason"), R"("missing_response")");
  EXPECT_EQ(ann(6, "grade_reason"), R"("missing_reference")");
  EXPECT_EQ(ann(7, "correct"), "true");
  EXPECT_EQ(ann(8, "correct"), "true");  // an array reference, as grade.verifiable reads it
  EXPECT_EQ(ann(9, "correct"), "true");
  EXPECT_EQ(ann(10, "correct"), "false");
  EXPECT_EQ(ann(10, "grade_reason"), std::nullopt);
  EXPECT_EQ(strip_annotation(run.kept[0]), in[0]);  // the record's bytes are kept
  EXPECT_NE(run.report.find("\"correct\""), std::string::npos) << run.report;
}

TEST(plugins_grade_op, RejectIncorrectAndOptions) {
  const Strings in = {
      R"({"id":"a","out":"\\boxed{2}","ref":"2"})",
      R"({"id":"b","out":"\\boxed{3}","ref":"2"})",
      R"({"id":"c","out":"It is 2 apples","ref":"2"})",
  };
  const OpRun run = run_op(
      "grade.answer", "{response_field: out, reference_field: ref, reject_incorrect: true, extract_math: false, extract_short: false}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"a"});
  EXPECT_EQ(run.reasons(), (Strings{"incorrect", "no_answer"}));
  EXPECT_EQ(run.rejections()[0].detail, "answer '3' does not match the reference");
  // The short-response rule (on by default) and the last-number fallback find "2".
  const OpRun dflt = run_op("grade.answer", "{response_field: out, reference_field: ref, reject_incorrect: true}", jsonl(in));
  ASSERT_EQ(dflt.exit_code, 0) << dflt.describe();
  EXPECT_EQ(dflt.kept_ids(), (Strings{"a", "c"}));
  const OpRun last = run_op("grade.answer", "{response_field: out, reference_field: ref, reject_incorrect: true, extract_short: false, last_number: true}", jsonl(in));
  ASSERT_EQ(last.exit_code, 0) << last.describe();
  EXPECT_EQ(last.kept_ids(), (Strings{"a", "c"}));
  // Turning boxed extraction off (and the short-response rule, which would read "\boxed{2}" whole) leaves
  // nothing to extract from a and b.
  const OpRun no_boxed =
      run_op("grade.answer", "{response_field: out, reference_field: ref, extract_boxed: false, extract_short: false}", jsonl(in));
  ASSERT_EQ(no_boxed.exit_code, 0) << no_boxed.describe();
  EXPECT_EQ(no_boxed.annotation(no_boxed.kept[0], "grade_reason"), R"("no_answer")");
  // Tolerance from the shell.
  const std::string approx = jsonl({R"({"id":"p","response":"\\boxed{3.1416}","answer":"\\pi"})"});
  EXPECT_EQ(run_op("grade.answer", "", approx).annotation(run_op("grade.answer", "", approx).kept[0], "correct"), "false");
  OpOptions loose;
  loose.args = {"--set", "stage.tolerance=0.001"};
  const OpRun tol = run_op("grade.answer", "", approx, loose);
  ASSERT_EQ(tol.exit_code, 0) << tol.describe();
  EXPECT_EQ(tol.annotation(tol.kept[0], "correct"), "true");
  // Answer length bound.
  const OpRun small = run_op("grade.answer", "{max_answer_chars: 3}", jsonl({R"({"id":"l","response":"\\boxed{12345}","answer":"12345"})"}));
  ASSERT_EQ(small.exit_code, 0) << small.describe();
  EXPECT_EQ(small.annotation(small.kept[0], "grade_reason"), R"("answer_too_long")");
}

TEST(plugins_grade_op, BadParametersAreRefused) {
  const auto tol = validate_op("grade.answer", "{tolerance: 2}");
  EXPECT_EQ(tol.exit_code, 2);
  EXPECT_NE(tol.err.find("tolerance must be in [0, 1)"), std::string::npos) << tol.err;
  const auto none =
      validate_op("grade.answer", "{extract_boxed: false, extract_gsm8k: false, extract_phrase: false, extract_math: false, extract_short: false}");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("every extraction method is off"), std::string::npos) << none.err;
  EXPECT_EQ(validate_op("grade.answer", "{max_answer_chars: 0}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.answer", "{no_such: 1}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.answer", "{tolerance: 0.001, last_number: true}").exit_code, 0);
}

TEST(plugins_grade_op, Gsm8kSolutionsThroughTheOpMatchLabelsOnAnyThreadCount) {
  const auto path = shared_data() / "gsm8k" / "example_model_solutions.jsonl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  OpOptions one;
  one.input = path;
  one.id_field = "";
  one.threads = 1;
  const std::string with = "{response_field: 175b_verification.solution, reference_field: ground_truth}";
  const OpRun run1 = run_op("grade.answer", with, "", one);
  ASSERT_EQ(run1.exit_code, 0) << run1.describe();
  ASSERT_EQ(run1.kept.size(), 1319u);
  size_t agree = 0;
  for (const auto& line : run1.kept) {
    const auto label = json_raw(line, "175b_verification.is_correct");
    if (label && run1.annotation(line, "correct") == *label) ++agree;
  }
  EXPECT_GE(agree, 1313u);  // 99.5%
  OpOptions two = one;
  two.threads = 2;
  const OpRun run2 = run_op("grade.answer", with, "", two);
  ASSERT_EQ(run2.exit_code, 0) << run2.describe();
  EXPECT_EQ(run1.kept, run2.kept);
}

// Expression answers graded on two threads: the symbolic check (serialised inside) gives the same
// verdicts as on one thread, and every record is graded.
TEST(plugins_grade_op, ExpressionAnswersOnTwoThreads) {
  const char* const forms[][3] = {
      {"(x+1)^2", "x^2+2x+1", "true"},          {"\\frac{x^2-1}{x-1}", "x+1", "true"},
      {"(a+b)(a-b)", "a^2-b^2", "true"},         {"0.3333333x", "\\frac{x}{3}", detail::symbolic_built() ? "false" : "true"},
      {"(x+1)^2", "x^2+1", "false"},             {"\\sin(2x)", "2\\sin(x)\\cos(x)", "true"},
  };
  auto esc = [](std::string_view t) {  // JSON string escaping of the LaTeX backslashes
    std::string o;
    for (const char c : t) o += c == '\\' ? std::string("\\\\") : std::string(1, c);
    return o;
  };
  std::string escaped;
  for (int i = 0; i < 3000; ++i) {
    const auto& f = forms[i % std::size(forms)];
    escaped += R"({"id":"e)" + std::to_string(i) + R"(","response":"so \\boxed{)" + esc(f[0]) + R"(}","answer":")" + esc(f[1]) + "\"}\n";
  }
  const OpRun two = run_op("grade.answer", "{}", escaped, 2);
  ASSERT_EQ(two.exit_code, 0) << two.describe();
  ASSERT_EQ(two.kept.size(), 3000u);
  for (size_t i = 0; i < two.kept.size(); ++i)
    EXPECT_EQ(two.annotation(two.kept[i], "correct"), forms[i % std::size(forms)][2]) << two.kept[i];
  const OpRun one = run_op("grade.answer", "{}", escaped, 1);
  EXPECT_EQ(one.kept, two.kept);
}

// ============================================================================================
// Op grade.verifiable
// ============================================================================================

TEST(plugins_grade_format, EachRuleWithItsReason) {
  const Strings in = {
      R"({"id":"ok","problem":"What is $1+1$?","answer":"2"})",
      R"({"id":"proof","problem":"Prove that there are infinitely many primes.","answer":"proof"})",
      R"({"id":"show","problem":"Show that $n^2+n$ is even for every integer $n$.","answer":"n/a"})",
      R"({"id":"parts","problem":"A train leaves at 3pm.\n(a) How far does it go in 2 hours?\n(b) When does it arrive?","answer":"120"})",
      R"({"id":"roman","problem":"Let f(x)=x^2. (i) Find f(2). (ii) Find f(3).","answer":"4, 9"})",
      R"({"id":"part12","problem":"Part 1: find the area. Part 2: find the perimeter.","answer":"6"})",
      R"({"id":"mc","problem":"What is 2+2? $\\textbf{(A)}\\ 3 \\qquad \\textbf{(B)}\\ 4 \\qquad \\textbf{(C)}\\ 5$","answer":"B"})",
      R"({"id":"mc_lines","problem":"Which is prime?\nA. 4\nB. 6\nC. 7\nD. 8","answer":"C"})",
      R"({"id":"choices","problem":"Solve 2x=4. Answer Choices: 1, 2, 3","answer":"2"})",
      R"({"id":"blank","problem":"What is 3+3?","answer":"  "})",
      R"({"id":"null","problem":"What is 3+3?","answer":null})",
      R"({"id":"absent","problem":"What is 3+3?"})",
      R"({"id":"prose","problem":"Describe the set.","answer":"The set of all points that are equidistant from the two foci of the ellipse and lie on the major axis of it"})",
      R"({"id":"long","problem":"Compute it.","answer":")" + std::string(301, '1') + R"("})",
      R"({"id":"asy","problem":"Find the area.\n[asy]\ndraw((0,0)--(1,0));\n[/asy]","answer":"1"})",
      R"({"id":"see","problem":"Find x (see the figure).","answer":"1"})",
      R"({"id":"shown","problem":"The triangle shown below in the figure has legs 3 and 4. What is its hypotenuse?","answer":"5"})",
      R"({"id":"no_problem","answer":"1"})",
      R"({"id":"number","problem":"How many?","answer":12})",
      R"({"id":"array","problem":"How many?","answer":["3"]})",
      R"({"id":"empty_array","problem":"How many?","answer":[]})",
  };
  const OpRun run = run_op("grade.verifiable", "", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"ok", "number", "array"}));
  const auto v = run.rejections();
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& r : v) got.emplace_back(r.id, r.reason);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"proof", "proof"}, {"show", "proof"}, {"parts", "multi_part"}, {"roman", "multi_part"}, {"part12", "multi_part"},
      {"mc", "multiple_choice"}, {"mc_lines", "multiple_choice"}, {"choices", "multiple_choice"}, {"blank", "missing_answer"},
      {"null", "missing_answer"}, {"absent", "missing_answer"}, {"prose", "long_answer"}, {"long", "long_answer"},
      {"asy", "needs_figure"}, {"see", "needs_figure"}, {"shown", "needs_figure"}, {"no_problem", "missing_problem"},
      {"empty_array", "missing_answer"},
  };
  EXPECT_EQ(got, expected) << run.describe();
  for (const auto& r : v) {
    SCOPED_TRACE(r.id);
    EXPECT_EQ(r.stage, "stage");
    EXPECT_FALSE(r.detail.empty());
  }
  EXPECT_EQ(v[0].detail, "the problem says 'prove that' and asks no question");
  EXPECT_EQ(v[12].detail, "the reference answer has 301 characters (more than 300)");
  EXPECT_EQ(run.ledger.size(), in.size());
}

TEST(plugins_grade_format, LookAlikesAreKept) {
  const Strings in = {
      // f(a), $(a)$: not part markers
      R"({"id":"fa","problem":"If f(a) = 2 and f(b) = 3, what is f(a)+f(b)?","answer":"5"})",
      R"({"id":"math_a","problem":"Given $(a)$ x $(b) = a^2 + 2ab + b^2$, what is $(a)$ x $(b)$ when $a = 3$?","answer":"64"})",
      // conditions (i), (ii) that ask nothing
      R"({"id":"conditions","problem":"Find the least n such that (i) n is odd, and (ii) n is a square greater than 10.","answer":"25"})",
      // a proof phrase in a question
      R"({"id":"or_show","problem":"Find the smallest n, or show that no such n exists.","answer":"3"})",
      R"({"id":"census","problem":"In what year will the census show that the number is below 10%?","answer":"2004"})",
      // points named A, B, C are not options
      R"({"id":"points","problem":"Points $A$, $B$ and $C$ lie on a circle. What is angle $ABC$?","answer":"90"})",
      // a graph mentioned without a figure
      R"({"id":"graph","problem":"The graph of y = x^2 passes through which point with x = 2? Give y.","answer":"4"})",
      // a short LaTeX answer with text
      R"({"id":"text","problem":"Who is fastest?","answer":"\\text{Evelyn}"})",
  };
  const OpRun run = run_op("grade.verifiable", "", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept.size(), in.size()) << run.describe() << (run.rejected.empty() ? "" : run.rejected[0]);
}

TEST(plugins_grade_format, EachRuleHasItsSwitch) {
  const Strings in = {
      R"({"id":"proof","problem":"Prove that 2 is prime.","answer":"x"})",
      R"({"id":"parts","problem":"(a) Find x. (b) Find y.","answer":"1"})",
      R"({"id":"mc","problem":"Pick: (A) 1 (B) 2 (C) 3","answer":"A"})",
      R"({"id":"blank","problem":"Find x.","answer":""})",
      R"({"id":"prose","problem":"Find x.","answer":"it is the number that we get when we add one and one together and then take away nothing"})",
      R"({"id":"figure","problem":"Find x in the diagram below.","answer":"1"})",
  };
  const char* rules[] = {"proof", "multi_part", "multiple_choice", "missing_answer", "long_answer", "needs_figure"};
  const OpRun all = run_op("grade.verifiable", "", jsonl(in));
  ASSERT_EQ(all.exit_code, 0) << all.describe();
  EXPECT_EQ(all.reasons(), (Strings{"proof", "multi_part", "multiple_choice", "missing_answer", "long_answer", "needs_figure"}));
  for (size_t i = 0; i < std::size(rules); ++i) {
    const OpRun off = run_op("grade.verifiable", std::string("{") + rules[i] + ": false}", jsonl(in));
    ASSERT_EQ(off.exit_code, 0) << off.describe();
    EXPECT_EQ(off.kept_ids(), Strings{json_string(in[i], "id").value()}) << rules[i];
  }
  // Thresholds of long_answer.
  const OpRun words = run_op("grade.verifiable", "{long_answer_words: 30}", jsonl({in[4]}));
  EXPECT_EQ(words.kept.size(), 1u) << words.describe();
  EXPECT_EQ(validate_op("grade.verifiable", "{long_answer_chars: 0}").exit_code, 2);
}

// Real records from ../shared/data, checked by reading them: (file, line, problem field, answer field, expected reason or "").
TEST(plugins_grade_format, RealRecordsFromSharedData) {
  struct Real {
    const char* file;
    int line;
    const char* reason;
  };
  const Real records[] = {
      {"math/math500_test.jsonl", 228, "multiple_choice"},     // (A) Line (B) Circle (C) Plane ..., answer \text{(C)}
      {"math/math500_test.jsonl", 256, "multiple_choice"},     // (A) Line (B) Circle (C) Parabola ...
      {"math/math500_test.jsonl", 5, "needs_figure"},          // "graphed below" with [asy]
      {"math/math500_test.jsonl", 15, "needs_figure"},         // "in the diagram below" with [asy]
      {"math/math500_test.jsonl", 1, ""},                      // convert (0,3) to polar coordinates
      {"deepscaler/test_amc.jsonl", 26, "needs_figure"},       // "The diagram below shows", no [asy]
      {"deepscaler/test_amc.jsonl", 29, "needs_figure"},       // "in the figure"
      {"deepscaler/train_math.jsonl", 63, "needs_figure"},     // [asy] whose labels would look like options
      {"deepscaler/train_math.jsonl", 6304, ""},               // "in what year will the census show that"
      {"deepscaler/train_math.jsonl", 219, ""},                // properties (1), (2) of a quadratic, one question
      {"qwen25math_eval/gaokao2024_I_test.jsonl", 1, "multiple_choice"},  // 选择题 with A. B. C. D.
      {"qwen25math_eval/gaokao2024_mix_test.jsonl", 16, "multi_part"},    // （1）... 求 ...; (2) ... 求 ...
      {"qwen25math_eval/gaokao2023en_test.jsonl", 168, "missing_answer"}, // blank answer
      {"qwen25math_eval/college_math_test.jsonl", 1014, "long_answer"},   // "The bulb should be placed ..."
      {"qwen25math_eval/cmath_test.jsonl", 349, ""},          // （1）班, （2）班: class names, not parts
      {"qwen25math_eval/olympiadbench_test.jsonl", 46, ""},   // "or show that no such n exists"
      {"qwen25math_eval/olympiadbench_test.jsonl", 26, ""},   // conditions (i), (ii)
  };
  size_t checked = 0;
  for (const auto& rec : records) {
    const auto path = shared_data() / rec.file;
    if (!std::filesystem::exists(path)) continue;
    std::ifstream f(path);
    std::string line;
    for (int i = 0; i < rec.line && std::getline(f, line); ++i) {
    }
    ASSERT_FALSE(line.empty()) << rec.file << ":" << rec.line;
    const std::string file(rec.file);
    const bool question = file.find("qwen25math_eval") != std::string::npos;
    const std::string with = std::string("{problem_field: ") + (question ? "question" : "problem") +
                             ", answer_field: " + (file.find("olympiad") != std::string::npos ? "final_answer" : "answer") + "}";
    OpOptions o;
    o.id_field = "";
    const OpRun run = run_op("grade.verifiable", with, jsonl({line}), o);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    const std::string got = run.rejections().empty() ? "" : run.rejections()[0].reason;
    EXPECT_EQ(got, rec.reason) << rec.file << ":" << rec.line << " " << (run.rejections().empty() ? "" : run.rejections()[0].detail);
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no shared data";
}

}  // namespace
