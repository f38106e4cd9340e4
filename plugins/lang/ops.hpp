// The `lang` plugin family: language identification of prompts and reasoning traces.
//   lang.identify     (formerly `langid`) detects the language of one or more fields; annotates lang, lang_confidence,
//                     lang_reliable; with `allow`, a filter (reason `language`)
//   lang.consistency  rejects responses whose parts (prompt, <think> part, answer) or chunks are in
//                     different languages (reason `mixed_language`)
// Both use the detection library of detect.hpp (strip LaTeX/code/URLs/numbers, fast path, CLD2).
// translate.tag, translate.export and translate.import live in plugins/translate.
#pragma once

#include <tamis/sdk.hpp>

#include <string>
#include <vector>

#include "detect.hpp"

namespace tamis::lang {

class LangId {
 public:
  static constexpr const char* name = "lang.identify";
  static constexpr const char* former_names[] = {"langid"};
  static constexpr const char* summary =
      "Detects the language of one or more text fields after removing LaTeX, code, URLs and numbers (CLD2, with a "
      "script/function-word fast path); annotates lang (ISO 639-1, `und` below min_letters unless short CJK text names itself by its "
      "script: min_cjk), lang_confidence and "
      "lang_reliable; with `allow`, rejects other languages (reason language).";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit LangId(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

 private:
  std::vector<std::string> fields_;
  std::vector<std::string> allow_;
  bool filter_ = false;
  DetectOptions options_;
};

class Consistency {
 public:
  static constexpr const char* name = "lang.consistency";
  static constexpr const char* summary =
      "Language consistency of a reasoning trace: detects the language of the prompt, of the <think> part and of the "
      "answer (LaTeX and code removed) and of chunks of the response; rejects (reason mixed_language) when the parts "
      "disagree or a second language holds more than max_other_share of the response's letters.";
  static constexpr OpKind kind = OpKind::record;
  static const ParamTable params;

  explicit Consistency(const Params& p);
  static void check(const Params& p);
  void process(Record& r) const;

 private:
  std::string prompt_field_;
  std::string response_field_;
  bool think_ = true;
  size_t chunk_letters_ = 0;
  double max_other_share_ = 0;
  DetectOptions options_;
};

}  // namespace tamis::lang
