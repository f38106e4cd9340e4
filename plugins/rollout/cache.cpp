// The rollout cache: see cache.hpp.
#include "cache.hpp"

#include <sqlite3.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace tamis::rollout {

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS responses("
    "  key BLOB NOT NULL, sample INTEGER NOT NULL, text TEXT NOT NULL, finish_reason TEXT NOT NULL,"
    "  prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,"
    "  PRIMARY KEY (key, sample)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS requests("
    "  key BLOB PRIMARY KEY, model TEXT NOT NULL, params TEXT NOT NULL, prompt TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS records(id TEXT NOT NULL, key BLOB NOT NULL, PRIMARY KEY (id, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT OR IGNORE INTO meta VALUES ('format', 'tamis rollout cache 1');";

enum Stmt { kLookup, kInsertResponse, kInsertRequest, kCount, kBegin, kCommit, kInsertRecord, kCountKey, kUsage, kStmtCount };
constexpr const char* kSql[kStmtCount] = {
    "SELECT sample, text, finish_reason, prompt_tokens, completion_tokens FROM responses WHERE key = ?1 AND sample < ?2",
    "INSERT OR IGNORE INTO responses VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "INSERT OR IGNORE INTO requests VALUES (?1, ?2, ?3, ?4)",
    "SELECT count(*) FROM responses",
    "BEGIN IMMEDIATE",
    "COMMIT",
    "INSERT OR IGNORE INTO records VALUES (?1, ?2)",
    "SELECT count(*) FROM responses WHERE key = ?1 AND sample < ?2",
    "SELECT count(*), sum(s.prompt_tokens), sum(length(CAST(q.prompt AS BLOB))), sum(s.completion_tokens)"
    " FROM responses s JOIN requests q USING (key) WHERE q.model = ?1 AND s.prompt_tokens >= 0 AND s.completion_tokens >= 0",
};

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

}  // namespace

Key request_key(std::string_view model, std::string_view params, std::string_view prompt) {
  XXH3_state_t* st = XXH3_createState();
  XXH3_128bits_reset(st);
  const char zero = '\0';
  XXH3_128bits_update(st, model.data(), model.size());
  XXH3_128bits_update(st, &zero, 1);
  XXH3_128bits_update(st, params.data(), params.size());
  XXH3_128bits_update(st, &zero, 1);
  XXH3_128bits_update(st, prompt.data(), prompt.size());
  const XXH128_hash_t h = XXH3_128bits_digest(st);
  XXH3_freeState(st);
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  Key k;
  std::memcpy(k.data(), c.digest, k.size());
  return k;
}

Cache::Cache(const std::string& path, Mode mode) : path_(path), mode_(mode) {
  if (mode_ == Mode::read_only) {
    open(reader_);
    // A database written by tamis: a file that is not one fails here, naming it.
    exec(reader_, "SELECT 1 FROM responses JOIN requests USING (key) LIMIT 1");
    return;
  }
  open(writer_);
  exec(writer_, "PRAGMA journal_mode=WAL");
  exec(writer_, "PRAGMA synchronous=NORMAL");
  exec(writer_, kSchema);
  open(reader_);
}

Cache::~Cache() {
  try {
    flush();
  } catch (...) {  // the ids only name records for the export; the responses are all stored already
  }
  for (Conn* c : {&reader_, &writer_}) {
    for (sqlite3_stmt* s : c->stmts) sqlite3_finalize(s);
    if (c->db) sqlite3_close(c->db);
  }
}

void Cache::fail(Conn& c, const std::string& what) {
  throw std::runtime_error("rollout cache " + path_ + ": " + what + ": " + (c.db ? sqlite3_errmsg(c.db) : "cannot open"));
}

void Cache::open(Conn& c) {
  const int flags = mode_ == Mode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path_.c_str(), &c.db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) fail(c, "cannot open");
  sqlite3_busy_timeout(c.db, 60000);
  if (mode_ == Mode::read_only) return;
  exec(c, "PRAGMA journal_mode=WAL");  // checks that the file is a database (and a readable one)
  exec(c, "PRAGMA synchronous=NORMAL");
}

void Cache::exec(Conn& c, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(c.db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    const std::string m = msg ? msg : "error";
    sqlite3_free(msg);
    throw std::runtime_error("rollout cache " + path_ + ": " + m);
  }
}

static sqlite3_stmt* prepared(sqlite3* db, std::vector<sqlite3_stmt*>& stmts, int which) {
  if (stmts.empty()) stmts.assign(kStmtCount, nullptr);
  sqlite3_stmt*& s = stmts[static_cast<size_t>(which)];
  if (!s && sqlite3_prepare_v3(db, kSql[which], -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) return nullptr;
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return s;
}

std::vector<std::optional<CachedResponse>> Cache::lookup(const Key& key, int64_t n) {
  std::vector<std::optional<CachedResponse>> out(static_cast<size_t>(std::max<int64_t>(n, 0)));
  std::lock_guard lock(reader_.mu);
  sqlite3_stmt* s = prepared(reader_.db, reader_.stmts, kLookup);
  if (!s) fail(reader_, "prepare");
  sqlite3_bind_blob(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, n);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const int64_t i = sqlite3_column_int64(s, 0);
    if (i < 0 || i >= n) continue;
    out[static_cast<size_t>(i)] = CachedResponse{column_text(s, 1), column_text(s, 2), sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4)};
  }
  if (rc != SQLITE_DONE) fail(reader_, "lookup");
  sqlite3_reset(s);
  return out;
}

