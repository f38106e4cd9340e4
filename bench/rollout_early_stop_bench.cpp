// Early stopping of rollout.sample measured (bench/rollout_early_stop.sh): requests saved against the fixed
// budget and how often the early verdict differs from the full-budget one, per rule, on
//  - real outcome sequences: GSM8K test problems with 4 graded model solutions each (file order), and
//  - simulated binomial prompts: pass rates from a Beta fitted (method of moments) to those GSM8K counts,
//    a fixed seed.
// The rule is the op's own (early_stop.cpp); the verdict is difficulty's on the samples drawn.
#include <simdjson.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "early_stop.hpp"

using namespace tamis::rollout;

namespace {

struct Sequence {
  std::vector<bool> correct;
  std::vector<std::string> answers;  // "" when none
  std::string reference;
};

Tally tally_of(const Sequence& s, size_t m) {
  Tally t;
  t.m = static_cast<int64_t>(m);
  std::vector<std::string> seen;
  for (size_t i = 0; i < m; ++i) {
    t.correct += s.correct[i] ? 1 : 0;
    if (s.answers[i].empty()) continue;
    size_t g = 0;
    while (g < seen.size() && seen[g] != s.answers[i]) ++g;
    if (g == seen.size()) {
      seen.push_back(s.answers[i]);
      t.groups.push_back({0, s.answers[i] == s.reference});
    }
    ++t.groups[g].count;
  }
  return t;
}

int verdict(const Tally& t, const StopOptions& o) {  // 0 too_hard, 1 in band, 2 too_easy, 3 suspect_label
  if (o.suspect == SuspectAction::reject && suspect_now(t, o)) return 3;
  return static_cast<int>(band_state(static_cast<double>(t.correct) / static_cast<double>(t.m), o));
}

void measure(const char* data, const char* setting, const std::vector<Sequence>& seqs, StopOptions o, bool exact_too = true) {
  for (StopRule rule : {StopRule::exact, StopRule::bound}) {
    if (rule == StopRule::exact && !exact_too) continue;
    o.rule = rule;
    int64_t drawn = 0, budget = 0, differ = 0;
    for (const auto& s : seqs) {
      const size_t n = s.correct.size();
      size_t m = 0;
      do m = std::min(n, m + static_cast<size_t>(o.round));
      while (m < n && should_stop(tally_of(s, m), static_cast<int64_t>(n), o) == StopReason::none);
      drawn += static_cast<int64_t>(m);
      budget += static_cast<int64_t>(n);
      differ += verdict(tally_of(s, m), o) != verdict(tally_of(s, n), o) ? 1 : 0;
    }
    std::printf("| %s | %s | %s | %zu | %.1f%% | %lld of %zu (%.2f%%) |\n", data, setting,
                rule == StopRule::exact ? "exact" : ("bound a=" + std::to_string(o.error_rate).substr(0, 4)).c_str(), seqs.size(),
                100.0 * static_cast<double>(budget - drawn) / static_cast<double>(budget), static_cast<long long>(differ), seqs.size(),
                100.0 * static_cast<double>(differ) / static_cast<double>(seqs.size()));
  }
}

std::string final_answer(std::string_view text) {
  const size_t at = text.rfind("A:");
  if (at == std::string_view::npos) return "";
  std::string a(text.substr(at + 2));
  while (!a.empty() && (a.front() == ' ' || a.front() == '$')) a.erase(a.begin());
  while (!a.empty() && (a.back() == ' ' || a.back() == '\n' || a.back() == '.')) a.pop_back();
  std::string out;
  for (char c : a)
    if (c != ',') out += c;
  return out;
}

StopOptions band(double min, double max, bool inclusive, int64_t round, SuspectAction suspect, double alpha) {
  StopOptions o;
  o.min = min;
  o.max = max;
  o.inclusive = inclusive;
  o.round = round;
  o.suspect = suspect;
  o.error_rate = alpha;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s GSM8K_EXAMPLE_MODEL_SOLUTIONS.jsonl [SIMULATED_PROMPTS] [SEED]\n", argv[0]);
    return 2;
  }
  const size_t simulated = argc > 2 ? std::stoul(argv[2]) : 100000;
  const uint64_t seed = argc > 3 ? std::stoull(argv[3]) : 1;

