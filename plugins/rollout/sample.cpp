// The `rollout.sample` op: see sample.hpp and docs/rollouts.md.
#include "sample.hpp"

#include <tamis/files.hpp>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace tamis::rollout {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

const char* const kApis[] = {"chat", "completions", nullptr};
const char* const kStopRules[] = {"off", "exact", "bound", nullptr};
const char* const kSuspectActions[] = {"reject", "annotate", "off", nullptr};
const char* const kModelBands[] = {"pooled", "all", "any", nullptr};
// Request members the op sets itself: extra_body may not set them.
const char* const kOwnMembers[] = {"model", "messages", "prompt", "n", "seed", "temperature", "top_p", "max_tokens", "stop", "stream"};
const char* stop_reason_name(StopReason r) { return r == StopReason::exact ? "exact" : r == StopReason::bound ? "bound" : "budget"; }

std::optional<std::string> scalar_text(const element& e) {
  switch (e.type()) {
    case element_type::STRING: return std::string(e.get_string().value_unsafe());
    case element_type::INT64: return std::to_string(e.get_int64().value_unsafe());
    case element_type::UINT64: return std::to_string(e.get_uint64().value_unsafe());
    case element_type::DOUBLE: return json::number(e.get_double().value_unsafe());
    case element_type::BOOL: return std::string(e.get_bool().value_unsafe() ? "true" : "false");
    default: return std::nullopt;
  }
}

std::string cut_utf8(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t c = n;
  while (c > 0 && (static_cast<unsigned char>(s[c]) & 0xC0) == 0x80) --c;
  return s.substr(0, c);
}

// The endpoints parameter: a list of base URLs or {url, max_in_flight} objects.
std::vector<Endpoint> parse_endpoints(const element& e) {
  std::vector<Endpoint> out;
  simdjson::dom::array list;
  if (e.get_array().get(list) != simdjson::SUCCESS) throw Error("endpoints must be a list of URLs or {url, max_in_flight}");
  for (element item : list) {
    Endpoint ep;
    std::string_view s;
    if (item.get_string().get(s) == simdjson::SUCCESS) {
      ep.base_url = std::string(s);
    } else if (simdjson::dom::object obj; item.get_object().get(obj) == simdjson::SUCCESS) {
      for (auto kv : obj) {
        if (kv.key == "url" && kv.value.get_string().get(s) == simdjson::SUCCESS) ep.base_url = std::string(s);
        else if (kv.key == "max_in_flight" && kv.value.is_int64() && kv.value.get_int64().value_unsafe() >= 1)
          ep.max_in_flight = static_cast<int>(std::min<int64_t>(kv.value.get_int64().value_unsafe(), 1 << 20));
        else throw Error("endpoints: '" + std::string(kv.key) + "' is not url (a string) or max_in_flight (an integer >= 1)");
      }
    } else {
      throw Error("endpoints: each item is a URL or {url, max_in_flight}");
    }
    if (!(ep.base_url.rfind("http://", 0) == 0 || ep.base_url.rfind("https://", 0) == 0))
      throw Error("endpoints: '" + ep.base_url + "' is not an http:// or https:// URL");
    out.push_back(std::move(ep));
  }
  if (out.empty()) throw Error("endpoints: give at least one");
  return out;
}

// A JSON value as canonical text: object keys sorted (bytewise), no spaces; numbers as written by json::number.
std::string canonical_json(const element& e) {
  switch (e.type()) {
    case element_type::OBJECT: {
      std::vector<std::pair<std::string, std::string>> members;
      simdjson::dom::object obj;
      if (e.get_object().get(obj) != simdjson::SUCCESS) return "null";
      for (auto kv : obj) members.emplace_back(std::string(kv.key), canonical_json(kv.value));
      std::sort(members.begin(), members.end());
      std::string out = "{";
      for (const auto& [k, v] : members) out += (out.size() > 1 ? "," : "") + json::quote(k) + ":" + v;
      return out + "}";
    }
    case element_type::ARRAY: {
      std::string out = "[";
      simdjson::dom::array arr;
      if (e.get_array().get(arr) != simdjson::SUCCESS) return "null";
      for (element x : arr) out += (out.size() > 1 ? "," : "") + canonical_json(x);
      return out + "]";
    }
    case element_type::STRING: return json::quote(e.get_string().value_unsafe());
    case element_type::NULL_VALUE: return "null";
    default: return *scalar_text(e);
  }
}

// extra_body: its members as (key, canonical value), sorted by key (none when absent or empty). Throws on
// a member the op sets itself.
std::vector<std::pair<std::string, std::string>> parse_extra_body(const Params& p) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!p.has("extra_body")) return out;
  simdjson::dom::object obj;
  if (p.get_json("extra_body").get_object().get(obj) != simdjson::SUCCESS)
    throw Error("extra_body must be a mapping of request members, e.g. {top_k: 20, min_p: 0.05}");
  for (auto kv : obj) {
    for (const char* own : kOwnMembers)
      if (kv.key == own)
        throw Error("extra_body sets '" + std::string(kv.key) + "', which the op sets itself (use its own parameter: model(s), n, seed, "
                    "temperature, top_p, max_tokens, stop; messages and prompt come from the template; stream is never used)");
    out.emplace_back(std::string(kv.key), canonical_json(kv.value));
  }
  std::sort(out.begin(), out.end());
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i].first == out[i - 1].first) throw Error("extra_body sets '" + out[i].first + "' twice");
  return out;
}

// The models: `model`, or the `models` list of names or {name, endpoints}. Endpoints empty: the stage's.
struct ModelSpec {
  std::string name;
  std::vector<Endpoint> endpoints;
  std::string endpoints_text;  // canonical: models with the same endpoints share one client
};

