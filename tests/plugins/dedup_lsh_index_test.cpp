// dedup.minhash's index (plugins/dedup/lsh_index.hpp): one writer adds survivors while readers search
// the published ones. Each reader's result for a snapshot must equal a brute force over the data the
// test gave the writer, even while the table grows and chains run long (hot fingerprints).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "../../plugins/dedup/lsh_index.hpp"

namespace tamis::dedup {
namespace {

constexpr size_t kBands = 8;

struct Data {
  std::vector<std::vector<uint32_t>> fps, values;
};

// Survivors whose fingerprints come from a few hot values (long chains, several bands of one survivor
// alike) or from a large pool (enough distinct ones to grow the table from 2^16 slots a few times).
Data make_data(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Data d;
  for (size_t c = 0; c < n; ++c) {
    std::vector<uint32_t> f(kBands);
    for (auto& x : f) x = rng() % 10 < 3 ? static_cast<uint32_t>(rng() % 40) : static_cast<uint32_t>(rng() % 400000 + 1000);
    std::vector<uint32_t> v(rng() % 20);
    for (auto& x : v) x = static_cast<uint32_t>(rng());
    d.fps.push_back(std::move(f));
    d.values.push_back(std::move(v));
  }
  return d;
}

// What candidates(q, from, to) must return, sorted: each survivor once per (query band, own band) with
// the same fingerprint.
std::vector<uint32_t> brute_force(const Data& d, const std::vector<uint32_t>& q, uint32_t from, uint32_t to) {
  std::vector<uint32_t> out;
  for (const uint32_t f : q)
    for (uint32_t c = from; c < to; ++c)
      for (const uint32_t g : d.fps[c])
        if (g == f) out.push_back(c);
  std::sort(out.begin(), out.end());
  return out;
}

// The readers also copy the growing table (help_grow(), as the op's parallel part does), all of them
// (`helpers` 3), one, or none (the writer copies each growth alone when the table fills).
void readers_see_published_survivors(int helpers) {
  const Data d = make_data(60000, 5);
  LshIndex index(kBands);
  std::atomic<int> copied{0};
  std::atomic<bool> done{false};
  std::atomic<int> checked{0}, wrong{0};
  auto reader = [&](uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint32_t> got;
    for (uint64_t k = 0; !done.load(); ++k) {
      if (static_cast<int>(seed) <= helpers && index.help_grow()) ++copied;
      const uint32_t p = index.published();
      if (p == 0) continue;
      // Mostly the newest survivor's fingerprints (its data was written last: a survivor published
      // before all its bands are in would be missed), one band swapped for a random one.
      std::vector<uint32_t> q = d.fps[k % 4 ? p - 1 : rng() % p];
      q[rng() % kBands] = static_cast<uint32_t>(rng() % 400000 + 1000);
      const uint32_t from = k % 4 == 3 ? static_cast<uint32_t>(rng() % p) : 0;
      got.clear();
      index.candidates(q.data(), from, p, got);
      std::sort(got.begin(), got.end());
      for (uint32_t x : got)
        if (x < from || x >= p) ++wrong;
      // The newest survivor's own entries, each time; a brute force over a window now and then.
      const uint32_t lo = k % 16 == 0 ? std::max(from, p > 3000 ? p - 3000 : 0u) : std::max(from, p - 1);
      std::vector<uint32_t> tail;
      for (uint32_t c : got)
        if (c >= lo) tail.push_back(c);
      const auto c = static_cast<uint32_t>(p - 1);
      const auto v = index.values(c);
      if (tail != brute_force(d, q, lo, p) || !std::equal(v.begin(), v.end(), d.values[c].begin(), d.values[c].end()))
        ++wrong;
      ++checked;
    }
  };
  std::vector<std::thread> readers;
  for (uint64_t s = 1; s <= 3; ++s) readers.emplace_back(reader, s);
  for (size_t c = 0; c < d.fps.size(); ++c) {
    EXPECT_EQ(index.add(d.fps[c].data(), d.values[c].data(), d.values[c].size()), c);
    if (c % 64 == 0) std::this_thread::yield();  // let readers in between additions
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(wrong.load(), 0) << "of " << checked.load() << " searches";
  EXPECT_GT(checked.load(), 100);
  std::printf("%d searches checked while the writer added, %d chunks copied by readers\n", checked.load(), copied.load());
  if (helpers == 0) {
    EXPECT_EQ(copied.load(), 0);
  }
  // After the writer: whole-range searches equal the brute force, from any start.
  std::mt19937_64 rng(9);
  for (int k = 0; k < 20; ++k) {
    const std::vector<uint32_t>& q = d.fps[rng() % d.fps.size()];
    const auto from = static_cast<uint32_t>(rng() % d.fps.size());
    std::vector<uint32_t> got;
    index.candidates(q.data(), from, index.size(), got);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, brute_force(d, q, from, index.size()));
  }
}

TEST(plugins_dedup_lsh_index, ReadersSeeExactlyThePublishedSurvivorsWhileTheWriterAdds) { readers_see_published_survivors(3); }
TEST(plugins_dedup_lsh_index, OneReaderCopiesTheGrowingTable) { readers_see_published_survivors(1); }
TEST(plugins_dedup_lsh_index, TheWriterCopiesTheTableWhenNoReaderHelps) { readers_see_published_survivors(0); }

// A growth finished by the readers' copies, a chunk at a time between additions: every key the writer
// adds or changes while the copy runs is in the new table too (the writer notes them and writes them
// at the swap), checked against a brute force, single-threaded so that each interleaving is fixed (not
// writing the noted keys makes it fail).
TEST(plugins_dedup_lsh_index, KeysChangedDuringACopiedGrowthAreInTheNewTable) {
  const Data d = make_data(40000, 11);
  LshIndex index(kBands);
  std::mt19937_64 rng(3);
  int copies = 0;
  for (size_t c = 0; c < d.fps.size(); ++c) {
    index.add(d.fps[c].data(), d.values[c].data(), d.values[c].size());
    // Copy zero to three chunks between additions: a growth spans many additions, some of which change
    // keys in chunks already copied and some in chunks not copied yet.
    for (int h = static_cast<int>(rng() % 4); h > 0; --h) copies += index.help_grow();
    if (c % 97 == 0 || c + 1 == d.fps.size()) {
      const std::vector<uint32_t>& q = d.fps[rng() % (c + 1)];
      std::vector<uint32_t> got;
      index.candidates(q.data(), 0, index.size(), got);
      std::sort(got.begin(), got.end());
      ASSERT_EQ(got, brute_force(d, q, 0, index.size())) << "after survivor " << c;
    }
  }
  EXPECT_GT(copies, 50);
}

// value_bits(): bit (v mod 32) of each value, the summary dedup.minhash bounds a Jaccard with before it
// reads a survivor's values (a bit left clear for a value it holds would reject a true duplicate).
TEST(plugins_dedup_lsh_index, ValueBitsHoldTheLowFiveBitsOfEachValue) {
  LshIndex index(kBands);
  const std::vector<uint32_t> fps(kBands, 7);
  const std::vector<uint32_t> a = {1, 33, 70, 0xFFFFFFFFu}, b = {}, c = {31, 32};
  index.add(fps.data(), a.data(), a.size());
  index.add(fps.data(), b.data(), b.size());
  index.add(fps.data(), c.data(), c.size());
  EXPECT_EQ(index.value_bits(0), (1u << 1) | (1u << 6) | (1u << 31));
  EXPECT_EQ(index.value_bits(1), 0u);
  EXPECT_EQ(index.value_bits(2), (1u << 31) | 1u);
  // Every value of every survivor of a larger set has its bit set.
  const Data d = make_data(2000, 5);
  LshIndex big(kBands);
  for (size_t k = 0; k < d.fps.size(); ++k) big.add(d.fps[k].data(), d.values[k].data(), d.values[k].size());
  for (size_t k = 0; k < d.fps.size(); ++k)
    for (const uint32_t v : d.values[k]) ASSERT_TRUE((big.value_bits(static_cast<uint32_t>(k)) >> (v & 31)) & 1) << k;
}

}  // namespace
}  // namespace tamis::dedup
