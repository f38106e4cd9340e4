// rollout.sample through the real tamis binary against the loopback server (suite plugins_rollout_op):
// grading and annotations, difficulty downstream, reruns from the cache, faults, failures, the API key,
// and a run killed with SIGKILL and restarted.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <thread>

#include <tamis/json.hpp>

#include "cache.hpp"
#include "fake_openai_server.hpp"
#include "harness.hpp"

namespace {

using namespace tamis::test;
using Fault = FakeOpenAiServer::Fault;

// Problems whose integers sum to 40 .. 44: the server gets 4 - (sum mod 5) of the seeds 0..3 right.
const std::vector<std::pair<std::string, int64_t>> kProblems = {
    {"What is 20 + 20?", 40}, {"What is 30 + 11?", 41}, {"What is 12 + 30?", 42}, {"What is 40 + 3?", 43}, {"What is 40 + 4?", 44}};

std::string problems_jsonl(size_t copies = 1) {
  std::vector<std::string> lines;
  for (size_t c = 0; c < copies; ++c)
    for (size_t i = 0; i < kProblems.size(); ++i) {
      // Each copy gets other numbers (so another prompt), with the same sum mod 5 pattern.
      const std::string problem = c == 0 ? kProblems[i].first : kProblems[i].first + " (variant " + std::to_string(c * 5) + ")";
      const int64_t answer = kProblems[i].second + static_cast<int64_t>(c * 5);
      lines.push_back("{\"id\":\"p" + std::to_string(c) + "_" + std::to_string(i) + "\",\"problem\":\"" + problem + "\",\"answer\":\"" +
                      std::to_string(answer) + "\"}");
    }
  return jsonl(lines);
}

// The stage's `with`: endpoint, model, cache and short backoffs, n 4 unless `extra` sets n.
std::string with(const FakeOpenAiServer& server, const fs::path& cache, const std::string& extra = "") {
  const bool sets_n = extra.rfind("n:", 0) == 0 || extra.find(", n:") != std::string::npos;
  return "{endpoints: [\"" + server.base_url() + "\"], model: test-model, " + (sets_n ? "" : "n: 4, ") + "cache: \"" + cache.string() +
         "\", backoff_initial_seconds: 0.01, backoff_max_seconds: 0.05" + (extra.empty() ? "" : ", " + extra) + "}";
}

std::string outputs(const OpRun& run) {
  std::string all;
  for (const auto* part : {&run.kept, &run.rejected, &run.ledger}) {
    for (const auto& l : *part) all += l + "\n";
    all += "--\n";
  }
  return all;
}

TEST(plugins_rollout_op, grades_and_annotates) {
  FakeOpenAiServer server;
  TempDir dir;
  const OpRun run = run_op("rollout.sample", with(server, dir / "new/folder/c.sqlite"), problems_jsonl());
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 5u) << run.describe();
  EXPECT_TRUE(fs::exists(dir / "new/folder/c.sqlite"));
  EXPECT_EQ(server.requests(), 20);
  for (size_t i = 0; i < kProblems.size(); ++i) {
    const auto& line = run.kept[i];
    int64_t right = 0;
    for (int seed = 0; seed < 4; ++seed) right += FakeOpenAiServer::right_for(kProblems[i].first, seed) ? 1 : 0;
    EXPECT_EQ(run.annotation(line, "n_samples"), "4") << line;
    EXPECT_EQ(run.annotation(line, "n_correct"), std::to_string(right)) << line;
    EXPECT_DOUBLE_EQ(std::stod(*run.annotation(line, "pass_rate")), static_cast<double>(right) / 4.0) << line;
    EXPECT_EQ(run.annotation(line, "n_truncated"), "0");
    // The majority: the right answer when at least as many seeds get it right, else sum + 1.
    const int64_t major = right >= 2 ? kProblems[i].second : kProblems[i].second + 1;
    EXPECT_EQ(run.annotation(line, "majority_answer"), "\"" + std::to_string(major) + "\"") << line;
    // The rollouts field: one answer and one mark per sample, in seed order.
    std::string answers = "[", marks = "[";
    for (int seed = 0; seed < 4; ++seed) {
      const bool ok = FakeOpenAiServer::right_for(kProblems[i].first, seed);
      answers += std::string(seed ? "," : "") + "\"" + std::to_string(ok ? kProblems[i].second : kProblems[i].second + 1) + "\"";
      marks += std::string(seed ? "," : "") + (ok ? "true" : "false");
    }
    EXPECT_EQ(json_raw(line, "rollouts"), "{\"model\":\"test-model\",\"answers\":" + answers + "],\"correct\":" + marks + "]}") << line;
  }
}

TEST(plugins_rollout_op, difficulty_runs_unchanged_downstream) {
  FakeOpenAiServer server;
  TempDir dir;
  const std::string stages = "  sample:\n    uses: rollout.sample\n    with: " + with(server, dir / "c.sqlite") +
                             "\n  band:\n    uses: grade.difficulty\n    with: {answers_field: rollouts.answers, correct_field: rollouts.correct}\n";
  const OpRun run = run_stages(stages, problems_jsonl());
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  // 4/4 too easy; 3/4 and 2/4 kept; 1/4 and 0/4: the majority (sum + 1) has more than twice the correct ones.
  EXPECT_EQ(run.kept_ids(), (std::vector<std::string>{"p0_1", "p0_2"}));
  EXPECT_EQ(run.reasons(), (std::vector<std::string>{"too_easy", "suspect_label", "suspect_label"}));
  EXPECT_EQ(run.annotation(run.kept[0], "pass_rate"), "0.75");
}

