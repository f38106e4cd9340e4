#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>

#include "detect.hpp"
#include "fidelity.hpp"
#include "ops.hpp"

namespace tamis::translate {

namespace {
const char* const kOnFailure[] = {"reject", "keep", nullptr};
constexpr const char* kReasonNames[] = {"missing_translation", "translation_error", "malformed_translation", "length_ratio",
                                        "wrong_language",      "added_content",     "latex_changed",         "numbers_changed"};
static_assert(std::size(kReasonNames) == Import::kReasons, "a name for each Import::Reason");
constexpr size_t kListed = 5;  // items named in a detail or a warning before "..."

std::string listed(const std::vector<std::string>& items, bool quoted) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < kListed; ++i) {
    if (i) out += ", ";
    out += quoted ? json::quote(items[i]) : items[i];
  }
  if (items.size() > kListed) out += " and " + std::to_string(items.size() - kListed) + " more";
  return out;
}

// The [min, max] pairs of the `length_ratio` parameter: {"default": [0.5, 2], "zh": [0.15, 1.5], ...}.
std::vector<std::pair<std::string, std::pair<double, double>>> read_ratios(const Params& p) {
  simdjson::dom::object obj;
  if (p.get_json("length_ratio").get_object().get(obj) != simdjson::SUCCESS)
    throw Error("length_ratio must be a mapping {language: [min, max]} with a 'default' entry");
  std::vector<std::pair<std::string, std::pair<double, double>>> out;
  for (auto m : obj) {
    simdjson::dom::array a;
    double lo, hi;
    auto number = [](simdjson::dom::element e, double& v) {
      if (e.get_double().get(v) == simdjson::SUCCESS) return true;
      int64_t i;
      if (e.get_int64().get(i) != simdjson::SUCCESS) return false;
      v = static_cast<double>(i);
      return true;
    };
    if (m.value.get_array().get(a) != simdjson::SUCCESS || a.size() != 2 || !number(a.at(0).value_unsafe(), lo) ||
        !number(a.at(1).value_unsafe(), hi) || !(lo >= 0 && lo <= hi))
      throw Error("length_ratio: '" + std::string(m.key) + "' must be [min, max] with 0 <= min <= max");
    if (m.key == "default") out.insert(out.begin(), {"default", {lo, hi}});
    else out.push_back({std::string(m.key), {lo, hi}});
  }
  if (out.empty() || out.front().first != "default") throw Error("length_ratio needs a 'default' entry: [min, max]");
  return out;
}
}  // namespace

const ParamTable Import::params = {
    {.name = "translations", .type = ParamType::path_list, .required = true,
     .help = "JSONL files of translations: OpenAI Batch API output (and error) files, or plain {\"id\": ..., \"text\": ...} lines; loaded when the stage starts, keyed by id", .files = FileRole::input},
    {.name = "field", .type = ParamType::string, .default_json = "\"problem\"",
     .help = "the top-level text field that was translated; its value is replaced by the translation"},
    {.name = "to_field", .type = ParamType::string, .default_json = "\"translate_to\"",
     .help = "where the target language is read (annotation, field, tamis.NAME); records without one pass on untouched"},
    {.name = "check_language", .type = ParamType::boolean, .default_json = "true",
     .help = "the language detected in the translation (tamis::lang::detect, after stripping LaTeX, code, URLs and numbers) must be the target; `und` (too few letters) passes"},
    {.name = "min_letters", .type = ParamType::integer, .default_json = "20",
     .help = "fewest letters for the language check to decide (fewer: `und`, not checked)"},
    {.name = "check_added", .type = ParamType::boolean, .default_json = "true",
     .help = "the translation adds nothing the original lacks: a preamble (\"Here is the translation:\", \"Sure!\"), a note, an answer (\"Answer:\", \"The answer is\", an extra \\boxed{}), a closing (\"I hope this helps\"), a code fence, or the original text echoed; each kind in any of seven languages, counted in the original too (a formula added as an answer is check_latex's)"},
    {.name = "check_numbers", .type = ParamType::boolean, .default_json = "true",
     .help = "the original and the translation hold the same multiset of numbers, read across locale forms (80,000 = 80.000 = 80 000, 3.5 = 3,5, 8万); a number written in words on the other side excuses a difference"},
    {.name = "check_latex", .type = ParamType::boolean, .default_json = "true",
     .help = "every LaTeX math span of the original must appear in the translation, and the translation must hold no span the original lacks (whitespace and \\text{} words aside)"},
    {.name = "length_ratio", .type = ParamType::json,
     .default_json = R"({"default":[0.5,2.0],"zh":[0.15,1.5],"ja":[0.15,1.5],"ko":[0.2,1.5]})",
     .help = "bounds of translation / original length in characters, per target language ('default' for the others)"},
    {.name = "on_failure", .type = ParamType::string, .default_json = "\"reject\"",
     .help = "reject: a record whose translation is missing or fails a check is rejected with the reason; keep: it passes on untranslated, annotated `translation_failed`",
     .choices = kOnFailure},
    {.name = "write_fields", .type = ParamType::boolean, .default_json = "true",
     .help = "also write top-level fields lang (the target) and translated_from (the original id) into translated records (they are always annotated)"},
};

