// Distributions for the review page's histograms (issue 16): over the records at the end of the run
// (kept and rejected apart; a fan-out's copies each count), the size of the records in bytes, and for
// each annotation key (objects flattened one level: pass_rate.MODEL, contaminated_by.benchmark) the
// distribution of its values: whole numbers one bin per value when there are at most kMaxIntegers of
// them (counts: n_correct, n_samples), else numbers in 10 bins of 0.1 when every value is in [0, 1]
// (pass rates, similarities, confidences), else in powers of two; strings and booleans as categories (the first
// kMaxCategories seen in input order, the rest counted together; a key with more distinct values, an
// id, is marked as such and not drawn). Arrays and deeper objects are not counted.
//
// Each batch fills its own Distributions in the parallel render step; the account step merges them in
// input order, so the result is the same for any thread count.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tamis {

struct Record;

class Distributions {
 public:
  static constexpr size_t kMaxCategories = 40;
  static constexpr size_t kMaxIntegers = 24;

  void add(const Record& r);
  void merge(const Distributions& other);
  // {"record_bytes": [BIN, ...], "annotations": [{"key", "kind": "integer"|"unit"|"number"|"category", "bins": [BIN,
  // ...]}, ...]} with BIN = {"label", "kept", "rejected"}; keys in byte order. A category key with more
  // than kMaxCategories values has no bins and "more_than": kMaxCategories.
  std::string json() const;

 private:
  using Counts = std::pair<uint64_t, uint64_t>;  // kept, rejected
  struct Values {
    bool all_unit = true;                // every number so far in [0, 1]
    std::array<Counts, 10> unit{};       // [0, 0.1), ..., [0.9, 1]
    std::map<int, Counts> log2;          // -1: negative, 0: zero, k >= 1: [2^(k-1), 2^k)
    uint64_t numbers = 0;
    bool integers = true;                // every number so far whole, with at most kMaxIntegers values
    std::map<int64_t, Counts> by_integer;
    std::vector<std::pair<std::string, Counts>> categories;  // in order of first appearance
    Counts other{};                      // categories beyond kMaxCategories
    bool too_many = false;
  };
  void value(Values& k, std::string_view json, bool rejected);
  Values& values_of(size_t position, const std::string& key);
  static void count(Counts& c, bool rejected);

  std::map<int, Counts> bytes_;  // log2 bins of the record's size
  std::map<std::string, Values> keys_;
  // The key met at each annotation position of the previous record, and its entry (map nodes stay put):
  // consecutive records mostly carry the same keys in the same order, so most lookups end here.
  std::vector<std::pair<std::string, Values*>> recent_;
};

}  // namespace tamis
