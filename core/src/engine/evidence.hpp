// Evidence samples (the review page, issue 16): per stage, a bounded sample of the records it rejected,
// per reason, and of the records it let through, each with what the decision rests on: the record's
// id and place (source, file, line), the op's reason and detail, the annotations the record carries at
// the end of the run (dup_of and similarity, contaminated_by with the benchmark item and the shared span,
// extracted and correct, majority_answer and its share, lang and its confidence, the translation's
// checks ...; a user plugin's evidence is whatever it annotates), and the start of the record's text.
//
// A duplicate is shown beside the record kept instead (its `dup_of` annotation, the convention of the
// dedup ops that a user plugin can follow): the sampler watches one record in kWatchEvery by a hash of its
// id (at most kWatchMax, with the start of their text), and for each reason keeps a second reservoir of
// the rejections whose dup_of is a watched record; those come first in the sample, with the survivor's
// id and text. (A survivor that comes after its duplicate in input order, as `prefer` can choose, is not
// shown.)
//
// The sample is a reservoir (Vitter's algorithm R) filled in the account step, which sees the batches
// one at a time in input order: with a seeded generator per (stage, reason), the same input and pipeline
// give the same samples for any thread count. Its size is bounded: kSamplesPerReason records per reason
// and per stage's kept records, each clipped (kTextBytes of text, kValueBytes per annotation value), so
// a 1M-record run writes a few hundred kB of samples at most.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <string>
#include <vector>

#include "engine/batch.hpp"
#include "pipeline/pipeline.hpp"

namespace tamis {

struct RunNames;

class EvidenceSampler {
 public:
  static constexpr size_t kSamplesPerReason = 5;
  static constexpr size_t kTextBytes = 600;
  static constexpr size_t kValueBytes = 400;
  static constexpr uint64_t kWatchEvery = 32;
  static constexpr size_t kWatchMax = 8192;

  explicit EvidenceSampler(const Pipeline& p);
  // Serial, in input order: the batch's decisions.
  void add(const Batch& b, const RunNames& names);
  // Stage `s`'s samples as a JSON object: {"kept": [...], "rejected": {"REASON": [...], ...}}, each
  // sample {"id", "source", "file", "line", "reason", "detail", "annotations": {...}, "text",
  // "text_bytes"}; "" when the stage saw no record.
  std::string json(size_t s) const;

 private:
  struct Reservoir {
    uint64_t seen = 0;
    uint64_t state = 0;  // the generator (splitmix64), seeded from the stage and the reason
    std::vector<std::string> items;  // samples as JSON objects
    // The slot the n-th record takes (0..K-1), or -1 when it is not sampled.
    int64_t draw();
    void put(int64_t slot, std::string sample);  // into the slot draw() gave
  };
  Reservoir& reservoir(size_t stage, const std::string& reason, bool with_survivor);
  std::string sample(const Record& r, const Batch& b, const RunNames& names, bool rejected) const;

  const Pipeline& p_;
  std::vector<Reservoir> kept_;                        // per stage
  std::vector<std::map<std::string, Reservoir>> rejected_;  // per stage, by reason
  std::vector<std::map<std::string, Reservoir>> beside_;    // per stage, by reason: duplicates whose survivor is watched
  std::unordered_map<std::string, std::string> watched_;    // id -> {"id":..,"text":..} of watched records
};

}  // namespace tamis