std::vector<ModelSpec> parse_models(const Params& p) {
  std::vector<ModelSpec> out;
  if (p.has("model") == p.has("models")) throw Error("give model (one name) or models (a list), not both and not neither");
  if (p.has("model")) {
    if (p.get_string("model").empty()) throw Error("model must not be empty");
    out.push_back({p.get_string("model"), {}, {}});
    return out;
  }
  simdjson::dom::array list;
  if (p.get_json("models").get_array().get(list) != simdjson::SUCCESS) throw Error("models must be a list of names or {name, endpoints}");
  for (element item : list) {
    ModelSpec m;
    std::string_view s;
    if (item.get_string().get(s) == simdjson::SUCCESS) {
      m.name = std::string(s);
    } else if (simdjson::dom::object obj; item.get_object().get(obj) == simdjson::SUCCESS) {
      for (auto kv : obj) {
        if (kv.key == "name" && kv.value.get_string().get(s) == simdjson::SUCCESS) {
          m.name = std::string(s);
        } else if (kv.key == "endpoints") {
          m.endpoints = parse_endpoints(kv.value);
          m.endpoints_text = canonical_json(kv.value);
        } else {
          throw Error("models: '" + std::string(kv.key) + "' is not name (a string) or endpoints (a list)");
        }
      }
    } else {
      throw Error("models: each item is a name or {name, endpoints}");
    }
    if (m.name.empty()) throw Error("models: a model without a name");
    for (const auto& other : out)
      if (other.name == m.name) throw Error("models: '" + m.name + "' is listed twice");
    if (m.endpoints.empty() && !p.has("endpoints"))
      throw Error("models: '" + m.name + "' has no endpoints of its own and the stage has no endpoints");
    out.push_back(std::move(m));
  }
  if (out.empty()) throw Error("models: give at least one");
  return out;
}

}  // namespace

// ---- Template ----

Template Template::parse(std::string_view text) { return Template{parse_text_template(text, "prompt_template")}; }

// ---- Sampler ----

Sampler::Sampler(std::vector<ClientOptions> routes, const std::string& cache_path, size_t models)
    : cache_(std::make_unique<Cache>(cache_path)), arrived_(routes.size()), model_stats_(models) {
  for (auto& options : routes) {
    const size_t route = clients_.size();
    clients_.push_back(std::make_unique<Client>(std::move(options)));
    clients_.back()->set_turn_end([this, route] { on_turn_end(route); });
  }
}

Sampler::~Sampler() { clients_.clear(); }

int64_t Sampler::fetch(const std::vector<Part>& parts, const std::shared_ptr<Pending>& p) {
  // The lookup and the registration happen under flights_mu_, which on_turn_end also holds while it stores
  // and hands out a turn's responses: a sample is then either in the cache, or in flight, never neither.
  // All parts of a round are registered under one hold, so no part's responses can complete the round
  // before the others are counted in `remaining`.
  std::lock_guard lock(flights_mu_);
  int64_t asked = 0;
  std::vector<std::pair<size_t, std::vector<int64_t>>> missing;  // part, samples
  for (size_t k = 0; k < parts.size(); ++k) {
    const Part& part = parts[k];
    auto found = cache_->lookup(part.request->key, part.to);
    std::vector<int64_t> lacking;
    for (int64_t i = part.from; i < part.to; ++i) {
      auto& slot = found[static_cast<size_t>(i)];
      if (slot) p->responses[static_cast<size_t>(part.offset + i)] = std::move(slot);
      else lacking.push_back(i);
    }
    asked += static_cast<int64_t>(lacking.size());
    p->hits += part.to - part.from - static_cast<int64_t>(lacking.size());
    if (!lacking.empty()) missing.emplace_back(k, std::move(lacking));
  }
  p->requested += asked;
  p->remaining = asked;
  for (const auto& [k, samples] : missing) {
    const Part& part = parts[k];
    auto shared = std::make_shared<const Request>(*part.request);
    for (const int64_t i : samples) {
      const auto id = std::make_pair(part.request->key, i);
      auto it = flights_.find(id);
      if (it != flights_.end()) {
        it->second.waiters.push_back({p, part.offset + i});
        continue;
      }
      flights_.emplace(id, Flight{shared, {{p, part.offset + i}}});
      const size_t route = part.request->route;
      clients_[route]->submit(part.request->api, part.body_for(i),
                              [this, id, route](Outcome&& o) { arrived_[route].push_back({id, std::move(o)}); });
    }
  }
  return asked;
}

bool Sampler::deliver(const Waiter& w, const Outcome& o) {
  Pending& p = *w.pending;
  std::lock_guard lock(p.mu);
  const auto i = static_cast<size_t>(w.sample);
  if (o.ok) {
    p.responses[i] = CachedResponse{o.completion.text, o.completion.finish_reason, o.completion.prompt_tokens, o.completion.completion_tokens};
  } else {
    p.errors[i] = o.error + " (" + std::to_string(o.attempts) + (o.attempts == 1 ? " attempt)" : " attempts)");
    p.permanent = p.permanent || o.permanent;
  }
  if (--p.remaining > 0) return false;
  if (p.rounds) return true;
  p.done = true;
  p.cv.notify_all();
  return false;
}

