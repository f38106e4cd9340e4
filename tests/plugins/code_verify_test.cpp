// code.verify and code.grade (plugins/code): the judge's parts on their own (read_suite for each test
// layout, outputs_match, last_code_block), the judge in the sandbox (passes, failures with their
// evidence, errors, early exits, time and output limits, fresh processes, the LeetCode prelude, call
// mode), the two ops through the tamis binary (reasons, annotations, the rollouts field grade.difficulty
// bands, the same bytes at any thread count), and the reference solutions of ../shared/data/code
// (verified as they are, every one rejected once broken). Suite plugins_code_verify.
#include <gtest/gtest.h>

#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "harness.hpp"
#include "judge.hpp"
#include <tamis/json.hpp>

#include "ops.hpp"
#include "sandbox.hpp"

using namespace tamis::test;
namespace code = tamis::code;

namespace {

// ---- helpers ------------------------------------------------------------------------------------

// A JSON string literal of `s`.
std::string q(std::string_view s) { return tamis::json::quote(s); }

// One record per line: {"id": ID, ...FIELDS}.
std::string rec(const std::string& id, const std::string& fields) { return "{\"id\":" + q(id) + "," + fields + "}"; }

// read_suite on the JSON text `tests`.
code::SuiteOrError suite_of(const std::string& tests, std::string_view entry_point = "") {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(tests).get(e) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << tests;
    return {};
  }
  return code::read_suite(e, "tests", entry_point);
}

code::Suite must_suite(const std::string& tests, std::string_view entry_point = "") {
  code::SuiteOrError r = suite_of(tests, entry_point);
  if (!r.suite) {
    ADD_FAILURE() << "read_suite failed on " << tests << ": " << r.error;
    return {};
  }
  return *r.suite;
}

code::Suite stdio_suite(std::vector<std::string> inputs, std::vector<std::string> outputs) {
  code::Suite s;
  s.mode = code::Suite::Mode::stdio;
  s.inputs = std::move(inputs);
  s.outputs = std::move(outputs);
  s.declared = static_cast<int64_t>(s.inputs.size());
  return s;
}

code::Suite check_suite(std::string test_code, std::string entry_point = "") {
  code::Suite s;
  s.mode = code::Suite::Mode::check;
  s.test_code = std::move(test_code);
  s.entry_point = std::move(entry_point);
  return s;
}

std::vector<std::string> kinds(const code::Verdict& v) {
  std::vector<std::string> out;
  for (const auto& t : v.tests) out.emplace_back(code::outcome_name(t.kind));
  return out;
}

std::string describe(const code::Verdict& v) {
  std::string s = "run " + std::string(code::status_name(v.run)) + ", finished " + (v.finished ? "yes" : "no") + ", passed " +
                  std::to_string(v.passed) + ", outcomes [";
  for (const auto& k : kinds(v)) s += k + " ";
  s += "], program_error '" + v.program_error + "', sandbox_error '" + v.sandbox_error + "', first failure '" + v.first_failure() + "'";
  return s;
}

code::JudgeOptions judge_options(double test_seconds = 2) {
  code::JudgeOptions o;
  o.test_seconds = test_seconds;
  o.limits.wall_seconds = 30;
  o.limits.cpu_seconds = 20;
  o.limits.memory_bytes = int64_t{512} << 20;
  return o;
}

std::optional<std::string> sandbox_missing() {
  static const std::optional<std::string> why = code::Sandbox::unavailable();
  return why;
}

#define SKIP_WITHOUT_SANDBOX()                                                          \
  do {                                                                                  \
    if (const auto why = sandbox_missing()) GTEST_SKIP() << "no sandbox here: " << *why; \
  } while (0)

}  // namespace

// ---- read_suite ---------------------------------------------------------------------------------

TEST(plugins_code_verify, ReadSuiteFunctionalObject) {
  const std::string test = "def check(candidate):\n    assert candidate(a = 1) == 2\n\ncheck(Solution().f)\n";
  const code::Suite s = must_suite("{\"functional\":" + q(test) + "}");
  EXPECT_EQ(s.mode, code::Suite::Mode::check);
  EXPECT_EQ(s.test_code, test);
  EXPECT_EQ(s.entry_point, "");
  EXPECT_TRUE(s.inputs.empty());
}

TEST(plugins_code_verify, ReadSuiteHumanEvalTestStringWithEntryPoint) {
  const std::string test = "\n\nMETADATA = {}\n\ndef check(candidate):\n    assert candidate(1, 2) == 3\n";
  const code::Suite s = must_suite(q(test), "add");
  EXPECT_EQ(s.mode, code::Suite::Mode::check);
  EXPECT_EQ(s.test_code, test);
  EXPECT_EQ(s.entry_point, "add");
}

TEST(plugins_code_verify, ReadSuiteMbppAssertList) {
  const code::Suite s = must_suite(R"(["assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert add(2, 2) == 4"])");
  EXPECT_EQ(s.mode, code::Suite::Mode::check);
  EXPECT_EQ(s.test_code, "assert add(1, 2) == 3\nassert add(0, 0) == 0\nassert add(2, 2) == 4\n");
}

TEST(plugins_code_verify, ReadSuiteStdioPairsWithListOfLines) {
  const code::Suite s = must_suite(R"([{"input":"1 2\n","output":"3\n"},{"input":["2","5 6"],"output":["11","x"]}])");
  EXPECT_EQ(s.mode, code::Suite::Mode::stdio);
  EXPECT_EQ(s.inputs, (std::vector<std::string>{"1 2\n", "2\n5 6\n"}));
  EXPECT_EQ(s.outputs, (std::vector<std::string>{"3\n", "11\nx\n"}));
  EXPECT_EQ(s.declared, 2);
}

TEST(plugins_code_verify, ReadSuiteInputsOutputsLists) {
  const code::Suite s = must_suite(R"({"inputs":["1\n","2\n","3\n"],"outputs":["1\n",["4"],"9\n"]})");
  EXPECT_EQ(s.mode, code::Suite::Mode::stdio);
  EXPECT_EQ(s.inputs, (std::vector<std::string>{"1\n", "2\n", "3\n"}));
  EXPECT_EQ(s.outputs, (std::vector<std::string>{"1\n", "4\n", "9\n"}));
  EXPECT_EQ(s.declared, 3);
}

TEST(plugins_code_verify, ReadSuiteAppsStringStdioAndCall) {
  const code::Suite io = must_suite(q(R"({"inputs": ["1 2\n", "3 4\n"], "outputs": ["3\n", "7\n"]})"));
  EXPECT_EQ(io.mode, code::Suite::Mode::stdio);
  EXPECT_EQ(io.inputs, (std::vector<std::string>{"1 2\n", "3 4\n"}));
  EXPECT_EQ(io.outputs, (std::vector<std::string>{"3\n", "7\n"}));

  // fn_name: call mode; the arguments and return values stay JSON (compact).
  const code::Suite call = must_suite(q(R"({"fn_name": "add", "inputs": [[1, 2], [ "a" , "b" ]], "outputs": [3, ["ab"]]})"));
  EXPECT_EQ(call.mode, code::Suite::Mode::call);
  EXPECT_EQ(call.fn_name, "add");
  EXPECT_EQ(call.inputs, (std::vector<std::string>{"[1,2]", R"(["a","b"])"}));
  EXPECT_EQ(call.outputs, (std::vector<std::string>{"3", R"(["ab"])"}));
  EXPECT_EQ(call.declared, 2);
  // The same object not in a string reads alike.
  const code::Suite direct = must_suite(R"({"fn_name": "add", "inputs": [[1, 2]], "outputs": [3]})");
  EXPECT_EQ(direct.mode, code::Suite::Mode::call);
  EXPECT_EQ(direct.inputs, (std::vector<std::string>{"[1,2]"}));
}

