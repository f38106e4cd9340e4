// Tests of the `grade.difficulty` op's presets (skywork_or1, big_math, openr1, verl) on example lines in those
// sets' layouts (tests/data/difficulty_presets), the parameters they use (counts_by_model_field,
// pass_rate_field, n, correct_threshold), which settings win over a preset, and the check that
// rollout.sample's early_stop settings agree with grade.difficulty's.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "harness.hpp"

namespace {

using namespace tamis::test;
using Strings = std::vector<std::string>;

std::filesystem::path data_dir() { return std::filesystem::path(TAMIS_SOURCE_DIR) / "tests/data/difficulty_presets"; }

// The lines of an example file, each given an "id" member (l1, l2, ...) in front.
Strings example_lines(const std::string& file) {
  std::ifstream in(data_dir() / file);
  Strings out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back("{\"id\":\"l" + std::to_string(out.size() + 1) + "\"," + line.substr(1));
  return out;
}

struct TempFile {
  std::filesystem::path path;
  TempFile(const std::string& name, const std::string& text) {
    path = std::filesystem::temp_directory_path() / ("tamis_presets_" + name + "_" + std::to_string(::getpid()) + ".jsonl");
    std::ofstream(path, std::ios::binary) << text;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

const std::string kQ15 = "DeepSeek-R1-Distill-Qwen-1.5B", kQ32 = "DeepSeek-R1-Distill-Qwen-32B", kQ7 = "DeepSeek-R1-Distill-Qwen-7B";

TEST(plugins_grade_difficulty_presets, SkyworkCountsPerModelOf16) {
  const OpRun run = run_op("grade.difficulty", "{preset: skywork_or1, model_band: all, min: 0.0625, max: 0.9375, inclusive: true}",
                           jsonl(example_lines("skywork_or1.jsonl")));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"l1"});
  EXPECT_EQ(run.annotation_of("l1", "pass_rate"), "{\"" + kQ15 + "\":0.375,\"" + kQ32 + "\":0.9375,\"" + kQ7 + "\":0.6875}");
  EXPECT_EQ(run.annotation_of("l1", "n_samples"), "48");
  EXPECT_EQ(run.annotation_of("l1", "n_correct"), "32");
  EXPECT_EQ(run.annotation_of("l1", "n_samples_by_model"), "{\"" + kQ15 + "\":16,\"" + kQ32 + "\":16,\"" + kQ7 + "\":16}");
  EXPECT_EQ(run.reason_of("l2"), "too_easy");  // 16/16 for every model
  EXPECT_EQ(run.reason_of("l3"), "too_hard");  // 1.5B 0/16
  EXPECT_EQ(run.detail_of("l3"), "not every model in its band: " + kQ15 + " 0/16 too_hard; " + kQ32 + " 9/16 in_band; " + kQ7 +
                                      " 3/16 in_band");
  // A null count is a model without rollouts for the problem.
  EXPECT_EQ(run.reason_of("l4"), "too_few_samples");
  EXPECT_EQ(run.annotation_of("l4", "pass_rate"), "{\"" + kQ15 + "\":null,\"" + kQ32 + "\":0.875,\"" + kQ7 + "\":0.75}");

  // Pooled (the default band): 32/48, 48/48, 12/48, 26/32.
  const OpRun pooled = run_op("grade.difficulty", "{preset: skywork_or1, min: 0.3}", jsonl(example_lines("skywork_or1.jsonl")));
  ASSERT_EQ(pooled.exit_code, 0) << pooled.describe();
  EXPECT_EQ(pooled.kept_ids(), (Strings{"l1", "l4"}));
  EXPECT_EQ(pooled.reason_of("l3"), "too_hard");
  EXPECT_EQ(pooled.annotation_of("l3", "pass_rate_pooled"), "0.25");

