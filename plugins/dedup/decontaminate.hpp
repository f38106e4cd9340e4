// The decontaminate op of the dedup plugin family (docs/dedup.md#decontamination).
#pragma once

#include <tamis/sdk.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tamis::dedup {

// Benchmark decontamination (docs/dedup.md#decontamination): word n-gram overlap and exact match after
// stripping digits, punctuation and whitespace, against reference sets read when the stage starts.
class Decontaminate {
 public:
  static constexpr const char* name = "decontaminate";
  static constexpr const char* summary =
      "Rejects records that overlap benchmark references (word n-grams on lowercased, whitespace-normalised text, "
      "as in open-r1; and exact match after stripping digits, punctuation and whitespace) as `contaminated`, with "
      "`contaminated_by`; the report lists per benchmark the records matched and the items hit.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  Decontaminate(const Params& p, Stage& stage);
  static void check(const Params& p);
  void process(Record& r) const;
  void finish(Stage& stage);

  // One reference item: its benchmark and its id as JSON text (the id field, or the line number).
  struct Item {
    uint32_t benchmark;
    std::string id_json;
  };
  struct Benchmark {
    std::string name, path;
    std::vector<std::string> fields;
    std::string id_field;
    uint32_t first_item = 0, items = 0;
  };

 private:
  std::string field_;
  size_t ngram_;
  int64_t min_shared_;
  double min_fraction_ = 0;  // 0: not used
  bool exact_stripped_;
  std::vector<Benchmark> benchmarks_;
  std::vector<Item> items_;
  // (n-gram hash, item), sorted, distinct: the n-gram index. (stripped-text hash, item): the exact index.
  std::vector<std::pair<uint64_t, uint32_t>> ngrams_;
  std::unordered_map<uint64_t, uint32_t> stripped_;
  // A one-hash bit filter over the n-gram hashes (2^23 bits): most record n-grams are in no reference,
  // and the filter spares them the binary search.
  std::vector<uint64_t> filter_;
  // Hit counts, updated concurrently by process() (sums do not depend on scheduling).
  std::unique_ptr<std::atomic<uint32_t>[]> item_hits_;
  std::unique_ptr<std::atomic<int64_t>[]> bench_records_;
  mutable std::atomic<int64_t> by_ngram_{0}, by_exact_{0};
};

// Word n-gram hashes of text already normalised to single-space-separated words (fewer than n words: none).
std::vector<uint64_t> word_ngram_hashes(std::string_view text, size_t n);
// The text for the exact method: every normalisation step, digits and punctuation removed, then no spaces.
std::string stripped_text(std::string_view text);
// The text for the n-gram method: lowercase and whitespace only.
std::string ngram_text(std::string_view text);

}  // namespace tamis::dedup