TEST(plugins_rollout_op, sidecar_export_feeds_difficulty) {
  FakeOpenAiServer server;
  TempDir dir;
  const fs::path side = dir / "export/rollouts.jsonl";
  const OpRun run = run_op("rollout.sample", with(server, dir / "c.sqlite", "sidecar: \"" + side.string() + "\""), problems_jsonl());
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  const auto lines = read_lines(side);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(json_string(lines[0], "id"), "p0_0");
  EXPECT_EQ(json_string(lines[0], "model"), "test-model");
  EXPECT_EQ(json_string(lines[3], "/responses/0"), FakeOpenAiServer::response_for(kProblems[3].first, 0));
  EXPECT_EQ(json_raw(lines[3], "finish_reasons"), "[\"stop\",\"stop\",\"stop\",\"stop\"]");
  // difficulty reading the sidecar decides as difficulty reading the rollouts field.
  const OpRun from_side = run_op("grade.difficulty", "{sidecar: \"" + side.string() + "\", sidecar_field: responses}", problems_jsonl());
  ASSERT_EQ(from_side.exit_code, 0) << from_side.describe();
  EXPECT_EQ(from_side.kept_ids(), (std::vector<std::string>{"p0_1", "p0_2"}));
  EXPECT_EQ(from_side.reasons(), (std::vector<std::string>{"too_easy", "suspect_label", "suspect_label"}));
  // A run that fails leaves no sidecar.
  fs::remove(side);
  OpOptions strict;
  strict.on_error = "fail";
  const OpRun failed = run_op("rollout.sample", with(server, dir / "c.sqlite", "sidecar: \"" + side.string() + "\""),
                              problems_jsonl() + "{\"id\":\"broken\",\"problem\":\"x\",\"answer\":\"1\"}\n{not json\n",
                              strict);
  EXPECT_EQ(failed.exit_code, 1) << failed.describe();
  EXPECT_FALSE(fs::exists(side));
  for (const auto& e : fs::directory_iterator(side.parent_path())) ADD_FAILURE() << "left behind: " << e.path();
}

TEST(plugins_rollout_op, rerun_sends_nothing_and_is_byte_identical_at_any_threads) {
  FakeOpenAiServer server;
  TempDir dir;
  const std::string jsonl_text = problems_jsonl(8);
  const OpRun first = run_op("rollout.sample", with(server, dir / "c.sqlite"), jsonl_text);
  ASSERT_EQ(first.exit_code, 0) << first.describe();
  EXPECT_EQ(server.requests(), 160);
  for (int threads : {1, 2, 3}) {
    OpOptions o;
    o.threads = threads;
    o.args = {"--batch-bytes", "200"};
    const OpRun again = run_op("rollout.sample", with(server, dir / "c.sqlite"), jsonl_text, o);
    ASSERT_EQ(again.exit_code, 0) << again.describe();
    EXPECT_EQ(outputs(again), outputs(first)) << threads;
  }
  EXPECT_EQ(server.requests(), 160);  // nothing asked again
  // A larger n asks only for the new samples.
  const OpRun more = run_op("rollout.sample", with(server, dir / "c.sqlite", "n: 6"), jsonl_text);
  ASSERT_EQ(more.exit_code, 0) << more.describe();
  EXPECT_EQ(server.requests(), 160 + 80);
  for (const auto& [key, count] : server.per_key()) EXPECT_EQ(count, 1) << key;
}

TEST(plugins_rollout_op, an_existing_rollouts_field_is_replaced) {
  FakeOpenAiServer server;
  TempDir dir;
  const OpRun run = run_op("rollout.sample", with(server, dir / "c.sqlite", "n: 1"),
                           jsonl({R"({"rollouts":[1,2],"id":"a","problem":"What is 20 + 20?","answer":"40"})",
                                  R"({"id":"b","problem":"What is 20 + 20?","answer":"40", "rollouts" : {"x":1} })",
                                  R"({"id":"c","problem":"What is 20 + 20?","rollouts":null,"answer":"40"})"}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 3u);
  for (const auto& line : run.kept) {
    const std::string record = strip_annotation(line);
    EXPECT_TRUE(json_valid(record)) << record;
    EXPECT_EQ(json_raw(record, "rollouts"), "{\"model\":\"test-model\",\"answers\":[\"40\"],\"correct\":[true]}") << record;
    EXPECT_EQ(record.find("rollouts"), record.rfind("rollouts")) << record;  // once
  }
  EXPECT_EQ(strip_annotation(run.kept[0]), R"({"id":"a","problem":"What is 20 + 20?","answer":"40","rollouts":{"model":"test-model","answers":["40"],"correct":[true]}})");
}

TEST(plugins_rollout_op, identical_prompts_share_their_requests) {
  FakeOpenAiServer server;
  TempDir dir;
  std::vector<std::string> lines;
  for (int i = 0; i < 30; ++i) lines.push_back("{\"id\":\"d" + std::to_string(i) + "\",\"problem\":\"What is 12 + 30?\",\"answer\":\"42\"}");
  const OpRun run = run_op("rollout.sample", with(server, dir / "c.sqlite"), jsonl(lines));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept.size(), 30u);
  EXPECT_EQ(server.requests(), 4);
}

void expect_faults_survived(Fault fault, const std::string& extra = "") {
  TempDir dir;
  FakeOpenAiServer clean;
  const OpRun reference = run_op("rollout.sample", with(clean, dir / "clean.sqlite"), problems_jsonl(2));
  ASSERT_EQ(reference.exit_code, 0) << reference.describe();
  FakeOpenAiServer faulty;
  faulty.set_fault(fault, 2, 0, 3000);
  const OpRun run = run_op("rollout.sample", with(faulty, dir / "faulty.sqlite", extra), problems_jsonl(2));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(outputs(run), outputs(reference));
  EXPECT_EQ(faulty.requests(), 3 * 40);
  EXPECT_NE(run.report.find("\"retries\":80"), std::string::npos) << run.report;
}

TEST(plugins_rollout_op, survives_500) { expect_faults_survived(Fault::status500); }
TEST(plugins_rollout_op, survives_429) { expect_faults_survived(Fault::status429); }
TEST(plugins_rollout_op, survives_reset_mid_body) { expect_faults_survived(Fault::reset_mid_body); }
TEST(plugins_rollout_op, survives_malformed_json) { expect_faults_survived(Fault::malformed_json); }
TEST(plugins_rollout_op, survives_timeouts) { expect_faults_survived(Fault::slow, "timeout_seconds: 0.3"); }

