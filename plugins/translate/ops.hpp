// The translation ops (docs/translation.md):
//   translate.tag     a deterministic, balanced share of the source-language records gets a target language
//   translate.export  tagged records -> OpenAI Batch API request file
//   translate.import  translations (Batch API output or {id, text}) -> translated records, fidelity-checked
#pragma once

#include <tamis/sdk.hpp>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "batch.hpp"

namespace tamis::translate {

// A tag left on the record by an earlier stage or an earlier run: this run's annotation `key`, else the
// string field at path `key`, else the field `tamis.KEY` (an earlier run's annotations, default field).
std::optional<std::string> read_tag(const Record& r, const std::string& key);

// `object` (one JSON object's text) with top-level members set: each edit replaces the value of the
// member named `key` (first occurrence, key compared unescaped), or, when there is none and `append` is
// true, adds `"key":value` at the end. Every other byte stays as it was.
struct MemberEdit {
  std::string_view key;
  std::string value_json;
  bool append = true;
};
std::string set_members(std::string_view object, const std::vector<MemberEdit>& edits);

class Tag {
 public:
  static constexpr const char* name = "translate.tag";
  static constexpr const char* former_names[] = {"translate_tag"};
  static constexpr const char* summary =
      "Selects a deterministic fraction of the records in the source language (seeded XXH3 of the id, independent of "
      "other records) and gives each a target language (balanced per input batch, or by a rendezvous hash alone); `tag` annotates "
      "`translate_to`, `copy` keeps the original untouched and emits a tagged copy with id `<id>#<lang>`.";
  static constexpr OpKind kind = OpKind::expanding;
  static const ParamTable params;

  Tag(const Params& p, Stage& stage);
  static void check(const Params& p);
  void process(Record& r) const;
  void finish(Stage& stage);

 private:
  struct Tally {
    int64_t source = 0, selected = 0;
    std::vector<int64_t> languages;
  };
  std::string copy_text(const Record& r, const std::string& lang, const std::string& new_id) const;

  std::string source_, lang_field_, key_, stratify_, id_field_;
  double fraction_;
  uint64_t seed_, threshold_;
  bool copy_, balanced_;
  size_t per_record_;
  std::vector<std::string> langs_;
  std::vector<uint64_t> lang_keys_;
  std::vector<double> buckets_;  // stratify: bounds of numeric strata
  std::unordered_map<std::string, std::pair<double, uint64_t>> stratum_fraction_;  // stratum -> fraction, threshold
  // Tallies, updated concurrently (sums do not depend on scheduling).
  mutable std::atomic<int64_t> source_n_{0}, selected_n_{0}, other_lang_{0}, no_lang_{0}, no_key_{0};
  std::unique_ptr<std::atomic<int64_t>[]> per_lang_;
  mutable std::mutex strata_mu_;
  mutable std::map<std::string, Tally> strata_;
};

class Export {
 public:
  static constexpr const char* name = "translate.export";
  static constexpr const char* summary =
      "Writes each record tagged with a target language (`translate_to`) as an OpenAI Batch API request "
      "(custom_id = record id, chat messages from a template asking for a faithful translation that keeps LaTeX, "
      "numbers and code), atomically, split at the API's per-file limits; records pass on unchanged.";
  static constexpr OpKind kind = OpKind::ordered;
  static const ParamTable params;

  Export(const Params& p, Stage& stage);
  ~Export();
  Export(const Export&) = delete;
  Export& operator=(const Export&) = delete;
  static void check(const Params& p);
  std::string prepare(Record& r) const;  // the request line; empty for a record without a target
  void ordered(Record& r, std::string& line);
  void finish(Stage& stage);

 private:
  void open_part();
  void close_part();

  std::string path_, field_, to_field_, lang_field_, source_, model_, url_, extra_body_;
  Template template_;
  std::vector<std::pair<std::string, std::string>> names_;  // language name overrides
  int64_t max_requests_, max_bytes_;
  // Part files being written (temporaries until finish renames them).
  std::vector<std::string> temps_;
  std::FILE* out_ = nullptr;
  int64_t part_requests_ = 0, part_bytes_ = 0, requests_ = 0, bytes_ = 0, duplicates_ = 0;
  std::map<std::string, int64_t> per_target_;
  struct KeyHash {
    size_t operator()(const std::pair<uint64_t, uint64_t>& k) const { return static_cast<size_t>(k.first); }
  };
  std::unordered_set<std::pair<uint64_t, uint64_t>, KeyHash> ids_;  // XXH3-128 of each exported custom_id
  bool committed_ = false;
};

class Import {
 public:
  static constexpr const char* name = "translate.import";
  static constexpr const char* summary =
      "Joins translations (OpenAI Batch API output or {id, text} JSONL, loaded at start and keyed by id) to the "
      "records tagged `translate_to`: replaces the text field, sets `lang` and `translated_from`, after fidelity "
      "checks (detected language, content the model added, numbers, LaTeX math spans, length ratio); failures and missing or malformed "
      "translations are rejected with their reason.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  Import(const Params& p, Stage& stage);
  static void check(const Params& p);
  void process(Record& r) const;
  void finish(Stage& stage);

  // Rejection reasons, in the order the checks run.
  enum Reason { missing_translation, translation_error, malformed_translation, length_ratio, wrong_language,
                added_content, latex_changed, numbers_changed, kReasons };

 private:
  struct Entry {
    Translation t;
    std::string where;  // FILE:LINE
  };
  void load(const std::string& path);
  void fail(Record& r, Reason reason, const std::string& detail) const;
  std::pair<double, double> ratio_bounds(const std::string& lang) const;

  std::string field_, to_field_;
  bool check_language_, check_added_, check_numbers_, check_latex_, write_fields_, keep_on_failure_;
  size_t min_letters_;
  std::vector<std::pair<std::string, std::pair<double, double>>> ratios_;  // "default" first
  std::vector<std::string> files_;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, uint32_t> by_id_;
  std::unique_ptr<std::atomic<uint8_t>[]> used_;
  int64_t lines_ = 0, duplicates_ = 0, loaded_ok_ = 0, loaded_error_ = 0, loaded_malformed_ = 0;
  std::vector<std::string> unattributed_;  // FILE:LINE: message, of lines with no readable id
  mutable std::atomic<int64_t> tagged_{0}, translated_{0}, unchecked_language_{0};
  mutable std::atomic<int64_t> failed_[kReasons] = {};
};

}  // namespace tamis::translate
