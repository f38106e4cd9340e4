// A small OpenAI-compatible HTTP/1.1 server for the rollout tests and benchmark: loopback only
// (127.0.0.1, an ephemeral port), keep-alive, one thread per connection. POST /v1/chat/completions and
// POST /v1/completions are answered deterministically from the prompt and the seed:
//
//   S = the sum of the integers written in the user message (or the raw prompt);
//   w = S mod 5 (how many of the seeds 0..3 get a wrong answer);
//   seed mod 4 < w: "... The answer is \boxed{S+1}."   (wrong)
//   otherwise:      "... The answer is \boxed{S}."     (right)
//
// so with n = 4 and seed 0 a problem's pass rate is (4 - w) / 4 (0 when w = 4). A model whose name ends in
// "+K" (K digits, e.g. "test-model+2") answers as if w were (S + K) mod 5: another pass rate per model,
// the same right answer S. A user message containing
// ALWAYS_FAIL is answered 500 every time, one containing BAD_REQUEST 400. Faults apply to the first
// `first_n` requests of each (prompt, seed); every request is counted per (prompt, seed).
// A test may script the answers instead (set_responder): the responder is asked first, for each request
// that gets a 200 answer; nullopt falls back to the rule above.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tamis::test {

class FakeOpenAiServer {
 public:
  enum class Fault { none, status429, status500, reset_mid_body, malformed_json, slow };

  explicit FakeOpenAiServer(int port = 0);  // 0: an ephemeral port
  ~FakeOpenAiServer();
  FakeOpenAiServer(const FakeOpenAiServer&) = delete;
  FakeOpenAiServer& operator=(const FakeOpenAiServer&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

  // The first `first_n` requests of each (prompt, seed) get `fault`; retry_after (seconds) goes with
  // status429, delay_ms with slow.
  void set_fault(Fault fault, int first_n, int retry_after = 0, int delay_ms = 0);
  // Answers `n` more requests, then holds every later one (no answer) until release() or destruction.
  void hold_after(int64_t n);
  void release();
  // The text of the answer to (model, user message or raw prompt, seed), asked before the rule above
  // (nullopt: the rule's answer). Called from the server's threads, possibly at once: it must be
  // thread-safe. An empty function removes it.
  using Responder = std::function<std::optional<std::string>(const std::string& model, const std::string& user, int64_t seed)>;
  void set_responder(Responder responder);

  int64_t requests() const { return requests_.load(); }  // requests received
  int64_t answered() const { return answered_.load(); }  // 200 answers sent
  int max_concurrent() const { return max_concurrent_.load(); }
  // Requests received per "USER_MESSAGE#SEED".
  std::map<std::string, int> per_key() const;
  // Requests received per "MODEL|USER_MESSAGE#SEED".
  std::map<std::string, int> per_model_key() const;
  // The body of the last request received ("" when none).
  std::string last_body() const;
  // The keys that got a 200 answer.
  std::set<std::string> answered_keys() const;
  // When each request of a key arrived.
  std::vector<std::chrono::steady_clock::time_point> arrivals(const std::string& key) const;
  // The last Authorization header received ("" when none).
  std::string last_authorization() const;

  // The rule above, for the tests' own expectations.
  static int64_t sum_of_integers(const std::string& text);
  static bool right_for(const std::string& user, int64_t seed, const std::string& model = "");
  static std::string response_for(const std::string& user, int64_t seed, const std::string& model = "");

 private:
  void accept_loop();
  void serve(int fd);
  // One request: returns the bytes to send (empty: close the connection abruptly, after `partial`).
  std::string handle(const std::string& head, const std::string& body, std::string& partial, bool& reset);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::condition_variable hold_cv_;
  std::vector<std::thread> workers_;
  std::vector<int> fds_;
  std::map<std::string, int> per_key_, per_model_key_;
  std::string last_body_;
  std::set<std::string> answered_keys_;
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> arrivals_;
  std::string authorization_;
  Fault fault_ = Fault::none;
  int fault_first_n_ = 0, retry_after_ = 0, delay_ms_ = 0;
  int64_t hold_budget_ = -1;  // -1: no hold
  std::shared_ptr<const Responder> responder_;
  std::atomic<int64_t> requests_{0}, answered_{0};
  std::atomic<int> concurrent_{0}, max_concurrent_{0};
};

}  // namespace tamis::test
