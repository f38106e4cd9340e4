// The rollout HTTP client: see client.hpp and docs/rollouts.md.
#include "client.hpp"

#include <curl/curl.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <queue>
#include <random>
#include <stdexcept>

namespace tamis::rollout {

namespace {

using Clock = std::chrono::steady_clock;

std::string cut(std::string_view s, size_t n) {
  std::string out(s.substr(0, n));
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
  if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return s.size() > n ? out + "..." : out;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

bool parse_completion(Api api, std::string_view body, Completion& out, std::string& why) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) {
    why = "malformed response (not JSON): " + cut(body, 120);
    return false;
  }
  simdjson::dom::array choices;
  if (doc["choices"].get_array().get(choices) != simdjson::SUCCESS || choices.size() == 0) {
    why = "malformed response (no choices): " + cut(body, 120);
    return false;
  }
  const simdjson::dom::element first = choices.at(0).value_unsafe();
  simdjson::dom::element text;
  const auto err = api == Api::chat ? first["message"]["content"].get(text) : first["text"].get(text);
  if (err != simdjson::SUCCESS || !(text.is_string() || text.is_null())) {
    why = std::string("malformed response (no ") + (api == Api::chat ? "choices[0].message.content" : "choices[0].text") +
          "): " + cut(body, 120);
    return false;
  }
  out.text = text.is_null() ? std::string() : std::string(text.get_string().value_unsafe());
  std::string_view reason;
  out.finish_reason = first["finish_reason"].get_string().get(reason) == simdjson::SUCCESS ? std::string(reason) : std::string();
  int64_t v;
  out.prompt_tokens = doc["usage"]["prompt_tokens"].get_int64().get(v) == simdjson::SUCCESS ? v : -1;
  out.completion_tokens = doc["usage"]["completion_tokens"].get_int64().get(v) == simdjson::SUCCESS ? v : -1;
  return true;
}

struct Client::Job {
  Api api;
  std::string body;
  Callback done;
  int attempts = 0;
  int endpoint = -1;
  std::string response;
  double retry_after = -1;  // seconds, from the last answer's Retry-After
  Clock::time_point due;
  char curl_error[CURL_ERROR_SIZE] = {};
};

struct Client::Impl {
  ClientOptions opt;
  CURLM* multi = nullptr;
  curl_slist* headers = nullptr;
  std::vector<std::string> urls[2];  // per Api: endpoint URLs
  std::vector<int> in_flight_per;    // per endpoint
  int in_flight = 0;
  size_t round_robin = 0;
  std::vector<CURL*> idle_handles;
  std::vector<CURL*> active;  // handles in the multi handle
  std::function<void()> turn_end;

  std::mutex mu;  // guards incoming, stop, and stats
  std::deque<std::unique_ptr<Job>> incoming;
  bool stop = false;
  ClientStats stats;

  std::deque<std::unique_ptr<Job>> ready;  // I/O thread only
  struct Later {
    bool operator()(const std::unique_ptr<Job>& a, const std::unique_ptr<Job>& b) const { return a->due > b->due; }
  };
  std::vector<std::unique_ptr<Job>> waiting;  // a heap by due time (retries)
  std::mt19937_64 rng{std::random_device{}()};
  std::thread thread;
  int unflushed = 0;  // jobs finished since the last turn_end
  Clock::time_point first_unflushed;
  static constexpr int kTurnJobs = 256;
  static constexpr auto kTurnDelay = std::chrono::milliseconds(5);