void Sampler::on_turn_end(size_t route) {
  std::vector<Arrived> arrived;
  arrived.swap(arrived_[route]);
  std::vector<std::shared_ptr<Pending>> rounds_in;
  {
    std::lock_guard lock(flights_mu_);
    std::vector<Cache::Put> puts;
    for (auto& a : arrived) {
      const Flight& f = flights_.at(a.id);
      ModelStats& ms = model_stats_[f.request->model_index];
      ms.requests += a.outcome.attempts;
      ms.retries += std::max(0, a.outcome.attempts - 1);
      if (!a.outcome.ok) {
        ++ms.failed;
        continue;
      }
      ++ms.responses;
      const Completion& c = a.outcome.completion;
      puts.push_back({a.id.first, a.id.second, f.request->model, f.request->params, f.request->prompt,
                      CachedResponse{c.text, c.finish_reason, c.prompt_tokens, c.completion_tokens}});
      if (c.prompt_tokens > 0) prompt_tokens_ += c.prompt_tokens, ms.prompt_tokens += c.prompt_tokens;
      if (c.completion_tokens > 0) completion_tokens_ += c.completion_tokens, ms.completion_tokens += c.completion_tokens;
    }
    try {
      cache_->store(puts);  // before anyone is told: what a record sees is what a rerun will read
    } catch (const std::exception& e) {
      for (auto& a : arrived)
        if (a.outcome.ok) {
          a.outcome.ok = false;
          a.outcome.permanent = true;
          a.outcome.error = std::string("cache write failed: ") + e.what();
        }
    }
    for (auto& a : arrived) {
      auto it = flights_.find(a.id);
      for (const Waiter& w : it->second.waiters)
        if (deliver(w, a.outcome)) rounds_in.push_back(w.pending);
      flights_.erase(it);
    }
  }
  // Outside the lock: the hook grades the round and may ask the next one (fetch takes the lock).
  for (const auto& p : rounds_in) round_hook_(p);
}

// ---- Sample ----

const ParamTable Sample::params = {
    {.name = "endpoints", .type = ParamType::json,
     .help = "OpenAI-compatible servers: base URLs up to /v1 (\"http://host:8000/v1\"), or {url, max_in_flight} for a "
             "per-endpoint bound; requests go to the least loaded (required unless every model of models has its own)"},
    {.name = "api", .type = ParamType::string, .default_json = "\"chat\"",
     .help = "chat: POST /chat/completions with messages; completions: POST /completions with the raw prompt", .choices = kApis},
    {.name = "model", .type = ParamType::string, .help = "the model name sent to the servers (part of the cache key); or models"},
    {.name = "models", .type = ParamType::json,
     .help = "instead of model, several models, each sampled n times: a list of names, or {name, endpoints} for a model served "
             "elsewhere (default: the stage's endpoints); per-model figures as grade.difficulty's models mode (docs/rollouts.md)"},
    {.name = "extra_body", .type = ParamType::json,
     .help = "an object merged into every request body, for server-specific sampling parameters ({top_k: 20, min_p: 0.05}); "
             "part of the cache key; the op's own members (model, messages, prompt, n, seed, temperature, ...) are refused"},
    {.name = "prompt_template", .type = ParamType::string, .default_json = "\"{problem}\"",
     .help = "the user message (or raw prompt): {FIELD} is a record field (a path; a string, number or boolean), {{ and }} are braces"},
    {.name = "system_prompt", .type = ParamType::string, .default_json = "\"\"",
     .help = "with api chat: a system message before the user message (empty: none)"},
    {.name = "n", .type = ParamType::integer, .default_json = "4", .help = "samples per record (sample i is asked with seed + i)"},
    {.name = "temperature", .type = ParamType::number, .default_json = "1.0", .help = "sampling temperature"},
    {.name = "top_p", .type = ParamType::number, .default_json = "1.0", .help = "nucleus sampling"},
    {.name = "max_tokens", .type = ParamType::integer, .default_json = "1024", .help = "most tokens per response"},
    {.name = "seed", .type = ParamType::integer, .default_json = "0", .help = "sample i is asked with seed + i, so a rerun asks the same thing"},
    {.name = "stop", .type = ParamType::string_list, .default_json = "[]", .help = "stop sequences (empty: none sent)"},
    {.name = "api_key_env", .type = ParamType::string, .default_json = "\"\"",
     .help = "the NAME of an environment variable holding the API key (sent as a Bearer token; never written anywhere); empty: no key"},
    {.name = "cache", .type = ParamType::path, .required = true,
     .help = "the SQLite response cache (created if absent): every response stored as it arrives; reruns read it",
     .files = FileRole::output},
    {.name = "reference_field", .type = ParamType::string, .default_json = "\"answer\"",
     .help = "the reference answer (a string or a number; a worked solution is reduced to its final answer); empty: the "
             "responses are not graded here (code problems: code.grade runs them) and rollouts_field holds them whole"},
    {.name = "rollouts_field", .type = ParamType::string, .default_json = "\"rollouts\"",
     .help = "a top-level field added to the record: {model, answers, correct} (what grade.difficulty reads with answers_field "
             "and correct_field); empty: none"},
    {.name = "sidecar", .type = ParamType::path,
     .help = "also write the responses as a JSONL sidecar that grade.difficulty reads (sidecar_field: responses, sidecar_model_field: "
             "model): one line per graded record, in input order, {id, model, responses, finish_reasons}; put in place with the "
             "run's outputs",
     .files = FileRole::output},
    {.name = "last_number", .type = ParamType::boolean, .default_json = "false",
     .help = "when grading, fall back to the last number of the response"},
    {.name = "tolerance", .type = ParamType::number, .default_json = "1e-6", .help = "relative tolerance for inexact numbers"},
    {.name = "max_in_flight", .type = ParamType::integer, .default_json = "64", .help = "requests in flight in all"},
    {.name = "timeout_seconds", .type = ParamType::number, .default_json = "600", .help = "one request, from connecting to the last byte"},
    {.name = "connect_timeout_seconds", .type = ParamType::number, .default_json = "10", .help = "connecting"},
    {.name = "max_retries", .type = ParamType::integer, .default_json = "8",
     .help = "retries of a request after a connection error, a timeout, HTTP 408/429/5xx or a malformed answer"},
    {.name = "backoff_initial_seconds", .type = ParamType::number, .default_json = "0.5",
     .help = "wait before the first retry; doubles each retry, with jitter (x 0.5-1); a longer Retry-After wins"},
    {.name = "backoff_max_seconds", .type = ParamType::number, .default_json = "60", .help = "longest computed wait between retries"},
    {.name = "early_stop", .type = ParamType::string, .default_json = "\"off\"",
     .help = "ask in rounds and stop a record early: exact = once no outcome of its remaining samples can change the verdict of "
             "difficulty (same band and suspect label as the full n); bound = also once one-sided Clopper-Pearson bounds at error_rate "
             "put the pass rate on one side of the band edges; off = all n at once (docs/rollouts.md)",
     .choices = kStopRules},
    {.name = "round", .type = ParamType::integer, .default_json = "4", .help = "with early_stop: samples asked per round"},
    {.name = "band_min", .type = ParamType::number, .default_json = "0", .help = "with early_stop: the min of the difficulty stage downstream"},
    {.name = "band_max", .type = ParamType::number, .default_json = "1", .help = "with early_stop: the max of the difficulty stage downstream"},
    {.name = "band_inclusive", .type = ParamType::boolean, .default_json = "false",
     .help = "with early_stop: the inclusive of the difficulty stage downstream"},
    {.name = "min_samples", .type = ParamType::integer, .default_json = "1",
     .help = "with early_stop: the min_samples of the difficulty stage downstream (never stops before)"},
    {.name = "suspect_share", .type = ParamType::number, .default_json = "0.5",
     .help = "with early_stop: the suspect_share of the difficulty stage downstream"},
    {.name = "suspect_action", .type = ParamType::string, .default_json = "\"reject\"",
     .help = "with early_stop: the suspect_action of the difficulty stage downstream", .choices = kSuspectActions},
    {.name = "error_rate", .type = ParamType::number, .default_json = "0.05",
     .help = "with early_stop: bound: the alpha of each one-sided Clopper-Pearson bound"},
    {.name = "model_band", .type = ParamType::string, .default_json = "\"pooled\"",
     .help = "with early_stop: the model_band of the difficulty stage downstream; the rule covers the pooled band only, so all and "
             "any are refused with early_stop", .choices = kModelBands},
};