TEST(plugins_rollout_op, failing_prompts_are_rejected_with_evidence) {
  FakeOpenAiServer server;
  TempDir dir;
  const std::string input = jsonl({R"({"id":"ok","problem":"What is 20 + 20?","answer":"40"})",
                                   R"({"id":"fail","problem":"ALWAYS_FAIL 5","answer":"5"})",
                                   R"({"id":"refused","problem":"BAD_REQUEST 5","answer":"5"})",
                                   R"({"id":"noproblem","answer":"5"})", R"({"id":"noanswer","problem":"What is 1 + 2?"})"});
  const OpRun run = run_op("rollout.sample", with(server, dir / "c.sqlite", "max_retries: 2"), input);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (std::vector<std::string>{"ok"}));
  const auto v = run.rejections();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].id, "fail");
  EXPECT_EQ(v[0].reason, "rollout_failed");
  EXPECT_NE(v[0].detail.find("4 of 4 samples failed: sample 0: HTTP 500: {\"error\":\"this prompt always fails\"} (3 attempts)"),
            std::string::npos)
      << v[0].detail;
  EXPECT_EQ(v[1].reason, "bad_request");
  EXPECT_NE(v[1].detail.find("HTTP 400"), std::string::npos) << v[1].detail;
  EXPECT_NE(v[1].detail.find("(1 attempt)"), std::string::npos) << v[1].detail;
  EXPECT_EQ(v[2].reason, "missing_field");
  EXPECT_EQ(v[3].reason, "missing_reference");
  EXPECT_EQ(server.per_key()["ALWAYS_FAIL 5#0"], 3);
  EXPECT_EQ(server.per_key().count("What is 1 + 2?#0"), 0u);  // no reference: nothing asked
  // Failures are not cached: a rerun asks again.
  const int64_t before = server.requests();
  ASSERT_EQ(run_op("rollout.sample", with(server, dir / "c.sqlite", "max_retries: 2"), input).exit_code, 0);
  EXPECT_EQ(server.requests() - before, 4 * 3 + 4 * 1);
}

TEST(plugins_rollout_op, api_key_is_sent_and_written_nowhere) {
  FakeOpenAiServer server;
  TempDir dir;
  const std::string secret = "sk-rollout-test-0123456789abcdef";
  ::setenv("TAMIS_ROLLOUT_TEST_KEY", secret.c_str(), 1);
  const OpRun run = run_op("rollout.sample", with(server, dir / "c.sqlite", "api_key_env: TAMIS_ROLLOUT_TEST_KEY"), problems_jsonl());
  ::unsetenv("TAMIS_ROLLOUT_TEST_KEY");
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(server.last_authorization(), "Bearer " + secret);
  for (const std::string& text : {outputs(run), run.report, run.err, run.out, read_file(dir / "c.sqlite")})
    EXPECT_EQ(text.find(secret), std::string::npos);
  const OpRun unset = run_op("rollout.sample", with(server, dir / "c.sqlite", "api_key_env: TAMIS_ROLLOUT_TEST_KEY"), problems_jsonl());
  EXPECT_EQ(unset.exit_code, 1);
  EXPECT_NE(unset.err.find("'TAMIS_ROLLOUT_TEST_KEY', which is not set"), std::string::npos) << unset.err;
}

TEST(plugins_rollout_op, completions_api_and_truncation) {
  FakeOpenAiServer server;
  TempDir dir;
  const OpRun run = run_op("rollout.sample",
                           with(server, dir / "c.sqlite", "api: completions, prompt_template: \"Q: {problem}\\nA:\", max_tokens: 4"),
                           problems_jsonl());
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(server.per_key().count("Q: What is 20 + 20?\nA:#3"), 1u);
  EXPECT_EQ(run.annotation(run.kept[0], "n_truncated"), "4");
  EXPECT_EQ(run.annotation(run.kept[0], "n_correct"), "4");
}

TEST(plugins_rollout_op, validation_errors) {
  EXPECT_EQ(validate_op("rollout.sample", "{endpoints: [\"ftp://x\"], model: m, cache: c.sqlite}").exit_code, 2);
  EXPECT_EQ(validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], model: m, cache: c.sqlite, prompt_template: \"{oops\"}").exit_code, 2);
  EXPECT_EQ(validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], model: m, cache: c.sqlite, api: completions, system_prompt: hi}").exit_code, 2);
  EXPECT_EQ(validate_op("rollout.sample", "{endpoints: [{url: \"http://x/v1\", max_in_flight: 4}], model: m, cache: c.sqlite}").exit_code, 0);
}

// ---- early stopping ----

// n 16 in rounds of 4 with grade.difficulty's band 1-15 of 16 (inclusive) and suspect labels rejected, then
// difficulty with the same settings. With the server's rule (seeds mod 4 < w wrong, all wrong answers
// S + 1) the exact rule stops w = 1 after 8 samples (6 right, 2 wrong: the wrong group cannot reach more
// than twice the right ones), w = 2 after 12, w = 4 after 12 (12 wrong: suspect whatever comes), and
// asks all 16 for w = 0 (only 16/16 is too easy) and w = 3 (suspect only if the last 4 are wrong too).
const std::string kBand = "band_min: 0.0625, band_max: 0.9375, band_inclusive: true";
const std::string kDifficulty = "{answers_field: rollouts.answers, correct_field: rollouts.correct, min: 0.0625, max: 0.9375, inclusive: true}";

OpRun sample_then_difficulty(const FakeOpenAiServer& server, const fs::path& cache, const std::string& extra, const std::string& input,
                             const OpOptions& o = {}) {
  return run_stages("  sample:\n    uses: rollout.sample\n    with: " + with(server, cache, "n: 16, " + extra) +
                        "\n  band:\n    uses: grade.difficulty\n    with: " + kDifficulty + "\n",
                    input, o);
}

std::map<std::string, std::string> verdicts(const OpRun& run) {
  std::map<std::string, std::string> out;
  for (const auto& id : run.kept_ids()) out[id] = "kept";
  for (const auto& v : run.rejections()) out[v.id] = v.stage + ":" + v.reason;
  return out;
}

