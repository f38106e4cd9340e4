// The selection rule of translate.tag (docs/translation.md#selection), as plain functions so that tests
// and benchmarks can recompute it.
//
//     const uint64_t t = fraction_threshold(0.10);
//     if (selection_hash(id, seed) < t) { auto langs = pick_targets(id, seed, lang_keys, 1); ... }
//
// Both decisions depend on the record's key (its id), the seed and the parameters only, never on
// other records, the input order or the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tamis::translate {

// XXH3-64 of the key with the seed. A record is selected when this is below fraction_threshold().
uint64_t selection_hash(std::string_view key, uint64_t seed);

// fraction * 2^64, saturated: hash < threshold selects a share `fraction` of uniformly spread hashes.
// fraction 1 selects every record (see selected()).
uint64_t fraction_threshold(double fraction);
inline bool selected(uint64_t hash, uint64_t threshold, double fraction) {
  return fraction >= 1.0 || hash < threshold;
}

// The per-language seed of the target choice: derived from the language code (not its position in
// the list), so that reordering the list changes nothing and adding or removing a language moves only
// the records that the new language wins or the removed one held.
uint64_t language_key(std::string_view lang, uint64_t seed);

// Rendezvous (highest random weight) choice: the indices of the `k` languages whose weight
// XXH3-64(key, language_key) is highest, best first (ties, which need equal 64-bit hashes, go to the
// earlier index). Each language is chosen with probability k / n, independently of other records.
std::vector<size_t> pick_targets(std::string_view key, const std::vector<uint64_t>& language_keys, size_t k);

// Balanced choice: the `k` languages with the lowest `counts` (ties broken by the rendezvous weights,
// so the record's own preference decides), then those counts are incremented. translate.tag keeps one
// `counts` per input batch (assign: balanced), so each batch's languages differ by at most one.
std::vector<size_t> pick_balanced(std::string_view key, const std::vector<uint64_t>& language_keys, size_t k,
                                  std::vector<int64_t>& counts);

}  // namespace tamis::translate
