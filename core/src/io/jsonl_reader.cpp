#include "io/jsonl_reader.hpp"

#include <cstdint>
#include <cstring>

namespace tamis::io {

Buffer BufferPool::get(size_t min_capacity) {
  {
    std::lock_guard lock(mutex_);
    for (size_t i = free_.size(); i-- > 0;) {
      if (free_[i].capacity >= min_capacity) {
        Buffer b = std::move(free_[i]);
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
        return b;
      }
    }
  }
  Buffer b;
  b.capacity = std::max(min_capacity, buffer_size_);
  b.data.reset(new char[b.capacity + kPadding]);
  std::memset(b.data.get() + b.capacity, 0, kPadding);
  return b;
}

void BufferPool::put(Buffer buffer) {
  if (!buffer.data) return;
  if (buffer.capacity > 4 * buffer_size_) return;  // a huge-line buffer is not kept around
  std::lock_guard lock(mutex_);
  if (free_.size() < 64) free_.push_back(std::move(buffer));
}

JsonlFileReader::JsonlFileReader(const std::string& path, size_t chunk_size, BufferPool& pool)
    : path_(path), chunk_size_(chunk_size), pool_(pool), source_(open_byte_source(path)) {}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void JsonlFileReader::split(LineChunk& chunk, size_t limit) {
  // Every segment of [0, limit) ended by a newline or by `limit` is a line.
  char* buf = chunk.buffer.data.get();
  size_t pos = 0;
  while (pos < limit) {
    const void* nl = std::memchr(buf + pos, '\n', limit - pos);
    const size_t line_end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - buf) : limit;
    ++line_number_;
    size_t a = pos, b = line_end;
    if (at_file_start_) {
      at_file_start_ = false;
      if (b - a >= 3 && std::memcmp(buf + a, "\xEF\xBB\xBF", 3) == 0) a += 3;
    }
    while (a < b && is_space(buf[a])) ++a;
    while (b > a && is_space(buf[b - 1])) --b;
    if (b > UINT32_MAX) {
      throw ReadError(path_ + ":" + std::to_string(line_number_) + ": line longer than 4 GiB; split the file into records");
    }
    if (a == b) {
      ++chunk.blank_lines;
    } else {
      chunk.lines.push_back(Line{static_cast<uint32_t>(a), static_cast<uint32_t>(b - a), line_number_});
    }
    pos = line_end + 1;
  }
}

bool JsonlFileReader::next(LineChunk& chunk) {
  chunk.lines.clear();
  chunk.blank_lines = 0;
  chunk.bytes = 0;
  chunk.truncated.reset();
  chunk.last_line_partial = false;
  if (eof_ && carry_.empty()) return false;

  chunk.buffer = pool_.get(std::max(chunk_size_, carry_.size() * 2));
  size_t size = carry_.size();
  std::memcpy(chunk.buffer.data.get(), carry_.data(), carry_.size());
  carry_.clear();
  size_t scanned = 0;  // bytes before this offset hold no newline

  while (true) {
    // Fill the buffer.
    while (!eof_ && size < chunk.buffer.capacity) {
      size_t got = 0;
      try {
        got = source_->read(chunk.buffer.data.get() + size, chunk.buffer.capacity - size);
      } catch (const TruncatedError& e) {
        eof_ = true;
        chunk.truncated = e.what();
        break;
      }
      if (got == 0) {
        eof_ = true;
        break;
      }
      size += got;
    }
    // Cut after the last newline.
    char* buf = chunk.buffer.data.get();
    size_t last_nl = std::string::npos;
    for (size_t i = size; i > scanned; --i) {
      if (buf[i - 1] == '\n') {
        last_nl = i - 1;
        break;
      }
    }
    if (last_nl != std::string::npos && !eof_) {
      carry_.assign(buf + last_nl + 1, size - last_nl - 1);
      split(chunk, last_nl + 1);
      chunk.bytes = last_nl + 1;
      return true;
    }
    if (eof_) {
      split(chunk, size);
      chunk.bytes = size;
      if (chunk.truncated) {
        // Bytes after the last newline, if any, are the line the truncation cut.
        const bool ends_in_newline = size == 0 || buf[size - 1] == '\n';
        chunk.last_line_partial =
            !ends_in_newline && !chunk.lines.empty() && chunk.lines.back().number == line_number_;
        chunk.truncated_line = chunk.last_line_partial ? line_number_ : line_number_ + 1;
      }
      return size > 0 || chunk.truncated.has_value();
    }
    // No newline in a full buffer: the line is longer than the buffer, grow it.
    scanned = size;
    Buffer bigger = pool_.get(chunk.buffer.capacity * 2);
    std::memcpy(bigger.data.get(), buf, size);
    pool_.put(std::move(chunk.buffer));
    chunk.buffer = std::move(bigger);
  }
}

}  // namespace tamis::io
