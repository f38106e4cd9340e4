// `tamis rollout cache stats|export`: what a rollout cache holds, and its export as the sidecar that
// `grade.difficulty` reads. The database is opened read-only (a run may be writing it: WAL readers see the
// last commit). Design: docs/rollouts.md ("Inspecting and exporting the cache").
#include <sqlite3.h>
#include <tamis/json.hpp>
#include <tamis/temp_file.hpp>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "cache.hpp"

namespace tamis::rollout {

namespace {

constexpr const char* kUsage =
    "stats FILE.sqlite [--json]\n"
    "export FILE.sqlite --out FILE.jsonl [--model NAME] [--prompts]\n";

// A read-only connection and its prepared statements, closed on every path out.
class Db {
 public:
  explicit Db(const std::string& path) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      throw std::runtime_error("rollout cache " + path + ": no such file (the `cache` parameter of a rollout.sample stage)");
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
      fail("cannot open");
    sqlite3_busy_timeout(db_, 60000);
    sqlite3_stmt* s = prepare("SELECT 1 FROM responses JOIN requests USING (key) LIMIT 1");
    sqlite3_finalize(s);
  }
  ~Db() {
    for (sqlite3_stmt* s : owned_) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // A statement finalized with the connection.
  sqlite3_stmt* statement(const char* sql) {
    owned_.push_back(prepare(sql));
    return owned_.back();
  }
  bool step(sqlite3_stmt* s) {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail("read");
    return false;
  }
  bool has_records_table() {
    sqlite3_stmt* s = statement("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'records'");
    return step(s) && sqlite3_column_int64(s, 0) > 0;
  }
  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("rollout cache " + path_ + ": " + what + ": " +
                             (db_ ? sqlite3_errmsg(db_) : "cannot open") +
                             " (is it a cache written by rollout.sample?)");
  }

 private:
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) fail("not a rollout cache");
    return s;
  }
  std::string path_;
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> owned_;
};

std::string text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

int usage(const std::string& message) {
  std::fprintf(stderr, "tamis: rollout cache: %s\nusage:\n", message.c_str());
  const std::string u = kUsage;
  size_t start = 0;
  while (start < u.size()) {
    const size_t end = u.find('\n', start);
    std::fprintf(stderr, "  tamis rollout cache %s\n", u.substr(start, end - start).c_str());
    start = end + 1;
  }
  return 2;
}

// Per model and set of sampling parameters: prompts, responses, truncated ones, tokens (the servers'
// `usage`; responses without it are counted apart), and the records that asked.
int stats(const std::string& path, bool as_json) {
  Db db(path);
  struct Row {
    std::string model, params;
    int64_t prompts = 0, responses = 0, truncated = 0, prompt_tokens = 0, completion_tokens = 0, no_usage = 0,
            records = -1;
  };
  std::vector<Row> rows;
  sqlite3_stmt* s = db.statement(
      "SELECT q.model, q.params, count(DISTINCT s.key), count(*), sum(s.finish_reason = 'length'),"
      "  sum(max(s.prompt_tokens, 0)), sum(max(s.completion_tokens, 0)),"
      "  sum(s.prompt_tokens < 0 OR s.completion_tokens < 0)"
      " FROM responses s JOIN requests q USING (key) GROUP BY 1, 2 ORDER BY 1, 2");
  while (db.step(s))
    rows.push_back({text(s, 0), text(s, 1), sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3),
                    sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 5), sqlite3_column_int64(s, 6),
                    sqlite3_column_int64(s, 7)});
  if (db.has_records_table()) {
    sqlite3_stmt* r = db.statement(
        "SELECT q.model, q.params, count(DISTINCT r.id) FROM records r JOIN requests q USING (key) GROUP BY 1, 2");
    while (db.step(r))
      for (Row& row : rows)
        if (row.model == text(r, 0) && row.params == text(r, 1)) row.records = sqlite3_column_int64(r, 2);
  }
  if (as_json) {
    std::string out = "{\"cache\":";
    json::append_quoted(out, path);
    out += ",\"models\":[";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      out += i ? "," : "";
      out += "{\"model\":";
      json::append_quoted(out, r.model);
      out += ",\"params\":" + (r.params.empty() ? std::string("{}") : r.params) + ",\"prompts\":" + std::to_string(r.prompts) +
             ",\"responses\":" + std::to_string(r.responses) + ",\"truncated\":" + std::to_string(r.truncated) +
             ",\"prompt_tokens\":" + std::to_string(r.prompt_tokens) + ",\"completion_tokens\":" +
             std::to_string(r.completion_tokens) + ",\"responses_without_usage\":" + std::to_string(r.no_usage) +
             ",\"records\":" + (r.records < 0 ? std::string("null") : std::to_string(r.records)) + "}";
    }
    std::printf("%s]}\n", out.c_str());
    return 0;
  }
  std::printf("%s\n", path.c_str());
  if (rows.empty()) std::printf("  no responses\n");
  int64_t total_responses = 0, total_completion = 0;
  for (const Row& r : rows) {
    std::printf("\n  model %s\n  params %s\n", r.model.c_str(), r.params.c_str());
    std::printf("    prompts            %14s\n", with_commas(r.prompts).c_str());
    if (r.records >= 0) std::printf("    records            %14s\n", with_commas(r.records).c_str());
    std::printf("    responses          %14s  (%s stopped at max_tokens)\n", with_commas(r.responses).c_str(),
                with_commas(r.truncated).c_str());
    std::printf("    prompt tokens      %14s\n", with_commas(r.prompt_tokens).c_str());
    std::printf("    completion tokens  %14s  (mean %.0f per response)\n", with_commas(r.completion_tokens).c_str(),
                r.responses > r.no_usage ? static_cast<double>(r.completion_tokens) / static_cast<double>(r.responses - r.no_usage) : 0.0);
    if (r.no_usage) std::printf("    without usage      %14s  (the server sent no token counts)\n", with_commas(r.no_usage).c_str());
    total_responses += r.responses;
    total_completion += r.completion_tokens;
  }
  if (rows.size() > 1)
    std::printf("\n  total: %s responses, %s completion tokens\n", with_commas(total_responses).c_str(), with_commas(total_completion).c_str());
  return 0;
}

