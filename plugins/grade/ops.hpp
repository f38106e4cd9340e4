// The `grade` plugin family: ops for verifiable math problems.
//   grade.answer      grades a response field against a reference answer (answer.hpp); formerly `grade`
//   grade.difficulty  pass rate from rollouts, a keep band, suspect labels (difficulty.cpp); formerly `difficulty`
//   grade.verifiable  (formerly `filter.format`) rejects problems that cannot be graded by a final answer (proofs, multi-part, ...)
#pragma once

#include <tamis/sdk.hpp>

#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <utility>
#include <vector>

#include "answer.hpp"

namespace tamis::grade {

class Grade {
 public:
  static constexpr const char* name = "grade.answer";
  static constexpr const char* former_names[] = {"grade"};
  static constexpr const char* summary =
      "Grades a response against a reference answer (boxed / #### / 'The answer is' extraction, LaTeX normalisation, "
      "exact-rational and tolerant numeric equivalence); annotates correct, extracted and grade_reason.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit Grade(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

 private:
  std::string response_field_;
  std::string reference_field_;
  GradeOptions options_;
  bool extract_reference_;
  bool reject_incorrect_;
};

class Format {
 public:
  static constexpr const char* name = "grade.verifiable";
  static constexpr const char* former_names[] = {"filter.format"};
  static constexpr const char* summary =
      "Rejects problems that are not verifiable by a final answer: proofs, multi-part, multiple choice, missing or "
      "long-prose reference answers, problems that need a figure. Each rule has its own reason and switch.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit Format(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

  struct Rules {
    bool proof = true, multi_part = true, multiple_choice = true, missing_answer = true, long_answer = true,
         needs_figure = true;
    size_t long_answer_chars = 300;
    size_t long_answer_words = 12;
  };
  // The rule a problem/answer pair breaks: {reason, detail}, or an empty reason. `answer` is nullptr
  // when the record has no usable answer field. Exposed for tests.
  static std::pair<std::string, std::string> classify(std::string_view problem, const std::string* answer, const Rules& rules);

 private:
  std::string problem_field_;
  std::string answer_field_;
  Rules rules_;
};

class Difficulty {
 public:
  static constexpr const char* name = "grade.difficulty";
  static constexpr const char* former_names[] = {"difficulty"};
  static constexpr const char* summary =
      "Pass rate from rollouts (inline responses / answers / correctness values, precomputed counts or pass rates, one "
      "field per model, a sidecar, or a preset for Skywork-OR1, Big-Math, OpenR1 and verl layouts): keeps a pass-rate band, rejects too_easy / too_hard / too_few_samples and suspect labels (a majority answer "
      "that differs from the reference); annotates pass_rate, n_samples, n_correct, majority_answer, majority_share.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  Difficulty(const Params& p, Stage& stage);
  static void check(const Params& p);
  void process(Record& r) const;

  // The stage's parameters with its `preset` applied: each parameter the preset names takes the preset's
  // value unless the stage set it (a parameter with a default counts as set when it differs from it); a
  // preset's field set to "" is left out. Exposed for tests.
  static std::unique_ptr<Params> with_preset(const Params& p);

  // A worked reference solution (\boxed, ####, or several lines ending "A: x") reduced to its final answer.
  static std::string reduce_reference(const std::string& reference);

 private:
  struct Merged {};
  Difficulty(const Params& merged, Stage& stage, Merged);
  static void check_merged(const Params& p);
  // Fails the stage when a rollout.sample early_stop member (beside answers/correct) names other
  // settings than this stage's.
  void check_early_stop(const Record& r, const simdjson::dom::element& es, const std::string& path) const;

  enum class Kind { responses, answers, correct };
  enum class Suspect { reject, annotate, off };
  enum class ModelBand { pooled, all, any };
  struct Band {
    double min = 0, max = 1;
    bool inclusive = false;
  };
  // model_bands: model name -> its band (min, max, inclusive; unset keys from the stage's band).
  static std::vector<std::pair<std::string, Band>> parse_bands(const Params& p);
  struct Rollout {
    bool correct = false;
    std::string answer;  // extracted / given answer, "" when none
  };
  struct Group {
    std::string answer;  // the first answer of the group, as written
    std::string norm;    // its normalize() form; "" when it cannot be compared (too long, or empty)
    int64_t count = 0;
  };
  struct Tally {
    int64_t n = 0, correct = 0;
    std::vector<Group> groups;  // answers grouped by equivalence, in order of first appearance
  };
  Tally tally(const std::vector<Rollout>& rollouts) const;
  void add_answer(std::vector<Group>& groups, const std::string& answer, int64_t count) const;
  void add_group(std::vector<Group>& groups, const Group& g) const;
  void load_sidecar(const std::string& path, Stage& stage);

  // Sidecar rollouts per record id: per model (name "" without sidecar_model_field), the count, the
  // marked-correct count (sidecar_correct_field or kind correct) and the answers grouped by equivalence.
  struct SideModel {
    std::string name;
    int64_t n = 0, marked = 0;
    std::vector<Group> groups;
  };
  using SideMap = std::unordered_map<std::string, std::vector<SideModel>>;
  struct SideChunk;
  // Reads one chunk of sidecar lines into `out` (and the model names in order of first appearance);
  // returns the rollout count. Throws Error naming the file line of a bad line.
  int64_t load_chunk(const SideChunk& chunk, const std::string& path, simdjson::dom::parser& parser, SideMap& out,
                     std::vector<std::string>& model_names) const;
  SideMap sidecar_;
  std::vector<std::string> sidecar_model_names_;  // every model of the sidecar, in order of first appearance
  bool sidecar_on_ = false, sidecar_marked_ = false, sidecar_models_ = false;
  Kind sidecar_kind_ = Kind::responses;
  std::string sidecar_id_field_, sidecar_field_, sidecar_correct_field_, sidecar_model_field_;

  std::string responses_field_, answers_field_, correct_field_, n_field_, correct_count_field_;
  std::string preset_;
  std::string counts_field_;     // counts_by_model_field: {model: count of n_per_}
  bool counts_incorrect_ = false;  // counts_of: incorrect
  std::string pass_rate_field_;  // a share of n_per_ rollouts
  int64_t n_per_ = 0;
  double correct_threshold_;     // NaN: only true/false/0/1
  std::vector<std::string> early_stop_paths_;  // "<parent>.early_stop" of answers_field / correct_field
  std::vector<std::pair<std::string, std::string>> models_;
  Kind models_kind_ = Kind::responses;
  std::string reference_field_;
  double min_, max_;
  bool inclusive_;
  int64_t min_samples_;
  double suspect_share_;
  Suspect suspect_action_ = Suspect::reject;
  ModelBand model_band_ = ModelBand::pooled;
  std::vector<std::pair<std::string, Band>> model_bands_;
  GradeOptions options_;
};

}  // namespace tamis::grade
