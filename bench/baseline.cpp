// baseline: the raw simdjson floor that tamis is measured against.
//
//   baseline --in FILE --out FILE [--field NAME]
//   prints: records=N bytes=B seconds=S MBps=X        (MB = 10^6 bytes of input)
//
// It does the least a JSONL filter must do, on one thread: stream the input through a reused buffer in
// 4 MiB chunks, parse each chunk with simdjson's on-demand iterate_many, read one string field of every
// document, and write each document's original bytes plus "\n" to the output. Whatever tamis adds on top
// (stage graph, threads, annotations, ledger) shows up as the ratio to this number.
//
// Reading: a chunk is cut after its last newline; the partial line that follows is carried over to the
// next chunk. A line longer than the buffer makes the buffer grow until the line fits.
//
// Errors: like any on-demand reader, the fast path validates what it reads. When iterate_many reports an
// error, or a document is not exactly one object on one line, that line is re-read on its own with the
// fully validating DOM parser (kept if it is a valid object, counted and dropped if not) and the fast
// path resumes after it. Every step advances by at least one line, so a bad line cannot stall the loop.
// Counts of missing fields and dropped lines go to stderr.

#include <simdjson.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace {

constexpr std::size_t kChunkSize = std::size_t{4} << 20;  // bytes read per read() round
constexpr std::size_t kBatchSize = std::size_t{1} << 20;  // iterate_many batch (stage 1 granularity)

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// source() can include whitespace next to the document at batch boundaries.
std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "baseline: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

// True when only spaces, tabs or "\r" separate the end of `doc` from the next "\n" or from `end`.
bool ends_line(std::string_view doc, const char* end) {
  for (const char* p = doc.data() + doc.size(); p < end; ++p) {
    if (*p == '\n') return true;
    if (*p != ' ' && *p != '\t' && *p != '\r') return false;
  }
  return true;
}

// Buffered writer on a file descriptor.
class Output {
 public:
  explicit Output(const std::string& path) : path_(path), buffer_(new char[kCapacity]) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd_ < 0) fail("cannot open " + path);
  }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output() {
    if (fd_ >= 0) ::close(fd_);
  }

  void write_line(std::string_view line) {
    if (size_ + line.size() + 1 > kCapacity) {
      flush();
      if (line.size() + 1 > kCapacity) {  // larger than the whole buffer: write it directly
        write_all(line.data(), line.size());
        write_all("\n", 1);
        return;
      }
    }
    std::memcpy(buffer_.get() + size_, line.data(), line.size());
    size_ += line.size();
    buffer_[size_++] = '\n';
  }

  void close() {
    flush();
    if (::close(fd_) != 0) fail("cannot close " + path_);
    fd_ = -1;
  }

 private:
  static constexpr std::size_t kCapacity = std::size_t{4} << 20;

  void flush() {
    write_all(buffer_.get(), size_);
    size_ = 0;
  }

  void write_all(const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t n = ::write(fd_, data, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("cannot write " + path_);
      }
      data += n;
      size -= static_cast<std::size_t>(n);
    }
  }

  std::string path_;
  std::unique_ptr<char[]> buffer_;
  std::size_t size_ = 0;
  int fd_ = -1;
};

struct Counters {
  std::uint64_t records = 0;      // documents written
  std::uint64_t missing = 0;      // documents without the field as a string
  std::uint64_t field_bytes = 0;  // unescaped bytes of the field, summed (keeps the read observable)
  std::uint64_t dropped = 0;      // invalid lines, not written
};

class Baseline {
 public:
  Baseline(std::string field, Output& out) : field_(std::move(field)), out_(out) {
#ifdef SIMDJSON_THREADS_ENABLED
    // Debian builds simdjson with threads: iterate_many would then run stage 1 of the next batch on a
    // second thread. The baseline is the single-thread floor, so keep it on one.
    parser_.threaded = false;
#endif
  }

  const Counters& counters() const {
    return counters_;
  }

  // Processes `size` bytes of complete lines (the last may lack its "\n" at end of input). At least
  // SIMDJSON_PADDING readable bytes must follow data + size.
  void process(const char* data, std::size_t size) {
    std::size_t pos = 0;
    while (pos < size) {
      pos += fast_path(data + pos, size - pos);
      if (pos < size) pos = slow_path_one_line(data, pos, size);
    }
  }

 private:
  // Runs iterate_many over [data, data + size). Returns how many bytes were handled: up to the end of
  // the last document written, or `size` when everything went through.
  std::size_t fast_path(const char* data, std::size_t size) {
    simdjson::ondemand::document_stream stream;
    if (parser_.iterate_many(data, size, kBatchSize).get(stream) != simdjson::SUCCESS) return 0;
    std::size_t done = 0;
    for (auto it = stream.begin(); it != stream.end(); ++it) {
      simdjson::ondemand::document_reference doc;
      // A stream-level error (bad UTF-8, a document larger than a batch, ...). Leave the loop ourselves
      // rather than rely on operator++ to finish the stream.
      if ((*it).get(doc) != simdjson::SUCCESS) return done;
      // source() must be taken before the document is read: it walks the structure from the root.
      const std::string_view line = trim(it.source());
      // A record is one object on one line. Anything else goes to the slow path: a scalar or array
      // document (iterate_many reads "not json" as two documents), a document spanning lines (unbalanced
      // brackets earlier on), a document sharing its line with another one.
      if (line.empty() || line.front() != '{' || std::memchr(line.data(), '\n', line.size()) != nullptr ||
          !ends_line(line, data + size)) {
        return done;
      }

      std::string_view value;
      const simdjson::error_code error = doc.find_field_unordered(field_).get_string().get(value);
      if (error == simdjson::SUCCESS) {
        counters_.field_bytes += value.size();
      } else if (error == simdjson::NO_SUCH_FIELD || error == simdjson::INCORRECT_TYPE) {
        ++counters_.missing;
      } else {
        return done;  // malformed inside the part we read
      }
      out_.write_line(line);
      ++counters_.records;
      done = static_cast<std::size_t>(line.data() + line.size() - data);
    }
    // A truncated last document ends the stream quietly: hand whatever is left to the slow path.
    const std::string_view rest = trim(std::string_view(data + done, size - done));
    return rest.empty() ? size : done;
  }

