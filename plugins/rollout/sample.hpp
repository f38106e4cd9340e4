// The `rollout.sample` op: n sampled responses per record from OpenAI-compatible servers, through the
// cache, graded against the record's reference. Design: docs/rollouts.md.
#pragma once

#include <tamis/sdk.hpp>
#include <tamis/text_template.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "answer.hpp"
#include "cache.hpp"
#include "client.hpp"
#include "dry_run.hpp"
#include "early_stop.hpp"

namespace tamis::rollout {

// A prompt template: literal text and {FIELD} places ({{ and }} are literal braces; tamis/text_template.hpp).
struct Template {
  using Part = TemplatePart;
  std::vector<Part> parts;
  // Throws tamis::Error on an unclosed or empty {}.
  static Template parse(std::string_view text);
};

// The canonical request of one record: the cache key and what is stored with each response.
struct Request {
  Key key;
  std::string model, params, prompt;
  Api api;
  size_t model_index = 0;  // in the stage's models (0 with `model`): for the per-model figures
  size_t route = 0;        // the Sampler's client that serves this model
};

// One record's samples, filled in by the client's I/O thread (or from the cache), waited for by ordered().
// With several models, slot model * n + i holds sample i of model `model`; a round asks the same samples
// of every model. Samples are asked in rounds (one round of n without early stopping): whoever completes a round (the
// prepare() thread when the cache held it all, else the I/O thread) grades it and asks the next one or
// sets `done`. Only one thread touches a record's rounds at a time: a round is asked only after the
// previous one is complete.
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;       // under mu: ordered() may go on
  bool rounds = false;     // early stopping: a completed round goes to Sampler's round hook, not to `done`
  int64_t remaining = 0;   // samples of the current round not yet in (all models)
  int64_t asked = 0;       // samples 0 .. asked-1 of each model asked for or found in the cache
  int64_t hits = 0, requested = 0;
  std::vector<std::optional<CachedResponse>> responses;  // models x n slots
  std::vector<std::string> errors;                       // per slot, "" when none
  bool permanent = false;
  // What the next round and the grading need, per model.
  std::vector<std::shared_ptr<const Request>> requests;
  std::vector<std::string> body_heads;  // the request body up to the seed's value
  std::string reference, reference_norm;
  // The grading of the pooled samples 0 .. graded.size()-1 (sample i of model k at i * models + k: the
  // order of the rollouts field's answers), and its tally for the stop rule.
  struct Graded {
    bool correct = false;
    std::string extracted;
  };
  std::vector<Graded> graded;
  struct Group {
    std::string answer, norm;
  };
  std::vector<Group> groups;  // by equivalence, in order of first appearance; counts in tally.groups
  Tally tally;
  StopReason stop = StopReason::none;
};

// The stage's client, cache and requests in flight (shared by prepare() threads and the I/O thread).
class Sampler {
 public:
  // One client per route (a set of endpoints); `models`: how many models the per-model figures count.
  Sampler(std::vector<ClientOptions> routes, const std::string& cache_path, size_t models = 1);
  ~Sampler();

  using Request = rollout::Request;
  // One model's part of a round: samples from .. to-1 of `request`, in p's slots offset + i; body_for(i)
  // gives sample i's body.
  struct Part {
    const Request* request;
    int64_t from, to, offset;
    std::function<std::string(int64_t)> body_for;
  };
  // Fills the parts' samples of `p` from the cache, and asks for the ones it lacks (each on its request's
  // route); adds to p's hits and requested. Returns how many it asked for (0: the round is in).
  int64_t fetch(const std::vector<Part>& parts, const std::shared_ptr<Pending>& p);
  // Called on the I/O thread (no lock held) for each record with `rounds` whose round is complete.
  void set_round_hook(std::function<void(const std::shared_ptr<Pending>&)> f) { round_hook_ = std::move(f); }

  size_t routes() const { return clients_.size(); }
  Client& client(size_t route = 0) { return *clients_[route]; }
  Cache& cache() { return *cache_; }
  int64_t prompt_tokens() const { return prompt_tokens_; }
  int64_t completion_tokens() const { return completion_tokens_; }
  // This run's figures for one model (from the outcomes of its requests).
  struct ModelStats {
    int64_t requests = 0, retries = 0, responses = 0, failed = 0, prompt_tokens = 0, completion_tokens = 0;
  };
  ModelStats model_stats(size_t model) {
    std::lock_guard lock(flights_mu_);
    return model_stats_[model];
  }

