// The rollout cache: every response, keyed by (request key, sample index), in an SQLite database in WAL
// mode. Why SQLite and synchronous=NORMAL: docs/rollouts.md ("How it runs").
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace tamis::rollout {

// 128 bits of XXH3 over the canonical request (model, parameters, prompt): see request_key().
using Key = std::array<uint8_t, 16>;

Key request_key(std::string_view model, std::string_view params, std::string_view prompt);

struct CachedResponse {
  std::string text;
  std::string finish_reason;
  int64_t prompt_tokens = -1;
  int64_t completion_tokens = -1;
};

class Cache {
 public:
  // Opens (creating if needed) the database at `path`. Throws std::runtime_error naming the file.
  explicit Cache(const std::string& path);
  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // Samples 0 .. n-1 of `key`: the stored response of each, or nullopt. Thread-safe.
  std::vector<std::optional<CachedResponse>> lookup(const Key& key, int64_t n);

  struct Put {
    Key key;
    int64_t sample = 0;
    std::string model, params, prompt;  // the canonical request, kept once per key (table requests)
    CachedResponse response;
  };
  // Stores `puts` in one transaction. A (key, sample) already stored keeps its first response. Thread-safe.
  void store(const std::vector<Put>& puts);

  int64_t count();  // responses stored

 private:
  struct Conn {
    sqlite3* db = nullptr;
    std::vector<sqlite3_stmt*> stmts;
    std::mutex mu;
  };
  void open(Conn& c);
  void exec(Conn& c, const char* sql);
  [[noreturn]] void fail(Conn& c, const std::string& what);
  std::string path_;
  Conn reader_, writer_;
};

}  // namespace tamis::rollout
