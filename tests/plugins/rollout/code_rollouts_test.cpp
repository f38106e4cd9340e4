// Graded code rollouts end to end (suite plugins_rollout_code): pipelines/code-rollouts.yaml through the
// real tamis binary against the loopback server, which answers 12 real LeetCode problems of
// ../shared/data/code/train_leetcode.jsonl from a script: for problem i, k_i of the 4 seeds answer the
// problem's reference solution in a code block, the others a wrong program in one (or, for one problem,
// no Python block at all). rollout.sample keeps the responses whole (reference_field ""), code.grade runs
// their last code blocks against the tests in the sandbox, grade.difficulty bands the correct lists.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <tamis/json.hpp>

#include "fake_openai_server.hpp"
#include "harness.hpp"
#include "sandbox.hpp"

namespace {

using namespace tamis::test;

constexpr int kSeeds = 4;  // n: samples 0..3 are asked with seeds 0..3 (seed base 0, docs/rollouts.md)

// How many of the 4 seeds answer right, per problem. The last problem answers without a Python block.
constexpr std::array<int, 12> kRight = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 2, 0};
constexpr size_t kNoBlock = 11;

// One LeetCode problem: statement, reference solution, check(candidate) tests of the form
// `assert candidate(...) == value` (one call each), and the method they call.
struct Problem {
  std::string problem, solution, tests, method;
  int n_tests = 0;
};

// The first 12 problems of the file whose tests are only `assert candidate(...) == value` lines (so a
// program whose method returns a value equal to nothing passes none of them, and one that is wrong on
// every other call passes exactly half, rounded down) and whose reference does not call its own method
// (the wrong programs replace it); distinct methods (another problem's solution lacks this one's).
std::vector<Problem> leetcode_problems(const fs::path& file) {
  std::vector<Problem> out;
  std::istringstream in(read_file(file));
  simdjson::dom::parser parser;
  const std::regex last_line(R"(check\(Solution\(\)\.(\w+)\))");
  std::vector<std::string> methods, statements;
  std::string line;
  while (out.size() < kRight.size() && std::getline(in, line)) {
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS) continue;
    std::string_view problem, solution, tests;
    if (doc["problem"].get_string().get(problem) || doc["solutions"].get_string().get(solution) ||
        doc["tests"]["functional"].get_string().get(tests))
      continue;
    std::vector<std::string> lines;
    std::istringstream t{std::string(tests)};
    for (std::string l; std::getline(t, l);)
      if (l.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(l);
    std::smatch m;
    if (lines.size() < 4 || lines.front() != "def check(candidate):" || !std::regex_match(lines.back(), m, last_line)) continue;
    const std::string method = m[1];
    bool plain = true;
    for (size_t k = 1; k + 1 < lines.size(); ++k) {
      const std::string& l = lines[k];
      size_t calls = 0, eqs = 0;
      for (size_t p = l.find("candidate("); p != std::string::npos; p = l.find("candidate(", p + 1)) ++calls;
      for (size_t p = l.find(" == "); p != std::string::npos; p = l.find(" == ", p + 1)) ++eqs;
      plain = plain && l.rfind("    assert candidate(", 0) == 0 && calls == 1 && eqs == 1;
    }
    const std::string sol(solution);
    if (!plain || sol.find("class Solution") == std::string::npos || sol.find("self." + method + "(") != std::string::npos ||
        sol.find("```") != std::string::npos || std::find(methods.begin(), methods.end(), method) != methods.end() ||
        std::find(statements.begin(), statements.end(), std::string(problem)) != statements.end())
      continue;
    methods.push_back(method);
    statements.emplace_back(problem);
    out.push_back({std::string(problem), sol, std::string(tests), method, static_cast<int>(lines.size()) - 2});
  }
  return out;
}

// The script. Seed s of problem i answers right when (s + i) mod 4 < k_i, so each problem's right seeds
// are another rotation.
bool right(size_t i, int64_t seed) { return (seed + static_cast<int64_t>(i)) % kSeeds < kRight[i]; }

