// Byte sources: the bytes of one input file, decompressed according to its name (.gz, .zst).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace tamis::io {

// An input file that cannot be read, or a compressed stream that is damaged or cut short.
class ReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown when a compressed stream ends before its end marker: the bytes read so far are good.
class TruncatedError : public ReadError {
 public:
  using ReadError::ReadError;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `dst`; returns 0 at the end. Throws ReadError / TruncatedError.
  virtual size_t read(char* dst, size_t n) = 0;
  // Bytes consumed from the file itself so far (compressed bytes for a compressed file).
  virtual uint64_t file_bytes_consumed() const = 0;
};

enum class Compression { none, gzip, zstd };

// From the file name: ".gz" → gzip, ".zst"/".zstd" → zstd, anything else → none.
Compression compression_from_name(const std::string& path);

std::unique_ptr<ByteSource> open_byte_source(const std::string& path);

}  // namespace tamis::io
