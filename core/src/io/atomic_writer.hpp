// Output files that appear whole or not at all.
//
// An AtomicWriter writes to a temporary file beside its target (".NAME.tamis-tmp-PID") and renames
// it over the target in commit(). Until then the target is untouched; abort(), the destructor, and
// the signal handler (remove_all_temporaries) delete the temporary. Compression follows the target's
// name: ".gz" → gzip, ".zst" → zstd, anything else → plain.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "io/byte_source.hpp"

namespace tamis::io {

class WriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct WriterAccess;

class AtomicWriter {
 public:
  // `level`: compression level, or -1 for the format's default (gzip 6, zstd 3).
  explicit AtomicWriter(const std::string& path, int level = -1);
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  void write(std::string_view bytes);
  // Finishes the stream, flushes it to disk and renames the temporary over the target.
  void commit();
  // Deletes the temporary; the target is left as it was.
  void abort();

  const std::string& path() const { return path_; }
  uint64_t bytes_in() const { return bytes_in_; }  // before compression

  class Encoder;  // gzip or zstd; public so that the encoders in the .cpp can derive from it

 private:
  friend struct WriterAccess;
  void write_raw(const char* data, size_t size);

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  std::unique_ptr<Encoder> encoder_;
  uint64_t bytes_in_ = 0;
  bool done_ = false;
};

// Deletes every temporary file still open. Safe to call from a signal handler (uses unlink only).
void remove_all_temporaries() noexcept;

}  // namespace tamis::io
