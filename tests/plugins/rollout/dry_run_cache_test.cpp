// `tamis run --dry-run` on rollout.sample (suite plugins_rollout_dry_run): the plan (samples at most, in
// the cache, tokens) without a request or a write; and the cache commands (suite
// plugins_rollout_cache_command): `tamis rollout cache stats|export`, the export read by difficulty.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake_openai_server.hpp"
#include "harness.hpp"

namespace {

using namespace tamis::test;

// Integers summing to 40 .. 44: the server gets 4 - (sum mod 5) of the seeds 0..3 right.
const std::vector<std::string> kProblems = {"What is 20 + 20?", "What is 30 + 11?", "What is 12 + 30?", "What is 40 + 3?",
                                            "What is 40 + 4?"};

std::string problems(size_t count) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < count; ++i)
    lines.push_back("{\"id\":\"p" + std::to_string(i) + "\",\"problem\":\"" + kProblems[i] + "\",\"answer\":\"" +
                    std::to_string(40 + i) + "\"}");
  return jsonl(lines);
}

std::string with(const FakeOpenAiServer& server, const fs::path& cache, const std::string& extra = "") {
  return "{endpoints: [\"" + server.base_url() + "\"], model: test-model, n: 4, max_tokens: 100, cache: \"" + cache.string() +
         "\", backoff_initial_seconds: 0.01" + (extra.empty() ? "" : ", " + extra) + "}";
}

OpOptions dry() {
  OpOptions o;
  o.args = {"--dry-run"};
  return o;
}