TEST(plugins_rollout_op, early_stop_exact_asks_less_and_decides_the_same) {
  TempDir dir;
  const std::string input = problems_jsonl(2);
  FakeOpenAiServer full_server;
  const OpRun full = sample_then_difficulty(full_server, dir / "full.sqlite", kBand, input);
  ASSERT_EQ(full.exit_code, 0) << full.describe();
  EXPECT_EQ(full_server.requests(), 160);
  FakeOpenAiServer server;
  const OpRun early = sample_then_difficulty(server, dir / "early.sqlite", "early_stop: exact, round: 4, " + kBand, input);
  ASSERT_EQ(early.exit_code, 0) << early.describe();
  EXPECT_EQ(server.requests(), 2 * (16 + 8 + 12 + 16 + 12));
  EXPECT_EQ(verdicts(early), verdicts(full));
  EXPECT_EQ(early.kept_ids(), (std::vector<std::string>{"p0_1", "p0_2", "p1_1", "p1_2"}));
  // Samples 0 .. m-1 were asked, each once, nothing beyond.
  for (const auto& [key, count] : server.per_key()) EXPECT_EQ(count, 1) << key;
  EXPECT_EQ(server.per_key().count("What is 30 + 11?#7"), 1u);
  EXPECT_EQ(server.per_key().count("What is 30 + 11?#8"), 0u);
  // What the records say about it.
  EXPECT_EQ(early.annotation(early.kept[0], "n_samples"), "8");
  EXPECT_EQ(early.annotation(early.kept[0], "n_budget"), "16");
  EXPECT_EQ(early.annotation(early.kept[0], "stop_reason"), "\"exact\"");
  EXPECT_EQ(early.annotation(early.kept[1], "n_samples"), "12");
  for (const auto& line : early.rejected) {
    if (json_string(line, "id") != "p0_0") continue;
    EXPECT_EQ(early.annotation(line, "stop_reason"), "\"budget\"") << line;
  }
  EXPECT_NE(early.report.find("\"samples_budget\":160,\"samples_drawn\":128,\"samples_saved\":32"), std::string::npos) << early.report;
}

TEST(plugins_rollout_op, early_stop_rerun_asks_nothing_and_off_asks_only_the_rest) {
  TempDir dir;
  const std::string input = problems_jsonl(2);
  FakeOpenAiServer server;
  const std::string early_with = "early_stop: exact, round: 4, " + kBand;
  const OpRun first = sample_then_difficulty(server, dir / "c.sqlite", early_with, input);
  ASSERT_EQ(first.exit_code, 0) << first.describe();
  ASSERT_EQ(server.requests(), 128);
  for (int threads : {1, 3}) {
    OpOptions o;
    o.threads = threads;
    o.args = {"--batch-bytes", "200"};
    const OpRun again = sample_then_difficulty(server, dir / "c.sqlite", early_with, input, o);
    ASSERT_EQ(again.exit_code, 0) << again.describe();
    EXPECT_EQ(outputs(again), outputs(first)) << threads;
  }
  EXPECT_EQ(server.requests(), 128);
  // Early stopping off: the same seeds, so only the 32 samples not drawn yet are asked for.
  const OpRun off = sample_then_difficulty(server, dir / "c.sqlite", kBand, input);
  ASSERT_EQ(off.exit_code, 0) << off.describe();
  EXPECT_EQ(server.requests(), 160);
  for (const auto& [key, count] : server.per_key()) EXPECT_EQ(count, 1) << key;
  EXPECT_EQ(verdicts(off), verdicts(first));
  EXPECT_EQ(off.annotation(off.kept[0], "n_samples"), "16");
}

// A band edge between the early and the final pass rate: in rounds of 2, w = 1 has 1 of 2 right after
// the first round (inside (0.3, 0.7)) but 12 of 16 at the end (too easy). The rule must not stop there.
TEST(plugins_rollout_op, early_stop_waits_while_the_band_can_change) {
  TempDir dir;
  const std::string input = problems_jsonl(2);
  const std::string band = "band_min: 0.3, band_max: 0.7, suspect_action: off";
  const std::string diff = "{answers_field: rollouts.answers, correct_field: rollouts.correct, min: 0.3, max: 0.7, suspect_action: off}";
  auto run = [&](FakeOpenAiServer& s, const std::string& cache, const std::string& extra) {
    return run_stages("  sample:\n    uses: rollout.sample\n    with: " + with(s, dir / cache, "n: 16, " + extra) +
                          "\n  band:\n    uses: grade.difficulty\n    with: " + diff + "\n",
                      input);
  };
  FakeOpenAiServer full_server, server;
  const OpRun full = run(full_server, "full.sqlite", band);
  const OpRun early = run(server, "early.sqlite", "early_stop: exact, round: 2, " + band);
  ASSERT_EQ(full.exit_code, 0) << full.describe();
  ASSERT_EQ(early.exit_code, 0) << early.describe();
  EXPECT_EQ(verdicts(early), verdicts(full));
  EXPECT_EQ(early.kept_ids(), (std::vector<std::string>{"p0_2", "p1_2"}));
  EXPECT_LT(server.requests(), 160);
}

TEST(plugins_rollout_op, early_stop_validation) {
  const std::string base = "{endpoints: [\"http://x/v1\"], model: m, cache: c.sqlite, early_stop: exact";
  EXPECT_EQ(validate_op("rollout.sample", base + "}").exit_code, 0);
  EXPECT_EQ(validate_op("rollout.sample", base + ", round: 0}").exit_code, 2);
  EXPECT_EQ(validate_op("rollout.sample", base + ", band_min: 0.8, band_max: 0.2}").exit_code, 2);
  EXPECT_EQ(validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], model: m, cache: c.sqlite, early_stop: sometimes}").exit_code, 2);
  EXPECT_EQ(validate_op("rollout.sample", base + ", error_rate: 0.7}").exit_code, 2);
}

// ---- several models in one stage ----

// The server's rule per model: "test-model+2" gets w = (S + 2) mod 5 seeds of 0..3 wrong, "test-model" w = S mod 5.
const std::vector<std::string> kModels = {"test-model", "test-model+2"};

