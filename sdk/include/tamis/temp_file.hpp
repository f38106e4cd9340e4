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
// Names: ".NAME.tamis-tmp-PID" (then "-2", "-3", ... on collisions): recognisable as tamis's.
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
  for (int attempt = 1; attempt <= 100; ++attempt) {
    t.path = attempt == 1 ? base : base + "-" + std::to_string(attempt);
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
