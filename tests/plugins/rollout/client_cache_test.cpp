// The rollout client (libcurl) against the loopback server, with injected faults; the SQLite cache.
// Suites plugins_rollout_client and plugins_rollout_cache.
#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "cache.hpp"
#include "client.hpp"
#include "fake_openai_server.hpp"
#include "test_support.hpp"

namespace {

using tamis::rollout::Api;
using tamis::rollout::Cache;
using tamis::rollout::CachedResponse;
using tamis::rollout::Client;
using tamis::rollout::ClientOptions;
using tamis::rollout::Outcome;
using tamis::test::FakeOpenAiServer;
using Fault = FakeOpenAiServer::Fault;

std::string chat_body(const std::string& user, int64_t seed) {
  return "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + user + "\"}],\"max_tokens\":100,\"seed\":" +
         std::to_string(seed) + "}";
}

ClientOptions options_for(const std::vector<std::string>& urls) {
  ClientOptions o;
  for (const auto& u : urls) o.endpoints.push_back({u, 0});
  o.max_in_flight = 16;
  o.max_retries = 3;
  o.backoff_initial_seconds = 0.01;
  o.backoff_max_seconds = 0.05;
  o.timeout_seconds = 30;
  return o;
}

// Submits `bodies` and waits for every outcome (in submission order).
std::vector<Outcome> run_all(Client& client, const std::vector<std::string>& bodies, Api api = Api::chat) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Outcome> out(bodies.size());
  size_t done = 0;
  for (size_t i = 0; i < bodies.size(); ++i)
    client.submit(api, bodies[i], [&, i](Outcome&& o) {
      std::lock_guard lock(mu);
      out[i] = std::move(o);
      if (++done == bodies.size()) cv.notify_all();
    });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done == bodies.size(); });
  return out;
}

TEST(plugins_rollout_client, answers_parsed_for_both_apis) {
  FakeOpenAiServer server;
  Client client(options_for({server.base_url()}));
  std::vector<std::string> bodies;
  for (int i = 0; i < 200; ++i) bodies.push_back(chat_body("add " + std::to_string(i) + " and 3", i));
  const auto out = run_all(client, bodies);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(out[static_cast<size_t>(i)].ok) << out[static_cast<size_t>(i)].error;
    EXPECT_EQ(out[static_cast<size_t>(i)].completion.text, FakeOpenAiServer::response_for("add " + std::to_string(i) + " and 3", i));
    EXPECT_EQ(out[static_cast<size_t>(i)].completion.finish_reason, "stop");
    EXPECT_EQ(out[static_cast<size_t>(i)].completion.completion_tokens, 12);
    EXPECT_EQ(out[static_cast<size_t>(i)].attempts, 1);
  }
  EXPECT_EQ(server.requests(), 200);
  const auto raw = run_all(client, {"{\"model\":\"m\",\"prompt\":\"7 plus 8\",\"seed\":1}"}, Api::completions);
  ASSERT_TRUE(raw[0].ok) << raw[0].error;
  EXPECT_EQ(raw[0].completion.text, FakeOpenAiServer::response_for("7 plus 8", 1));
  EXPECT_LE(server.max_concurrent(), 16);
}

// Each fault hits the first 2 requests of every (prompt, seed); with 3 retries every job succeeds on its
// third attempt, and the server saw exactly 3 requests per key.
void expect_survives(Fault fault, double timeout_seconds = 30, int delay_ms = 0) {
  FakeOpenAiServer server;
  server.set_fault(fault, 2, 0, delay_ms);
  auto o = options_for({server.base_url()});
  o.timeout_seconds = timeout_seconds;
  Client client(o);
  std::vector<std::string> bodies;
  for (int i = 0; i < 20; ++i) bodies.push_back(chat_body("q " + std::to_string(i), 0));
  const auto out = run_all(client, bodies);
  for (const auto& r : out) {
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.attempts, 3);
  }
  for (const auto& [key, count] : server.per_key()) EXPECT_EQ(count, 3) << key;
  EXPECT_EQ(client.stats().retries, 40);
}