  // Explicit settings win: counts of incorrect rollouts, and another n.
  const OpRun flipped = run_op("grade.difficulty", "{preset: skywork_or1, counts_of: incorrect, n: 20}", jsonl(example_lines("skywork_or1.jsonl")));
  ASSERT_EQ(flipped.exit_code, 0) << flipped.describe();
  EXPECT_EQ(flipped.annotation_of("l1", "n_correct_by_model"), "{\"" + kQ15 + "\":14,\"" + kQ32 + "\":5,\"" + kQ7 + "\":9}");
  EXPECT_EQ(flipped.annotation_of("l1", "n_samples"), "60");
}

TEST(plugins_grade_difficulty_presets, BigMathSolveRateOf64) {
  const OpRun run = run_op("grade.difficulty", "{preset: big_math, min: 0.1, max: 0.9}", jsonl(example_lines("big_math.jsonl")));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"l1"});
  EXPECT_EQ(run.annotation_of("l1", "n_samples"), "64");
  EXPECT_EQ(run.annotation_of("l1", "n_correct"), "57");  // 0.890625 * 64
  EXPECT_EQ(run.reason_of("l2"), "too_hard");   // 6/64 = 0.09375
  EXPECT_EQ(run.detail_of("l2"), "6/64 correct");
  EXPECT_EQ(run.reason_of("l3"), "too_easy");
  EXPECT_EQ(run.reason_of("l4"), "too_hard");
  EXPECT_EQ(run.reason_of("l5"), "missing_rollouts");  // null solve rate
  EXPECT_EQ(run.detail_of("l5"), "no pass rate in 'llama8b_solve_rate'");

  // A rate that is no whole number of the n rollouts, or out of [0, 1], is bad_rollouts.
  const OpRun bad = run_op("grade.difficulty", "{preset: big_math}",
                           jsonl({R"({"id":"a","llama8b_solve_rate":0.3})", R"({"id":"b","llama8b_solve_rate":1.5})",
                                  R"({"id":"c","llama8b_solve_rate":"0.5"})", R"({"id":"d","llama8b_solve_rate":0.5})"}));
  ASSERT_EQ(bad.exit_code, 0) << bad.describe();
  EXPECT_EQ(bad.reason_of("a"), "bad_rollouts");
  EXPECT_EQ(bad.detail_of("a"), "'llama8b_solve_rate' is 0.3, not a whole number of n 64 rollouts");
  EXPECT_EQ(bad.reason_of("b"), "bad_rollouts");
  EXPECT_EQ(bad.reason_of("c"), "bad_rollouts");
  EXPECT_EQ(bad.kept_ids(), Strings{"d"});
  // With n 10 the same 0.3 is 3 of 10.
  const OpRun ten = run_op("grade.difficulty", "{preset: big_math, n: 10}", jsonl({R"({"id":"a","llama8b_solve_rate":0.3})"}));
  ASSERT_EQ(ten.exit_code, 0) << ten.describe();
  EXPECT_EQ(ten.annotation_of("a", "n_correct"), "3");
}

TEST(plugins_grade_difficulty_presets, OpenR1MathVerifyWithMajorityFromGenerations) {
  const OpRun run = run_op("grade.difficulty", "{preset: openr1, min_samples: 2}", jsonl(example_lines("openr1.jsonl")));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"l2"});
  EXPECT_EQ(run.annotation_of("l2", "pass_rate"), "0.5");
  EXPECT_EQ(run.annotation_of("l2", "majority_answer"), "\"3\"");  // a 2-2 tie goes to the reference's answer
  EXPECT_EQ(run.reason_of("l1"), "too_easy");
  // Math-Verify says 0/3 and all three generations answer 80 where the reference says 75.
  EXPECT_EQ(run.reason_of("l3"), "suspect_label");
  EXPECT_EQ(run.annotation_of("l3", "majority_answer"), "\"80\"");

  // Correctness comes from correctness_math_verify, not from grading the generations: a record whose
  // generations all reach the reference but whose verdicts say false is too hard.
  const OpRun marks = run_op("grade.difficulty", "{preset: openr1}",
                             jsonl({R"({"id":"x","answer":"5","generations":["\\boxed{5}","\\boxed{5}"],"correctness_math_verify":[false,false]})"}));
  ASSERT_EQ(marks.exit_code, 0) << marks.describe();
  EXPECT_EQ(marks.reason_of("x"), "too_hard");
  // responses_field "" leaves the generations out: correctness values only, no majority.
  const OpRun plain = run_op("grade.difficulty", "{preset: openr1, responses_field: ''}", jsonl(example_lines("openr1.jsonl")));
  ASSERT_EQ(plain.exit_code, 0) << plain.describe();
  EXPECT_EQ(plain.annotation_of("l2", "majority_answer"), std::nullopt);
  EXPECT_EQ(plain.reason_of("l3"), "too_hard");
}