// The wrong programs, by (i + seed) mod 3: the method returns a value equal to nothing (0 tests pass);
// it is wrong on every other call (half of the tests, rounded down); the next problem's solution (no such
// method: the check fails before any test).
int wrong_kind(size_t i, int64_t seed) { return static_cast<int>((static_cast<int64_t>(i) + seed) % 3); }

const char* const kNever = "\n\nclass _Never:\n    def __eq__(self, other):\n        return False\n    __hash__ = None\n";

std::string never_program(const Problem& p) {
  return p.solution + kNever + "\n\ndef _never(self, *args, **kwargs):\n    return _Never()\n\n\nSolution." + p.method + " = _never\n";
}

std::string half_program(const Problem& p) {
  return p.solution + kNever + "\n\n_calls = [0]\n_right = Solution." + p.method +
         "\n\n\ndef _half(self, *args, **kwargs):\n    _calls[0] += 1\n    if _calls[0] % 2 == 1:\n        return _Never()\n"
         "    return _right(self, *args, **kwargs)\n\n\nSolution." +
         p.method + " = _half\n";
}

std::string block(const std::string& program, const char* tag = "python") { return std::string("```") + tag + "\n" + program + "```\n"; }

std::string answer(const std::vector<Problem>& problems, size_t i, int64_t seed) {
  const Problem& p = problems[i];
  if (i == kNoBlock)  // prose only, or the reference in a C++ block (passed over: not Python)
    return seed % 2 == 0 ? "Keep a hash map of what was seen; I will not write the code.\n"
                         : "Here is my solution:\n" + block(p.solution, "cpp");
  if (right(i, seed))  // odd seeds: a wrong first try, then the right program last
    return seed % 2 == 0 ? "Here is my solution:\n" + block(p.solution)
                         : "A first try:\n" + block(never_program(p)) + "That fails; fixed:\n" + block(p.solution, "py") + "Done.\n";
  switch (wrong_kind(i, seed)) {
    case 0:  // odd seeds: the right program first, then the wrong one last
      return seed % 2 == 0 ? "Here is my solution:\n" + block(never_program(p))
                           : "Draft:\n" + block(p.solution) + "Simpler:\n" + block(never_program(p));
    case 1: return "Here is my solution:\n" + block(half_program(p));
    default: return "Here is my solution:\n" + block(problems[(i + 1) % problems.size()].solution);
  }
}

int expected_passed(const std::vector<Problem>& problems, size_t i, int64_t seed) {
  if (i == kNoBlock) return 0;
  if (right(i, seed)) return problems[i].n_tests;
  return wrong_kind(i, seed) == 1 ? problems[i].n_tests / 2 : 0;
}

// Where two outputs first differ: the line number and both lines' first 300 bytes ("" when equal).
std::string first_difference(const std::string& a, const std::string& b) {
  if (a == b) return "";
  std::istringstream x(a), y(b);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ga = static_cast<bool>(std::getline(x, la)), gb = static_cast<bool>(std::getline(y, lb));
    if (!ga && !gb) return "the same lines, other bytes";
    if (!ga || !gb || la != lb)
      return "line " + std::to_string(line) + ":\n  " + (ga ? la.substr(0, 300) : "(none)") + "\n  " + (gb ? lb.substr(0, 300) : "(none)");
  }
}

std::string pid(size_t i) { return "p" + std::to_string(100 + i).substr(1); }

