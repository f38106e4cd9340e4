#include "lsh_index.hpp"

#include <tamis/sdk.hpp>

#include <algorithm>
#include <cstring>

namespace tamis::dedup {

LshIndex::Table::Table(size_t n) : mask(n - 1), slots(std::make_unique<std::atomic<uint64_t>[]>(n)) {
  for (size_t i = 0; i < n; ++i) slots[i].store(kEmpty, std::memory_order_relaxed);
}

LshIndex::LshIndex(size_t bands) : bands_(bands), current_(std::make_unique<Table>(size_t{1} << 16)) {
  table_.store(current_.get(), std::memory_order_release);
}

LshIndex::~LshIndex() = default;

std::atomic<uint64_t>& LshIndex::slot(const Table& t, uint32_t fp) {
  for (size_t i = fp & t.mask;; i = (i + 1) & t.mask) {
    std::atomic<uint64_t>& s = t.slots[i];
    const uint64_t v = s.load(std::memory_order_acquire);
    if (v == kEmpty || static_cast<uint32_t>(v >> 32) == fp) return s;
  }
}

void LshIndex::candidates(const uint32_t* fps, uint32_t from, uint32_t to, std::vector<uint32_t>& out) const {
  // seq_cst with the writer's table swap and its check of readers_: a table this reader can still
  // hold is never freed (see free_retired).
  readers_.fetch_add(1, std::memory_order_seq_cst);
  const Table& t = *table_.load(std::memory_order_seq_cst);
  for (size_t b = 0; b < bands_; ++b) __builtin_prefetch(&t.slots[fps[b] & t.mask]);
  // Each band's chain is a list of blocks, each a cache miss: the chains are walked side by side, one
  // block of each per round, so that their misses overlap instead of queueing one chain after another.
  thread_local std::vector<uint32_t> cursors;
  cursors.clear();
  for (size_t b = 0; b < bands_; ++b) {
    const uint64_t v = slot(t, fps[b]).load(std::memory_order_acquire);
    if (v == kEmpty) continue;
    const auto head = static_cast<uint32_t>(v);
    if (head & kSingle) {
      const uint32_t c = head & ~kSingle;
      if (c >= from && c < to) out.push_back(c);
    } else {
      cursors.push_back(head);
      __builtin_prefetch(&blocks_[head]);
    }
  }
  while (!cursors.empty()) {
    size_t live = 0;
    for (const uint32_t k : cursors) {
      const Block& blk = blocks_[k];
      const uint32_t n = blk.count.load(std::memory_order_acquire);
      for (uint32_t j = 0; j < n; ++j)
        if (blk.item[j] >= from && blk.item[j] < to) out.push_back(blk.item[j]);
      // Newest block first; items ascend within a block, so a block starting below `from` is the last
      // one with anything at or above it.
      if ((n > 0 && blk.item[0] < from) || blk.next == npos) continue;
      __builtin_prefetch(&blocks_[blk.next]);
      cursors[live++] = blk.next;
    }
    cursors.resize(live);
  }
  readers_.fetch_sub(1, std::memory_order_seq_cst);
}

void LshIndex::prefetch(const uint32_t* fps) const {
  const Table& t = *current_;
  for (size_t b = 0; b < bands_; ++b) __builtin_prefetch(&t.slots[fps[b] & t.mask]);
}

void LshIndex::grow() {
  if (current_->mask + 1 >= (size_t{1} << 32)) throw Error("dedup.minhash: band table full");
  auto bigger = std::make_unique<Table>((current_->mask + 1) * 2);
  for (size_t i = 0; i <= current_->mask; ++i) {
    const uint64_t v = current_->slots[i].load(std::memory_order_relaxed);
    if (v != kEmpty) slot(*bigger, static_cast<uint32_t>(v >> 32)).store(v, std::memory_order_relaxed);
  }
  table_.store(bigger.get(), std::memory_order_seq_cst);
  retired_.push_back(std::move(current_));
  current_ = std::move(bigger);
}

void LshIndex::free_retired() {
  // A reader that loaded a retired table's pointer is in flight until it decrements readers_: seeing
  // no reader after the swap means none can still hold it (new readers load the new table).
  if (!retired_.empty() && readers_.load(std::memory_order_seq_cst) == 0) retired_.clear();
}

const uint32_t* LshIndex::store(const uint32_t* values, size_t n) {
  if (n > chunk_left_) {
    const size_t size = std::max<size_t>(n, size_t{1} << 20);
    chunks_.push_back(std::make_unique<uint32_t[]>(size));
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

uint32_t LshIndex::add(const uint32_t* fps, const uint32_t* values, size_t n) {
  const uint32_t c = size();
  if (c >= kMaxSurvivors) throw Error("dedup.minhash: too many survivors for one stage (2^31)");
  if (n > UINT32_MAX) throw Error("dedup.minhash: a text with more than 2^32 shingles");
  Entry& e = entries_.append();
  e.data = store(values, n);
  e.size = static_cast<uint32_t>(n);
  for (size_t b = 0; b < bands_; ++b) {
    if ((used_ + 1) * 2 > current_->mask + 1) grow();
    std::atomic<uint64_t>& s = slot(*current_, fps[b]);
    const uint64_t v = s.load(std::memory_order_relaxed);
    const uint64_t fp = uint64_t{fps[b]} << 32;
    if (v == kEmpty) {  // most band keys have one survivor: kept in the slot itself
      s.store(fp | c | kSingle, std::memory_order_release);
      ++used_;
      continue;
    }
    auto head = static_cast<uint32_t>(v);
    if (head & kSingle) {  // a second one: both move to a block
      if (blocks_.size() >= kSingle - 1) throw Error("dedup.minhash: too many band chains for one stage");
      const auto k = static_cast<uint32_t>(blocks_.size());
      Block& blk = blocks_.append();
      blk.item[0] = head & ~kSingle;
      blk.item[1] = c;
      blk.count.store(2, std::memory_order_relaxed);
      s.store(fp | k, std::memory_order_release);
      continue;
    }
    Block& blk = blocks_[head];
    const uint32_t count = blk.count.load(std::memory_order_relaxed);
    if (count < std::size(blk.item)) {
      blk.item[count] = c;
      blk.count.store(count + 1, std::memory_order_release);
      continue;
    }
    if (blocks_.size() >= kSingle - 1) throw Error("dedup.minhash: too many band chains for one stage");
    const auto k = static_cast<uint32_t>(blocks_.size());  // full: a new block in front
    Block& front = blocks_.append();
    front.next = head;
    front.item[0] = c;
    front.count.store(1, std::memory_order_relaxed);
    s.store(fp | k, std::memory_order_release);
  }
  published_.store(c + 1, std::memory_order_release);
  free_retired();
  return c;
}

size_t LshIndex::bytes() const {
  // Not counting grown-out-of tables still waiting for readers to leave: when they go depends on timing.
  return (current_->mask + 1) * sizeof(uint64_t) + blocks_.bytes() + entries_.bytes() + value_bytes_;
}

}  // namespace tamis::dedup