 private:
  struct Waiter {
    std::shared_ptr<Pending> pending;
    int64_t sample;
  };
  struct Flight {
    std::shared_ptr<const Request> request;
    std::vector<Waiter> waiters;
  };
  struct Arrived {
    std::pair<Key, int64_t> id;
    Outcome outcome;
  };
  void on_turn_end(size_t route);
  // Returns true when it completed the round of a record with `rounds`.
  static bool deliver(const Waiter& w, const Outcome& o);

  std::unique_ptr<Cache> cache_;
  std::mutex flights_mu_;  // taken around the cache lookup and the registration, and by on_turn_end
  std::map<std::pair<Key, int64_t>, Flight> flights_;
  std::vector<std::vector<Arrived>> arrived_;  // per route, its I/O thread only
  std::atomic<int64_t> prompt_tokens_{0}, completion_tokens_{0};
  std::vector<ModelStats> model_stats_;  // under flights_mu_
  std::function<void(const std::shared_ptr<Pending>&)> round_hook_;
  std::vector<std::unique_ptr<Client>> clients_;  // last: destroyed first, so their threads stop before the rest goes
};

class Sample {
 public:
  static constexpr const char* name = "rollout.sample";
  static constexpr const char* summary =
      "Asks OpenAI-compatible servers for n sampled responses per record (cached in SQLite, resumable), grades them "
      "against the reference; annotates pass_rate, n_samples, n_correct, majority_answer, majority_share, n_truncated "
      "and writes {model, answers, correct} to rollouts_field for grade.difficulty; with models: several models, per-model figures "
      "as grade.difficulty's models mode.";
  static constexpr OpKind kind = OpKind::ordered;
  static const ParamTable params;

  Sample(const Params& p, Stage& stage);
  ~Sample();
  static void check(const Params& p);

  using Prepared = std::shared_ptr<Pending>;
  Prepared prepare(Record& r) const;
  void ordered(Record& r, Prepared& p);
  void finish(Stage& stage);

 private:
  std::optional<std::string> render(Record& r, const Template& t, std::string& missing) const;
  // Asks the next round of `p`, or decides that it is done (see Pending); loops while the cache holds it.
  void advance(const std::shared_ptr<Pending>& p) const;
  // Grades samples 0 .. m-1 of every model not graded yet (pooled order, see Pending) into p.graded,
  // p.groups and p.tally.
  void grade_upto(Pending& p, int64_t m) const;
  // One line per model of the record's responses to the sidecar (ordered() sees records in input order).
  void write_sidecar(const Record& r, const Pending& p) const;

  Api api_;
  std::vector<std::string> models_;  // one with `model`
  std::vector<size_t> routes_;       // per model: the Sampler's client
  bool by_model_ = false;            // `models` given: per-model annotations, the field's by_model
  Template template_;
  std::string system_prompt_;
  int64_t n_;
  int64_t seed_;
  StopOptions stop_;
  int64_t samples_budget_ = 0, samples_drawn_ = 0;  // over the records that reached ordered()
  std::string sampling_json_;  // ,"temperature":..,"top_p":..,"max_tokens":.. (+ ,"stop":[..], extra_body's members) for the body
  std::string params_canonical_;
  std::string reference_field_;
  bool ungraded_ = false;  // reference_field empty: responses kept whole, graded elsewhere (code.grade)
  std::string rollouts_field_;
  std::string models_member_;    // "model":"M" or "models":["A","B"]: the rollouts field's first member
  std::string early_stop_json_;  // ,"early_stop":{...} for the rollouts field ("" when early_stop is off)
  tamis::grade::GradeOptions grade_options_;
  std::unique_ptr<Sampler> sampler_;
  std::unique_ptr<DryRunPlanner> dry_;  // `tamis run --dry-run`: no sampler, no request; records counted and rejected
  std::string sidecar_path_, sidecar_temp_;  // the sidecar export (empty: none) and its temporary
  std::FILE* sidecar_ = nullptr;
  bool sidecar_done_ = false;
};

}  // namespace tamis::rollout
