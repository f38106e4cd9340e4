// The dedup plugin family: dedup.exact and dedup.minhash (see docs/dedup.md); decontaminate is in
// decontaminate.hpp.
#pragma once

#include <tamis/sdk.hpp>

#include <array>
#include <atomic>
#include <deque>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "clusters.hpp"
#include "exact_index.hpp"
#include "lsh_index.hpp"
#include "survivor.hpp"
#include "normalize.hpp"

namespace tamis::dedup {

using text::NormalizeOptions;
using text::normalize;
using text::normalize_append;

// The normalisation parameters every dedup op shares, and their reading.
void add_normalize_params(ParamTable& table);
NormalizeOptions read_normalize_params(const Params& p);

class Exact {
 public:
  static constexpr const char* name = "dedup.exact";
  static constexpr const char* summary =
      "Exact dedup on normalised key fields (XXH3-128): the first record in input order survives (or the best by "
      "`prefer`); the other copies are rejected as `duplicate` with `dup_of`. Optional answer-conflict checks and a "
      "saved/loaded index.";
  static constexpr OpKind kind = OpKind::ordered;
  static const ParamTable params;

  Exact(const Params& p, Stage& stage);
  static void check(const Params& p);

  struct Prepared {
    Key128 key;
    uint64_t answer = kNoAnswer;  // answer_value(XXH3-64 of answer_text), or kNoAnswer
    std::string answer_text;      // the final answer (answers.hpp: read_answer), "" when none
    SurvivorPolicy::Score score{};  // with `prefer`
  };
  Prepared prepare(Record& r) const;
  void prefetch(const Prepared& p) const { index_.prefetch(p.key); }
  void ordered(Record& r, Prepared& p);
  void finish(Stage& stage);
  // A first pass, for reject_both (to find the conflicted keys, so that their first record is rejected
  // too) and for `prefer` (to find each key's best record).
  bool first_pass() const { return on_conflict_ == Conflict::reject_both || !policy_.empty(); }
  void observe(const Record& r, Prepared& p);

 private:
  enum class Conflict { tag, reject_later, reject_both };
  void ordered_after_first_pass(Record& r, Prepared& p);
  uint32_t insert(Prepared& p, std::string_view id);  // a new key, with its answer (moved out of p)
  std::string_view answer_text(uint32_t n) const;          // key n's survivor's final answer ("": none known)
  // Whether p's answer and a survivor's (hash, text) are different answers, by the grader.
  bool answers_differ(const Prepared& p, uint64_t theirs, std::string_view theirs_text) const;
  static void annotate_conflict(Record& r, std::string_view other, std::string_view mine, std::string_view theirs);
  static std::string conflict_answers(std::string_view mine, std::string_view theirs);
  static constexpr uint64_t kLoaded = UINT64_MAX;  // first_ordinal_ of a key from load_index

  std::vector<std::string> fields_;
  NormalizeOptions norm_;
  std::string answer_field_;  // empty: no answer checks
  Conflict on_conflict_ = Conflict::tag;
  std::string save_path_, load_path_;
  ExactIndex index_;
  size_t loaded_ = 0;
  int64_t duplicates_ = 0, conflicts_ = 0;
  ClusterSizes cluster_sizes_;  // copies per key, for the report
  std::vector<std::string> conflicted_survivors_;  // reject_both: loaded survivors that could not be retracted
  std::vector<uint64_t> first_ordinal_;              // first pass: per key, its first record's ordinal
  std::vector<std::string> answer_texts_;  // with answer_field: per key, its survivor's final answer
  // reject_both: per conflicted key, the first record that disagreed with its first record (id, answer).
  std::unordered_map<uint32_t, std::pair<std::string, std::string>> conflict_with_;
  uint64_t observed_ = 0, passed_ = 0;
  // With `prefer`: per key, the record to keep (when it is not the key's first record).
  struct Chosen {
    SurvivorPolicy::Score score;
    uint64_t ordinal;
    uint64_t answer;
    std::string id;
    std::string answer_text;
  };
  SurvivorPolicy policy_;
  std::unordered_map<uint32_t, Chosen> chosen_;
  std::vector<SurvivorPolicy::Score> first_score_;  // with `prefer`: per key, its first record's score
  // With a clusters file: every copy, with its key's survivor number.
  struct Member {
    uint32_t group;  // the key's survivor number
    std::string id;
    bool conflict;  // an answer conflict (kept with `tag`, else rejected), not a plain duplicate
  };
  std::string clusters_path_;
  std::vector<Member> members_;
  void note_member(uint32_t key, std::string_view id, bool conflict);
  void write_clusters() const;
};

// The bands x rows (b * r <= num_perm) minimising false positive + false negative area at threshold.
std::pair<int, int> minhash_bands(int num_perm, double threshold);

// A few uint32 values in place, more on the heap: MinHash's band fingerprints (16 at the defaults),
// which the serial part then reads from a batch's contiguous array of Prepared, not through one more
// pointer (one more cache miss) per record.
class InlineU32 {
 public:
  void resize(size_t n) {
    n_ = n;
    if (n > kInline) heap_.resize(n);
  }
  size_t size() const { return n_; }
  uint32_t* data() { return n_ > kInline ? heap_.data() : in_.data(); }
  const uint32_t* data() const { return n_ > kInline ? heap_.data() : in_.data(); }
  uint32_t& operator[](size_t i) { return data()[i]; }