  explicit Impl(ClientOptions o) : opt(std::move(o)) {
    static CurlGlobal global;
    if (opt.endpoints.empty()) throw std::runtime_error("no endpoints");
    if (opt.max_in_flight < 1) throw std::runtime_error("max_in_flight must be at least 1");
    for (const auto& e : opt.endpoints) {
      std::string base = e.base_url;
      while (!base.empty() && base.back() == '/') base.pop_back();
      urls[0].push_back(base + "/chat/completions");
      urls[1].push_back(base + "/completions");
    }
    in_flight_per.assign(opt.endpoints.size(), 0);
    stats.per_endpoint.assign(opt.endpoints.size(), 0);
    multi = curl_multi_init();
    if (!multi) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(opt.max_in_flight));
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(opt.max_in_flight));
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip for large bodies
    if (!opt.api_key.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + opt.api_key).c_str());
    thread = std::thread([this] { loop(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    curl_multi_wakeup(multi);
    thread.join();
    for (CURL* h : idle_handles) curl_easy_cleanup(h);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
  }

  static size_t on_body(char* data, size_t size, size_t n, void* user) {
    static_cast<Job*>(user)->response.append(data, size * n);
    return size * n;
  }
  static size_t on_header(char* data, size_t size, size_t n, void* user) {
    const std::string_view line(data, size * n);
    constexpr std::string_view kName = "retry-after:";
    if (line.size() > kName.size()) {
      bool match = true;
      for (size_t i = 0; i < kName.size() && match; ++i)
        match = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i]))) == kName[i];
      if (match) {
        const std::string value(line.substr(kName.size()));
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        // Seconds only; an HTTP-date is ignored (the computed backoff applies).
        if (end != value.c_str() && std::isfinite(v) && v >= 0) static_cast<Job*>(user)->retry_after = v;
      }
    }
    return size * n;
  }

  // The endpoint with the fewest requests in flight relative to its limit; -1 when all are full.
  int pick_endpoint() {
    const size_t n = opt.endpoints.size();
    int best = -1;
    double best_load = 0;
    for (size_t k = 0; k < n; ++k) {
      const size_t e = (round_robin + k) % n;
      const int limit = opt.endpoints[e].max_in_flight > 0 ? opt.endpoints[e].max_in_flight : opt.max_in_flight;
      if (in_flight_per[e] >= limit) continue;
      const double load = static_cast<double>(in_flight_per[e]) / static_cast<double>(limit);
      if (best < 0 || load < best_load) best = static_cast<int>(e), best_load = load;
    }
    if (best >= 0) round_robin = (static_cast<size_t>(best) + 1) % n;
    return best;
  }

  void start(std::unique_ptr<Job> job, int endpoint) {
    CURL* h;
    if (!idle_handles.empty()) {
      h = idle_handles.back();
      idle_handles.pop_back();
      curl_easy_reset(h);
    } else {
      h = curl_easy_init();
      if (!h) throw std::runtime_error("curl_easy_init failed");
    }
    Job* j = job.release();
    j->endpoint = endpoint;
    j->response.clear();
    j->retry_after = -1;
    j->curl_error[0] = '\0';
    ++j->attempts;
    curl_easy_setopt(h, CURLOPT_URL, urls[j->api == Api::chat ? 0 : 1][static_cast<size_t>(endpoint)].c_str());
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, j->body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(j->body.size()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, j);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, j->curl_error);
    curl_easy_setopt(h, CURLOPT_PRIVATE, j);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(opt.timeout_seconds * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt.connect_timeout_seconds * 1000));
    ++in_flight;
    ++in_flight_per[static_cast<size_t>(endpoint)];
    {
      std::lock_guard lock(mu);
      ++stats.attempts;
      ++stats.per_endpoint[static_cast<size_t>(endpoint)];
      if (j->attempts > 1) ++stats.retries;
    }
    active.push_back(h);
    curl_multi_add_handle(multi, h);
  }

  double backoff(const Job& j) {
    // Before retry k = attempts: initial * 2^(k-1), capped, times a uniform factor in [0.5, 1].
    const double base = std::min(opt.backoff_max_seconds, opt.backoff_initial_seconds * std::ldexp(1.0, std::min(j.attempts - 1, 60)));
    double wait = base * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
    if (j.retry_after >= 0) wait = std::max(wait, std::min(j.retry_after, opt.retry_after_max_seconds));
    return wait;
  }

  void finish(std::unique_ptr<Job> job, Outcome&& out) {
    out.attempts = job->attempts;
    {
      std::lock_guard lock(mu);
      ++(out.ok ? stats.succeeded : stats.failed);
    }
    job->done(std::move(out));
  }

  void complete(CURL* h, CURLcode code) {
    Job* raw = nullptr;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, &raw);
    std::unique_ptr<Job> job(raw);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(multi, h);
    active.erase(std::find(active.begin(), active.end(), h));
    idle_handles.push_back(h);
    --in_flight;
    --in_flight_per[static_cast<size_t>(job->endpoint)];

    Outcome out;
    out.http_status = static_cast<int>(status);
    bool retry = false;
    if (code != CURLE_OK) {
      out.error = std::string("connection: ") + curl_easy_strerror(code) + (job->curl_error[0] ? std::string(" (") + job->curl_error + ")" : "");
      retry = true;
    } else if (status >= 200 && status < 300) {
      std::string why;
      if (parse_completion(job->api, job->response, out.completion, why)) {
        out.ok = true;
        return finish(std::move(job), std::move(out));
      }
      out.error = why;
      retry = true;
    } else {
      out.error = "HTTP " + std::to_string(status) + ": " + cut(job->response, 200);
      retry = status == 408 || status == 429 || status >= 500;
      out.permanent = !retry;
    }
    if (retry && job->attempts <= opt.max_retries) {
      job->due = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(backoff(*job)));
      waiting.push_back(std::move(job));
      std::push_heap(waiting.begin(), waiting.end(), Later{});
      return;
    }
    finish(std::move(job), std::move(out));
  }

  void loop() {
    for (;;) {
      {
        std::lock_guard lock(mu);
        if (stop) break;
        while (!incoming.empty()) {
          ready.push_back(std::move(incoming.front()));
          incoming.pop_front();
        }
      }
      const auto now = Clock::now();
      while (!waiting.empty() && waiting.front()->due <= now) {
        std::pop_heap(waiting.begin(), waiting.end(), Later{});
        ready.push_back(std::move(waiting.back()));
        waiting.pop_back();
      }
      while (!ready.empty() && in_flight < opt.max_in_flight) {
        const int e = pick_endpoint();
        if (e < 0) break;
        start(std::move(ready.front()), e);
        ready.pop_front();
      }
      int running = 0;
      curl_multi_perform(multi, &running);
      int left = 0;
      bool any = false;
      while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
        if (m->msg != CURLMSG_DONE) continue;
        complete(m->easy_handle, m->data.result);
        any = true;
        if (unflushed++ == 0) first_unflushed = Clock::now();
      }
      // turn_end (the cache's commit, then the waiters are told) once per kTurnJobs finished jobs, or
      // kTurnDelay after the first of them, or when nothing is left in flight: a commit per response
      // would cost more than the HTTP exchange (bench/rollout_client.sh).
      if (unflushed > 0 && (unflushed >= kTurnJobs || in_flight == 0 || Clock::now() - first_unflushed >= kTurnDelay)) {
        unflushed = 0;
        if (turn_end) turn_end();
      }
      if (any) continue;  // finished transfers may have freed room for ready jobs
      int timeout_ms = 1000;
      if (unflushed > 0) {
        const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(first_unflushed + kTurnDelay - Clock::now()).count();
        timeout_ms = static_cast<int>(std::clamp<int64_t>(until + 1, 0, 1000));
      }
      if (!waiting.empty()) {
        const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(waiting.front()->due - Clock::now()).count();
        timeout_ms = std::min(timeout_ms, static_cast<int>(std::clamp<int64_t>(until, 0, 1000)));
      }
      long curl_ms = -1;
      curl_multi_timeout(multi, &curl_ms);
      if (curl_ms >= 0) timeout_ms = std::min<int>(timeout_ms, static_cast<int>(curl_ms));
      curl_multi_poll(multi, nullptr, 0, timeout_ms, nullptr);
    }
    // Stopping: drop transfers in flight (their jobs get no callback).
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) (void)m;
    for (CURL* h : active) {
      Job* raw = nullptr;
      curl_easy_getinfo(h, CURLINFO_PRIVATE, &raw);
      curl_multi_remove_handle(multi, h);
      curl_easy_cleanup(h);
      delete raw;
    }
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;

void Client::submit(Api api, std::string body, Callback done) {
  auto job = std::make_unique<Job>();
  job->api = api;
  job->body = std::move(body);
  job->done = std::move(done);
  {
    std::lock_guard lock(impl_->mu);
    ++impl_->stats.submitted;
    impl_->incoming.push_back(std::move(job));
  }
  curl_multi_wakeup(impl_->multi);
}

void Client::set_turn_end(std::function<void()> f) { impl_->turn_end = std::move(f); }

ClientStats Client::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace tamis::rollout