class plugins_rollout_code : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = tamis::code::Sandbox::unavailable()) GTEST_SKIP() << "no sandbox here: " << *why;
    const fs::path file = shared_data("code/train_leetcode.jsonl");
    if (file.empty()) GTEST_SKIP() << "../shared/data is absent";
    problems_ = leetcode_problems(file);
    ASSERT_EQ(problems_.size(), kRight.size());
    std::vector<std::string> lines;
    for (size_t i = 0; i < problems_.size(); ++i) {
      const Problem& p = problems_[i];
      index_[p.problem] = i;
      lines.push_back("{\"pid\":\"" + pid(i) + "\",\"problem\":" + tamis::json::quote(p.problem) + ",\"solutions\":" +
                      tamis::json::quote(p.solution) + ",\"tests\":{\"functional\":" + tamis::json::quote(p.tests) + "}}");
    }
    write_file(dir_ / "in.jsonl", jsonl(lines));
    server_.set_responder([this](const std::string&, const std::string& user, int64_t seed) -> std::optional<std::string> {
      const auto it = index_.find(user);  // index_ is not written once the server is asked
      if (it == index_.end() || seed < 0 || seed >= kSeeds) return std::nullopt;
      return answer(problems_, it->second, seed);
    });
  }

  // pipelines/code-rollouts.yaml pointed at the server: n 4, the band 1..3 of 4.
  CommandResult run(const std::string& out, int threads) {
    return run_shell("TAMIS_INPUT='" + (dir_ / "in.jsonl").string() + "' TAMIS_ENDPOINT='" + server_.base_url() +
                     "' TAMIS_MODEL=test-model TAMIS_OUT='" + (dir_ / out).string() + "' '" + std::string(tamis_bin()) + "' run '" +
                     (source_dir() / "pipelines/code-rollouts.yaml").string() + "' --threads " + std::to_string(threads) +
                     " --set rollouts.n=4 --set difficulty.min=0.25 --set difficulty.max=0.75");
  }

  // The output lines of `out` (train, then rejected), by pid.
  std::map<std::string, std::string> lines_by_pid(const std::string& out) {
    std::map<std::string, std::string> by;
    for (const char* sink : {"train.jsonl", "rejected.jsonl"})
      for (const std::string& l : read_lines(dir_ / out / sink)) {
        const auto id = json_string(l, "pid");
        EXPECT_TRUE(id.has_value()) << l.substr(0, 200);
        if (id) {
          EXPECT_TRUE(by.emplace(*id, l).second) << "two lines of " << *id;
        }
      }
    return by;
  }

  TempDir dir_;
  FakeOpenAiServer server_;
  std::vector<Problem> problems_;
  std::map<std::string, size_t> index_;
};

