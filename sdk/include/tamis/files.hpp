// Whole-file helpers for plugins that read or write side files (index files, cluster lists, reports,
// reference lists). Header-only, part of the SDK; errors are tamis::Error, which the host turns into a
// clear message naming the stage.
#pragma once

#include <tamis/sdk.hpp>
#include <tamis/temp_file.hpp>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

namespace tamis {

// Puts the temporary `temp` (written in full, fsynced and closed; made by files::create_temporary_beside)
// in place as `target`. In finish(), with a host that supports it, the host takes it and renames it
// with the run's other outputs once the counts are checked, as one set, or deletes it if the run fails
// (tamis_host_api::callback_commit_file): a run that fails leaves no side file changed. Elsewhere it is
// renamed now. In a dry run (Stage::dry_run) `temp` is deleted instead. `what` names the file in
// messages. Throws tamis::Error; `temp` is deleted on failure.
inline void put_in_place(const std::string& temp, const std::string& target, const std::string& what) {
  if (detail::dry_run_slot()) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    return;
  }
  const tamis_host_api* host = detail::host_slot();
  void* stage = detail::finishing_stage();
  if (stage && host && host->struct_size >= offsetof(tamis_host_api, callback_commit_file) + sizeof(void*) &&
      host->callback_commit_file) {
    tamis_error err{};
    if (host->callback_commit_file(stage, to_str(temp), to_str(target), &err) == TAMIS_OK) return;
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw Error("cannot write " + what + " '" + target + "': " + err.message);
  }
  std::error_code ec;
  std::filesystem::rename(temp, target, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw Error("cannot rename '" + temp + "' to " + what + " '" + target + "': " + ec.message());
  }
}

// Writes `bytes` to `path` atomically: a new temporary file beside it, fsynced, then put in place
// (put_in_place: in finish(), with the run's other outputs), so a reader never sees half a file
// (tamis/temp_file.hpp: never through a planted file or link, never over a device or FIFO, keeping the
// target's permissions). In a dry run (Stage::dry_run) nothing is written. `what` names the file in
// messages ("index file").
inline void write_file_atomically(const std::string& path, std::string_view bytes, const std::string& what) {
  if (detail::dry_run_slot()) return;
  files::Temporary t = files::create_temporary_beside(path);
  if (t.fd < 0) throw Error("cannot write " + what + ": " + t.error);
  const char* p = bytes.data();
  size_t left = bytes.size();
  bool ok = true;
  while (left > 0) {
    const ssize_t n = ::write(t.fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  ok = ok && ::fsync(t.fd) == 0;
  const bool closed = ::close(t.fd) == 0;
  if (!ok || !closed) {
    std::error_code ec;
    std::filesystem::remove(t.path, ec);
    throw Error("cannot write " + what + " '" + t.path + "' (disk full?)");
  }
  put_in_place(t.path, path, what);
}

// The whole content of `path`. Throws tamis::Error("cannot open <what> '<path>': ...").
inline std::string read_file(const std::string& path, const std::string& what) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error("cannot open " + what + " '" + path + "': " + std::strerror(errno));
  std::string buf;
  char chunk[1 << 16];
  for (size_t got; (got = std::fread(chunk, 1, sizeof chunk, f)) > 0;) buf.append(chunk, got);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw Error("cannot read " + what + " '" + path + "'");
  return buf;
}

}  // namespace tamis
