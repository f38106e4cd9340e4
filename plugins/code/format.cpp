#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <span>
#include <string_view>

#include "fields.hpp"
#include "judge.hpp"
#include "ops.hpp"

namespace tamis::code {

namespace {
using simdjson::dom::element;
using simdjson::dom::element_type;


// One verdict on a record's tests: a layout and a count, or a reason and its evidence.
struct Tests {
  std::string layout;  // functional | stdio | humaneval | apps
  int64_t n = 0;
  std::string reason;  // empty: usable
  std::string detail;
  int64_t n_inputs = -1, n_outputs = -1;  // for mismatched_tests
};

Tests fail(std::string reason, std::string detail, std::string layout = {}) {
  Tests t;
  t.reason = std::move(reason);
  t.detail = std::move(detail);
  t.layout = std::move(layout);
  return t;
}

// At most 80 bytes of a text, on one line, for a detail.
std::string snippet(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (s.size() > 80) out += "...";
  return out;
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; });
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  return s;
}

const char* type_name(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "a list";
    case element_type::OBJECT: return "an object";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
    default: return "a number";
  }
}

// Python test code: a check(candidate) function, or bare assert lines (MBPP).
Tests python_tests(std::string_view code, std::string_view where, std::string layout, bool has_entry_point) {
  if (blank(code)) return fail("missing_tests", std::string(where) + " is empty", layout);
  const bool has_check = code.find("def check(") != std::string_view::npos;
  const int64_t n = count_asserts(code);
  if (!has_check && n == 0)
    return fail("unparseable_tests", std::string(where) + " has no check(candidate) function and no assert: " + snippet(code), layout);
  if (has_check && !has_entry_point) {
    // Called by the test itself (LeetCode's check(Solution().f)), or by a harness given entry_point.
    bool called = false;
    for (size_t at = code.find("check("); at != std::string_view::npos; at = code.find("check(", at + 1)) {
      const bool defined = at >= 4 && code.substr(at - 4, 4) == "def ";
      const bool part_of_name = at > 0 && (std::isalnum(static_cast<unsigned char>(code[at - 1])) || code[at - 1] == '_');
      if (!defined && !part_of_name) called = true;
    }
    if (!called)
      return fail("unparseable_tests", std::string(where) + " defines check(candidate) but never calls it, and the record has no entry_point to pass to it", layout);
  }
  Tests t;
  t.layout = std::move(layout);
  t.n = n;
  return t;
}


// A stdin or expected-output value: a string, or a list of strings (lines); with fn_name (APPS
// call-based problems) any JSON value (the arguments, the return value).
bool io_value_ok(element v, bool call_based) {
  if (call_based) return true;
  if (v.type() == element_type::STRING) return true;
  if (v.type() != element_type::ARRAY) return false;
  const simdjson::dom::array items = v.get_array().value_unsafe();
  for (element x : items)
    if (x.type() != element_type::STRING) return false;
  return true;
}

// {"inputs": [...], "outputs": [...]}: CodeContests (rllm), and TACO/APPS input_output.
Tests io_lists(simdjson::dom::object obj, std::string_view where, std::string layout) {
  element inputs, outputs;
  const bool has_in = obj.at_key("inputs").get(inputs) == simdjson::SUCCESS && !inputs.is_null();
  const bool has_out = obj.at_key("outputs").get(outputs) == simdjson::SUCCESS && !outputs.is_null();
  element fn;
  const bool call_based = obj.at_key("fn_name").get(fn) == simdjson::SUCCESS && fn.is_string();
  if (has_in && inputs.type() != element_type::ARRAY)
    return fail("unparseable_tests", std::string(where) + ".inputs is " + type_name(inputs.type()) + ", not a list", layout);
  if (has_out && outputs.type() != element_type::ARRAY)
    return fail("unparseable_tests", std::string(where) + ".outputs is " + type_name(outputs.type()) + ", not a list", layout);
  simdjson::dom::array in_arr, out_arr;
  const int64_t n_in = has_in && inputs.get_array().get(in_arr) == simdjson::SUCCESS ? static_cast<int64_t>(in_arr.size()) : -1;
  const int64_t n_out = has_out && outputs.get_array().get(out_arr) == simdjson::SUCCESS ? static_cast<int64_t>(out_arr.size()) : -1;
  if (n_in <= 0 && n_out <= 0)
    return fail("missing_tests", std::string(where) + " has no inputs and no outputs", layout);
  if (n_in != n_out) {
    auto count = [](int64_t n) { return n < 0 ? std::string("no") : std::to_string(n); };
    Tests t = fail("mismatched_tests", std::string(where) + " has " + count(n_in) + " inputs and " + count(n_out) + " outputs", layout);
    t.n_inputs = std::max<int64_t>(n_in, 0);
    t.n_outputs = std::max<int64_t>(n_out, 0);
    return t;
  }
  const char* what = call_based ? "" : ", not a string or a list of strings";
  size_t i = 0;
  for (element v : in_arr) {
    if (!io_value_ok(v, call_based))
      return fail("unparseable_tests", std::string(where) + ".inputs[" + std::to_string(i) + "] is " + type_name(v.type()) + what, layout);
    ++i;
  }
  i = 0;
  for (element v : out_arr) {
    if (!io_value_ok(v, call_based))
      return fail("unparseable_tests", std::string(where) + ".outputs[" + std::to_string(i) + "] is " + type_name(v.type()) + what, layout);
    ++i;
  }
  Tests t;
  t.layout = std::move(layout);
  t.n = n_in;
  return t;
}