TEST(plugins_code_verify, ReadSuiteErrorsNameTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("   ")", "is empty"},
      {R"([])", "is an empty list"},
      {R"(42)", "is not tests"},
      {R"(null)", "is not tests"},
      {R"({"inputs":["1"],"outputs":["1","2"]})", "has 1 inputs and 2 outputs"},
      {R"({"cases":[1]})", "has no inputs and outputs lists"},
      {q(R"({"inputs": ["1"], "outputs": ["1")"), "not valid JSON"},
      {R"(["assert f() == 1", 3])", "mixes strings"},
      {R"([{"input":"1"},{"input":"2","output":"2"}])", "[0] is not an {input, output} pair"},
      {R"([{"input":"1","output":"1"},{"input":7,"output":"7"}])", "[1] has an input or output that is not text"},
      {R"({"inputs":["1",2],"outputs":["1","2"]})", "inputs[1] is not a string"},
      {R"({"inputs":["1"],"outputs":[{"x":1}]})", "outputs[0] is not a string"},
  };
  for (const auto& [tests, want] : cases) {
    const code::SuiteOrError r = suite_of(tests);
    EXPECT_FALSE(r.suite.has_value()) << tests;
    EXPECT_NE(r.error.find(want), std::string::npos) << tests << " -> '" << r.error << "', wanted '" << want << "'";
    EXPECT_NE(r.error.find("field 'tests'"), std::string::npos) << r.error;
  }
}

// ---- outputs_match ------------------------------------------------------------------------------

TEST(plugins_code_verify, OutputsMatchTokensIgnoresSpacingAndLineEndings) {
  const code::Comparison tokens;  // the default
  EXPECT_TRUE(code::outputs_match("1 2\n3\n", "1 2\n3\n", tokens));
  EXPECT_TRUE(code::outputs_match("1 2\n3\n", "1   2\r\n3", tokens));
  EXPECT_TRUE(code::outputs_match("1 2\n3\n", "  1\t2 3 \n\n\n", tokens));
  EXPECT_TRUE(code::outputs_match("YES", "YES\n", tokens));
  EXPECT_FALSE(code::outputs_match("1 2 3", "1 2", tokens));
  EXPECT_FALSE(code::outputs_match("1 2 3", "1 2 3 4", tokens));
  EXPECT_FALSE(code::outputs_match("12", "1 2", tokens));
  EXPECT_FALSE(code::outputs_match("YES", "yes", tokens));  // case counts by default
  EXPECT_FALSE(code::outputs_match("1.0", "1", tokens));    // numbers compare as text without a tolerance
  EXPECT_FALSE(code::outputs_match("3", "", tokens));
  EXPECT_TRUE(code::outputs_match("", "\n \n", tokens));
}

TEST(plugins_code_verify, OutputsMatchLinesKeepsLineBreaks) {
  code::Comparison lines;
  lines.mode = code::Comparison::Mode::lines;
  EXPECT_TRUE(code::outputs_match("1 2\n3\n", "1 2\r\n3", lines));        // CRLF, no final newline
  EXPECT_TRUE(code::outputs_match("1 2\n3\n", "1 2  \n3\n\n\n", lines));  // trailing blanks, final empty lines
  EXPECT_TRUE(code::outputs_match("1 2\n3\n", "1  2\n3\n", lines));       // within a line, as tokens
  EXPECT_TRUE(code::outputs_match("1\n2\n", "1\r\n2\r\n\r\n", lines));       // a final CRLF-only line
  EXPECT_TRUE(code::outputs_match("1\n2\n", "1\n2\n  \t\n", lines));         // a final blank line
  EXPECT_FALSE(code::outputs_match("1 2\n3\n", "1\n2 3\n", lines));       // the same tokens, other lines
  EXPECT_FALSE(code::outputs_match("1 2\n3\n", "1 2 3\n", lines));
  EXPECT_FALSE(code::outputs_match("1\n\n2\n", "1\n2\n", lines));         // an empty line inside counts
  // The same pairs under tokens: all equal.
  const code::Comparison tokens;
  EXPECT_TRUE(code::outputs_match("1 2\n3\n", "1\n2 3\n", tokens));
  EXPECT_TRUE(code::outputs_match("1\n\n2\n", "1\n2\n", tokens));
}

TEST(plugins_code_verify, OutputsMatchExactComparesBytes) {
  code::Comparison exact;
  exact.mode = code::Comparison::Mode::exact;
  EXPECT_TRUE(code::outputs_match("1 2\n", "1 2\n", exact));
  EXPECT_FALSE(code::outputs_match("1 2\n", "1 2", exact));
  EXPECT_FALSE(code::outputs_match("1 2\n", "1 2\r\n", exact));
  EXPECT_FALSE(code::outputs_match("1 2\n", "1  2\n", exact));
}

TEST(plugins_code_verify, OutputsMatchFloatTolerance) {
  code::Comparison f;
  f.float_tolerance = 1e-6;
  EXPECT_TRUE(code::outputs_match("3.162277660", "3.1622776", f));
  EXPECT_TRUE(code::outputs_match("3.162277660\n", "3.1622776\n", f));
  EXPECT_TRUE(code::outputs_match("1 2.5", "1.0 2.5000001", f));
  EXPECT_TRUE(code::outputs_match("1000000", "1000000.5", f));  // relative: 5e-7
  EXPECT_FALSE(code::outputs_match("3.162277660", "3.17", f));
  EXPECT_FALSE(code::outputs_match("3.162277660", "3.1623", f));
  EXPECT_FALSE(code::outputs_match("0", "0.00001", f));
  EXPECT_FALSE(code::outputs_match("3.16", "abc", f));
  // Without the tolerance the first pair differs.
  EXPECT_FALSE(code::outputs_match("3.162277660", "3.1622776", code::Comparison{}));
}

TEST(plugins_code_verify, OutputsMatchCaseInsensitive) {
  code::Comparison c;
  c.case_sensitive = false;
  EXPECT_TRUE(code::outputs_match("YES\nNo", "yes\nNO\n", c));
  EXPECT_FALSE(code::outputs_match("YES", "YESS", c));
  EXPECT_FALSE(code::outputs_match("YES", "NO", c));
  c.mode = code::Comparison::Mode::lines;
  EXPECT_TRUE(code::outputs_match("Yes\nNo\n", "yEs\r\nnO", c));
}

// ---- last_code_block ----------------------------------------------------------------------------

