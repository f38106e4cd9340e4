// Early stopping rules: see early_stop.hpp and docs/rollouts.md ("Early stopping").
#include "early_stop.hpp"

#include <algorithm>
#include <cmath>

namespace tamis::rollout {

namespace {

constexpr double kEps = 1e-12;  // grade.difficulty's slack in its band and share comparisons

// P(X <= c) for X ~ Binomial(m, p), 0 < p < 1.
double binomial_cdf(int64_t c, int64_t m, double p) {
  if (c < 0) return 0;
  if (c >= m) return 1;
  const double lp = std::log(p), lq = std::log1p(-p), lm = std::lgamma(static_cast<double>(m) + 1);
  double sum = 0;
  for (int64_t k = 0; k <= c; ++k) {
    const auto kd = static_cast<double>(k), rest = static_cast<double>(m - k);
    sum += std::exp(lm - std::lgamma(kd + 1) - std::lgamma(rest + 1) + kd * lp + rest * lq);
  }
  return std::min(1.0, sum);
}

// The p in (0, 1) where the decreasing function f(p) crosses alpha (bisection, to 2^-50).
template <class F>
double crossing(F f, double alpha) {
  double lo = 0, hi = 1;
  for (int i = 0; i < 50; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (f(mid) > alpha) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

double clopper_pearson_lower(int64_t c, int64_t m, double alpha) {
  if (c <= 0) return 0;
  // The p with P(X >= c; p) = alpha; P(X >= c) = 1 - cdf(c - 1) grows with p, so 1 - that decreases.
  return crossing([&](double p) { return binomial_cdf(c - 1, m, p); }, 1 - alpha);
}

double clopper_pearson_upper(int64_t c, int64_t m, double alpha) {
  if (c >= m) return 1;
  // The p with P(X <= c; p) = alpha; the cdf decreases with p.
  return crossing([&](double p) { return binomial_cdf(c, m, p); }, alpha);
}

BandState band_state(double rate, const StopOptions& o) {
  if (o.inclusive ? rate < o.min - kEps : rate <= o.min + kEps) return BandState::too_hard;
  if (o.inclusive ? rate > o.max + kEps : rate >= o.max - kEps) return BandState::too_easy;
  return BandState::in_band;
}

bool suspect_now(const Tally& t, const StopOptions& o) {
  if (t.m < o.min_samples || t.m == 0) return false;
  const Tally::Group* major = nullptr;
  for (const auto& g : t.groups)
    if (!major || g.count > major->count) major = &g;
  if (!major) return false;
  for (const auto& g : t.groups)  // ties go to the reference's group
    if (g.count == major->count && g.reference) major = &g;
  return !major->reference && static_cast<double>(major->count) / static_cast<double>(t.m) + kEps >= o.suspect_share &&
         major->count > 2 * t.correct;
}

StopReason should_stop(const Tally& t, int64_t n, const StopOptions& o) {
  if (o.rule == StopRule::off || t.m >= n || t.m < o.min_samples || t.m == 0) return StopReason::none;
  const int64_t rest = n - t.m;
  const auto nd = static_cast<double>(n);

  // The suspect verdict. Each remaining sample adds 1 to at most one group and at most 1 to the correct
  // ones, so: it cannot be suspect at n when no non-reference group can reach the share or more than twice
  // the correct ones; it must be suspect at n when a non-reference group has the share already, more
  // than twice the correct ones even if every remaining sample is correct, and stays the strict majority
  // even if every remaining sample joins another group.
  bool suspect_settled = o.suspect == SuspectAction::off, suspect_certain = false;
  if (!suspect_settled) {
    const bool now = suspect_now(t, o);
    int64_t top_other = 0;  // largest non-reference group
    for (const auto& g : t.groups)
      if (!g.reference) top_other = std::max(top_other, g.count);
    const bool impossible = static_cast<double>(top_other + rest) / nd + kEps < o.suspect_share || top_other + rest <= 2 * t.correct;
    bool certain = false;
    for (size_t i = 0; i < t.groups.size() && !certain; ++i) {
      const auto& g = t.groups[i];
      if (g.reference || static_cast<double>(g.count) / nd + kEps < o.suspect_share || g.count <= 2 * (t.correct + rest)) continue;
      int64_t next = 0;
      for (size_t j = 0; j < t.groups.size(); ++j)
        if (j != i) next = std::max(next, t.groups[j].count);
      certain = g.count > next + rest;
    }
    // The verdict on the m samples themselves must be the same one (difficulty downstream sees only them).
    suspect_settled = (impossible && !now) || (certain && now);
    suspect_certain = certain && now;
  }
  if (!suspect_settled) return StopReason::none;
  if (suspect_certain && o.suspect == SuspectAction::reject) return StopReason::exact;  // suspect_label, whatever the band

  // The band. The state is monotone in the rate, so the final rate (c + X) / n, X in [0, rest], is settled
  // when both ends agree; the rate on the m samples lies on the same side (docs/rollouts.md) and is checked.
  const BandState here = band_state(static_cast<double>(t.correct) / static_cast<double>(t.m), o);
  const BandState low = band_state(static_cast<double>(t.correct) / nd, o);
  const BandState high = band_state(static_cast<double>(t.correct + rest) / nd, o);
  if (low == high && low == here) return StopReason::exact;
  if (o.rule != StopRule::bound) return StopReason::none;
  const BandState lo_p = band_state(clopper_pearson_lower(t.correct, t.m, o.error_rate), o);
  const BandState hi_p = band_state(clopper_pearson_upper(t.correct, t.m, o.error_rate), o);
  if (lo_p == hi_p && lo_p == here) return StopReason::bound;
  return StopReason::none;
}

}  // namespace tamis::rollout
