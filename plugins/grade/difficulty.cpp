// The `grade.difficulty` op: pass rate from rollouts, a keep band, and suspect-label detection.
// Rules and parameters: docs/grading.md ("Difficulty from rollouts").
#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>
#include <tuple>

#include "ops.hpp"

namespace tamis::grade {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

const char* const kKinds[] = {"responses", "answers", "correct", nullptr};
const char* const kSuspectActions[] = {"reject", "annotate", "off", nullptr};
const char* const kModelBands[] = {"pooled", "all", "any", nullptr};
const char* const kPresets[] = {"none", "skywork_or1", "big_math", "openr1", "verl", nullptr};
const char* const kCountsOf[] = {"correct", "incorrect", nullptr};

// The layouts of public RL sets (docs/rollouts.md, "Importing rollouts and pass rates"): the parameters
// each preset fills, as JSON text.
struct PresetValue {
  const char* param;
  const char* json;
};
struct Preset {
  const char* name;
  std::vector<PresetValue> values;
};
const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = {
      // Skywork-OR1-RL-Data: extra_info.model_difficulty = {model: count of 16 rollouts}.
      {"skywork_or1", {{"counts_by_model_field", "\"extra_info.model_difficulty\""}, {"n", "16"}, {"counts_of", "\"correct\""}}},
      // Big-Math-RL-Verified: llama8b_solve_rate = share of 64 Llama-3.1-8B rollouts that succeeded.
      {"big_math", {{"pass_rate_field", "\"llama8b_solve_rate\""}, {"n", "64"}}},
      // OpenR1-Math-220k: one Math-Verify verdict per generation; the generations give the answers.
      {"openr1", {{"correct_field", "\"correctness_math_verify\""}, {"responses_field", "\"generations\""}, {"reference_field", "\"answer\""}}},
      // verl's rollout / validation dumps: one line per rollout, {input, output, gts, score, step, ...}.
      {"verl", {{"sidecar_field", "\"output\""}, {"sidecar_kind", "\"responses\""}, {"sidecar_correct_field", "\"score\""},
                {"correct_threshold", "0.5"}}},
  };
  return all;
}

// An integer value (an integer, or a double with no fraction).
std::optional<int64_t> integer_of(const element& e) {
  int64_t i;
  double d;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return i;
  if (e.get_double().get(d) == simdjson::SUCCESS && d == std::floor(d) && std::fabs(d) < 1e15) return static_cast<int64_t>(d);
  return std::nullopt;
}

std::optional<double> number_of(const element& e) {
  double d;
  int64_t i;
  uint64_t u;
  if (e.get_double().get(d) == simdjson::SUCCESS) return d;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  return std::nullopt;
}

// A scalar as answer text: a string as is, a number as its JSON text; nullopt otherwise.
std::optional<std::string> scalar_text(const element& e) {
  switch (e.type()) {
    case element_type::STRING: return std::string(e.get_string().value_unsafe());
    case element_type::INT64: return std::to_string(e.get_int64().value_unsafe());
    case element_type::UINT64: return std::to_string(e.get_uint64().value_unsafe());
    case element_type::DOUBLE: return json::number(e.get_double().value_unsafe());
    default: return std::nullopt;
  }
}