// One JSON line per (record id, request): the responses in sample order. The file `grade.difficulty` reads
// with `sidecar: OUT, sidecar_field: responses, sidecar_model_field: model`.
int export_sidecar(const std::string& path, const std::string& out_path, const std::string& model, bool prompts) {
  std::error_code same_ec;
  if (std::filesystem::equivalent(path, out_path, same_ec))
    throw std::runtime_error("--out " + out_path + " is the cache itself; name another file");
  Db db(path);
  if (!db.has_records_table())
    throw std::runtime_error("rollout cache " + path + " was written by a tamis that did not record which records asked "
                             "(no table `records`): run the pipeline once more (it sends no request for what is cached) and export again");
  sqlite3_stmt* list = db.statement(
      "SELECT r.id, q.model, q.params, r.key, q.prompt FROM records r JOIN requests q USING (key)"
      " WHERE ?1 IS NULL OR q.model = ?1 ORDER BY r.id, q.model, q.params, r.key");
  if (!model.empty()) sqlite3_bind_text(list, 1, model.data(), static_cast<int>(model.size()), SQLITE_TRANSIENT);
  sqlite3_stmt* samples = db.statement("SELECT sample, text, finish_reason FROM responses WHERE key = ?1 ORDER BY sample");

  files::Temporary t = files::create_temporary_beside(out_path);
  if (t.fd < 0) throw std::runtime_error("cannot write " + out_path + ": " + t.error);
  std::FILE* f = ::fdopen(t.fd, "w");
  if (!f) {
    ::close(t.fd);
    std::filesystem::remove(t.path);
    throw std::runtime_error("cannot write " + out_path + ": " + std::strerror(errno));
  }
  int64_t lines = 0, responses = 0, empty = 0;
  bool ok = true;
  std::string line;
  while (ok && db.step(list)) {
    sqlite3_reset(samples);
    sqlite3_bind_blob(samples, 1, sqlite3_column_blob(list, 3), sqlite3_column_bytes(list, 3), SQLITE_TRANSIENT);
    std::string texts, reasons, indices;
    int64_t n = 0;
    while (db.step(samples)) {
      const char* sep = n ? "," : "";
      texts += sep;
      json::append_quoted(texts, text(samples, 1));
      reasons += sep;
      json::append_quoted(reasons, text(samples, 2));
      indices += sep + std::to_string(sqlite3_column_int64(samples, 0));
      ++n;
    }
    if (n == 0) {  // asked, but no answer stored (the requests failed)
      ++empty;
      continue;
    }
    line = "{\"id\":";
    json::append_quoted(line, text(list, 0));
    line += ",\"model\":";
    json::append_quoted(line, text(list, 1));
    line += ",\"params\":" + text(list, 2) + ",\"samples\":[" + indices + "],\"responses\":[" + texts +
            "],\"finish_reasons\":[" + reasons + "]";
    if (prompts) {
      line += ",\"prompt\":";
      json::append_quoted(line, text(list, 4));
    }
    line += "}\n";
    ok = std::fwrite(line.data(), 1, line.size(), f) == line.size();
    ++lines;
    responses += n;
  }
  ok = ok && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::filesystem::remove(t.path);
    throw std::runtime_error("cannot write " + out_path + " (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(t.path, out_path, ec);
  if (ec) {
    std::filesystem::remove(t.path);
    throw std::runtime_error("cannot put " + out_path + " in place: " + ec.message());
  }
  std::fprintf(stderr, "tamis: rollout cache: %s lines (%s responses) written to %s%s\n", with_commas(lines).c_str(),
               with_commas(responses).c_str(), out_path.c_str(),
               empty ? (" (" + with_commas(empty) + " records asked but got no response: left out)").c_str() : "");
  return 0;
}

}  // namespace

int32_t cache_command(int32_t argc, const char* const* argv) {
  try {
    if (argc < 1) return usage("say stats or export");
    const std::string sub = argv[0];
    std::vector<std::string> pos;
    std::string out, model;
    bool as_json = false, prompts = false;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--json") as_json = true;
      else if (a == "--prompts") prompts = true;
      else if (a == "--out" || a == "--model") {
        if (i + 1 >= argc) return usage(a + " needs a value");
        (a == "--out" ? out : model) = argv[++i];
      } else if (!a.empty() && a[0] == '-') return usage("unknown option " + a);
      else pos.push_back(a);
    }
    if (pos.size() != 1) return usage(sub + " needs one cache file");
    if (sub == "stats") {
      if (!out.empty() || !model.empty() || prompts) return usage("stats takes only --json");
      return stats(pos[0], as_json);
    }
    if (sub == "export") {
      if (out.empty()) return usage("export needs --out FILE.jsonl");
      if (as_json) return usage("export writes JSON lines already; --json is for stats");
      return export_sidecar(pos[0], out, model, prompts);
    }
    return usage("unknown subcommand '" + sub + "'");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tamis: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace tamis::rollout
