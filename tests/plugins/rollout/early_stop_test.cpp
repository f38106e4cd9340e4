// The exact early-stopping rule against the real `grade.difficulty` (suite plugins_rollout_early_stop): for
// every sequence of 6 answers over {right, wrong A, wrong B}, and several bands, suspect settings and
// round sizes, the verdict difficulty gives on the samples drawn before the rule stopped equals the one it
// gives on all 6. Also the Clopper-Pearson bounds against known values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "early_stop.hpp"
#include "harness.hpp"

namespace {

using namespace tamis::test;
using tamis::rollout::StopOptions;
using tamis::rollout::StopReason;
using tamis::rollout::StopRule;
using tamis::rollout::SuspectAction;
using tamis::rollout::Tally;

// The tally of the first m answers ("7" is the reference), grouped by equal text as difficulty does.
Tally tally_of(const std::vector<std::string>& answers, size_t m) {
  Tally t;
  t.m = static_cast<int64_t>(m);
  std::vector<std::string> seen;
  for (size_t i = 0; i < m; ++i) {
    t.correct += answers[i] == "7" ? 1 : 0;
    size_t g = 0;
    while (g < seen.size() && seen[g] != answers[i]) ++g;
    if (g == seen.size()) {
      seen.push_back(answers[i]);
      t.groups.push_back({0, answers[i] == "7"});
    }
    ++t.groups[g].count;
  }
  return t;
}

std::string record(const std::string& id, const std::vector<std::string>& answers, size_t m) {
  std::string a = "[", c = "[";
  for (size_t i = 0; i < m; ++i) {
    a += std::string(i ? "," : "") + "\"" + answers[i] + "\"";
    c += std::string(i ? "," : "") + (answers[i] == "7" ? "true" : "false");
  }
  return "{\"id\":\"" + id + "\",\"answer\":\"7\",\"answers\":" + a + "],\"correct\":" + c + "]}";
}

// id -> "kept" or the reason, plus "+suspect" when the suspect_label annotation is there.
std::map<std::string, std::string> verdicts(const OpRun& run) {
  std::map<std::string, std::string> out;
  const auto kept = run.kept_ids();
  for (size_t i = 0; i < kept.size(); ++i) out[kept[i]] = run.annotation(run.kept[i], "suspect_label") ? "kept+suspect" : "kept";
  for (const auto& v : run.rejections()) out[v.id] = v.reason;
  return out;
}

struct Config {
  const char* name;
  StopOptions options;
};

std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string difficulty_with(const StopOptions& o) {
  const char* action = o.suspect == SuspectAction::reject ? "reject" : o.suspect == SuspectAction::annotate ? "annotate" : "off";
  return "{answers_field: answers, correct_field: correct, min: " + exact(o.min) + ", max: " + exact(o.max) +
         ", inclusive: " + (o.inclusive ? "true" : "false") + ", min_samples: " + std::to_string(o.min_samples) +
         ", suspect_share: " + exact(o.suspect_share) + ", suspect_action: " + action + "}";
}

StopOptions make(double min, double max, bool inclusive, SuspectAction action, int64_t round, int64_t min_samples = 1,
                 double share = 0.5) {
  StopOptions o;
  o.rule = StopRule::exact;
  o.min = min;
  o.max = max;
  o.inclusive = inclusive;
  o.suspect = action;
  o.round = round;
  o.min_samples = min_samples;
  o.suspect_share = share;
  return o;
}

TEST(plugins_rollout_early_stop, exact_rule_never_changes_difficultys_verdict) {
  constexpr size_t kN = 6;
  const std::vector<Config> configs = {
      {"1-5 of 6, reject, rounds of 1", make(1.0 / 6, 5.0 / 6, true, SuspectAction::reject, 1)},
      {"(0.3, 0.7), reject, rounds of 2", make(0.3, 0.7, false, SuspectAction::reject, 2)},
      {"(0, 1), annotate, rounds of 1", make(0, 1, false, SuspectAction::annotate, 1)},
      {"[0.5, 1], off, rounds of 3, min_samples 2", make(0.5, 1, true, SuspectAction::off, 3, 2)},
      {"[0.2, 0.6], reject at share 0.34, rounds of 1", make(0.2, 0.6, true, SuspectAction::reject, 1, 1, 0.34)},
  };
  const char* alphabet[] = {"7", "8", "9"};
  std::vector<std::vector<std::string>> sequences;
  for (int code = 0; code < 729; ++code) {
    std::vector<std::string> s;
    for (int i = 0, c = code; i < static_cast<int>(kN); ++i, c /= 3) s.push_back(alphabet[c % 3]);
    sequences.push_back(std::move(s));
  }
  for (const auto& config : configs) {
    std::vector<std::string> full, early;
    int64_t drawn = 0;
    for (size_t s = 0; s < sequences.size(); ++s) {
      size_t m = 0;
      do {
        m = std::min(kN, m + static_cast<size_t>(config.options.round));
      } while (m < kN && tamis::rollout::should_stop(tally_of(sequences[s], m), kN, config.options) == StopReason::none);
      drawn += static_cast<int64_t>(m);
      full.push_back(record("s" + std::to_string(s), sequences[s], kN));
      early.push_back(record("s" + std::to_string(s), sequences[s], m));
    }
    const OpRun on_full = run_op("grade.difficulty", difficulty_with(config.options), jsonl(full));
    const OpRun on_early = run_op("grade.difficulty", difficulty_with(config.options), jsonl(early));
    ASSERT_EQ(on_full.exit_code, 0) << on_full.describe();
    ASSERT_EQ(on_early.exit_code, 0) << on_early.describe();
    const auto want = verdicts(on_full), got = verdicts(on_early);
    ASSERT_EQ(want.size(), sequences.size()) << config.name;
    int differ = 0;
    for (const auto& [id, v] : want)
      if (got.at(id) != v && differ++ < 5) ADD_FAILURE() << config.name << ": " << id << " full " << v << ", early " << got.at(id);
    EXPECT_EQ(differ, 0) << config.name;
    // The rule must also stop early somewhere, or the test proves nothing.
    EXPECT_LT(drawn, static_cast<int64_t>(kN * sequences.size())) << config.name;
  }
}

// Two models in one stage: 3 samples each, the pooled sequence interleaved as in the rollouts field (model
// a's sample 0, model b's sample 0, a's 1, ...), rounds of `round` samples of each model, the rule on the
// pooled tally against the pooled budget 6 (what rollout.sample does with models). grade.difficulty's verdict on
// the samples drawn equals its verdict on all 6, both read pooled (answers_field, correct_field) and per
// model with the pooled band (models: {a: ..., b: ...}, which pools model by model, not interleaved).
std::string two_model_record(const std::string& id, const std::vector<std::string>& pooled, size_t per_model) {
  std::string a = "[", b = "[";
  for (size_t i = 0; i < per_model; ++i) {
    a += std::string(i ? "," : "") + "\"" + pooled[2 * i] + "\"";
    b += std::string(i ? "," : "") + "\"" + pooled[2 * i + 1] + "\"";
  }
  const std::string r = record(id, pooled, 2 * per_model);
  return r.substr(0, r.size() - 1) + ",\"a\":" + a + "],\"b\":" + b + "]}";
}

TEST(plugins_rollout_early_stop, exact_rule_on_the_pooled_tally_of_two_models) {
  constexpr size_t kPerModel = 3, kN = 2 * kPerModel;
  const std::vector<Config> configs = {
      {"1-5 of 6, reject, rounds of 1 per model", make(1.0 / 6, 5.0 / 6, true, SuspectAction::reject, 1)},
      {"(0.3, 0.7), annotate, rounds of 2 per model", make(0.3, 0.7, false, SuspectAction::annotate, 2)},
      {"[0.2, 0.6], reject at share 0.34, rounds of 1, min_samples 3", make(0.2, 0.6, true, SuspectAction::reject, 1, 3, 0.34)},
  };
  const char* alphabet[] = {"7", "8", "9"};
  for (const auto& config : configs) {
    std::vector<std::string> full, early;
    int64_t drawn = 0;
    for (int code = 0; code < 729; ++code) {
      std::vector<std::string> s;
      for (int i = 0, c = code; i < static_cast<int>(kN); ++i, c /= 3) s.push_back(alphabet[c % 3]);
      size_t m = 0;  // per model
      do {
        m = std::min(kPerModel, m + static_cast<size_t>(config.options.round));
      } while (m < kPerModel && tamis::rollout::should_stop(tally_of(s, 2 * m), kN, config.options) == StopReason::none);
      drawn += static_cast<int64_t>(2 * m);
      full.push_back(two_model_record("s" + std::to_string(code), s, kPerModel));
      early.push_back(two_model_record("s" + std::to_string(code), s, m));
    }
    std::string per_model = difficulty_with(config.options);
    per_model = "{models: {a: a, b: b}, models_kind: answers, " + per_model.substr(per_model.find("min:"));
    for (const std::string& with : {difficulty_with(config.options), per_model}) {
      const OpRun on_full = run_op("grade.difficulty", with, jsonl(full));
      const OpRun on_early = run_op("grade.difficulty", with, jsonl(early));
      ASSERT_EQ(on_full.exit_code, 0) << on_full.describe();
      ASSERT_EQ(on_early.exit_code, 0) << on_early.describe();
      const auto want = verdicts(on_full), got = verdicts(on_early);
      ASSERT_EQ(want.size(), 729u) << config.name;
      int differ = 0;
      for (const auto& [id, v] : want)
        if (got.at(id) != v && differ++ < 5) ADD_FAILURE() << config.name << " " << with << ": " << id << " full " << v << ", early " << got.at(id);
      EXPECT_EQ(differ, 0) << config.name << " " << with;
    }
    EXPECT_LT(drawn, static_cast<int64_t>(kN * 729)) << config.name;
  }
}

TEST(plugins_rollout_early_stop, clopper_pearson_bounds) {
  // 0 of 10: upper bound 1 - 0.05^(1/10); 10 of 10: lower bound 0.05^(1/10).
  EXPECT_NEAR(tamis::rollout::clopper_pearson_upper(0, 10, 0.05), 1 - std::pow(0.05, 0.1), 1e-9);
  EXPECT_NEAR(tamis::rollout::clopper_pearson_lower(10, 10, 0.05), std::pow(0.05, 0.1), 1e-9);
  EXPECT_EQ(tamis::rollout::clopper_pearson_lower(0, 10, 0.05), 0);
  EXPECT_EQ(tamis::rollout::clopper_pearson_upper(10, 10, 0.05), 1);
  // 5 of 10, one-sided 95%: the binomial tails at the bounds are 0.05 (0.2224 and 0.7776, to 4 places).
  EXPECT_NEAR(tamis::rollout::clopper_pearson_lower(5, 10, 0.05), 0.2224, 1e-4);
  EXPECT_NEAR(tamis::rollout::clopper_pearson_upper(5, 10, 0.05), 0.7776, 1e-4);
}

}  // namespace
