// The `rollout.sample` op: n sampled responses per record from OpenAI-compatible servers, through the
// cache, graded against the record's reference. Design: docs/rollouts.md.
#pragma once

#include <tamis/sdk.hpp>

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

namespace tamis::rollout {

// A prompt template: literal text and {FIELD} places ({{ and }} are literal braces).
struct Template {
  struct Part {
    bool field = false;
    std::string text;  // the literal, or the field path
  };
  std::vector<Part> parts;
  // Throws tamis::Error on an unclosed or empty {}.
  static Template parse(std::string_view text);
};

// One record's samples, filled in by the client's I/O thread, waited for by ordered().
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  int64_t remaining = 0;
  std::vector<std::optional<CachedResponse>> responses;
  std::vector<std::string> errors;  // per sample, "" when none
  bool permanent = false;
};

// The stage's client, cache and requests in flight (shared by prepare() threads and the I/O thread).
class Sampler {
 public:
  Sampler(ClientOptions options, const std::string& cache_path);
  ~Sampler();

  struct Request {
    Key key;
    std::string model, params, prompt;  // canonical, stored with the response
    Api api;
  };
  // Fills `p` from the cache, and asks for the samples it lacks (body_for(i) gives sample i's body).
  // Returns how many samples were found in the cache.
  int64_t fetch(const Request& req, int64_t n, const std::function<std::string(int64_t)>& body_for,
                const std::shared_ptr<Pending>& p);

  Client& client() { return *client_; }
  Cache& cache() { return *cache_; }
  int64_t prompt_tokens() const { return prompt_tokens_; }
  int64_t completion_tokens() const { return completion_tokens_; }

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
  void on_turn_end();
  static void deliver(const Waiter& w, const Outcome& o);

  std::unique_ptr<Cache> cache_;
  std::mutex flights_mu_;  // taken around the cache lookup and the registration, and by on_turn_end
  std::map<std::pair<Key, int64_t>, Flight> flights_;
  std::vector<Arrived> arrived_;  // I/O thread only
  std::atomic<int64_t> prompt_tokens_{0}, completion_tokens_{0};
  std::unique_ptr<Client> client_;  // last: destroyed first, so its thread stops before the rest goes
};

class Sample {
 public:
  static constexpr const char* name = "rollout.sample";
  static constexpr const char* summary =
      "Asks OpenAI-compatible servers for n sampled responses per record (cached in SQLite, resumable), grades them "
      "against the reference; annotates pass_rate, n_samples, n_correct, majority_answer, majority_share, n_truncated "
      "and writes {model, answers, correct} to rollouts_field for difficulty.";
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

  Api api_;
  std::string model_;
  Template template_;
  std::string system_prompt_;
  int64_t n_;
  int64_t seed_;
  std::string sampling_json_;  // ,"temperature":..,"top_p":..,"max_tokens":.. (+ ,"stop":[..]) for the body
  std::string params_canonical_;
  std::string reference_field_;
  std::string rollouts_field_;
  tamis::grade::GradeOptions grade_options_;
  std::unique_ptr<Sampler> sampler_;
  std::string sidecar_path_, sidecar_temp_;  // the sidecar export (empty: none) and its temporary
  std::FILE* sidecar_ = nullptr;
  bool sidecar_done_ = false;
};

}  // namespace tamis::rollout