// [{"input": ..., "output": ...}, ...] (Codeforces, rllm), or a list of assert strings (MBPP test_list).
Tests test_list(simdjson::dom::array arr, std::string_view where) {
  if (arr.size() == 0) return fail("missing_tests", std::string(where) + " is an empty list");
  element first;
  if (arr.at(0).get(first) != simdjson::SUCCESS) return fail("missing_tests", std::string(where) + " is an empty list");
  if (first.type() == element_type::STRING) {
    int64_t n = 0;
    size_t i = 0;
    for (element v : arr) {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS)
        return fail("unparseable_tests", std::string(where) + "[" + std::to_string(i) + "] is " + type_name(v.type()) + " in a list of assert strings", "humaneval");
      n += count_asserts(s);
      ++i;
    }
    if (n == 0) return fail("unparseable_tests", std::string(where) + " is a list of strings without an assert: " + snippet(first.get_string().value_unsafe()), "humaneval");
    Tests t;
    t.layout = "humaneval";
    t.n = n;
    return t;
  }
  int64_t n = 0;
  size_t i = 0;
  for (element v : arr) {
    const std::string at = std::string(where) + "[" + std::to_string(i) + "]";
    simdjson::dom::object obj;
    if (v.get_object().get(obj) != simdjson::SUCCESS)
      return fail("unparseable_tests", at + " is " + type_name(v.type()) + ", not an {input, output} object", "stdio");
    element in, out;
    const bool has_in = obj.at_key("input").get(in) == simdjson::SUCCESS && !in.is_null();
    const bool has_out = obj.at_key("output").get(out) == simdjson::SUCCESS && !out.is_null();
    if (!has_in && !has_out)
      return fail("unparseable_tests", at + " has neither input nor output", "stdio");
    if (has_in != has_out) {
      Tests t = fail("mismatched_tests", at + " has an " + (has_in ? "input but no output" : "output but no input"), "stdio");
      t.n_inputs = n + (has_in ? 1 : 0);
      t.n_outputs = n + (has_out ? 1 : 0);
      return t;
    }
    if (!io_value_ok(in, false))
      return fail("unparseable_tests", at + ".input is " + type_name(in.type()) + ", not a string or a list of strings", "stdio");
    if (!io_value_ok(out, false))
      return fail("unparseable_tests", at + ".output is " + type_name(out.type()) + ", not a string or a list of strings", "stdio");
    ++n;
    ++i;
  }
  Tests t;
  t.layout = "stdio";
  t.n = n;
  return t;
}