TEST(plugins_rollout_client, retries_500) { expect_survives(Fault::status500); }
TEST(plugins_rollout_client, retries_connection_reset_mid_body) { expect_survives(Fault::reset_mid_body); }
TEST(plugins_rollout_client, retries_malformed_json) { expect_survives(Fault::malformed_json); }
TEST(plugins_rollout_client, retries_429) { expect_survives(Fault::status429); }
TEST(plugins_rollout_client, retries_timeouts) { expect_survives(Fault::slow, 0.3, 1500); }

TEST(plugins_rollout_client, honours_retry_after) {
  FakeOpenAiServer server;
  server.set_fault(Fault::status429, 1, 1);  // Retry-After: 1 (second), longer than the computed backoff
  Client client(options_for({server.base_url()}));
  const auto out = run_all(client, {chat_body("wait for me", 0)});
  ASSERT_TRUE(out[0].ok) << out[0].error;
  const auto times = server.arrivals("wait for me#0");
  ASSERT_EQ(times.size(), 2u);
  // A lower bound only: a loaded machine can make the gap longer, never shorter.
  EXPECT_GE(times[1] - times[0], std::chrono::milliseconds(990));
}

TEST(plugins_rollout_client, gives_up_with_the_last_error) {
  FakeOpenAiServer server;
  Client client(options_for({server.base_url()}));
  const auto out = run_all(client, {chat_body("ALWAYS_FAIL 1", 0), chat_body("BAD_REQUEST 2", 0)});
  EXPECT_FALSE(out[0].ok);
  EXPECT_FALSE(out[0].permanent);
  EXPECT_EQ(out[0].attempts, 4);  // 1 + max_retries
  EXPECT_EQ(out[0].http_status, 500);
  EXPECT_NE(out[0].error.find("HTTP 500: {\"error\":\"this prompt always fails\"}"), std::string::npos) << out[0].error;
  EXPECT_FALSE(out[1].ok);
  EXPECT_TRUE(out[1].permanent);
  EXPECT_EQ(out[1].attempts, 1);  // a 400 is not retried
  EXPECT_EQ(server.per_key()["ALWAYS_FAIL 1#0"], 4);
  EXPECT_EQ(server.per_key()["BAD_REQUEST 2#0"], 1);
}

TEST(plugins_rollout_client, connection_refused_is_an_error_not_a_crash) {
  int port;
  {
    FakeOpenAiServer gone;
    port = gone.port();
  }
  auto o = options_for({"http://127.0.0.1:" + std::to_string(port) + "/v1"});
  o.max_retries = 1;
  Client client(o);
  const auto out = run_all(client, {chat_body("x", 0)});
  EXPECT_FALSE(out[0].ok);
  EXPECT_EQ(out[0].attempts, 2);
  EXPECT_NE(out[0].error.find("connection:"), std::string::npos) << out[0].error;
}

TEST(plugins_rollout_client, balances_and_bounds_per_endpoint) {
  FakeOpenAiServer a, b;
  a.set_fault(Fault::slow, 1, 0, 20);  // slow answers make requests overlap
  b.set_fault(Fault::slow, 1, 0, 20);
  auto o = options_for({a.base_url(), b.base_url()});
  o.endpoints[0].max_in_flight = 2;
  o.max_in_flight = 12;
  Client client(o);
  std::vector<std::string> bodies;
  for (int i = 0; i < 120; ++i) bodies.push_back(chat_body("p" + std::to_string(i), 0));
  const auto out = run_all(client, bodies);
  for (const auto& r : out) ASSERT_TRUE(r.ok) << r.error;
  EXPECT_LE(a.max_concurrent(), 2);
  EXPECT_LE(b.max_concurrent(), 10);
  EXPECT_GT(a.requests(), 0);
  EXPECT_GT(b.requests(), a.requests());  // b has 5x the room
  EXPECT_EQ(a.requests() + b.requests(), 120);
  const auto s = client.stats();
  EXPECT_EQ(s.per_endpoint[0], a.requests());
  EXPECT_EQ(s.per_endpoint[1], b.requests());
}

