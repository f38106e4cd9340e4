// Whole-file helpers for plugins that read or write side files (index files, cluster lists, reports,
// reference lists). Header-only, part of the SDK; errors are tamis::Error, which the host turns into a
// clear message naming the stage.
#pragma once

#include <tamis/sdk.hpp>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

namespace tamis {

// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename over it, so a reader
// never sees half a file. `what` names the file in messages ("index file").
inline void write_file_atomically(const std::string& path, std::string_view bytes, const std::string& what) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error("cannot write " + what + " '" + tmp + "': " + std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0;
  const bool closed = std::fclose(f) == 0;
  std::error_code ec;
  if (!ok || !closed) {
    std::filesystem::remove(tmp, ec);
    throw Error("cannot write " + what + " '" + tmp + "' (disk full?)");
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw Error("cannot rename '" + tmp + "' to " + what + " '" + path + "': " + ec.message());
  }
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
