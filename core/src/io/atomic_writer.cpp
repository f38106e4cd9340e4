#include "io/atomic_writer.hpp"

#include <zlib.h>
#include <zstd.h>

#include <array>
#include <memory>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <climits>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vector>

#include <tamis/temp_file.hpp>

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

std::atomic<bool> g_committing{false};

}  // namespace

void remove_all_temporaries() noexcept {
  if (g_committing) return;
  for (size_t i = 0; i < kMaxTemporaries; ++i) {
    if (g_temp_used[i]) ::unlink(g_temp_paths[i].data());
  }
}

void track_temporary(const std::string& path) { register_temporary(path); }
void untrack_temporary(const std::string& path) { unregister_temporary(path); }
void set_committing(bool on) noexcept { g_committing = on; }
bool committing() noexcept { return g_committing; }

namespace {

// One complete gzip member holding `in`.
void gzip_member(std::string_view in, int level, std::string& out, const std::string& path) {
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, level < 0 ? 6 : level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw WriteError(path + ": cannot initialise gzip compression");
  const size_t start = out.size();
  out.resize(start + deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data() + start);
  zs.avail_out = static_cast<uInt>(out.size() - start);
  const int rc = deflate(&zs, Z_FINISH);
  const size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw WriteError(path + ": gzip compression failed");
  out.resize(start + produced);
}

// One complete zstd frame holding `in` (with a checksum).
void zstd_frame(std::string_view in, int level, std::string& out, const std::string& path) {
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_reset(cctx.get(), ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level < 0 ? 3 : level);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  const size_t start = out.size();
  out.resize(start + ZSTD_compressBound(in.size()));
  const size_t n = ZSTD_compress2(cctx.get(), out.data() + start, out.size() - start, in.data(), in.size());
  if (ZSTD_isError(n)) throw WriteError(path + ": zstd compression failed: " + ZSTD_getErrorName(n));
  out.resize(start + n);
}

}  // namespace

AtomicWriter::AtomicWriter(const std::string& path, int level)
    : path_(path), compression_(compression_from_name(path)), level_(level) {
  const std::filesystem::path target(path);
  std::error_code ec;
  const auto dir = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  std::filesystem::create_directories(dir, ec);
  if (ec) throw WriteError(path + ": cannot create directory " + dir.string() + ": " + ec.message());
  // A new temporary beside the target (never a planted file or link; the target's permissions), and
  // never over a device, FIFO or socket: see tamis/temp_file.hpp.
  files::Temporary t = files::create_temporary_beside(path);
  if (t.fd < 0) throw WriteError(t.error);
  fd_ = t.fd;
  temp_path_ = std::move(t.path);
  register_temporary(temp_path_);
  struct stat st;
  if (::fstat(fd_, &st) == 0) dev_ = st.st_dev, ino_ = st.st_ino;
}

AtomicWriter::~AtomicWriter() {
  if (!done_) abort();
}

void AtomicWriter::encode(std::string_view bytes, std::string& out) const {
  switch (compression_) {
    case Compression::gzip: gzip_member(bytes, level_, out, path_); break;
    case Compression::zstd: zstd_frame(bytes, level_, out, path_); break;
    default: out.append(bytes);
  }
}

uint64_t AtomicWriter::reserve(uint64_t encoded_size, uint64_t raw_size) {
  const uint64_t offset = next_offset_;
  next_offset_ += encoded_size;
  bytes_in_ += raw_size;
  return offset;
}

void AtomicWriter::write_at(uint64_t offset, std::string_view data) const {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw WriteError(path_ + ": write failed: " + std::strerror(errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

void AtomicWriter::write_at(uint64_t offset, const std::vector<std::string_view>& pieces) const {
  std::vector<iovec> iov;
  size_t i = 0;
  while (i < pieces.size()) {
    iov.clear();
    for (; i < pieces.size() && iov.size() < IOV_MAX; ++i) {
      if (pieces[i].empty()) continue;
      iov.push_back({const_cast<char*>(pieces[i].data()), pieces[i].size()});
    }
    size_t first = 0;
    while (first < iov.size()) {
      const ssize_t n = ::pwritev(fd_, iov.data() + first, static_cast<int>(iov.size() - first), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw WriteError(path_ + ": write failed: " + std::strerror(errno));
      }
      offset += static_cast<uint64_t>(n);
      // Skip what was written; a partial write leaves part of one iovec.
      size_t done = static_cast<size_t>(n);
      while (first < iov.size() && done >= iov[first].iov_len) done -= iov[first++].iov_len;
      if (first < iov.size() && done > 0) {
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + done;
        iov[first].iov_len -= done;
      }
    }
  }
}

void AtomicWriter::write(std::string_view bytes) {
  if (compression_ == Compression::none) {
    write_at(reserve(bytes.size(), bytes.size()), bytes);
    return;
  }
  std::string encoded;
  encode(bytes, encoded);
  write_at(reserve(encoded.size(), bytes.size()), encoded);
}

void AtomicWriter::commit() {
  finish_writing();
  put_in_place();
}

void AtomicWriter::finish_writing() {
  if (done_ || finished_) return;
  // An empty compressed file is not a valid .gz/.zst: write one empty member/frame.
  if (next_offset_ == 0 && compression_ != Compression::none) write(std::string_view());
  if (::fsync(fd_) != 0 && errno != EINVAL) throw WriteError(path_ + ": fsync failed: " + std::strerror(errno));
  // Still the file this writer made, whole: not removed, replaced or cut by anyone since.
  struct stat by_fd, by_name;
  if (::fstat(fd_, &by_fd) != 0 || static_cast<uint64_t>(by_fd.st_size) != next_offset_)
    throw WriteError(path_ + ": the temporary " + temp_path_ + " does not hold the " + std::to_string(next_offset_) +
                     " bytes written to it");
  if (::lstat(temp_path_.c_str(), &by_name) != 0 || !S_ISREG(by_name.st_mode) || by_name.st_dev != dev_ ||
      by_name.st_ino != ino_)
    throw WriteError(path_ + ": the temporary " + temp_path_ + " was removed or replaced while the run wrote it");
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw WriteError(path_ + ": close failed: " + std::strerror(errno));
  }
  fd_ = -1;
  finished_ = true;
}

void AtomicWriter::put_in_place() {
  if (done_) return;
  if (!finished_) finish_writing();
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

void AtomicWriter::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  unregister_temporary(temp_path_);
  done_ = true;
}

}  // namespace tamis::io
