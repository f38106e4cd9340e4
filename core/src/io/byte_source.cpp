#include "io/byte_source.hpp"

#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <string_view>
#include <vector>

namespace tamis::io {

static bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Compression compression_from_name(const std::string& path) {
  if (ends_with(path, ".gz")) return Compression::gzip;
  if (ends_with(path, ".zst") || ends_with(path, ".zstd")) return Compression::zstd;
  return Compression::none;
}

namespace {

// A file descriptor read with read(2), no stdio buffering in between.
class FileReader {
 public:
  explicit FileReader(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw ReadError(path + ": cannot open: " + std::strerror(errno));
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  }
  ~FileReader() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  size_t read(char* dst, size_t n) {
    while (true) {
      const ssize_t got = ::read(fd_, dst, n);
      if (got >= 0) {
        consumed_ += static_cast<uint64_t>(got);
        return static_cast<size_t>(got);
      }
      if (errno != EINTR) throw ReadError(path_ + ": read failed: " + std::strerror(errno));
    }
  }
  uint64_t consumed() const { return consumed_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t consumed_ = 0;
};

class PlainSource final : public ByteSource {
 public:
  explicit PlainSource(const std::string& path) : file_(path) {}
  size_t read(char* dst, size_t n) override { return file_.read(dst, n); }
  uint64_t file_bytes_consumed() const override { return file_.consumed(); }

 private:
  FileReader file_;
};

constexpr size_t kCompressedChunk = 1 << 18;

// The first bytes of a file whose name says it is compressed: an empty file, or one that does not
// start like the format's signature (compared on the bytes there are), is not a
// stream of that format at all. That is a file-level error (no line to blame, whatever on_error says),
// not a cut stream.
void check_signature(const std::string& path, const std::string& format, const char* head, size_t got,
                     std::string_view signature) {
  if (got == 0) {
    throw ReadError(path + ": the file is empty: not a " + format +
                    " stream (even no data compresses to a few bytes), so it was cut short or never written; "
                    "recreate it, or remove it from the source");
  }
  for (size_t i = 0; i < signature.size() && i < got; ++i) {
    if (head[i] != signature[i]) {
      throw ReadError(path + ": not " + format + " data (the name says " + format +
                      " but the file does not start with its signature): compress it with " + format +
                      ", or rename it to match its format");
    }
  }
}

// gzip, including files of several concatenated gzip members (as `cat a.gz b.gz` makes).
class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(const std::string& path) : file_(path), in_(kCompressedChunk) {
    std::memset(&zs_, 0, sizeof zs_);
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) throw ReadError(path + ": cannot initialise zlib");
  }
  ~GzipSource() override { inflateEnd(&zs_); }

  size_t read(char* dst, size_t n) override {
    zs_.next_out = reinterpret_cast<Bytef*>(dst);
    zs_.avail_out = static_cast<uInt>(n);
    while (zs_.avail_out == n) {
      if (zs_.avail_in == 0 && !eof_) {
        const bool first = file_.consumed() == 0;
        const size_t got = file_.read(in_.data(), in_.size());
        if (got == 0) eof_ = true;
        if (first) check_signature(file_.path(), "gzip", in_.data(), got, "\x1f\x8b");
        zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
        zs_.avail_in = static_cast<uInt>(got);
      }
      if (eof_ && zs_.avail_in == 0 && !in_member_) return 0;  // clean end after a complete member
      in_member_ = true;
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        in_member_ = false;
        inflateReset(&zs_);  // another member may follow
        continue;
      }
      if (rc == Z_BUF_ERROR && eof_ && zs_.avail_out == n) {
        // No input left, no output made, and the member has not ended.
        throw TruncatedError(file_.path() +
                             ": gzip stream truncated (unexpected end of file): the file is incomplete or "
                             "damaged");
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw ReadError(file_.path() + ": gzip data is corrupt (" + (zs_.msg ? zs_.msg : "zlib error") + ")");
      }
    }
    return n - zs_.avail_out;
  }
  uint64_t file_bytes_consumed() const override { return file_.consumed() - zs_.avail_in; }

 private:
  FileReader file_;
  std::vector<char> in_;
  z_stream zs_;
  bool in_member_ = false;
  bool eof_ = false;
};

class ZstdSource final : public ByteSource {
 public:
  explicit ZstdSource(const std::string& path) : file_(path), in_(ZSTD_DStreamInSize()) {
    ds_ = ZSTD_createDStream();
    if (!ds_) throw ReadError(path + ": cannot initialise zstd");
    ZSTD_initDStream(ds_);
  }
  ~ZstdSource() override { ZSTD_freeDStream(ds_); }

  size_t read(char* dst, size_t n) override {
    ZSTD_outBuffer out{dst, n, 0};
    while (out.pos == 0) {
      if (input_.pos == input_.size && !eof_) {
        const bool first = file_.consumed() == 0;
        const size_t got = file_.read(in_.data(), in_.size());
        if (got == 0) eof_ = true;
        if (first) {  // magic numbers, little-endian: a frame 0xFD2FB528 (0xFD2FB51E-27: formats before
                      // zstd 0.8), or a skippable frame 0x184D2A50-5F
          const unsigned char b0 = got > 0 ? static_cast<unsigned char>(in_[0]) : 0;
          char sig[4] = {'\x28', '\xb5', '\x2f', '\xfd'};
          if ((b0 & 0xF0) == 0x50) sig[1] = '\x2a', sig[2] = '\x4d', sig[3] = '\x18';
          if ((b0 & 0xF0) == 0x50 || (b0 >= 0x1E && b0 <= 0x27)) sig[0] = static_cast<char>(b0);
          check_signature(file_.path(), "zstd", in_.data(), got, std::string_view(sig, 4));
        }
        input_ = ZSTD_inBuffer{in_.data(), got, 0};
      }
      if (eof_ && input_.pos == input_.size && last_hint_ == 0) return 0;  // every frame complete
      last_hint_ = ZSTD_decompressStream(ds_, &out, &input_);
      if (ZSTD_isError(last_hint_)) {
        throw ReadError(file_.path() + ": zstd data is corrupt (" + ZSTD_getErrorName(last_hint_) + ")");
      }
      if (eof_ && out.pos == 0 && last_hint_ != 0) {
        throw TruncatedError(file_.path() +
                             ": zstd stream truncated (unexpected end of file): the file is incomplete or "
                             "damaged");
      }
    }
    return out.pos;
  }
  uint64_t file_bytes_consumed() const override { return file_.consumed() - (input_.size - input_.pos); }

 private:
  FileReader file_;
  std::vector<char> in_;
  ZSTD_DStream* ds_ = nullptr;
  ZSTD_inBuffer input_{nullptr, 0, 0};
  size_t last_hint_ = 0;
  bool eof_ = false;
};

}  // namespace

std::unique_ptr<ByteSource> open_byte_source(const std::string& path) {
  switch (compression_from_name(path)) {
    case Compression::gzip: return std::make_unique<GzipSource>(path);
    case Compression::zstd: return std::make_unique<ZstdSource>(path);
    default: return std::make_unique<PlainSource>(path);
  }
}

}  // namespace tamis::io