void Sample::check(const Params& p) {
  if (p.has("endpoints")) parse_endpoints(p.get_json("endpoints"));
  else if (!p.has("models")) throw Error("endpoints: give the servers (or models with endpoints of their own)");
  parse_models(p);
  parse_extra_body(p);
  if (p.get_string("early_stop") != "off" && p.get_string("model_band") != "pooled")
    throw Error("early_stop with model_band " + p.get_string("model_band") +
                ": the stop rule covers the pooled band only (each model's own band is not settled by it); use early_stop: off");
  (void)Template::parse(p.get_string("prompt_template"));
  if (p.get_string("api") == "completions" && !p.get_string("system_prompt").empty())
    throw Error("system_prompt goes with api: chat (with completions, put it in prompt_template)");
  if (p.get_string("reference_field").empty() && p.get_string("early_stop") != "off")
    throw Error("early_stop needs grades: with reference_field empty (ungraded responses), use early_stop: off");
  if (p.get_int("n") < 1 || p.get_int("n") > 100000) throw Error("n must be between 1 and 100000");
  if (p.get_int("max_tokens") < 1) throw Error("max_tokens must be at least 1");
  if (p.get_int("max_in_flight") < 1) throw Error("max_in_flight must be at least 1");
  if (p.get_int("max_retries") < 0) throw Error("max_retries must be at least 0");
  if (!(p.get_double("timeout_seconds") > 0) || !(p.get_double("connect_timeout_seconds") > 0)) throw Error("timeouts must be positive");
  if (!(p.get_double("backoff_initial_seconds") >= 0) || !(p.get_double("backoff_max_seconds") >= 0))
    throw Error("backoff times must be at least 0");
  const std::string f = p.get_string("rollouts_field");
  if (f.find_first_of(".\"\\/") != std::string::npos) throw Error("rollouts_field must be a plain top-level key (no '.', '/', quotes)");
  if (p.get_int("round") < 1) throw Error("round must be at least 1");
  const double lo = p.get_double("band_min"), hi = p.get_double("band_max");
  if (!(lo >= 0 && hi <= 1 && lo <= hi)) throw Error("need 0 <= band_min <= band_max <= 1");
  if (!p.get_bool("band_inclusive") && lo == hi) throw Error("band_min == band_max with exclusive bounds keeps nothing");
  if (p.get_int("min_samples") < 1) throw Error("min_samples must be at least 1");
  const double share = p.get_double("suspect_share");
  if (!(share > 0 && share <= 1)) throw Error("suspect_share must be in (0, 1]");
  const double alpha = p.get_double("error_rate");
  if (!(alpha > 0 && alpha < 0.5)) throw Error("error_rate must be in (0, 0.5)");
}

