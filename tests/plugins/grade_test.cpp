// Tests of the `grade` plugin family: the answer library (plugins/grade/answer.hpp) directly, the GSM8K
// agreement with stored labels, and the ops grade and filter.format through harness.hpp.
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
    // boxed and delimiters around the whole answer
    {"\\boxed{7}", "7", true},
    {"\\boxed{\\frac{1}{2}}", "0.5", true},
    {"\\left( 1, 2 \\right)", "(1,2)", true},
    // tuples (ordered)
    {"(1, 2)", "(1,2)", true},
    {"(3, -4)", "\\left(3,-4\\right)", true},
    {"(1,2,3)", "(1, 2, 3)", true},
    {"(\\frac{1}{2}, 3)", "(0.5, 3)", true},
    {"(2,3)", "2,3", true},
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
      {"\\boxed{\\boxed{3}}", "\\boxed{3}", "boxed"},
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
      {"There are 3 apples and 4 pears.", nullptr, ""},
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
  EXPECT_EQ(extract("nothing").problem, "no final answer found");
}

TEST(plugins_grade_answer, ExtractionOptions) {
  ExtractOptions last;
  last.last_number = true;
  EXPECT_EQ(extract("There are 3 apples and 4.5 pears.", last).answer, "4.5");
  EXPECT_EQ(extract("It costs -12 dollars", last).answer, "-12");
  EXPECT_EQ(extract("It costs 1,200 dollars", last).answer, "1,200");
  EXPECT_EQ(extract("It costs 1,200 dollars", last).method, "last_number");
  ExtractOptions no_boxed;
  no_boxed.boxed = false;
  EXPECT_EQ(extract("\\boxed{1}\nThe answer is 2", no_boxed).answer, "2");
  ExtractOptions none{false, false, false, false};
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

}  // namespace