  // Real sequences: the 4 solutions in file order.
  std::vector<Sequence> real;
  simdjson::dom::parser parser;
  simdjson::dom::document_stream docs;
  if (parser.load_many(argv[1]).get(docs) != simdjson::SUCCESS) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  for (auto doc : docs) {
    simdjson::dom::element e;
    if (doc.get(e) != simdjson::SUCCESS) return 1;
    Sequence s;
    s.reference = final_answer(std::string_view(e["ground_truth"]));
    for (const char* model : {"6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"}) {
      s.correct.push_back(bool(e[model]["is_correct"]));
      s.answers.push_back(final_answer(std::string_view(e[model]["solution"])));
    }
    real.push_back(std::move(s));
  }
  std::printf("| data | band, rounds, suspect labels | rule | prompts | requests saved | verdicts that differ from the full budget |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (SuspectAction sa : {SuspectAction::off, SuspectAction::reject})
    for (double alpha : {0.05}) {
      const auto o = band(0.25, 0.75, true, 1, sa, alpha);
      measure("GSM8K, 4 real solutions", sa == SuspectAction::off ? "1-3 of 4, rounds of 1, off" : "1-3 of 4, rounds of 1, reject", real, o);
    }

  // Simulated: p ~ Beta(a, b) by the method of moments on the GSM8K counts of correct of 4.
  double mean = 0, second = 0;
  for (const auto& s : real) {
    double k = 0;
    for (bool c : s.correct) k += c ? 1 : 0;
    mean += k;
    second += k * k;
  }
  mean /= static_cast<double>(real.size());
  second /= static_cast<double>(real.size());
  const double n4 = 4, mu = mean / n4, var = second - mean * mean;
  // var = n mu (1 - mu) (n + s) / (1 + s), s = a + b.
  const double ratio = var / (n4 * mu * (1 - mu));
  const double sum = (n4 - ratio) / (ratio - 1), a = mu * sum, b = (1 - mu) * sum;
  std::fprintf(stderr, "Beta(%.3f, %.3f) fitted to %zu GSM8K problems (mean pass rate %.3f)\n", a, b, real.size(), mu);
  for (int64_t n : {16, 64}) {
    std::mt19937_64 rng(seed);
    std::gamma_distribution<double> ga(a, 1.0), gb(b, 1.0);
    std::vector<Sequence> sim;
    for (size_t i = 0; i < simulated; ++i) {
      const double x = ga(rng), y = gb(rng), p = x / (x + y);
      std::bernoulli_distribution draw(p);
      Sequence s;
      for (int64_t j = 0; j < n; ++j) {
        s.correct.push_back(draw(rng));
        s.answers.push_back("");
      }
      sim.push_back(std::move(s));
    }
    const std::string data = "simulated, n " + std::to_string(n);
    const int64_t round = n == 16 ? 4 : 8;
    const std::string r = ", rounds of " + std::to_string(round) + ", off";
    for (double alpha : {0.05, 0.01}) {
      measure(data.c_str(), ("1-" + std::to_string(n - 1) + " of " + std::to_string(n) + r).c_str(), sim,
              band(1.0 / static_cast<double>(n), 1 - 1.0 / static_cast<double>(n), true, round, SuspectAction::off, alpha), alpha == 0.05);
      measure(data.c_str(), ("(0.2, 0.8)" + r).c_str(), sim, band(0.2, 0.8, false, round, SuspectAction::off, alpha), alpha == 0.05);
    }
  }
  return 0;
}