TEST(plugins_code_verify, LastCodeBlockIsTheLastOfSeveral) {
  const std::string r = "First try:\n```python\nprint(1)\n```\nBetter:\n```python\nprint(2)\nprint(3)\n```\nDone.";
  EXPECT_EQ(code::last_code_block(r).value_or("<none>"), "print(2)\nprint(3)\n");
}

TEST(plugins_code_verify, LastCodeBlockTagsThatCount) {
  EXPECT_EQ(code::last_code_block("```py\nx = 1\n```").value_or("<none>"), "x = 1\n");
  EXPECT_EQ(code::last_code_block("```\nx = 2\n```").value_or("<none>"), "x = 2\n");
  EXPECT_EQ(code::last_code_block("```Python3\nx = 3\n```").value_or("<none>"), "x = 3\n");
  EXPECT_EQ(code::last_code_block("text\n  ```python\nx = 4\n  ```\n").value_or("<none>"), "x = 4\n");
  // A ```bash block after the program is passed over; the program is the answer.
  EXPECT_EQ(code::last_code_block("```python\nprint(5)\n```\nRun it:\n```bash\npython3 sol.py\n```\n").value_or("<none>"), "print(5)\n");
  EXPECT_FALSE(code::last_code_block("```cpp\nint main() {}\n```").has_value());
}

TEST(plugins_code_verify, LastCodeBlockNoneWhenUnclosedOrAbsent) {
  EXPECT_FALSE(code::last_code_block("The answer is print(1).").has_value());
  EXPECT_FALSE(code::last_code_block("").has_value());
  EXPECT_FALSE(code::last_code_block("```python\nprint(1)\n").has_value());  // never closed
  // An unclosed block after a closed one: the closed one is the last complete block.
  EXPECT_EQ(code::last_code_block("```python\nprint(1)\n```\nand\n```python\nprint(2)\n").value_or("<none>"), "print(1)\n");
  EXPECT_FALSE(code::last_code_block("inline ```python print(1)``` only").has_value());
}

TEST(plugins_code_verify, LastCodeBlockAfterThinking) {
  // A block inside the reasoning is not the answer.
  EXPECT_FALSE(code::last_code_block("<think>\n```python\nprint(1)\n```\n").has_value());
  EXPECT_FALSE(code::last_code_block("<think>\n```python\nprint(1)\n```\n</think>\nNo code, sorry.").has_value());
  EXPECT_EQ(code::last_code_block("<think>\n```python\nprint(1)\n```\n</think>\n```python\nprint(2)\n```").value_or("<none>"), "print(2)\n");
  // Without any <think>, the whole response counts.
  EXPECT_EQ(code::last_code_block("```python\nprint(3)\n```").value_or("<none>"), "print(3)\n");
}

// ---- the judge, in the sandbox ------------------------------------------------------------------

namespace {

const std::string kAddCheck =
    "def check(candidate):\n"
    "    assert candidate(a = 1, b = 2) == 3\n"
    "    assert candidate(a = 0, b = 0) == 0\n"
    "    assert candidate(a = -4, b = 9) == 5\n"
    "\n"
    "check(Solution().add)\n";

std::string add_solution(const std::string& body) { return "class Solution:\n    def add(self, a, b):\n" + body; }

const std::string kSumStdio = "a, b = map(int, input().split())\nprint(a + b)\n";

}  // namespace

TEST(plugins_code_verify, JudgeRightProgramPassesEveryTest) {
  SKIP_WITHOUT_SANDBOX();
  const code::Judge judge(judge_options());
  const code::Verdict v = judge.run(add_solution("        return a + b\n"), check_suite(kAddCheck));
  EXPECT_TRUE(v.all_passed()) << describe(v);
  EXPECT_EQ(kinds(v), (std::vector<std::string>{"pass", "pass", "pass"})) << describe(v);
  EXPECT_EQ(v.passed, 3);
  EXPECT_EQ(v.first_failure(), "");

  const code::Verdict s = judge.run(kSumStdio, stdio_suite({"1 2\n", "10 -3\n"}, {"3\n", "7"}));
  EXPECT_TRUE(s.all_passed()) << describe(s);
  EXPECT_EQ(kinds(s), (std::vector<std::string>{"pass", "pass"})) << describe(s);
}

TEST(plugins_code_verify, JudgeWrongProgramFailsWithExpectedAndGot) {
  SKIP_WITHOUT_SANDBOX();
  const code::Judge judge(judge_options());
  // Right for a = b = 0 only: the first assert fails, the second passes, the third fails.
  const code::Verdict v = judge.run(add_solution("        return a * b\n"), check_suite(kAddCheck));
  EXPECT_FALSE(v.all_passed()) << describe(v);
  EXPECT_EQ(kinds(v), (std::vector<std::string>{"fail", "pass", "fail"})) << describe(v);
  EXPECT_EQ(v.passed, 1);
  EXPECT_EQ(v.tests[0].expected, "3");
  EXPECT_EQ(v.tests[0].got, "2");
  EXPECT_EQ(v.first_failure(), "test 1 of 3: expected '3', got '2'");

  // stdio: the second test fails; the output compared after the tolerant comparison.
  const code::Verdict s = judge.run("a, b = map(int, input().split())\nprint(a + b if a < 5 else a - b)\n",
                                    stdio_suite({"1 2\n", "10 3\n"}, {"3\n", "13\n"}));
  EXPECT_FALSE(s.all_passed()) << describe(s);
  EXPECT_EQ(kinds(s), (std::vector<std::string>{"pass", "fail"})) << describe(s);
  EXPECT_EQ(s.first_failure(), "test 2 of 2: expected '13\\n', got '7\\n'");
}

TEST(plugins_code_verify, JudgeExceptionIsAnErrorNamingIt) {
  SKIP_WITHOUT_SANDBOX();
  const code::Judge judge(judge_options());
  const code::Verdict v = judge.run(add_solution("        if a == 0:\n            raise ValueError('no zero please')\n        return a + b\n"),
                                    check_suite(kAddCheck));
  EXPECT_FALSE(v.all_passed()) << describe(v);
  EXPECT_EQ(kinds(v), (std::vector<std::string>{"pass", "error", "pass"})) << describe(v);
  EXPECT_NE(v.tests[1].error.find("ValueError: no zero please"), std::string::npos) << describe(v);
  EXPECT_NE(v.first_failure().find("test 2 of 3: ValueError: no zero please"), std::string::npos) << describe(v);

  const code::Verdict s = judge.run("a, b = map(int, input().split())\nprint(a // b)\n", stdio_suite({"6 3\n", "1 0\n"}, {"2\n", "0\n"}));
  EXPECT_EQ(kinds(s), (std::vector<std::string>{"pass", "error"})) << describe(s);
  EXPECT_NE(s.tests[1].error.find("ZeroDivisionError"), std::string::npos) << describe(s);
}

