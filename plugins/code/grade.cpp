// code.grade: sampled responses' last code block against the tests, in the sandbox (docs/code.md,
// "Graded code rollouts").
#include <tamis/files.hpp>
#include <tamis/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>

#include "fields.hpp"
#include "ops.hpp"

namespace tamis::code {

namespace {
using simdjson::dom::element;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool language_matches(std::string_view info, std::string_view language) {
  // The info string's first word: ```python, ```py, ```python3 {.numberLines}
  const size_t end = info.find_first_of(" \t{");
  const std::string tag = lower(info.substr(0, end));
  if (tag.empty()) return true;  // an untagged block
  const std::string want = lower(language);
  if (want == "python") return tag == "python" || tag == "py" || tag == "python3" || tag == "py3";
  return tag == want;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

const char* const kLanguages[] = {"python", nullptr};

}  // namespace

std::optional<std::string> last_code_block(std::string_view text, std::string_view language) {
  const size_t think_end = text.rfind("</think>");
  if (think_end != std::string_view::npos) {
    text.remove_prefix(think_end + 8);
  } else if (text.find("<think>") != std::string_view::npos) {
    return std::nullopt;  // the reasoning never ended: no answer
  }
  // Fences as CommonMark has them: three or more backticks or tildes, up to three spaces of indent; a
  // block closes at a fence of the same character at least as long, with nothing after it.
  std::optional<std::string> last;
  char fence_char = 0;  // 0: outside a block
  size_t fence_len = 0;
  bool wanted = false;
  std::string body;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    const std::string_view line = trim_right(raw);
    size_t indent = 0;
    while (indent < line.size() && indent < 3 && line[indent] == ' ') ++indent;
    const std::string_view rest = line.substr(indent);
    const char c = rest.empty() ? 0 : rest[0];
    size_t run = 0;
    if (c == '`' || c == '~')
      while (run < rest.size() && rest[run] == c) ++run;
    if (!fence_char) {
      if (run >= 3 && (c == '~' || rest.substr(run).find('`') == std::string_view::npos)) {
        fence_char = c;
        fence_len = run;
        const std::string_view info = rest.substr(run);
        wanted = language_matches(info.substr(std::min(info.size(), info.find_first_not_of(' '))), language);
        body.clear();
      }
      continue;
    }
    if (c == fence_char && run >= fence_len && run == rest.size()) {
      fence_char = 0;
      if (wanted) last = body;
      continue;
    }
    body += raw;
    body += '\n';
  }
  return last;
}

const ParamTable Grade::params = [] {
  ParamTable t = {
      {.name = "responses_field", .type = ParamType::string, .default_json = "\"responses\"",
       .help = "the record's field holding the sampled responses: a list of strings (or a string: one response); "
               "not read with sidecar"},
      {.name = "sidecar", .type = ParamType::path,
       .help = "a JSONL file of responses keyed by record id, as rollout.sample's sidecar writes it ({id, responses: [...]}, "
               "or one {id, response} per line; lines of one id add up in file order); read once, kept in memory",
       .files = FileRole::input},
      {.name = "sidecar_id_field", .type = ParamType::string, .default_json = "\"id\"", .help = "the sidecar's record id field"},
      {.name = "sidecar_field", .type = ParamType::string, .default_json = "\"responses\"",
       .help = "the sidecar's responses field: a list of strings or one string"},
      {.name = "language", .type = ParamType::string, .default_json = "\"python\"",
       .help = "the language of the code blocks run: blocks tagged with another are passed over (untagged ones count)",
       .choices = kLanguages},
      {.name = "rollouts_field", .type = ParamType::string, .default_json = "\"code_rollouts\"",
       .help = "a top-level field added to the record: {correct: [true/false per response], tests_passed: [...], n_tests, "
               "no_code_block}; grade.difficulty reads correct_field: <this>.correct"},
  };
  for (Param& p : run_params()) t.push_back(p);
  return t;
}();

Grade::Grade(const Params& p, Stage& stage)
    : tests_field_(p.has("tests_field") ? p.get_string("tests_field") : ""),
      entry_point_field_(p.get_string("entry_point_field")),
      responses_field_(p.get_string("responses_field")),
      rollouts_field_(p.get_string("rollouts_field")),
      language_(p.get_string("language")),
      dry_run_(stage.dry_run()),
      runs_(p, stage) {
  if (!p.has("sidecar")) return;
  from_sidecar_ = true;
  const std::string path = p.get_string("sidecar");
  const std::string id_field = p.get_string("sidecar_id_field"), field = p.get_string("sidecar_field");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read the sidecar '" + path + "'");
  simdjson::dom::parser parser;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    element doc;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS) throw Error(where + "not valid JSON; fix or remove the line");
    std::string_view id;
    if (doc[id_field].get_string().get(id) != simdjson::SUCCESS) throw Error(where + "no string field '" + id_field + "'");
    element v;
    if (doc[field].get(v) != simdjson::SUCCESS) throw Error(where + "no field '" + field + "'");
    auto& list = sidecar_[std::string(id)];
    std::string_view s;
    if (v.get_string().get(s) == simdjson::SUCCESS) {
      list.emplace_back(s);
      continue;
    }
    simdjson::dom::array items;
    if (v.get_array().get(items) != simdjson::SUCCESS) throw Error(where + "'" + field + "' is neither a string nor a list of strings");
    for (element x : items) {
      if (x.get_string().get(s) != simdjson::SUCCESS) throw Error(where + "'" + field + "' holds a value that is not a string");
      list.emplace_back(s);
    }
  }
}

