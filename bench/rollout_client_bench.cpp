// Requests per second of the rollout client (plugins/rollout/client.cpp) against the loopback test
// server (tests/plugins/rollout/fake_openai_server.cpp), which answers at once. Run by
// bench/rollout_client.sh; usage: rollout_client_bench [REQUESTS] [MAX_IN_FLIGHT] [--cache FILE]
// With --cache every response is also stored in the rollout cache as it arrives (one transaction per
// call of the client's turn_end), as rollout.sample does.
// rollout_client_bench --serve: prints the server's URL and serves until stdin closes (bench/rollout_op.sh).
#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cache.hpp"
#include "client.hpp"
#include "fake_openai_server.hpp"

int main(int argc, char** argv) {
  int64_t requests = 50000;
  int in_flight = 64;
  std::string cache_path;
  std::vector<std::string> pos;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--cache" && i + 1 < argc) cache_path = argv[++i];
    else pos.push_back(a);
  }
  if (!pos.empty() && pos[0] == "--serve") {  // serve until stdin closes (bench/rollout_op.sh)
    tamis::test::FakeOpenAiServer server;
    std::printf("%s\n", server.base_url().c_str());
    std::fflush(stdout);
    while (std::getchar() != EOF) {
    }
    std::fprintf(stderr, "server: %lld requests\n", static_cast<long long>(server.requests()));
    return 0;
  }
  if (pos.size() > 0) requests = std::atoll(pos[0].c_str());
  if (pos.size() > 1) in_flight = std::atoi(pos[1].c_str());

  tamis::test::FakeOpenAiServer server;
  tamis::rollout::ClientOptions o;
  o.endpoints.push_back({server.base_url(), 0});
  o.max_in_flight = in_flight;
  std::unique_ptr<tamis::rollout::Cache> cache;
  if (!cache_path.empty()) cache = std::make_unique<tamis::rollout::Cache>(cache_path);
  std::vector<tamis::rollout::Cache::Put> turn;  // the I/O thread's only
  auto client_ptr = std::make_unique<tamis::rollout::Client>(o);
  tamis::rollout::Client& client = *client_ptr;
  if (cache)
    client.set_turn_end([&] {
      cache->store(turn);
      turn.clear();
    });

  std::mutex mu;
  std::condition_variable cv;
  int64_t done = 0, failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < requests; ++i) {
    const std::string user = "What is " + std::to_string(i) + " + 1?";
    const std::string body = "{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":\"" + user +
                             "\"}],\"max_tokens\":100,\"seed\":" + std::to_string(i % 4) + "}";
    client.submit(tamis::rollout::Api::chat, body, [&, i](tamis::rollout::Outcome&& out) {
      if (cache && out.ok)
        turn.push_back({tamis::rollout::request_key("bench", "{}", std::to_string(i)), 0, "bench", "{}", std::to_string(i),
                        {out.completion.text, out.completion.finish_reason, out.completion.prompt_tokens, out.completion.completion_tokens}});
      std::lock_guard lock(mu);
      failed += out.ok ? 0 : 1;
      if (++done == requests) cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == requests; });
  }
  client_ptr.reset();  // the last turn's store may still be running: stop the I/O thread first
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf("requests %lld  in_flight %d  cache %s  failed %lld  seconds %.3f  requests/s %.0f  cpu_seconds %.2f (client + server)  server_max_concurrent %d\n",
              static_cast<long long>(requests), in_flight, cache ? "yes" : "no", static_cast<long long>(failed), secs,
              static_cast<double>(requests) / secs, cpu, server.max_concurrent());
  return failed == 0 ? 0 : 1;
}
