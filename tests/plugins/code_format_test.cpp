// code.format (plugins/code): each test layout and each reason on hand-written records, then the real
// code problems of ../shared/data/code, whose test counts are recomputed here independently.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace tamis::test;

namespace {

// One record per line: {"id": ID, ...FIELDS}.
std::string rec(const std::string& id, const std::string& fields) { return R"({"id":")" + id + R"(",)" + fields + "}"; }

// The reason and detail of each rejection, by id.
std::map<std::string, std::pair<std::string, std::string>> verdicts(const OpRun& run) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  for (const auto& v : run.rejections()) out[v.id] = {v.reason, v.detail};
  return out;
}

const std::string kFunctional =
    R"("problem":"Add.\n```python\nclass Solution:\n    def add(self, a, b):\n```","solutions":"class Solution:\n    def add(self, a, b):\n        return a + b",)"
    R"("tests":{"functional":"def check(candidate):\n    assert candidate(a = 1, b = 2) == 3\n    assert candidate(a = 0, b = 0) == 0\n\n\ncheck(Solution().add)\n"})";

}  // namespace

TEST(plugins_code_format, EachLayoutIsRecognisedAndCounted) {
  const std::string in = jsonl({
      rec("functional", kFunctional),
      rec("stdio_pairs", R"("problem":"Sum.","tests":[{"input":"1 2\n","output":"3\n"},{"input":"2 2\n","output":"4\n"},{"input":"0 0\n","output":"0\n"}])"),
      rec("stdio_lists", R"("problem":"Sum.","tests":{"inputs":["1 2\n","5 5\n"],"outputs":["3\n","10\n"]})"),
      rec("humaneval", R"("prompt":"def add(a, b):\n    \"\"\"Sum.\"\"\"\n","canonical_solution":"    return a + b\n",)"
                       R"("test":"\n\nMETADATA = {}\n\ndef check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(2, 2) == 4\n    for x in range(3):\n        assert candidate(x, 0) == x\n","entry_point":"add")"),
      rec("mbpp", R"("text":"Write a function to add two numbers.","code":"def add(a, b): return a + b",)"
                  R"("test_list":["assert add(1, 2) == 3","assert add(0, 0) == 0\nassert add(2, 2) == 4","assert add(5, 1) == 6"])"),
      rec("apps_stdio", R"("question":"Sum.","solutions":"[\"print(sum(map(int, input().split())))\"]",)"
                        R"("input_output":"{\"inputs\": [\"1 2\\n\", \"3 4\\n\"], \"outputs\": [\"3\\n\", \"7\\n\"]}")"),
      rec("apps_call", R"("question":"Sum.","input_output":"{\"fn_name\": \"add\", \"inputs\": [[1, 2], [3, 4], [0, 0]], \"outputs\": [3, 7, 0]}")"),
  });
  const OpRun run = run_op("code.format", "", in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (std::vector<std::string>{"functional", "stdio_pairs", "stdio_lists", "humaneval", "mbpp", "apps_stdio", "apps_call"}))
      << run.describe();
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"functional", {"\"functional\"", "2"}}, {"stdio_pairs", {"\"stdio\"", "3"}}, {"stdio_lists", {"\"stdio\"", "2"}},
      {"humaneval", {"\"humaneval\"", "3"}},   {"mbpp", {"\"humaneval\"", "4"}},    {"apps_stdio", {"\"apps\"", "2"}},
      {"apps_call", {"\"apps\"", "3"}}};
  for (const auto& [id, want] : expected) {
    EXPECT_EQ(run.annotation_of(id, "test_layout").value_or("none"), want.first) << id;
    EXPECT_EQ(run.annotation_of(id, "n_tests").value_or("none"), want.second) << id;
  }
  // The language: a ```python fence; Python test code; nothing to tell for stdin/stdout tests.
  EXPECT_EQ(run.annotation_of("functional", "code_language").value_or(""), "\"python\"");
  EXPECT_EQ(run.annotation_of("humaneval", "code_language").value_or(""), "\"python\"");
  EXPECT_EQ(run.annotation_of("mbpp", "code_language").value_or(""), "\"python\"");
  EXPECT_EQ(run.annotation_of("stdio_pairs", "code_language").value_or(""), "\"unknown\"");
  EXPECT_EQ(run.annotation_of("apps_call", "code_language").value_or(""), "\"unknown\"");
}