void Grade::check(const Params& p) {
  check_run_params(p);
  if (p.get_string("rollouts_field").empty()) throw Error("rollouts_field is empty: grade.difficulty reads the correct list from it");
}

std::vector<std::string> Grade::responses_of(const Record& r, bool& found) const {
  std::vector<std::string> out;
  found = false;
  if (from_sidecar_) {
    const auto it = sidecar_.find(std::string(r.id()));
    if (it == sidecar_.end()) return out;
    found = true;
    return it->second;
  }
  const auto v = present(r, responses_field_);
  if (!v) return out;
  std::string_view s;
  if (v->get_string().get(s) == simdjson::SUCCESS) {
    found = true;
    out.emplace_back(s);
    return out;
  }
  simdjson::dom::array items;
  if (v->get_array().get(items) != simdjson::SUCCESS) return out;
  found = true;
  for (element x : items) {
    if (x.get_string().get(s) == simdjson::SUCCESS) {
      out.emplace_back(s);
    } else {
      simdjson::dom::object o;  // {"text": ...} or {"content": ...} (chat-style samples)
      if (x.get_object().get(o) == simdjson::SUCCESS && (o["text"].get_string().get(s) == simdjson::SUCCESS || o["content"].get_string().get(s) == simdjson::SUCCESS))
        out.emplace_back(s);
      else
        out.emplace_back();  // not a response: no code block, incorrect
    }
  }
  return out;
}

void Grade::process(Record& r) const {
  const std::optional<Suite> suite = record_suite(r, tests_field_, entry_point_field_);
  if (!suite) return;
  bool found = false;
  const std::vector<std::string> responses = responses_of(r, found);
  if (!found) {
    if (from_sidecar_) return r.reject("missing_rollouts", "the sidecar has no responses for id " + std::string(r.id()));
    return r.reject_missing_field(responses_field_, "missing_rollouts", "field '" + responses_field_ + "' is missing, null or not a list of responses");
  }
  if (responses.empty()) return r.reject("missing_rollouts", "no responses");
  if (dry_run_) return r.count("would_run", static_cast<int64_t>(responses.size()));

  // Each distinct program runs once; the runs go in parallel, within the stage's slots.
  std::map<std::string, size_t> distinct;  // program -> index in verdicts
  std::vector<const std::string*> programs;
  std::vector<size_t> verdict_of(responses.size(), SIZE_MAX);
  for (size_t i = 0; i < responses.size(); ++i) {
    std::optional<std::string> block = last_code_block(responses[i], language_);
    if (!block) continue;
    auto [it, fresh] = distinct.emplace(std::move(*block), programs.size());
    if (fresh) programs.push_back(&it->first);
    verdict_of[i] = it->second;
  }
  std::vector<Verdict> verdicts(programs.size());
  std::vector<std::exception_ptr> failures(programs.size());
  auto work = [&](size_t k) {
    try {
      verdicts[k] = runs_.run(*programs[k], *suite, r.id());
    } catch (...) {
      failures[k] = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> threads;
    for (size_t k = 1; k < programs.size(); ++k) threads.emplace_back(work, k);
    if (!programs.empty()) work(0);
  }
  for (const std::exception_ptr& failure : failures)
    if (failure) std::rethrow_exception(failure);

  // The tests as the harness counted them when a program ran; else as the layout declares them.
  int64_t n_tests = suite->declared;
  for (const Verdict& v : verdicts)
    if (v.finished || !v.tests.empty()) {
      n_tests = static_cast<int64_t>(v.tests.size());
      break;
    }
  std::string correct = "[", passed = "[";
  int64_t n_correct = 0, no_block = 0;
  double credit = 0;
  for (size_t i = 0; i < responses.size(); ++i) {
    const bool has = verdict_of[i] != SIZE_MAX;
    const Verdict* v = has ? &verdicts[verdict_of[i]] : nullptr;
    const bool ok = v && v->all_passed();
    const int64_t p = v && v->program_error.empty() ? v->passed : 0;
    n_correct += ok ? 1 : 0;
    no_block += has ? 0 : 1;
    const int64_t of = v && !v->tests.empty() ? static_cast<int64_t>(v->tests.size()) : n_tests;
    credit += of > 0 ? static_cast<double>(p) / static_cast<double>(of) : 0;
    correct += (i ? "," : "") + json::boolean(ok);
    passed += (i ? "," : "") + std::to_string(p);
  }
  correct += "]";
  passed += "]";
  const auto n = static_cast<double>(responses.size());
  r.annotate("pass_rate", static_cast<double>(n_correct) / n);
  r.annotate("n_correct", n_correct);
  r.annotate("n_samples", static_cast<int64_t>(responses.size()));
  r.annotate("partial_credit", std::round(credit / n * 1e6) / 1e6);
  if (no_block) r.annotate("no_code_block", no_block);
  r.count("responses", static_cast<int64_t>(responses.size()));
  r.count("responses_correct", n_correct);
  r.count("responses_without_code_block", no_block);
  r.count("programs_run", static_cast<int64_t>(programs.size()));

  // The record with its rollouts_field member replaced (or added at the end).
  r.replace(json::set_member(r.json(), rollouts_field_,
                             "{\"correct\":" + correct + ",\"tests_passed\":" + passed + ",\"n_tests\":" + std::to_string(n_tests) +
                                 ",\"no_code_block\":" + std::to_string(no_block) + "}"));
}

void Grade::finish(Stage& stage) {
  stage.report("{\"program_seconds\":" + runs_.seconds_json() + "}");
}

}  // namespace tamis::code
