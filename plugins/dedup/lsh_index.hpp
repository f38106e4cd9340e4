// The index of dedup.minhash: survivors (numbered in input order) with their shingle sets or
// signatures, and one open-addressing table from LSH band keys to the survivors sharing them.
//
// One writer (the op's serial part) appends; any number of readers (the parallel part, prepare())
// query it at the same time. A reader first takes `published()`, the number of survivors whose every
// byte is in place, and then sees exactly the survivors below it: the rest may be half-written and is
// skipped. What makes this safe without locks:
//   - nothing a reader can reach ever moves: survivor entries, chain blocks and shingle spans live in
//     fixed-size segments that are allocated, filled and never reallocated;
//   - a survivor's data, entry and band insertions are written before `published_` is raised (release);
//     a reader loads it with acquire before it looks;
//   - a slot is one 64-bit atomic (fingerprint, head); a block's fill count is atomic and its items are
//     written before the count that covers them; items are never changed once covered;
//   - growing the table makes a new one of twice the size and publishes its pointer; the old one stays
//     valid, complete up to the swap, until no reader is inside a query (a count of readers in flight).
//     The copy is not made by the writer: once the table is half full, the next one is allocated (zeroed
//     pages from the kernel: an empty slot is 0, nothing to fill) and the readers copy it chunk by chunk
//     (help_grow(), called from the op's parallel part) while the writer goes on adding to the old one
//     and notes the keys it changes. The writer swaps when every chunk is copied, after writing those
//     keys' values to the new table; only if the table reaches 11/16 first does it copy the chunks left
//     itself.
// Determinism does not depend on where a reader's snapshot ends: see MinHash::resolve in minhash.cpp.
#pragma once

#include <atomic>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <tamis/sdk.hpp>

namespace tamis::dedup {

// Append-only storage with stable addresses: a fixed directory of segments of 2^kShift elements.
template <class T, unsigned kShift>
class Segmented {
 public:
  static constexpr size_t kSegment = size_t{1} << kShift;
  static constexpr size_t kMaxSegments = size_t{1} << 17;

  Segmented() : dir_(std::make_unique<std::atomic<T*>[]>(kMaxSegments)) {}
  ~Segmented() {
    for (size_t s = 0; s * kSegment < size_; ++s) delete[] dir_[s].load(std::memory_order_relaxed);
  }
  Segmented(const Segmented&) = delete;
  Segmented& operator=(const Segmented&) = delete;

  size_t size() const { return size_; }  // writer only
  // Writer: a new default-constructed element at the end.
  T& append() {
    const size_t s = size_ >> kShift;
    if ((size_ & (kSegment - 1)) == 0) {
      if (s >= kMaxSegments) throw Error("dedup: append-only index full");
      dir_[s].store(new T[kSegment], std::memory_order_relaxed);
    }
    return (*this)[size_++];
  }
  // Element i: the writer any, a reader only those it learnt of through a published count or slot.
  T& operator[](size_t i) const { return dir_[i >> kShift].load(std::memory_order_relaxed)[i & (kSegment - 1)]; }
  size_t bytes() const { return ((size_ + kSegment - 1) / kSegment) * kSegment * sizeof(T); }

 private:
  std::unique_ptr<std::atomic<T*>[]> dir_;
  size_t size_ = 0;
};

class LshIndex {
 public:
  static constexpr uint32_t npos = UINT32_MAX;
  static constexpr uint32_t kMaxSurvivors = 0x7FFFFFFEu;

  // `bands` band fingerprints per survivor, and its values (a shingle set, or a signature).
  explicit LshIndex(size_t bands);
  ~LshIndex();
  LshIndex(const LshIndex&) = delete;
  LshIndex& operator=(const LshIndex&) = delete;

  // Readers and writer. The survivors whose data is complete: [0, published()).
  uint32_t published() const { return published_.load(std::memory_order_acquire); }
  // Appends to `out` every survivor c with from <= c < to sharing a band fingerprint with `fps`, once
  // per band shared (so repeats count the bands in common). The writer may ask for any range; a reader
  // for a range below a published() it has taken.
  void candidates(const uint32_t* fps, uint32_t from, uint32_t to, std::vector<uint32_t>& out) const;
  // A survivor's values (shingle hashes or signature).
  std::span<const uint32_t> values(uint32_t c) const {
    const Entry& e = entries_[c];
    return {e.data, e.size};
  }

  // A 32-bit summary of survivor c's values, in its entry: bit (v mod 32) set for each value v. A value
  // of another set whose bit is clear is not among c's values (see MinHash::matches).
  uint32_t value_bits(uint32_t c) const { return entries_[c].bits; }

  // Hints for a search loop: fetch survivor c's entry, then (once the entry is in) its values.
  void prefetch_entry(uint32_t c) const { __builtin_prefetch(&entries_[c]); }
  void prefetch_values(uint32_t c) const { __builtin_prefetch(entries_[c].data); }