TEST(plugins_code_verify, JudgeSyntaxErrorIsAProgramError) {
  SKIP_WITHOUT_SANDBOX();
  const code::Judge judge(judge_options());
  const code::Verdict v = judge.run("class Solution:\n    def add(self, a, b)\n        return a + b\n", check_suite(kAddCheck));
  EXPECT_FALSE(v.all_passed()) << describe(v);
  EXPECT_EQ(v.passed, 0);
  EXPECT_NE(v.program_error.find("SyntaxError"), std::string::npos) << describe(v);
  EXPECT_NE(v.first_failure().find("SyntaxError"), std::string::npos) << describe(v);

  const code::Verdict s = judge.run("print(1 +)\n", stdio_suite({"\n"}, {"1\n"}));
  EXPECT_FALSE(s.all_passed()) << describe(s);
  EXPECT_NE(s.program_error.find("SyntaxError"), std::string::npos) << describe(s);
}

TEST(plugins_code_verify, JudgeEarlyExitDoesNotPass) {
  SKIP_WITHOUT_SANDBOX();
  const code::Judge judge(judge_options());
  // Each program answers the first test right, then ends the run before the others are checked.
  const std::vector<std::pair<std::string, std::string>> programs = {
      {"sys.exit(0) in the candidate", "import sys\n" + add_solution("        if a == 0:\n            sys.exit(0)\n        return a + b\n")},
      {"os._exit(0) in the candidate", "import os\n" + add_solution("        if a == 0:\n            os._exit(0)\n        return a + b\n")},
      {"sys.exit(0) at the top", add_solution("        return a + b\n") + "import sys\nsys.exit(0)\n"},
      {"os._exit(0) at the top", add_solution("        return a + b\n") + "import os\nos._exit(0)\n"},
      {"raise SystemExit", add_solution("        if a == 0:\n            raise SystemExit\n        return a + b\n")},
      {"os.kill of itself", "import os, signal\n" + add_solution("        if a == 0:\n            os.kill(os.getpid(), signal.SIGKILL)\n        return a + b\n")},
  };
  for (const auto& [what, program] : programs) {
    const code::Verdict v = judge.run(program, check_suite(kAddCheck));
    EXPECT_FALSE(v.all_passed()) << what << ": " << describe(v);
    EXPECT_FALSE(v.first_failure().empty()) << what;
    EXPECT_LT(v.passed, 3) << what << ": " << describe(v);
  }
  // Call mode too.
  const code::Suite call = must_suite(q(R"({"fn_name": "add", "inputs": [[1, 2], [0, 0], [2, 2]], "outputs": [3, 0, 4]})"));
  for (const std::string exit : {"sys.exit(0)", "os._exit(0)"}) {
    const code::Verdict v = judge.run("import sys, os\ndef add(a, b):\n    if a == 0:\n        " + exit + "\n    return a + b\n", call);
    EXPECT_FALSE(v.all_passed()) << exit << ": " << describe(v);
  }
}

TEST(plugins_code_verify, JudgeInfiniteLoopTimesOut) {
  SKIP_WITHOUT_SANDBOX();
  const code::Judge judge(judge_options(1));
  // stdio: the looping test times out, the next one still runs and passes.
  const code::Verdict s = judge.run("n = int(input())\nwhile n == 0:\n    pass\nprint(n)\n", stdio_suite({"0\n", "5\n"}, {"0\n", "5\n"}));
  EXPECT_EQ(kinds(s), (std::vector<std::string>{"timeout", "pass"})) << describe(s);
  EXPECT_TRUE(s.timed_out());
  EXPECT_FALSE(s.all_passed());
  EXPECT_EQ(s.first_failure(), "test 1 of 2: time limit exceeded");
  // call: an alarm per call.
  const code::Suite call = must_suite(R"({"fn_name": "f", "inputs": [[1], [0]], "outputs": [1, 0]})");
  const code::Verdict c = judge.run("def f(n):\n    while n == 1:\n        pass\n    return n\n", call);
  EXPECT_EQ(kinds(c), (std::vector<std::string>{"timeout", "pass"})) << describe(c);
  EXPECT_TRUE(c.timed_out());
  // check: one process for the whole test code; the run's CPU limit ends it, the assert running then
  // is the timeout.
  const code::Verdict k = judge.run(add_solution("        while a == 0:\n            pass\n        return a + b\n"), check_suite(kAddCheck));
  EXPECT_FALSE(k.all_passed()) << describe(k);
  EXPECT_TRUE(k.timed_out()) << describe(k);
  EXPECT_EQ(kinds(k), (std::vector<std::string>{"pass", "timeout", "not_run"})) << describe(k);
}

TEST(plugins_code_verify, JudgeStdioRunsEachTestInAFreshProcess) {
  SKIP_WITHOUT_SANDBOX();
  const code::Judge judge(judge_options());
  // A counter kept on a module every test shares (sys) and in builtins: 1 in every test when each
  // runs in its own process.
  const std::string program =
      "import sys, builtins\n"
      "sys.tamis_runs = getattr(sys, 'tamis_runs', 0) + 1\n"
      "builtins.tamis_runs = getattr(builtins, 'tamis_runs', 0) + 1\n"
      "input()\n"
      "print(sys.tamis_runs, builtins.tamis_runs)\n";
  const code::Verdict v = judge.run(program, stdio_suite({"a\n", "b\n", "c\n"}, {"1 1\n", "1 1\n", "1 1\n"}));
  EXPECT_TRUE(v.all_passed()) << describe(v);
  EXPECT_EQ(kinds(v), (std::vector<std::string>{"pass", "pass", "pass"})) << describe(v);
}

// What a test leaves running (a detached process writing to the output file it inherited) is killed
// before the next test: here the first test's leftover would write into the second test's output.
TEST(plugins_code_verify, JudgeStdioKillsWhatATestLeavesRunning) {
  SKIP_WITHOUT_SANDBOX();
  const code::Judge judge(judge_options());
  const std::string program =
      "import os, time\n"
      "n = int(input())\n"
      "if n == 1 and os.fork() == 0:\n"
      "    os.setsid()\n"
      "    time.sleep(0.3)\n"
      "    print('stray', flush=True)\n"
      "    os._exit(0)\n"
      "if n == 2:\n"
      "    time.sleep(1.0)\n"
      "print(n)\n";
  const code::Verdict v = judge.run(program, stdio_suite({"1\n", "2\n"}, {"1\n", "2\n"}));
  EXPECT_EQ(kinds(v), (std::vector<std::string>{"pass", "pass"})) << describe(v);
}

TEST(plugins_code_verify, JudgeOutputOverTheLimitDoesNotPass) {
  SKIP_WITHOUT_SANDBOX();
  code::JudgeOptions o = judge_options();
  o.limits.file_bytes = 64 << 10;
  o.limits.output_bytes = 64 << 10;
  const code::Judge judge(o);
  // The expected output is exactly what the program writes: only the limit can fail it.
  const std::string big(200000, 'x');
  const code::Verdict s = judge.run("import sys\nsys.stdout.write('x' * 200000 + '\\n')\n", stdio_suite({"\n"}, {big + "\n"}));
  EXPECT_FALSE(s.all_passed()) << describe(s);
  ASSERT_EQ(s.tests.size(), 1u) << describe(s);
  EXPECT_NE(s.tests[0].kind, code::TestOutcome::Kind::pass) << describe(s);
  // Under the limit the same program passes.
  const code::Verdict small = judge.run("import sys\nsys.stdout.write('x' * 2000 + '\\n')\n", stdio_suite({"\n"}, {std::string(2000, 'x') + "\n"}));
  EXPECT_TRUE(small.all_passed()) << describe(small);
  // check mode: a right answer after flooding standard output.
  const code::Verdict k = judge.run(add_solution("        print('y' * 1000000)\n        return a + b\n"), check_suite(kAddCheck));
  EXPECT_FALSE(k.all_passed()) << describe(k);
}