Sample::Sample(const Params& p, Stage& stage)
    : api_(p.get_string("api") == "chat" ? Api::chat : Api::completions),
      template_(Template::parse(p.get_string("prompt_template"))),
      system_prompt_(p.get_string("system_prompt")),
      n_(p.get_int("n")),
      seed_(p.get_int("seed")),
      reference_field_(p.get_string("reference_field")),
      rollouts_field_(p.get_string("rollouts_field")) {
  ungraded_ = reference_field_.empty();
  grade_options_.extract.last_number = p.get_bool("last_number");
  grade_options_.tolerance = p.get_double("tolerance");
  const std::string rule = p.get_string("early_stop"), action = p.get_string("suspect_action");
  stop_.rule = rule == "exact" ? StopRule::exact : rule == "bound" ? StopRule::bound : StopRule::off;
  stop_.round = p.get_int("round");
  stop_.min = p.get_double("band_min");
  stop_.max = p.get_double("band_max");
  stop_.inclusive = p.get_bool("band_inclusive");
  stop_.min_samples = p.get_int("min_samples");
  stop_.suspect_share = p.get_double("suspect_share");
  stop_.suspect = action == "reject" ? SuspectAction::reject : action == "annotate" ? SuspectAction::annotate : SuspectAction::off;
  stop_.error_rate = p.get_double("error_rate");
  if (stop_.rule != StopRule::off)  // the settings the stop assumed, for difficulty to compare with its own
    early_stop_json_ = ",\"early_stop\":{\"band_min\":" + json::number(stop_.min) + ",\"band_max\":" + json::number(stop_.max) +
                       ",\"band_inclusive\":" + json::boolean(stop_.inclusive) + ",\"min_samples\":" + std::to_string(stop_.min_samples) +
                       ",\"suspect_share\":" + json::number(stop_.suspect_share) + ",\"suspect_action\":" + json::quote(action) + "}";

  // The sampling parameters: once as the body's members, once canonical (sorted keys) for the cache key.
  std::string stop = "[";
  for (const auto& s : p.get_strings("stop")) stop += (stop.size() > 1 ? "," : "") + json::quote(s);
  stop += "]";
  const std::string temperature = json::number(p.get_double("temperature")), top_p = json::number(p.get_double("top_p"));
  const std::string max_tokens = std::to_string(p.get_int("max_tokens"));
  sampling_json_ = ",\"temperature\":" + temperature + ",\"top_p\":" + top_p + ",\"max_tokens\":" + max_tokens;
  if (stop != "[]") sampling_json_ += ",\"stop\":" + stop;
  // extra_body: its members after the op's own, sorted; in the key only when it has some (so that keys
  // without it stay what they were).
  std::string extra;
  for (const auto& [k, v] : parse_extra_body(p)) {
    sampling_json_ += "," + json::quote(k) + ":" + v;
    extra += (extra.empty() ? "" : ",") + json::quote(k) + ":" + v;
  }
  params_canonical_ = std::string("{\"api\":") + (api_ == Api::chat ? "\"chat\"" : "\"completions\"") +
                      (extra.empty() ? "" : ",\"extra_body\":{" + extra + "}") + ",\"max_tokens\":" + max_tokens +
                      ",\"seed\":" + std::to_string(seed_) + ",\"stop\":" + stop + ",\"temperature\":" + temperature +
                      ",\"top_p\":" + top_p + "}";

  ClientOptions co;
  if (p.has("endpoints")) co.endpoints = parse_endpoints(p.get_json("endpoints"));
  co.max_in_flight = static_cast<int>(std::min<int64_t>(p.get_int("max_in_flight"), 1 << 20));
  co.timeout_seconds = p.get_double("timeout_seconds");
  co.connect_timeout_seconds = p.get_double("connect_timeout_seconds");
  co.max_retries = static_cast<int>(std::min<int64_t>(p.get_int("max_retries"), 1000));
  co.backoff_initial_seconds = p.get_double("backoff_initial_seconds");
  co.backoff_max_seconds = p.get_double("backoff_max_seconds");
  const std::string key_env = p.get_string("api_key_env");
  if (!key_env.empty()) {
    const char* key = std::getenv(key_env.c_str());
    if (!key || !*key) {
      if (!stage.dry_run()) throw Error("api_key_env names the environment variable '" + key_env + "', which is not set (or empty)");
      stage.warn("api_key_env names the environment variable '" + key_env + "', which is not set (or empty): the run would stop here");
    }
    co.api_key = key ? key : "";
  }
  const std::filesystem::path cache_path = p.get_string("cache");
  std::error_code ec;
  if (cache_path.has_parent_path() && !stage.dry_run()) std::filesystem::create_directories(cache_path.parent_path(), ec);
  if (ec) throw Error("cache: cannot create the folder " + cache_path.parent_path().string() + ": " + ec.message());
  // One client (route) per distinct set of endpoints: the stage's, then each model's own.
  const std::vector<ModelSpec> specs = parse_models(p);
  by_model_ = p.has("models");
  std::vector<ClientOptions> routes;
  std::vector<std::string> route_texts;
  size_t endpoints_total = 0;
  for (const auto& m : specs) {
    models_.push_back(m.name);
    const std::string text = m.endpoints.empty() ? std::string() : m.endpoints_text;
    const auto found = std::find(route_texts.begin(), route_texts.end(), text);
    routes_.push_back(static_cast<size_t>(found - route_texts.begin()));
    if (found != route_texts.end()) continue;
    route_texts.push_back(text);
    routes.push_back(co);
    if (!m.endpoints.empty()) routes.back().endpoints = m.endpoints;
    endpoints_total += routes.back().endpoints.size();
  }
  // The rollouts field's first member, the same for every record: the models (with `models`) or the model.
  if (by_model_) {
    models_member_ = "\"models\":[";
    for (size_t k = 0; k < models_.size(); ++k) models_member_ += (k ? "," : "") + json::quote(models_[k]);
    models_member_ += "]";
  } else {
    models_member_ = "\"model\":" + json::quote(models_[0]);
  }
  if (stage.dry_run()) {  // the cache only read; no client, no sidecar
    dry_ = std::make_unique<DryRunPlanner>(cache_path.string(), models_, n_, p.get_int("max_tokens"));
    return;
  }
  sampler_ = std::make_unique<Sampler>(std::move(routes), cache_path.string(), models_.size());
  sampler_->set_round_hook([this](const std::shared_ptr<Pending>& pending) { advance(pending); });
  if (p.has("sidecar")) {
    sidecar_path_ = p.get_string("sidecar");
    const std::filesystem::path side(sidecar_path_);
    if (side.has_parent_path()) std::filesystem::create_directories(side.parent_path(), ec);
    files::Temporary t = files::create_temporary_beside(sidecar_path_);
    if (t.fd < 0) throw Error("cannot write the sidecar: " + t.error);
    sidecar_temp_ = t.path;
    sidecar_ = ::fdopen(t.fd, "wb");
    if (!sidecar_) {
      ::close(t.fd);
      ::unlink(t.path.c_str());
      throw Error("cannot write the sidecar '" + t.path + "': " + std::strerror(errno));
    }
  }
  std::string names;
  for (const auto& m : models_) names += (names.empty() ? "" : ", ") + m;
  stage.info((models_.size() == 1 ? "model " : "models ") + names + ", " + std::to_string(n_) + " samples per record" +
             (models_.size() == 1 ? ", " : " and model, ") + std::to_string(endpoints_total) + " endpoint(s), cache " + p.get_string("cache") + " (" + std::to_string(sampler_->cache().count()) + " responses)" +
             (stop_.rule == StopRule::off ? std::string() : ", early stop " + p.get_string("early_stop") + " in rounds of " + std::to_string(stop_.round)));
}

