#include "io/jsonl_reader.hpp"

#include <algorithm>
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

// The first fill of a file: small, so that a file of tiny lines does not start with a buffer of
// lines mostly carried from chunk to chunk; it doubles while chunks end for want of data.
constexpr size_t kFirstFill = 64 << 10;

JsonlFileReader::JsonlFileReader(const std::string& path, const ReaderLimits& limits, BufferPool& pool)
    : path_(path),
      limits_(limits),
      pool_(pool),
      source_(open_byte_source(path)),
      fill_target_(std::min(limits.chunk_bytes, kFirstFill)) {
  limits_.max_line_bytes = std::clamp<size_t>(limits_.max_line_bytes, 1, kMaxMaxLineBytes);
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static bool has_bom(const char* p, size_t n) { return n >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0; }

size_t JsonlFileReader::split(LineChunk& chunk, size_t limit) {
  // Every segment of [0, limit) ended by a newline or by `limit` is a line, until the chunk's budget
  // (bytes plus line_cost per line) is spent; returns where the lines taken end.
  char* buf = chunk.buffer.data.get();
  size_t pos = 0;
  while (pos < limit) {
    const void* nl = std::memchr(buf + pos, '\n', limit - pos);
    const size_t line_end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - buf) : limit;
    ++line_number_;
    size_t a = pos, b = line_end;
    if (at_file_start_) {
      at_file_start_ = false;
      if (has_bom(buf + a, b - a)) a += 3;
    }
    if (line_end - pos > limits_.max_line_bytes) {
      // Too long: the same entry as when it is met growing the buffer (long_line).
      const size_t kept_end = pos + kept_of_long_line();
      chunk.long_lines.push_back({chunk.lines.size(), line_end - pos});
      chunk.lines.push_back(Line{static_cast<uint32_t>(a), static_cast<uint32_t>(kept_end - std::min(a, kept_end)), line_number_});
    } else {
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
    }
    pos = line_end + 1;
    if (limits_.line_cost && pos < limit &&
        pos + chunk.lines.size() * limits_.line_cost >= limits_.chunk_bytes) {
      break;
    }
  }
  return std::min(pos, limit);
}

// One read from the source into `dst`: the bytes read, or 0 at the end of the file (a truncated
// stream ends it too, with its message kept in truncated_).
size_t JsonlFileReader::read_from_source(char* dst, size_t n) {
  size_t got = 0;
  try {
    got = source_->read(dst, n);
  } catch (const TruncatedError& e) {
    truncated_ = e.what();
  }
  if (got == 0) eof_ = true;
  return got;
}

// Reads into the chunk's buffer until it holds `want` bytes or the file ends.
void JsonlFileReader::read_some(LineChunk& chunk, size_t& size, size_t want) {
  while (!eof_ && size < want) size += read_from_source(chunk.buffer.data.get() + size, want - size);
}

// The buffer holds [0, size): the start of one line, no newline, longer than the maximum. Keeps its
// first bytes as the chunk's only line, flagged long; reads the rest of the line and drops it.
void JsonlFileReader::long_line(LineChunk& chunk, size_t size) {
  ++line_number_;
  char* buf = chunk.buffer.data.get();
  size_t a = 0;
  if (at_file_start_) {
    at_file_start_ = false;
    if (has_bom(buf, size)) a = 3;
  }
  const size_t kept = kept_of_long_line() - std::min(a, kept_of_long_line());
  Buffer small = pool_.get(std::max(kept, limits_.chunk_bytes));
  std::memcpy(small.data.get(), buf + a, kept);
  uint64_t length = size;
  bool ended = false;  // by a newline
  // Read the rest in pieces of at most a chunk into the old buffer, keeping what follows the newline.
  const size_t piece = std::min(chunk.buffer.capacity, std::max<size_t>(limits_.chunk_bytes, 4096));
  while (!eof_ && !ended) {
    const size_t got = read_from_source(buf, piece);
    if (got == 0) break;
    const void* nl = std::memchr(buf, '\n', got);
    if (!nl) {
      length += got;
      continue;
    }
    const size_t at = static_cast<size_t>(static_cast<const char*>(nl) - buf);
    length += at;
    carry_.assign(buf + at + 1, got - at - 1);
    ended = true;
  }
  pool_.put(std::move(chunk.buffer));
  chunk.buffer = std::move(small);
  chunk.lines.push_back(Line{0, static_cast<uint32_t>(kept), line_number_});
  chunk.long_lines.push_back({0, length});
  chunk.bytes = length + (ended ? 1 : 0);
  if (eof_ && carry_.empty() && truncated_) {
    chunk.truncated = std::move(truncated_);
    truncated_.reset();
    chunk.last_line_partial = true;
    chunk.truncated_line = line_number_;
  }
}

bool JsonlFileReader::next(LineChunk& chunk) {
  chunk.reset();
  if (eof_ && carry_.empty() && !truncated_) return false;

  chunk.buffer = pool_.get(carry_.size() <= limits_.chunk_bytes ? limits_.chunk_bytes : carry_.size() * 2);
  size_t size = carry_.size();
  std::memcpy(chunk.buffer.data.get(), carry_.data(), carry_.size());
  carry_.clear();
  size_t scanned = 0;  // bytes before this offset hold no newline
  size_t want = std::min(chunk.buffer.capacity, std::max(fill_target_, size));

  while (true) {
    read_some(chunk, size, want);
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
      const size_t end = split(chunk, last_nl + 1);
      carry_.assign(buf + end, size - end);
      chunk.bytes = end;
      // Next time, read about what this chunk could take: a little more than `end` when its budget
      // cut it, else up to twice as much (the whole buffer at most).
      fill_target_ = end < last_nl + 1 ? end + end / 8 + 1 : std::min(limits_.chunk_bytes, std::max(fill_target_, size) * 2);
      return true;
    }
    if (eof_) {
      const size_t end = split(chunk, size);
      chunk.bytes = end;
      if (end < size) {  // the budget cut it: the rest is for the next chunks
        carry_.assign(buf + end, size - end);
        return true;
      }
      if (truncated_) {
        chunk.truncated = std::move(truncated_);
        truncated_.reset();
        // Bytes after the last newline, if any, are the line the truncation cut.
        const bool ends_in_newline = size == 0 || buf[size - 1] == '\n';
        chunk.last_line_partial =
            !ends_in_newline && !chunk.lines.empty() && chunk.lines.back().number == line_number_;
        chunk.truncated_line = chunk.last_line_partial ? line_number_ : line_number_ + 1;
      }
      return size > 0 || chunk.truncated.has_value();
    }
    scanned = size;
    if (size < chunk.buffer.capacity) {
      // Read on, a chunk at a time, so that little follows the newline of a long line.
      want = std::min(chunk.buffer.capacity, size + limits_.chunk_bytes);
      continue;
    }
    // No newline in a full buffer: a line longer than the buffer.
    if (size > limits_.max_line_bytes) {
      long_line(chunk, size);
      return true;
    }
    // Grow the buffer, to at most one byte more than the maximum line.
    Buffer bigger = pool_.get(std::min(chunk.buffer.capacity * 2, limits_.max_line_bytes + 1));
    std::memcpy(bigger.data.get(), buf, size);
    pool_.put(std::move(chunk.buffer));
    chunk.buffer = std::move(bigger);
    want = std::min(chunk.buffer.capacity, size + limits_.chunk_bytes);
  }
}

}  // namespace tamis::io
