#include "lsh_index.hpp"

#include <tamis/sdk.hpp>

#include <algorithm>
#include <cstring>
#include <new>
#include <thread>

#include <sys/mman.h>

namespace tamis::dedup {

LshIndex::Table::Table(size_t n) : mask(n - 1) {
  // Fresh zeroed pages, on 2 MiB boundaries and advised as huge pages: a large table is read at random
  // (a TLB miss per lookup with 4 KiB pages); its pages are first touched by the copy in the parallel part.
  constexpr size_t kHuge = size_t{2} << 20;
  length_ = n * sizeof(uint64_t) + (n * sizeof(uint64_t) >= kHuge ? kHuge : 0);
  map_ = mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map_ == MAP_FAILED) throw std::bad_alloc();
  auto at = reinterpret_cast<uintptr_t>(map_);
  if (n * sizeof(uint64_t) >= kHuge) {
    at = (at + kHuge - 1) & ~(kHuge - 1);
    madvise(reinterpret_cast<void*>(at), n * sizeof(uint64_t), MADV_HUGEPAGE);
  }
  slots = reinterpret_cast<uint64_t*>(at);
}

LshIndex::Table::~Table() { munmap(map_, length_); }

LshIndex::LshIndex(size_t bands) : bands_(bands), current_(std::make_unique<Table>(size_t{1} << 16)) {
  table_.store(current_.get(), std::memory_order_release);
}

LshIndex::~LshIndex() {
  for (size_t k = 0; k < arena_chunks_; ++k) std::free(arena_[k].load(std::memory_order_relaxed));
}

size_t LshIndex::find(const Table& t, uint32_t fp) {
  for (size_t i = fp & t.mask;; i = (i + 1) & t.mask) {
    const uint64_t v = load_slot(t, i, std::memory_order_acquire);
    if (v == kEmpty || static_cast<uint32_t>(v >> 32) == fp) return i;
  }
}

// Both start with a compare-exchange, not a load: on a page not touched yet, a load would map the
// shared zero page and the write after it take a second fault (copy on write, with a TLB shootdown
// across threads); a locked compare-exchange writes, so the page comes in writable at once. put() is
// the writer's, after every copier is done; insert_if_absent() the copiers', concurrently.
void LshIndex::put(Table& t, uint32_t fp, uint64_t v) {
  for (size_t i = fp & t.mask;; i = (i + 1) & t.mask) {
    std::atomic_ref<uint64_t> s(t.slots[i]);
    uint64_t raw = ~kEmpty;
    if (s.compare_exchange_strong(raw, ~v, std::memory_order_release, std::memory_order_acquire)) return;
    // Taken (slots are never emptied again): raw is its value.
    if (static_cast<uint32_t>(~raw >> 32) == fp) {
      s.store(~v, std::memory_order_release);  // the writer's value is newer than any copy
      return;
    }
  }
}

void LshIndex::insert_if_absent(Table& t, uint32_t fp, uint64_t v) {
  for (size_t i = fp & t.mask;; i = (i + 1) & t.mask) {
    std::atomic_ref<uint64_t> s(t.slots[i]);
    uint64_t raw = ~kEmpty;
    if (s.compare_exchange_strong(raw, ~v, std::memory_order_release, std::memory_order_acquire)) return;
    if (static_cast<uint32_t>(~raw >> 32) == fp) return;  // there already: the writer's, or as new as ours
  }
}

namespace {
// Reached through one opaque call: GCC repeats __tls_get_addr at every use of a thread_local in a
// shared object, even through a reference.
__attribute__((noinline)) std::vector<uint32_t>& cursor_scratch() {
  thread_local std::vector<uint32_t> cursors;
  return cursors;
}
}  // namespace

void LshIndex::candidates(const uint32_t* fps, uint32_t from, uint32_t to, std::vector<uint32_t>& out) const {
  // seq_cst with the writer's table swap and its check of readers_: a table this reader can still
  // hold is never freed (see free_retired).
  readers_.fetch_add(1, std::memory_order_seq_cst);
  const Table& t = *table_.load(std::memory_order_seq_cst);
  for (size_t b = 0; b < bands_; ++b) __builtin_prefetch(&t.slots[fps[b] & t.mask]);
  // Each band's chain is a list of blocks, each a cache miss: the chains are walked side by side, one
  // block of each per round, so that their misses overlap instead of queueing one chain after another.
  std::vector<uint32_t>& cursors = cursor_scratch();
  cursors.clear();
  for (size_t b = 0; b < bands_; ++b) {
    const uint64_t v = load_slot(t, find(t, fps[b]), std::memory_order_acquire);
    if (v == kEmpty) continue;
    const auto head = static_cast<uint32_t>(v);
    if (head & kSingle) {
      const uint32_t c = head & ~kSingle;
      if (c >= from && c < to) out.push_back(c);
    } else {
      cursors.push_back(head);
      __builtin_prefetch(block(head));
    }
  }
  while (!cursors.empty()) {
    size_t live = 0;
    for (const uint32_t k : cursors) {
      const uint32_t* blk = block(k);
      const uint32_t n = std::atomic_ref<const uint32_t>(blk[1]).load(std::memory_order_acquire);
      const uint32_t* item = blk + kBlockHeader;
      for (uint32_t j = 0; j < n; ++j)
        if (item[j] >= from && item[j] < to) out.push_back(item[j]);
      // Newest block first; items ascend within a block, so a block starting below `from` is the last
      // one with anything at or above it.
      if ((n > 0 && item[0] < from) || blk[0] == npos) continue;
      __builtin_prefetch(block(blk[0]));
      cursors[live++] = blk[0];
    }
    cursors.resize(live);
  }
  readers_.fetch_sub(1, std::memory_order_seq_cst);
}