TEST(plugins_rollout_client, server_killed_and_restarted_mid_run) {
  auto server = std::make_unique<FakeOpenAiServer>();
  const int port = server->port();
  server->hold_after(5);  // answers 5, then holds the rest until it is killed
  auto o = options_for({server->base_url()});
  o.max_retries = 1000;  // with backoff capped at 50 ms: time enough for the restart
  Client client(o);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  for (int i = 0; i < 20; ++i)
    client.submit(Api::chat, chat_body("r" + std::to_string(i), 0), [&](Outcome&& out) {
      std::lock_guard lock(mu);
      ok += out.ok ? 1 : 0;
      ++done;
      cv.notify_all();
    });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == 5; });
  }
  server.reset();  // killed: the held requests lose their connections, new ones are refused
  server = std::make_unique<FakeOpenAiServer>(port);
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done == 20; });
  EXPECT_EQ(ok, 20);
  EXPECT_EQ(server->answered(), 15);
  EXPECT_GT(client.stats().retries, 0);
}

TEST(plugins_rollout_client, sends_the_api_key) {
  FakeOpenAiServer server;
  auto o = options_for({server.base_url()});
  o.api_key = "sk-test-123";
  Client client(o);
  ASSERT_TRUE(run_all(client, {chat_body("k", 0)})[0].ok);
  EXPECT_EQ(server.last_authorization(), "Bearer sk-test-123");
}

TEST(plugins_rollout_cache, stores_looks_up_and_persists) {
  tamis::test::TempDir dir;
  const std::string path = (dir.path() / "c.sqlite").string();
  const auto k1 = tamis::rollout::request_key("m", "{\"t\":1}", "[\"p\"]");
  EXPECT_NE(k1, tamis::rollout::request_key("m2", "{\"t\":1}", "[\"p\"]"));
  EXPECT_NE(k1, tamis::rollout::request_key("m", "{\"t\":2}", "[\"p\"]"));
  EXPECT_NE(k1, tamis::rollout::request_key("m", "{\"t\":1}", "[\"q\"]"));
  {
    Cache c(path);
    EXPECT_EQ(c.count(), 0);
    c.store({{k1, 0, "m", "{\"t\":1}", "[\"p\"]", CachedResponse{"zero", "stop", 3, 4}},
             {k1, 2, "m", "{\"t\":1}", "[\"p\"]", CachedResponse{"two \xC3\xA9\n", "length", 5, 6}}});
    c.store({{k1, 0, "m", "{\"t\":1}", "[\"p\"]", CachedResponse{"replaced?", "stop", 1, 1}}});  // the first stays
    EXPECT_EQ(c.count(), 2);
  }
  Cache c(path);  // reopened: still there
  const auto got = c.lookup(k1, 3);
  ASSERT_EQ(got.size(), 3u);
  ASSERT_TRUE(got[0] && got[2]);
  EXPECT_FALSE(got[1]);
  EXPECT_EQ(got[0]->text, "zero");
  EXPECT_EQ(got[2]->text, "two \xC3\xA9\n");
  EXPECT_EQ(got[2]->finish_reason, "length");
  EXPECT_EQ(got[2]->prompt_tokens, 5);
  EXPECT_EQ(got[2]->completion_tokens, 6);
  EXPECT_EQ(c.lookup(k1, 2)[1], std::nullopt);
  EXPECT_FALSE(c.lookup(k1, 2).size() > 2);
  const auto out = tamis::test::run_shell("sqlite3 -version >/dev/null 2>&1 && sqlite3 " + path + " 'PRAGMA journal_mode' || echo wal");
  EXPECT_NE(out.out.find("wal"), std::string::npos);
}

TEST(plugins_rollout_cache, refuses_a_file_that_is_not_a_database) {
  tamis::test::TempDir dir;
  tamis::test::write_file(dir.path() / "bad.sqlite", std::string(4096, 'x'));
  try {
    Cache c((dir.path() / "bad.sqlite").string());
    FAIL() << "opened";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("bad.sqlite"), std::string::npos) << e.what();
  }
}

}  // namespace