Sample::~Sample() {
  if (sidecar_) std::fclose(sidecar_);
  if (!sidecar_temp_.empty() && !sidecar_done_) ::unlink(sidecar_temp_.c_str());  // a failed run leaves no sidecar
}

std::optional<std::string> Sample::render(Record& r, const Template& t, std::string& missing) const {
  std::string out;
  for (const auto& part : t.parts) {
    if (!part.field) {
      out += part.text;
      continue;
    }
    auto e = r.field(part.text);
    std::optional<std::string> v = e ? scalar_text(*e) : std::nullopt;
    if (!v) {
      missing = part.text;
      return std::nullopt;
    }
    out += *v;
  }
  return out;
}

Sample::Prepared Sample::prepare(Record& r) const {
  std::string missing;
  const auto user = render(r, template_, missing);
  if (!user) {
    r.reject_missing_field(missing, "missing_field", "no string or number field '" + missing + "' for the prompt template");
    return nullptr;
  }
  auto ref = ungraded_ ? std::nullopt : r.field(reference_field_);
  if (!ungraded_ && (!ref || !scalar_text(*ref))) {
    r.reject_missing_field(reference_field_, "missing_reference", "no usable reference field '" + reference_field_ + "'");
    return nullptr;
  }
  std::string prompt;
  if (api_ == Api::chat) {
    prompt = "[";
    if (!system_prompt_.empty()) prompt += "{\"role\":\"system\",\"content\":" + json::quote(system_prompt_) + "},";
    prompt += "{\"role\":\"user\",\"content\":" + json::quote(*user) + "}]";
  } else {
    prompt = json::quote(*user);
  }
  auto pending = std::make_shared<Pending>();
  pending->rounds = stop_.rule != StopRule::off;
  const size_t slots = models_.size() * static_cast<size_t>(n_);
  pending->responses.resize(slots);
  pending->errors.assign(slots, std::string());
  for (size_t k = 0; k < models_.size(); ++k) {  // the same request per model as a one-model stage would send
    Sampler::Request req;
    req.api = api_;
    req.model = models_[k];
    req.params = params_canonical_;
    req.prompt = prompt;
    req.key = request_key(req.model, req.params, req.prompt);
    req.model_index = k;
    req.route = routes_[k];
    pending->body_heads.push_back("{\"model\":" + json::quote(models_[k]) + (api_ == Api::chat ? ",\"messages\":" : ",\"prompt\":") +
                                  prompt + sampling_json_ + ",\"seed\":");
    pending->requests.push_back(std::make_shared<const Request>(std::move(req)));
  }
  if (dry_) {
    std::vector<Key> keys;
    for (const auto& req : pending->requests) keys.push_back(req->key);
    r.reject("dry_run", dry_->plan(keys, prompt.size()));
    return nullptr;
  }
  for (const auto& req : pending->requests) sampler_->cache().remember_record(r.id(), req->key);  // for the export
  if (!ungraded_) {
    pending->reference = tamis::grade::reference_answer(*scalar_text(*ref));
    pending->reference_norm =
        pending->reference.size() <= grade_options_.max_answer_chars ? tamis::grade::normalize(pending->reference) : std::string();
  }
  advance(pending);
  return pending;
}

void Sample::advance(const std::shared_ptr<Pending>& pending) const {
  Pending& p = *pending;
  try {
    for (;;) {
      if (p.asked > 0) {  // a round is in: stop, or ask the next one
        bool stop = p.asked >= n_;
        for (size_t k = 0; k < models_.size() && !stop; ++k)
          for (int64_t i = 0; i < p.asked && !stop; ++i) stop = !p.errors[k * static_cast<size_t>(n_) + static_cast<size_t>(i)].empty();
        if (!stop) {  // several models: the pooled tally against the pooled budget
          grade_upto(p, p.asked);
          p.stop = should_stop(p.tally, n_ * static_cast<int64_t>(models_.size()), stop_);
          stop = p.stop != StopReason::none;
        }
        if (stop) break;
      }
      const int64_t from = p.asked, to = p.rounds ? std::min(n_, from + stop_.round) : n_;
      p.asked = to;
      std::vector<Sampler::Part> parts;
      for (size_t k = 0; k < models_.size(); ++k) {
        const std::string& head = p.body_heads[k];
        parts.push_back({p.requests[k].get(), from, to, static_cast<int64_t>(k) * n_,
                         [&head, this](int64_t i) { return head + std::to_string(seed_ + i) + "}"; }});
      }
      if (sampler_->fetch(parts, pending) > 0) return;  // the I/O thread calls advance() again once the round is in
    }
  } catch (const std::exception& e) {  // on the I/O thread nobody else would hear of it: the record fails
    p.errors[0] = std::string("early stopping: ") + e.what();
  }
  std::lock_guard lock(p.mu);
  p.done = true;
  p.cv.notify_all();
}