TEST(plugins_code_format, EachReasonWithItsEvidence) {
  const std::string in = jsonl({
      rec("no_tests", R"("problem":"Sum.","solutions":"x")"),
      rec("null_tests", R"("problem":"Sum.","tests":null)"),
      rec("empty_list", R"("problem":"Sum.","tests":[])"),
      rec("empty_lists", R"("problem":"Sum.","tests":{"inputs":[],"outputs":[]})"),
      rec("bad_json", R"("question":"Sum.","input_output":"{\"inputs\": [\"1\"], \"outputs\": [\"1\"")"),
      rec("functional_number", R"("problem":"Sum.","tests":{"functional":42})"),
      rec("check_never_called", R"("prompt":"def f(): pass","test":"def check(candidate):\n    assert candidate() is None\n")"),
      rec("check_in_a_name", R"("prompt":"def f(): pass","test":"def check(candidate):\n    assert candidate() is None\n\nrecheck(f)\n_check(f)\n")"),
      rec("no_asserts", R"("prompt":"def f(): pass","test":"print('hello')\n","entry_point":"f")"),
      rec("input_number", R"("problem":"Sum.","tests":[{"input":"1\n","output":"1\n"},{"input":7,"output":"7\n"}])"),
      rec("unknown_object", R"("problem":"Sum.","tests":{"cases":[1,2]})"),
      rec("mismatched_lists", R"("problem":"Sum.","tests":{"inputs":["1\n","2\n","3\n"],"outputs":["1\n","2\n"]})"),
      rec("mismatched_pair", R"("problem":"Sum.","tests":[{"input":"1\n","output":"1\n"},{"input":"2\n"}])"),
      rec("no_outputs", R"("question":"Sum.","input_output":"{\"inputs\": [\"1\\n\"]}")"),
      rec("zero_asserts", R"("problem":"Sum.","tests":{"functional":"def check(candidate):\n    pass\n\ncheck(f)\n"})"),
  });
  const OpRun run = run_op("code.format", "", in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_TRUE(run.kept_ids().empty()) << run.describe();
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"no_tests", {"missing_tests", "no tests: none of the fields tests, input_output, test, test_list"}},
      {"null_tests", {"missing_tests", "no tests: none of the fields tests, input_output, test, test_list"}},
      {"empty_list", {"missing_tests", "field 'tests' is an empty list"}},
      {"empty_lists", {"missing_tests", "field 'tests' has no inputs and no outputs"}},
      {"bad_json", {"unparseable_tests", "field 'input_output' is a string that is not valid JSON (The JSON document has an improper structure: missing or superfluous commas, braces, missing keys, etc.): {\"inputs\": [\"1\"], \"outputs\": [\"1\""}},
      {"functional_number", {"unparseable_tests", "field 'tests'.functional is a number, not a string of test code"}},
      {"check_never_called", {"unparseable_tests", "field 'test' defines check(candidate) but never calls it, and the record has no entry_point to pass to it"}},
      {"check_in_a_name", {"unparseable_tests", "field 'test' defines check(candidate) but never calls it, and the record has no entry_point to pass to it"}},
      {"no_asserts", {"unparseable_tests", "field 'test' has no check(candidate) function and no assert: print('hello') "}},
      {"input_number", {"unparseable_tests", "field 'tests'[1].input is a number, not a string or a list of strings"}},
      {"unknown_object", {"unparseable_tests", "field 'tests' is an object without functional, inputs or outputs (keys: cases)"}},
      {"mismatched_lists", {"mismatched_tests", "field 'tests' has 3 inputs and 2 outputs"}},
      {"mismatched_pair", {"mismatched_tests", "field 'tests'[1] has an input but no output"}},
      {"no_outputs", {"mismatched_tests", "field 'input_output' has 1 inputs and no outputs"}},
      {"zero_asserts", {"too_few_tests", "0 tests in field 'tests' (functional), min_tests is 1"}},
  };
  EXPECT_EQ(verdicts(run), expected);
  EXPECT_EQ(run.annotation_of("mismatched_lists", "n_inputs").value_or(""), "3");
  EXPECT_EQ(run.annotation_of("mismatched_lists", "n_outputs").value_or(""), "2");
  EXPECT_EQ(run.annotation_of("bad_json", "test_layout").value_or(""), "\"apps\"");
  EXPECT_FALSE(run.annotation_of("mismatched_lists", "n_tests").has_value());
}

TEST(plugins_code_format, MinTestsCountsPairsAndAsserts) {
  const std::string in = jsonl({
      rec("two_asserts", kFunctional),
      rec("three_pairs", R"("problem":"Sum.","tests":[{"input":"1","output":"1"},{"input":"2","output":"2"},{"input":"3","output":"3"}])"),
      rec("one_pair", R"("problem":"Sum.","tests":[{"input":"1","output":"1"}])"),
      rec("two_pairs", R"("problem":"Sum.","tests":{"inputs":["1","2"],"outputs":["1","2"]})"),
  });
  const OpRun run = run_op("code.format", "{min_tests: 3}", in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (std::vector<std::string>{"three_pairs"}));
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"two_asserts", {"too_few_tests", "2 tests in field 'tests' (functional), min_tests is 3"}},
      {"two_pairs", {"too_few_tests", "2 tests in field 'tests' (stdio), min_tests is 3"}},
      {"one_pair", {"too_few_tests", "1 test in field 'tests' (stdio), min_tests is 3"}}};
  EXPECT_EQ(verdicts(run), expected);
  EXPECT_EQ(run.annotation_of("two_pairs", "n_tests").value_or(""), "2");
  // A negative minimum is refused before anything runs.
  EXPECT_NE(run_op("code.format", "{min_tests: -1}", in).exit_code, 0);
}

