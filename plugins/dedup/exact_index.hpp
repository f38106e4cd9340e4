// The index of dedup.exact: distinct 128-bit key hashes, each with its survivor's id (and, with
// answer checks, a 64-bit hash of the survivor's normalised answer).
//
// Memory budget: <= 32 bytes per distinct key, not counting the id strings themselves.
//   - keys_:   the 16-byte XXH3-128 hash of each survivor, in a std::deque (no doubling slack:
//              it grows by fixed blocks)                                                   16 B
//   - slots_:  open addressing with linear probing over uint32 survivor numbers (the hash is read
//              back from keys_ to compare; below 2^24 keys an 8-bit tag of the hash shares the
//              uint32, so most probes skip that read). Power-of-two capacity, grown at load 3/4, so
//              the load stays in (3/8, 3/4]: at worst 4 / (3/8)                        <= 10.7 B
//   - id_rel_: where the survivor's id starts, as a uint32 offset from its group's base  4 B
//   - id_base_: one uint64 arena offset per group of 64 survivors                      0.125 B
//                                                                        total   <= 30.8 B
//   - the ids themselves, once each, back to back in 1 MiB chunks that never move (no separators: an
//     id ends where the next one starts, or where its chunk's used bytes end; an id never straddles
//     two chunks, so id() is a view, and an id may not exceed 1 MiB).
//   - with answer checks: answers_, 8 more bytes per key (documented in docs/dedup.md).
// Capacity is limited to 2^32 - 1 distinct keys.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tamis::dedup {

struct Key128 {
  uint64_t lo = 0, hi = 0;
  bool operator==(const Key128&) const = default;
};

// Reserved answer values: no answer known, and "this problem had conflicting answers".
inline constexpr uint64_t kNoAnswer = 0;
inline constexpr uint64_t kConflicted = 1;
// Maps a real answer hash away from the reserved values.
inline uint64_t answer_value(uint64_t h) { return h <= kConflicted ? h + 2 : h; }

class ExactIndex {
 public:
  static constexpr uint32_t npos = UINT32_MAX;

  explicit ExactIndex(bool with_answers);

  bool with_answers() const { return with_answers_; }
  size_t size() const { return keys_.size(); }

  // The survivor number of `key`, or npos.
  uint32_t find(const Key128& key) const;
  // A hint: fetch the slot find(key) starts at into the cache.
  void prefetch(const Key128& key) const { __builtin_prefetch(slots_.data() + (key.lo & mask_)); }
  // Adds a key known to be absent; returns its survivor number.
  uint32_t insert(const Key128& key, std::string_view id, uint64_t answer);

  std::string_view id(uint32_t n) const;  // valid as long as the index
  uint64_t answer(uint32_t n) const { return with_answers_ ? answers_[n] : kNoAnswer; }
  void set_answer(uint32_t n, uint64_t a) {
    if (with_answers_) answers_[n] = a;
  }

  // Bytes held by the index structures (capacity, not just size), and the id bytes.
  size_t structure_bytes() const;
  size_t id_bytes() const { return id_bytes_; }

  // Index file: see docs/dedup.md. `settings` is the normalisation description; load() refuses a file
  // whose settings differ. Both throw tamis::Error with a message naming the file. `replace`: per
  // survivor number, another (id, answer) to write for it (dedup.exact's `prefer` keeps another record
  // than a key's first).
  using Replacements = std::unordered_map<uint32_t, std::pair<std::string, uint64_t>>;
  void save(const std::string& path, const std::string& settings, const Replacements& replace = {}) const;
  void load(const std::string& path, const std::string& settings);

 private:
  static constexpr uint32_t kTaggedMax = (1u << 24) - 1;  // survivor numbers below this fit beside a tag
  static constexpr unsigned kChunkBits = 20;  // id chunks of 1 MiB; an id's offset is chunk << 20 | position
  size_t id_begin(uint32_t n) const { return id_base_[n / 64] + id_rel_[n]; }
  size_t id_end(uint32_t n) const;
  uint32_t slot_value(uint32_t n, const Key128& key) const;
  void rebuild(size_t capacity);

  bool with_answers_;
  std::deque<Key128> keys_;
  std::deque<uint64_t> answers_;
  std::deque<uint32_t> id_rel_;
  std::vector<uint64_t> id_base_;
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::vector<uint32_t> chunk_used_;
  size_t id_bytes_ = 0;
  std::vector<uint32_t> slots_;  // survivor numbers (tagged while fewer than kTaggedMax keys), npos: empty
  size_t mask_;
  bool tagged_ = true;
};

}  // namespace tamis::dedup