void Sample::grade_upto(Pending& p, int64_t m) const {
  auto is_reference = [&](const std::string& norm) {
    return !norm.empty() && !p.reference_norm.empty() && tamis::grade::equivalent_normalized(norm, p.reference_norm, grade_options_).equal;
  };
  // Groups by equivalence, in order of first appearance (the rule of grade.difficulty).
  auto add = [&](const std::string& answer) {
    for (size_t g = 0; g < p.groups.size(); ++g)
      if (!p.groups[g].norm.empty() && p.groups[g].answer == answer) return void(++p.tally.groups[g].count);
    Pending::Group fresh{answer, answer.size() <= grade_options_.max_answer_chars ? tamis::grade::normalize(answer) : std::string()};
    if (!fresh.norm.empty())
      for (size_t g = 0; g < p.groups.size(); ++g)
        if (!p.groups[g].norm.empty() &&
            (p.groups[g].norm == fresh.norm || tamis::grade::equivalent_normalized(fresh.norm, p.groups[g].norm, grade_options_).equal))
          return void(++p.tally.groups[g].count);
    p.tally.groups.push_back({1, is_reference(fresh.norm)});
    p.groups.push_back(std::move(fresh));
  };
  const auto models = static_cast<int64_t>(models_.size());
  if (ungraded_) {  // nothing graded here: every sample counts as not correct, with no answer
    p.graded.resize(static_cast<size_t>(m * models));
    p.tally.m = m * models;
    return;
  }
  for (auto j = static_cast<int64_t>(p.graded.size()); j < m * models; ++j) {  // pooled j: sample j / models of model j % models
    const auto v = tamis::grade::grade(p.responses[static_cast<size_t>((j % models) * n_ + j / models)]->text, p.reference, grade_options_, false);
    p.graded.push_back({v.correct, v.extracted});
    p.tally.correct += v.correct ? 1 : 0;
    if (!v.extracted.empty()) add(v.extracted);
  }
  p.tally.m = m * models;
}

void Sample::ordered(Record& r, Prepared& pending) {
  Pending& p = *pending;
  {
    std::unique_lock lock(p.mu);
    p.cv.wait(lock, [&] { return p.done; });
  }
  // The record's rounds are over; nothing writes to p any more.
  if (p.hits > 0) r.count("cache_hits", p.hits);
  if (p.requested > 0) r.count("samples_requested", p.requested);
  const auto models = static_cast<int64_t>(models_.size());
  samples_budget_ += n_ * models;
  samples_drawn_ += p.asked * models;
  if (p.asked < n_) r.count("samples_saved", (n_ - p.asked) * models);
  std::string failures;
  int64_t failed = 0;
  for (int64_t k = 0; k < models; ++k)
    for (int64_t i = 0; i < p.asked; ++i)
      if (const auto& e = p.errors[static_cast<size_t>(k * n_ + i)]; !e.empty()) {
        if (failed++ < 3)
          failures += (failures.empty() ? "" : "; ") + (by_model_ ? models_[static_cast<size_t>(k)] + " " : std::string()) + "sample " +
                      std::to_string(i) + ": " + e;
      }
  if (failed > 0) {
    const std::string reason = p.permanent ? "bad_request" : "rollout_failed";
    r.count(reason);
    return r.reject(reason, std::to_string(failed) + " of " + std::to_string(p.asked * models) + " samples failed: " + failures);
  }

  const int64_t n = p.asked * models;  // pooled: sample j / models of model j % models at j
  grade_upto(p, p.asked);
  int64_t truncated = 0;
  std::string answers = "[", marks = "[";
  for (int64_t i = 0; i < n; ++i) {
    const auto& g = p.graded[static_cast<size_t>(i)];
    truncated += p.responses[static_cast<size_t>((i % models) * n_ + i / models)]->finish_reason == "length" ? 1 : 0;
    answers += (i ? "," : "") + json::quote(g.extracted);
    marks += (i ? "," : "") + std::string(g.correct ? "true" : "false");
  }
  answers += "]";
  marks += "]";
  if (ungraded_) {
    r.annotate("n_samples", n);
    r.annotate("n_truncated", truncated);
    r.count("sampled");
    write_sidecar(r, p);
    if (rollouts_field_.empty()) return;
    std::string texts = "[", reasons = "[";
    for (int64_t i = 0; i < n; ++i) {
      const auto& resp = *p.responses[static_cast<size_t>((i % models) * n_ + i / models)];
      if (i) texts += ',', reasons += ',';
      json::append_quoted(texts, resp.text);
      json::append_quoted(reasons, resp.finish_reason);
    }
    return r.replace(json::set_member(r.json(), rollouts_field_,
                                      "{" + models_member_ + ",\"responses\":" + texts + "],\"finish_reasons\":" + reasons + "]}"));
  }
  // Per model (with `models`): grade.difficulty's models-mode annotations, and each model's answers and marks.
  std::string rates = "{", corrects = "{", samples = "{", by_model = "{";
  if (by_model_)
    for (int64_t k = 0; k < models; ++k) {
      int64_t c = 0;
      std::string a = "[", mk = "[";
      for (int64_t i = 0; i < p.asked; ++i) {
        const auto& g = p.graded[static_cast<size_t>(i * models + k)];
        c += g.correct ? 1 : 0;
        a += (i ? "," : "") + json::quote(g.extracted);
        mk += (i ? "," : "") + std::string(g.correct ? "true" : "false");
      }
      const std::string sep = k ? "," : "", name = json::quote(models_[static_cast<size_t>(k)]);
      rates += sep + name + ":" + json::number(static_cast<double>(c) / static_cast<double>(p.asked));
      corrects += sep + name + ":" + std::to_string(c);
      samples += sep + name + ":" + std::to_string(p.asked);
      by_model += sep + name + ":{\"answers\":" + a + "],\"correct\":" + mk + "]}";
    }
  const int64_t correct = p.tally.correct;
  int64_t major = -1;  // the largest group; ties: the first seen, unless the reference's group is among them
  for (size_t g = 0; g < p.groups.size(); ++g)
    if (major < 0 || p.tally.groups[g].count > p.tally.groups[static_cast<size_t>(major)].count) major = static_cast<int64_t>(g);
  if (major >= 0 && !p.tally.groups[static_cast<size_t>(major)].reference)
    for (size_t g = 0; g < p.groups.size(); ++g)
      if (p.tally.groups[g].count == p.tally.groups[static_cast<size_t>(major)].count && p.tally.groups[g].reference) {
        major = static_cast<int64_t>(g);
        break;
      }
  if (by_model_) {
    r.annotate_json("pass_rate", rates + "}");
    r.annotate("pass_rate_pooled", static_cast<double>(correct) / static_cast<double>(n));
    r.annotate_json("n_correct_by_model", corrects + "}");
    r.annotate_json("n_samples_by_model", samples + "}");
  } else {
    r.annotate("pass_rate", static_cast<double>(correct) / static_cast<double>(n));
  }
  r.annotate("n_samples", n);
  r.annotate("n_correct", correct);
  if (major >= 0) {
    r.annotate("majority_answer", cut_utf8(p.groups[static_cast<size_t>(major)].answer, 200));
    r.annotate("majority_share", static_cast<double>(p.tally.groups[static_cast<size_t>(major)].count) / static_cast<double>(n));
  }
  r.annotate("n_truncated", truncated);
  if (stop_.rule != StopRule::off) {
    r.annotate("n_budget", n_ * models);
    r.annotate("stop_reason", stop_reason_name(p.stop));
  }
  r.count("graded");

  write_sidecar(r, p);

  if (rollouts_field_.empty()) return;
  // The record with its rollouts_field member replaced (or added at the end).
  std::string out = "{" + models_member_ + ",\"answers\":" + answers + ",\"correct\":" + marks;
  if (by_model_) out += ",\"by_model\":" + by_model + "}";
  out += early_stop_json_ + "}";
  r.replace(json::set_member(r.json(), rollouts_field_, out));
}

