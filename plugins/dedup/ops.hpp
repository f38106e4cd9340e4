// The dedup plugin family: dedup.exact (see docs/dedup.md).
#pragma once

#include <tamis/sdk.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "exact_index.hpp"
#include "normalize.hpp"

namespace tamis::dedup {

// The normalisation parameters every dedup op shares, and their reading.
void add_normalize_params(ParamTable& table);
NormalizeOptions read_normalize_params(const Params& p);

class Exact {
 public:
  static constexpr const char* name = "dedup.exact";
  static constexpr const char* summary =
      "Exact dedup on normalised key fields (XXH3-128): the first record in input order survives; later copies are "
      "rejected as `duplicate` with `dup_of`. Optional answer-conflict checks and a saved/loaded index.";
  static constexpr OpKind kind = OpKind::ordered;
  static const ParamTable params;

  Exact(const Params& p, Stage& stage);
  static void check(const Params& p);

  struct Prepared {
    Key128 key;
    uint64_t answer = kNoAnswer;  // answer_value(XXH3-64 of the normalised answer), or kNoAnswer
  };
  Prepared prepare(Record& r) const;
  void ordered(Record& r, Prepared& p);
  void finish(Stage& stage);

 private:
  enum class Conflict { tag, reject_later, reject_both };

  std::vector<std::string> fields_;
  NormalizeOptions norm_;
  std::string answer_field_;  // empty: no answer checks
  Conflict on_conflict_ = Conflict::tag;
  std::string save_path_, load_path_;
  ExactIndex index_;
  size_t loaded_ = 0;
  int64_t duplicates_ = 0, conflicts_ = 0;
  std::vector<std::string> conflicted_survivors_;  // reject_both: earlier records that could not be retracted
};

}  // namespace tamis::dedup
