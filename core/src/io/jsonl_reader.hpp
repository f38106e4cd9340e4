// The JSONL file reader: turns one file into chunks of lines, without copying them.
//
// Each chunk owns one buffer holding whole lines; a line cut by the end of a read is carried to the
// next chunk, and a line longer than the chunk grows the buffer (a 50 MB line works) up to the
// reader's maximum line size. A longer line is never buffered whole: its first bytes (the maximum
// line size or kLongLineKept, whichever is smaller) are returned as a line flagged in
// LineChunk::long_lines with its full length, and the rest of it is read and dropped, so that a
// decompression bomb of one endless line costs a few times the maximum line size. Every line is followed in its buffer by at least kPadding readable bytes,
// so that simdjson can parse it in place. CRLF endings, a UTF-8 byte order mark at the start of the
// file and surrounding spaces are removed; blank lines are counted, not returned.
//
// A chunk ends when its bytes plus `line_cost` per line reach the chunk size, so that a chunk of
// tiny lines does not hold more lines than the engine's per-line tables can afford: the chunk size
// bounds the bytes of input plus the tables of a batch, whatever the record size.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/byte_source.hpp"
#include "io/chunk_reader.hpp"

namespace tamis::io {

constexpr size_t kPadding = 64;
// The default maximum line size (a source's `max_line_bytes`).
constexpr size_t kDefaultMaxLineBytes = size_t{64} << 20;
// The largest maximum line size (line offsets and sizes are 32-bit).
constexpr size_t kMaxMaxLineBytes = size_t{1} << 31;
// Bytes kept of a line longer than the maximum: the text of its error entry.
constexpr size_t kLongLineKept = size_t{1} << 20;

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

// A line longer than the maximum: lines[index] holds only its first bytes.
struct LongLine {
  size_t index;     // in LineChunk::lines
  uint64_t length;  // bytes of the whole line, its newline excluded
};

struct LineChunk {
  Buffer buffer;
  std::vector<Line> lines;
  std::vector<LongLine> long_lines;  // in line order
  uint64_t blank_lines = 0;
  uint64_t bytes = 0;  // decompressed bytes this chunk covers, newlines included
  // Set when the file ended early (a truncated compressed stream): the message, and whether the last
  // entry of `lines` is the incomplete line it cut (else the cut fell between lines, at line
  // `truncated_line`).
  std::optional<std::string> truncated;
  bool last_line_partial = false;
  uint64_t truncated_line = 0;

  std::string_view text(const Line& l) const { return {buffer.data.get() + l.offset, l.size}; }
  // Empties everything but the buffer, for the next fill.
  void reset() {
    lines.clear();
    long_lines.clear();
    blank_lines = 0;
    bytes = 0;
    truncated.reset();
    last_line_partial = false;
    truncated_line = 0;
  }
};

struct ReaderLimits {
  size_t chunk_bytes = 4 << 20;                      // a chunk's bytes plus line_cost per line
  size_t max_line_bytes = kDefaultMaxLineBytes;      // a longer line becomes a LongLine
  size_t line_cost = 0;                              // what a line costs its chunk beyond its bytes
};

class JsonlFileReader final : public ChunkReader {
 public:
  JsonlFileReader(const std::string& path, const ReaderLimits& limits, BufferPool& pool);

  // Fills `chunk` (its buffer comes from the pool) with the next lines; false at the end of the file.
  bool next(LineChunk& chunk) override;
  uint64_t file_bytes_consumed() const override { return source_->file_bytes_consumed(); }
  // Lines started so far (blank ones included): the line being read when an allocation fails is
  // the next one.
  uint64_t lines_started() const override { return line_number_; }

 private:
  size_t split(LineChunk& chunk, size_t limit);
  void long_line(LineChunk& chunk, size_t size);
  void read_some(LineChunk& chunk, size_t& size, size_t want);
  size_t read_from_source(char* dst, size_t n);
  // Bytes kept of a line over the maximum, counted from its start (a byte order mark is then removed):
  // the same whatever the chunk size.
  size_t kept_of_long_line() const { return std::min(limits_.max_line_bytes, kLongLineKept); }

  std::string path_;
  ReaderLimits limits_;
  BufferPool& pool_;
  std::unique_ptr<ByteSource> source_;
  std::string carry_;
  size_t fill_target_;  // bytes to have in the buffer before cutting: adapts to the line length
  std::optional<std::string> truncated_;  // the stream ended early: for the chunk that reaches the end
  uint64_t line_number_ = 0;
  bool at_file_start_ = true;
  bool eof_ = false;
};

}  // namespace tamis::io