void Sample::write_sidecar(const Record& r, const Pending& p) const {
  const auto models = static_cast<int64_t>(models_.size());
  // ordered() sees the records in input order: so are the sidecar's lines, one per model.
  for (int64_t k = 0; sidecar_ && k < models; ++k) {
    const auto* responses = &p.responses[static_cast<size_t>(k * n_)];
    std::string line = "{\"id\":" + json::quote(r.id()) + ",\"model\":" + json::quote(models_[static_cast<size_t>(k)]) + ",\"responses\":[";
    for (int64_t i = 0; i < p.asked; ++i) {
      if (i) line += ',';
      json::append_quoted(line, responses[i]->text);
    }
    line += "],\"finish_reasons\":[";
    for (int64_t i = 0; i < p.asked; ++i) line += (i ? "," : "") + json::quote(responses[i]->finish_reason);
    line += "]}\n";
    if (std::fwrite(line.data(), 1, line.size(), sidecar_) != line.size())
      throw Error("cannot write the sidecar '" + sidecar_temp_ + "': " + std::strerror(errno));
  }
}

void Sample::finish(Stage& stage) {
  if (dry_) {
    stage.report(dry_->report_json());
    stage.info(dry_->summary());
    return;
  }
  sampler_->cache().flush();  // which record asked for which request, for `tamis rollout cache export`
  if (sidecar_) {
    const bool ok = std::fflush(sidecar_) == 0 && ::fsync(::fileno(sidecar_)) == 0;
    const bool closed = std::fclose(sidecar_) == 0;
    sidecar_ = nullptr;
    if (!ok || !closed) throw Error("cannot write the sidecar '" + sidecar_temp_ + "' (disk full?)");
    sidecar_done_ = true;  // the host owns the temporary now (or put_in_place removed it on failure)
    put_in_place(sidecar_temp_, sidecar_path_, "rollout sidecar");
  }
  ClientStats s;  // over the routes; requests_per_endpoint in the order of the routes' endpoints
  std::string per = "[";
  for (size_t route = 0; route < sampler_->routes(); ++route) {
    const ClientStats one = sampler_->client(route).stats();
    s.attempts += one.attempts;
    s.retries += one.retries;
    s.succeeded += one.succeeded;
    s.failed += one.failed;
    for (const int64_t e : one.per_endpoint) per += (per.size() > 1 ? "," : "") + std::to_string(e);
  }
  per += "]";
  std::string by_model;  // with `models`: this run's figures per model
  for (size_t k = 0; by_model_ && k < models_.size(); ++k) {
    const Sampler::ModelStats m = sampler_->model_stats(k);
    const auto share = static_cast<int64_t>(models_.size());
    by_model += (k ? "," : "") + json::quote(models_[k]) + ":{\"requests\":" + std::to_string(m.requests) +
                ",\"retries\":" + std::to_string(m.retries) + ",\"responses\":" + std::to_string(m.responses) +
                ",\"failed_samples\":" + std::to_string(m.failed) + ",\"prompt_tokens\":" + std::to_string(m.prompt_tokens) +
                ",\"completion_tokens\":" + std::to_string(m.completion_tokens) + ",\"samples_budget\":" +
                std::to_string(samples_budget_ / share) + ",\"samples_drawn\":" + std::to_string(samples_drawn_ / share) + "}";
  }
  stage.report("{\"requests\":" + std::to_string(s.attempts) + ",\"retries\":" + std::to_string(s.retries) +
               ",\"responses\":" + std::to_string(s.succeeded) + ",\"failed_samples\":" + std::to_string(s.failed) +
               ",\"requests_per_endpoint\":" + per + ",\"prompt_tokens\":" + std::to_string(sampler_->prompt_tokens()) +
               ",\"completion_tokens\":" + std::to_string(sampler_->completion_tokens()) +
               ",\"cache_responses\":" + std::to_string(sampler_->cache().count()) + ",\"samples_budget\":" +
               std::to_string(samples_budget_) + ",\"samples_drawn\":" + std::to_string(samples_drawn_) + ",\"samples_saved\":" +
               std::to_string(samples_budget_ - samples_drawn_) + (by_model_ ? ",\"models\":{" + by_model + "}" : std::string()) + "}");
  stage.info(std::to_string(s.attempts) + " requests (" + std::to_string(s.retries) + " retries), " + std::to_string(s.succeeded) +
             " responses, " + std::to_string(s.failed) + " samples failed");
}

}  // namespace tamis::rollout