TEST(plugins_code_format, ReferenceSolutionWhenRequired) {
  const std::string tests = R"("tests":[{"input":"1","output":"1"}])";
  const std::string in = jsonl({
      rec("has", R"("problem":"P.","solutions":"print(1)\n",)" + tests),
      rec("list", R"("problem":"P.","solutions":["","print(1)\n"],)" + tests),
      rec("apps_string", R"("problem":"P.","solutions":"[\"print(1)\\n\"]",)" + tests),
      rec("canonical", R"("problem":"P.","canonical_solution":"    return 1\n",)" + tests),
      rec("absent", R"("problem":"P.",)" + tests),
      rec("blank", R"("problem":"P.","solutions":"  \n",)" + tests),
      rec("empty_apps", R"("problem":"P.","solutions":"[]",)" + tests),
      rec("blank_list", R"("problem":"P.","solutions":["", " "],)" + tests),
  });
  // Not required (the default): all kept.
  const OpRun lax = run_op("code.format", "", in);
  ASSERT_EQ(lax.exit_code, 0) << lax.describe();
  EXPECT_EQ(lax.kept_ids().size(), 8u) << lax.describe();
  const OpRun run = run_op("code.format", "{require_solution: true}", in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (std::vector<std::string>{"has", "list", "apps_string", "canonical"}));
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"absent", {"missing_solution", "no reference solution: none of the fields solutions, canonical_solution, solution, code"}},
      {"blank", {"missing_solution", "field 'solutions' holds no code (\"  \\n\")"}},
      {"empty_apps", {"missing_solution", "field 'solutions' holds no code (\"[]\")"}},
      {"blank_list", {"missing_solution", "field 'solutions' holds no code ([\"\",\" \"])"}}};
  EXPECT_EQ(verdicts(run), expected);
  // A named field: only that one counts.
  const OpRun named = run_op("code.format", "{require_solution: true, solution_field: canonical_solution}", in);
  ASSERT_EQ(named.exit_code, 0) << named.describe();
  EXPECT_EQ(named.kept_ids(), (std::vector<std::string>{"canonical"}));
  EXPECT_EQ(named.reason_of("has"), "missing_solution");
  EXPECT_EQ(named.detail_of("has"), "field 'canonical_solution' is missing or null");
}

