// An HTTP client for OpenAI-compatible servers: one I/O thread running a libcurl multi handle, many
// requests in flight over HTTP/1.1 keep-alive connections, several endpoints, retries with backoff.
// Design and limits: docs/rollouts.md ("How it runs").
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tamis::rollout {

enum class Api { chat, completions };  // /chat/completions (messages), /completions (raw prompt)

struct Endpoint {
  std::string base_url;   // up to and including /v1, e.g. http://127.0.0.1:8000/v1
  int max_in_flight = 0;  // 0: only the client's total bound applies
};

struct ClientOptions {
  std::vector<Endpoint> endpoints;
  int max_in_flight = 64;                // requests in flight in all
  double timeout_seconds = 600;          // one request, connection to last byte
  double connect_timeout_seconds = 10;
  int max_retries = 8;                   // attempts = 1 + max_retries
  double backoff_initial_seconds = 0.5;  // before retry k (k = 1, 2, ...): initial * 2^(k-1), capped, times a
  double backoff_max_seconds = 60;       // uniform factor in [0.5, 1]; or Retry-After when longer
  double retry_after_max_seconds = 600;  // a longer Retry-After is cut to this
  std::string api_key;                   // sent as "Authorization: Bearer ..." when not empty
};

// One parsed answer.
struct Completion {
  std::string text;
  std::string finish_reason;   // "" when the server gave none
  int64_t prompt_tokens = -1;  // -1 when the server gave no usage
  int64_t completion_tokens = -1;
};

struct Outcome {
  bool ok = false;
  Completion completion;  // when ok
  bool permanent = false; // failed with an answer that retrying cannot change (4xx other than 408/429)
  int attempts = 0;
  int http_status = 0;    // of the last attempt; 0 when it got no HTTP answer
  std::string error;      // the last failure, e.g. "HTTP 500: {\"error\":...}" or "connection: ..."
};

// Parses a 2xx body of `api` into `out`; false with `why` when it is not the expected JSON.
bool parse_completion(Api api, std::string_view body, Completion& out, std::string& why);

struct ClientStats {
  int64_t submitted = 0;   // jobs
  int64_t attempts = 0;    // HTTP requests started (retries included)
  int64_t retries = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;
  std::vector<int64_t> per_endpoint;  // attempts per endpoint
};

class Client {
 public:
  using Callback = std::function<void(Outcome&&)>;

  explicit Client(ClientOptions options);
  ~Client();  // stops the I/O thread; jobs not finished get no callback
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Queues a POST of `body` (JSON) to every endpoint's base_url + the api's path. `done` is called once,
  // on the I/O thread, when the job succeeds or fails for good. Thread-safe.
  void submit(Api api, std::string body, Callback done);

  // Called on the I/O thread after the callbacks of finished jobs: once 256 jobs have finished since the
  // last call, 5 ms after the first of them, or when no request is left in flight, whichever comes first
  // (the rollout cache commits those responses here, in one transaction). Set before the first submit.
  void set_turn_end(std::function<void()> f);

  ClientStats stats() const;

 private:
  struct Job;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tamis::rollout
