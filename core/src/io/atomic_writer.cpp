#include "io/atomic_writer.hpp"

#include <zlib.h>
#include <zstd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>
#include <vector>

namespace tamis::io {

namespace {

// Temporaries in flight, as fixed C strings so that a signal handler can unlink them.
constexpr size_t kMaxTemporaries = 256;
constexpr size_t kMaxPath = 4096;
std::array<std::array<char, kMaxPath>, kMaxTemporaries> g_temp_paths{};
std::array<std::atomic<bool>, kMaxTemporaries> g_temp_used{};

int register_temporary(const std::string& path) {
  if (path.size() >= kMaxPath) return -1;
  for (size_t i = 0; i < kMaxTemporaries; ++i) {
    bool expected = false;
    if (g_temp_used[i].compare_exchange_strong(expected, true)) {
      std::memcpy(g_temp_paths[i].data(), path.c_str(), path.size() + 1);
      return static_cast<int>(i);
    }
  }
  return -1;
}

void unregister_temporary(const std::string& path) {
  for (size_t i = 0; i < kMaxTemporaries; ++i) {
    if (g_temp_used[i] && path == g_temp_paths[i].data()) {
      g_temp_used[i] = false;
      return;
    }
  }
}

}  // namespace

void remove_all_temporaries() noexcept {
  for (size_t i = 0; i < kMaxTemporaries; ++i) {
    if (g_temp_used[i]) ::unlink(g_temp_paths[i].data());
  }
}

// Turns bytes into the file's encoding, calling `sink` with the encoded bytes.
class AtomicWriter::Encoder {
 public:
  virtual ~Encoder() = default;
  virtual void write(const char* data, size_t size, AtomicWriter& out) = 0;
  virtual void finish(AtomicWriter& out) = 0;
};

namespace {

class GzipEncoder final : public AtomicWriter::Encoder {
 public:
  GzipEncoder(const std::string& path, int level) : out_(1 << 17) {
    std::memset(&zs_, 0, sizeof zs_);
    if (deflateInit2(&zs_, level < 0 ? 6 : level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw WriteError(path + ": cannot initialise gzip compression");
  }
  ~GzipEncoder() override { deflateEnd(&zs_); }
  void write(const char* data, size_t size, AtomicWriter& out) override { run(data, size, Z_NO_FLUSH, out); }
  void finish(AtomicWriter& out) override { run(nullptr, 0, Z_FINISH, out); }

 private:
  void run(const char* data, size_t size, int flush, AtomicWriter& out);
  z_stream zs_;
  std::vector<char> out_;
};

class ZstdEncoder final : public AtomicWriter::Encoder {
 public:
  ZstdEncoder(const std::string& path, int level) : out_(ZSTD_CStreamOutSize()) {
    cs_ = ZSTD_createCCtx();
    if (!cs_) throw WriteError(path + ": cannot initialise zstd compression");
    ZSTD_CCtx_setParameter(cs_, ZSTD_c_compressionLevel, level < 0 ? 3 : level);
    ZSTD_CCtx_setParameter(cs_, ZSTD_c_checksumFlag, 1);
  }
  ~ZstdEncoder() override { ZSTD_freeCCtx(cs_); }
  void write(const char* data, size_t size, AtomicWriter& out) override { run(data, size, ZSTD_e_continue, out); }
  void finish(AtomicWriter& out) override { run(nullptr, 0, ZSTD_e_end, out); }

 private:
  void run(const char* data, size_t size, ZSTD_EndDirective mode, AtomicWriter& out);
  ZSTD_CCtx* cs_;
  std::vector<char> out_;
};

}  // namespace

// The encoders need AtomicWriter::write_raw; a small friend-free trampoline keeps it private.
struct WriterAccess {
  static void raw(AtomicWriter& w, const char* d, size_t n);
};

AtomicWriter::AtomicWriter(const std::string& path, int level) : path_(path) {
  const std::filesystem::path target(path);
  std::error_code ec;
  const auto dir = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  std::filesystem::create_directories(dir, ec);
  if (ec) throw WriteError(path + ": cannot create directory " + dir.string() + ": " + ec.message());
  temp_path_ = (dir / ("." + target.filename().string() + ".tamis-tmp-" + std::to_string(::getpid()))).string();
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw WriteError(path + ": cannot create " + temp_path_ + ": " + std::strerror(errno));
  register_temporary(temp_path_);
  switch (compression_from_name(path)) {
    case Compression::gzip: encoder_ = std::make_unique<GzipEncoder>(path, level); break;
    case Compression::zstd: encoder_ = std::make_unique<ZstdEncoder>(path, level); break;
    default: break;
  }
}

AtomicWriter::~AtomicWriter() {
  if (!done_) abort();
}

void AtomicWriter::write_raw(const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw WriteError(path_ + ": write failed: " + std::strerror(errno));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void WriterAccess::raw(AtomicWriter& w, const char* d, size_t n) { w.write_raw(d, n); }

void GzipEncoder::run(const char* data, size_t size, int flush, AtomicWriter& out) {
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  zs_.avail_in = static_cast<uInt>(size);
  int rc;
  do {
    zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
    zs_.avail_out = static_cast<uInt>(out_.size());
    rc = deflate(&zs_, flush);
    if (rc == Z_STREAM_ERROR) throw WriteError(out.path() + ": gzip compression failed");
    WriterAccess::raw(out, out_.data(), out_.size() - zs_.avail_out);
  } while (zs_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
}

void ZstdEncoder::run(const char* data, size_t size, ZSTD_EndDirective mode, AtomicWriter& out) {
  ZSTD_inBuffer in{data, size, 0};
  bool done = false;
  while (!done) {
    ZSTD_outBuffer o{out_.data(), out_.size(), 0};
    const size_t remaining = ZSTD_compressStream2(cs_, &o, &in, mode);
    if (ZSTD_isError(remaining))
      throw WriteError(out.path() + ": zstd compression failed: " + ZSTD_getErrorName(remaining));
    WriterAccess::raw(out, out_.data(), o.pos);
    done = mode == ZSTD_e_end ? remaining == 0 : in.pos == in.size;
  }
}

void AtomicWriter::write(std::string_view bytes) {
  bytes_in_ += bytes.size();
  if (encoder_) encoder_->write(bytes.data(), bytes.size(), *this);
  else write_raw(bytes.data(), bytes.size());
}

void AtomicWriter::commit() {
  if (done_) return;
  if (encoder_) encoder_->finish(*this);
  if (::fsync(fd_) != 0 && errno != EINVAL) throw WriteError(path_ + ": fsync failed: " + std::strerror(errno));
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw WriteError(path_ + ": close failed: " + std::strerror(errno));
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0)
    throw WriteError(path_ + ": cannot rename " + temp_path_ + " into place: " + std::strerror(errno));
  unregister_temporary(temp_path_);
  done_ = true;
}

void AtomicWriter::abort() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temp_path_.c_str());
  unregister_temporary(temp_path_);
  done_ = true;
}

}  // namespace tamis::io
