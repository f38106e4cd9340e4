// The rollout cache: every response, keyed by (request key, sample index), in an SQLite database in WAL
// mode. Why SQLite and synchronous=NORMAL: docs/rollouts.md ("How it runs").
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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
  enum class Mode { write, read_only };
  // Opens the database at `path`: creating it if needed (write), or as it is, changing nothing (read_only:
  // `tamis run --dry-run`, the cache commands). Throws std::runtime_error naming the file.
  explicit Cache(const std::string& path, Mode mode = Mode::write);
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
  // How many of samples 0 .. n-1 of `key` are stored. Thread-safe.
  int64_t count_cached(const Key& key, int64_t n);
  // What the servers reported for a model's stored responses that carry token counts: for estimates.
  struct Usage {
    int64_t responses = 0, prompt_tokens = 0, prompt_bytes = 0, completion_tokens = 0;
  };
  Usage usage(const std::string& model);

  // Which record asked for `key` (table records: what `tamis rollout cache export` writes as the sidecar's
  // id). Buffered and written with the next store() or flush(): cheap to call once per record and key.
  // Thread-safe; does nothing in read_only mode.
  void remember_record(std::string_view id, const Key& key);
  void flush();  // writes what remember_record buffered

 private:
  struct Conn {
    sqlite3* db = nullptr;
    std::vector<sqlite3_stmt*> stmts;
    std::mutex mu;
  };
  void open(Conn& c);
  void exec(Conn& c, const char* sql);
  [[noreturn]] void fail(Conn& c, const std::string& what);
  void insert_records(std::vector<std::pair<std::string, Key>>& ids);  // writer_.mu held, in a transaction
  std::string path_;
  Mode mode_;
  Conn reader_, writer_;
  std::mutex ids_mu_;
  std::vector<std::pair<std::string, Key>> ids_;  // remembered, not yet written
};

// 1234567 as "1,234,567", for the figures the cache command and the dry-run plan print.
std::string with_commas(int64_t v);

// The cache commands (`tamis rollout cache stats|export ...`): plugins/rollout/cache_command.cpp.
int32_t cache_command(int32_t argc, const char* const* argv);

}  // namespace tamis::rollout
