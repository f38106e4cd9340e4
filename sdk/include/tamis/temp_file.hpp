// Creating the temporary file that an output is written to before it is renamed over its target, so
// that the output appears whole or not at all. Shared by the host's sinks and the SDK's side-file
// helper (files.hpp); plain POSIX and the standard library, no other SDK header.
//
//     tamis::files::Temporary t = tamis::files::create_temporary_beside("out/kept.jsonl");
//     if (t.fd < 0) fail(t.error);     // ... write to t.fd, fsync, close, rename(t.path, target)
//
// What it guarantees:
//   - the target, when it exists, is a regular file (or a link to one): a device, FIFO, socket or
//     directory is refused, never replaced (renaming over /dev/null would replace the system's);
//   - the temporary is a new file: created with O_EXCL | O_NOFOLLOW in the target's folder, so a file
//     or symbolic link planted under its name is never opened, followed or truncated; on a name
//     collision another name is tried;
//   - it has the target's permission bits when the target exists (a rerun keeps a 0600 output 0600),
//     else 0644 less the umask.
// Names: ".NAME.tamis-tmp-PID.HOST" (then ".NAME.tamis-tmp-PID-2.HOST", "-3", ... on collisions):
// recognisable as tamis's, and by whom they were made, so that a later run can remove those of a process
// that died (parse_temporary_name; the host's stale-temporary cleanup). The host name keeps runs on
// other machines of a shared file system apart: a PID is only known to be dead on its own machine.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace tamis::files {

struct Temporary {
  int fd = -1;        // open for writing; -1 on failure
  std::string path;   // the temporary's path
  std::string error;  // on failure: why, naming the target
};

// What kind of file `mode` is, for messages ("a character device").
inline const char* file_kind(mode_t mode) {
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  return "not a regular file";
}

// This machine's name as it goes in temporaries' names: letters, digits, '-' and '_' only (others
// become '_'), at most 64 characters; "localhost" when it has none.
inline std::string host_name_for_files() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string out;
  for (const char* p = buf; *p && out.size() < 64; ++p) {
    const char c = *p;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

// A temporary's file name taken apart: the target's file name, the PID and host that made it.
struct TemporaryName {
  std::string target;  // file name of the target (no folder)
  long pid = 0;
  std::string host;
};

// Whether `file_name` (no folder) is the name of a temporary made by create_temporary_beside; then
// what it says. Names of older tamis versions (no host) are not recognised, so never removed.
inline bool parse_temporary_name(const std::string& file_name, TemporaryName& out) {
  static constexpr char kMark[] = ".tamis-tmp-";
  if (file_name.size() < 2 || file_name[0] != '.') return false;
  const size_t at = file_name.rfind(kMark);
  if (at == std::string::npos || at < 2) return false;
  size_t i = at + sizeof kMark - 1;
  auto digits = [&](long& value) {
    const size_t start = i;
    value = 0;
    while (i < file_name.size() && file_name[i] >= '0' && file_name[i] <= '9' && i - start < 10)
      value = value * 10 + (file_name[i++] - '0');
    return i > start;
  };
  long pid = 0, attempt = 0;
  if (!digits(pid) || pid <= 0) return false;
  if (i < file_name.size() && file_name[i] == '-' && !(++i, digits(attempt))) return false;
  if (i >= file_name.size() || file_name[i] != '.' || i + 1 >= file_name.size()) return false;
  out.target = file_name.substr(1, at - 1);
  out.pid = pid;
  out.host = file_name.substr(i + 1);
  return out.host.find('/') == std::string::npos;
}

inline Temporary create_temporary_beside(const std::string& target) {
  Temporary t;
  struct stat st;
  const bool exists = ::stat(target.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    t.error = "'" + target + "' is " + file_kind(st.st_mode) +
              ", not a regular file: outputs are written beside their target and renamed over it, which would "
              "replace it; name a regular file";
    return t;
  }
  const size_t slash = target.rfind('/');
  const std::string dir = slash == std::string::npos ? std::string() : target.substr(0, slash + 1);
  const std::string name = slash == std::string::npos ? target : target.substr(slash + 1);
  std::string base = dir;  // built piece by piece: GCC 12 -O3 warns falsely (-Wrestrict) on "." + s
  base += '.';
  base += name;
  base += ".tamis-tmp-";
  base += std::to_string(::getpid());
  const std::string host = "." + host_name_for_files();
  for (int attempt = 1; attempt <= 100; ++attempt) {
    t.path = attempt == 1 ? base + host : base + "-" + std::to_string(attempt) + host;
    t.fd = ::open(t.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (t.fd >= 0) break;
    if (errno != EEXIST) {
      t.error = "cannot create " + t.path + " (the temporary for '" + target + "'): " + std::strerror(errno);
      return t;
    }
  }
  if (t.fd < 0) {
    t.error = "cannot create a temporary for '" + target + "': 100 names taken (" + base + "...)";
    return t;
  }
  if (exists && ::fchmod(t.fd, st.st_mode & 07777) != 0) {
    t.error = "cannot give " + t.path + " the permissions of '" + target + "': " + std::strerror(errno);
    ::close(t.fd);
    ::unlink(t.path.c_str());
    t.fd = -1;
  }
  return t;
}

}  // namespace tamis::files
