// Output files that appear whole or not at all, written by several threads at once.
//
// An AtomicWriter writes to a temporary file beside its target (".NAME.tamis-tmp-PID.HOST", see
// tamis/temp_file.hpp) and renames it over the target in commit() (or, for a run's outputs as a set,
// finish_writing() then put_in_place(): io/output_set.hpp). Until then the target is untouched; abort(), the destructor, and
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
#include <sys/types.h>
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

  // Flushes to disk and renames the temporary over the target: finish_writing() then put_in_place().
  void commit();
  // The first half of commit: completes the file (an empty compressed file gets one empty member or
  // frame), fsyncs and closes it, and checks that the temporary is still the regular file this writer
  // made and holds every byte written. Nothing is renamed. Throws WriteError.
  void finish_writing();
  // The second half: renames the temporary over the target. Throws WriteError.
  void put_in_place();
  // Deletes the temporary; the target is left as it was.
  void abort();
  // Leaves the finished temporary where it is, no longer this writer's to delete (a commit journal
  // names it: the next run puts it in place).
  void release();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }
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
  bool finished_ = false;
  dev_t dev_ = 0;  // the temporary as created
  ino_t ino_ = 0;
};

// Deletes every temporary file still registered (those of AtomicWriters and those given with
// track_temporary), unless outputs are being put in place (set_committing): then nothing, since the
// commit journal names them. Safe to call from a signal handler (atomics and unlink only).
void remove_all_temporaries() noexcept;
// Registers / unregisters a temporary made elsewhere (a plugin's side file the host now owns).
void track_temporary(const std::string& path);
void untrack_temporary(const std::string& path);
// Set while the outputs of a run are being put in place (the journal written, the renames): signal
// handlers must then let the commit finish instead of deleting temporaries and exiting.
void set_committing(bool on) noexcept;
bool committing() noexcept;

}  // namespace tamis::io
