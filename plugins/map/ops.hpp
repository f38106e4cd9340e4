// The `map` plugin family: ops that reshape records (docs/map.md).
//   map.rename          rename, drop or keep top-level fields
//   map.set             constant fields (any JSON value, nested paths)
//   map.template        a field built from a template of other fields (a string, or a JSON value)
//   map.extract_answer  the final answer of a worked solution, by the grader's extraction
//   map.choice_answer   options + label → the answer text
//   map.to_verl         a record in verl's RL dataset schema
//   map.to_openrlhf     a record in OpenRLHF's prompt dataset layout (chat JSONL)
#pragma once

#include <tamis/sdk.hpp>

#include <string>
#include <utility>
#include <vector>

#include "answer.hpp"
#include "edit.hpp"

namespace tamis::map {

class Rename {
 public:
  static constexpr const char* name = "map.rename";
  static constexpr const char* summary = "Renames, drops or keeps top-level fields, leaving every other byte of the record as it was.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit Rename(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

 private:
  std::vector<std::pair<std::string, std::string>> renames_;  // old → new
  std::vector<std::string> drop_;
  std::vector<std::string> keep_;
  bool has_keep_;
};

class Set {
 public:
  static constexpr const char* name = "map.set";
  static constexpr const char* summary = "Sets fields to constant JSON values (nested paths a.b), replacing them or only where absent.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit Set(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

 private:
  struct Field {
    std::string path;
    std::vector<std::string> keys;
    std::string value_json;
  };
  std::vector<Field> fields_;
  bool overwrite_;
};

class Template {
 public:
  static constexpr const char* name = "map.template";
  static constexpr const char* summary = "Builds a field from a template of other fields: a string (\"{system}\\n\\n{problem}\") or a JSON value whose strings are templates (a chat prompt).";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit Template(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

 private:
  std::string to_;
  std::vector<std::string> keys_;
  JsonTemplate template_;
  bool overwrite_;
  bool reject_missing_;
};

class ExtractAnswer {
 public:
  static constexpr const char* name = "map.extract_answer";
  static constexpr const char* summary = "Puts the final answer of a worked solution (\\boxed{}, #### N, \"The answer is X\", ...) into a field, with the grader's extraction.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit ExtractAnswer(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

 private:
  std::string from_;
  std::string to_;
  std::vector<std::string> keys_;
  grade::ExtractOptions options_;
  bool normalize_;
  bool overwrite_;
  bool reject_none_;
  bool annotate_;
};

class ChoiceAnswer {
 public:
  static constexpr const char* name = "map.choice_answer";
  static constexpr const char* summary = "Turns multiple-choice options and a label (a letter or an index) into the answer text.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit ChoiceAnswer(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

  // The options written in a text as "A) ...", "(A) ...", "A. ..." or "A: ..." markers, in letter order
  // from A, each at the start of a line or after a space; fewer than two: none. Public for the tests.
  static std::vector<std::string> options_in_text(std::string_view text);

 private:
  std::string options_;
  std::string text_;
  std::string label_;
  std::string to_;
  std::vector<std::string> keys_;
  int64_t index_base_;
  bool strip_letters_;
  bool overwrite_;
};

// What map.to_verl and map.to_openrlhf share: the prompt, the ground truth, the data source and the
// extra information object.
class TrainerRecord {
 public:
  TrainerRecord(const Params& p, const char* data_source_param);
  static void check(const Params& p, bool chat);

  // The prompt as a JSON list of {role, content} messages (chat) or as a JSON string.
  std::optional<std::string> prompt(const Record& r, bool chat, Missing& missing) const;
  std::optional<std::string> ground_truth(const Record& r, Missing& missing) const;
  std::optional<std::string> data_source(const Record& r, Missing& missing) const;
  // {id, source, split, extra fields, annotations} as JSON text.
  std::string extra_info(const Record& r) const;

 private:
  JsonTemplate prompt_;
  TextTemplate system_;
  std::string answer_;
  TextTemplate data_source_;
  std::string split_;
  std::vector<std::string> extra_fields_;
  std::vector<std::string> annotations_;
  bool all_annotations_ = false;
  std::string annotation_field_;
};

class ToVerl {
 public:
  static constexpr const char* name = "map.to_verl";
  static constexpr const char* summary = "Reshapes a record into verl's RL dataset schema: data_source, prompt (chat messages), ability, reward_model {style, ground_truth}, extra_info (id, source, annotations).";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit ToVerl(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

 private:
  TrainerRecord common_;
  std::string ability_;
  std::string style_;
};

class ToOpenRlhf {
 public:
  static constexpr const char* name = "map.to_openrlhf";
  static constexpr const char* summary = "Reshapes a record into OpenRLHF's prompt dataset layout: input (chat messages or text), label, datasource, extra_info.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit ToOpenRlhf(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

 private:
  TrainerRecord common_;
  bool chat_;
  std::string input_key_;
  std::string label_key_;
  std::string info_key_;
};

// Rejects `r` for `m` (a field that is missing or unusable) with reason `reason`.
inline void reject_for(Record& r, const Missing& m, std::string_view reason = "missing_field") {
  r.reject_missing_field(m.field, reason, m.detail);
}

}  // namespace tamis::map