void Import::check(const Params& p) {
  const std::string f = p.get_string("field");
  if (f.empty() || f.front() == '/' || f.find('.') != std::string::npos)
    throw Error("field must be a top-level field name (no path): the translation replaces its value");
  if (p.get_strings("translations").empty()) throw Error("translations lists no file");
  if (p.get_int("min_letters") < 0) throw Error("min_letters must be >= 0");
  read_ratios(p);
}

Import::Import(const Params& p, Stage& stage)
    : field_(p.get_string("field")), to_field_(p.get_string("to_field")), check_language_(p.get_bool("check_language")),
      check_added_(p.get_bool("check_added")), check_numbers_(p.get_bool("check_numbers")), check_latex_(p.get_bool("check_latex")),
      write_fields_(p.get_bool("write_fields")), keep_on_failure_(p.get_string("on_failure") == "keep"),
      min_letters_(static_cast<size_t>(p.get_int("min_letters"))), ratios_(read_ratios(p)),
      files_(p.get_strings("translations")) {
  for (const auto& f : files_) load(f);
  used_ = std::make_unique<std::atomic<uint8_t>[]>(entries_.size());
  stage.info("read " + std::to_string(lines_) + " translation lines from " + std::to_string(files_.size()) + " file(s): " +
             std::to_string(loaded_ok_) + " usable, " + std::to_string(loaded_error_) + " API errors, " +
             std::to_string(loaded_malformed_) + " malformed, " + std::to_string(unattributed_.size()) + " without an id; " +
             std::to_string(entries_.size()) + " distinct ids");
  if (!unattributed_.empty())
    stage.warn(std::to_string(unattributed_.size()) + " line(s) of the translations could not be tied to an id: " +
               listed(unattributed_, false) + "; the records they were meant for will be rejected as missing_translation");
}

void Import::load(const std::string& path) {
  // Read as text, a compressed file would be nothing but malformed lines without ids.
  for (const char* ext : {".gz", ".zst", ".bz2", ".xz"})
    if (path.ends_with(ext))
      throw Error("translations file '" + path + "' is compressed; decompress it first (e.g. zstd -d / gunzip)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open translations file '" + path + "'");
  simdjson::dom::parser parser;
  std::string line;
  uint64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    ++lines_;
    Translation t = parse_translation_line(parser, line);
    std::string where = path + ":" + std::to_string(n);
    if (t.id.empty()) {
      unattributed_.push_back(where + " (" + t.message + ")");
      continue;
    }
    (t.status == Translation::Status::ok ? loaded_ok_ : t.status == Translation::Status::error ? loaded_error_ : loaded_malformed_)++;
    auto [it, fresh] = by_id_.try_emplace(std::move(t.id), static_cast<uint32_t>(entries_.size()));
    t.id.clear();  // the map holds the id; entries keep only what process() reads
    if (fresh) {
      entries_.push_back({std::move(t), std::move(where)});
      continue;
    }
    // A second line for an id: a usable translation replaces an error (a retried request); otherwise
    // the first line stands.
    ++duplicates_;
    Entry& e = entries_[it->second];
    if (e.t.status != Translation::Status::ok && t.status == Translation::Status::ok) e = {std::move(t), std::move(where)};
  }
  if (in.bad()) throw Error("cannot read translations file '" + path + "'");
}