TEST(plugins_code_verify, JudgeLeetCodePreludeHelpers) {
  SKIP_WITHOUT_SANDBOX();
  const std::string reverse_list =
      "class Solution:\n"
      "    def reverseList(self, head: Optional[ListNode]) -> Optional[ListNode]:\n"
      "        prev = None\n"
      "        while head:\n"
      "            head.next, prev, head = prev, head, head.next\n"
      "        return prev\n";
  const std::string list_test =
      "def check(candidate):\n"
      "    assert is_same_list(candidate(head = list_node([1,2,3])), list_node([3,2,1]))\n"
      "    assert candidate(head = list_node([])) is None\n"
      "    assert not is_same_list(list_node([1,2]), list_node([1,2,3]))\n"
      "    assert not is_same_list(list_node([1,2,4]), list_node([1,2,3]))\n"
      "\n"
      "check(Solution().reverseList)\n";
  const std::string invert_tree =
      "class Solution:\n"
      "    def invertTree(self, root: Optional[TreeNode]) -> Optional[TreeNode]:\n"
      "        if root:\n"
      "            root.left, root.right = self.invertTree(root.right), self.invertTree(root.left)\n"
      "        return root\n";
  const std::string tree_test =
      "def check(candidate):\n"
      "    assert is_same_tree(candidate(root = tree_node([4,2,7,1,3,6,9])), tree_node([4,7,2,9,6,3,1]))\n"
      "    assert is_same_tree(candidate(root = tree_node([2,None,3])), tree_node([2,3]))\n"
      "    assert candidate(root = tree_node([])) is None\n"
      "\n"
      "check(Solution().invertTree)\n";
  const code::Judge judge(judge_options());
  const code::Verdict l = judge.run(reverse_list, check_suite(list_test));
  EXPECT_TRUE(l.all_passed()) << describe(l);
  EXPECT_EQ(l.passed, 4) << describe(l);
  const code::Verdict t = judge.run(invert_tree, check_suite(tree_test));
  EXPECT_TRUE(t.all_passed()) << describe(t);
  EXPECT_EQ(t.passed, 3) << describe(t);
  // The helpers tell a wrong answer: the tree returned as it came.
  const code::Verdict same = judge.run("class Solution:\n    def invertTree(self, root):\n        return root\n", check_suite(tree_test));
  EXPECT_EQ(kinds(same), (std::vector<std::string>{"fail", "fail", "pass"})) << describe(same);
  // Without the prelude, the annotations name nothing.
  code::JudgeOptions bare = judge_options();
  bare.prelude = false;
  const code::Judge no_prelude(bare);
  const code::Verdict n = no_prelude.run(reverse_list, check_suite(list_test));
  EXPECT_FALSE(n.all_passed()) << describe(n);
  EXPECT_NE(n.program_error.find("NameError"), std::string::npos) << describe(n);
}

TEST(plugins_code_verify, JudgeCallModePassAndFail) {
  SKIP_WITHOUT_SANDBOX();
  const code::Judge judge(judge_options());
  const code::Suite call = must_suite(q(R"({"fn_name": "add", "inputs": [[1, 2], [3, 4], ["a", "b"]], "outputs": [[3], 7, "ab"]})"));
  ASSERT_EQ(call.mode, code::Suite::Mode::call);
  // A function, and a method of Solution.
  const code::Verdict f = judge.run("def add(a, b):\n    return a + b\n", call);
  EXPECT_TRUE(f.all_passed()) << describe(f);
  EXPECT_EQ(kinds(f), (std::vector<std::string>{"pass", "pass", "pass"})) << describe(f);
  const code::Verdict m = judge.run("class Solution:\n    def add(self, a, b):\n        return a + b\n", call);
  EXPECT_TRUE(m.all_passed()) << describe(m);
  // Wrong on the second.
  const code::Verdict w = judge.run("def add(a, b):\n    return a + b if a != 3 else 0\n", call);
  EXPECT_EQ(kinds(w), (std::vector<std::string>{"pass", "fail", "pass"})) << describe(w);
  EXPECT_EQ(w.first_failure(), "test 2 of 3: expected '7', got '0'");
  // No such function.
  const code::Suite sum_two = must_suite(R"({"fn_name": "sum_two", "inputs": [[1, 2]], "outputs": [3]})");
  const code::Verdict none = judge.run("def plus(a, b):\n    return a + b\n", sum_two);
  EXPECT_FALSE(none.all_passed()) << describe(none);
  EXPECT_NE(none.program_error.find("defines no sum_two"), std::string::npos) << describe(none);
}

// A function the program does not define is not found in the prelude instead: `from operator import *`
// and `from math import *` bring add, gcd, factorial ... (HumanEval/53's entry point is add; APPS call
// problems have fn_name gcd, factorial, ...): a response without the function does not pass.
TEST(plugins_code_verify, JudgePreludeNamesAreNotTheProgramsFunction) {
  SKIP_WITHOUT_SANDBOX();
  const code::Judge judge(judge_options());
  const code::Suite add = must_suite(R"({"fn_name": "add", "inputs": [[1, 2], [3, 4]], "outputs": [3, 7]})");
  const code::Verdict call = judge.run("def plus(a, b):\n    return a + b\n", add);
  EXPECT_FALSE(call.all_passed()) << describe(call);
  const code::Suite gcd = must_suite(R"({"fn_name": "gcd", "inputs": [[12, 18], [7, 5]], "outputs": [6, 1]})");
  const code::Verdict nothing = judge.run("# nothing\n", gcd);
  EXPECT_FALSE(nothing.all_passed()) << describe(nothing);
  const code::Verdict humaneval = judge.run("pass\n", check_suite("def check(candidate):\n    assert candidate(2, 3) == 5\n", "add"));
  EXPECT_FALSE(humaneval.all_passed()) << describe(humaneval);
  EXPECT_NE(humaneval.program_error.find("add"), std::string::npos) << describe(humaneval);
}

// ---- code.verify through the tamis binary -------------------------------------------------------

namespace {

const std::string kAddFunctional = "\"tests\":{\"functional\":" + q(kAddCheck) + "}";
const std::string kSumTests = R"("tests":[{"input":"1 2\n","output":"3\n"},{"input":"2 2\n","output":"4\n"}])";

double number_of(const std::optional<std::string>& v) { return v ? std::stod(*v) : -1; }

}  // namespace