TEST(plugins_code_format, LanguageFromFencesOnly) {
  const std::string tests = R"("tests":[{"input":"1","output":"1"}])";
  const std::string in = jsonl({
      rec("cpp", R"("problem":"Complete:\n```cpp\nclass Solution {};\n```",)" + tests),
      rec("python", R"("problem":"Complete:\n```python3\nclass Solution:\n```",)" + tests),
      rec("both", R"("problem":"```java\nx\n```\n```python\ny\n```",)" + tests),
      rec("untagged", R"("problem":"Example:\n```\n1 2\n```",)" + tests),
      rec("prose", R"("problem":"Solve it in Java or C++.",)" + tests),
      rec("inline", R"("problem":"Use `x` or ```cpp inline.",)" + tests),
  });
  const OpRun run = run_op("code.format", "", in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (std::vector<std::string>{"python", "both", "untagged", "prose", "inline"}));
  EXPECT_EQ(run.reason_of("cpp"), "wrong_language");
  EXPECT_EQ(run.detail_of("cpp"), "the problem asks for cpp (a ```cpp block in the problem), the stage's language is python");
  EXPECT_EQ(run.annotation_of("python", "code_language").value_or(""), "\"python\"");
  for (const char* id : {"both", "untagged", "prose", "inline"})
    EXPECT_EQ(run.annotation_of(id, "code_language").value_or(""), "\"unknown\"") << id;
  // language: cpp keeps the C++ problem and rejects the Python one; any keeps all.
  const OpRun cpp = run_op("code.format", "{language: C++}", in);
  ASSERT_EQ(cpp.exit_code, 0) << cpp.describe();
  EXPECT_EQ(cpp.kept_ids(), (std::vector<std::string>{"cpp", "both", "untagged", "prose", "inline"}));
  const OpRun any = run_op("code.format", "{language: any}", in);
  ASSERT_EQ(any.exit_code, 0) << any.describe();
  EXPECT_EQ(any.kept_ids().size(), 6u);
}

TEST(plugins_code_format, NamedTestsFieldAndMisnamedFieldWarns) {
  std::vector<std::string> lines;
  for (int i = 0; i < 6; ++i)
    lines.push_back(rec("r" + std::to_string(i), R"("problem":"P.","cases":[{"input":"1","output":"1"}],"tests":{"functional":"assert f() == 1"})"));
  const std::string in = jsonl(lines);
  const OpRun named = run_op("code.format", "{tests_field: cases}", in);
  ASSERT_EQ(named.exit_code, 0) << named.describe();
  EXPECT_EQ(named.kept_ids().size(), 6u);
  EXPECT_EQ(named.annotation_of("r0", "test_layout").value_or(""), "\"stdio\"");
  const OpRun detected = run_op("code.format", "", in);
  EXPECT_EQ(detected.annotation_of("r0", "test_layout").value_or(""), "\"functional\"");
  // A field no record has: every record rejected, and the run warns naming the field.
  const OpRun misnamed = run_op("code.format", "{tests_field: testcases}", in);
  ASSERT_EQ(misnamed.exit_code, 0) << misnamed.describe();
  EXPECT_TRUE(misnamed.kept_ids().empty());
  EXPECT_EQ(misnamed.reason_of("r0"), "missing_tests");
  EXPECT_NE(misnamed.out.find("rejected for a missing field 'testcases'"), std::string::npos) << misnamed.out;
}

namespace {

// The tests of one real record, counted here without the op: {input, output} pairs, inputs, or the
// lines of the check function that start with "assert".
int64_t expected_tests(const std::string& line) {
  if (const auto fn = json_string(line, "/tests/functional")) {
    int64_t n = 0;
    std::string l;
    for (size_t i = 0; i <= fn->size(); ++i) {
      if (i == fn->size() || (*fn)[i] == '\n') {
        const size_t a = l.find_first_not_of(" \t");
        if (a != std::string::npos && l.compare(a, 7, "assert ") == 0) ++n;
        l.clear();
      } else {
        l += (*fn)[i];
      }
    }
    return n;
  }
  int64_t n = 0;
  while (json_raw(line, "/tests/" + std::to_string(n))) ++n;
  if (n > 0) return n;
  while (json_raw(line, "/tests/inputs/" + std::to_string(n))) ++n;
  return n;
}

}  // namespace

TEST(plugins_code_format, RealCodeProblems) {
  const std::vector<std::string> files = {"train_leetcode", "test_leetcode", "test_codeforces", "test_code_contests"};
  bool any = false;
  for (const auto& name : files) {
    const std::filesystem::path path = std::filesystem::path(TAMIS_SHARED_DATA) / "code" / (name + ".jsonl");
    std::ifstream f(path);
    if (!f) continue;
    any = true;
    std::vector<std::string> lines;
    for (std::string l; std::getline(f, l);) lines.push_back(l);
    OpOptions opt;
    opt.input = std::filesystem::absolute(path);
    opt.id_field = "";
    for (const int min_tests : {1, 5}) {
      const OpRun run = run_op("code.format", "{min_tests: " + std::to_string(min_tests) + "}", "", opt);
      ASSERT_EQ(run.exit_code, 0) << run.describe();
      ASSERT_EQ(run.kept.size() + run.rejected.size(), lines.size()) << name;
      // Every record's count, recomputed; kept exactly when it reaches min_tests.
      std::map<std::string, int64_t> by_reason;
      for (const auto& v : run.rejections()) ++by_reason[v.reason];
      size_t want_kept = 0;
      for (const auto& l : lines) want_kept += expected_tests(l) >= min_tests;
      EXPECT_EQ(run.kept.size(), want_kept) << name << " min_tests " << min_tests;
      EXPECT_EQ(by_reason.size(), want_kept == lines.size() ? 0u : 1u) << name;  // too_few_tests only
      EXPECT_EQ(run.rejected.size(), lines.size() - want_kept) << name;
      if (!by_reason.empty()) {
        EXPECT_EQ(by_reason.begin()->first, "too_few_tests") << name;
      }
      std::vector<int64_t> got, want;
      for (const auto& l : run.kept) got.push_back(std::stoll(run.annotation(l, "n_tests").value_or("-1")));
      for (const auto& l : run.rejected) got.push_back(std::stoll(run.annotation(l, "n_tests").value_or("-1")));
      for (const auto& l : lines) want.push_back(expected_tests(l));
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
      EXPECT_EQ(got, want) << name;
      std::string counts;
      for (const auto& [reason, n] : by_reason) counts += " " + reason + " " + std::to_string(n);
      std::printf("%s min_tests %d: kept %zu, rejected %zu:%s\n", name.c_str(), min_tests, run.kept.size(), run.rejected.size(), counts.c_str());
      if (min_tests == 1) {
        const std::string layout = name.find("leetcode") != std::string::npos ? "\"functional\"" : "\"stdio\"";
        const std::string lang = name.find("leetcode") != std::string::npos ? "\"python\"" : "\"unknown\"";
        for (const auto& l : run.kept) {
          EXPECT_EQ(run.annotation(l, "test_layout").value_or(""), layout) << name;
          EXPECT_EQ(run.annotation(l, "code_language").value_or(""), lang) << name;
        }
      }
    }
  }
  if (!any) GTEST_SKIP() << "no ../shared/data/code";
}
