#include "ops.hpp"

namespace tamis::map {

namespace {

// The rows map.to_verl and map.to_openrlhf share, after the op's own rows. `data_source` is the
// name of the data source row ("data_source" for verl, "datasource" for OpenRLHF).
ParamTable with_common(ParamTable own, const char* data_source) {
  ParamTable rows = {
      {.name = "prompt", .type = ParamType::json, .default_json = "\"{problem}\"",
       .help = "the prompt: a text template ({FIELD} places, {{ }} braces) that becomes one user message, or a list of {role, content} "
               "messages whose strings are templates; \"{FIELD}\" alone copies a field that already holds a list of messages"},
      {.name = "system_prompt", .type = ParamType::string, .default_json = "\"\"",
       .help = "with a text prompt: a system message (a template) before the user message; \"\": none"},
      {.name = "answer", .type = ParamType::string, .default_json = "\"answer\"",
       .help = "the field holding the reference answer (a string, number or boolean; written as text)"},
      {.name = data_source, .type = ParamType::string, .default_json = "\"\"",
       .help = "the data source (a template, e.g. \"openai/gsm8k\" or \"{origin}\"); \"\": the name of the tamis source the record came from"},
      {.name = "split", .type = ParamType::string, .default_json = "\"\"", .help = "written as extra_info.split when set (e.g. train)"},
      {.name = "extra_fields", .type = ParamType::string_list, .default_json = "[]",
       .help = "record fields copied into extra_info under their path, as JSON values (null when absent), e.g. [problem, solution]"},
      {.name = "annotations", .type = ParamType::string_list, .default_json = "[\"*\"]",
       .help = "annotation keys copied into extra_info (pass_rate, n_samples, majority_answer, lang, translate_to, ...): [\"*\"] every "
               "annotation the record has; a listed key the record lacks is null, so every record has the same extra_info keys"},
      {.name = "annotation_field", .type = ParamType::string, .default_json = "\"tamis\"",
       .help = "the top-level field holding annotations of an earlier tamis run (its output read back); they come before this run's, "
               "which replace them key by key; \"\": not read"},
  };
  rows.insert(rows.end(), own.begin(), own.end());
  return rows;
}

// A list of (key, JSON text) where a later key replaces an earlier one in place.
class Members {
 public:
  void put(std::string_view key, std::string_view value) {
    for (auto& [k, v] : items_)
      if (k == key) {
        v.assign(value);
        return;
      }
    items_.emplace_back(std::string(key), std::string(value));
  }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  const std::string* get(std::string_view key) const {
    for (const auto& [k, v] : items_)
      if (k == key) return &v;
    return nullptr;
  }
  std::string json() const {
    std::string out = "{";
    for (size_t i = 0; i < items_.size(); ++i) {
      if (i) out += ',';
      json::append_quoted(out, items_[i].first);
      out += ':';
      out += items_[i].second;
    }
    return out + "}";
  }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace

// ---- TrainerRecord ----

TrainerRecord::TrainerRecord(const Params& p, const char* data_source_param)
    : prompt_(JsonTemplate::compile(p.get_json("prompt"), "prompt")),
      system_(TextTemplate::parse(p.get_string("system_prompt"), "system_prompt")), answer_(p.get_string("answer")),
      data_source_(TextTemplate::parse(p.get_string(data_source_param), data_source_param)), split_(p.get_string("split")),
      extra_fields_(p.get_strings("extra_fields")), annotation_field_(p.get_string("annotation_field")) {
  for (auto& a : p.get_strings("annotations")) {
    if (a == "*") all_annotations_ = true;
    else annotations_.push_back(std::move(a));
  }
}

void TrainerRecord::check(const Params& p, bool chat) {
  const auto prompt = p.get_json("prompt");
  (void)JsonTemplate::compile(prompt, "prompt");
  if (!prompt.is_string() && !prompt.is_array())
    throw Error("prompt must be a text template or a list of {role, content} messages");
  if (!chat && !prompt.is_string()) throw Error("prompt: with chat: false the prompt is a text template, not a list of messages");
  if (!chat && !p.get_string("system_prompt").empty())
    throw Error("system_prompt goes with chat: true (with chat: false, put it in the prompt template)");
  (void)TextTemplate::parse(p.get_string("system_prompt"), "system_prompt");
  if (p.get_string("answer").empty()) throw Error("answer: give the field holding the reference answer");
  const auto a = p.get_strings("annotations");
  if (a.size() > 1 && std::find(a.begin(), a.end(), "*") != a.end())
    throw Error("annotations: \"*\" takes every annotation; list keys or give [\"*\"], not both");
}

std::optional<std::string> TrainerRecord::prompt(const Record& r, bool chat, Missing& missing) const {
  if (!prompt_.is_string()) return prompt_.render(r, missing);
  if (const auto f = prompt_.text().single_field()) {
    const auto raw = r.raw_field(*f);
    if (raw && !raw->empty() && raw->front() == '[') {
      if (chat) return std::string(*raw);
      missing = {std::string(*f), "field '" + std::string(*f) + "' is a list of messages, and chat is false"};
      return std::nullopt;
    }
  }
  const auto user = prompt_.text().render(r, missing);
  if (!user) return std::nullopt;
  if (!chat) return json::quote(*user);
  std::string out = "[";
  if (!system_.empty()) {
    const auto system = system_.render(r, missing);
    if (!system) return std::nullopt;
    out += "{\"role\":\"system\",\"content\":" + json::quote(*system) + "},";
  }
  return out + "{\"role\":\"user\",\"content\":" + json::quote(*user) + "}]";
}

std::optional<std::string> TrainerRecord::ground_truth(const Record& r, Missing& missing) const {
  std::string why;
  const auto v = field_text(r, answer_, &why);
  if (!v) {
    missing = {answer_, why};
    return std::nullopt;
  }
  return json::quote(*v);
}

std::optional<std::string> TrainerRecord::data_source(const Record& r, Missing& missing) const {
  if (data_source_.empty()) return json::quote(r.source());
  const auto v = data_source_.render(r, missing);
  if (!v) return std::nullopt;
  return json::quote(*v);
}

std::string TrainerRecord::extra_info(const Record& r) const {
  Members info;
  info.put("id", json::quote(r.id()));
  info.put("source", json::quote(r.source()));
  if (!split_.empty()) info.put("split", json::quote(split_));
  for (const auto& f : extra_fields_) {
    const auto raw = r.raw_field(f);
    info.put(f, raw && !raw->empty() ? *raw : std::string_view("null"));
  }
  // An earlier run's annotations (its output read back), then this run's, which replace them.
  Members notes;
  if (!annotation_field_.empty()) {
    const auto earlier = json::member_value(r.json(), annotation_field_);
    if (earlier && !earlier->empty() && earlier->front() == '{') {
      for (const auto& m : json::members(*earlier)) {
        size_t vs = m.key_end;
        while (vs < earlier->size() && ((*earlier)[vs] == ':' || (*earlier)[vs] == ' ' || (*earlier)[vs] == '\n' ||
                                        (*earlier)[vs] == '\t' || (*earlier)[vs] == '\r'))
          ++vs;
        notes.put(json::unescape(m.key), earlier->substr(vs, m.value_end - vs));
      }
    }
  }
  for (const auto& [k, v] : r.annotations()) notes.put(k, v);
  // The record's provenance, when tamis gave it an id (a source without `id:`): the id and the source it
  // first entered tamis through, not this run's source name (docs/pipeline-format.md, Record ids).
  if (const std::string* id = notes.get("id")) info.put("id", *id);
  if (const std::string* source = notes.get("source")) info.put("source", *source);
  if (all_annotations_) {
    for (const auto& [k, v] : notes.items()) info.put(k, v);
  } else {
    for (const auto& k : annotations_) {
      const std::string* v = notes.get(k);
      info.put(k, v ? std::string_view(*v) : std::string_view("null"));
    }
  }
  return info.json();
}

// ---- map.to_verl ----

const ParamTable ToVerl::params = with_common(
    {
        {.name = "ability", .type = ParamType::string, .default_json = "\"math\"", .help = "the ability column (verl's task category)"},
        {.name = "style", .type = ParamType::string, .default_json = "\"rule\"",
         .help = "reward_model.style: rule (a rule-based reward function checks ground_truth) or model"},
    },
    "data_source");

ToVerl::ToVerl(const Params& p) : common_(p, "data_source"), ability_(p.get_string("ability")), style_(p.get_string("style")) {}

void ToVerl::check(const Params& p) { TrainerRecord::check(p, true); }

void ToVerl::process(Record& r) const {
  Missing missing;
  const auto prompt = common_.prompt(r, true, missing);
  if (!prompt) return reject_for(r, missing);
  const auto truth = common_.ground_truth(r, missing);
  if (!truth) return reject_for(r, missing);
  const auto source = common_.data_source(r, missing);
  if (!source) return reject_for(r, missing);
  std::string out = "{\"data_source\":" + *source + ",\"prompt\":" + *prompt + ",\"ability\":" + json::quote(ability_) +
                    ",\"reward_model\":{\"style\":" + json::quote(style_) + ",\"ground_truth\":" + *truth +
                    "},\"extra_info\":" + common_.extra_info(r) + "}";
  r.replace(std::move(out));
}

// ---- map.to_openrlhf ----

const ParamTable ToOpenRlhf::params = with_common(
    {
        {.name = "chat", .type = ParamType::boolean, .default_json = "true",
         .help = "write the input as a list of {role, content} messages (train with --apply_chat_template); false: as text (with --input_template)"},
        {.name = "input_key", .type = ParamType::string, .default_json = "\"input\"", .help = "the key of the prompt (OpenRLHF's --input_key)"},
        {.name = "label_key", .type = ParamType::string, .default_json = "\"label\"",
         .help = "the key of the reference answer (OpenRLHF's --label_key, passed to a reward function); \"\": not written"},
        {.name = "info_key", .type = ParamType::string, .default_json = "\"extra_info\"",
         .help = "the key of the extra information object (id, source, annotations); \"\": not written"},
    },
    "datasource");

ToOpenRlhf::ToOpenRlhf(const Params& p)
    : common_(p, "datasource"), chat_(p.get_bool("chat")), input_key_(p.get_string("input_key")),
      label_key_(p.get_string("label_key")), info_key_(p.get_string("info_key")) {}

void ToOpenRlhf::check(const Params& p) {
  TrainerRecord::check(p, p.get_bool("chat"));
  const std::string in = p.get_string("input_key"), label = p.get_string("label_key"), info = p.get_string("info_key");
  if (in.empty()) throw Error("input_key: give the key of the prompt");
  for (const std::string* k : {&in, &label, &info})
    if (*k == "datasource") throw Error("'datasource' is the data source's key; choose another key");
  if (in == label || in == info || (!label.empty() && label == info)) throw Error("input_key, label_key and info_key must differ");
}

void ToOpenRlhf::process(Record& r) const {
  Missing missing;
  const auto prompt = common_.prompt(r, chat_, missing);
  if (!prompt) return reject_for(r, missing);
  std::optional<std::string> truth;
  if (!label_key_.empty()) {
    truth = common_.ground_truth(r, missing);
    if (!truth) return reject_for(r, missing);
  }
  const auto source = common_.data_source(r, missing);
  if (!source) return reject_for(r, missing);
  std::string out = "{" + json::quote(input_key_) + ":" + *prompt;
  if (truth) out += "," + json::quote(label_key_) + ":" + *truth;
  out += ",\"datasource\":" + *source;
  if (!info_key_.empty()) out += "," + json::quote(info_key_) + ":" + common_.extra_info(r);
  r.replace(out + "}");
}

}  // namespace tamis::map
