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

}  // namespace

// ---- Template ----

Template Template::parse(std::string_view text) {
  Template t;
  std::string lit;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      lit += c;
      ++i;
    } else if (c == '{') {
      const size_t end = text.find('}', i + 1);
      if (end == std::string_view::npos) throw Error("prompt_template: '{' at byte " + std::to_string(i) + " is not closed (write {{ for a brace)");
      const std::string_view path = text.substr(i + 1, end - i - 1);
      if (path.empty() || path.find('{') != std::string_view::npos) throw Error("prompt_template: bad field name at byte " + std::to_string(i));
      if (!lit.empty()) t.parts.push_back({false, std::move(lit)});
      lit.clear();
      t.parts.push_back({true, std::string(path)});
      i = end;
    } else if (c == '}') {
      throw Error("prompt_template: '}' at byte " + std::to_string(i) + " has no '{' (write }} for a brace)");
    } else {
      lit += c;
    }
  }
  if (!lit.empty()) t.parts.push_back({false, std::move(lit)});
  return t;
}

// ---- Sampler ----

Sampler::Sampler(ClientOptions options, const std::string& cache_path)
    : cache_(std::make_unique<Cache>(cache_path)), client_(std::make_unique<Client>(std::move(options))) {
  client_->set_turn_end([this] { on_turn_end(); });
}

Sampler::~Sampler() { client_.reset(); }

int64_t Sampler::fetch(const Request& req, int64_t n, const std::function<std::string(int64_t)>& body_for,
                       const std::shared_ptr<Pending>& p) {
  // The lookup and the registration happen under flights_mu_, which on_turn_end also holds while it stores
  // and hands out a turn's responses: a sample is then either in the cache, or in flight, never neither.
  std::lock_guard lock(flights_mu_);
  p->responses = cache_->lookup(req.key, n);
  p->errors.assign(static_cast<size_t>(n), std::string());
  int64_t hits = 0;
  std::vector<int64_t> missing;
  for (int64_t i = 0; i < n; ++i) {
    if (p->responses[static_cast<size_t>(i)]) ++hits;
    else missing.push_back(i);
  }
  p->remaining = static_cast<int64_t>(missing.size());
  if (missing.empty()) return hits;
  auto shared = std::make_shared<const Request>(req);
  for (const int64_t i : missing) {
    const auto id = std::make_pair(req.key, i);
    auto it = flights_.find(id);
    if (it != flights_.end()) {
      it->second.waiters.push_back({p, i});
      continue;
    }
    flights_.emplace(id, Flight{shared, {{p, i}}});
    client_->submit(req.api, body_for(i), [this, id](Outcome&& o) { arrived_.push_back({id, std::move(o)}); });
  }
  return hits;
}

void Sampler::deliver(const Waiter& w, const Outcome& o) {
  Pending& p = *w.pending;
  std::lock_guard lock(p.mu);
  const auto i = static_cast<size_t>(w.sample);
  if (o.ok) {
    p.responses[i] = CachedResponse{o.completion.text, o.completion.finish_reason, o.completion.prompt_tokens, o.completion.completion_tokens};
  } else {
    p.errors[i] = o.error + " (" + std::to_string(o.attempts) + (o.attempts == 1 ? " attempt)" : " attempts)");
    p.permanent = p.permanent || o.permanent;
  }
  if (--p.remaining == 0) p.cv.notify_all();
}

void Sampler::on_turn_end() {
  std::vector<Arrived> arrived;
  arrived.swap(arrived_);
  std::lock_guard lock(flights_mu_);
  std::vector<Cache::Put> puts;
  for (auto& a : arrived) {
    if (!a.outcome.ok) continue;
    const Flight& f = flights_.at(a.id);
    const Completion& c = a.outcome.completion;
    puts.push_back({a.id.first, a.id.second, f.request->model, f.request->params, f.request->prompt,
                    CachedResponse{c.text, c.finish_reason, c.prompt_tokens, c.completion_tokens}});
    if (c.prompt_tokens > 0) prompt_tokens_ += c.prompt_tokens;
    if (c.completion_tokens > 0) completion_tokens_ += c.completion_tokens;
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
    for (const Waiter& w : it->second.waiters) deliver(w, a.outcome);
    flights_.erase(it);
  }
}

// ---- Sample ----

