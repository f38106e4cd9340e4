// An open-addressing hash table from 64-bit feature hashes to a small value: the counting tables of
// fingerprint.profile. A std::unordered_map (one heap node per feature, millions of mostly-singleton
// trigrams) spent most of the profile's time in cache misses, rehashing and freeing nodes.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace tamis::fingerprint {

template <class V>
class FlatMap {
 public:
  // The value for `key`, default-constructed when new; `fresh` says whether it was.
  V& get(uint64_t key, bool& fresh) {
    if ((used_ + 1) * 4 > slots_.size() * 3) grow();
    key = fix(key);
    size_t i = key & mask_;
    while (slots_[i].first != 0 && slots_[i].first != key) i = (i + 1) & mask_;
    fresh = slots_[i].first == 0;
    if (fresh) {
      slots_[i].first = key;
      ++used_;
    }
    return slots_[i].second;
  }
  const V* find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    key = fix(key);
    for (size_t i = key & mask_; slots_[i].first != 0; i = (i + 1) & mask_)
      if (slots_[i].first == key) return &slots_[i].second;
    return nullptr;
  }
  // A hint that `key` will be looked up soon (the tables are far larger than the caches).
  void prefetch(uint64_t key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[fix(key) & mask_]);
  }
  size_t size() const { return used_; }
  // Visits every (key, value), in table order (callers sort what they output).
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [k, v] : slots_)
      if (k != 0) f(k == kZero ? 0 : k, v);
  }

 private:
  // Key 0 marks an empty slot; the (one in 2^64) feature whose hash is 0 is stored as kZero.
  static constexpr uint64_t kZero = 0x9E3779B97F4A7C15ull;
  static uint64_t fix(uint64_t k) { return k == 0 ? kZero : k; }
  void grow() {
    std::vector<std::pair<uint64_t, V>> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, {});
    mask_ = slots_.size() - 1;
    for (auto& [k, v] : old) {
      if (k == 0) continue;
      size_t i = k & mask_;
      while (slots_[i].first != 0) i = (i + 1) & mask_;
      slots_[i] = {k, std::move(v)};
    }
  }

  std::vector<std::pair<uint64_t, V>> slots_;
  size_t mask_ = 0, used_ = 0;
};

}  // namespace tamis::fingerprint