TEST(plugins_grade_difficulty_presets, VerlDumpAsSidecarWithScores) {
  OpOptions options;
  options.id_field = "index";
  options.input = data_dir() / "verl_records.jsonl";
  const std::string with = "{preset: verl, sidecar: '" + (data_dir() / "verl_dump.jsonl").string() + "', sidecar_id_field: index}";
  const OpRun run = run_op("grade.difficulty", with, "", options);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 1u) << run.describe();
  EXPECT_EQ(run.annotation(run.kept[0], "pass_rate"), "0.5");  // scores 1.0 and -1.0
  EXPECT_EQ(run.annotation(run.kept[0], "majority_answer"), "\"42\"");
  EXPECT_EQ(run.reasons(), (Strings{"too_easy", "suspect_label"}));  // 2 of 2; 0 of 2 with both at 7 against 8

  // Without the preset's threshold a score of -1.0 is not a correctness value.
  const OpRun strict = run_op("grade.difficulty", "{sidecar: '" + (data_dir() / "verl_dump.jsonl").string() +
                                                "', sidecar_id_field: index, sidecar_field: output, sidecar_correct_field: score}",
                              "", options);
  EXPECT_EQ(strict.exit_code, 1) << strict.describe();
  EXPECT_NE(strict.err.find("does not hold one true/false or 0/1 per rollout"), std::string::npos) << strict.err;
}

TEST(plugins_grade_difficulty_presets, Validation) {
  auto refused = [](const std::string& with, const std::string& words) {
    const auto r = validate_op("grade.difficulty", with);
    EXPECT_EQ(r.exit_code, 2) << with << "\n" << r.err;
    EXPECT_NE(r.err.find(words), std::string::npos) << with << "\n" << r.err;
  };
  refused("{preset: verl}", "preset verl reads a verl rollout dump");
  refused("{preset: big_math, correct_field: c}", "rollouts from more than one place");
  refused("{preset: big_math, correct_field: c}", "preset big_math sets some of them");
  refused("{preset: openr1, answers_field: a}", "give responses_field or answers_field, not both");
  refused("{pass_rate_field: r}", "pass_rate_field needs n");
  refused("{counts_by_model_field: m}", "counts_by_model_field needs n");
  refused("{correct_field: c, n: 4}", "n goes with counts_by_model_field or pass_rate_field");
  refused("{preset: big_math, n: 0}", "n must be at least 1");
  refused("{preset: nonsense}", "nonsense");
  EXPECT_EQ(validate_op("grade.difficulty", "{preset: skywork_or1, model_band: any}").exit_code, 0);
  EXPECT_EQ(validate_op("grade.difficulty", "{preset: openr1, responses_field: ''}").exit_code, 0);
}

TEST(plugins_grade_difficulty_presets, CorrectThresholdForRewards) {
  const OpRun run = run_op("grade.difficulty", "{correct_field: r, correct_threshold: 0.5}",
                           jsonl({R"({"id":"a","r":[1.0,-1.0,0.1,0.5]})", R"({"id":"b","r":[true,false]})", R"({"id":"c","r":["1"]})"}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.annotation_of("a", "n_correct"), "2");  // 1.0 and 0.5
  EXPECT_EQ(run.annotation_of("b", "n_correct"), "1");
  EXPECT_EQ(run.reason_of("c"), "bad_rollouts");
}

// rollout.sample with early stopping writes its copy of grade.difficulty's settings beside answers and correct.
std::string sampled(const std::string& id, const std::string& early_stop) {
  return "{\"id\":\"" + id + "\",\"answer\":\"4\",\"rollouts\":{\"model\":\"m\",\"answers\":[\"4\",\"5\",\"4\"],\"correct\":[true,false,true]" +
         (early_stop.empty() ? "" : ",\"early_stop\":" + early_stop) + "}}";
}
const std::string kAgree =
    R"({"band_min":0.0625,"band_max":0.9375,"band_inclusive":true,"min_samples":2,"suspect_share":0.5,"suspect_action":"annotate"})";
const std::string kWith =
    "{answers_field: rollouts.answers, correct_field: rollouts.correct, min: 0.0625, max: 0.9375, inclusive: true, min_samples: 2, "
    "suspect_action: annotate}";

TEST(plugins_grade_difficulty_presets, EarlyStopSettingsThatAgreePass) {
  const OpRun run = run_op("grade.difficulty", kWith, jsonl({sampled("a", kAgree), sampled("b", ""), sampled("c", kAgree)}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"a", "b", "c"}));
  // Within 1e-12, and min_samples written as 2.0.
  const std::string near =
      R"({"band_min":0.06250000000000001,"band_max":0.9375,"band_inclusive":true,"min_samples":2.0,"suspect_share":0.5,"suspect_action":"annotate"})";
  EXPECT_EQ(run_op("grade.difficulty", kWith, jsonl({sampled("a", near)})).exit_code, 0);
  // Only answers_field or only correct_field pointing into the object is enough to check it.
  const std::string other = R"({"band_min":0.2,"band_max":0.9375,"band_inclusive":true,"min_samples":2,"suspect_share":0.5,"suspect_action":"annotate"})";
  EXPECT_EQ(run_op("grade.difficulty", "{correct_field: rollouts.correct, min: 0.0625, max: 0.9375, inclusive: true, min_samples: 2, suspect_action: annotate}",
                   jsonl({sampled("a", other)}))
                .exit_code,
            1);
}