// A correctness value: true/false, or the numbers 0 and 1; with a threshold (not NaN), any number: correct
// when at or above it.
std::optional<bool> correct_value(const element& e, double threshold) {
  if (!std::isnan(threshold) && e.type() != element_type::BOOL) {
    auto v = number_of(e);
    if (!v) return std::nullopt;
    return *v >= threshold;
  }
  switch (e.type()) {
    case element_type::BOOL: return e.get_bool().value_unsafe();
    case element_type::INT64: {
      const int64_t v = e.get_int64().value_unsafe();
      if (v == 0 || v == 1) return v == 1;
      return std::nullopt;
    }
    case element_type::UINT64: {
      const uint64_t v = e.get_uint64().value_unsafe();
      if (v == 0 || v == 1) return v == 1;
      return std::nullopt;
    }
    case element_type::DOUBLE: {
      const double v = e.get_double().value_unsafe();
      if (v == 0.0 || v == 1.0) return v == 1.0;
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

// The items of a rollout field: an array's elements, or the value itself as one rollout.
template <class F>
bool each_item(const element& e, F&& f) {
  if (e.type() == element_type::ARRAY) {
    simdjson::dom::array arr;
    if (e.get_array().get(arr) != simdjson::SUCCESS) return false;
    for (element x : arr)
      if (!f(x)) return false;
    return true;
  }
  return f(e);
}

std::string cut_utf8(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

}  // namespace

const ParamTable Difficulty::params = {
    {.name = "preset", .type = ParamType::string, .default_json = "\"none\"",
     .help = "the rollout layout of a public RL set: skywork_or1 (extra_info.model_difficulty, per model, of 16), big_math "
             "(llama8b_solve_rate, of 64), openr1 (correctness_math_verify, answers from generations), verl (a rollout dump "
             "as sidecar: output, score >= 0.5); fills the parameters it names unless the stage sets them "
             "(docs/rollouts.md, Importing rollouts and pass rates)",
     .choices = kPresets},
    {.name = "responses_field", .type = ParamType::string,
     .help = "an array of responses (strings; one string = one rollout), each graded against reference_field"},
    {.name = "answers_field", .type = ParamType::string,
     .help = "an array of extracted answers (strings or numbers), each compared with reference_field"},
    {.name = "correct_field", .type = ParamType::string,
     .help = "an array of correctness values (true/false or 0/1); with responses_field or answers_field it decides "
             "correctness and they only give the majority answer"},
    {.name = "n_field", .type = ParamType::string, .help = "precomputed number of rollouts (with correct_count_field)"},
    {.name = "correct_count_field", .type = ParamType::string, .help = "precomputed number of correct rollouts (with n_field)"},
    {.name = "counts_by_model_field", .type = ParamType::string,
     .help = "an object {model name: count of n rollouts} (null: no rollouts for that model); annotates per model as "
             "models does; needs n"},
    {.name = "counts_of", .type = ParamType::string, .default_json = "\"correct\"",
     .help = "what the counts of counts_by_model_field count", .choices = kCountsOf},
    {.name = "pass_rate_field", .type = ParamType::string,
     .help = "a precomputed pass rate in [0, 1], the share of n rollouts that were correct (a multiple of 1/n); needs n"},
    {.name = "n", .type = ParamType::integer,
     .help = "the number of rollouts behind each count of counts_by_model_field, or behind pass_rate_field"},
    {.name = "correct_threshold", .type = ParamType::number,
     .help = "numeric correctness values (correct_field, models_kind correct, the sidecar's) at or above this count as "
             "correct, below as wrong (rewards such as 1/0 or 1/-1); unset: only true/false/0/1 are accepted"},
    {.name = "models", .type = ParamType::string_map,
     .help = "model name -> rollout field, read as models_kind says; annotates pass_rate per model as an object, "
             "pooled figures decide the band"},
    {.name = "models_kind", .type = ParamType::string, .default_json = "\"responses\"", .help = "what the models' fields hold",
     .choices = kKinds},
    {.name = "sidecar", .type = ParamType::path,
     .help = "a JSONL file of rollouts keyed by record id (one line per rollout or per problem; read once, streamed; "
             "kept in memory as counts and distinct answers per id)", .files = FileRole::input},
    {.name = "sidecar_id_field", .type = ParamType::string, .default_json = "\"id\"",
     .help = "the sidecar's field holding the record id (a string or an integer; matched against the source's id)"},
    {.name = "sidecar_field", .type = ParamType::string, .default_json = "\"response\"",
     .help = "the sidecar's rollout field: one value or an array of values, read as sidecar_kind says"},
    {.name = "sidecar_kind", .type = ParamType::string, .default_json = "\"responses\"",
     .help = "what sidecar_field holds", .choices = kKinds},
    {.name = "sidecar_correct_field", .type = ParamType::string,
     .help = "optional: the sidecar's correctness values (true/false or 0/1) beside responses or answers"},
    {.name = "sidecar_model_field", .type = ParamType::string,
     .help = "optional: the sidecar's model name field; gives per-model annotations as with models"},
    {.name = "reference_field", .type = ParamType::string, .default_json = "\"answer\"",
     .help = "the reference answer (a string or a number; a worked solution is reduced to its final answer)"},
    {.name = "min", .type = ParamType::number, .default_json = "0", .help = "lowest pass rate kept"},
    {.name = "max", .type = ParamType::number, .default_json = "1", .help = "highest pass rate kept"},
    {.name = "inclusive", .type = ParamType::boolean, .default_json = "false",
     .help = "whether min and max themselves are kept (default: exclusive, so 0/n and n/n are dropped)"},
    {.name = "min_samples", .type = ParamType::integer, .default_json = "1",
     .help = "fewer rollouts: rejected (too_few_samples); also the least rollouts for a suspect label"},
    {.name = "suspect_share", .type = ParamType::number, .default_json = "0.5",
     .help = "a majority answer not equivalent to the reference with at least this share of the rollouts, and more than twice "
             "as many rollouts as reach the reference, marks the label suspect"},
    {.name = "suspect_action", .type = ParamType::string, .default_json = "\"reject\"",
     .help = "reject (reason suspect_label), annotate (suspect_label: true, then the band applies), or off",
     .choices = kSuspectActions},
    {.name = "model_band", .type = ParamType::string, .default_json = "\"pooled\"",
     .help = "with several models (models, or sidecar_model_field): pooled = the band applies to the pass rate over all "
             "models' rollouts; all = every model's own pass rate must lie in its band (Skywork-OR1: 1-15 of 16 for each "
             "model); any = at least one model's must",
     .choices = kModelBands},
    {.name = "model_bands", .type = ParamType::json,
     .help = "with model_band all or any: a band per model, {NAME: {min: 0.0625, max: 0.9375, inclusive: true}, ...}; "
             "keys left out, and models not listed, use the stage's min, max and inclusive"},
    {.name = "last_number", .type = ParamType::boolean, .default_json = "false",
     .help = "when grading responses, fall back to the last number of the response"},
    {.name = "tolerance", .type = ParamType::number, .default_json = "1e-6",
     .help = "relative tolerance for numbers that are not exact rationals"},
};

Difficulty::Difficulty(const Params& p, Stage& stage) : Difficulty(*with_preset(p), stage, Merged{}) {}

Difficulty::Difficulty(const Params& p, Stage& stage, Merged)
    : preset_(p.get_string("preset")),
      correct_threshold_(p.has("correct_threshold") ? p.get_double("correct_threshold") : std::nan("")),
      reference_field_(p.get_string("reference_field")),
      min_(p.get_double("min")),
      max_(p.get_double("max")),
      inclusive_(p.get_bool("inclusive")),
      min_samples_(p.get_int("min_samples")),
      suspect_share_(p.get_double("suspect_share")) {
  if (p.has("responses_field")) responses_field_ = p.get_string("responses_field");
  if (p.has("answers_field")) answers_field_ = p.get_string("answers_field");
  if (p.has("correct_field")) correct_field_ = p.get_string("correct_field");
  if (p.has("n_field")) n_field_ = p.get_string("n_field");
  if (p.has("correct_count_field")) correct_count_field_ = p.get_string("correct_count_field");
  if (p.has("models")) models_ = p.get_map("models");
  if (p.has("counts_by_model_field")) counts_field_ = p.get_string("counts_by_model_field");
  counts_incorrect_ = p.get_string("counts_of") == "incorrect";
  if (p.has("pass_rate_field")) pass_rate_field_ = p.get_string("pass_rate_field");
  if (p.has("n")) n_per_ = p.get_int("n");
  // rollout.sample writes {"answers": [...], "correct": [...], "early_stop": {...}} into one field, and with
  // several models {..., "by_model": {NAME: {"answers": [...], "correct": [...]}}, "early_stop": {...}}:
  // wherever the stage reads answers or marks from such a field, the early_stop member beside them (or
  // beside by_model) is checked.
  std::vector<std::string> read_paths{answers_field_, correct_field_};
  if (p.get_string("models_kind") != "responses")
    for (const auto& [_, path] : models_) read_paths.push_back(path);
  for (const auto& path : read_paths) {
    const bool pointer = !path.empty() && path.front() == '/';
    const char sep = pointer ? '/' : '.';
    std::vector<std::string> parts;
    for (size_t start = pointer ? 1 : 0;;) {
      const size_t end = path.find(sep, start);
      parts.push_back(path.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    if (parts.size() < 2 || (parts.back() != "answers" && parts.back() != "correct")) continue;
    auto join = [&](size_t count) {
      std::string out = pointer ? "/" : "";
      for (size_t i = 0; i < count; ++i) out += parts[i] + sep;
      return out + "early_stop";
    };
    std::vector<std::string> candidates{join(parts.size() - 1)};
    if (parts.size() >= 4 && parts[parts.size() - 3] == "by_model") candidates.push_back(join(parts.size() - 3));
    for (const auto& es : candidates)
      if (std::find(early_stop_paths_.begin(), early_stop_paths_.end(), es) == early_stop_paths_.end()) early_stop_paths_.push_back(es);
  }
  const std::string kind = p.get_string("models_kind");
  models_kind_ = kind == "responses" ? Kind::responses : kind == "answers" ? Kind::answers : Kind::correct;
  const std::string action = p.get_string("suspect_action");
  suspect_action_ = action == "reject" ? Suspect::reject : action == "annotate" ? Suspect::annotate : Suspect::off;
  const std::string band = p.get_string("model_band");
  model_band_ = band == "all" ? ModelBand::all : band == "any" ? ModelBand::any : ModelBand::pooled;
  model_bands_ = parse_bands(p);
  options_.extract.last_number = p.get_bool("last_number");
  options_.tolerance = p.get_double("tolerance");
  if (p.has("sidecar")) {
    sidecar_on_ = true;
    sidecar_id_field_ = p.get_string("sidecar_id_field");
    sidecar_field_ = p.get_string("sidecar_field");
    const std::string sk = p.get_string("sidecar_kind");
    sidecar_kind_ = sk == "responses" ? Kind::responses : sk == "answers" ? Kind::answers : Kind::correct;
    if (p.has("sidecar_correct_field")) sidecar_correct_field_ = p.get_string("sidecar_correct_field");
    if (p.has("sidecar_model_field")) sidecar_model_field_ = p.get_string("sidecar_model_field");
    sidecar_marked_ = sidecar_kind_ == Kind::correct || !sidecar_correct_field_.empty();
    sidecar_models_ = !sidecar_model_field_.empty();
    load_sidecar(p.get_string("sidecar"), stage);
    for (const auto& [name, b] : model_bands_)
      if (std::find(sidecar_model_names_.begin(), sidecar_model_names_.end(), name) == sidecar_model_names_.end())
        throw Error("model_bands names model '" + name + "', which no line of the sidecar has (field '" + sidecar_model_field_ + "')");
  }
}

std::vector<std::pair<std::string, Difficulty::Band>> Difficulty::parse_bands(const Params& p) {
  std::vector<std::pair<std::string, Band>> out;
  if (!p.has("model_bands")) return out;
  const Band stage_band{p.get_double("min"), p.get_double("max"), p.get_bool("inclusive")};
  simdjson::dom::object obj;
  if (p.get_json("model_bands").get_object().get(obj) != simdjson::SUCCESS)
    throw Error("model_bands must be a mapping: model name -> {min, max, inclusive}");
  for (auto field : obj) {
    const std::string name(field.key);
    simdjson::dom::object band;
    if (field.value.get_object().get(band) != simdjson::SUCCESS)
      throw Error("model_bands." + name + " must be a mapping with min, max and/or inclusive");
    Band b = stage_band;
    for (auto kv : band) {
      const std::string_view key = kv.key;
      if (key == "min" || key == "max") {
        double v;
        int64_t i;
        if (kv.value.get_double().get(v) != simdjson::SUCCESS) {
          if (kv.value.get_int64().get(i) != simdjson::SUCCESS) throw Error("model_bands." + name + "." + std::string(key) + " must be a number");
          v = static_cast<double>(i);
        }
        (key == "min" ? b.min : b.max) = v;
      } else if (key == "inclusive") {
        if (kv.value.get_bool().get(b.inclusive) != simdjson::SUCCESS) throw Error("model_bands." + name + ".inclusive must be true or false");
      } else {
        throw Error("model_bands." + name + ": unknown key '" + std::string(key) + "' (min, max, inclusive)");
      }
    }
    if (!(b.min >= 0 && b.max <= 1 && b.min <= b.max)) throw Error("model_bands." + name + ": need 0 <= min <= max <= 1");
    if (!b.inclusive && b.min == b.max) throw Error("model_bands." + name + ": min == max with exclusive bounds keeps nothing");
    out.emplace_back(name, b);
  }
  return out;
}

// Each answer joins the first group whose first answer it is equivalent to. An answer written exactly as
// a group's first answer needs no normalising: it was compared with every earlier group when that group
// was made, with the same outcome.
void Difficulty::add_answer(std::vector<Group>& groups, const std::string& answer, int64_t count) const {
  for (auto& g : groups)
    if (!g.norm.empty() && g.answer == answer) {
      g.count += count;
      return;
    }
  Group fresh{answer, answer.size() <= options_.max_answer_chars ? normalize(answer) : std::string(), count};
  add_group(groups, fresh);
}

void Difficulty::add_group(std::vector<Group>& groups, const Group& fresh) const {
  if (!fresh.norm.empty() && fresh.norm.size() <= options_.max_answer_chars)
    for (auto& g : groups)
      if (!g.norm.empty() && (g.norm == fresh.norm || equivalent_normalized(fresh.norm, g.norm, options_).equal)) {
        g.count += fresh.count;
        return;
      }
  groups.push_back(fresh);
}

struct Difficulty::SideChunk {
  std::string text;    // whole lines
  int64_t first_line;  // the file line number of its first line
};

int64_t Difficulty::load_chunk(const SideChunk& chunk, const std::string& path, simdjson::dom::parser& parser, SideMap& out,
                               std::vector<std::string>& model_names) const {
  int64_t line_no = chunk.first_line - 1, rollouts = 0;
  auto where = [&] { return "sidecar " + path + ":" + std::to_string(line_no) + ": "; };
  const std::string_view all = chunk.text;
  for (size_t start = 0; start < all.size();) {
    size_t end = all.find('\n', start);
    if (end == std::string_view::npos) end = all.size();
    const std::string_view line = all.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    element doc;
    if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS || doc.type() != element_type::OBJECT)
      throw Error(where() + "not a JSON object");
    element idv;
    if (doc.at_key(sidecar_id_field_).get(idv) != simdjson::SUCCESS) throw Error(where() + "no field '" + sidecar_id_field_ + "'");
    auto id = scalar_text(idv);
    if (!id) throw Error(where() + "the id is not a string or a number");
    std::string model;
    if (sidecar_models_) {
      element mv;
      if (doc.at_key(sidecar_model_field_).get(mv) != simdjson::SUCCESS || !scalar_text(mv))
        throw Error(where() + "no model field '" + sidecar_model_field_ + "'");
      model = *scalar_text(mv);
      if (std::find(model_names.begin(), model_names.end(), model) == model_names.end()) model_names.push_back(model);
    }
    auto& models = out[*id];
    auto it = std::find_if(models.begin(), models.end(), [&](const SideModel& m) { return m.name == model; });
    if (it == models.end()) it = models.insert(models.end(), SideModel{model, 0, 0, {}});
    SideModel& sm = *it;
    element field;
    if (doc.at_key(sidecar_field_).get(field) != simdjson::SUCCESS) throw Error(where() + "no field '" + sidecar_field_ + "'");
    int64_t items = 0;
    const bool ok = each_item(field, [&](const element& x) {
      ++items;
      if (sidecar_kind_ == Kind::correct) {
        auto c = correct_value(x, correct_threshold_);
        if (!c) return false;
        sm.marked += *c ? 1 : 0;
      } else if (sidecar_kind_ == Kind::responses) {
        if (x.type() != element_type::STRING) return false;
        const Extraction e = extract(x.get_string().value_unsafe(), options_.extract);
        if (e.found && !e.answer.empty()) add_answer(sm.groups, e.answer, 1);
      } else {
        auto t = scalar_text(x);
        if (!t) return false;
        if (!t->empty()) add_answer(sm.groups, *t, 1);
      }
      return true;
    });
    if (!ok) throw Error(where() + "a value of '" + sidecar_field_ + "' has the wrong type for sidecar_kind");
    if (!sidecar_correct_field_.empty() && sidecar_kind_ != Kind::correct) {
      element cf;
      if (doc.at_key(sidecar_correct_field_).get(cf) != simdjson::SUCCESS) throw Error(where() + "no field '" + sidecar_correct_field_ + "'");
      int64_t marks = 0;
      const bool cok = each_item(cf, [&](const element& x) {
        auto c = correct_value(x, correct_threshold_);
        if (!c) return false;
        ++marks;
        sm.marked += *c ? 1 : 0;
        return true;
      });
      if (!cok || marks != items) throw Error(where() + "'" + sidecar_correct_field_ + "' does not hold one true/false or 0/1 per rollout");
    }
    sm.n += items;
    rollouts += items;
  }
  return rollouts;
}

// The file is cut into chunks of whole lines (about 4 MiB each; where the cuts fall depends on the file
// only, never on the thread count). Up to `threads` chunks are read into per-chunk tables at once, then
// merged into the sidecar table in file order, so the result is the same for any thread count and
// memory holds the ids plus a few chunks.
void Difficulty::load_sidecar(const std::string& path, Stage& stage) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open sidecar '" + path + "'");
  constexpr size_t kChunk = size_t{4} << 20;
  const size_t workers = std::max<size_t>(1, stage.threads());
  std::vector<simdjson::dom::parser> parsers(workers);
  std::string carry;
  int64_t next_line = 1, rollouts = 0;
  bool eof = false;
  while (!eof) {
    std::vector<SideChunk> wave;
    while (wave.size() < workers && !eof) {
      std::string buf = std::move(carry);
      carry.clear();
      const size_t old = buf.size();
      buf.resize(old + kChunk);
      in.read(buf.data() + old, static_cast<std::streamsize>(kChunk));
      const auto got = static_cast<size_t>(in.gcount());
      buf.resize(old + got);
      if (got < kChunk) {
        if (in.bad()) throw Error("cannot read sidecar '" + path + "'");
        eof = true;
      } else {
        const size_t nl = buf.rfind('\n');
        if (nl == std::string::npos) {  // one line longer than a chunk: read on
          carry = std::move(buf);
          continue;
        }
        carry.assign(buf, nl + 1);
        buf.resize(nl + 1);
      }
      if (buf.empty()) continue;
      const auto lines = static_cast<int64_t>(std::count(buf.begin(), buf.end(), '\n')) + (buf.back() != '\n' ? 1 : 0);
      wave.push_back({std::move(buf), next_line});
      next_line += lines;
    }
    std::vector<SideMap> tables(wave.size());
    std::vector<std::vector<std::string>> names(wave.size());
    std::vector<int64_t> counts(wave.size(), 0);
    std::vector<std::string> errors(wave.size());
    auto work = [&](size_t i) {
      try {
        counts[i] = load_chunk(wave[i], path, parsers[i], tables[i], names[i]);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    };
    std::vector<std::thread> threads;
    for (size_t i = 1; i < wave.size(); ++i) threads.emplace_back(work, i);
    if (!wave.empty()) work(0);
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < wave.size(); ++i) {
      if (!errors[i].empty()) throw Error(errors[i]);
      rollouts += counts[i];
      for (const auto& name : names[i])
        if (std::find(sidecar_model_names_.begin(), sidecar_model_names_.end(), name) == sidecar_model_names_.end())
          sidecar_model_names_.push_back(name);
      for (auto& [id, models] : tables[i]) {
        auto [slot, inserted] = sidecar_.try_emplace(id);
        if (inserted) {
          slot->second = std::move(models);
          continue;
        }
        for (auto& lm : models) {
          auto it = std::find_if(slot->second.begin(), slot->second.end(), [&](const SideModel& m) { return m.name == lm.name; });
          if (it == slot->second.end()) {
            slot->second.push_back(std::move(lm));
            continue;
          }
          it->n += lm.n;
          it->marked += lm.marked;
          for (const auto& g : lm.groups) add_group(it->groups, g);
        }
      }
    }
  }
  stage.info("sidecar: " + std::to_string(rollouts) + " rollouts for " + std::to_string(sidecar_.size()) + " ids from " +
             std::to_string(next_line - 1) + " lines");
}

std::unique_ptr<Params> Difficulty::with_preset(const Params& p) {
  const std::string name = p.get_string("preset");
  const auto& all = presets();
  const auto preset = std::find_if(all.begin(), all.end(), [&](const Preset& x) { return name == x.name; });
  if (preset == all.end()) return std::make_unique<Params>(p.text());  // none
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(p.text()).get_object().get(root) != simdjson::SUCCESS) throw Error("parameters are not a JSON object");
  auto default_of = [](std::string_view param) -> const char* {
    for (const auto& row : params)
      if (param == row.name) return row.default_json;
    return nullptr;
  };
  std::string out = "{";
  std::vector<std::string_view> done;
  auto add = [&](std::string_view key, std::string_view json) {
    out += (out.size() > 1 ? "," : "") + json::quote(key) + ":" + std::string(json);
  };
  for (auto field : root) {
    const std::string_view key = field.key;
    const auto pv = std::find_if(preset->values.begin(), preset->values.end(), [&](const PresetValue& v) { return key == v.param; });
    if (pv == preset->values.end()) {
      add(key, simdjson::minify(field.value));
      continue;
    }
    done.push_back(key);
    const std::string mine = simdjson::minify(field.value);
    const char* dflt = default_of(key);
    const bool set = field.value.is_null() ? false : dflt ? mine != dflt : true;
    if (mine == "\"\"") continue;  // "": the stage leaves the preset's field out
    add(key, set ? std::string_view(mine) : std::string_view(pv->json));
  }
  for (const auto& v : preset->values)
    if (std::find(done.begin(), done.end(), std::string_view(v.param)) == done.end()) add(v.param, v.json);
  out += "}";
  return std::make_unique<Params>(out);
}

void Difficulty::check(const Params& p) { check_merged(*with_preset(p)); }

void Difficulty::check_merged(const Params& p) {
  const bool responses = p.has("responses_field"), answers = p.has("answers_field"), correct = p.has("correct_field");
  const bool n = p.has("n_field"), count = p.has("correct_count_field");
  const bool models = p.has("models") && !p.get_map("models").empty();
  const bool counts = p.has("counts_by_model_field"), rate = p.has("pass_rate_field");
  const std::string preset = p.get_string("preset");
  const std::string by_preset = preset == "none" ? "" : " (preset " + preset + " sets some of them)";
  if (n != count) throw Error("n_field and correct_count_field go together");
  if (responses && answers) throw Error("give responses_field or answers_field, not both" + by_preset);
  const int sources = (responses || answers || correct ? 1 : 0) + (n ? 1 : 0) + (models ? 1 : 0) + (p.has("sidecar") ? 1 : 0) +
                      (counts ? 1 : 0) + (rate ? 1 : 0);
  if (preset == "verl" && !p.has("sidecar"))
    throw Error("preset verl reads a verl rollout dump (trainer.rollout_data_dir or validation_data_dir, {step}.jsonl): set sidecar: FILE");
  if (sources == 0)
    throw Error("no rollouts: set responses_field, answers_field, correct_field, n_field + correct_count_field, models, "
                "counts_by_model_field, pass_rate_field, sidecar, or a preset");
  if (sources > 1)
    throw Error("rollouts from more than one place: use one of the inline fields, the counts, models, counts_by_model_field, "
                "pass_rate_field, or sidecar" + by_preset);
  if ((counts || rate) != p.has("n"))
    throw Error(p.has("n") ? "n goes with counts_by_model_field or pass_rate_field"
                           : std::string(counts ? "counts_by_model_field" : "pass_rate_field") + " needs n (the rollouts behind each count or rate)");
  if (p.has("n") && p.get_int("n") < 1) throw Error("n must be at least 1");
  if (p.has("sidecar_correct_field") && p.get_string("sidecar_kind") == "correct")
    throw Error("sidecar_correct_field goes with sidecar_kind responses or answers");
  const double lo = p.get_double("min"), hi = p.get_double("max");
  if (!(lo >= 0 && hi <= 1 && lo <= hi)) throw Error("need 0 <= min <= max <= 1");
  if (!p.get_bool("inclusive") && lo == hi) throw Error("min == max with exclusive bounds keeps nothing");
  if (p.get_int("min_samples") < 1) throw Error("min_samples must be at least 1");
  const double share = p.get_double("suspect_share");
  if (!(share > 0 && share <= 1)) throw Error("suspect_share must be in (0, 1]");
  const bool per_model = p.get_string("model_band") != "pooled";
  if (per_model && !models && !counts && !p.has("sidecar_model_field"))
    throw Error("model_band " + p.get_string("model_band") +
                " needs several models: set models, counts_by_model_field, or sidecar with sidecar_model_field");
  const auto bands = parse_bands(p);
  if (!bands.empty() && !per_model) throw Error("model_bands goes with model_band: all or any (the pooled band is min/max)");
  if (models) {
    const auto m = p.get_map("models");
    for (const auto& [name, b] : bands)
      if (std::none_of(m.begin(), m.end(), [&](const auto& kv) { return kv.first == name; }))
        throw Error("model_bands names model '" + name + "', which is not in models");
  }
  const double tol = p.get_double("tolerance");
  if (!(tol >= 0 && tol < 1)) throw Error("tolerance must be in [0, 1)");
}

std::string Difficulty::reduce_reference(const std::string& reference) {
  // The grader's own reduction (answer.hpp): a worked solution's boxed / #### / "The answer is" answer;
  // never a math span or a short line, which are rules for responses, not references.
  return reference_answer(reference);
}

Difficulty::Tally Difficulty::tally(const std::vector<Rollout>& rollouts) const {
  Tally t;
  t.n = static_cast<int64_t>(rollouts.size());
  for (const auto& r : rollouts) {
    if (r.correct) ++t.correct;
    if (!r.answer.empty()) add_answer(t.groups, r.answer, 1);
  }
  return t;
}

void Difficulty::check_early_stop(const Record& r, const element& es, const std::string& path) const {
  std::string diffs;
  auto differ = [&](const char* theirs, const std::string& their_value, const char* ours, const std::string& our_value) {
    diffs += (diffs.empty() ? "" : "; ") + std::string(theirs) + " " + their_value + " against grade.difficulty's " + ours + " " + our_value;
  };
  auto value = [&](const char* key) -> std::optional<element> {
    element v;
    if (es.at_key(key).get(v) != simdjson::SUCCESS) return std::nullopt;
    return v;
  };
  auto number = [&](const char* key, const char* ours, double mine) {
    auto v = value(key);
    auto d = v ? number_of(*v) : std::nullopt;
    if (!d || std::fabs(*d - mine) > 1e-12) differ(key, v ? simdjson::minify(*v) : "(absent)", ours, json::number(mine));
  };
  number("band_min", "min", min_);
  number("band_max", "max", max_);
  if (auto v = value("band_inclusive"); !v || v->type() != element_type::BOOL || v->get_bool().value_unsafe() != inclusive_)
    differ("band_inclusive", v ? simdjson::minify(*v) : "(absent)", "inclusive", inclusive_ ? "true" : "false");
  number("min_samples", "min_samples", static_cast<double>(min_samples_));
  number("suspect_share", "suspect_share", suspect_share_);
  const char* action = suspect_action_ == Suspect::reject ? "reject" : suspect_action_ == Suspect::annotate ? "annotate" : "off";
  if (auto v = value("suspect_action"); !v || v->type() != element_type::STRING || v->get_string().value_unsafe() != action)
    differ("suspect_action", v ? simdjson::minify(*v) : "(absent)", "suspect_action", action);
  if (model_band_ != ModelBand::pooled)  // rollout.sample refuses early_stop with a per-model band: it settles the pooled one
    diffs += std::string(diffs.empty() ? "" : "; ") + "the early stop settles the pooled band, and grade.difficulty's model_band is " +
             (model_band_ == ModelBand::all ? "all" : "any") + " (a band per model)";
  if (diffs.empty()) return;
  throw Error("record " + std::string(r.id()) + ": '" + path +
              "' shows that rollout.sample's early stop decided on other settings than this difficulty stage's: " + diffs +
              ". Its samples were drawn to settle a different verdict; give rollout.sample's band_min, band_max, band_inclusive, "
              "min_samples, suspect_share and suspect_action the values of grade.difficulty's min, max, inclusive, min_samples, "
              "suspect_share and suspect_action, or change grade.difficulty's: fix one or the other");
}

void Difficulty::process(Record& r) const {
  // 1. Gather rollouts (owned copies: answer text and correctness), per model or as one pool.
  std::vector<std::pair<std::string, std::vector<Rollout>>> per_model;  // name "" when no models
  std::optional<std::string> reference;
  std::string bad;  // why the rollouts could not be read
  int64_t count_n = -1, count_correct = -1;
  std::vector<std::tuple<std::string, int64_t, int64_t>> counted;  // counts_by_model_field: name, n, correct

  auto need_reference = [&]() -> bool {
    if (reference) return true;
    auto e = r.field(reference_field_);
    if (!e) return false;
    auto t = scalar_text(*e);
    if (!t) return false;
    reference = reduce_reference(*t);
    return true;
  };

  // Reads one rollout field of kind `kind` into `out`.
  auto read = [&](const std::string& path, Kind kind, std::vector<Rollout>& out) -> bool {
    if (kind != Kind::correct && !need_reference()) {
      bad = "missing_reference";
      return false;
    }
    auto e = r.field(path);
    if (!e) {
      bad = "missing_rollouts:no field '" + path + "'";
      return false;
    }
    return each_item(*e, [&](const element& x) {
      Rollout ro;
      if (kind == Kind::responses) {
        if (x.type() != element_type::STRING) {
          bad = "bad_rollouts:a response in '" + path + "' is not a string";
          return false;
        }
        const Verdict v = grade(x.get_string().value_unsafe(), *reference, options_, false);
        ro.correct = v.correct;
        ro.answer = v.extracted;
      } else if (kind == Kind::answers) {
        auto t = scalar_text(x);
        if (!t) {
          bad = "bad_rollouts:an answer in '" + path + "' is not a string or a number";
          return false;
        }
        ro.answer = std::move(*t);
        ro.correct = !ro.answer.empty() && equivalent(ro.answer, *reference, options_).equal;
      } else {
        auto c = correct_value(x, correct_threshold_);
        if (!c) {
          bad = "bad_rollouts:a value in '" + path + "' is not true/false or 0/1";
          return false;
        }
        ro.correct = *c;
      }
      out.push_back(std::move(ro));
      return true;
    });
  };

  auto read_count = [&](const std::string& path, int64_t& v) -> bool {
    auto e = r.field(path);
    if (!e) {
      bad = "missing_rollouts:no field '" + path + "'";
      return false;
    }
    auto i = integer_of(*e);
    if (!i) {
      bad = "bad_rollouts:'" + path + "' is not an integer";
      return false;
    }
    v = *i;
    return true;
  };

  // counts_by_model_field: {model: count of n_per_, or null}.
  auto read_model_counts = [&]() -> bool {
    auto e = r.field(counts_field_);
    simdjson::dom::object obj;
    if (!e || e->is_null()) {
      bad = "missing_rollouts:no field '" + counts_field_ + "'";
      return false;
    }
    if (e->get_object().get(obj) != simdjson::SUCCESS) {
      bad = "bad_rollouts:'" + counts_field_ + "' is not an object {model: count}";
      return false;
    }
    count_n = count_correct = 0;
    for (auto kv : obj) {
      int64_t n = 0, c = 0;
      if (!kv.value.is_null()) {
        auto v = integer_of(kv.value);
        if (!v || *v < 0 || *v > n_per_) {
          bad = "bad_rollouts:'" + counts_field_ + "' has " + std::string(kv.key) + ": " + simdjson::minify(kv.value) +
                ", not a count from 0 to n " + std::to_string(n_per_);
          return false;
        }
        n = n_per_;
        c = counts_incorrect_ ? n_per_ - *v : *v;
      }
      counted.emplace_back(std::string(kv.key), n, c);
      count_n += n;
      count_correct += c;
    }
    return true;
  };

  // pass_rate_field: a share of n_per_ rollouts.
  auto read_pass_rate = [&]() -> bool {
    auto e = r.field(pass_rate_field_);
    if (!e || e->is_null()) {
      bad = "missing_rollouts:no pass rate in '" + pass_rate_field_ + "'";
      return false;
    }
    auto v = number_of(*e);
    if (!v || !(*v >= 0 && *v <= 1)) {
      bad = "bad_rollouts:'" + pass_rate_field_ + "' is " + simdjson::minify(*e) + ", not a pass rate in [0, 1]";
      return false;
    }
    const double k = *v * static_cast<double>(n_per_), whole = std::round(k);
    if (std::fabs(k - whole) > 1e-6) {
      bad = "bad_rollouts:'" + pass_rate_field_ + "' is " + simdjson::minify(*e) + ", not a whole number of n " + std::to_string(n_per_) +
            " rollouts";
      return false;
    }
    count_n = n_per_;
    count_correct = static_cast<int64_t>(whole);
    return true;
  };

  bool ok = true;
  const std::vector<SideModel>* side = nullptr;
  if (sidecar_on_) {
    const auto it = sidecar_.find(std::string(r.id()));
    if (it == sidecar_.end()) {
      bad = "missing_rollouts:no rollouts for id '" + std::string(r.id()) + "' in the sidecar";
      ok = false;
    } else {
      side = &it->second;
      if (!sidecar_marked_ && !need_reference()) {
        bad = "missing_reference";
        ok = false;
      }
      if (ok && !reference) need_reference();  // for the suspect check, when there is one
    }
  } else if (!models_.empty()) {
    for (const auto& [name, path] : models_) {
      per_model.emplace_back(name, std::vector<Rollout>{});
      if (!(ok = read(path, models_kind_, per_model.back().second))) break;
    }
  } else if (!counts_field_.empty()) {
    ok = read_model_counts();
  } else if (!pass_rate_field_.empty()) {
    ok = read_pass_rate();
  } else if (!n_field_.empty()) {
    ok = read_count(n_field_, count_n) && read_count(correct_count_field_, count_correct);
    if (ok && (count_n < 0 || count_correct < 0 || count_correct > count_n)) {
      bad = "bad_rollouts:counts " + std::to_string(count_correct) + "/" + std::to_string(count_n) + " are not 0 <= correct <= n";
      ok = false;
    }
  } else {
    per_model.emplace_back("", std::vector<Rollout>{});
    auto& pool = per_model.back().second;
    const std::string& answers = !responses_field_.empty() ? responses_field_ : answers_field_;
    const Kind kind = !responses_field_.empty() ? Kind::responses : Kind::answers;
    if (!answers.empty()) ok = read(answers, kind, pool);
    if (ok && !correct_field_.empty()) {
      std::vector<Rollout> marks;
      ok = read(correct_field_, Kind::correct, marks);
      if (ok && !answers.empty() && marks.size() != pool.size()) {
        bad = "bad_rollouts:" + std::to_string(pool.size()) + " answers but " + std::to_string(marks.size()) + " correctness values";
        ok = false;
      }
      if (ok && answers.empty()) pool = std::move(marks);
      else if (ok)
        for (size_t i = 0; i < pool.size(); ++i) pool[i].correct = marks[i].correct;
    }
  }
  for (const auto& path : early_stop_paths_)  // empty unless the stage reads rollouts from rollout.sample's layout
    if (auto es = r.field(path)) check_early_stop(r, *es, path);
  if (!ok) {
    const auto colon = bad.find(':');
    const std::string reason = colon == std::string::npos ? bad : bad.substr(0, colon);
    const std::string detail = colon == std::string::npos ? "no usable reference field '" + reference_field_ + "'" : bad.substr(colon + 1);
    r.count(reason);
    return r.reject(reason, detail);
  }

  // A group's answer against the reference, normalised once per record.
  std::optional<std::string> reference_norm;
  auto is_reference = [&](const Group& g) {
    if (!reference || g.norm.empty()) return false;
    if (!reference_norm)
      reference_norm = reference->size() <= options_.max_answer_chars ? normalize(*reference) : std::string();
    return equivalent_normalized(g.norm, *reference_norm, options_).equal;
  };

  // 2. Per-model figures, then the pool.
  Tally pooled;
  std::vector<std::tuple<std::string, int64_t, int64_t>> model_counts;  // name, n, correct
  if (side) {
    for (const auto& sm : *side) {
      int64_t c = sm.marked;
      if (!sidecar_marked_)
        for (const auto& g : sm.groups)
          if (is_reference(g)) c += g.count;
      model_counts.emplace_back(sm.name, sm.n, c);
      pooled.n += sm.n;
      pooled.correct += c;
      for (const auto& g : sm.groups) add_group(pooled.groups, g);
    }
  } else {
    for (const auto& [name, rs] : per_model) {
      int64_t c = 0;
      for (const auto& ro : rs) c += ro.correct ? 1 : 0;
      model_counts.emplace_back(name, static_cast<int64_t>(rs.size()), c);
    }
    for (auto& t : counted) model_counts.push_back(std::move(t));
    if (count_n >= 0) {
      pooled.n = count_n;
      pooled.correct = count_correct;
    } else {
      std::vector<Rollout> all;
      for (auto& [name, rs] : per_model)
        for (auto& ro : rs) all.push_back(std::move(ro));
      pooled = tally(all);
    }
  }
  const bool by_model = !models_.empty() || !counts_field_.empty() || (side && sidecar_models_);
  std::string rates, corrects, samples;
  if (by_model) {
    rates = corrects = samples = "{";
    bool first = true;
    for (const auto& [name, n, c] : model_counts) {
      const std::string sep = first ? "" : ",";
      first = false;
      rates += sep + json::quote(name) + ":" + (n == 0 ? std::string("null") : json::number(static_cast<double>(c) / static_cast<double>(n)));
      corrects += sep + json::quote(name) + ":" + std::to_string(c);
      samples += sep + json::quote(name) + ":" + std::to_string(n);
    }
    rates += "}";
    corrects += "}";
    samples += "}";
  }

  // 3. Annotations.
  const double rate = pooled.n > 0 ? static_cast<double>(pooled.correct) / static_cast<double>(pooled.n) : 0.0;
  if (by_model) {
    r.annotate_json("pass_rate", rates);
    if (pooled.n > 0) r.annotate("pass_rate_pooled", rate);
    r.annotate_json("n_correct_by_model", corrects);
    r.annotate_json("n_samples_by_model", samples);
  } else if (pooled.n > 0) {
    r.annotate("pass_rate", rate);
  }
  r.annotate("n_samples", pooled.n);
  r.annotate("n_correct", pooled.correct);
  const Group* major = nullptr;
  for (const auto& g : pooled.groups)
    if (!major || g.count > major->count) major = &g;  // ties: the answer seen first ...
  if (major && reference && !is_reference(*major))
    for (const auto& g : pooled.groups)  // ... unless the reference's answer is among the tied ones
      if (g.count == major->count && is_reference(g)) {
        major = &g;
        break;
      }
  bool suspect = false;
  if (major) {
    const double share = static_cast<double>(major->count) / static_cast<double>(pooled.n);
    r.annotate("majority_answer", cut_utf8(major->answer, 200));
    r.annotate("majority_share", share);
    // The majority must also have more than twice as many rollouts as reach the reference: a reference
    // that 1 of 4 rollouts reaches against 2 for another answer is most often right (GSM8K with planted
    // wrong references, bench/accuracy/suspect.sh: 58 of 60 such flags were on unplanted references).
    if (reference && suspect_action_ != Suspect::off && pooled.n >= min_samples_ && share + 1e-12 >= suspect_share_ &&
        major->count > 2 * pooled.correct && !is_reference(*major)) {
      suspect = true;
      r.annotate("suspect_label", true);
      r.count("suspect_label");
    }
  }

  // 4. Verdict: too_few_samples, suspect_label, then the band.
  const std::string counts = std::to_string(pooled.correct) + "/" + std::to_string(pooled.n) + " correct";
  if (pooled.n < min_samples_) {
    r.count("too_few_samples");
    return r.reject("too_few_samples", std::to_string(pooled.n) + " rollouts, fewer than min_samples " + std::to_string(min_samples_));
  }
  if (suspect && suspect_action_ == Suspect::reject) {
    const double share = static_cast<double>(major->count) / static_cast<double>(pooled.n);
    return r.reject("suspect_label", "majority answer '" + cut_utf8(major->answer, 100) + "' (" + std::to_string(major->count) + "/" +
                                         std::to_string(pooled.n) + ", share " + json::number(share) +
                                         ") is not equivalent to the reference '" + cut_utf8(*reference, 100) + "'; " + counts);
  }
  constexpr double eps = 1e-12;
  if (model_band_ != ModelBand::pooled) {
    // Each model against its own band; the pooled band does not apply.
    std::vector<std::string> names;
    if (side) names = sidecar_model_names_;
    else if (!counts_field_.empty())
      for (const auto& [mn, mn_n, mn_c] : model_counts) names.push_back(mn);
    else
      for (const auto& [name, path] : models_) names.push_back(name);
    std::string states = "{", detail, first_fail;
    bool any_in = false, all_in = true;
    for (const auto& name : names) {
      int64_t n = 0, c = 0;
      for (const auto& [mn, mn_n, mn_c] : model_counts)
        if (mn == name) n = mn_n, c = mn_c;
      Band b{min_, max_, inclusive_};
      for (const auto& [bn, bb] : model_bands_)
        if (bn == name) b = bb;
      const double p = n > 0 ? static_cast<double>(c) / static_cast<double>(n) : 0.0;
      const char* state = n < min_samples_                                        ? "too_few_samples"
                          : (b.inclusive ? p < b.min - eps : p <= b.min + eps) ? "too_hard"
                          : (b.inclusive ? p > b.max + eps : p >= b.max - eps) ? "too_easy"
                                                                                : "in_band";
      const bool in = std::string_view(state) == "in_band";
      any_in = any_in || in;
      all_in = all_in && in;
      if (!in && first_fail.empty() && (model_band_ == ModelBand::all || std::string_view(state) != "too_few_samples"))
        first_fail = state;
      states += (states.size() > 1 ? "," : "") + json::quote(name) + ":" + json::quote(state);
      detail += (detail.empty() ? "" : "; ") + name + " " + std::to_string(c) + "/" + std::to_string(n) + " " + state;
    }
    states += "}";
    r.annotate_json("band_by_model", states);
    const bool keep = model_band_ == ModelBand::all ? all_in && !names.empty() : any_in;
    if (keep) {
      r.count("kept");
      return;
    }
    const std::string reason = first_fail.empty() ? "too_few_samples" : first_fail;
    r.count(reason);
    return r.reject(reason, std::string(model_band_ == ModelBand::all ? "not every model in its band: " : "no model in its band: ") + detail);
  }
  const bool below = inclusive_ ? rate < min_ - eps : rate <= min_ + eps;
  const bool above = inclusive_ ? rate > max_ + eps : rate >= max_ - eps;
  if (below) {
    r.count("too_hard");
    return r.reject("too_hard", counts);
  }
  if (above) {
    r.count("too_easy");
    return r.reject("too_easy", counts);
  }
  r.count("kept");
}

}  // namespace tamis::grade