 private:
  static constexpr size_t kInline = 32;
  std::array<uint32_t, kInline> in_{};
  std::vector<uint32_t> heap_;
  size_t n_ = 0;
};

class MinHash {
 public:
  static constexpr const char* name = "dedup.minhash";
  static constexpr const char* summary =
      "Near-duplicate dedup: MinHash signatures of word or character n-grams, LSH bands, candidates confirmed by exact "
      "Jaccard; the first record in input order survives, later ones are rejected `near_duplicate` with `dup_of`, "
      "`similarity` and `cluster`.";
  static constexpr OpKind kind = OpKind::ordered;
  static const ParamTable params;

  MinHash(const Params& p, Stage& stage) : MinHash(p, stage, shape(p)) {}
  static void check(const Params& p);

  using Candidate = std::pair<uint32_t, uint32_t>;  // (survivor, bands shared)
  struct Prepared {
    std::vector<uint32_t> values;    // sorted, distinct 32-bit shingle hashes (verify: jaccard) or the signature
    InlineU32 fps;                   // per band, the band key's 32-bit fingerprint
    SurvivorPolicy::Score score{};   // the `prefer` criteria, in order; higher is better
    // The parallel part's search of the survivors published when it ran (see resolve() in minhash.cpp).
    uint32_t searched = 0;              // survivors [0, searched) were searched
    uint32_t earlier = 0;               // distinct candidates among them
    uint32_t match = LshIndex::npos;    // the earliest of those verified at or above the threshold
    double similarity = 0;
    std::vector<Candidate> selected;    // over max_candidates: the ones kept, by number
    // With `answers: distinct`: the record's final answer (read_answer), and the earliest survivor the parallel
    // part found similar enough but with a different answer (npos: none).
    std::string answer;
    // With `numbers: distinct`: the numbers of the normalised text, sorted, space-separated.
    std::string numbers;
    uint32_t refused = LshIndex::npos;
    double refused_similarity = 0;
    bool refused_for_numbers = false;
  };
  Prepared prepare(Record& r) const;
  void prefetch(const Prepared& p) const { index_.prefetch(p.fps.data()); }
  void ordered(Record& r, Prepared& p);
  // Survivor policies (prefer): a first pass chooses each cluster's member to keep.
  bool first_pass() const { return !policy_.empty(); }
  void observe(const Record& r, Prepared& p);
  void finish(Stage& stage);