std::string with_models(const FakeOpenAiServer& server, const fs::path& cache, const std::string& extra = "") {
  const bool sets_n = extra.rfind("n:", 0) == 0 || extra.find(", n:") != std::string::npos;
  return "{endpoints: [\"" + server.base_url() + "\"], models: [test-model, \"test-model+2\"], " + (sets_n ? "" : "n: 4, ") +
         "cache: \"" + cache.string() + "\", backoff_initial_seconds: 0.01, backoff_max_seconds: 0.05" + (extra.empty() ? "" : ", " + extra) +
         "}";
}

int64_t right_count(const std::string& user, const std::string& model, int n = 4) {
  int64_t right = 0;
  for (int seed = 0; seed < n; ++seed) right += FakeOpenAiServer::right_for(user, seed, model) ? 1 : 0;
  return right;
}

TEST(plugins_rollout_op, several_models_annotate_pooled_and_per_model) {
  FakeOpenAiServer server;
  TempDir dir;
  // One model alone first: the two-model stage then asks only for the other model (same requests, same keys).
  const OpRun alone = run_op("rollout.sample", with(server, dir / "c.sqlite"), problems_jsonl());
  ASSERT_EQ(alone.exit_code, 0) << alone.describe();
  ASSERT_EQ(server.requests(), 20);
  const OpRun run = run_op("rollout.sample", with_models(server, dir / "c.sqlite"), problems_jsonl());
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 5u) << run.describe();
  EXPECT_EQ(server.requests(), 40);
  for (const auto& [key, count] : server.per_model_key()) EXPECT_EQ(count, 1) << key;
  EXPECT_EQ(server.per_model_key().count("test-model+2|What is 20 + 20?#3"), 1u);
  for (size_t i = 0; i < kProblems.size(); ++i) {
    const auto& line = run.kept[i];
    const std::string& user = kProblems[i].first;
    const int64_t a = right_count(user, kModels[0]), b = right_count(user, kModels[1]);
    EXPECT_EQ(run.annotation(line, "pass_rate"), "{\"test-model\":" + tamis::json::number(static_cast<double>(a) / 4) +
                                                     ",\"test-model+2\":" + tamis::json::number(static_cast<double>(b) / 4) + "}")
        << line;
    EXPECT_EQ(run.annotation(line, "pass_rate_pooled"), tamis::json::number(static_cast<double>(a + b) / 8)) << line;
    EXPECT_EQ(run.annotation(line, "n_correct_by_model"), "{\"test-model\":" + std::to_string(a) + ",\"test-model+2\":" + std::to_string(b) + "}");
    EXPECT_EQ(run.annotation(line, "n_samples_by_model"), "{\"test-model\":4,\"test-model+2\":4}");
    EXPECT_EQ(run.annotation(line, "n_samples"), "8");
    EXPECT_EQ(run.annotation(line, "n_correct"), std::to_string(a + b));
    // The majority over all 8: the right answer unless the wrong one (S + 1) has more.
    const int64_t major = a + b >= 4 ? kProblems[i].second : kProblems[i].second + 1;
    EXPECT_EQ(run.annotation(line, "majority_answer"), "\"" + std::to_string(major) + "\"") << line;
    // The field: pooled answers sample by sample (model 0's sample 0, model 1's sample 0, ...), then per model.
    std::string pooled_a = "[", pooled_c = "[", by[2] = {"[", "["}, marks[2] = {"[", "["};
    for (int seed = 0; seed < 4; ++seed)
      for (size_t k = 0; k < 2; ++k) {
        const bool ok = FakeOpenAiServer::right_for(user, seed, kModels[k]);
        const std::string ans = "\"" + std::to_string(ok ? kProblems[i].second : kProblems[i].second + 1) + "\"";
        pooled_a += std::string(pooled_a.size() > 1 ? "," : "") + ans;
        pooled_c += std::string(pooled_c.size() > 1 ? "," : "") + (ok ? "true" : "false");
        by[k] += std::string(by[k].size() > 1 ? "," : "") + ans;
        marks[k] += std::string(marks[k].size() > 1 ? "," : "") + (ok ? "true" : "false");
      }
    EXPECT_EQ(json_raw(line, "rollouts"), "{\"models\":[\"test-model\",\"test-model+2\"],\"answers\":" + pooled_a + "],\"correct\":" + pooled_c +
                                              "],\"by_model\":{\"test-model\":{\"answers\":" + by[0] + "],\"correct\":" + marks[0] +
                                              "]},\"test-model+2\":{\"answers\":" + by[1] + "],\"correct\":" + marks[1] + "]}}}")
        << line;
  }
  // The report's figures per model: this run asked only test-model+2.
  EXPECT_NE(run.report.find("\"models\":{\"test-model\":{\"requests\":0,\"retries\":0,\"responses\":0,\"failed_samples\":0,\"prompt_tokens\":0,"
                            "\"completion_tokens\":0,\"samples_budget\":20,\"samples_drawn\":20},\"test-model+2\":{\"requests\":20,\"retries\":0,"
                            "\"responses\":20,\"failed_samples\":0,\"prompt_tokens\":"),
            std::string::npos)
      << run.report;
  EXPECT_NE(run.report.find("\"completion_tokens\":240,\"samples_budget\":20,\"samples_drawn\":20}}"), std::string::npos) << run.report;
  // A rerun is byte-identical and asks nothing.
  const OpRun again = run_op("rollout.sample", with_models(server, dir / "c.sqlite"), problems_jsonl(), 3);
  ASSERT_EQ(again.exit_code, 0) << again.describe();
  EXPECT_EQ(outputs(again), outputs(run));
  EXPECT_EQ(server.requests(), 40);
}

