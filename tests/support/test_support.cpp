#include "test_support.hpp"

#include <sys/wait.h>
#include <xxhash.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>

namespace tamis::test {

TempDir::TempDir() {
  std::random_device rd;
  for (int i = 0; i < 100; ++i) {
    fs::path p = fs::temp_directory_path() / ("tamis-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    if (fs::create_directory(p)) {
      path_ = p;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const fs::path& p, const std::string& content) {
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f << content;
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + p.string());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> read_lines(const fs::path& p) {
  std::vector<std::string> out;
  std::istringstream in(read_file(p));
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

static std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void write_gzip(const fs::path& p, const std::string& content) {
  const fs::path raw = p.string() + ".raw";
  write_file(raw, content);
  const auto r = run_shell("gzip -c " + shell_quote(raw.string()) + " > " + shell_quote(p.string()));
  fs::remove(raw);
  if (r.exit_code != 0) throw std::runtime_error("gzip failed: " + r.err);
}

void write_zstd(const fs::path& p, const std::string& content) {
  const fs::path raw = p.string() + ".raw";
  write_file(raw, content);
  const auto r = run_shell("zstd -q -c " + shell_quote(raw.string()) + " > " + shell_quote(p.string()));
  fs::remove(raw);
  if (r.exit_code != 0) throw std::runtime_error("zstd failed: " + r.err);
}

CommandResult run_shell(const std::string& command) {
  TempDir tmp;
  const fs::path out = tmp / "stdout", err = tmp / "stderr";
  const std::string full = "(" + command + ") > " + shell_quote(out.string()) + " 2> " + shell_quote(err.string()) + " < /dev/null";
  const int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  r.out = fs::exists(out) ? read_file(out) : "";
  r.err = fs::exists(err) ? read_file(err) : "";
  return r;
}

CommandResult run_tamis(const std::vector<std::string>& args, const fs::path& cwd) {
  std::string cmd;
  if (!cwd.empty()) cmd += "cd " + shell_quote(cwd.string()) + " && ";
  cmd += shell_quote(TAMIS_BIN);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd);
}

fs::path shared_data(const std::string& rel) {
  const fs::path p = fs::path(TAMIS_SHARED_DATA) / rel;
  std::error_code ec;
  return fs::exists(p, ec) ? p : fs::path();
}

std::vector<std::string> content_ids(const std::string& source, const std::vector<std::string>& lines) {
  std::vector<std::string> ids;
  std::map<uint64_t, int> seen;
  for (const std::string& line : lines) {
    size_t a = 0, b = line.size();
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (a < b && space(line[a])) ++a;
    while (b > a && space(line[b - 1])) --b;
    if (a == b) continue;
    const uint64_t h = XXH3_64bits(line.data() + a, b - a);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    const int n = ++seen[h];
    ids.push_back(source + "/" + hex + (n > 1 ? "." + std::to_string(n) : ""));
  }
  return ids;
}

}  // namespace tamis::test