// A second parser for JSON held in a string field: the record's DOM lives in the thread's own parser.
simdjson::dom::parser& inner_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// The tests in field `field` (value `v`), by the value's shape.
Tests classify(element v, const std::string& field, bool has_entry_point, bool from_string = false) {
  const std::string where = "field '" + field + "'";
  switch (v.type()) {
    case element_type::STRING: {
      const std::string_view s = v.get_string().value_unsafe();
      if (blank(s)) return fail("missing_tests", where + " is an empty string");
      const std::string_view body = trim_left(s);
      if (!from_string && (body.front() == '{' || body.front() == '[')) {
        // JSON held in a string (APPS/TACO input_output; datasets stored as strings columns).
        const std::string copy(s);  // the parsed DOM's strings point into the parser, not here
        element inner;
        const auto err = inner_parser().parse(copy).get(inner);
        if (err != simdjson::SUCCESS)
          return fail("unparseable_tests", where + " is a string that is not valid JSON (" + simdjson::error_message(err) + "): " + snippet(s),
                      field == "input_output" ? "apps" : "");
        return classify(inner, field, has_entry_point, true);
      }
      return python_tests(s, where, field == "tests" ? "functional" : "humaneval", has_entry_point);
    }
    case element_type::OBJECT: {
      simdjson::dom::object obj;
      if (v.get_object().get(obj) != simdjson::SUCCESS) return fail("unparseable_tests", where + " is not an object");
      if (obj.size() == 0) return fail("missing_tests", where + " is an empty object");
      element fn;
      if (obj.at_key("functional").get(fn) == simdjson::SUCCESS) {
        std::string_view code;
        if (fn.get_string().get(code) != simdjson::SUCCESS)
          return fail("unparseable_tests", where + ".functional is " + type_name(fn.type()) + ", not a string of test code", "functional");
        return python_tests(code, where + ".functional", "functional", has_entry_point);
      }
      element ignored;
      if (obj.at_key("inputs").get(ignored) == simdjson::SUCCESS || obj.at_key("outputs").get(ignored) == simdjson::SUCCESS)
        return io_lists(obj, where, field == "input_output" || obj.at_key("fn_name").get(ignored) == simdjson::SUCCESS ? "apps" : "stdio");
      std::string keys;
      for (auto kv : obj) keys += (keys.empty() ? "" : ", ") + std::string(kv.key);
      return fail("unparseable_tests", where + " is an object without functional, inputs or outputs (keys: " + snippet(keys) + ")");
    }
    case element_type::ARRAY: {
      simdjson::dom::array arr;
      if (v.get_array().get(arr) != simdjson::SUCCESS) return fail("unparseable_tests", where + " is not a list");
      return test_list(arr, where);
    }
    default: return fail("unparseable_tests", where + " is " + type_name(v.type()) + ", not tests");
  }
}

// Language names as fences and parameters write them, to one name each.
std::string normalise_language(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "py" || s == "python3" || s == "py3" || s == "python") return "python";
  if (s == "c++" || s == "cpp" || s == "cc" || s == "cxx" || s == "c++17" || s == "c++20") return "cpp";
  if (s == "js" || s == "javascript" || s == "node") return "javascript";
  if (s == "ts" || s == "typescript") return "typescript";
  if (s == "golang" || s == "go") return "go";
  if (s == "rs" || s == "rust") return "rust";
  return s;
}

// The languages of the tagged Markdown fences (```python) in a text; untagged fences say nothing.
std::set<std::string> fence_languages(std::string_view text) {
  std::set<std::string> out;
  for (size_t at = text.find("```"); at != std::string_view::npos; at = text.find("```", at + 3)) {
    if (at > 0 && text[at - 1] != '\n') continue;  // a fence opens a line
    size_t end = at + 3;
    while (end < text.size() && text[end] != '\n' && text[end] != ' ' && text[end] != '`' && text[end] != '{') ++end;
    if (end > at + 3) out.insert(normalise_language(std::string(text.substr(at + 3, end - at - 3))));
    at = end - 3 >= at ? end - 3 : at;
  }
  return out;
}

// Whether a solution value holds code: a non-blank string, a list with one (APPS solutions), or a
// string holding such a JSON list.
bool has_code(element v, bool from_string = false) {
  if (v.type() == element_type::STRING) {
    const std::string_view s = v.get_string().value_unsafe();
    if (blank(s)) return false;
    if (!from_string && trim_left(s).front() == '[') {
      const std::string copy(s);
      element inner;
      if (inner_parser().parse(copy).get(inner) == simdjson::SUCCESS && inner.type() == element_type::ARRAY)
        return has_code(inner, true);
    }
    return true;
  }
  if (v.type() != element_type::ARRAY) return false;
  const simdjson::dom::array items = v.get_array().value_unsafe();
  for (element x : items)
    if (x.type() == element_type::STRING && !blank(x.get_string().value_unsafe())) return true;
  return false;
}

}  // namespace

