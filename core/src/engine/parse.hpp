// The parse step (parallel): each line of a batch's chunk becomes a Record (parsed in place by simdjson,
// numbers beyond 64 bits kept as written) with its id (the source's id field, else the id an earlier run gave it, else its content id:
// engine/content_ids.hpp), or an
// unreadable line with what was wrong (Fate::error; with on_error: fail the batch's `fatal` message,
// naming file and line, stops the run when it reaches the writer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/batch.hpp"
#include "pipeline/pipeline.hpp"

namespace tamis {

void parse_batch(const Pipeline& p, Batch& b, const std::string& file);

// A source's maximum line size (its max_line_bytes, or the default).
size_t max_line_bytes(const SourceSpec& src);
// The message for an allocation that failed while reading or parsing line `line` of `file`.
std::string out_of_memory(const SourceSpec& src, const std::string& file, uint64_t line, const char* doing);

}  // namespace tamis
