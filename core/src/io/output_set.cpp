#include "io/output_set.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include <tamis/json.hpp>
#include <tamis/temp_file.hpp>

namespace tamis::io {

namespace fs = std::filesystem;

namespace {

constexpr char kJournalPrefix[] = ".tamis-commit-";

std::string folder_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  const fs::path a = fs::absolute(path, ec);
  return ec ? path : a.lexically_normal().string();
}

// Whether process `pid` of this machine still runs (EPERM: it runs as another user).
bool alive(long pid) { return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM; }

void fsync_folder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void write_all(int fd, const std::string& bytes, const std::string& path) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw WriteError(path + ": write failed: " + std::strerror(errno));
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// Why `target` cannot be renamed over now, or "": it must be a regular file or absent.
std::string target_problem(const std::string& target) {
  struct stat st;
  if (::stat(target.c_str(), &st) != 0) return errno == ENOENT ? "" : std::string(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return std::string("it is now ") + files::file_kind(st.st_mode);
  return "";
}

// Test hook for fault-injection tests (docs/reliability.md): TAMIS_FAULT_INJECT=kill-after-rename:N
// stops the process with SIGKILL after N renames of the commit; rename-fails-at:N makes the Nth rename
// (from 1) fail with EIO.
long fault_at(const char* name) {
  const char* v = std::getenv("TAMIS_FAULT_INJECT");
  if (!v) return -1;
  const std::string spec(v), key = std::string(name) + ":";
  if (spec.rfind(key, 0) != 0) return -1;
  return std::strtol(spec.c_str() + key.size(), nullptr, 10);
}

std::string list(const std::vector<std::string>& paths) {
  std::string out;
  for (size_t i = 0; i < paths.size(); ++i) out += (i ? ", " : "") + paths[i];
  return out.empty() ? "none" : out;
}

}  // namespace

OutputSet::~OutputSet() {
  if (released_) return;
  for (Entry& e : entries_) {
    if (e.writer || e.placed) continue;
    ::unlink(e.temp.c_str());
    untrack_temporary(e.temp);
  }
}

void OutputSet::add(AtomicWriter& writer, bool last) {
  std::lock_guard lock(mutex_);
  Entry e;
  e.writer = &writer;
  e.last = last;
  e.temp = writer.temp_path();
  e.target = writer.path();
  entries_.push_back(std::move(e));
}

std::string OutputSet::adopt(const std::string& temp, const std::string& target, const std::string& owner) {
  std::lock_guard lock(mutex_);
  if (prepared_) return "outputs are already being put in place (side files are handed over in finish only)";
  files::TemporaryName name;
  const fs::path tp(temp);
  if (!files::parse_temporary_name(tp.filename().string(), name) || name.pid != ::getpid() ||
      name.host != files::host_name_for_files())
    return "'" + temp + "' is not a temporary this process made (make it with tamis::files::create_temporary_beside)";
  if (absolute(folder_of(temp)) != absolute(folder_of(target)))
    return "'" + temp + "' is not in the folder of '" + target + "'";
  struct stat st;
  if (::lstat(temp.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return "'" + temp + "' is not a regular file";
  if (const std::string why = target_problem(target); !why.empty()) return "'" + target + "': " + why;
  const std::string abs_target = absolute(target);
  for (const Entry& e : entries_)
    if (absolute(e.target) == abs_target)
      return "'" + target + "' is already an output of this run (" + (e.writer ? "a sink" : e.owner) +
             "): two outputs cannot go to one file";
  Entry e;
  e.temp = temp;
  e.target = target;
  e.owner = owner;
  e.dev = st.st_dev;
  e.ino = st.st_ino;
  entries_.push_back(std::move(e));
  track_temporary(temp);
  return "";
}

void OutputSet::prepare() {
  std::lock_guard lock(mutex_);
  prepared_ = true;
  order_.clear();
  // Sinks first, then side files, then the files added as `last` (the report).
  for (Entry& e : entries_) order_.push_back(&e);
  auto rank = [](const Entry* e) { return e->last ? 2 : e->writer ? 0 : 1; };
  std::stable_sort(order_.begin(), order_.end(), [&](const Entry* a, const Entry* b) { return rank(a) < rank(b); });
  for (Entry* e : order_) {
    if (e->writer) {
      e->writer->finish_writing();
    } else {
      // The plugin fsynced it; fsync again through a descriptor that cannot follow a link, and check
      // it is still the file handed over.
      const int fd = ::open(e->temp.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      struct stat st;
      const bool same = fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == e->dev && st.st_ino == e->ino;
      const bool synced = same && ::fsync(fd) == 0;
      if (fd >= 0) ::close(fd);
      if (!same) throw WriteError(e->target + ": the temporary " + e->temp + " (" + e->owner + ") was removed or replaced");
      if (!synced) throw WriteError(e->target + ": fsync of " + e->temp + " failed: " + std::strerror(errno));
    }
    if (const std::string why = target_problem(e->target); !why.empty())
      throw WriteError("cannot put '" + e->target + "' in place: " + why);
  }
}

void OutputSet::write_journal() {
  if (order_.empty()) return;
  const std::string folder = folder_of(order_.front()->target);
  const std::string name = std::string(kJournalPrefix) + std::to_string(::getpid()) + "." + files::host_name_for_files();
  journal_ = (fs::path(folder) / name).string();
  std::string text = "{\"tamis_commit\":1,\"pid\":" + std::to_string(::getpid()) +
                     ",\"host\":" + json::quote(files::host_name_for_files()) + ",\"files\":" + std::to_string(order_.size()) + "}\n";
  for (const Entry* e : order_)
    text += "{\"temp\":" + json::quote(absolute(e->temp)) + ",\"target\":" + json::quote(absolute(e->target)) + "}\n";
  text += "{\"end\":" + std::to_string(order_.size()) + "}\n";
  const int fd = ::open(journal_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw WriteError("cannot create the commit journal " + journal_ + ": " + std::strerror(errno));
  try {
    write_all(fd, text, journal_);
    if (::fsync(fd) != 0) throw WriteError(journal_ + ": fsync failed: " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(journal_.c_str());
    throw;
  }
  ::close(fd);
  fsync_folder(folder);
}

void OutputSet::commit() {
  std::lock_guard lock(mutex_);
  write_journal();
  const long kill_after = fault_at("kill-after-rename"), fail_at = fault_at("rename-fails-at");
  std::vector<std::string> placed, waiting;
  for (size_t i = 0; i < order_.size(); ++i) {
    Entry& e = *order_[i];
    if (kill_after >= 0 && static_cast<long>(i) == kill_after) ::kill(::getpid(), SIGKILL);
    int rc = 0;
    if (fail_at == static_cast<long>(i) + 1) rc = -1, errno = EIO;
    else if (e.writer) {
      try {
        e.writer->put_in_place();
      } catch (const WriteError&) {
        rc = -1;
      }
    } else {
      rc = ::rename(e.temp.c_str(), e.target.c_str());
    }
    if (rc != 0) {
      const std::string why = std::strerror(errno);
      for (size_t j = i; j < order_.size(); ++j) waiting.push_back(order_[j]->target);
      // The journal names the rest: keep their temporaries for the next run.
      released_ = true;
      for (Entry& other : entries_) {
        if (other.placed) continue;
        if (other.writer) other.writer->release();
        else untrack_temporary(other.temp);
      }
      throw CommitError("cannot rename " + e.temp + " over '" + e.target + "': " + why + ". In place from this run: " +
                        list(placed) + ". Not in place (still as they were): " + list(waiting) +
                        ". Their complete new versions are kept beside them and named in " + journal_ +
                        ": the next `tamis run` writing there puts them in place (or delete them and the journal)");
    }
    e.placed = true;
    if (!e.writer) untrack_temporary(e.temp);
    placed.push_back(e.target);
  }
  std::set<std::string> folders;
  for (const Entry* e : order_) folders.insert(folder_of(e->target));
  for (const auto& f : folders) fsync_folder(f);
  if (!journal_.empty()) {
    ::unlink(journal_.c_str());
    fsync_folder(folder_of(journal_));
  }
}

std::vector<std::string> OutputSet::folders() const {
  std::set<std::string> out;
  for (const Entry& e : entries_) out.insert(folder_of(e.target));
  return {out.begin(), out.end()};
}

namespace {

// Names in `folder` (not "." and ".."); empty when it cannot be read.
std::vector<std::string> names_in(const std::string& folder) {
  std::vector<std::string> out;
  DIR* d = ::opendir(folder.c_str());
  if (!d) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> unique_folders(const std::vector<std::string>& folders) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& f : folders)
    if (seen.insert(absolute(f)).second) out.push_back(f);
  return out;
}

// The bytes of `path` (not through a link); empty when it cannot be read.
std::string read_text(const std::string& path) {
  std::string text;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return text;
}

// Finishes one journal's commit; the message for the user.
std::string recover(const std::string& journal, long pid) {
  const std::string text = read_text(journal);
  struct Pair {
    std::string temp, target;
  };
  std::vector<Pair> pairs;
  bool complete = false;
  size_t expected = 0;
  simdjson::dom::parser parser;
  size_t at = 0;
  while (at < text.size()) {
    const size_t nl = text.find('\n', at);
    if (nl == std::string::npos) break;  // a cut last line: the journal is not complete
    const std::string line = text.substr(at, nl - at);
    at = nl + 1;
    simdjson::dom::element e;
    if (parser.parse(line).get(e) != simdjson::SUCCESS) break;
    int64_t n = 0;
    std::string_view temp, target;
    if (e["tamis_commit"].error() == simdjson::SUCCESS) {
      if (e["files"].get(n) == simdjson::SUCCESS) expected = static_cast<size_t>(n);
    } else if (e["end"].get(n) == simdjson::SUCCESS) {
      complete = static_cast<size_t>(n) == pairs.size() && pairs.size() == expected;
      break;
    } else if (e["temp"].get(temp) == simdjson::SUCCESS && e["target"].get(target) == simdjson::SUCCESS) {
      pairs.push_back({std::string(temp), std::string(target)});
    } else {
      break;
    }
  }
  const std::string who = "a tamis run (pid " + std::to_string(pid) + ") that died while putting its outputs in place";
  if (!complete) {
    ::unlink(journal.c_str());
    return who + " had not renamed anything yet (its journal " + journal +
           " is incomplete): its outputs were never put in place, and its temporaries are removed";
  }
  std::vector<std::string> before, now, failed;
  std::set<std::string> folders;
  for (const Pair& p : pairs) {
    struct stat st;
    if (::lstat(p.temp.c_str(), &st) != 0) {
      before.push_back(p.target);  // renamed before the crash
      continue;
    }
    std::string why = S_ISREG(st.st_mode) ? target_problem(p.target) : "its temporary is not a regular file";
    if (why.empty() && ::rename(p.temp.c_str(), p.target.c_str()) != 0) why = std::strerror(errno);
    if (why.empty()) {
      now.push_back(p.target);
      folders.insert(folder_of(p.target));
    } else {
      failed.push_back(p.target + " (" + why + ")");
    }
  }
  for (const auto& f : folders) fsync_folder(f);
  std::string msg = who + " (journal " + journal + "): " + std::to_string(before.size()) + " of " +
                    std::to_string(pairs.size()) + " files were in place (" + list(before) + "); put in place now from its " +
                    "complete, checked temporaries: " + list(now);
  if (!failed.empty()) {
    msg += "; COULD NOT put in place: " + list(failed) + " (these still hold an older run's output; the journal is kept)";
    return msg;
  }
  ::unlink(journal.c_str());
  fsync_folder(folder_of(journal));
  return msg + ". Every output of that run is now whole and from that run";
}

}  // namespace

std::vector<std::string> recover_interrupted_commits(const std::vector<std::string>& folders) {
  std::vector<std::string> out;
  const std::string host = files::host_name_for_files();
  for (const auto& folder : unique_folders(folders)) {
    for (const auto& name : names_in(folder)) {
      if (name.rfind(kJournalPrefix, 0) != 0) continue;
      // ".tamis-commit-PID.HOST"
      const std::string rest = name.substr(sizeof kJournalPrefix - 1);
      const size_t dot = rest.find('.');
      if (dot == std::string::npos || dot == 0 || rest.find_first_not_of("0123456789") != dot) continue;
      const long pid = std::strtol(rest.c_str(), nullptr, 10);
      const std::string journal = (fs::path(folder) / name).string();
      if (rest.substr(dot + 1) != host) {
        out.push_back("left alone the commit journal " + journal + " of a tamis run on another machine (" + rest.substr(dot + 1) +
                      "): run tamis there to finish it");
        continue;
      }
      if (pid == ::getpid()) continue;
      if (alive(pid)) {
        out.push_back("another tamis process (pid " + std::to_string(pid) + ") is putting its outputs in place in " + folder);
        continue;
      }
      out.push_back(recover(journal, pid));
    }
  }
  return out;
}

std::vector<std::string> remove_stale_temporaries(const std::vector<std::string>& folders) {
  std::vector<std::string> removed;
  const std::string host = files::host_name_for_files();
  for (const auto& folder : unique_folders(folders)) {
    const std::vector<std::string> names = names_in(folder);
    // Temporaries a commit journal still names are the only copy of an output to be put in place.
    std::string journals;
    for (const auto& name : names)
      if (name.rfind(kJournalPrefix, 0) == 0) journals += read_text((fs::path(folder) / name).string());
    for (const auto& name : names) {
      files::TemporaryName t;
      if (!files::parse_temporary_name(name, t) || t.host != host || t.pid == ::getpid() || alive(t.pid)) continue;
      const std::string path = (fs::path(folder) / name).string();
      if (journals.find(json::quote(absolute(path))) != std::string::npos) continue;
      struct stat st;
      if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (::unlink(path.c_str()) == 0) removed.push_back(path);
    }
  }
  return removed;
}

}  // namespace tamis::io