TEST_F(plugins_rollout_code, pass_rates_and_the_band_follow_the_script) {
  const auto first = run("a", 2);
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  EXPECT_NE(first.out.find("read 12 = kept 7 + rejected 5 + errors 0  (balanced)"), std::string::npos) << first.out;
  // Every (problem, seed 0..3) asked once, nothing else.
  EXPECT_EQ(server_.requests(), 48);
  const auto keys = server_.per_key();
  EXPECT_EQ(keys.size(), 48u);
  for (const auto& [key, count] : keys) EXPECT_EQ(count, 1) << key.substr(key.size() - 40);
  // The recipe's system prompt asks for the block (the server answers from the user message alone).
  EXPECT_NE(server_.last_body().find(R"({"role":"system","content":"Solve the problem in Python 3. End your answer with the complete program in one ```python code block;)"),
            std::string::npos)
      << server_.last_body().substr(0, 400);

  const auto by = lines_by_pid("a");
  ASSERT_EQ(by.size(), problems_.size());
  const auto train = read_lines(dir_ / "a/train.jsonl");
  std::vector<std::string> kept_ids;
  for (const auto& l : train) kept_ids.push_back(json_string(l, "pid").value_or(""));
  EXPECT_EQ(kept_ids, (std::vector<std::string>{"p01", "p02", "p03", "p06", "p07", "p08", "p10"}));  // 1..3 of 4, in input order
  for (size_t i = 0; i < problems_.size(); ++i) {
    SCOPED_TRACE(pid(i) + " " + problems_[i].method + ", " + std::to_string(kRight[i]) + " of 4 right");
    const std::string& l = by.at(pid(i));
    // code.grade's field: correct and tests passed per seed, in sample order.
    std::string correct = "[", passed = "[";
    double credit = 0;
    for (int64_t s = 0; s < kSeeds; ++s) {
      const bool ok = i != kNoBlock && right(i, s);
      correct += std::string(s ? "," : "") + (ok ? "true" : "false");
      passed += (s ? "," : "") + std::to_string(expected_passed(problems_, i, s));
      credit += static_cast<double>(expected_passed(problems_, i, s)) / problems_[i].n_tests;
    }
    EXPECT_EQ(json_raw(l, "code_rollouts.correct"), correct + "]");
    EXPECT_EQ(json_raw(l, "code_rollouts.tests_passed"), passed + "]");
    EXPECT_EQ(json_int(l, "code_rollouts.n_tests"), problems_[i].n_tests);  // also without any block: the declared asserts
    EXPECT_EQ(json_int(l, "code_rollouts.no_code_block"), i == kNoBlock ? 4 : 0);
    // The rollouts field: the responses whole, in seed order.
    for (int64_t s = 0; s < kSeeds; ++s)
      EXPECT_EQ(json_string(l, "/rollouts/responses/" + std::to_string(s)), answer(problems_, i, s)) << "seed " << s;
    // The annotations: code.grade's pass rate, exactly k/4, and grade.difficulty's.
    const std::string rate = tamis::json::number(kRight[i] / 4.0);
    EXPECT_EQ(json_raw(l, "tamis.pass_rate"), rate) << l.substr(l.rfind("\"tamis\""));
    EXPECT_EQ(json_int(l, "tamis.n_correct"), kRight[i]);
    EXPECT_EQ(json_int(l, "tamis.n_samples"), 4);
    const auto partial = json_raw(l, "tamis.partial_credit");
    ASSERT_TRUE(partial.has_value());
    EXPECT_NEAR(std::stod(*partial), credit / 4, 1e-6);
    // The band: 0 of 4 too hard, 4 of 4 too easy, 1..3 kept.
    const auto stage = json_string(l, "tamis.rejected_by");
    const auto reason = json_string(l, "tamis.reason");
    if (kRight[i] == 0) {
      EXPECT_EQ(stage.value_or("(kept)"), "difficulty");
      EXPECT_EQ(reason, "too_hard");
    } else if (kRight[i] == 4) {
      EXPECT_EQ(stage.value_or("(kept)"), "difficulty");
      EXPECT_EQ(reason, "too_easy");
    } else {
      EXPECT_FALSE(reason.has_value()) << *reason;
    }
    if (reason) {
      EXPECT_EQ(json_string(l, "tamis.detail"), std::to_string(kRight[i]) + "/4 correct");
    }
  }
}

// A rerun reads every response from the cache (the server is asked nothing) and writes the same bytes;
// a run at 1 thread with a new cache asks the same 48 samples and writes the same bytes as one at 2.
TEST_F(plugins_rollout_code, reruns_and_thread_counts_write_the_same_bytes) {
  const auto first = run("a", 2);
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  ASSERT_EQ(server_.requests(), 48);
  std::map<std::string, std::string> outputs;
  for (const char* f : {"train.jsonl", "rejected.jsonl", "ledger.jsonl"}) outputs[f] = read_file(dir_ / "a" / f);
  ASSERT_FALSE(outputs["train.jsonl"].empty());
  ASSERT_FALSE(outputs["rejected.jsonl"].empty());

  const auto other = run("b", 1);  // another output folder: a new cache
  ASSERT_EQ(other.exit_code, 0) << other.err << other.out;
  EXPECT_EQ(server_.requests(), 96) << "a new cache asks the same samples again";
  const auto rerun = run("a", 1);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err << rerun.out;
  EXPECT_EQ(server_.requests(), 96) << "the rerun asked the server";
  for (const auto& [f, bytes] : outputs) {
    EXPECT_EQ(first_difference(read_file(dir_ / "a" / f), bytes), "") << f << ": the rerun wrote other bytes";
    EXPECT_EQ(first_difference(read_file(dir_ / "b" / f), bytes), "") << f << ": 1 thread and 2 threads wrote other bytes";
  }
}

}  // namespace