std::pair<double, double> Import::ratio_bounds(const std::string& lang) const {
  for (const auto& [l, b] : ratios_)
    if (l == lang) return b;
  return ratios_.front().second;
}

void Import::fail(Record& r, Reason reason, const std::string& detail) const {
  failed_[reason].fetch_add(1, std::memory_order_relaxed);
  if (!keep_on_failure_) return r.reject(kReasonNames[reason], detail);
  r.annotate_json("translation_failed",
                  "{\"reason\":" + json::quote(kReasonNames[reason]) + ",\"detail\":" + json::quote(detail) + "}");
}

void Import::process(Record& r) const {
  const auto target = read_tag(r, to_field_);
  if (!target) return;
  tagged_.fetch_add(1, std::memory_order_relaxed);
  const std::string id(r.id());
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    std::string detail = "no translation with id '" + id + "' in " + listed(files_, false);
    if (!unattributed_.empty()) detail += " (" + std::to_string(unattributed_.size()) + " line(s) there have no readable id)";
    return fail(r, missing_translation, detail);
  }
  used_[it->second].store(1, std::memory_order_relaxed);
  const Entry& e = entries_[it->second];
  if (e.t.status == Translation::Status::error) return fail(r, translation_error, e.t.message + " (" + e.where + ")");
  if (e.t.status == Translation::Status::malformed) return fail(r, malformed_translation, e.t.message + " (" + e.where + ")");
  const auto original = r.string_field(field_);
  if (!original) return r.reject_missing_field(field_, "missing_field", "no string field '" + field_ + "' to replace with the translation");
  const std::string& tr = e.t.text;

  // Every check runs; the first failure (in the order of Reason) is the verdict, all are annotated.
  std::vector<std::pair<Reason, std::string>> failures;
  const size_t n_orig = code_points(*original), n_tr = code_points(tr);
  const double ratio = n_orig > 0 ? static_cast<double>(n_tr) / static_cast<double>(n_orig) : 1.0;
  const auto [lo, hi] = ratio_bounds(*target);
  if (n_tr == 0 || ratio < lo || ratio > hi)
    failures.emplace_back(length_ratio, "translation is " + std::to_string(n_tr) + " characters for " + std::to_string(n_orig) +
                                            " (ratio " + json::number(std::round(ratio * 1000) / 1000) + ", allowed [" +
                                            json::number(lo) + ", " + json::number(hi) + "] for " + *target + ")");
  std::optional<lang::Detection> detected;
  if (check_language_) {
    lang::DetectOptions o;
    o.min_letters = min_letters_;
    const lang::Detection& d = detected.emplace(lang::detect(tr, o));
    r.annotate("translation_lang", d.lang);
    if (d.lang == "und") unchecked_language_.fetch_add(1, std::memory_order_relaxed);
    else if (d.lang != *target)
      failures.emplace_back(wrong_language, "translation detected as " + d.lang + " (confidence " +
                                                json::number(std::round(d.confidence * 100) / 100) +
                                                (d.reliable ? "" : ", unreliable") + "), expected " + *target);
  }
  if (check_added_) {  // content the model added: a preamble, a note, an answer, ...
    std::string d;
    for (const Addition& a : translate::added_content(*original, tr))  // the function (fidelity.hpp), not the Reason
      d += (d.empty() ? "the translation adds " : "; ") + a.kind + " " + json::quote(a.text);
    if (!d.empty()) failures.emplace_back(added_content, d);
  }
  if (check_latex_) {
    const MathChanges m = compare_math(*original, tr);
    std::string d;
    if (!m.missing.empty()) d = "math span(s) of the original missing from the translation: " + listed(m.missing, true);
    if (!m.added.empty()) d += (d.empty() ? "" : "; ") + std::string("math span(s) not in the original: ") + listed(m.added, true);
    if (!d.empty()) failures.emplace_back(latex_changed, d);
  }
  if (check_numbers_) {
    // Numbers written in words excuse digits: the original's language is its `lang` tag (lang.identify), else English.
    const std::string source = read_tag(r, "lang").value_or("en");
    const NumberChanges n = compare_numbers(*original, tr, source, *target);
    std::string d;
    if (!n.missing.empty()) d = "number(s) of the original missing from the translation: " + listed(n.missing, false);
    if (!n.added.empty()) d += (d.empty() ? "" : "; ") + std::string("number(s) not in the original: ") + listed(n.added, false);
    if (!d.empty()) failures.emplace_back(numbers_changed, d);
  }
  if (!failures.empty()) {
    r.annotate("translation", tr);  // so that the rejected line shows what was refused
    if (failures.size() > 1) {
      std::string all = "[";
      for (size_t i = 0; i < failures.size(); ++i) all += (i ? "," : "") + json::quote(kReasonNames[failures[i].first]);
      r.annotate_json("fidelity_failures", all + "]");
    }
    return fail(r, failures.front().first, failures.front().second);
  }

  // The original id: a copy made by translate.tag (mode copy) is `<id>#<lang>`.
  std::string from = id;
  const std::string suffix = "#" + *target;
  if (from.size() > suffix.size() && from.compare(from.size() - suffix.size(), suffix.size(), suffix) == 0)
    from.resize(from.size() - suffix.size());
  std::vector<MemberEdit> edits = {{field_, json::quote(tr), true}};
  if (write_fields_) {
    edits.push_back({"lang", json::quote(*target), true});
    edits.push_back({"translated_from", json::quote(from), true});
  }
  r.replace(set_members(r.json(), edits));
  r.annotate("lang", *target);
  if (detected) {  // lang.identify's figures described the original text; these describe the translation
    r.annotate("lang_confidence", std::round(detected->confidence * 100) / 100);  // as lang.identify writes it
    r.annotate("lang_reliable", detected->reliable);
  }
  r.annotate("translated_from", from);
  translated_.fetch_add(1, std::memory_order_relaxed);
}