  // Handles the first line that has content at or after `pos` with the validating DOM parser. Returns the
  // offset just past that line.
  std::size_t slow_path_one_line(const char* data, std::size_t pos, std::size_t size) {
    while (pos < size) {
      const char* newline = static_cast<const char*>(std::memchr(data + pos, '\n', size - pos));
      const std::size_t end = newline != nullptr ? static_cast<std::size_t>(newline - data) : size;
      const std::string_view line = trim(std::string_view(data + pos, end - pos));
      pos = end < size ? end + 1 : size;
      if (line.empty()) continue;

      simdjson::dom::element doc;
      if (dom_parser_.parse(line.data(), line.size(), true).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
        ++counters_.dropped;
        return pos;
      }
      std::string_view value;
      if (doc[field_].get_string().get(value) == simdjson::SUCCESS) {
        counters_.field_bytes += value.size();
      } else {
        ++counters_.missing;
      }
      out_.write_line(line);
      ++counters_.records;
      return pos;
    }
    return pos;
  }

  std::string field_;
  Output& out_;
  simdjson::ondemand::parser parser_;
  simdjson::dom::parser dom_parser_;
  Counters counters_;
};

// Reads `path` in chunks and hands complete lines to `baseline`. Returns the bytes read.
std::uint64_t stream_file(const std::string& path, Baseline& baseline) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail("cannot open " + path);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  std::size_t capacity = 2 * kChunkSize;
  std::unique_ptr<char[]> buffer(new char[capacity + simdjson::SIMDJSON_PADDING]);
  std::size_t filled = 0;  // bytes in buffer: the carried partial line, then new data
  std::uint64_t total = 0;
  bool first_read = true;

  for (;;) {
    if (filled + kChunkSize > capacity) {  // the carried line is longer than a chunk: grow
      capacity = std::max(2 * capacity, filled + kChunkSize);
      std::unique_ptr<char[]> bigger(new char[capacity + simdjson::SIMDJSON_PADDING]);
      std::memcpy(bigger.get(), buffer.get(), filled);
      buffer = std::move(bigger);
    }
    const ssize_t n = ::read(fd, buffer.get() + filled, kChunkSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot read " + path);
    }
    if (n == 0) {  // end of input: the rest is the last line, possibly without "\n"
      if (filled > 0) baseline.process(buffer.get(), filled);
      break;
    }
    total += static_cast<std::uint64_t>(n);
    std::size_t old_filled = filled;
    filled += static_cast<std::size_t>(n);
    if (first_read) {
      first_read = false;
      if (filled >= 3 && std::memcmp(buffer.get(), "\xEF\xBB\xBF", 3) == 0) {  // UTF-8 byte order mark
        std::memmove(buffer.get(), buffer.get() + 3, filled - 3);
        filled -= 3;
        old_filled = 0;
      }
    }
    // The carried bytes hold no newline, so the last newline, if any, is in the new data.
    const void* last = ::memrchr(buffer.get() + old_filled, '\n', filled - old_filled);
    if (last == nullptr) continue;
    const std::size_t complete = static_cast<std::size_t>(static_cast<const char*>(last) - buffer.get()) + 1;
    baseline.process(buffer.get(), complete);
    std::memmove(buffer.get(), buffer.get() + complete, filled - complete);
    filled -= complete;
  }
  ::close(fd);
  return total;
}

[[noreturn]] void usage(const char* message) {
  std::fprintf(stderr, "baseline: %s\nusage: baseline --in FILE --out FILE [--field NAME]\n", message);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string in, out, field = "problem";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") usage("reads one field of every JSONL record and copies the records");
    if (i + 1 >= argc) usage("missing value after an option");
    if (arg == "--in") {
      in = argv[++i];
    } else if (arg == "--out") {
      out = argv[++i];
    } else if (arg == "--field") {
      field = argv[++i];
    } else {
      usage("unknown option");
    }
  }
  if (in.empty() || out.empty()) usage("--in and --out are required");

  const auto started = std::chrono::steady_clock::now();
  Output output(out);
  Baseline baseline(field, output);
  const std::uint64_t bytes = stream_file(in, baseline);
  output.close();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const Counters& c = baseline.counters();
  std::printf("records=%llu bytes=%llu seconds=%.3f MBps=%.1f\n", static_cast<unsigned long long>(c.records),
              static_cast<unsigned long long>(bytes), seconds,
              seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0.0);
  if (c.missing > 0 || c.dropped > 0) {
    std::fprintf(stderr, "baseline: field '%s' missing or not a string in %llu records; %llu invalid lines dropped\n",
                 field.c_str(), static_cast<unsigned long long>(c.missing), static_cast<unsigned long long>(c.dropped));
  }
  return 0;
}