TEST(plugins_grade_difficulty_presets, EarlyStopSettingsThatDifferFailTheStage) {
  const std::string share = R"({"band_min":0.0625,"band_max":0.9375,"band_inclusive":true,"min_samples":2,"suspect_share":0.75,"suspect_action":"annotate"})";
  const OpRun run = run_op("grade.difficulty", kWith, jsonl({sampled("a", kAgree), sampled("b", share)}));
  EXPECT_EQ(run.exit_code, 1) << run.describe();
  EXPECT_NE(run.err.find("record b"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("suspect_share 0.75 against grade.difficulty's suspect_share 0.5"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("decided on other settings than this difficulty stage's"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("fix one or the other"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("band_min"), run.err.find("band_min, band_max")) << "band_min agreed: " << run.err;

  // Each setting on its own, and all differences in one message.
  const std::string all = R"({"band_min":0.1,"band_max":0.9,"band_inclusive":false,"min_samples":4,"suspect_share":0.5,"suspect_action":"reject"})";
  const OpRun many = run_op("grade.difficulty", kWith, jsonl({sampled("a", all)}));
  EXPECT_EQ(many.exit_code, 1) << many.describe();
  for (const char* words : {"band_min 0.1 against grade.difficulty's min 0.0625", "band_max 0.9 against grade.difficulty's max 0.9375",
                            "band_inclusive false against grade.difficulty's inclusive true", "min_samples 4 against grade.difficulty's min_samples 2",
                            "suspect_action \"reject\" against grade.difficulty's suspect_action annotate"})
    EXPECT_NE(many.err.find(words), std::string::npos) << words << "\n" << many.err;
  EXPECT_EQ(many.err.find("suspect_share"), many.err.find("suspect_share and suspect_action")) << many.err;
  // A member missing from the early_stop object is a difference too.
  const OpRun missing = run_op("grade.difficulty", kWith, jsonl({sampled("a", R"({"band_min":0.0625})")}));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("band_max (absent)"), std::string::npos) << missing.err;
}

// rollout.sample with several models: {"models", "answers", "correct", "by_model": {NAME: {...}}, "early_stop"}.
// Reading one model's lists (models:, answers kind) checks the early_stop member beside by_model; a
// per-model band cannot go with a pooled early stop.
TEST(plugins_grade_difficulty_presets, EarlyStopSettingsAreFoundBesideByModel) {
  auto two = [](const std::string& id, const std::string& early_stop) {
    return "{\"id\":\"" + id + "\",\"answer\":\"4\",\"rollouts\":{\"models\":[\"a/m\",\"b.m\"],\"answers\":[\"4\",\"5\",\"4\",\"4\"],"
           "\"correct\":[true,false,true,true],\"by_model\":{\"a/m\":{\"answers\":[\"4\",\"4\"],\"correct\":[true,true]},"
           "\"b.m\":{\"answers\":[\"5\",\"4\"],\"correct\":[false,true]}},\"early_stop\":" + early_stop + "}}";
  };
  const std::string models =
      "models: {a: \"/rollouts/by_model/a~1m/answers\", b: \"/rollouts/by_model/b.m/answers\"}, models_kind: answers, "
      "min: 0.0625, max: 0.9375, inclusive: true, min_samples: 2, suspect_action: annotate";
  EXPECT_EQ(run_op("grade.difficulty", "{" + models + "}", jsonl({two("x", kAgree)})).exit_code, 0);
  const std::string other = R"({"band_min":0.25,"band_max":0.9375,"band_inclusive":true,"min_samples":2,"suspect_share":0.5,"suspect_action":"annotate"})";
  const OpRun differ = run_op("grade.difficulty", "{" + models + "}", jsonl({two("x", other)}));
  EXPECT_EQ(differ.exit_code, 1) << differ.describe();
  EXPECT_NE(differ.err.find("'/rollouts/early_stop'"), std::string::npos) << differ.err;
  EXPECT_NE(differ.err.find("band_min 0.25 against grade.difficulty's min 0.0625"), std::string::npos) << differ.err;
  const OpRun per_model = run_op("grade.difficulty", "{" + models + ", model_band: all}", jsonl({two("x", kAgree)}));
  EXPECT_EQ(per_model.exit_code, 1) << per_model.describe();
  EXPECT_NE(per_model.err.find("the early stop settles the pooled band, and grade.difficulty's model_band is all"), std::string::npos)
      << per_model.err;
}

}  // namespace