void Import::finish(Stage& stage) {
  std::vector<std::string> unused;
  for (const auto& [id, i] : by_id_)
    if (!used_[i].load()) unused.push_back(id);
  std::sort(unused.begin(), unused.end());
  stage.count("tagged", tagged_.load());
  stage.count("translated", translated_.load());
  stage.count("language_unchecked", unchecked_language_.load());
  stage.count("unused_translations", static_cast<int64_t>(unused.size()));
  std::string rep = "{\"translations\":{\"lines\":" + std::to_string(lines_) + ",\"usable\":" + std::to_string(loaded_ok_) +
                    ",\"api_errors\":" + std::to_string(loaded_error_) + ",\"malformed\":" + std::to_string(loaded_malformed_) +
                    ",\"without_id\":" + std::to_string(unattributed_.size()) + ",\"duplicate_ids\":" + std::to_string(duplicates_) +
                    ",\"unused\":" + std::to_string(unused.size()) + "},\"tagged\":" + std::to_string(tagged_.load()) +
                    ",\"translated\":" + std::to_string(translated_.load()) + ",\"failed\":{";
  for (size_t i = 0; i < kReasons; ++i)
    rep += (i ? "," : "") + json::quote(kReasonNames[i]) + ":" + std::to_string(failed_[i].load());
  rep += "},\"lines_without_id\":[";
  for (size_t i = 0; i < unattributed_.size() && i < 100; ++i) rep += (i ? "," : "") + json::quote(unattributed_[i]);
  rep += "],\"unused_ids\":[";
  for (size_t i = 0; i < unused.size() && i < 100; ++i) rep += (i ? "," : "") + json::quote(unused[i]);
  stage.report(rep + "]}");
  stage.info("translated " + std::to_string(translated_.load()) + " of " + std::to_string(tagged_.load()) + " tagged records");
  if (!unused.empty())
    stage.warn(std::to_string(unused.size()) + " translation(s) matched no tagged record: " + listed(unused, false) +
               " (exported from other input, or their records are no longer tagged?)");
}

}  // namespace tamis::translate
