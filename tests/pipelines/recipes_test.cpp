// The ready recipes in pipelines/ run from the shell, balance their counts, and give the same bytes for
// any thread count. Recipes that read ../shared/data skip when it is absent.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "test_support.hpp"

namespace tamis::test {
namespace {

CommandResult run_recipe(const std::string& recipe, const fs::path& out, const std::string& threads) {
  return run_shell("TAMIS_OUT='" + out.string() + "' '" + std::string(tamis_bin()) + "' run '" +
                   (source_dir() / "pipelines" / recipe).string() + "' --threads " + threads);
}

TEST(Recipes, DemoRunsAndBalances) {
  TempDir d;
  const auto r = run_recipe("demo.yaml", d.path(), "2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("read 14 = kept 8 + rejected 5 + errors 1  (balanced)"), std::string::npos) << r.out;
  EXPECT_EQ(read_lines(d / "ledger.jsonl").size(), 14u);
}

TEST(Recipes, MagistralMathOnGsm8kRollouts) {
  if (shared_data("gsm8k/example_model_solutions.jsonl").empty()) GTEST_SKIP() << "../shared/data is absent";
  TempDir one, two;
  const auto r1 = run_recipe("magistral-math.yaml", one.path(), "1");
  const auto r2 = run_recipe("magistral-math.yaml", two.path(), "2");
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  // 1,319 problems with 4 graded solutions each: problems solved by all 4 or none are dropped, and
  // those where 3 of 4 solutions agree on an answer other than the reference (docs/recipes.md).
  EXPECT_NE(r1.out.find("read 1,319 = kept 723 + rejected 596 + errors 0  (balanced)"), std::string::npos) << r1.out;
  for (const char* f : {"train.jsonl", "rejected.jsonl", "ledger.jsonl", "translation-requests.jsonl"})
    EXPECT_EQ(read_file(one / f), read_file(two / f)) << f << " differs between --threads 1 and 2";
  // Every kept problem has a language; about 10% are tagged for translation, each exported once, and
  // no target language gets more than twice another's share.
  const auto kept = read_lines(one / "train.jsonl");
  std::map<std::string, int> targets;
  size_t tagged = 0;
  for (const auto& line : kept) {
    EXPECT_NE(line.find("\"lang\":\"en\""), std::string::npos) << line;
    const size_t at = line.find("\"translate_to\":\"");
    if (at == std::string::npos) continue;
    ++tagged;
    targets[line.substr(at + 16, 2)]++;
  }
  EXPECT_GE(tagged, 50u);
  EXPECT_LE(tagged, 95u);
  EXPECT_EQ(targets.size(), 6u);
  for (const auto& [lang, n] : targets) EXPECT_GE(n * 2, static_cast<int>(tagged / 6)) << lang;
  const auto requests = read_lines(one / "translation-requests.jsonl");
  EXPECT_EQ(requests.size(), tagged);
  for (const auto& line : requests) EXPECT_NE(line.find("\"url\":\"/v1/chat/completions\""), std::string::npos) << line;
  // Every dropped problem says why.
  for (const auto& line : read_lines(one / "rejected.jsonl")) {
    EXPECT_NE(line.find("\"rejected_by\":\"difficulty\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"reason\":\""), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace tamis::test