TEST(plugins_code_verify, VerifyReasonsAndAnnotations) {
  SKIP_WITHOUT_SANDBOX();
  const std::string in = jsonl({
      rec("ok", "\"solutions\":" + q(add_solution("        return a + b\n")) + "," + kAddFunctional),
      rec("fails", "\"solutions\":" + q("a, b = map(int, input().split())\nprint(a * b)\n") + "," + kSumTests),
      rec("timeout", "\"solutions\":" + q("while True:\n    pass\n") + "," + kSumTests),
      rec("crashes", "\"solutions\":" + q("import nosuchmodule\n") + "," + kSumTests),
      rec("no_solution", kSumTests),
      rec("blank_solution", "\"solutions\":\"  \\n\"," + kSumTests),
      rec("bad_tests", R"x("solutions":"print(1)","tests":{"inputs":["1\n"],"outputs":[]})x"),
      rec("no_tests", R"x("solutions":"print(1)")x"),
      rec("humaneval", R"("prompt":"def add(a, b):\n    \"\"\"Sum.\"\"\"\n","canonical_solution":"    return a + b\n",)"
                       R"("test":"\n\ndef check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(2, 2) == 4\n","entry_point":"add")"),
      rec("mbpp", R"("code":"def add(a, b):\n    return a + b","test_list":["assert add(1, 2) == 3","assert add(0, 0) == 0"])"),
      rec("apps_call", R"("solutions":"[\"def add(a, b):\\n    return a + b\\n\"]",)"
                       R"("input_output":"{\"fn_name\": \"add\", \"inputs\": [[1, 2], [3, 4]], \"outputs\": [3, 7]}")"),
  });
  const OpRun run = run_op("code.verify", "{test_seconds: 1}", in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (std::vector<std::string>{"ok", "humaneval", "mbpp", "apps_call"})) << run.describe();
  const std::map<std::string, std::string> reasons = {
      {"fails", "reference_fails"},       {"timeout", "reference_timeout"}, {"crashes", "reference_fails"},
      {"no_solution", "missing_solution"}, {"blank_solution", "missing_solution"}, {"bad_tests", "unparseable_tests"},
      {"no_tests", "missing_tests"}};
  for (const auto& [id, reason] : reasons) EXPECT_EQ(run.reason_of(id), reason) << id << "\n" << run.describe();
  EXPECT_EQ(run.rejected.size(), reasons.size());

  EXPECT_EQ(run.detail_of("fails"), "test 1 of 2: expected '3\\n', got '2\\n'");
  EXPECT_EQ(run.detail_of("timeout"), "test 1 of 2: time limit exceeded");
  EXPECT_NE(run.detail_of("crashes").find("nosuchmodule"), std::string::npos) << run.detail_of("crashes");
  EXPECT_NE(run.detail_of("bad_tests").find("1 inputs and 0 outputs"), std::string::npos) << run.detail_of("bad_tests");
  EXPECT_NE(run.detail_of("blank_solution").find("holds no code"), std::string::npos) << run.detail_of("blank_solution");

  // Annotations of a run reference, kept or rejected.
  EXPECT_EQ(run.annotation_of("ok", "n_tests").value_or(""), "3");
  EXPECT_EQ(run.annotation_of("ok", "tests_passed").value_or(""), "3");
  EXPECT_EQ(run.annotation_of("ok", "test_outcomes").value_or(""), R"(["pass","pass","pass"])");
  EXPECT_EQ(run.annotation_of("ok", "verified").value_or(""), "true");
  EXPECT_EQ(run.annotation_of("humaneval", "test_outcomes").value_or(""), R"(["pass","pass"])");
  EXPECT_EQ(run.annotation_of("apps_call", "n_tests").value_or(""), "2");
  EXPECT_EQ(run.annotation_of("fails", "n_tests").value_or(""), "2");
  EXPECT_EQ(run.annotation_of("fails", "tests_passed").value_or(""), "1");
  EXPECT_EQ(run.annotation_of("fails", "test_outcomes").value_or(""), R"(["fail","pass"])");
  EXPECT_EQ(run.annotation_of("fails", "verified").value_or(""), "false");
  EXPECT_EQ(run.annotation_of("timeout", "test_outcomes").value_or(""), R"(["timeout","timeout"])");
  EXPECT_FALSE(run.annotation_of("ok", "reference_seconds").has_value());  // annotate_time is off
  EXPECT_FALSE(run.annotation_of("no_solution", "verified").has_value());

  // without_solution: keep -> the problems without a reference go on, verified: false.
  const OpRun keep = run_op("code.verify", "{test_seconds: 1, without_solution: keep}",
                            jsonl({rec("no_solution", kSumTests), rec("blank_solution", "\"solutions\":\"\"," + kSumTests),
                                   rec("fails", "\"solutions\":" + q("print(0)\n") + "," + kSumTests)}));
  ASSERT_EQ(keep.exit_code, 0) << keep.describe();
  EXPECT_EQ(keep.kept_ids(), (std::vector<std::string>{"no_solution", "blank_solution"})) << keep.describe();
  EXPECT_EQ(keep.annotation_of("no_solution", "verified").value_or(""), "false");
  EXPECT_EQ(keep.annotation_of("blank_solution", "verified").value_or(""), "false");
  EXPECT_FALSE(keep.annotation_of("no_solution", "n_tests").has_value());
  EXPECT_EQ(keep.reason_of("fails"), "reference_fails");
  EXPECT_EQ(keep.detail_of("fails"), "test 1 of 2: expected '3\\n', got '0\\n'");
}

TEST(plugins_code_verify, VerifyComparisonParameters) {
  SKIP_WITHOUT_SANDBOX();
  const std::string in = jsonl({
      rec("float", "\"solutions\":" + q("print(10 ** 0.5)\n") + R"(,"tests":[{"input":"","output":"3.1622776\n"}])"),
      rec("case", "\"solutions\":" + q("print('yes')\n") + R"(,"tests":[{"input":"","output":"YES\n"}])"),
      rec("lines", "\"solutions\":" + q("print(1)\nprint(2)\n") + R"(,"tests":[{"input":"","output":"1 2\n"}])"),
  });
  const OpRun strict = run_op("code.verify", "{test_seconds: 2}", in);
  ASSERT_EQ(strict.exit_code, 0) << strict.describe();
  EXPECT_EQ(strict.kept_ids(), (std::vector<std::string>{"lines"})) << strict.describe();
  const OpRun loose = run_op("code.verify", "{test_seconds: 2, float_tolerance: 1e-6, case_sensitive: false, compare: lines}", in);
  ASSERT_EQ(loose.exit_code, 0) << loose.describe();
  EXPECT_EQ(loose.kept_ids(), (std::vector<std::string>{"float", "case"})) << loose.describe();
  EXPECT_EQ(loose.reason_of("lines"), "reference_fails");
}

// ---- code.grade through the tamis binary --------------------------------------------------------

namespace {

std::string block(const std::string& program) { return "Here is my solution.\n```python\n" + program + "```\n"; }

const std::string kRight = block(kSumStdio);
const std::string kWrong = block("a, b = map(int, input().split())\nprint(a - b)\n");
const std::string kPartial = block("a, b = map(int, input().split())\nprint(a + b if a < 2 else 0)\n");  // the first test only
const std::string kLoops = block("while True:\n    pass\n");
const std::string kNoBlock = "Read a and b, then print(a + b).";
const std::string kUnclosedThink = "<think>\n" + kRight + "Hmm, let me check this again";

std::string responses(std::initializer_list<std::string> list) {
  std::string out = "\"responses\":[";
  bool first = true;
  for (const auto& r : list) {
    out += (first ? "" : ",") + q(r);
    first = false;
  }
  return out + "]";
}

}  // namespace