const ParamTable Sample::params = {
    {.name = "endpoints", .type = ParamType::json, .required = true,
     .help = "OpenAI-compatible servers: base URLs up to /v1 (\"http://host:8000/v1\"), or {url, max_in_flight} for a "
             "per-endpoint bound; requests go to the least loaded"},
    {.name = "api", .type = ParamType::string, .default_json = "\"chat\"",
     .help = "chat: POST /chat/completions with messages; completions: POST /completions with the raw prompt", .choices = kApis},
    {.name = "model", .type = ParamType::string, .required = true, .help = "the model name sent to the servers (part of the cache key)"},
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
     .help = "the reference answer (a string or a number; a worked solution is reduced to its final answer)"},
    {.name = "rollouts_field", .type = ParamType::string, .default_json = "\"rollouts\"",
     .help = "a top-level field added to the record: {model, answers, correct} (what difficulty reads with answers_field "
             "and correct_field); empty: none"},
    {.name = "sidecar", .type = ParamType::path,
     .help = "also write the responses as a JSONL sidecar that difficulty reads (sidecar_field: responses, sidecar_model_field: "
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
};

void Sample::check(const Params& p) {
  parse_endpoints(p.get_json("endpoints"));
  (void)Template::parse(p.get_string("prompt_template"));
  if (p.get_string("api") == "completions" && !p.get_string("system_prompt").empty())
    throw Error("system_prompt goes with api: chat (with completions, put it in prompt_template)");
  if (p.get_int("n") < 1 || p.get_int("n") > 100000) throw Error("n must be between 1 and 100000");
  if (p.get_int("max_tokens") < 1) throw Error("max_tokens must be at least 1");
  if (p.get_int("max_in_flight") < 1) throw Error("max_in_flight must be at least 1");
  if (p.get_int("max_retries") < 0) throw Error("max_retries must be at least 0");
  if (!(p.get_double("timeout_seconds") > 0) || !(p.get_double("connect_timeout_seconds") > 0)) throw Error("timeouts must be positive");
  if (!(p.get_double("backoff_initial_seconds") >= 0) || !(p.get_double("backoff_max_seconds") >= 0))
    throw Error("backoff times must be at least 0");
  const std::string f = p.get_string("rollouts_field");
  if (f.find_first_of(".\"\\/") != std::string::npos) throw Error("rollouts_field must be a plain top-level key (no '.', '/', quotes)");
  if (p.get_string("model").empty()) throw Error("model must not be empty");
}

Sample::Sample(const Params& p, Stage& stage)
    : api_(p.get_string("api") == "chat" ? Api::chat : Api::completions),
      model_(p.get_string("model")),
      template_(Template::parse(p.get_string("prompt_template"))),
      system_prompt_(p.get_string("system_prompt")),
      n_(p.get_int("n")),
      seed_(p.get_int("seed")),
      reference_field_(p.get_string("reference_field")),
      rollouts_field_(p.get_string("rollouts_field")) {
  grade_options_.extract.last_number = p.get_bool("last_number");
  grade_options_.tolerance = p.get_double("tolerance");

  // The sampling parameters: once as the body's members, once canonical (sorted keys) for the cache key.
  std::string stop = "[";
  for (const auto& s : p.get_strings("stop")) stop += (stop.size() > 1 ? "," : "") + json::quote(s);
  stop += "]";
  const std::string temperature = json::number(p.get_double("temperature")), top_p = json::number(p.get_double("top_p"));
  const std::string max_tokens = std::to_string(p.get_int("max_tokens"));
  sampling_json_ = ",\"temperature\":" + temperature + ",\"top_p\":" + top_p + ",\"max_tokens\":" + max_tokens;
  if (stop != "[]") sampling_json_ += ",\"stop\":" + stop;
  params_canonical_ = std::string("{\"api\":") + (api_ == Api::chat ? "\"chat\"" : "\"completions\"") + ",\"max_tokens\":" + max_tokens +
                      ",\"seed\":" + std::to_string(seed_) + ",\"stop\":" + stop + ",\"temperature\":" + temperature +
                      ",\"top_p\":" + top_p + "}";

  ClientOptions co;
  co.endpoints = parse_endpoints(p.get_json("endpoints"));
  co.max_in_flight = static_cast<int>(std::min<int64_t>(p.get_int("max_in_flight"), 1 << 20));
  co.timeout_seconds = p.get_double("timeout_seconds");
  co.connect_timeout_seconds = p.get_double("connect_timeout_seconds");
  co.max_retries = static_cast<int>(std::min<int64_t>(p.get_int("max_retries"), 1000));
  co.backoff_initial_seconds = p.get_double("backoff_initial_seconds");
  co.backoff_max_seconds = p.get_double("backoff_max_seconds");
  const std::string key_env = p.get_string("api_key_env");
  if (!key_env.empty()) {
    const char* key = std::getenv(key_env.c_str());
    if (!key || !*key) throw Error("api_key_env names the environment variable '" + key_env + "', which is not set (or empty)");
    co.api_key = key;
  }
  const std::filesystem::path cache_path = p.get_string("cache");
  std::error_code ec;
  if (cache_path.has_parent_path()) std::filesystem::create_directories(cache_path.parent_path(), ec);
  if (ec) throw Error("cache: cannot create the folder " + cache_path.parent_path().string() + ": " + ec.message());
  sampler_ = std::make_unique<Sampler>(std::move(co), cache_path.string());
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
  stage.info("model " + model_ + ", " + std::to_string(n_) + " samples per record, " + std::to_string(co.endpoints.size()) +
             " endpoint(s), cache " + p.get_string("cache") + " (" + std::to_string(sampler_->cache().count()) + " responses)");
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
  auto ref = r.field(reference_field_);
  if (!ref || !scalar_text(*ref)) {
    r.reject_missing_field(reference_field_, "missing_reference", "no usable reference field '" + reference_field_ + "'");
    return nullptr;
  }
  Sampler::Request req;
  req.api = api_;
  req.model = model_;
  req.params = params_canonical_;
  if (api_ == Api::chat) {
    req.prompt = "[";
    if (!system_prompt_.empty()) req.prompt += "{\"role\":\"system\",\"content\":" + json::quote(system_prompt_) + "},";
    req.prompt += "{\"role\":\"user\",\"content\":" + json::quote(*user) + "}]";
  } else {
    req.prompt = json::quote(*user);
  }
  req.key = request_key(req.model, req.params, req.prompt);
  const std::string head = "{\"model\":" + json::quote(model_) + (api_ == Api::chat ? ",\"messages\":" : ",\"prompt\":") + req.prompt +
                           sampling_json_ + ",\"seed\":";
  auto pending = std::make_shared<Pending>();
  const int64_t hits = sampler_->fetch(req, n_, [&](int64_t i) { return head + std::to_string(seed_ + i) + "}"; }, pending);
  if (hits > 0) r.count("cache_hits", hits);
  if (hits < n_) r.count("samples_requested", n_ - hits);
  return pending;
}

