// Helpers shared by the tests: temporary directories, files, and running the tamis binary.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tamis::test {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

void write_file(const fs::path& p, const std::string& content);
std::string read_file(const fs::path& p);
std::vector<std::string> read_lines(const fs::path& p);  // without the newlines
// gzip / zstd compress `content` into `p` (using the command-line tools gzip and zstd).
void write_gzip(const fs::path& p, const std::string& content);
void write_zstd(const fs::path& p, const std::string& content);

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the tamis binary with `args` (each one argument, no shell quoting needed), in `cwd` if given.
CommandResult run_tamis(const std::vector<std::string>& args, const fs::path& cwd = {});
// Runs a shell command line.
CommandResult run_shell(const std::string& command);

// The ids tamis gives the lines of a source without `id:`, written from the documented rule
// (docs/pipeline-format.md, Record ids), not from the engine's code: SOURCE/ + 16 hex digits of XXH3-64
// of the line without surrounding whitespace, `.N` for the N-th line with the same bytes. Blank lines
// are skipped (they are not records).
std::vector<std::string> content_ids(const std::string& source, const std::vector<std::string>& lines);

// ../shared/data/<rel>, or empty when the shared data folder is absent (tests then GTEST_SKIP).
fs::path shared_data(const std::string& rel);

inline const char* tamis_bin() { return TAMIS_BIN; }
inline fs::path source_dir() { return TAMIS_SOURCE_DIR; }
inline fs::path binary_dir() { return TAMIS_BINARY_DIR; }

}  // namespace tamis::test