void LshIndex::prefetch(const uint32_t* fps) const {
  const Table& t = *current_;
  for (size_t b = 0; b < bands_; ++b) __builtin_prefetch(&t.slots[fps[b] & t.mask]);
}

void LshIndex::copy_chunk(const Growth& g, size_t k) {
  // Copies what the old table holds now; a slot the writer changes meanwhile is written to the new
  // table by the writer too (put), which a copy never overwrites (insert_if_absent).
  const size_t begin = k * Growth::kChunk, end = std::min(begin + Growth::kChunk, g.from->mask + 1);
  // The slots of the old table's [begin, end) land in the new table's [begin, end) and the same range
  // one old size further (or just after, probing): their pages are touched first by a write that
  // changes nothing, each taking one fault here in the parallel part (see put()).
  constexpr size_t kPage = 4096 / sizeof(uint64_t);
  for (const size_t base : {begin, begin + g.from->mask + 1})
    for (size_t i = base; i < base + (end - begin); i += kPage)
      std::atomic_ref<uint64_t>(g.to->slots[i]).fetch_or(0, std::memory_order_relaxed);
  for (size_t i = begin; i < end; ++i) {
    const uint64_t v = load_slot(*g.from, i, std::memory_order_acquire);
    if (v != kEmpty) insert_if_absent(*g.to, static_cast<uint32_t>(v >> 32), v);
  }
}

bool LshIndex::help_grow() const {
  if (growth_.load(std::memory_order_relaxed) == nullptr) return false;
  // Counted as a reader: the growth and its old table are freed only once no helper is in flight.
  readers_.fetch_add(1, std::memory_order_seq_cst);
  bool copied = false;
  if (Growth* g = growth_.load(std::memory_order_seq_cst)) {
    const size_t k = g->claimed.fetch_add(1, std::memory_order_relaxed);
    if (k < g->chunks) {
      copy_chunk(*g, k);
      g->done.fetch_add(1, std::memory_order_release);
      copied = true;
    }
  }
  readers_.fetch_sub(1, std::memory_order_seq_cst);
  return copied;
}

void LshIndex::start_growth() {
  if (current_->mask + 1 >= (size_t{1} << 32)) throw Error("dedup.minhash: band table full");
  next_ = std::make_unique<Table>((current_->mask + 1) * 2);
  growing_ = std::make_unique<Growth>();
  growing_->from = current_.get();
  growing_->to = next_.get();
  growing_->chunks = (current_->mask + Growth::kChunk) / Growth::kChunk;
  growth_.store(growing_.get(), std::memory_order_seq_cst);
}

void LshIndex::finish_growth() {
  // The chunks no helper has claimed, then the ones in flight.
  Growth& g = *growing_;
  for (size_t k; (k = g.claimed.fetch_add(1, std::memory_order_relaxed)) < g.chunks;) {
    copy_chunk(g, k);
    g.done.fetch_add(1, std::memory_order_release);
  }
  while (g.done.load(std::memory_order_acquire) < g.chunks) std::this_thread::yield();
  // The keys changed since the copy began: their values now (a copy may hold an older one).
  for (const uint32_t fp : changed_) put(*next_, fp, load_slot(*current_, find(*current_, fp), std::memory_order_relaxed));
  changed_.clear();
  growth_.store(nullptr, std::memory_order_seq_cst);
  table_.store(next_.get(), std::memory_order_seq_cst);
  retired_.push_back(std::move(current_));
  retired_growths_.push_back(std::move(growing_));
  current_ = std::move(next_);
}

void LshIndex::free_retired() {
  // A reader or helper that loaded a retired table's (or growth's) pointer is in flight until it
  // decrements readers_: seeing none after the swap means none can still hold it.
  if (!retired_.empty() && readers_.load(std::memory_order_seq_cst) == 0) {
    retired_.clear();
    retired_growths_.clear();
  }
}

const uint32_t* LshIndex::store(const uint32_t* values, size_t n) {
  if (n > chunk_left_) {
    const size_t size = std::max<size_t>(n, size_t{1} << 20);
    chunks_.push_back(std::make_unique_for_overwrite<uint32_t[]>(size));
    chunk_at_ = chunks_.back().get();
    chunk_left_ = size;
    value_bytes_ += size * sizeof(uint32_t);
  }
  uint32_t* at = chunk_at_;
  if (n > 0) std::memcpy(at, values, n * sizeof(uint32_t));
  chunk_at_ += n;
  chunk_left_ -= n;
  return at;
}