void Sample::ordered(Record& r, Prepared& pending) {
  Pending& p = *pending;
  {
    std::unique_lock lock(p.mu);
    p.cv.wait(lock, [&] { return p.remaining == 0; });
  }
  // Every sample is in; nothing writes to p any more.
  std::string failures;
  int64_t failed = 0;
  for (size_t i = 0; i < p.errors.size(); ++i)
    if (!p.errors[i].empty()) {
      if (failed++ < 3) failures += (failures.empty() ? "" : "; ") + std::string("sample ") + std::to_string(i) + ": " + p.errors[i];
    }
  if (failed > 0) {
    const std::string reason = p.permanent ? "bad_request" : "rollout_failed";
    r.count(reason);
    return r.reject(reason, std::to_string(failed) + " of " + std::to_string(n_) + " samples failed: " + failures);
  }

  const std::string reference = tamis::grade::reference_answer(*scalar_text(*r.field(reference_field_)));
  const std::string reference_norm = reference.size() <= grade_options_.max_answer_chars ? tamis::grade::normalize(reference) : std::string();
  struct Group {
    std::string answer, norm;
    int64_t count = 0;
  };
  std::vector<Group> groups;  // by equivalence, in order of first appearance (the rule of difficulty)
  auto add = [&](const std::string& answer) {
    for (auto& g : groups)
      if (!g.norm.empty() && g.answer == answer) return void(++g.count);
    Group fresh{answer, answer.size() <= grade_options_.max_answer_chars ? tamis::grade::normalize(answer) : std::string(), 1};
    if (!fresh.norm.empty())
      for (auto& g : groups)
        if (!g.norm.empty() && (g.norm == fresh.norm || tamis::grade::equivalent_normalized(fresh.norm, g.norm, grade_options_).equal))
          return void(++g.count);
    groups.push_back(std::move(fresh));
  };
  int64_t correct = 0, truncated = 0;
  std::string answers = "[", marks = "[";
  for (size_t i = 0; i < p.responses.size(); ++i) {
    const CachedResponse& resp = *p.responses[i];
    const auto v = tamis::grade::grade(resp.text, reference, grade_options_, false);
    correct += v.correct ? 1 : 0;
    truncated += resp.finish_reason == "length" ? 1 : 0;
    if (!v.extracted.empty()) add(v.extracted);
    answers += (i ? "," : "") + json::quote(v.extracted);
    marks += (i ? "," : "") + std::string(v.correct ? "true" : "false");
  }
  answers += "]";
  marks += "]";
  const auto n = static_cast<int64_t>(p.responses.size());
  auto is_reference = [&](const Group& g) {
    return !g.norm.empty() && !reference_norm.empty() && tamis::grade::equivalent_normalized(g.norm, reference_norm, grade_options_).equal;
  };
  const Group* major = nullptr;
  for (const auto& g : groups)
    if (!major || g.count > major->count) major = &g;
  if (major && !is_reference(*major))
    for (const auto& g : groups)
      if (g.count == major->count && is_reference(g)) {
        major = &g;
        break;
      }
  r.annotate("pass_rate", static_cast<double>(correct) / static_cast<double>(n));
  r.annotate("n_samples", n);
  r.annotate("n_correct", correct);
  if (major) {
    r.annotate("majority_answer", cut_utf8(major->answer, 200));
    r.annotate("majority_share", static_cast<double>(major->count) / static_cast<double>(n));
  }
  r.annotate("n_truncated", truncated);
  r.count("graded");

  if (sidecar_) {  // ordered() sees the records in input order: so are the sidecar's lines
    std::string line = "{\"id\":" + json::quote(r.id()) + ",\"model\":" + json::quote(model_) + ",\"responses\":[";
    for (size_t i = 0; i < p.responses.size(); ++i) {
      if (i) line += ',';
      json::append_quoted(line, p.responses[i]->text);
    }
    line += "],\"finish_reasons\":[";
    for (size_t i = 0; i < p.responses.size(); ++i) line += (i ? "," : "") + json::quote(p.responses[i]->finish_reason);
    line += "]}\n";
    if (std::fwrite(line.data(), 1, line.size(), sidecar_) != line.size())
      throw Error("cannot write the sidecar '" + sidecar_temp_ + "': " + std::strerror(errno));
  }

  if (rollouts_field_.empty()) return;
  // The record with its rollouts_field member replaced (or added at the end).
  const std::string text(r.json());
  std::string out;
  size_t from = 0;
  const auto members = json::members(text);
  for (size_t m = 0; m < members.size(); ++m) {
    if (members[m].key != rollouts_field_) continue;
    // Drop the member and the comma that joins it to its neighbour.
    const size_t start = m > 0 ? members[m - 1].value_end : members[m].key_start;
    const size_t end = m > 0 ? members[m].value_end : (m + 1 < members.size() ? members[m + 1].key_start : members[m].value_end);
    out += text.substr(from, start - from);
    from = end;
  }
  out += text.substr(from);
  size_t close = out.rfind('}');
  while (close > 0 && json::detail::is_ws(out[close - 1])) --close;
  out.resize(close);
  const bool empty = out.find_first_not_of(" \t\r\n", 1) == std::string::npos;
  out += std::string(empty ? "" : ",") + json::quote(rollouts_field_) + ":{\"model\":" + json::quote(model_) + ",\"answers\":" + answers +
         ",\"correct\":" + marks + "}}";
  r.replace(out);
}