// difficulty downstream, unchanged: pooled from answers/correct, per model from by_model (models: with a
// per-model band) and from the sidecar (sidecar_model_field). The counts per problem (sums 40 .. 44):
// test-model 4,3,2,1,0 of 4 right, test-model+2 2,1,0,4,3; pooled 6,4,2,5,3 of 8, and p0_2 has 6 of 8 wrong
// answers S + 1, more than twice its 2 right: suspect.
TEST(plugins_rollout_op, several_models_feed_difficulty_pooled_and_per_model) {
  FakeOpenAiServer server;
  TempDir dir;
  const fs::path side = dir / "side.jsonl";
  const std::string sample = "  sample:\n    uses: rollout.sample\n    with: " + with_models(server, dir / "c.sqlite", "sidecar: \"" + side.string() + "\"") + "\n";
  auto run = [&](const std::string& difficulty) {
    return run_stages(sample + "  band:\n    uses: grade.difficulty\n    with: " + difficulty + "\n", problems_jsonl());
  };
  const std::string per_model = "models: {test-model: /rollouts/by_model/test-model/answers, \"test-model+2\": /rollouts/by_model/test-model+2/answers}, "
                                "models_kind: answers";
  const OpRun pooled = run("{answers_field: rollouts.answers, correct_field: rollouts.correct}");
  ASSERT_EQ(pooled.exit_code, 0) << pooled.describe();
  EXPECT_EQ(pooled.kept_ids(), (std::vector<std::string>{"p0_0", "p0_1", "p0_3", "p0_4"}));
  EXPECT_EQ(pooled.reasons(), (std::vector<std::string>{"suspect_label"}));
  EXPECT_EQ(pooled.annotation(pooled.kept[0], "pass_rate"), "0.75");
  const OpRun by_model_pooled = run("{" + per_model + "}");
  ASSERT_EQ(by_model_pooled.exit_code, 0) << by_model_pooled.describe();
  EXPECT_EQ(verdicts(by_model_pooled), verdicts(pooled));
  const OpRun all = run("{" + per_model + ", model_band: all}");
  ASSERT_EQ(all.exit_code, 0) << all.describe();
  EXPECT_EQ(all.kept_ids(), (std::vector<std::string>{"p0_1"}));
  EXPECT_EQ(all.reasons(), (std::vector<std::string>{"too_easy", "suspect_label", "too_easy", "too_hard"}));
  EXPECT_EQ(all.annotation(all.kept[0], "pass_rate"), "{\"test-model\":0.75,\"test-model+2\":0.25}");
  EXPECT_EQ(all.annotation(all.kept[0], "band_by_model"), "{\"test-model\":\"in_band\",\"test-model+2\":\"in_band\"}");
  const OpRun any = run("{" + per_model + ", model_band: any}");
  ASSERT_EQ(any.exit_code, 0) << any.describe();
  EXPECT_EQ(any.kept_ids(), (std::vector<std::string>{"p0_0", "p0_1", "p0_3", "p0_4"}));
  // The sidecar: one line per record and model, in input order.
  const auto lines = read_lines(side);
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(json_string(lines[0], "model"), "test-model");
  EXPECT_EQ(json_string(lines[1], "model"), "test-model+2");
  EXPECT_EQ(json_string(lines[1], "id"), "p0_0");
  EXPECT_EQ(json_string(lines[9], "/responses/3"), FakeOpenAiServer::response_for(kProblems[4].first, 3, kModels[1]));
  const OpRun from_side =
      run_op("grade.difficulty", "{sidecar: \"" + side.string() + "\", sidecar_field: responses, sidecar_model_field: model, model_band: all}",
             problems_jsonl());
  ASSERT_EQ(from_side.exit_code, 0) << from_side.describe();
  EXPECT_EQ(from_side.kept_ids(), all.kept_ids());
  EXPECT_EQ(from_side.reasons(), all.reasons());
  EXPECT_EQ(from_side.annotation(from_side.kept[0], "n_correct_by_model"), "{\"test-model\":3,\"test-model+2\":1}");
}

TEST(plugins_rollout_op, several_models_on_their_own_servers) {
  FakeOpenAiServer first, second;
  TempDir dir;
  const std::string w = "{models: [{name: test-model, endpoints: [\"" + first.base_url() + "\"]}, {name: \"test-model+2\", endpoints: [\"" +
                        second.base_url() + "\"]}], n: 4, cache: \"" + (dir / "c.sqlite").string() + "\"}";
  const OpRun run = run_op("rollout.sample", w, problems_jsonl());
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(first.requests(), 20);
  EXPECT_EQ(second.requests(), 20);
  for (const auto& [key, count] : first.per_model_key()) EXPECT_EQ(key.rfind("test-model|", 0), 0u) << key;
  for (const auto& [key, count] : second.per_model_key()) EXPECT_EQ(key.rfind("test-model+2|", 0), 0u) << key;
  EXPECT_NE(run.report.find("\"requests_per_endpoint\":[20,20]"), std::string::npos) << run.report;
  EXPECT_EQ(run.annotation(run.kept[0], "n_correct_by_model"), "{\"test-model\":4,\"test-model+2\":2}");
}

