// What a source kind's reader hands the engine: chunks of records, one JSON object text per line of the
// chunk's buffer (io/jsonl_reader.hpp's LineChunk: padded for simdjson, numbered from 1 in the file).
#pragma once

#include <cstdint>

namespace tamis::io {

struct LineChunk;

class ChunkReader {
 public:
  virtual ~ChunkReader() = default;
  // Fills `chunk` with the next records; false at the end of the file. Throws ReadError naming the file.
  virtual bool next(LineChunk& chunk) = 0;
  // Bytes of the file consumed so far (for the progress line).
  virtual uint64_t file_bytes_consumed() const = 0;
  // Lines (records) started so far: the one being read when an allocation fails is the next one.
  virtual uint64_t lines_started() const = 0;
};

}  // namespace tamis::io