TEST(plugins_code_verify, GradeResponsesCorrectListAndCredits) {
  SKIP_WITHOUT_SANDBOX();
  const std::string in = jsonl({
      rec("mixed", kSumTests + "," + responses({kRight, kWrong, kNoBlock, kPartial, kLoops, kUnclosedThink})),
      rec("one_string", kSumTests + ",\"responses\":" + q(kRight)),
      rec("none", kSumTests),
      rec("empty", kSumTests + ",\"responses\":[]"),
  });
  const OpRun run = run_op("code.grade", "{test_seconds: 1}", in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (std::vector<std::string>{"mixed", "one_string"})) << run.describe();
  EXPECT_EQ(run.reason_of("none"), "missing_rollouts");
  EXPECT_EQ(run.reason_of("empty"), "missing_rollouts");
  ASSERT_EQ(run.kept.size(), 2u);
  EXPECT_EQ(json_raw(run.kept[0], "code_rollouts").value_or(""),
            R"({"correct":[true,false,false,false,false,false],"tests_passed":[2,0,0,1,0,0],"n_tests":2,"no_code_block":2})");
  EXPECT_NEAR(number_of(run.annotation_of("mixed", "pass_rate")), 1.0 / 6, 1e-9);
  EXPECT_EQ(run.annotation_of("mixed", "n_correct").value_or(""), "1");
  EXPECT_EQ(run.annotation_of("mixed", "n_samples").value_or(""), "6");
  EXPECT_NEAR(number_of(run.annotation_of("mixed", "partial_credit")), (1 + 0.5) / 6, 1e-6);
  EXPECT_EQ(run.annotation_of("mixed", "no_code_block").value_or(""), "2");
  EXPECT_EQ(json_raw(run.kept[1], "code_rollouts").value_or(""), R"({"correct":[true],"tests_passed":[2],"n_tests":2,"no_code_block":0})");
  EXPECT_EQ(number_of(run.annotation_of("one_string", "pass_rate")), 1.0);
  EXPECT_FALSE(run.annotation_of("one_string", "no_code_block").has_value());
  // rollouts_field names the field.
  const OpRun named = run_op("code.grade", "{test_seconds: 1, rollouts_field: graded}", jsonl({rec("one", kSumTests + "," + responses({kWrong, kRight}))}));
  ASSERT_EQ(named.exit_code, 0) << named.describe();
  ASSERT_EQ(named.kept.size(), 1u) << named.describe();
  EXPECT_EQ(json_raw(named.kept[0], "graded.correct").value_or(""), "[false,true]");
  EXPECT_FALSE(json_raw(named.kept[0], "code_rollouts").has_value());
}

TEST(plugins_code_verify, GradeFromASidecar) {
  SKIP_WITHOUT_SANDBOX();
  TempDir dir;
  const fs::path sidecar = dir / "responses.jsonl";
  write_file(sidecar, jsonl({
                          "{\"id\":\"p1\",\"responses\":[" + q(kRight) + "]}",
                          "{\"id\":\"p2\",\"responses\":[" + q(kNoBlock) + "," + q(kPartial) + "]}",
                          "",
                          "{\"id\":\"p1\",\"responses\":" + q(kWrong) + "}",  // a second line of p1: added in file order
                      }));
  const std::string in = jsonl({rec("p1", kSumTests), rec("p2", kSumTests), rec("p3", kSumTests)});
  const OpRun run = run_op("code.grade", "{test_seconds: 1, sidecar: " + q(sidecar.string()) + "}", in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (std::vector<std::string>{"p1", "p2"})) << run.describe();
  EXPECT_EQ(run.reason_of("p3"), "missing_rollouts");
  EXPECT_NE(run.detail_of("p3").find("p3"), std::string::npos) << run.detail_of("p3");
  EXPECT_EQ(json_raw(run.kept[0], "code_rollouts").value_or(""), R"({"correct":[true,false],"tests_passed":[2,0],"n_tests":2,"no_code_block":0})");
  EXPECT_EQ(json_raw(run.kept[1], "code_rollouts").value_or(""), R"({"correct":[false,false],"tests_passed":[0,1],"n_tests":2,"no_code_block":1})");
  EXPECT_NEAR(number_of(run.annotation_of("p2", "partial_credit")), 0.25, 1e-9);
}

TEST(plugins_code_verify, GradeThenDifficultyBandsCodeProblems) {
  SKIP_WITHOUT_SANDBOX();
  const std::string in = jsonl({
      rec("all", kSumTests + "," + responses({kRight, kRight, kRight})),
      rec("none", kSumTests + "," + responses({kWrong, kNoBlock, kPartial})),
      rec("third", kSumTests + "," + responses({kRight, kWrong, kNoBlock})),
      rec("two_thirds", kSumTests + "," + responses({kRight, kWrong, kRight})),
  });
  auto stages = [](const std::string& band) {
    return "  grade:\n    uses: code.grade\n    with: {test_seconds: 1}\n"
           "  band:\n    uses: grade.difficulty\n    with: {correct_field: code_rollouts.correct, " + band + "}\n";
  };
  const OpRun run = run_stages(stages("min: 0, max: 1"), in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (std::vector<std::string>{"third", "two_thirds"})) << run.describe();
  EXPECT_EQ(run.reason_of("all"), "too_easy");
  EXPECT_EQ(run.reason_of("none"), "too_hard");
  EXPECT_NEAR(number_of(run.annotation_of("third", "pass_rate")), 1.0 / 3, 1e-6);
  EXPECT_NEAR(number_of(run.annotation_of("two_thirds", "pass_rate")), 2.0 / 3, 1e-6);
  EXPECT_EQ(run.annotation_of("two_thirds", "n_samples").value_or(""), "3");
  // A narrower band: only 1/3 is at most 0.5.
  const OpRun narrow = run_stages(stages("min: 0.2, max: 0.5"), in);
  ASSERT_EQ(narrow.exit_code, 0) << narrow.describe();
  EXPECT_EQ(narrow.kept_ids(), (std::vector<std::string>{"third"})) << narrow.describe();
  EXPECT_EQ(narrow.reason_of("two_thirds"), "too_easy");
  EXPECT_EQ(narrow.reason_of("none"), "too_hard");
}