// Pooled early stopping over two models: 16 samples each in rounds of 4 (8 per round), band 1-31 of 32,
// suspect labels rejected. Per round the sums 40 .. 44 get 6, 4, 2, 5, 3 of 8 right (the rest all S + 1).
// After k rounds, with c right and 8k - c wrong, the band is settled (one of each) and a suspect label is
// impossible once the wrong group plus the 32 - 8k samples left is at most 2c: k = 2 for 6 right per round,
// k = 3 for 4 and 5; with 2 and 3 right per round only all 32 settle it. So 16 + 24 + 32 + 24 + 32 = 128
// requests per copy of the problems (with the budget taken as one model's 16, sum 40 would stop at 8).
TEST(plugins_rollout_op, several_models_early_stop_on_the_pooled_tally) {
  TempDir dir;
  const std::string input = problems_jsonl(2);
  const std::string band = "band_min: 0.03125, band_max: 0.96875, band_inclusive: true";
  const std::string diff_pooled =
      "{answers_field: rollouts.answers, correct_field: rollouts.correct, min: 0.03125, max: 0.96875, inclusive: true}";
  const std::string diff_models =
      "{models: {test-model: /rollouts/by_model/test-model/answers, \"test-model+2\": /rollouts/by_model/test-model+2/answers}, "
      "models_kind: answers, min: 0.03125, max: 0.96875, inclusive: true}";
  auto run = [&](FakeOpenAiServer& s, const std::string& cache, const std::string& extra, const std::string& diff) {
    return run_stages("  sample:\n    uses: rollout.sample\n    with: " + with_models(s, dir / cache, "n: 16, " + extra) +
                          "\n  band:\n    uses: grade.difficulty\n    with: " + diff + "\n",
                      input);
  };
  FakeOpenAiServer full_server, server;
  const OpRun full = run(full_server, "full.sqlite", band, diff_pooled);
  ASSERT_EQ(full.exit_code, 0) << full.describe();
  EXPECT_EQ(full_server.requests(), 320);
  const OpRun early = run(server, "early.sqlite", "early_stop: exact, round: 4, " + band, diff_pooled);
  ASSERT_EQ(early.exit_code, 0) << early.describe();
  EXPECT_EQ(server.requests(), 256);
  EXPECT_EQ(verdicts(early), verdicts(full));
  for (const auto& [key, count] : server.per_model_key()) EXPECT_EQ(count, 1) << key;
  // Each round asks the same samples of both models.
  for (const auto& [key, count] : server.per_model_key()) {
    if (key.rfind("test-model|", 0) == 0) {
      EXPECT_EQ(server.per_model_key().count("test-model+2|" + key.substr(11)), 1u) << key;
    }
  }
  // difficulty per model with the pooled band reads the same samples, and decides the same.
  FakeOpenAiServer third;
  const OpRun early_models = run(third, "early.sqlite", "early_stop: exact, round: 4, " + band, diff_models);
  ASSERT_EQ(early_models.exit_code, 0) << early_models.describe();
  EXPECT_EQ(third.requests(), 0);
  EXPECT_EQ(verdicts(early_models), verdicts(full));
  const std::string drawn = *early.annotation(early.kept[0], "n_samples");
  EXPECT_EQ(early.annotation(early.kept[0], "n_budget"), "32");
  EXPECT_LT(std::stoi(drawn), 32);
  EXPECT_EQ(early.annotation(early.kept[0], "n_samples_by_model"),
            "{\"test-model\":" + std::to_string(std::stoi(drawn) / 2) + ",\"test-model+2\":" + std::to_string(std::stoi(drawn) / 2) + "}");
  EXPECT_NE(early.report.find("\"samples_budget\":320,\"samples_drawn\":" + std::to_string(server.requests())), std::string::npos) << early.report;
}

TEST(plugins_rollout_op, several_models_validation) {
  const std::string cache = "cache: c.sqlite";
  EXPECT_EQ(validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], models: [a, b], " + cache + "}").exit_code, 0);
  EXPECT_EQ(validate_op("rollout.sample", "{models: [{name: a, endpoints: [\"http://x/v1\"]}, {name: b, endpoints: [\"http://y/v1\"]}], " + cache + "}")
                .exit_code,
            0);
  const auto both = validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], model: a, models: [a, b], " + cache + "}");
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("not both"), std::string::npos) << both.err;
  EXPECT_EQ(validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], " + cache + "}").exit_code, 2);
  EXPECT_EQ(validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], models: [a, a], " + cache + "}").exit_code, 2);
  EXPECT_EQ(validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], models: [], " + cache + "}").exit_code, 2);
  EXPECT_EQ(validate_op("rollout.sample", "{models: [{name: a, endpoints: [\"http://x/v1\"]}, b], " + cache + "}").exit_code, 2);
  EXPECT_EQ(validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], models: [{name: a, url: x}], " + cache + "}").exit_code, 2);
  EXPECT_EQ(validate_op("rollout.sample", "{model: a, " + cache + "}").exit_code, 2);
  // Early stopping covers the pooled band only.
  const auto per_model = validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], models: [a, b], early_stop: exact, model_band: all, " + cache + "}");
  EXPECT_EQ(per_model.exit_code, 2);
  EXPECT_NE(per_model.err.find("pooled band only"), std::string::npos) << per_model.err;
  EXPECT_EQ(validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], models: [a, b], early_stop: exact, " + cache + "}").exit_code, 0);
}

// ---- the early_stop settings in the field; extra_body ----

TEST(plugins_rollout_op, early_stop_settings_are_written_in_the_field) {
  FakeOpenAiServer server;
  TempDir dir;
  const OpRun on = run_op("rollout.sample", with(server, dir / "c.sqlite", "n: 2, early_stop: bound, round: 1, " + kBand + ", min_samples: 2, "
                                                 "suspect_share: 0.6, suspect_action: annotate"),
                          problems_jsonl());
  ASSERT_EQ(on.exit_code, 0) << on.describe();
  for (const auto& line : on.kept)
    EXPECT_EQ(json_raw(line, "rollouts.early_stop"), "{\"band_min\":0.0625,\"band_max\":0.9375,\"band_inclusive\":true,\"min_samples\":2,"
                                                     "\"suspect_share\":0.6,\"suspect_action\":\"annotate\"}")
        << line;
  const OpRun two = run_op("rollout.sample", with_models(server, dir / "c.sqlite", "early_stop: exact"), problems_jsonl());
  ASSERT_EQ(two.exit_code, 0) << two.describe();
  EXPECT_EQ(json_raw(two.kept[0], "rollouts.early_stop"), "{\"band_min\":0,\"band_max\":1,\"band_inclusive\":false,\"min_samples\":1,"
                                                          "\"suspect_share\":0.5,\"suspect_action\":\"reject\"}");
  // Off: no member (the field is as it always was).
  const OpRun off = run_op("rollout.sample", with(server, dir / "c.sqlite", "n: 2, " + kBand), problems_jsonl());
  ASSERT_EQ(off.exit_code, 0) << off.describe();
  EXPECT_EQ(json_raw(off.kept[0], "rollouts.early_stop"), std::nullopt);
}