  // Writer only.
  uint32_t size() const { return static_cast<uint32_t>(entries_.size()); }
  // Adds survivor size() with its band fingerprints and values, then publishes it.
  uint32_t add(const uint32_t* fps, const uint32_t* values, size_t n);
  // A hint for the writer: fetch the slots of these fingerprints into the cache.
  void prefetch(const uint32_t* fps) const;
  // Any thread, any time (the op's parallel part): while the table grows, copies one chunk of it into
  // the next table. Returns whether it copied one.
  bool help_grow() const;
  size_t bytes() const;  // memory held by the current table, blocks, entries and values, for the report

 private:
  static constexpr uint32_t kSingle = 0x80000000u;  // a slot's head: a lone survivor, not a block
  // A slot is (fingerprint << 32) | head, stored complemented so that a zeroed slot is free (kEmpty):
  // no value has all bits set (head 0xFFFFFFFF would be a lone survivor 2^31 - 1, above kMaxSurvivors).
  static constexpr uint64_t kEmpty = UINT64_MAX;
  struct Table {
    explicit Table(size_t n);  // n slots, zeroed (fresh pages from mmap)
    ~Table();
    Table(const Table&) = delete;
    Table& operator=(const Table&) = delete;
    size_t mask;
    uint64_t* slots;  // accessed through std::atomic_ref
    void* map_;
    size_t length_;
  };
  // A growth in progress: `to` (twice the size of the current table) is filled chunk by chunk.
  struct Growth {
    static constexpr size_t kChunk = 4096;  // slots of the old table per chunk
    const Table* from;
    Table* to;
    size_t chunks;
    std::atomic<size_t> claimed{0}, done{0};
  };
  static uint64_t load_slot(const Table& t, size_t i, std::memory_order o) {
    return ~std::atomic_ref<uint64_t>(t.slots[i]).load(o);
  }
  // The position of fingerprint fp in t: the slot holding it, or the free one where it would go.
  static size_t find(const Table& t, uint32_t fp);
  // Sets fp's slot in t to v, inserting or overwriting.
  static void put(Table& t, uint32_t fp, uint64_t v);
  // Inserts v for fp unless fp is there already; safe against other inserters and put().
  static void insert_if_absent(Table& t, uint32_t fp, uint64_t v);
  static void copy_chunk(const Growth& g, size_t k);
  void set(uint32_t fp, size_t at, uint64_t v);  // writer: fp's slot (found at `at` in current_) := v
  void start_growth();
  void finish_growth();
  void free_retired();
  const uint32_t* store(const uint32_t* values, size_t n);

  size_t bands_;
  std::atomic<uint32_t> published_{0};
  std::atomic<Table*> table_{nullptr};
  mutable std::atomic<int> readers_{0};  // readers inside candidates() or help_grow()
  std::unique_ptr<Table> current_;
  std::unique_ptr<Table> next_;              // the table being filled, while growth_ is set
  std::unique_ptr<Growth> growing_;          // owned by the writer
  std::atomic<Growth*> growth_{nullptr};     // what help_grow() sees
  std::vector<uint32_t> changed_;            // fingerprints whose slot the writer set during the growth
  std::vector<std::unique_ptr<Table>> retired_;  // grown out of, freed once no reader is in flight
  std::vector<std::unique_ptr<Growth>> retired_growths_;
  size_t used_ = 0;
  // A chain block, in words of the block arena: [0] the next (older) block or npos, set before the
  // block is reachable; [1] its fill count (atomic: items are written before the count covering them);
  // [2] its capacity; then the survivor numbers, ascending (blocks of a chain: newest first). A chain's
  // first block holds 5 (32 bytes), each block in front of a full one about twice as many as it, up to
  // 253 (1 KiB): a hot band key's survivors lie in a few contiguous runs, not one cache miss per six.
  static constexpr uint32_t kFirstBlockWords = 8, kMaxBlockWords = 256, kBlockHeader = 3;
  static constexpr unsigned kArenaShift = 20;  // 4 MiB chunks of words that never move
  static constexpr size_t kArenaChunks = size_t{1} << 11;  // 2^31 words: block offsets stay below kSingle
  uint32_t* block(uint32_t off) const { return arena_[off >> kArenaShift].load(std::memory_order_relaxed) + (off & ((1u << kArenaShift) - 1)); }
  uint32_t new_block(uint32_t words, uint32_t next);  // writer: an empty block of `words` words
  struct Entry {
    const uint32_t* data = nullptr;
    uint32_t size = 0;
    uint32_t bits = 0;  // value_bits(), in what was padding: an entry is still 16 bytes
  };
  std::unique_ptr<std::atomic<uint32_t*>[]> arena_ = std::make_unique<std::atomic<uint32_t*>[]>(kArenaChunks);
  uint32_t arena_end_ = 0;  // words allocated (chunks are filled in turn; a block never straddles two)
  size_t arena_chunks_ = 0;
  Segmented<Entry, 16> entries_;
  // Values, in chunks that never move; a survivor's values are contiguous within one chunk.
  std::vector<std::unique_ptr<uint32_t[]>> chunks_;
  size_t chunk_left_ = 0, value_bytes_ = 0;
  uint32_t* chunk_at_ = nullptr;
};

}  // namespace tamis::dedup