const ParamTable Format::params = {
    {.name = "tests_field", .type = ParamType::string,
     .help = "field holding the tests (a path); absent: the first present of tests, input_output, test, test_list, "
             "the layout read from the value's shape (docs/code.md)"},
    {.name = "min_tests", .type = ParamType::integer, .default_json = "1",
     .help = "fewest tests a problem needs: stdin/stdout pairs, or the assert lines of the test code"},
    {.name = "require_solution", .type = ParamType::boolean, .default_json = "false",
     .help = "reject problems without a reference solution (missing_solution)"},
    {.name = "solution_field", .type = ParamType::string,
     .help = "field holding the reference solution (a string, or a list of strings); absent: the first present of "
             "solutions, canonical_solution, solution, code"},
    {.name = "problem_field", .type = ParamType::string,
     .help = "field holding the problem text, read for the language its code fences name; absent: the first present of "
             "problem, prompt, question, text"},
    {.name = "language", .type = ParamType::string, .default_json = "\"python\"",
     .help = "language the solutions are written in: a problem whose tagged code fence (```cpp) names another is rejected "
             "(wrong_language); Python test code (check functions, asserts) means python; `any` checks nothing. Annotated as "
             "code_language (unknown when it cannot be told)"},
};

Format::Format(const Params& p)
    : tests_field_(p.has("tests_field") ? p.get_string("tests_field") : ""),
      min_tests_(p.get_int("min_tests")),
      require_solution_(p.get_bool("require_solution")),
      solution_field_(p.has("solution_field") ? p.get_string("solution_field") : ""),
      problem_field_(p.has("problem_field") ? p.get_string("problem_field") : ""),
      language_(normalise_language(p.get_string("language"))) {}

void Format::check(const Params& p) {
  if (p.get_int("min_tests") < 0) throw Error("min_tests must be >= 0");
  if (p.get_string("language").empty()) throw Error("language is empty: name one (python, cpp ...) or `any`");
  for (const char* f : {"tests_field", "solution_field", "problem_field"})
    if (p.has(f) && p.get_string(f).empty()) throw Error(std::string(f) + " is empty: leave it out to detect the field");
}

void Format::process(Record& r) const {
  // The tests.
  std::string field = tests_field_;
  const std::optional<element> value = find_present(r, field, kTestFields);
  if (!value && !tests_field_.empty())
    return r.reject_missing_field(field, "missing_tests", "field '" + field + "' is missing or null");
  if (!value)
    return r.reject_missing_field("tests", "missing_tests", "no tests: none of the fields tests, input_output, test, test_list");
  const bool has_entry_point = present(r, "entry_point").has_value();
  const Tests t = classify(*value, field, has_entry_point);
  if (!t.layout.empty()) r.annotate("test_layout", t.layout);
  if (!t.reason.empty()) {
    if (t.n_inputs >= 0) {
      r.annotate("n_inputs", t.n_inputs);
      r.annotate("n_outputs", t.n_outputs);
    }
    return r.reject(t.reason, t.detail);
  }
  r.annotate("n_tests", t.n);
  if (t.n < min_tests_)
    return r.reject("too_few_tests", std::to_string(t.n) + (t.n == 1 ? " test" : " tests") + " in field '" + field + "' (" + t.layout + "), min_tests is " + std::to_string(min_tests_));

  // The reference solution.
  if (require_solution_) {
    std::string sfield = solution_field_;
    const std::optional<element> sol = find_present(r, sfield, kSolutionFields);
    if (!sol && !solution_field_.empty())
      return r.reject_missing_field(sfield, "missing_solution", "field '" + sfield + "' is missing or null");
    if (!sol)
      return r.reject_missing_field("solutions", "missing_solution",
                                    "no reference solution: none of the fields solutions, canonical_solution, solution, code");
    if (!has_code(*sol)) return r.reject("missing_solution", "field '" + sfield + "' holds no code (" + snippet(simdjson::minify(*sol)) + ")");
  }

  // The language: the problem's tagged code fences; else Python when the tests are Python code.
  std::optional<std::string_view> problem;
  if (!problem_field_.empty()) {
    problem = r.string_field(problem_field_);
  } else {
    for (const char* f : kProblemFields)
      if ((problem = r.string_field(f))) break;
  }
  std::string lang = "unknown", evidence;
  const std::set<std::string> fenced = problem ? fence_languages(*problem) : std::set<std::string>{};
  if (fenced.size() == 1) {
    lang = *fenced.begin();
    evidence = "a ```" + lang + " block in the problem";
  } else if (fenced.empty() && (t.layout == "functional" || t.layout == "humaneval")) {
    lang = "python";
    evidence = "its tests are Python code";
  }
  r.annotate("code_language", lang);
  if (language_ != "any" && lang != "unknown" && lang != language_)
    return r.reject("wrong_language", "the problem asks for " + lang + " (" + evidence + "), the stage's language is " + language_);
}

}  // namespace tamis::code