std::string stats_json(const fs::path& cache) {
  const auto r = run_tamis({"rollout", "cache", "stats", cache.string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

TEST(plugins_rollout_dry_run, counts_what_is_cached_and_sends_nothing) {
  FakeOpenAiServer server;
  TempDir dir;
  const fs::path cache = dir / "c.sqlite";
  const OpRun first = run_op("rollout.sample", with(server, cache), problems(3));
  ASSERT_EQ(first.exit_code, 0) << first.describe();
  ASSERT_EQ(server.requests(), 12);
  const std::string before = stats_json(cache);

  const OpRun plan = run_op("rollout.sample", with(server, cache), problems(5), dry());
  ASSERT_EQ(plan.exit_code, 0) << plan.describe();
  EXPECT_EQ(server.requests(), 12) << "the dry run sent requests";
  EXPECT_TRUE(plan.kept.empty() && plan.rejected.empty() && plan.ledger.empty() && plan.report.empty()) << "the dry run wrote outputs";
  EXPECT_EQ(stats_json(cache), before) << "the dry run changed the cache";
  EXPECT_NE(plan.out.find("\"records\":5,\"samples_budget\":20,\"samples_cached\":12,\"requests_at_most\":8"), std::string::npos)
      << plan.out;
  // Tokens: at most max_tokens per request; the estimate from the server's counts in the cache (the test
  // server says 12 completion tokens per response).
  EXPECT_NE(plan.out.find("\"completion_tokens_at_most\":800,\"completion_tokens_estimate\":96"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("\"prompt_tokens_from\":\"the cache's token counts\""), std::string::npos) << plan.out;
  EXPECT_NE(plan.err.find("5 records would ask at most 8 requests (20 samples, 12 already in the cache)"), std::string::npos) << plan.err;
  EXPECT_NE(plan.out.find("dry_run"), std::string::npos) << plan.out;  // the records stop at the stage

  // The plan was right: the real run asks exactly those 8.
  const OpRun real = run_op("rollout.sample", with(server, cache), problems(5));
  ASSERT_EQ(real.exit_code, 0) << real.describe();
  EXPECT_EQ(server.requests(), 20);
}

TEST(plugins_rollout_dry_run, creates_no_cache_and_needs_no_key) {
  FakeOpenAiServer server;
  TempDir dir;
  const fs::path cache = dir / "new/folder/c.sqlite";
  const OpRun plan = run_op("rollout.sample", with(server, cache, "api_key_env: TAMIS_TEST_NO_SUCH_KEY, sidecar: \"" +
                                                                      (dir / "side/s.jsonl").string() + "\""),
                            problems(5), dry());
  ASSERT_EQ(plan.exit_code, 0) << plan.describe();
  EXPECT_EQ(server.requests(), 0);
  EXPECT_FALSE(fs::exists(dir / "new")) << "the dry run created the cache's folder";
  EXPECT_FALSE(fs::exists(dir / "side")) << "the dry run wrote a sidecar";
  EXPECT_NE(plan.err.find("TAMIS_TEST_NO_SUCH_KEY"), std::string::npos) << plan.err;  // a warning, not a stop
  EXPECT_NE(plan.out.find("\"samples_cached\":0,\"requests_at_most\":20"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("\"prompt_tokens_from\":\"4 bytes per token\""), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("\"completion_tokens_estimate\":null"), std::string::npos) << plan.out;
  // Without --dry-run the unset key stops the run.
  const OpRun real = run_op("rollout.sample", with(server, cache, "api_key_env: TAMIS_TEST_NO_SUCH_KEY"), problems(5));
  EXPECT_NE(real.exit_code, 0);
}

TEST(plugins_rollout_dry_run, the_stages_downstream_see_no_record) {
  FakeOpenAiServer server;
  TempDir dir;
  const std::string stages = "  sample:\n    uses: rollout.sample\n    with: " + with(server, dir / "c.sqlite") +
                             "\n  band:\n    uses: grade.difficulty\n    with: {answers_field: rollouts.answers, correct_field: rollouts.correct}\n";
  OpOptions o = dry();
  const OpRun plan = run_stages(stages, problems(5), o);
  ASSERT_EQ(plan.exit_code, 0) << plan.describe();
  EXPECT_EQ(server.requests(), 0);
  // No "rejected nearly everything for a missing field" warning from difficulty: it saw nothing.
  EXPECT_EQ(plan.err.find("warning"), std::string::npos) << plan.err;
  EXPECT_NE(plan.out.find("read 5 = kept 0 + rejected 5 + errors 0  (balanced)"), std::string::npos) << plan.out;
}

// pipelines/rollouts-math.yaml pointed at the loopback server (its benchmarks for decontamination come
// from ../shared/data): one run samples, grades and bands; a rerun asks nothing and writes the same bytes.
TEST(plugins_rollout_dry_run, the_recipe_runs_against_an_endpoint) {
  if (shared_data("math/math500_test.jsonl").empty()) GTEST_SKIP() << "../shared/data is absent";
  FakeOpenAiServer server;
  TempDir dir;
  std::vector<std::string> lines;
  for (int i = 0; i < 40; ++i)  // the server's rule: the integers' sum, right for 4 - (sum mod 5) of the first 4 seeds
    lines.push_back("{\"problem\":\"Compute " + std::to_string(100 + i) + " plus " + std::to_string(3 * i) + ".\",\"answer\":\"" +
                    std::to_string(100 + 4 * i) + "\"}");
  write_file(dir / "in.jsonl", jsonl(lines));
  auto run = [&](const std::string& out, const std::string& extra) {
    return run_shell("TAMIS_INPUT='" + (dir / "in.jsonl").string() + "' TAMIS_ENDPOINT='" + server.base_url() + "' TAMIS_MODEL=test-model TAMIS_OUT='" +
                     (dir / out).string() + "' '" + std::string(tamis_bin()) + "' run '" +
                     (source_dir() / "pipelines/rollouts-math.yaml").string() + "' " + extra);
  };
  const auto plan = run("a", "--dry-run");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(server.requests(), 0);
  EXPECT_NE(plan.out.find("\"records\":40,\"samples_budget\":640,\"samples_cached\":0,\"requests_at_most\":640"), std::string::npos) << plan.out;
  const auto first = run("a", "--threads 2");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const int64_t asked = server.requests();
  EXPECT_GT(asked, 0);
  EXPECT_LE(asked, 640);
  EXPECT_NE(first.out.find("read 40 = kept "), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("(balanced)"), std::string::npos) << first.out;
  EXPECT_FALSE(read_lines(dir / "a/train.jsonl").empty()) << first.out;
  const auto again = run("b", "--threads 1");  // another output folder, the cache of that folder is new: ...
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(server.requests(), 2 * asked) << "a new cache asks the same samples again";
  const auto rerun = run("a", "--threads 1");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(server.requests(), 2 * asked) << "the rerun asked the server";
  EXPECT_EQ(read_file(dir / "a/train.jsonl"), read_file(dir / "b/train.jsonl"));
  EXPECT_EQ(read_file(dir / "a/rejected.jsonl"), read_file(dir / "b/rejected.jsonl"));
}

TEST(plugins_rollout_cache_command, stats_and_export_feed_difficulty) {
  FakeOpenAiServer server;
  TempDir dir;
  const fs::path cache = dir / "c.sqlite";
  const OpRun run = run_op("rollout.sample", with(server, cache), problems(5));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  // Run twice: the records are remembered once.
  ASSERT_EQ(run_op("rollout.sample", with(server, cache), problems(5)).exit_code, 0);

  const std::string json = stats_json(cache);
  EXPECT_NE(json.find("\"model\":\"test-model\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"prompts\":5,\"responses\":20,\"truncated\":0"), std::string::npos) << json;
  EXPECT_NE(json.find("\"completion_tokens\":240"), std::string::npos) << json;
  EXPECT_NE(json.find("\"records\":5}"), std::string::npos) << json;
  const auto text = run_tamis({"rollout", "cache", "stats", cache.string()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("model test-model"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(mean 12 per response)"), std::string::npos) << text.out;

  const fs::path out = dir / "export.jsonl";
  const auto e = run_tamis({"rollout", "cache", "export", cache.string(), "--out", out.string()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto lines = read_lines(out);
  ASSERT_EQ(lines.size(), 5u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(json_string(lines[i], "id"), "p" + std::to_string(i));
    EXPECT_EQ(json_string(lines[i], "model"), "test-model");
    EXPECT_EQ(json_raw(lines[i], "samples"), "[0,1,2,3]");
    for (int seed = 0; seed < 4; ++seed)
      EXPECT_EQ(json_string(lines[i], "/responses/" + std::to_string(seed)), FakeOpenAiServer::response_for(kProblems[i], seed));
  }
  // difficulty reading the export decides as it does reading the rollouts field (op_test: 4/4 too easy,
  // 3/4 and 2/4 kept, 1/4 and 0/4 suspect labels).
  const OpRun from_export = run_op("grade.difficulty", "{sidecar: \"" + out.string() + "\", sidecar_field: responses}", problems(5));
  ASSERT_EQ(from_export.exit_code, 0) << from_export.describe();
  EXPECT_EQ(from_export.kept_ids(), (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(from_export.reasons(), (std::vector<std::string>{"too_easy", "suspect_label", "suspect_label"}));

  // --model keeps one model's lines; --prompts adds the prompt.
  const fs::path other = dir / "other.jsonl";
  ASSERT_EQ(run_tamis({"rollout", "cache", "export", cache.string(), "--out", other.string(), "--model", "nobody"}).exit_code, 0);
  EXPECT_TRUE(read_lines(other).empty());
  ASSERT_EQ(run_tamis({"rollout", "cache", "export", cache.string(), "--out", other.string(), "--prompts"}).exit_code, 0);
  EXPECT_NE(json_string(read_lines(other)[0], "prompt").value_or("").find(kProblems[0]), std::string::npos);
}

TEST(plugins_rollout_cache_command, errors_name_the_problem) {
  TempDir dir;
  write_file(dir / "not.sqlite", "this is not a database, it is text that is long enough to be read as a header...\n");
  auto r = run_tamis({"rollout", "cache", "stats", (dir / "not.sqlite").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find((dir / "not.sqlite").string()), std::string::npos) << r.err;
  r = run_tamis({"rollout", "cache", "stats", (dir / "absent.sqlite").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;
  r = run_tamis({"rollout", "cache", "export", (dir / "absent.sqlite").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
  r = run_tamis({"rollout", "cache", "stats", "a", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option --bogus"), std::string::npos) << r.err;
  write_file(dir / "c.sqlite", "");
  r = run_tamis({"rollout", "cache", "export", (dir / "c.sqlite").string(), "--out", (dir / "c.sqlite").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is the cache itself"), std::string::npos) << r.err;
  // The plugin's commands are listed; an unknown one is named.
  r = run_tamis({"rollout"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("tamis rollout cache stats FILE.sqlite [--json]"), std::string::npos) << r.err;
  r = run_tamis({"rollout", "nosuch"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("plugin 'rollout' has no command 'nosuch'"), std::string::npos) << r.err;
  r = run_tamis({"plugins", "list"});
  EXPECT_NE(r.out.find("tamis rollout cache"), std::string::npos) << r.out;
}

}  // namespace
