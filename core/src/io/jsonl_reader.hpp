// The JSONL file reader: turns one file into chunks of lines, without copying them.
//
// Each chunk owns one buffer holding whole lines; a line cut by the end of a read is carried to the
// next chunk, and a line longer than the chunk grows the buffer (a 50 MB line works). Every line is
// followed in its buffer by at least kPadding readable bytes, so that simdjson can parse it in place.
// CRLF endings, a UTF-8 byte order mark at the start of the file and surrounding spaces are removed;
// blank lines are counted, not returned.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/byte_source.hpp"

namespace tamis::io {

constexpr size_t kPadding = 64;

// A reusable byte buffer with kPadding spare bytes past its capacity.
struct Buffer {
  std::unique_ptr<char[]> data;
  size_t capacity = 0;  // usable bytes, not counting the padding
};

// Hands out buffers and takes them back, so steady-state reading does not fault in fresh pages.
class BufferPool {
 public:
  explicit BufferPool(size_t buffer_size) : buffer_size_(buffer_size) {}
  Buffer get(size_t min_capacity);
  void put(Buffer buffer);

 private:
  size_t buffer_size_;
  std::mutex mutex_;
  std::vector<Buffer> free_;
};

struct Line {
  uint32_t offset;  // in the chunk's buffer
  uint32_t size;
  uint64_t number;  // 1-based line number in the file
};

struct LineChunk {
  Buffer buffer;
  std::vector<Line> lines;
  uint64_t blank_lines = 0;
  uint64_t bytes = 0;  // decompressed bytes this chunk covers, newlines included
  // Set when the file ended early (a truncated compressed stream): the message, and whether the last
  // entry of `lines` is the incomplete line it cut (else the cut fell between lines, at line
  // `truncated_line`).
  std::optional<std::string> truncated;
  bool last_line_partial = false;
  uint64_t truncated_line = 0;

  std::string_view text(const Line& l) const { return {buffer.data.get() + l.offset, l.size}; }
};

class JsonlFileReader {
 public:
  JsonlFileReader(const std::string& path, size_t chunk_size, BufferPool& pool);

  // Fills `chunk` (its buffer comes from the pool) with the next lines; false at the end of the file.
  bool next(LineChunk& chunk);
  uint64_t file_bytes_consumed() const { return source_->file_bytes_consumed(); }

 private:
  void split(LineChunk& chunk, size_t limit);

  std::string path_;
  size_t chunk_size_;
  BufferPool& pool_;
  std::unique_ptr<ByteSource> source_;
  std::string carry_;
  uint64_t line_number_ = 0;
  bool at_file_start_ = true;
  bool eof_ = false;
};

}  // namespace tamis::io