 private:
  static constexpr uint32_t npos = LshIndex::npos;
  // A survivor whose text matched but whose answer did not (`answers: distinct`): the evidence that a
  // kept record is a different problem, not a missed duplicate.
  struct Refusal {
    uint32_t survivor = npos;
    double similarity = 0;
    bool numbers = false;  // refused for its numbers (else for its answer)
    void note(uint32_t c, double s, bool for_numbers) {
      if (c < survivor) survivor = c, similarity = s, numbers = for_numbers;
    }
  };
  enum class Match { no, yes, other_answer, other_numbers };
  static std::pair<int, int> shape(const Params& p);  // (bands, rows): given, or chosen for the threshold
  MinHash(const Params& p, Stage& stage, std::pair<int, int> bands_rows);
  // Candidates in [from, to), with the bands each shares, by number.
  void gather(const Prepared& p, uint32_t from, uint32_t to, std::vector<Candidate>& out) const;
  // Keeps the max_candidates sharing the most bands (then the earliest), by number.
  void select(std::vector<Candidate>& c) const;
  // Whether survivor c is a near duplicate of p (sets the similarity when the texts match); with
  // `answers: distinct`, texts that match with answers that differ are `other_answer`.
  Match matches(const Prepared& p, uint32_t c, double& sim) const;
  // The position of the first of list[from..] that matches, or list.size(); prefetches ahead. Survivors
  // refused for their answer on the way are noted in `refused`.
  size_t first_match(const Prepared& p, const std::vector<Candidate>& list, size_t from, double& sim, Refusal& refused) const;
  // The earliest matching survivor, or npos; when npos, `refused` is the earliest refused for its answer
  // among the candidates the verdict considered (the same for any split between the two parts).
  uint32_t resolve(Prepared& p, double& sim, Refusal& refused);
  // The earliest of list[0, end) refused for its answer or numbers (the list is by number: the first found).
  Refusal earliest_refused(const Prepared& p, const std::vector<Candidate>& list, size_t end) const;
  void note_distinct(Record& r, const Prepared& p, const Refusal& refused);
  // With `prefer`: the evidence for a cluster's kept member, against the other cluster's kept member.
  void note_distinct_kept(Record& r, const Prepared& p, const Refusal& founders);
  void write_distinct(Record& r, bool numbers, const std::string& of, double similarity, const std::string& mine,
                      const std::string& theirs);
  double similarity(std::span<const uint32_t> a, std::span<const uint32_t> b) const;
  void reject_duplicate(Record& r, uint32_t cluster, const std::string& id, double sim);
  void add_survivor(std::string_view id, const uint32_t* fps, const uint32_t* values, size_t n, const Prepared* p);

  std::string field_;
  NormalizeOptions norm_;
  bool words_;
  size_t ngram_;
  double threshold_;
  bool verify_exact_;
  size_t max_candidates_;  // 0: no limit
  int bands_ = 0, rows_ = 0;
  std::vector<uint32_t> a_lo_, a_hi_, b_lo_, b_hi_;  // the hash functions' a_i (odd) and b_i, in halves
  LshIndex index_;
  std::vector<std::string> ids_;  // per survivor (serial part only)
  // `answers: distinct`: the answer field, and per survivor its final answer, written before the
  // survivor is published (readers in prepare() see it through the same publication).
  bool distinct_ = false;
  std::string answer_field_;
  Segmented<std::string, 12> answers_;
  int64_t answer_distinct_ = 0;
  // `numbers: distinct`: per survivor the numbers of its text (Prepared::numbers), published the same way.
  bool numbers_distinct_ = false;
  Segmented<std::string, 12> numbers_;
  int64_t numbers_distinct_count_ = 0;
  // With `prefer`: per cluster, its first member's refusal (the evidence given to the member kept).
  std::unordered_map<uint64_t, Refusal> first_pass_refused_;
  std::vector<Candidate> fresh_, merged_;
  int64_t candidates_total_ = 0, capped_ = 0;
  // Survivor policy: per cluster (= first member's survivor number) the member to keep; per record of
  // the first pass its cluster.
  struct Chosen {
    SurvivorPolicy::Score score;
    uint64_t ordinal;
    uint32_t own;  // npos: the cluster's survivor (id and values in the index); else its entry in owned_
  };
  struct Owned {  // a chosen member that is not its cluster's survivor
    std::string id;
    std::vector<uint32_t> values;
    std::vector<uint32_t> fps;  // only with save_index
    std::string answer, numbers;  // with answers / numbers: distinct, for the evidence
  };
  static constexpr uint64_t kLoaded = UINT64_MAX;  // Chosen::ordinal of a survivor from load_index
  SurvivorPolicy policy_;
  std::vector<Owned> owned_;
  std::vector<Chosen> chosen_;
  std::vector<uint32_t> cluster_of_;
  uint64_t passed_ = 0;
  int64_t below_threshold_ = 0;
  // With a clusters file: every near duplicate, with its survivor and similarity.
  struct Member {
    uint32_t group;  // the cluster's survivor number
    std::string id;
    double similarity;
  };
  void write_clusters() const;
  std::string settings() const;
  void save(const std::string& path) const;
  void load(const std::string& path);
  int64_t seed_ = 0;
  std::string save_path_;
  std::vector<uint32_t> fps_;  // per survivor, only with save_index
  std::string clusters_path_;
  std::vector<Member> members_;
  int64_t duplicates_ = 0;
  ClusterSizes cluster_sizes_;  // copies per cluster, for the report
};

}  // namespace tamis::dedup
