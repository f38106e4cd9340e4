// Tests of the `grade.difficulty` op (plugins/grade/difficulty.cpp) through harness.hpp: rollout sources, the
// band and its bounds, too_few_samples, suspect labels, per-model annotations, determinism, and the
// GSM8K example solutions (4 graded model solutions per test problem) as real rollouts.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <map>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using namespace tamis::test;
using Strings = std::vector<std::string>;

std::filesystem::path shared_data() { return TAMIS_SHARED_DATA; }

TEST(plugins_grade_difficulty, CorrectnessValuesAndDefaultBandDropsAllAndNone) {
  const Strings in = {
      R"({"id":"none","c":[false,false,false,false]})",
      R"({"id":"one","c":[true,false,false,false]})",
      R"({"id":"three","c":[1,1,0,1]})",
      R"({"id":"all","c":[1,1,1,1]})",
      R"({"id":"single","c":true})",
  };
  const OpRun run = run_op("grade.difficulty", "{correct_field: c}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"one", "three"}));
  EXPECT_EQ(run.reason_of("none"), "too_hard");
  EXPECT_EQ(run.detail_of("none"), "0/4 correct");
  EXPECT_EQ(run.reason_of("all"), "too_easy");
  EXPECT_EQ(run.detail_of("all"), "4/4 correct");
  EXPECT_EQ(run.reason_of("single"), "too_easy");
  EXPECT_EQ(run.annotation_of("three", "pass_rate"), "0.75");
  EXPECT_EQ(run.annotation_of("three", "n_samples"), "4");
  EXPECT_EQ(run.annotation_of("three", "n_correct"), "3");
  EXPECT_EQ(run.annotation_of("three", "majority_answer"), std::nullopt);  // correctness values carry no answers
  EXPECT_EQ(run.annotation_of("none", "pass_rate"), "0");                   // rejected lines are annotated too
}

TEST(plugins_grade_difficulty, BandEdgesInclusiveAndExclusive) {
  // 0/8 .. 8/8 correct.
  Strings in;
  for (int k = 0; k <= 8; ++k) {
    std::string c = "[";
    for (int i = 0; i < 8; ++i) c += std::string(i ? "," : "") + (i < k ? "1" : "0");
    in.push_back("{\"id\":\"k" + std::to_string(k) + "\",\"c\":" + c + "]}");
  }
  // Qwen2.5-Math: 2..5 of 8, inclusive.
  const OpRun inc = run_op("grade.difficulty", "{correct_field: c, min: 0.25, max: 0.625, inclusive: true}", jsonl(in));
  ASSERT_EQ(inc.exit_code, 0) << inc.describe();
  EXPECT_EQ(inc.kept_ids(), (Strings{"k2", "k3", "k4", "k5"}));
  EXPECT_EQ(inc.reason_of("k1"), "too_hard");
  EXPECT_EQ(inc.reason_of("k6"), "too_easy");
  EXPECT_EQ(inc.detail_of("k6"), "6/8 correct");
  // The same bounds, exclusive: the edges go.
  const OpRun exc = run_op("grade.difficulty", "{correct_field: c, min: 0.25, max: 0.625}", jsonl(in));
  ASSERT_EQ(exc.exit_code, 0) << exc.describe();
  EXPECT_EQ(exc.kept_ids(), (Strings{"k3", "k4"}));
  // Inclusive 0..1 keeps everything.
  const OpRun all = run_op("grade.difficulty", "{correct_field: c, inclusive: true}", jsonl(in));
  ASSERT_EQ(all.exit_code, 0) << all.describe();
  EXPECT_EQ(all.kept.size(), 9u);
  // open-r1: 0.1 < p < 0.9 exclusive over 8 samples keeps 1..7.
  const OpRun r1 = run_op("grade.difficulty", "{correct_field: c, min: 0.1, max: 0.9}", jsonl(in));
  ASSERT_EQ(r1.exit_code, 0) << r1.describe();
  EXPECT_EQ(r1.kept.size(), 7u);
}

TEST(plugins_grade_difficulty, TooFewSamplesAndCounts) {
  const Strings in = {
      R"({"id":"few","n":3,"k":1})",
      R"({"id":"ok","n":16,"k":5})",
      R"({"id":"bad","n":4,"k":5})",
      R"({"id":"missing","n":4})",
      R"({"id":"zero","n":0,"k":0})",
  };
  const OpRun run = run_op("grade.difficulty", "{n_field: n, correct_count_field: k, min_samples: 4}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"ok"});
  EXPECT_EQ(run.reason_of("few"), "too_few_samples");
  EXPECT_EQ(run.detail_of("few"), "3 rollouts, fewer than min_samples 4");
  EXPECT_EQ(run.reason_of("bad"), "bad_rollouts");
  EXPECT_EQ(run.reason_of("missing"), "missing_rollouts");
  EXPECT_EQ(run.reason_of("zero"), "too_few_samples");
  EXPECT_EQ(run.annotation_of("ok", "pass_rate"), "0.3125");
  const OpRun few = run_op("grade.difficulty", "{correct_field: c, min_samples: 3}", jsonl({R"({"id":"a","c":[1,0]})", R"({"id":"b","c":[]})", R"({"id":"x","c":[1,"y"]})"}));
  ASSERT_EQ(few.exit_code, 0) << few.describe();
  EXPECT_EQ(few.reasons(), (Strings{"too_few_samples", "too_few_samples", "bad_rollouts"}));
}

TEST(plugins_grade_difficulty, ResponsesAreGradedAndAnswersGroupedByEquivalence) {
  const Strings in = {
      // 2 correct of 4; answers 1/2, 0.5 (same group), 3, none.
      R"({"id":"p","answer":"\\frac12","r":["so \\boxed{\\frac{1}{2}}","The answer is 0.5","\\boxed{3}","no idea"]})",
      // Worked reference solution reduced to its final answer.
      R"({"id":"w","answer":"9 * 2 = 18\n#### 18","r":["#### 18","#### 20","#### 18.0"]})",
  };
  const OpRun run = run_op("grade.difficulty", "{responses_field: r}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"p", "w"}));
  EXPECT_EQ(run.annotation_of("p", "n_correct"), "2");
  EXPECT_EQ(run.annotation_of("p", "pass_rate"), "0.5");
  EXPECT_EQ(run.annotation_of("p", "majority_answer"), R"("\\frac{1}{2}")");
  EXPECT_EQ(run.annotation_of("p", "majority_share"), "0.5");
  EXPECT_EQ(run.annotation_of("p", "suspect_label"), std::nullopt);
  EXPECT_EQ(run.annotation_of("w", "n_correct"), "2");
  EXPECT_EQ(run.annotation_of("w", "majority_answer"), R"("18")");
  // Extracted answers, numbers allowed.
  const OpRun a = run_op("grade.difficulty", "{answers_field: a, reference_field: ref}",
                         jsonl({R"({"id":"x","ref":12,"a":["12", 12.0, "0012", "13"]})"}));
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  EXPECT_EQ(a.annotation_of("x", "n_correct"), "3");
  EXPECT_EQ(a.annotation_of("x", "majority_share"), "0.75");
  // Answers with separate correctness values: correctness from the values, majority from the answers.
  const OpRun both = run_op("grade.difficulty", "{answers_field: a, correct_field: c}",
                            jsonl({R"({"id":"y","answer":"5","a":["4","4","5"],"c":[1,1,0]})", R"({"id":"z","answer":"5","a":["4"],"c":[1,1]})"}));
  ASSERT_EQ(both.exit_code, 0) << both.describe();
  EXPECT_EQ(both.annotation_of("y", "n_correct"), "2");
  EXPECT_EQ(both.reason_of("z"), "bad_rollouts");
  // A missing reference when responses must be graded.
  const OpRun noref = run_op("grade.difficulty", "{responses_field: r}", jsonl({R"({"id":"n","r":["\\boxed{1}"]})"}));
  ASSERT_EQ(noref.exit_code, 0) << noref.describe();
  EXPECT_EQ(noref.reasons(), Strings{"missing_reference"});
}

TEST(plugins_grade_difficulty, SuspectLabels) {
  const Strings in = {
      // 3 of 4 agree on 42 (as 42, 42.0 and \boxed{42}); the reference says 24.
      R"({"id":"s","answer":"24","r":["\\boxed{42}","#### 42.0","The answer is 42","\\boxed{24}"]})",
      // Half agree on a wrong answer and one rollout reaches the reference: 2 is not more than twice 1, so
      // not suspect (on GSM8K such flags were false 58 times out of 60, bench/accuracy/suspect.sh).
      R"({"id":"half","answer":"7","r":["\\boxed{8}","\\boxed{8}","\\boxed{7}","\\boxed{9}"]})",
      // Half agree on a wrong answer and none reaches the reference: share 0.5 >= 0.5 is suspect.
      R"({"id":"half0","answer":"7","r":["\\boxed{8}","\\boxed{8}","\\boxed{6}","\\boxed{9}"]})",
      // Wrong answers scattered: no majority above the share.
      R"({"id":"scatter","answer":"7","r":["\\boxed{1}","\\boxed{2}","\\boxed{7}","\\boxed{3}"]})",
      // Too few samples for a suspect label (min_samples 4): too_few_samples instead.
      R"({"id":"few","answer":"7","r":["\\boxed{8}","\\boxed{8}"]})",
      // Majority equals the reference.
      R"({"id":"fine","answer":"7","r":["\\boxed{7}","\\boxed{7}","\\boxed{8}","\\boxed{8.0}"]})",
      // A tie between a wrong answer seen first and the reference's answer: the reference's wins, not suspect.
      R"({"id":"tie","answer":"7","r":["\\boxed{8}","\\boxed{8}","\\boxed{7}","\\boxed{7}"]})",
  };
  const OpRun run = run_op("grade.difficulty", "{responses_field: r, min_samples: 4}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"half", "scatter", "fine", "tie"}));
  EXPECT_EQ(run.annotation_of("tie", "majority_answer"), R"("7")");
  EXPECT_EQ(run.annotation_of("tie", "majority_share"), "0.5");
  EXPECT_EQ(run.reason_of("s"), "suspect_label");
  EXPECT_EQ(run.detail_of("s"), "majority answer '42' (3/4, share 0.75) is not equivalent to the reference '24'; 1/4 correct");
  EXPECT_EQ(run.reason_of("half0"), "suspect_label");
  EXPECT_EQ(run.annotation_of("half", "suspect_label"), std::nullopt);
  EXPECT_EQ(run.reason_of("few"), "too_few_samples");
  // "fine": 7 (twice) and 8 / 8.0 (one group) tie at 2 each; the tie goes to the answer seen first, 7,
  // equal to the reference.
  EXPECT_EQ(run.annotation_of("fine", "majority_answer"), R"("7")");
  EXPECT_EQ(run.annotation_of("fine", "suspect_label"), std::nullopt);
  EXPECT_EQ(run.annotation_of("s", "suspect_label"), "true");
  // A stricter share: only s (0.75) is suspect.
  const OpRun strict = run_op("grade.difficulty", "{responses_field: r, min_samples: 4, suspect_share: 0.7}", jsonl(in));
  ASSERT_EQ(strict.exit_code, 0) << strict.describe();
  EXPECT_EQ(strict.reason_of("s"), "suspect_label");
  EXPECT_EQ(strict.kept_ids(), (Strings{"half", "scatter", "fine", "tie"}));  // half: 1/4 correct, in the band
  EXPECT_EQ(strict.reason_of("half0"), "too_hard");                              // 0/4, share 0.5 < 0.7
  // Annotate only: the band decides; s is kept with 1/4 and marked.
  const OpRun note = run_op("grade.difficulty", "{responses_field: r, min_samples: 4, suspect_action: annotate}", jsonl(in));
  ASSERT_EQ(note.exit_code, 0) << note.describe();
  EXPECT_EQ(note.kept_ids(), (Strings{"s", "half", "scatter", "fine", "tie"}));
  EXPECT_EQ(note.annotation_of("s", "suspect_label"), "true");
  EXPECT_EQ(note.annotation_of("half0", "suspect_label"), "true");
  EXPECT_EQ(note.annotation_of("half", "suspect_label"), std::nullopt);
  // Off: no check.
  const OpRun off = run_op("grade.difficulty", "{responses_field: r, min_samples: 4, suspect_action: off}", jsonl(in));
  ASSERT_EQ(off.exit_code, 0) << off.describe();
  EXPECT_EQ(off.annotation_of("s", "suspect_label"), std::nullopt);
}

TEST(plugins_grade_difficulty, PerModelPassRates) {
  const Strings in = {
      R"({"id":"m","answer":"5","a":{"r":["\\boxed{5}","\\boxed{4}"]},"b":"#### 5"})",
      R"({"id":"c","answer":"5","x":[1,0,0,0],"y":[1,1,1,1]})",
  };
  const OpRun run = run_op("grade.difficulty", "{models: {small: a.r, big: b}}", jsonl({in[0]}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 1u);
  EXPECT_EQ(run.annotation_of("m", "pass_rate"), R"({"small":0.5,"big":1})");
  EXPECT_EQ(run.annotation_of("m", "n_correct_by_model"), R"({"small":1,"big":1})");
  EXPECT_EQ(run.annotation_of("m", "n_samples_by_model"), R"({"small":2,"big":1})");
  EXPECT_EQ(run.annotation_of("m", "n_samples"), "3");
  EXPECT_EQ(run.annotation_of("m", "n_correct"), "2");
  EXPECT_EQ(run.annotation_of("m", "majority_answer"), R"("5")");
  const OpRun c = run_op("grade.difficulty", "{models: {x: x, y: y}, models_kind: correct}", jsonl({in[1]}));
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  EXPECT_EQ(c.annotation_of("c", "pass_rate"), R"({"x":0.25,"y":1})");
  EXPECT_EQ(c.annotation_of("c", "pass_rate_pooled"), "0.625");
  const OpRun missing = run_op("grade.difficulty", "{models: {x: x, z: z}, models_kind: correct}", jsonl({in[1]}));
  ASSERT_EQ(missing.exit_code, 0) << missing.describe();
  EXPECT_EQ(missing.reasons(), Strings{"missing_rollouts"});
  EXPECT_EQ(missing.rejections()[0].detail, "no field 'z'");
}

TEST(plugins_grade_difficulty, BadParametersAreRefused) {
  EXPECT_EQ(validate_op("grade.difficulty", "").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{n_field: n}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{responses_field: r, answers_field: a}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{correct_field: c, n_field: n, correct_count_field: k}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{correct_field: c, min: 0.8, max: 0.2}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{correct_field: c, min: 0.5, max: 0.5}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{correct_field: c, min_samples: 0}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{correct_field: c, suspect_share: 0}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{correct_field: c, suspect_action: maybe}").exit_code, 2);
  const auto none = validate_op("grade.difficulty", "{min: 0.1}");
  EXPECT_NE(none.err.find("no rollouts"), std::string::npos) << none.err;
  EXPECT_EQ(validate_op("grade.difficulty", "{correct_field: c, min: 0.5, max: 0.5, inclusive: true}").exit_code, 0);
  EXPECT_EQ(validate_op("grade.difficulty", "{models: {a: x.solution}, min_samples: 2}").exit_code, 0);
}

// A sidecar file (absolute path, removed at exit of the test).
struct Sidecar {
  std::filesystem::path path;
  explicit Sidecar(const std::string& name, const std::string& text) {
    path = std::filesystem::temp_directory_path() / ("tamis_difficulty_" + name + "_" + std::to_string(::getpid()) + ".jsonl");
    std::ofstream(path, std::ios::binary) << text;
  }
  ~Sidecar() { std::filesystem::remove(path); }
};

TEST(plugins_grade_difficulty, SidecarRolloutsKeyedById) {
  const Strings in = {
      R"({"id":"p1","answer":"5"})",
      R"({"id":"p2","answer":"\\frac12"})",
      R"({"id":"p3","answer":"9"})",
      R"({"id":"p4","answer":"1"})",
  };
  // One line per rollout (p1, p2, p3 interleaved) and one line per problem (p3's second line).
  const Sidecar side("rollouts", jsonl({
      R"({"id":"p1","response":"\\boxed{5}"})",
      R"({"id":"p2","response":"The answer is 0.5"})",
      R"({"id":"p1","response":"\\boxed{4}"})",
      R"({"id":"p3","response":"#### 8"})",
      R"({"id":"p2","response":"\\boxed{\\frac{1}{2}}"})",
      R"({"id":"p3","response":["#### 8","#### 8.0","#### 9"]})",
      R"({"id":"p1","response":"no answer"})",
  }));
  const OpRun run = run_op("grade.difficulty", "{sidecar: '" + side.path.string() + "'}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"p1"});
  EXPECT_EQ(run.annotation_of("p1", "n_samples"), "3");
  EXPECT_EQ(run.annotation_of("p1", "n_correct"), "1");
  EXPECT_EQ(run.reason_of("p2"), "too_easy");
  EXPECT_EQ(run.annotation_of("p2", "majority_answer"), R"("0.5")");
  EXPECT_EQ(run.annotation_of("p2", "majority_share"), "1");
  EXPECT_EQ(run.reason_of("p3"), "suspect_label");  // 8 three times of 4, reference 9
  EXPECT_EQ(run.annotation_of("p3", "n_correct"), "1");
  EXPECT_EQ(run.reason_of("p4"), "missing_rollouts");
  EXPECT_EQ(run.detail_of("p4"), "no rollouts for id 'p4' in the sidecar");
  EXPECT_NE(run.err.find("sidecar: 9 rollouts for 3 ids from 7 lines"), std::string::npos) << run.err;
  // Same results at 1 thread.
  const OpRun one = run_op("grade.difficulty", "{sidecar: '" + side.path.string() + "'}", jsonl(in), 1);
  EXPECT_EQ(one.kept, run.kept);
  EXPECT_EQ(one.rejected, run.rejected);
}

TEST(plugins_grade_difficulty, SidecarCorrectnessPerModelAndErrors) {
  const Sidecar side("models", jsonl({
      R"({"pid":7,"model":"small","ok":[1,0,0,0]})",
      R"({"pid":7,"model":"big","ok":true})",
      R"({"pid":7,"model":"big","ok":1})",
  }));
  const OpRun run = run_op("grade.difficulty", "{sidecar: '" + side.path.string() + "', sidecar_id_field: pid, sidecar_field: ok, sidecar_kind: correct, sidecar_model_field: model}",
                           jsonl({R"({"id":"7"})"}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"7"});
  EXPECT_EQ(run.annotation_of("7", "pass_rate"), R"({"small":0.25,"big":1})");
  EXPECT_EQ(run.annotation_of("7", "pass_rate_pooled"), "0.5");
  EXPECT_EQ(run.annotation_of("7", "n_samples_by_model"), R"({"small":4,"big":2})");
  // Answers with correctness marks.
  const Sidecar marked("marked", jsonl({R"({"id":"a","ans":["3","3","3","4"],"c":[0,0,0,1]})"}));
  const OpRun m = run_op("grade.difficulty", "{sidecar: '" + marked.path.string() + "', sidecar_field: ans, sidecar_kind: answers, sidecar_correct_field: c}",
                         jsonl({R"({"id":"a","answer":"4"})"}));
  ASSERT_EQ(m.exit_code, 0) << m.describe();
  EXPECT_EQ(m.reasons(), Strings{"suspect_label"});
  EXPECT_EQ(m.annotation_of("a", "n_correct"), "1");
  // A broken sidecar stops the run (exit 1) with the line.
  const Sidecar broken("broken", "{\"id\":\"a\",\"response\":\"x\"}\nnot json\n");
  const OpRun b = run_op("grade.difficulty", "{sidecar: '" + broken.path.string() + "'}", jsonl({R"({"id":"a","answer":"4"})"}));
  EXPECT_EQ(b.exit_code, 1);
  EXPECT_NE(b.err.find(":2: not a JSON object"), std::string::npos) << b.err;
  EXPECT_EQ(validate_op("grade.difficulty", "{sidecar: x.jsonl, correct_field: c}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{sidecar: x.jsonl, sidecar_kind: correct, sidecar_correct_field: c}").exit_code, 2);
}

// GSM8K test: 4 graded solutions per problem from 4 models.
const char* const kModels = "{m6b_ft: 6b_finetuning.X, m6b_ver: 6b_verification.X, m175b_ft: 175b_finetuning.X, m175b_ver: 175b_verification.X}";

std::string models_with(const std::string& sub) {
  std::string s = kModels;
  for (size_t at; (at = s.find(".X")) != std::string::npos;) s.replace(at, 2, "." + sub);
  return s;
}

std::array<int, 5> histogram(const OpRun& run) {
  std::array<int, 5> h{};
  for (const auto* lines : {&run.kept, &run.rejected})
    for (const auto& line : *lines) {
      const auto k = run.annotation(line, "n_correct");
      if (k) ++h.at(static_cast<size_t>(std::stoi(*k)));
    }
  return h;
}

TEST(plugins_grade_difficulty, Gsm8kExampleSolutionsAsRollouts) {
  const auto path = shared_data() / "gsm8k" / "example_model_solutions.jsonl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  OpOptions opt;
  opt.input = path;
  opt.id_field = "";
  opt.threads = 1;
  // Stored labels: the MANIFEST's histogram of correct-of-4.
  const OpRun labels = run_op("grade.difficulty", "{models: " + models_with("is_correct") + ", models_kind: correct}", "", opt);
  ASSERT_EQ(labels.exit_code, 0) << labels.describe();
  EXPECT_EQ(histogram(labels), (std::array<int, 5>{432, 290, 236, 205, 156}));
  EXPECT_EQ(labels.kept.size(), 290u + 236 + 205);
  int hard = 0, easy = 0;
  for (const auto& r : labels.reasons()) (r == "too_hard" ? hard : easy) += 1;
  EXPECT_EQ(hard, 432);
  EXPECT_EQ(easy, 156);
  // The per-model object for the first problem (all four wrong).
  EXPECT_EQ(labels.annotation(labels.rejected[0], "pass_rate"), R"({"m6b_ft":0,"m6b_ver":0,"m175b_ft":0,"m175b_ver":0})");

  // Our grading of the solutions against ground_truth, suspect labels only annotated.
  const std::string with = "{models: " + models_with("solution") + ", reference_field: ground_truth, suspect_action: annotate}";
  const OpRun graded = run_op("grade.difficulty", with, "", opt);
  ASSERT_EQ(graded.exit_code, 0) << graded.describe();
  const auto h = histogram(graded);
  ASSERT_EQ(graded.kept.size() + graded.rejected.size(), 1319u);
  // Per problem, the graded count equals the stored one (output order is input order per sink; match by question).
  std::map<std::string, std::string> stored;
  for (const auto* lines : {&labels.kept, &labels.rejected})
    for (const auto& line : *lines) stored[*json_string(line, "question")] = *labels.annotation(line, "n_correct");
  size_t same = 0, suspects = 0;
  for (const auto* lines : {&graded.kept, &graded.rejected})
    for (const auto& line : *lines) {
      if (stored[*json_string(line, "question")] == graded.annotation(line, "n_correct")) ++same;
      if (graded.annotation(line, "suspect_label") == "true") ++suspects;
    }
  std::printf("GSM8K graded correct-of-4: 0:%d 1:%d 2:%d 3:%d 4:%d; same count as labels on %zu/1319 problems; suspect labels (share >= 0.5): %zu\n",
              h[0], h[1], h[2], h[3], h[4], same, suspects);
  EXPECT_GE(same, 1306u);  // >= 99% of problems
  EXPECT_EQ(h, (std::array<int, 5>{432, 290, 236, 205, 156}));
  EXPECT_EQ(suspects, 169u);  // docs/grading.md
  // Determinism: 2 threads, same bytes.
  OpOptions two = opt;
  two.threads = 2;
  const OpRun graded2 = run_op("grade.difficulty", with, "", two);
  ASSERT_EQ(graded2.exit_code, 0) << graded2.describe();
  EXPECT_EQ(graded.kept, graded2.kept);
  EXPECT_EQ(graded.rejected, graded2.rejected);
  EXPECT_EQ(graded.ledger, graded2.ledger);
}

}  // namespace

namespace {

// Runs the difficulty op with `with` on inline correctness values per model (x and y).
OpRun run_bands(const std::string& with, const Strings& in) {
  return run_op("grade.difficulty", "{models: {x: x, y: y}, models_kind: correct" + with + "}", jsonl(in));
}

}  // namespace

TEST(plugins_grade_difficulty, PerModelBandsAllAndAny) {
  const Strings in = {
      R"({"id":"both","x":[1,0,0,0],"y":[1,1,0,0]})",
      R"({"id":"easy_y","x":[1,0,0,0],"y":[1,1,1,1]})",
      R"({"id":"hard_x","x":[0,0,0,0],"y":[1,0,0,0]})",
      R"({"id":"none","x":[0,0,0,0],"y":[1,1,1,1]})",
  };
  // Pooled (the default): the band is on x and y together.
  const OpRun pooled = run_bands("", in);
  ASSERT_EQ(pooled.exit_code, 0) << pooled.describe();
  EXPECT_EQ(pooled.kept_ids(), (Strings{"both", "easy_y", "hard_x", "none"}));
  EXPECT_EQ(pooled.annotation_of("both", "band_by_model"), std::nullopt);

  // all: every model inside its band (Skywork-OR1's "1-15 of 16 for each model").
  const OpRun all = run_bands(", model_band: all", in);
  ASSERT_EQ(all.exit_code, 0) << all.describe();
  EXPECT_EQ(all.kept_ids(), Strings{"both"});
  EXPECT_EQ(all.annotation_of("both", "band_by_model"), R"({"x":"in_band","y":"in_band"})");
  EXPECT_EQ(all.reason_of("easy_y"), "too_easy");
  EXPECT_EQ(all.detail_of("easy_y"), "not every model in its band: x 1/4 in_band; y 4/4 too_easy");
  EXPECT_EQ(all.annotation_of("easy_y", "band_by_model"), R"({"x":"in_band","y":"too_easy"})");
  EXPECT_EQ(all.reason_of("hard_x"), "too_hard");
  EXPECT_EQ(all.reason_of("none"), "too_hard");  // the first model out of its band names the reason
  EXPECT_EQ(all.annotation_of("none", "pass_rate"), R"({"x":0,"y":1})");

  // any: at least one model inside its band.
  const OpRun any = run_bands(", model_band: any", in);
  ASSERT_EQ(any.exit_code, 0) << any.describe();
  EXPECT_EQ(any.kept_ids(), (Strings{"both", "easy_y", "hard_x"}));
  EXPECT_EQ(any.reason_of("none"), "too_hard");
  EXPECT_EQ(any.detail_of("none"), "no model in its band: x 0/4 too_hard; y 4/4 too_easy");

  // A band of its own for y (inclusive up to 1): y solving everything no longer rejects.
  const OpRun own = run_bands(", model_band: all, model_bands: {y: {max: 1, inclusive: true}}", in);
  ASSERT_EQ(own.exit_code, 0) << own.describe();
  EXPECT_EQ(own.kept_ids(), (Strings{"both", "easy_y"}));
  EXPECT_EQ(own.reason_of("hard_x"), "too_hard");
  // Inclusive bounds given as rates: 1 to 3 of 4 correct for x.
  const OpRun counts = run_bands(", model_band: any, model_bands: {x: {min: 0.25, max: 0.75, inclusive: true}, y: {min: 0.5, max: 0.5, inclusive: true}}", in);
  ASSERT_EQ(counts.exit_code, 0) << counts.describe();
  EXPECT_EQ(counts.kept_ids(), (Strings{"both", "easy_y"}));
  EXPECT_EQ(counts.annotation_of("both", "band_by_model"), R"({"x":"in_band","y":"in_band"})");
  EXPECT_EQ(counts.annotation_of("hard_x", "band_by_model"), R"({"x":"too_hard","y":"too_hard"})");
}

TEST(plugins_grade_difficulty, PerModelBandsFromASidecarCountModelsMissingForAnId) {
  const Sidecar side("bands", jsonl({
      R"({"id":"1","model":"a","ok":[1,0]})",
      R"({"id":"1","model":"b","ok":[1,1]})",
      R"({"id":"2","model":"a","ok":[1,0]})",
  }));
  const std::string with = "{sidecar: '" + side.path.string() + "', sidecar_field: ok, sidecar_kind: correct, sidecar_model_field: model";
  const Strings in = {R"({"id":"1"})", R"({"id":"2"})"};
  const OpRun all = run_op("grade.difficulty", with + ", model_band: all}", jsonl(in));
  ASSERT_EQ(all.exit_code, 0) << all.describe();
  EXPECT_EQ(all.reason_of("1"), "too_easy");
  // Model b has no rollout for problem 2: it cannot be in its band.
  EXPECT_EQ(all.reason_of("2"), "too_few_samples");
  EXPECT_EQ(all.detail_of("2"), "not every model in its band: a 1/2 in_band; b 0/0 too_few_samples");
  const OpRun any = run_op("grade.difficulty", with + ", model_band: any}", jsonl(in));
  ASSERT_EQ(any.exit_code, 0) << any.describe();
  EXPECT_EQ(any.kept_ids(), (Strings{"1", "2"}));
  EXPECT_EQ(any.annotation_of("2", "band_by_model"), R"({"a":"in_band","b":"too_few_samples"})");
  // A band for a model the sidecar does not have stops the run, naming it.
  const OpRun unknown = run_op("grade.difficulty", with + ", model_band: all, model_bands: {c: {min: 0.1}}}", jsonl(in));
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("model_bands names model 'c'"), std::string::npos) << unknown.err;
}

TEST(plugins_grade_difficulty, PerModelBandParametersAreChecked) {
  EXPECT_EQ(validate_op("grade.difficulty", "{correct_field: c, model_band: all}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{models: {a: x}, model_bands: {a: {min: 0.1}}}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{models: {a: x}, model_band: all, model_bands: {b: {min: 0.1}}}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{models: {a: x}, model_band: all, model_bands: {a: {low: 0.1}}}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{models: {a: x}, model_band: all, model_bands: {a: {min: 0.9, max: 0.1}}}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{models: {a: x}, model_band: all, model_bands: {a: 3}}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{models: {a: x}, model_band: sometimes}").exit_code, 2);
  EXPECT_EQ(validate_op("grade.difficulty", "{models: {a: x}, model_band: any, model_bands: {a: {min: 0.1, inclusive: true}}}").exit_code, 0);
}

// A sidecar of several 4 MiB chunks (one line longer than a chunk): chunks are read on several threads and
// merged in file order, so the counts are exact and the output does not depend on the thread count.
TEST(plugins_grade_difficulty, LargeSidecarReadInChunksGivesTheSameResultOnAnyThreadCount) {
  constexpr int kIds = 3000, kRollouts = 16;
  const std::string pad(180, 'w');
  std::string text;
  Strings in;
  std::map<std::string, int> expected_correct;
  uint64_t state = 12345;
  auto next = [&] { return (state = state * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  std::vector<std::string> lines;
  for (int i = 0; i < kIds; ++i) {
    const std::string id = "q" + std::to_string(i);
    in.push_back(R"({"id":")" + id + R"(","answer":")" + std::to_string(i % 97) + R"("})");
    for (int r = 0; r < kRollouts; ++r) {
      const bool right = next() % 3 == 0;
      const int ans = right ? i % 97 : i % 97 + 1 + static_cast<int>(next() % 2);
      expected_correct[id] += right ? 1 : 0;
      // Equivalent forms of the same answer must land in one group whatever chunk they are in.
      const std::string form = next() % 2 ? std::to_string(ans) : std::to_string(ans) + ".0";
      lines.push_back(R"({"id":")" + id + R"(","response":")" + pad + R"( so \\boxed{)" + form + R"(}"})");
    }
  }
  for (size_t i = lines.size(); i > 1; --i) std::swap(lines[i - 1], lines[next() % i]);
  // One line of 5 MiB (a rollout with a long reasoning trace) for problem q0.
  lines.insert(lines.begin() + 100, R"({"id":"q0","response":")" + std::string(5 << 20, 'z') + R"( \\boxed{0}"})");
  expected_correct["q0"] += 1;
  for (const auto& l : lines) text += l + "\n";
  ASSERT_GT(text.size(), size_t{12} << 20);
  const Sidecar side("large", text);
  const std::string with = "{sidecar: '" + side.path.string() + "', suspect_action: annotate, min: 0, max: 1, inclusive: true}";
  const OpRun two = run_op("grade.difficulty", with, jsonl(in), 2);
  ASSERT_EQ(two.exit_code, 0) << two.describe();
  ASSERT_EQ(two.kept.size(), static_cast<size_t>(kIds));
  for (const auto& line : two.kept) {
    const std::string id = json_string(line, "id").value_or("");
    EXPECT_EQ(two.annotation(line, "n_correct"), std::to_string(expected_correct[id])) << id;
    EXPECT_EQ(two.annotation(line, "n_samples"), std::to_string(kRollouts + (id == "q0" ? 1 : 0))) << id;
  }
  EXPECT_NE(two.err.find("sidecar: " + std::to_string(kIds * kRollouts + 1) + " rollouts for 3000 ids from " +
                         std::to_string(lines.size()) + " lines"), std::string::npos) << two.err;
  const OpRun one = run_op("grade.difficulty", with, jsonl(in), 1);
  EXPECT_EQ(one.kept, two.kept);
}
