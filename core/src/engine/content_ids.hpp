// Ids for records whose source names no id field (a source without `id:`): the source name and a
// hash of the record's bytes, `SOURCE/HHHHHHHHHHHHHHHH` (16 lowercase hex digits of XXH3-64 of the
// line without its surrounding whitespace and line break), and `.N` after it for the N-th line of the
// source with the same bytes (N >= 2), so that no two records of a run share an id. Such an id does
// not depend on the machine, the path, the file's name or the line's position: the same line in a
// moved, renamed or reordered file gets the same id, and an earlier run's output, which carries it in
// the annotations field (`tamis.id`), keeps it in the next run (engine/parse.cpp).
//
// The hashes are taken in the read step (serial, in input order), where the repeats can be counted
// without locks; the ids are written by the parse step.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/jsonl_reader.hpp"

namespace tamis {

struct ContentId {
  uint64_t hash = 0;
  uint32_t repeat = 1;  // 1 for the first line of the source with these bytes, 2 for the second, ...
};

// `SOURCE/HASH` or `SOURCE/HASH.N`, appended to `out`.
void append_content_id(std::string& out, std::string_view source, const ContentId& id);

// The lines seen so far in one source: a set of their hashes (open addressing, 8 bytes a slot, at
// most half full: about 16-32 bytes a line), and the count of the hashes seen more than once.
class ContentIdCounter {
 public:
  // The ids of the chunk's lines, in order (resized to chunk.lines.size()).
  void assign(const io::LineChunk& chunk, std::vector<ContentId>& out);
  void clear();

 private:
  uint32_t count(uint64_t hash);  // how many times `hash` was seen, this one included
  void grow();

  std::vector<uint64_t> slots_;  // 0: empty (a hash of 0 is stored as 1; only the count can differ)
  size_t used_ = 0;
  std::unordered_map<uint64_t, uint32_t> repeats_;  // hashes seen twice or more: times seen
};

}  // namespace tamis