void Cache::remember_record(std::string_view id, const Key& key) {
  if (mode_ == Mode::read_only) return;
  std::lock_guard lock(ids_mu_);
  ids_.emplace_back(std::string(id), key);
}

void Cache::insert_records(std::vector<std::pair<std::string, Key>>& ids) {
  for (const auto& [id, key] : ids) {
    sqlite3_stmt* s = prepared(writer_.db, writer_.stmts, kInsertRecord);
    if (!s) fail(writer_, "prepare");
    sqlite3_bind_text(s, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) fail(writer_, "write");
    sqlite3_reset(s);
  }
  ids.clear();
}

void Cache::flush() {
  if (mode_ == Mode::read_only) return;
  std::vector<std::pair<std::string, Key>> ids;
  {
    std::lock_guard lock(ids_mu_);
    ids.swap(ids_);
  }
  if (ids.empty()) return;
  std::lock_guard lock(writer_.mu);
  exec(writer_, "BEGIN IMMEDIATE");
  try {
    insert_records(ids);
    exec(writer_, "COMMIT");
  } catch (...) {
    sqlite3_exec(writer_.db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void Cache::store(const std::vector<Put>& puts) {
  if (puts.empty()) return;
  if (mode_ == Mode::read_only) throw std::runtime_error("rollout cache " + path_ + ": opened read-only");
  std::vector<std::pair<std::string, Key>> ids;
  {
    std::lock_guard lock(ids_mu_);
    ids.swap(ids_);
  }
  std::lock_guard lock(writer_.mu);
  auto step = [&](int which, auto&& bind) {
    sqlite3_stmt* s = prepared(writer_.db, writer_.stmts, which);
    if (!s) fail(writer_, "prepare");
    bind(s);
    if (sqlite3_step(s) != SQLITE_DONE) fail(writer_, "write");
    sqlite3_reset(s);
  };
  step(kBegin, [](sqlite3_stmt*) {});
  try {
    for (const Put& p : puts) {
      step(kInsertResponse, [&](sqlite3_stmt* s) {
        sqlite3_bind_blob(s, 1, p.key.data(), static_cast<int>(p.key.size()), SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, p.sample);
        sqlite3_bind_text(s, 3, p.response.text.data(), static_cast<int>(p.response.text.size()), SQLITE_STATIC);
        sqlite3_bind_text(s, 4, p.response.finish_reason.data(), static_cast<int>(p.response.finish_reason.size()), SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, p.response.prompt_tokens);
        sqlite3_bind_int64(s, 6, p.response.completion_tokens);
      });
      step(kInsertRequest, [&](sqlite3_stmt* s) {
        sqlite3_bind_blob(s, 1, p.key.data(), static_cast<int>(p.key.size()), SQLITE_STATIC);
        sqlite3_bind_text(s, 2, p.model.data(), static_cast<int>(p.model.size()), SQLITE_STATIC);
        sqlite3_bind_text(s, 3, p.params.data(), static_cast<int>(p.params.size()), SQLITE_STATIC);
        sqlite3_bind_text(s, 4, p.prompt.data(), static_cast<int>(p.prompt.size()), SQLITE_STATIC);
      });
    }
    insert_records(ids);
    step(kCommit, [](sqlite3_stmt*) {});
  } catch (...) {
    sqlite3_exec(writer_.db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

int64_t Cache::count() {
  std::lock_guard lock(reader_.mu);
  sqlite3_stmt* s = prepared(reader_.db, reader_.stmts, kCount);
  if (!s || sqlite3_step(s) != SQLITE_ROW) fail(reader_, "count");
  const int64_t n = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return n;
}

std::string with_commas(int64_t v) {
  const std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out = v < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

int64_t Cache::count_cached(const Key& key, int64_t n) {
  std::lock_guard lock(reader_.mu);
  sqlite3_stmt* s = prepared(reader_.db, reader_.stmts, kCountKey);
  if (!s) fail(reader_, "prepare");
  sqlite3_bind_blob(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, n);
  if (sqlite3_step(s) != SQLITE_ROW) fail(reader_, "count");
  const int64_t c = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return c;
}

Cache::Usage Cache::usage(const std::string& model) {
  std::lock_guard lock(reader_.mu);
  sqlite3_stmt* s = prepared(reader_.db, reader_.stmts, kUsage);
  if (!s) fail(reader_, "prepare");
  sqlite3_bind_text(s, 1, model.data(), static_cast<int>(model.size()), SQLITE_STATIC);
  if (sqlite3_step(s) != SQLITE_ROW) fail(reader_, "usage");
  const Usage u{sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3)};
  sqlite3_reset(s);
  return u;
}

}  // namespace tamis::rollout
