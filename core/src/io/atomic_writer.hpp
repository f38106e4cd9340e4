// Output files that appear whole or not at all, written by several threads at once.
//
// An AtomicWriter writes to a temporary file beside its target (".NAME.tamis-tmp-PID") and renames
// it over the target in commit(). Until then the target is untouched; abort(), the destructor, and
// the signal handler (remove_all_temporaries) delete the temporary.
//
// Writing is split so that only a cheap step is serial:
//   encode(bytes)           any thread: the bytes as they go to the file. For ".gz" a complete gzip
//                           member, for ".zst" a complete zstd frame (concatenated members/frames are
//                           valid gzip/zstd files, read by every decompressor); else the bytes as is.
//   reserve(size, raw)      in output order, one thread at a time: the file offset for them.
//   write_at(offset, data)  any thread: pwrite at that offset.
// write(bytes) does all three, for callers that write in order from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "io/byte_source.hpp"

namespace tamis::io {

class WriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class AtomicWriter {
 public:
  // `level`: compression level, or -1 for the format's default (gzip 6, zstd 3).
  explicit AtomicWriter(const std::string& path, int level = -1);
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  Compression compression() const { return compression_; }
  // Appends the encoded form of `bytes` to `out` (thread-safe).
  void encode(std::string_view bytes, std::string& out) const;
  uint64_t reserve(uint64_t encoded_size, uint64_t raw_size);
  void write_at(uint64_t offset, std::string_view data) const;
  void write_at(uint64_t offset, const std::vector<std::string_view>& pieces) const;  // pwritev
  void write(std::string_view bytes);

  // Flushes to disk and renames the temporary over the target.
  void commit();
  // Deletes the temporary; the target is left as it was.
  void abort();

  const std::string& path() const { return path_; }
  uint64_t bytes_in() const { return bytes_in_; }  // before compression

 private:
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  Compression compression_ = Compression::none;
  int level_ = -1;
  uint64_t next_offset_ = 0;
  uint64_t bytes_in_ = 0;
  bool done_ = false;
};

// Deletes every temporary file still open. Safe to call from a signal handler (uses unlink only).
void remove_all_temporaries() noexcept;

}  // namespace tamis::io