void Sample::finish(Stage& stage) {
  if (sidecar_) {
    const bool ok = std::fflush(sidecar_) == 0 && ::fsync(::fileno(sidecar_)) == 0;
    const bool closed = std::fclose(sidecar_) == 0;
    sidecar_ = nullptr;
    if (!ok || !closed) throw Error("cannot write the sidecar '" + sidecar_temp_ + "' (disk full?)");
    sidecar_done_ = true;  // the host owns the temporary now (or put_in_place removed it on failure)
    put_in_place(sidecar_temp_, sidecar_path_, "rollout sidecar");
  }
  const ClientStats s = sampler_->client().stats();
  std::string per = "[";
  for (size_t i = 0; i < s.per_endpoint.size(); ++i) per += (i ? "," : "") + std::to_string(s.per_endpoint[i]);
  per += "]";
  stage.report("{\"requests\":" + std::to_string(s.attempts) + ",\"retries\":" + std::to_string(s.retries) +
               ",\"responses\":" + std::to_string(s.succeeded) + ",\"failed_samples\":" + std::to_string(s.failed) +
               ",\"requests_per_endpoint\":" + per + ",\"prompt_tokens\":" + std::to_string(sampler_->prompt_tokens()) +
               ",\"completion_tokens\":" + std::to_string(sampler_->completion_tokens()) +
               ",\"cache_responses\":" + std::to_string(sampler_->cache().count()) + "}");
  stage.info(std::to_string(s.attempts) + " requests (" + std::to_string(s.retries) + " retries), " + std::to_string(s.succeeded) +
             " responses, " + std::to_string(s.failed) + " samples failed");
}

}  // namespace tamis::rollout
