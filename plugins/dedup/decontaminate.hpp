// The dedup.decontaminate op of the dedup plugin family (docs/dedup.md#decontamination).
#pragma once

#include <tamis/sdk.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tamis::dedup {

// Benchmark decontamination (docs/dedup.md#decontamination). A record is contaminated by a benchmark
// item when it holds a large share (coverage) of the item's informative word n-grams (n-grams found in
// fewer than `boilerplate` items of the item's benchmark), or, for a short item, when the whole record is
// the item with at most a few words edited. Under `match: copies` (the default) the item's numbers must
// all be in the record: a template sibling with other numbers is not a copy; `match: siblings` masks
// numbers and catches those too. Every hit carries its evidence (item, excerpt, shared span, scores).
class Decontaminate {
 public:
  static constexpr const char* name = "dedup.decontaminate";
  static constexpr const char* former_names[] = {"decontaminate"};
  static constexpr const char* summary =
      "Rejects records that copy a benchmark item as `contaminated`: a share `min_coverage` of the item's informative "
      "word n-grams (boilerplate n-grams, frequent in the benchmark, do not count) with the item's numbers, or a "
      "short item with at most `max_edits` words edited; `match: siblings` also catches template siblings (other "
      "numbers). `contaminated_by` carries the evidence (item id and excerpt, shared span, coverage); the report "
      "lists per benchmark the items hit, each with an example.";
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
  // One indexed text of an item (an item has one per text field it holds).
  struct Unit {
    uint32_t item;
    uint32_t tokens = 0;             // word tokens
    uint32_t informative = 0;        // distinct n-grams that are not boilerplate
    uint32_t need = 0;               // shared informative n-grams for a hit (0: the n-gram path is off)
    bool short_item = false;         // also matched by edit distance
    std::vector<uint64_t> symbols;   // sorted symbol-token hashes, with repeats (copies mode)
    std::vector<uint64_t> words;     // sorted hashes of the other words but the flexible ones, with repeats (copies mode)
    std::vector<uint64_t> grams;     // sorted distinct n-gram hashes, boilerplate too (copies mode)
    std::vector<uint64_t> sequence;  // token hashes, numbers masked in siblings mode (short items only)
    std::array<uint64_t, 2> bloom{}; // 128-bit token bloom (short items only)
    std::string excerpt;             // the start of the text, for evidence
  };
  struct Benchmark {
    std::string name, path;
    std::vector<std::string> fields;
    std::string id_field;
    uint32_t first_item = 0, items = 0;
    uint64_t boilerplate = 0;  // distinct n-grams dropped as boilerplate
  };

 private:
  struct Hit;
  bool better(const Hit& a, const Hit& b) const;
  std::string evidence_json(const Hit& h) const;

  std::string field_;
  size_t ngram_;
  int64_t min_shared_;
  double min_fraction_ = 0;  // 0: not used
  double min_coverage_;
  int64_t boilerplate_;
  int64_t max_edits_;
  size_t short_words_;
  bool siblings_;
  bool exact_stripped_;
  size_t max_short_tokens_ = 0;  // the longest short item
  std::vector<Benchmark> benchmarks_;
  std::vector<Item> items_;
  std::vector<Unit> units_;
  // (n-gram hash, unit), sorted, distinct, informative n-grams only: the n-gram index.
  std::vector<std::pair<uint64_t, uint32_t>> ngrams_;
  // (n-gram hash >> (64 - kBucketBits)) -> the start of its postings in ngrams_ (one more entry at the end):
  // a record n-gram that passes the filter finds its postings without a binary search.
  static constexpr int kBucketBits = 17;
  std::vector<uint32_t> bucket_starts_;
  // A short unit as the edit path first checks it, without touching the unit.
  struct ShortUnit {
    uint32_t unit;
    uint32_t allowed;                // the edits allowed: min(max_edits, tokens / 5)
    std::array<uint64_t, 2> bloom;   // the unit's token bloom
  };
  // Short units by token count.
  std::vector<std::vector<ShortUnit>> short_by_length_;
  // (stripped-text hash, unit), only with exact_stripped.
  std::unordered_map<uint64_t, uint32_t> stripped_;
  // A one-hash bit filter over the n-gram hashes (2^23 bits): most record n-grams are in no reference,
  // and the filter spares them the postings lookup.
  std::vector<uint64_t> filter_;
  // Hit counts, updated concurrently by process() (sums do not depend on scheduling).
  std::unique_ptr<std::atomic<uint32_t>[]> item_hits_;
  std::unique_ptr<std::atomic<int64_t>[]> bench_records_;
  mutable std::atomic<int64_t> by_ngram_{0}, by_edit_{0}, by_exact_{0};
  // Per item hit, one example: the hit whose record key (hash of id, file, line) is smallest, so that the
  // choice does not depend on scheduling.
  struct Example {
    uint64_t key = UINT64_MAX;
    std::string json;
  };
  mutable std::mutex examples_mutex_;
  mutable std::unordered_map<uint32_t, Example> examples_;
};

// The word tokens of a text: lowercased, NFKC subset, LaTeX delimiters and spacing dropped, then runs of
// letters (ASCII letters and every non-ASCII byte) and runs of digits; everything else separates.
// Each token is (start, length) in `norm`, the normalised text.
void word_tokens(std::string_view text, std::string& norm, std::vector<std::pair<uint32_t, uint32_t>>& tokens);
// Word n-gram hashes (sorted, distinct) of token hashes (fewer than n tokens: none).
std::vector<uint64_t> word_ngram_hashes(const std::vector<uint64_t>& token_hashes, size_t n);
// The text for the exact method: every normalisation step, digits and punctuation removed, then no spaces.
std::string stripped_text(std::string_view text);
// Whether a text has enough prose for the exact method: at least 3 words of 2+ letters outside LaTeX
// commands (so that texts of only numbers, operators and commands never match by exact_stripped).
bool has_prose(std::string_view text);
// Word edit distance of token hashes `a` and `b` (from word_tokens and the op's token hashing); with
// `rigid`, only flexible words (find, compute, the, ...) may be inserted, deleted or replaced. Returns
// limit + 1 when the distance exceeds limit.
size_t token_edit_distance(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b, size_t limit, bool rigid);

}  // namespace tamis::dedup
