#include <algorithm>
#include <cmath>

#include "ops.hpp"
#include "selection.hpp"

namespace tamis::translate {

namespace {
const char* const kModes[] = {"tag", "copy", nullptr};
const char* const kAssign[] = {"balanced", "hash", nullptr};

// assign: balanced keeps per-language counts per input batch. A batch's records reach process() in
// order on one thread (plugin guide, "Threads and lifetimes"), and batch boundaries depend only on the
// input bytes, so these counts, reset at each batch's first record, give the same result for any
// thread count.
struct BatchCounts {
  const void* owner = nullptr;
  std::vector<int64_t> counts;
};
thread_local BatchCounts batch_counts;

// The label of the bucket holding v, for bounds b0 < b1 < ...: "<b0", "[b0,b1)", ..., ">=bn".
std::string bucket_label(double v, const std::vector<double>& bounds) {
  size_t i = 0;
  while (i < bounds.size() && v >= bounds[i]) ++i;
  if (i == 0) return "<" + json::number(bounds.front());
  if (i == bounds.size()) return ">=" + json::number(bounds.back());
  return "[" + json::number(bounds[i - 1]) + "," + json::number(bounds[i]) + ")";
}

// The stratum of a record: the field's string, or its JSON text for other values (3, true); with
// bucket bounds, a number's bucket.
std::string stratum_of(const Record& r, const std::string& path, const std::vector<double>& buckets) {
  auto e = r.field(path);
  if (!e || e->is_null()) return "(missing)";
  std::string_view s;
  if (e->get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  double v;
  if (!buckets.empty() && e->get_double().get(v) == simdjson::SUCCESS) return bucket_label(v, buckets);
  int64_t i;
  if (!buckets.empty() && e->get_int64().get(i) == simdjson::SUCCESS) return bucket_label(static_cast<double>(i), buckets);
  return simdjson::minify(*e);
}

std::vector<double> read_buckets(const Params& p) {
  std::vector<double> out;
  simdjson::dom::array a;
  if (p.get_json("buckets").get_array().get(a) != simdjson::SUCCESS) throw Error("buckets must be a list of numbers");
  for (auto e : a) {
    double v;
    int64_t i;
    if (e.get_double().get(v) != simdjson::SUCCESS) {
      if (e.get_int64().get(i) != simdjson::SUCCESS) throw Error("buckets must be a list of numbers");
      v = static_cast<double>(i);
    }
    if (!out.empty() && !(v > out.back())) throw Error("buckets must be in increasing order");
    out.push_back(v);
  }
  return out;
}

std::string languages_json(const std::vector<std::string>& langs, const std::vector<int64_t>& counts) {
  std::string out = "{";
  for (size_t i = 0; i < langs.size(); ++i) {
    if (i) out += ',';
    json::append_quoted(out, langs[i]);
    out += ':' + std::to_string(counts[i]);
  }
  return out + "}";
}

// How far apart the per-language counts are: the largest |count - mean| / mean, and max / min - 1.
std::string balance_json(const std::vector<int64_t>& counts) {
  if (counts.empty()) return "null";
  const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
  double sum = 0;
  for (int64_t c : counts) sum += static_cast<double>(c);
  const double mean = sum / static_cast<double>(counts.size());
  double dev = 0;
  for (int64_t c : counts) dev = std::max(dev, std::fabs(static_cast<double>(c) - mean));
  return "{\"max_deviation_from_mean\":" + json::number(mean > 0 ? dev / mean : 0.0) +
         ",\"max_over_min\":" + json::number(*lo > 0 ? static_cast<double>(*hi) / static_cast<double>(*lo) : 0.0) + "}";
}
}  // namespace

const ParamTable Tag::params = {
    {.name = "source", .type = ParamType::string, .default_json = "\"en\"",
     .help = "language of the records to choose from (ISO 639-1, as lang.identify annotates it)"},
    {.name = "lang_field", .type = ParamType::string, .default_json = "\"lang\"",
     .help = "where a record's language is read: this run's annotation of that name (lang.identify), else the field at that path, else tamis.NAME (an earlier run's output)"},
    {.name = "fraction", .type = ParamType::number, .default_json = "0.1",
     .help = "share of the source-language records selected, in [0, 1]"},
    {.name = "seed", .type = ParamType::integer, .default_json = "0",
     .help = "hash seed: another seed selects other records and assigns other languages"},
    {.name = "languages", .type = ParamType::string_list, .default_json = R"(["fr","de","zh","es","it","ru"])",
     .help = "target languages; each selected record gets one (or `per_record`), chosen as `assign` says"},
    {.name = "assign", .type = ParamType::string, .default_json = "\"balanced\"",
     .help = "balanced: each selected record takes the least used language so far in its input batch (~4 MiB), ties by its rendezvous hash: counts within one per batch, but a record's language depends on the selected records before it in its batch; hash: the rendezvous hash alone, independent of every other record, counts balanced only in expectation (multinomial spread)",
     .choices = kAssign},
    {.name = "per_record", .type = ParamType::integer, .default_json = "1",
     .help = "target languages per selected record (copy mode only when above 1): one tagged copy per language"},
    {.name = "mode", .type = ParamType::string, .default_json = "\"tag\"",
     .help = "tag: annotate the selected record with `translate_to` (the translation will replace it); copy: pass it on untouched and emit a copy with id `<id>#<lang>` and a `translate_to` field (the translation adds a record)",
     .choices = kModes},
    {.name = "key", .type = ParamType::string, .default_json = "\"\"",
     .help = "field whose value is hashed instead of the record id (e.g. problem: copies of a problem get the same decision); empty: the id"},
    {.name = "stratify", .type = ParamType::string, .default_json = "\"\"",
     .help = "field whose value names a record's stratum (source, a difficulty bucket...): counts per stratum in the report, and `fractions` per stratum"},
    {.name = "buckets", .type = ParamType::json, .default_json = "[]",
     .help = "with stratify on a numeric field: increasing bounds that turn values into strata, e.g. [0.2, 0.8] gives \"<0.2\", \"[0.2,0.8)\", \">=0.8\" (pass-rate buckets)"},
    {.name = "fractions", .type = ParamType::json, .default_json = "{}",
     .help = "with stratify: {stratum: fraction} overriding `fraction` for those strata (e.g. {hard: 0.3, easy: 0.05})"},
    {.name = "id_field", .type = ParamType::string, .default_json = "\"id\"",
     .help = "copy mode: the top-level id field of a copy gets the copy's id `<id>#<lang>` (left alone when the record has no such field)"},
};

void Tag::check(const Params& p) {
  const double f = p.get_double("fraction");
  if (!(f >= 0.0 && f <= 1.0)) throw Error("fraction must be within [0, 1]");
  const auto langs = p.get_strings("languages");
  if (langs.empty()) throw Error("languages is empty: give at least one target language");
  for (size_t i = 0; i < langs.size(); ++i) {
    if (langs[i].empty()) throw Error("languages holds an empty code");
    if (langs[i] == p.get_string("source")) throw Error("languages holds the source language '" + langs[i] + "'");
    for (size_t j = 0; j < i; ++j)
      if (langs[j] == langs[i]) throw Error("languages lists '" + langs[i] + "' twice");
  }
  const int64_t k = p.get_int("per_record");
  if (k < 1 || k > static_cast<int64_t>(langs.size()))
    throw Error("per_record must be within [1, " + std::to_string(langs.size()) + "] (the number of languages)");
  if (k > 1 && p.get_string("mode") != "copy")
    throw Error("per_record above 1 needs mode: copy (a record has one translate_to annotation)");
  simdjson::dom::object fr;
  if (p.get_json("fractions").get_object().get(fr) != simdjson::SUCCESS)
    throw Error("fractions must be a mapping {stratum: fraction}");
  if (fr.size() > 0 && p.get_string("stratify").empty()) throw Error("fractions needs stratify (the field naming the strata)");
  if (!read_buckets(p).empty() && p.get_string("stratify").empty()) throw Error("buckets needs stratify (the numeric field)");
  for (auto m : fr) {
    double v;
    if (m.value.get_double().get(v) != simdjson::SUCCESS) {
      int64_t i;
      if (m.value.get_int64().get(i) != simdjson::SUCCESS)
        throw Error("fractions: the value of '" + std::string(m.key) + "' is not a number");
      v = static_cast<double>(i);
    }
    if (!(v >= 0.0 && v <= 1.0)) throw Error("fractions: '" + std::string(m.key) + "' must be within [0, 1]");
  }
}

Tag::Tag(const Params& p, Stage& stage)
    : source_(p.get_string("source")), lang_field_(p.get_string("lang_field")), key_(p.get_string("key")),
      stratify_(p.get_string("stratify")), id_field_(p.get_string("id_field")), fraction_(p.get_double("fraction")),
      seed_(static_cast<uint64_t>(p.get_int("seed"))), threshold_(fraction_threshold(fraction_)),
      copy_(p.get_string("mode") == "copy"), balanced_(p.get_string("assign") == "balanced"), per_record_(static_cast<size_t>(p.get_int("per_record"))),
      langs_(p.get_strings("languages")) {
  for (const auto& l : langs_) lang_keys_.push_back(language_key(l, seed_));
  buckets_ = read_buckets(p);
  per_lang_ = std::make_unique<std::atomic<int64_t>[]>(langs_.size());
  simdjson::dom::object fr;
  if (p.get_json("fractions").get_object().get(fr) == simdjson::SUCCESS)
    for (auto m : fr) {
      double v;
      if (m.value.get_double().get(v) != simdjson::SUCCESS) v = static_cast<double>(m.value.get_int64().value_unsafe());
      stratum_fraction_[std::string(m.key)] = {v, fraction_threshold(v)};
    }
  stage.info("selecting " + json::number(fraction_) + " of the '" + source_ + "' records (seed " + std::to_string(seed_) +
             ") for " + std::to_string(langs_.size()) + " languages (" + (balanced_ ? "balanced" : "hash") + "), mode " +
             (copy_ ? "copy" : "tag"));
}

std::string Tag::copy_text(const Record& r, const std::string& lang, const std::string& new_id) const {
  std::vector<MemberEdit> edits;
  if (!id_field_.empty()) edits.push_back({id_field_, json::quote(new_id), false});
  edits.push_back({"translate_to", json::quote(lang), true});
  return set_members(r.json(), edits);
}

void Tag::process(Record& r) const {
  if (balanced_ && (r.index() == 0 || batch_counts.owner != this)) {
    batch_counts.owner = this;
    batch_counts.counts.assign(langs_.size(), 0);
  }
  const auto lang = read_tag(r, lang_field_);
  if (!lang) {
    no_lang_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (*lang != source_) {
    other_lang_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::string_view key = r.id();
  std::string raw;
  if (!key_.empty()) {
    auto e = r.field(key_);
    if (!e || e->is_null()) {
      no_key_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::string_view s;
    if (e->get_string().get(s) == simdjson::SUCCESS) raw = std::string(s);
    else raw = simdjson::minify(*e);
    key = raw;
  }
  double fraction = fraction_;
  uint64_t threshold = threshold_;
  std::string stratum;
  if (!stratify_.empty()) {
    stratum = stratum_of(r, stratify_, buckets_);
    if (auto it = stratum_fraction_.find(stratum); it != stratum_fraction_.end())
      std::tie(fraction, threshold) = it->second;
  }
  source_n_.fetch_add(1, std::memory_order_relaxed);
  const bool chosen = selected(selection_hash(key, seed_), threshold, fraction);
  std::vector<size_t> targets;
  if (chosen) {
    targets = balanced_ ? pick_balanced(key, lang_keys_, per_record_, batch_counts.counts)
                        : pick_targets(key, lang_keys_, per_record_);
    selected_n_.fetch_add(1, std::memory_order_relaxed);
    for (size_t t : targets) per_lang_[t].fetch_add(1, std::memory_order_relaxed);
  }
  if (!stratify_.empty()) {
    std::lock_guard lock(strata_mu_);
    Tally& t = strata_[stratum];
    if (t.languages.empty()) t.languages.assign(langs_.size(), 0);
    ++t.source;
    if (chosen) ++t.selected;
    for (size_t i : targets) ++t.languages[i];
  }
  if (!chosen) return;
  if (!copy_) return r.annotate("translate_to", langs_[targets.front()]);
  for (size_t i : targets) {
    const std::string id = std::string(r.id()) + "#" + langs_[i];
    r.emit(copy_text(r, langs_[i], id), id);
  }
}

void Tag::finish(Stage& stage) {
  std::vector<int64_t> counts;
  for (size_t i = 0; i < langs_.size(); ++i) counts.push_back(per_lang_[i].load());
  const int64_t source = source_n_.load(), sel = selected_n_.load();
  stage.count("source_records", source);
  stage.count("selected", sel);
  stage.count("other_language", other_lang_.load());
  stage.count("no_language", no_lang_.load());
  if (!key_.empty()) stage.count("no_key", no_key_.load());
  for (size_t i = 0; i < langs_.size(); ++i) stage.count("to_" + langs_[i], counts[i]);

  std::string rep = "{\"source\":" + json::quote(source_) + ",\"assign\":" + (balanced_ ? "\"balanced\"" : "\"hash\"") +
                    ",\"fraction\":" + json::number(fraction_) +
                    ",\"seed\":" + std::to_string(seed_) + ",\"source_records\":" + std::to_string(source) +
                    ",\"selected\":" + std::to_string(sel) + ",\"selected_share\":" +
                    json::number(source > 0 ? static_cast<double>(sel) / static_cast<double>(source) : 0.0) +
                    ",\"languages\":" + languages_json(langs_, counts) + ",\"balance\":" + balance_json(counts);
  if (!stratify_.empty()) {
    // A continuous field (a pass rate) makes a stratum per value: the report keeps the first 1,000.
    constexpr size_t kMaxStrata = 1000;
    rep += ",\"strata_count\":" + std::to_string(strata_.size()) + ",\"strata\":{";
    size_t shown = 0;
    for (const auto& [name, t] : strata_) {
      if (shown == kMaxStrata) break;
      if (shown++) rep += ',';
      json::append_quoted(rep, name);
      rep += ":{\"source_records\":" + std::to_string(t.source) + ",\"selected\":" + std::to_string(t.selected) +
             ",\"languages\":" + languages_json(langs_, t.languages) + "}";
    }
    rep += "}";
  }
  stage.report(rep + "}");

  std::string line = "selected " + std::to_string(sel) + " of " + std::to_string(source) + " '" + source_ + "' records";
  for (size_t i = 0; i < langs_.size(); ++i) line += (i ? ", " : ": ") + langs_[i] + " " + std::to_string(counts[i]);
  stage.info(line);
  if (source == 0)
    stage.warn("no record had language '" + source_ + "' in '" + lang_field_ +
               "' (annotation or field): run lang.identify before translate.tag, or set lang_field");
  // A `fractions` key no record's stratum matched ("Hard" for "hard", "0.2" for a bucket "<0.2") would
  // leave its stratum at `fraction` without a word.
  std::vector<std::string> unmatched;
  for (const auto& [name, f] : stratum_fraction_)
    if (!strata_.count(name)) unmatched.push_back(name);
  std::sort(unmatched.begin(), unmatched.end());  // the map's order is not deterministic
  for (const std::string& name : unmatched) {
    std::string seen;
    size_t shown = 0;
    for (const auto& [s, t] : strata_) {
      if (shown++ == 10) {
        seen += ", ...";
        break;
      }
      seen += (seen.empty() ? "'" : ", '") + s + "'";
    }
    stage.warn("fractions names the stratum '" + name + "', which no '" + source_ + "' record had in '" + stratify_ +
               "'; its fraction was never used. Strata seen: " + (seen.empty() ? std::string("none") : seen) +
               " (with buckets, strata are labels such as <0.2)");
  }
  if (no_key_.load() > 0)
    stage.warn(std::to_string(no_key_.load()) + " '" + source_ + "' records lack the key field '" + key_ + "' and were not selected");
}

}  // namespace tamis::translate
