// Sequential early stopping for rollout.sample: after each round of samples, is the verdict that the
// downstream `grade.difficulty` stage will give already settled? The rules and their proofs: docs/rollouts.md
// ("Early stopping"). Pure functions of counts, shared by the op and bench/rollout_early_stop.sh.
#pragma once

#include <cstdint>
#include <vector>

namespace tamis::rollout {

enum class StopRule { off, exact, bound };
enum class SuspectAction { reject, annotate, off };
enum class BandState { too_hard, in_band, too_easy };

// The rule and a copy of the downstream difficulty stage's settings (min, max, inclusive, min_samples,
// suspect_share, suspect_action): the stop is only right when they are the same there.
struct StopOptions {
  StopRule rule = StopRule::off;
  int64_t round = 4;          // samples per round (of each model)
  double min = 0, max = 1;    // grade.difficulty's band
  bool inclusive = false;
  int64_t min_samples = 1;
  double suspect_share = 0.5;
  SuspectAction suspect = SuspectAction::reject;
  double error_rate = 0.05;   // the bound rule's alpha (per band edge, one-sided)
};

// What the first m samples hold: how many were graded correct, and the answer groups (by equivalence, in
// order of first appearance, as difficulty groups them) with their counts and whether each is the
// reference's answer.
struct Tally {
  int64_t m = 0, correct = 0;
  struct Group {
    int64_t count = 0;
    bool reference = false;
  };
  std::vector<Group> groups;
};

enum class StopReason { none, exact, bound };

// The band state of a pass rate, with grade.difficulty's comparisons (and its 1e-12 slack).
BandState band_state(double rate, const StopOptions& o);
// grade.difficulty's suspect-label rule on these m samples (majority not the reference, share >= suspect_share,
// more than twice the correct ones, at least min_samples).
bool suspect_now(const Tally& t, const StopOptions& o);
// Whether to stop after the first t.m of n samples, and by which rule (none: ask the next round). With
// several models in one stage, t is the pooled tally of every model's samples drawn and n the pooled
// budget (models x n): grade.difficulty's pooled band (docs/rollouts.md, "Several models").
StopReason should_stop(const Tally& t, int64_t n, const StopOptions& o);

// One-sided (1 - alpha) Clopper-Pearson bounds on p from c successes in m Bernoulli trials.
double clopper_pearson_lower(int64_t c, int64_t m, double alpha);
double clopper_pearson_upper(int64_t c, int64_t m, double alpha);

}  // namespace tamis::rollout
