// The fingerprint plugin family: slop profiles per group of records, and slop scores per record
// (see docs/fingerprint.md).
#pragma once

#include <tamis/sdk.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "flat_map.hpp"
#include "tokenize.hpp"

namespace tamis::fingerprint {

// Counts of one feature in one corpus (a group, or the reference).
struct FeatureCount {
  uint64_t count = 0;    // occurrences
  uint32_t records = 0;  // distinct records holding it
  uint32_t text = 0;     // index of its text in the corpus (Corpus::text)
};

// One corpus: a group of records, or the human reference.
struct Corpus {
  std::string name;
  uint64_t records = 0, words = 0;
  std::array<uint64_t, 3> total{};  // occurrences of words, bigrams, trigrams counted
  FlatMap<FeatureCount> counts;
  // Each feature's text, once per corpus (a global text table cost a second hash probe per new feature in
  // the serial part): text(i) is texts[text_start[i] .. text_start[i + 1]).
  std::string texts;
  std::vector<uint64_t> text_start{0};
  std::string_view text(uint32_t i) const {
    return std::string_view(texts).substr(text_start[i], text_start[i + 1] - text_start[i]);
  }
};

class Profile {
 public:
  static constexpr const char* name = "fingerprint.profile";
  static constexpr const char* summary =
      "Observes (keeps every record): per group of records, the words (>= 4 letters), bigrams and trigrams most "
      "over-represented against a human reference (smoothed log ratio with an informative Dirichlet prior); "
      "writes profile.json, the distance matrices, nearest neighbours, an average-linkage tree (Newick and text).";
  static constexpr OpKind kind = OpKind::ordered;
  static const ParamTable params;

  Profile(const Params& p, Stage& stage);
  static void check(const Params& p);

  struct Feature {
    uint64_t hash;
    uint32_t first;  // first word of its first occurrence in Prepared::tokens
    uint32_t count;
    uint8_t order;   // 1, 2, 3
  };
  struct Prepared {
    bool ok = false;
    std::string group;
    Tokens tokens;
    std::vector<Feature> features;  // distinct, by hash
  };
  Prepared prepare(Record& r) const;
  void ordered(Record& r, Prepared& p);
  void finish(Stage& stage);

 private:
  void merge(const Prepared& p, Corpus& corpus);
  void read_reference(const std::vector<std::string>& patterns, const std::string& field, bool dedup);
  void features_of(std::string_view text, Prepared& out) const;

  std::string group_by_, field_, dir_, measure_, rank_;
  TokenizeOptions tok_;
  int64_t min_count_, min_records_, neighbours_, max_groups_;
  std::array<int64_t, 3> top_{};
  double prior_;
  bool has_reference_ = false;
  std::vector<std::string> reference_files_;
  uint64_t reference_duplicates_ = 0;
  uint64_t reference_missing_ = 0;  // reference lines without a string human_field
  std::string reference_missing_first_;  // FILE:LINE of the first

  Corpus reference_;
  std::unordered_map<std::string, Corpus> groups_;
  uint64_t missing_group_ = 0, missing_text_ = 0;
  std::string missing_example_;  // where the first record without the group or text field was, and its keys
};

class Score {
 public:
  static constexpr const char* name = "fingerprint.score";
  static constexpr const char* summary =
      "Scores a text field against slop lists (published slop-list JSON arrays, or the top features of a "
      "fingerprint.profile profile.json): annotates `slop_score` (weighted hits per 1,000 words), `slop_words` "
      "and `slop_hits`; with `max`, rejects records above it as `slop`.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  Score(const Params& p, Stage& stage);
  static void check(const Params& p);
  void process(Record& r) const;
  void finish(Stage& stage);

  struct Entry {
    std::string text;
    double weight;
  };

 private:
  void load(const std::string& path, const std::string& group);
  void add(std::string_view raw, double weight, const std::string& where);

  std::string field_;
  TokenizeOptions tok_;
  bool has_max_ = false;
  double max_ = 0;
  int64_t max_hits_;
  std::vector<Entry> entries_;
  std::unordered_map<uint64_t, uint32_t> index_;  // feature hash -> entry
  std::array<size_t, 3> by_order_{};
};

}  // namespace tamis::fingerprint
