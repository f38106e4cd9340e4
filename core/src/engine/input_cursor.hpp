// The read step (serial, in order): the next chunk of records of the run's input, source by source in
// the reading order, file by file in each source's order, through each source's kind
// (sources/source_kind.hpp). A batch never spans two files.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/batch.hpp"
#include "engine/content_ids.hpp"
#include "engine/runner.hpp"
#include "engine/stage_runtime.hpp"
#include "io/chunk_reader.hpp"
#include "io/jsonl_reader.hpp"
#include "pipeline/pipeline.hpp"

namespace tamis {

class InputCursor {
 public:
  InputCursor(const Pipeline& p, size_t chunk_bytes, io::BufferPool& pool, const RunNames& names);

  // The next batch (owned by the caller), or null at the end of the input. `files` (per source) counts
  // the files opened, when given. Throws RunError naming the file (unreadable, out of memory) or on
  // an interrupt.
  Batch* next(std::vector<SourceTotals>* files);
  // Back to the first file (the real pass after a first pass).
  void rewind();

  // For the progress line: the input files' bytes consumed so far, and in all.
  uint64_t file_bytes_read() const { return file_bytes_read_.load(); }
  uint64_t total_file_bytes() const { return total_file_bytes_; }

 private:
  const Pipeline& p_;
  size_t chunk_bytes_;
  io::BufferPool& pool_;
  const RunNames& names_;
  size_t source_pos_ = 0;
  int file_ = -1;
  std::unique_ptr<io::ChunkReader> reader_;
  std::vector<ContentIdCounter> content_ids_;  // per source without `id:`: the lines seen (engine/content_ids.hpp)
  uint64_t file_bytes_done_ = 0;  // bytes of files already finished
  std::atomic<uint64_t> file_bytes_read_{0};
  uint64_t total_file_bytes_ = 0;
};

}  // namespace tamis