TEST(plugins_code_verify, OutputsAreTheSameAtAnyThreadCount) {
  SKIP_WITHOUT_SANDBOX();
  std::vector<std::string> lines;
  for (int i = 0; i < 6; ++i) {
    const std::string n = std::to_string(i);
    lines.push_back(rec("r" + n, "\"solutions\":" + q(i % 3 == 2 ? "print(0)\n" : kSumStdio) + "," + kSumTests + "," +
                                     responses({kRight, i % 2 ? kWrong : kPartial, kNoBlock, block("print(" + n + ")\n")})));
  }
  const std::string stages =
      "  verify:\n    uses: code.verify\n    with: {test_seconds: 2}\n"
      "  grade:\n    uses: code.grade\n    with: {test_seconds: 2}\n";
  OpOptions one, two;
  one.threads = 1;
  two.threads = 2;
  const OpRun a = run_stages(stages, jsonl(lines), one);
  const OpRun b = run_stages(stages, jsonl(lines), two);
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  ASSERT_EQ(b.exit_code, 0) << b.describe();
  EXPECT_EQ(a.kept.size(), 4u) << a.describe();
  EXPECT_EQ(a.rejected.size(), 2u) << a.describe();
  EXPECT_EQ(a.kept, b.kept);
  EXPECT_EQ(a.rejected, b.rejected);
}

// ---- train_leetcode's reference solutions -------------------------------------------------------

namespace {

struct LeetCodeProblem {
  std::string solution, tests, method;  // tests: the tests value as JSON
};

// The first `n` problems of train_leetcode (empty when the data is absent).
std::vector<LeetCodeProblem> leetcode_head(size_t n) {
  std::vector<LeetCodeProblem> out;
  const fs::path path = fs::path(TAMIS_SHARED_DATA) / "code" / "train_leetcode.jsonl";
  std::ifstream f(path);
  if (!f) return out;
  simdjson::dom::parser parser;
  const std::regex call(R"(check\(Solution\(\)\.(\w+)\))");
  for (std::string line; out.size() < n && std::getline(f, line);) {
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << line.substr(0, 200);
      continue;
    }
    LeetCodeProblem p;
    std::string_view s, functional;
    EXPECT_EQ(doc["solutions"].get_string().get(s), simdjson::SUCCESS);
    p.solution = std::string(s);
    EXPECT_EQ(doc["tests"]["functional"].get_string().get(functional), simdjson::SUCCESS);
    p.tests = simdjson::minify(doc["tests"].value_unsafe());
    std::smatch m;
    const std::string fn(functional);
    if (std::regex_search(fn, m, call)) p.method = m[1];
    EXPECT_FALSE(p.method.empty()) << fn;
    out.push_back(std::move(p));
  }
  return out;
}

std::string leetcode_record(size_t i, const std::string& solution, const std::string& tests) {
  return rec("L" + std::to_string(i), "\"solutions\":" + q(solution) + ",\"tests\":" + tests);
}

}  // namespace

TEST(plugins_code_verify, TrainLeetCodeReferencesVerifiedAndBrokenOnesRejected) {
  SKIP_WITHOUT_SANDBOX();
  const std::vector<LeetCodeProblem> problems = leetcode_head(60);
  if (problems.empty()) GTEST_SKIP() << "no ../shared/data/code/train_leetcode.jsonl";
  std::vector<std::string> as_is, no_return, swapped;
  for (size_t i = 0; i < problems.size(); ++i) {
    const LeetCodeProblem& p = problems[i];
    as_is.push_back(leetcode_record(i, p.solution, p.tests));
    // Each problem broken once (the run time: half the problems each way).
    if (i % 2 == 0) {
      // The method redefined after the class to return nothing.
      no_return.push_back(leetcode_record(i, p.solution + "\n\nSolution." + p.method + " = lambda self, *args, **kwargs: None\n", p.tests));
    } else {
      // The next problem's solution (one with another method name), its method under this one's name.
      size_t j = (i + 1) % problems.size();
      while (problems[j].method == p.method) j = (j + 1) % problems.size();
      swapped.push_back(leetcode_record(i, problems[j].solution + "\n\nSolution." + p.method + " = Solution." + problems[j].method + "\n", p.tests));
    }
  }
  auto reasons = [](const OpRun& run) {
    std::map<std::string, int> by;
    for (const auto& v : run.rejections()) ++by[v.reason];
    std::string s;
    for (const auto& [reason, n] : by) s += " " + reason + " " + std::to_string(n);
    return s;
  };

  const OpRun run = run_op("code.verify", "", jsonl(as_is));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept.size(), problems.size()) << reasons(run) << "\n" << (run.rejected.empty() ? "" : run.rejected[0].substr(0, 2000));
  for (const auto& l : run.kept) EXPECT_EQ(run.annotation(l, "verified").value_or(""), "true");
  std::printf("train_leetcode, first %zu: verified %zu, rejected %zu:%s\n", problems.size(), run.kept.size(), run.rejected.size(), reasons(run).c_str());

  for (const auto* broken : {&no_return, &swapped}) {
    const char* what = broken == &no_return ? "returning None" : "another problem's solution";
    const OpRun b = run_op("code.verify", "", jsonl(*broken));
    ASSERT_EQ(b.exit_code, 0) << b.describe();
    EXPECT_EQ(b.rejected.size(), broken->size()) << what;
    EXPECT_TRUE(b.kept.empty()) << what << ": " << b.kept.size() << " kept, the first " << (b.kept.empty() ? "" : b.kept[0].substr(0, 2000));
    for (const auto& v : b.rejections()) {
      EXPECT_EQ(v.reason, "reference_fails") << what << " " << v.id << ": " << v.detail;
      EXPECT_EQ(v.detail.rfind("test ", 0), 0u) << what << " " << v.id << ": " << v.detail;  // names the failing test
    }
    std::printf("train_leetcode, %zu of the first %zu, %s: kept %zu, rejected %zu:%s\n", broken->size(), problems.size(), what, b.kept.size(), b.rejected.size(), reasons(b).c_str());
  }
}

// Where no user namespace can be made (here: tamis itself run in a bwrap namespace with
// --disable-userns, as a locked-down container would be), code.verify refuses to start with the
// sandbox's message, and nothing is written: the code is never run unprotected.
TEST(plugins_code_verify, RefusesToRunWithoutASandbox) {
  SKIP_WITHOUT_SANDBOX();
  TempDir dir;
  write_file(dir / "in.jsonl", jsonl({rec("ok", "\"solutions\":" + q("print(input())\n") + R"(,"tests":[{"input":"1\n","output":"1\n"}])")}));
  write_file(dir / "p.yaml",
             "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n  verify: { uses: code.verify }\n"
             "sinks:\n  kept: { path: out/kept.jsonl }\n");
  const std::string tamis = TAMIS_BIN;
  const CommandResult locked = run_shell("cd " + dir.path().string() + " && bwrap --dev-bind / / --unshare-user --disable-userns --uid 0 -- " + tamis +
                                         " run p.yaml");
  EXPECT_NE(locked.exit_code, 0) << locked.err;
  EXPECT_NE(locked.err.find("the sandbox cannot be made"), std::string::npos) << locked.err;
  EXPECT_NE(locked.err.find("never run unprotected"), std::string::npos) << locked.err;
  EXPECT_FALSE(fs::exists(dir / "out" / "kept.jsonl"));
  // The same pipeline where namespaces can be made runs and verifies the problem.
  const CommandResult free = run_tamis({"run", "p.yaml"}, dir.path());
  ASSERT_EQ(free.exit_code, 0) << free.err;
  EXPECT_EQ(read_lines(dir / "out" / "kept.jsonl").size(), 1u);
}