TEST(plugins_rollout_op, extra_body_reaches_the_server_and_keys_the_cache) {
  FakeOpenAiServer server;
  TempDir dir;
  const std::string input = jsonl({R"({"id":"a","problem":"What is 20 + 20?","answer":"40"})"});
  const OpRun plain = run_op("rollout.sample", with(server, dir / "c.sqlite", "n: 2"), input);
  ASSERT_EQ(plain.exit_code, 0) << plain.describe();
  EXPECT_EQ(server.last_body().find("top_k"), std::string::npos);
  // An empty extra_body is no extra_body: the same keys.
  ASSERT_EQ(run_op("rollout.sample", with(server, dir / "c.sqlite", "n: 2, extra_body: {}"), input).exit_code, 0);
  EXPECT_EQ(server.requests(), 2);
  // Members sent in sorted order after the op's own; a new key, so asked again.
  const OpRun extra = run_op("rollout.sample", with(server, dir / "c.sqlite", "n: 2, extra_body: {top_k: 20, min_p: 0.05, chat_template_kwargs: {enable_thinking: false}}"), input);
  ASSERT_EQ(extra.exit_code, 0) << extra.describe();
  EXPECT_EQ(server.requests(), 4);
  const std::string body = server.last_body();
  EXPECT_NE(body.find(R"("max_tokens":1024,"chat_template_kwargs":{"enable_thinking":false},"min_p":0.05,"top_k":20,"seed":)"), std::string::npos)
      << body;
  // The same members written otherwise: the same key, nothing asked.
  ASSERT_EQ(run_op("rollout.sample", with(server, dir / "c.sqlite", "n: 2, extra_body: {min_p: 0.05, \"top_k\": 20, chat_template_kwargs: {enable_thinking: false}}"), input)
                .exit_code,
            0);
  EXPECT_EQ(server.requests(), 4);
  // Another value: another key.
  ASSERT_EQ(run_op("rollout.sample", with(server, dir / "c.sqlite", "n: 2, extra_body: {top_k: 21, min_p: 0.05, chat_template_kwargs: {enable_thinking: false}}"), input)
                .exit_code,
            0);
  EXPECT_EQ(server.requests(), 6);
  // Members the op sets itself are refused.
  for (const char* own : {"seed", "stream", "model", "messages", "max_tokens", "n"}) {
    const auto v = validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], model: m, cache: c.sqlite, extra_body: {" + std::string(own) + ": 1}}");
    EXPECT_EQ(v.exit_code, 2) << own;
    EXPECT_NE(v.err.find("extra_body sets '" + std::string(own) + "'"), std::string::npos) << v.err;
  }
  EXPECT_EQ(validate_op("rollout.sample", "{endpoints: [\"http://x/v1\"], model: m, cache: c.sqlite, extra_body: [1]}").exit_code, 2);
}

// ---- killed mid-run ----

std::string pipeline_for(const FakeOpenAiServer& server, const fs::path& dir) {
  return "version: 1\nsources:\n  input: { path: input.jsonl, id: id }\nstages:\n  stage:\n    uses: rollout.sample\n    with: " +
         with(server, dir / "cache.sqlite") +
         "\nsinks:\n  kept: { path: out/kept.jsonl }\n  rejected: { path: out/rejected.jsonl, rejected: true }\n"
         "  ledger: { path: out/ledger.jsonl, ledger: true }\n";
}

std::string read_outputs(const fs::path& dir) {
  return read_file(dir / "out/kept.jsonl") + "--\n" + read_file(dir / "out/rejected.jsonl") + "--\n" + read_file(dir / "out/ledger.jsonl");
}

pid_t spawn_tamis(const fs::path& dir) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0) ::_exit(127);
    const std::string log = (dir / "stderr.txt").string();
    if (!::freopen(log.c_str(), "w", stderr)) ::_exit(127);
    ::execl(tamis_bin(), tamis_bin(), "run", "pipeline.yaml", "--threads", "2", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(plugins_rollout_op, sigkill_and_restart_asks_nothing_twice) {
  const std::string input = problems_jsonl(6);  // 30 problems, 120 samples
  // An undisturbed run, for the outputs.
  TempDir calm;
  FakeOpenAiServer calm_server;
  write_file(calm / "input.jsonl", input);
  write_file(calm / "pipeline.yaml", pipeline_for(calm_server, calm.path()));
  const int calm_status = wait_for(spawn_tamis(calm.path()));
  ASSERT_TRUE(WIFEXITED(calm_status) && WEXITSTATUS(calm_status) == 0) << read_file(calm / "stderr.txt");

  // The run to kill: the server answers 37 requests, then holds every other one.
  TempDir dir;
  FakeOpenAiServer first;
  first.hold_after(37);
  write_file(dir / "input.jsonl", input);
  write_file(dir / "pipeline.yaml", pipeline_for(first, dir.path()));
  const pid_t pid = spawn_tamis(dir.path());
  // Wait until the 37 answers are in the cache (a deadline only so that a broken build cannot hang the test).
  int64_t cached = 0;
  for (int i = 0; i < 6000 && cached < 37; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (fs::exists(dir / "cache.sqlite")) cached = tamis::rollout::Cache((dir / "cache.sqlite").string()).count();
  }
  ASSERT_EQ(cached, 37) << read_file(dir / "stderr.txt");
  ::kill(pid, SIGKILL);
  const int status = wait_for(pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_FALSE(fs::exists(dir / "out/kept.jsonl"));
  const auto answered_before = first.answered_keys();
  ASSERT_EQ(answered_before.size(), 37u);

  // Restart against a fresh server: it is asked exactly for what the first one did not answer.
  FakeOpenAiServer second;
  write_file(dir / "pipeline.yaml", pipeline_for(second, dir.path()));
  const int again = wait_for(spawn_tamis(dir.path()));
  ASSERT_TRUE(WIFEXITED(again) && WEXITSTATUS(again) == 0) << read_file(dir / "stderr.txt");
  EXPECT_EQ(second.requests(), 120 - 37);
  for (const auto& [key, count] : second.per_key()) {
    EXPECT_EQ(answered_before.count(key), 0u) << key << " asked again";
    EXPECT_EQ(count, 1) << key;
  }
  EXPECT_EQ(read_outputs(dir.path()), read_outputs(calm.path()));
  first.release();
}

}  // namespace
