#include "selection.hpp"

#include <xxhash.h>

#include <algorithm>
#include <cmath>

namespace tamis::translate {

uint64_t selection_hash(std::string_view key, uint64_t seed) { return XXH3_64bits_withSeed(key.data(), key.size(), seed); }

uint64_t fraction_threshold(double fraction) {
  if (!(fraction > 0.0)) return 0;
  const double scaled = std::ldexp(fraction, 64);
  return scaled >= 18446744073709551615.0 ? UINT64_MAX : static_cast<uint64_t>(scaled);
}

uint64_t language_key(std::string_view lang, uint64_t seed) {
  // A different stream from selection_hash(): the target must not be correlated with being selected
  // (otherwise raising the fraction would shift the language mix of the records added).
  return XXH3_64bits_withSeed(lang.data(), lang.size(), seed ^ 0x7472616E736C6174ULL);  // "translat"
}

std::vector<size_t> pick_targets(std::string_view key, const std::vector<uint64_t>& language_keys, size_t k) {
  std::vector<std::pair<uint64_t, size_t>> w;
  w.reserve(language_keys.size());
  for (size_t i = 0; i < language_keys.size(); ++i)
    w.emplace_back(XXH3_64bits_withSeed(key.data(), key.size(), language_keys[i]), i);
  k = std::min(k, w.size());
  std::partial_sort(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(k), w.end(),
                    [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::vector<size_t> out;
  out.reserve(k);
  for (size_t i = 0; i < k; ++i) out.push_back(w[i].second);
  return out;
}

std::vector<size_t> pick_balanced(std::string_view key, const std::vector<uint64_t>& language_keys, size_t k,
                                  std::vector<int64_t>& counts) {
  const size_t n = language_keys.size();
  std::vector<uint64_t> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = XXH3_64bits_withSeed(key.data(), key.size(), language_keys[i]);
  std::vector<size_t> out;
  std::vector<bool> taken(n, false);
  for (k = std::min(k, n); out.size() < k;) {
    size_t best = n;
    for (size_t i = 0; i < n; ++i) {
      if (taken[i]) continue;
      if (best == n || counts[i] < counts[best] || (counts[i] == counts[best] && w[i] > w[best])) best = i;
    }
    taken[best] = true;
    ++counts[best];
    out.push_back(best);
  }
  return out;
}

}  // namespace tamis::translate
