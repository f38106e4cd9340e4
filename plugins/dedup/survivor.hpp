// Survivor policies (`prefer`), shared by dedup.exact and dedup.minhash: which member of a group of
// duplicates to keep when the first in input order is not the best one. Criteria, most important
// first: `answer` (a non-empty answer field), `source` (earlier in a source ranking), `longer` (more
// bytes of text); ties go to the earlier record. Ops with a policy ask for a first pass (observe()) to
// see every member before choosing. See docs/dedup.md#survivor-policies.
#pragma once

#include <tamis/sdk.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tamis::dedup {

class SurvivorPolicy {
 public:
  using Score = std::array<int64_t, 3>;  // per criterion, in order; higher is better

  // Adds `prefer` and `source_rank` (and, when `answer_field_default` is set, `answer_field` with
  // that default: dedup.exact has its own optional answer_field already).
  static void add_params(ParamTable& t, const char* answer_field_default);
  // Throws tamis::Error for a criterion listed twice, `source` without source_rank, and `answer`
  // without an answer field.
  static void check(const Params& p);
  explicit SurvivorPolicy(const Params& p);

  bool empty() const { return prefer_.empty(); }
  // `text_bytes`: the size of the record's text, for `longer`.
  Score score(const Record& r, size_t text_bytes) const;

 private:
  enum class Prefer { answer, source, longer };
  std::vector<Prefer> prefer_;
  std::string answer_field_;
  std::vector<std::string> source_rank_;
};

}  // namespace tamis::dedup