uint32_t LshIndex::new_block(uint32_t words, uint32_t next) {
  constexpr uint32_t kChunkWords = 1u << kArenaShift;
  // Blocks start at multiples of 8 words (32 bytes) and a chunk holds a whole number of the largest.
  if (arena_end_ % kChunkWords == 0 || arena_end_ % kChunkWords + words > kChunkWords) {
    if (arena_chunks_ >= kArenaChunks) throw Error("dedup.minhash: too many band chains for one stage");
    auto* chunk = static_cast<uint32_t*>(std::aligned_alloc(64, kChunkWords * sizeof(uint32_t)));  // blocks in whole lines
    if (chunk == nullptr) throw std::bad_alloc();
    arena_[arena_chunks_].store(chunk, std::memory_order_relaxed);
    arena_end_ = static_cast<uint32_t>(arena_chunks_++ << kArenaShift);
  }
  const uint32_t k = arena_end_;
  arena_end_ += words;
  uint32_t* blk = block(k);
  blk[0] = next;
  blk[1] = 0;
  blk[2] = words - kBlockHeader;
  return k;
}

void LshIndex::set(uint32_t fp, size_t at, uint64_t v) {
  std::atomic_ref<uint64_t>(current_->slots[at]).store(~v, std::memory_order_release);
  // Written to the new table at the swap, once the copy has touched (and faulted in) all of its pages.
  if (growing_) changed_.push_back(fp);
}

uint32_t LshIndex::add(const uint32_t* fps, const uint32_t* values, size_t n) {
  const uint32_t c = size();
  if (c >= kMaxSurvivors) throw Error("dedup.minhash: too many survivors for one stage (2^31)");
  if (n > UINT32_MAX) throw Error("dedup.minhash: a text with more than 2^32 shingles");
  // The table grows when half full: the helpers copy it into the next one, the writer swaps when they
  // are done, or at 11/16 full (linear probing is still short there) copying what is left itself.
  const size_t slots = current_->mask + 1;
  if (growing_ && ((used_ + bands_) * 16 > slots * 11 || growing_->done.load(std::memory_order_acquire) == growing_->chunks))
    finish_growth();
  else if (!growing_ && (used_ + bands_) * 2 > slots)
    start_growth();
  Entry& e = entries_.append();
  e.data = store(values, n);
  e.size = static_cast<uint32_t>(n);
  uint32_t bits = 0;
  for (size_t k = 0; k < n; ++k) bits |= 1u << (values[k] & 31);
  e.bits = bits;
  for (size_t b = 0; b < bands_; ++b) {
    const size_t at = find(*current_, fps[b]);
    const uint64_t v = load_slot(*current_, at, std::memory_order_relaxed);
    const uint64_t fp = uint64_t{fps[b]} << 32;
    if (v == kEmpty) {  // most band keys have one survivor: kept in the slot itself
      set(fps[b], at, fp | c | kSingle);
      ++used_;
      continue;
    }
    auto head = static_cast<uint32_t>(v);
    if (head & kSingle) {  // a second one: both move to a block
      const uint32_t k = new_block(kFirstBlockWords, npos);
      uint32_t* blk = block(k);
      blk[kBlockHeader] = head & ~kSingle;
      blk[kBlockHeader + 1] = c;
      std::atomic_ref<uint32_t>(blk[1]).store(2, std::memory_order_relaxed);
      set(fps[b], at, fp | k);
      continue;
    }
    uint32_t* blk = block(head);
    const uint32_t count = std::atomic_ref<uint32_t>(blk[1]).load(std::memory_order_relaxed);
    if (count < blk[2]) {
      blk[kBlockHeader + count] = c;
      std::atomic_ref<uint32_t>(blk[1]).store(count + 1, std::memory_order_release);
      continue;
    }
    // Full: a new block in front, twice the size.
    const uint32_t k = new_block(std::min(kMaxBlockWords, (blk[2] + kBlockHeader) * 2), head);
    uint32_t* front = block(k);
    front[kBlockHeader] = c;
    std::atomic_ref<uint32_t>(front[1]).store(1, std::memory_order_relaxed);
    set(fps[b], at, fp | k);
  }
  published_.store(c + 1, std::memory_order_release);
  free_retired();
  return c;
}

size_t LshIndex::bytes() const {
  // Not counting grown-out-of tables still waiting for readers to leave: when they go depends on timing.
  return (current_->mask + 1) * sizeof(uint64_t) + (next_ ? (next_->mask + 1) * sizeof(uint64_t) : 0) + arena_chunks_ * (size_t{1} << kArenaShift) * sizeof(uint32_t) +
         entries_.bytes() + value_bytes_;
}

}  // namespace tamis::dedup
