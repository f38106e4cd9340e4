// code.verify: the reference solution against the tests, in the sandbox (docs/code.md, "code.verify").
#include <tamis/json.hpp>

#include <algorithm>
#include <cmath>

#include "fields.hpp"
#include "ops.hpp"

namespace tamis::code {

namespace {
using simdjson::dom::element;

const char* const kWithoutSolution[] = {"reject", "keep", nullptr};

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

simdjson::dom::parser& inner_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

std::string outcomes_json(const Verdict& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.tests.size(); ++i) out += (i ? ",\"" : "\"") + std::string(outcome_name(v.tests[i].kind)) + "\"";
  return out + "]";
}

}  // namespace

std::optional<std::string> first_program(element v) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    if (blank(s)) return std::nullopt;
    const size_t first = s.find_first_not_of(" \t\r\n");
    if (s[first] == '[') {  // APPS: a JSON list of programs in a string
      const std::string copy(s);
      element inner;
      if (inner_parser().parse(copy).get(inner) == simdjson::SUCCESS && inner.is_array()) {
        simdjson::dom::array items = inner.get_array().value_unsafe();
        for (element x : items)
          if (x.get_string().get(s) == simdjson::SUCCESS && !blank(s)) return std::string(s);
        return std::nullopt;
      }
    }
    return std::string(s);
  }
  simdjson::dom::array items;
  if (v.get_array().get(items) != simdjson::SUCCESS) return std::nullopt;
  for (element x : items)
    if (x.get_string().get(s) == simdjson::SUCCESS && !blank(s)) return std::string(s);
  return std::nullopt;
}

const ParamTable Verify::params = [] {
  ParamTable t = {
      {.name = "solution_field", .type = ParamType::string,
       .help = "field holding the reference solution (a string, a list of strings whose first is run, or a string holding "
               "such a JSON list); absent: the first present of solutions, canonical_solution, solution, code. "
               "canonical_solution (HumanEval) runs after the record's prompt"},
      {.name = "without_solution", .type = ParamType::string, .default_json = "\"reject\"",
       .help = "a problem without a reference solution: reject (missing_solution), or keep it unverified (annotated "
               "verified: false; its tests are then only judged by graded rollouts)",
       .choices = kWithoutSolution},
      {.name = "annotate_time", .type = ParamType::boolean, .default_json = "false",
       .help = "annotate reference_seconds (the run's wall time): outputs then differ from run to run; the report "
               "always has the times' summary"},
  };
  for (Param& p : run_params()) t.push_back(p);
  return t;
}();

Verify::Verify(const Params& p, Stage& stage)
    : tests_field_(p.has("tests_field") ? p.get_string("tests_field") : ""),
      solution_field_(p.has("solution_field") ? p.get_string("solution_field") : ""),
      entry_point_field_(p.get_string("entry_point_field")),
      annotate_time_(p.get_bool("annotate_time")),
      keep_unverified_(p.get_string("without_solution") == "keep"),
      dry_run_(stage.dry_run()),
      runs_(p, stage) {}

void Verify::check(const Params& p) {
  check_run_params(p);
  if (p.has("solution_field") && p.get_string("solution_field").empty())
    throw Error("solution_field is empty: leave it out to detect the field");
}

void Verify::process(Record& r) const {
  const std::optional<Suite> suite = record_suite(r, tests_field_, entry_point_field_);
  if (!suite) return;

  std::string sfield = solution_field_;
  const auto solution = find_present(r, sfield, kSolutionFields);
  std::optional<std::string> program = solution ? first_program(*solution) : std::nullopt;
  if (!program && keep_unverified_) {
    r.annotate("verified", false);
    return r.count("unverified");
  }
  if (!solution && !solution_field_.empty()) return r.reject_missing_field(sfield, "missing_solution", "field '" + sfield + "' is missing or null");
  if (!solution)
    return r.reject_missing_field("solutions", "missing_solution", "no reference solution: none of the fields solutions, canonical_solution, solution, code");
  if (!program) return r.reject("missing_solution", "field '" + sfield + "' holds no code");
  if (sfield == "canonical_solution")  // HumanEval: the body of the function the prompt opens
    if (auto prompt = r.string_field("prompt")) program = std::string(*prompt) + *program;

  if (dry_run_) return r.count("would_run");
  const Verdict v = runs_.run(*program, *suite, r.id());
  r.annotate("n_tests", static_cast<int64_t>(v.tests.size()));
  r.annotate("tests_passed", v.passed);
  r.annotate_json("test_outcomes", outcomes_json(v));
  if (annotate_time_) r.annotate("reference_seconds", std::round(v.wall_seconds * 1000) / 1000);
  r.annotate("verified", v.all_passed());
  if (v.all_passed()) return r.count("verified");
  const bool wrong = !v.program_error.empty() || std::any_of(v.tests.begin(), v.tests.end(), [](const TestOutcome& t) {
                       return t.kind == TestOutcome::Kind::fail || t.kind == TestOutcome::Kind::error;
                     });
  if (!wrong && v.timed_out()) return r.reject("reference_timeout", v.first_failure());
  r.reject("reference_fails", v.first_failure());
}

void Verify::finish(Stage& stage) {
  stage.report("{\"reference_seconds\":" + runs_.seconds_json() + "}");
}

}  // namespace tamis::code
