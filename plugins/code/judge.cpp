#include "judge.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <tamis/json.hpp>
#include <tamis/sdk.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace tamis::code {

namespace {
using simdjson::dom::element;
using simdjson::dom::element_type;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A stdin or stdout value: a string, or a list of strings (lines).
std::optional<std::string> io_text(element v) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  simdjson::dom::array lines;
  if (v.get_array().get(lines) != simdjson::SUCCESS) return std::nullopt;
  std::string out;
  for (element x : lines) {
    if (x.get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
    out += s;
    out += '\n';
  }
  return out;
}

simdjson::dom::parser& inner_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

SuiteOrError failed(std::string error) { return {std::nullopt, std::move(error)}; }

SuiteOrError io_suite(simdjson::dom::object obj, const std::string& where) {
  simdjson::dom::array in, out;
  if (obj["inputs"].get_array().get(in) != simdjson::SUCCESS || obj["outputs"].get_array().get(out) != simdjson::SUCCESS)
    return failed(where + " has no inputs and outputs lists");
  if (in.size() != out.size()) return failed(where + " has " + std::to_string(in.size()) + " inputs and " + std::to_string(out.size()) + " outputs");
  Suite s;
  std::string_view fn;
  if (obj["fn_name"].get_string().get(fn) == simdjson::SUCCESS) {
    s.mode = Suite::Mode::call;
    s.fn_name = std::string(fn);
    for (element v : in) s.inputs.push_back(simdjson::minify(v));
    for (element v : out) s.outputs.push_back(simdjson::minify(v));
  } else {
    s.mode = Suite::Mode::stdio;
    size_t i = 0;
    for (element v : in) {
      auto t = io_text(v);
      if (!t) return failed(where + ".inputs[" + std::to_string(i) + "] is not a string or a list of strings");
      s.inputs.push_back(std::move(*t));
      ++i;
    }
    i = 0;
    for (element v : out) {
      auto t = io_text(v);
      if (!t) return failed(where + ".outputs[" + std::to_string(i) + "] is not a string or a list of strings");
      s.outputs.push_back(std::move(*t));
      ++i;
    }
  }
  s.declared = static_cast<int64_t>(s.inputs.size());
  return {std::move(s), {}};
}

SuiteOrError check_suite(std::string code, std::string_view entry_point) {
  Suite s;
  s.mode = Suite::Mode::check;
  s.declared = count_asserts(code);
  s.test_code = std::move(code);
  s.entry_point = std::string(entry_point);
  return {std::move(s), {}};
}

SuiteOrError suite_of(element v, const std::string& where, std::string_view entry_point, bool from_string) {
  switch (v.type()) {
    case element_type::STRING: {
      const std::string_view text = v.get_string().value_unsafe();
      const std::string_view body = trim(text);
      if (body.empty()) return failed(where + " is empty");
      if (!from_string && (body.front() == '{' || body.front() == '[')) {
        const std::string copy(text);
        element inner;
        if (inner_parser().parse(copy).get(inner) != simdjson::SUCCESS) return failed(where + " is a string that is not valid JSON");
        return suite_of(inner, where, entry_point, true);
      }
      return check_suite(std::string(text), entry_point);
    }
    case element_type::OBJECT: {
      simdjson::dom::object obj = v.get_object().value_unsafe();
      std::string_view code;
      if (obj["functional"].get_string().get(code) == simdjson::SUCCESS) return check_suite(std::string(code), entry_point);
      return io_suite(obj, where);
    }
    case element_type::ARRAY: {
      simdjson::dom::array arr = v.get_array().value_unsafe();
      if (arr.size() == 0) return failed(where + " is an empty list");
      if (arr.at(0).value_unsafe().is_string()) {  // MBPP: assert lines
        std::string code;
        for (element x : arr) {
          std::string_view line;
          if (x.get_string().get(line) != simdjson::SUCCESS) return failed(where + " mixes strings and other values");
          code += line;
          code += '\n';
        }
        return check_suite(std::move(code), entry_point);
      }
      Suite s;
      s.mode = Suite::Mode::stdio;
      size_t i = 0;
      for (element x : arr) {
        element in, out;
        if (x["input"].get(in) != simdjson::SUCCESS || x["output"].get(out) != simdjson::SUCCESS)
          return failed(where + "[" + std::to_string(i) + "] is not an {input, output} pair");
        auto ti = io_text(in), to = io_text(out);
        if (!ti || !to) return failed(where + "[" + std::to_string(i) + "] has an input or output that is not text");
        s.inputs.push_back(std::move(*ti));
        s.outputs.push_back(std::move(*to));
        ++i;
      }
      s.declared = static_cast<int64_t>(s.inputs.size());
      return {std::move(s), {}};
    }
    default: return failed(where + " is not tests");
  }
}

// Tokens split on whitespace.
std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    const size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// Lines without their ending (\n or \r\n) and trailing blanks; trailing empty lines dropped.
std::vector<std::string_view> lines(std::string_view s) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find('\n', pos);
    if (end == std::string_view::npos) end = s.size();
    std::string_view line = s.substr(pos, end - pos);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    out.push_back(line);
    pos = end + 1;
  }
  while (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

std::optional<double> number(std::string_view t) {
  double v = 0;
  const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
  return v;
}

bool same_token(std::string_view a, std::string_view b, const Comparison& how) {
  if (a == b) return true;
  if (!how.case_sensitive && a.size() == b.size() &&
      std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y)); }))
    return true;
  if (how.float_tolerance > 0) {
    const auto x = number(a), y = number(b);
    if (x && y) {
      const double diff = std::fabs(*x - *y);
      return diff <= how.float_tolerance || diff <= how.float_tolerance * std::fabs(*x);
    }
  }
  return false;
}

bool same_sequence(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b, const Comparison& how) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same_token(a[i], b[i], how)) return false;
  return true;
}

std::string clip(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
  return std::string(s.substr(0, cut)) + "...";
}

std::string shown(std::string_view s, size_t max_bytes) {
  std::string one;
  for (char c : s) {
    if (c == '\n') one += "\\n";
    else if (c == '\r') one += "\\r";
    else one += c;
  }
  return "'" + clip(one, max_bytes) + "'";
}

// An error's text on one line: its lines joined with " | ", runs of spaces squeezed (a SyntaxError's
// caret line says nothing once joined).
std::string one_line(std::string_view s, size_t max_bytes) {
  std::string out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find('\n', pos);
    if (end == std::string_view::npos) end = s.size();
    std::string_view line = trim(s.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line.find_first_not_of("^~ ") == std::string_view::npos) continue;
    if (!out.empty()) out += " | ";
    bool space = false;
    for (char c : line) {
      const bool ws = c == ' ' || c == '\t' || c == '\r';
      if (ws && space) continue;
      out += ws ? ' ' : c;
      space = ws;
    }
  }
  return clip(out, max_bytes);
}

std::string string_member(element obj, const char* key) {
  std::string_view s;
  return obj[key].get_string().get(s) == simdjson::SUCCESS ? std::string(s) : std::string();
}

}  // namespace

int64_t count_asserts(std::string_view code) {
  int64_t n = 0;
  size_t pos = 0;
  while (pos < code.size()) {
    size_t end = code.find('\n', pos);
    if (end == std::string_view::npos) end = code.size();
    const std::string_view line = trim(code.substr(pos, end - pos));
    if (line.size() > 6 && line.substr(0, 6) == "assert" && (line[6] == ' ' || line[6] == '(' || line[6] == '\t')) ++n;
    pos = end + 1;
  }
  return n;
}

SuiteOrError read_suite(element tests, std::string_view field, std::string_view entry_point) {
  return suite_of(tests, "field '" + std::string(field) + "'", entry_point, false);
}

bool outputs_match(std::string_view expected, std::string_view got, const Comparison& how) {
  switch (how.mode) {
    case Comparison::Mode::exact: return expected == got;
    case Comparison::Mode::lines: {
      const auto a = lines(expected), b = lines(got);
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (!same_sequence(tokens(a[i]), tokens(b[i]), how) && !same_token(a[i], b[i], how)) return false;
      return true;
    }
    case Comparison::Mode::tokens: return same_sequence(tokens(expected), tokens(got), how);
  }
  return false;
}

const char* outcome_name(TestOutcome::Kind k) {
  switch (k) {
    case TestOutcome::Kind::pass: return "pass";
    case TestOutcome::Kind::fail: return "fail";
    case TestOutcome::Kind::error: return "error";
    case TestOutcome::Kind::timeout: return "timeout";
    case TestOutcome::Kind::not_run: return "not_run";
  }
  return "?";
}

bool Verdict::timed_out() const {
  if (run == RunStatus::cpu_time || run == RunStatus::wall_time) return true;
  return std::any_of(tests.begin(), tests.end(), [](const TestOutcome& t) { return t.kind == TestOutcome::Kind::timeout; });
}

std::string Verdict::first_failure(size_t max_bytes) const {
  if (!sandbox_error.empty()) return "the sandbox failed: " + clip(sandbox_error, max_bytes);
  if (!program_error.empty()) return one_line(program_error, max_bytes);
  if (tests.empty()) return finished ? "no tests ran" : std::string("the run ended (") + status_name(run) + ") before any test";
  for (size_t i = 0; i < tests.size(); ++i) {
    const TestOutcome& t = tests[i];
    const std::string which = "test " + std::to_string(i + 1) + " of " + std::to_string(tests.size()) + ": ";
    switch (t.kind) {
      case TestOutcome::Kind::pass: continue;
      case TestOutcome::Kind::fail:
        if (t.expected.empty() && t.got.empty()) return which + "the assertion is false";
        return which + "expected " + shown(t.expected, max_bytes / 2) + ", got " + shown(t.got, max_bytes / 2);
      case TestOutcome::Kind::error: return which + one_line(t.error, max_bytes);
      case TestOutcome::Kind::timeout: return which + "time limit exceeded";
      case TestOutcome::Kind::not_run:
        return which + "not run: the run ended (" + status_name(run) + (run == RunStatus::exited ? "" : ", a limit") + ")";
    }
  }
  return {};
}

extern const char* const kHarnessSource;

Judge::Judge(JudgeOptions options) : options_(std::move(options)) {
  if (options_.python.rfind("/usr/", 0) != 0)
    throw Error("python '" + options_.python + "' is not under /usr: only /usr is visible inside the sandbox");
  char dir[] = "/tmp/tamis-harness-XXXXXX";
  if (!::mkdtemp(dir)) throw Error(std::string("cannot make a folder for the test harness: ") + std::strerror(errno));
  harness_dir_ = dir;
  ::chmod(dir, 0755);  // the sandbox user (not tamis's) reads it
  const std::string path = harness_dir_ + "/harness.py";
  {
    std::ofstream f(path, std::ios::binary);
    f << kHarnessSource;
    if (!f) throw Error("cannot write the test harness to " + path);
  }
  ::chmod(path.c_str(), 0644);
  Sandbox::Options so = options_.sandbox;
  so.mounts.push_back({path, "/tamis/harness.py"});
  try {
    sandbox_ = std::make_unique<Sandbox>(std::move(so));
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(harness_dir_, ec);
    throw;
  }
}

Judge::~Judge() {
  std::error_code ec;
  std::filesystem::remove_all(harness_dir_, ec);
}

Verdict Judge::run(std::string_view program, const Suite& suite) const {
  const JudgeOptions& o = options_;
  // The spec on the harness's standard input.
  std::string spec = "{\"mode\":";
  spec += suite.mode == Suite::Mode::check ? "\"check\"" : suite.mode == Suite::Mode::stdio ? "\"stdio\"" : "\"call\"";
  spec += ",\"program\":" + json::quote(program);
  spec += ",\"prelude\":" + json::boolean(o.prelude);
  spec += ",\"test_seconds\":" + json::number(o.test_seconds);
  spec += ",\"output_bytes\":" + json::number(o.limits.file_bytes);
  if (suite.mode == Suite::Mode::check) {
    spec += ",\"test\":" + json::quote(suite.test_code);
    if (!suite.entry_point.empty()) spec += ",\"entry_point\":" + json::quote(suite.entry_point);
  } else {
    spec += ",\"inputs\":[";
    for (size_t i = 0; i < suite.inputs.size(); ++i) spec += (i ? "," : "") + (suite.mode == Suite::Mode::call ? suite.inputs[i] : json::quote(suite.inputs[i]));
    spec += "]";
    if (suite.mode == Suite::Mode::call) {
      spec += ",\"fn_name\":" + json::quote(suite.fn_name) + ",\"outputs\":[";
      for (size_t i = 0; i < suite.outputs.size(); ++i) spec += (i ? "," : "") + suite.outputs[i];
      spec += "]";
    }
  }
  spec += "}";

  // The run's limits: each test its test_seconds, the whole run no more than the stage's limits.
  Limits limits = o.limits;
  const double n = static_cast<double>(std::max<int64_t>(suite.mode == Suite::Mode::check ? 1 : static_cast<int64_t>(suite.inputs.size()), 1));
  limits.wall_seconds = std::min(o.limits.wall_seconds, o.test_seconds * n + 5);
  limits.cpu_seconds = std::min(o.limits.cpu_seconds, o.test_seconds * n + 2);
  limits.output_bytes = std::max<int64_t>(o.limits.output_bytes, o.limits.file_bytes * static_cast<int64_t>(n) + 65536);
  const RunResult r = sandbox_->run({o.python, "-I", "/tamis/harness.py"}, spec, limits);

  Verdict v;
  v.run = r.status;
  v.wall_seconds = r.wall_seconds;
  v.cpu_seconds = r.cpu_seconds;
  if (r.status == RunStatus::sandbox_error) {
    v.sandbox_error = r.message;
    return v;
  }
  // The harness's lines, in order; the last may be cut by a kill.
  simdjson::dom::parser parser;
  int64_t declared = suite.mode == Suite::Mode::check ? -1 : static_cast<int64_t>(suite.inputs.size());
  struct Seen {
    bool pass = false, fail = false;
    TestOutcome failure;
  };
  std::vector<Seen> seen;
  auto slot = [&](int64_t t) -> Seen& {
    if (t >= static_cast<int64_t>(seen.size())) seen.resize(static_cast<size_t>(t) + 1);
    return seen[static_cast<size_t>(t)];
  };
  size_t pos = 0;
  while (pos < r.results.size()) {
    size_t end = r.results.find('\n', pos);
    if (end == std::string::npos) break;  // an unfinished line
    const std::string line = r.results.substr(pos, end - pos);
    pos = end + 1;
    element doc;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS) continue;
    int64_t count = 0;
    bool flag = false;
    if (doc["tests"].get_int64().get(count) == simdjson::SUCCESS) {
      declared = count;
      continue;
    }
    if (doc["done"].get_bool().get(flag) == simdjson::SUCCESS) {
      v.finished = true;
      continue;
    }
    std::string text = string_member(doc, "program_error");
    if (text.empty()) text = string_member(doc, "test_error");
    if (text.empty()) text = string_member(doc, "harness_error");
    if (!text.empty()) {
      v.program_error = text;
      continue;
    }
    int64_t t = -1;
    if (doc["t"].get_int64().get(t) != simdjson::SUCCESS || t < 0 || t > 1000000) continue;
    Seen& s = slot(t);
    TestOutcome out;
    double seconds = -1;
    if (doc["seconds"].get_double().get(seconds) == simdjson::SUCCESS) out.seconds = seconds;
    const std::string status = string_member(doc, "status");
    bool ok = false;
    if (doc["ok"].get_bool().get(ok) == simdjson::SUCCESS) {  // check and call modes: judged by the harness
      if (ok) {
        s.pass = true;
        continue;
      }
      out.kind = status == "timeout" ? TestOutcome::Kind::timeout : TestOutcome::Kind::fail;
      out.error = string_member(doc, "error");
      if (!out.error.empty()) out.kind = TestOutcome::Kind::error;
      out.got = string_member(doc, "got");
      out.expected = string_member(doc, "expected");
    } else if (status == "ran") {  // stdio: compared here
      const std::string got = string_member(doc, "out");
      const std::string& want = suite.outputs[static_cast<size_t>(std::min<int64_t>(t, static_cast<int64_t>(suite.outputs.size()) - 1))];
      if (static_cast<size_t>(t) < suite.outputs.size() && outputs_match(want, got, o.comparison)) {
        s.pass = true;
        continue;
      }
      out.kind = TestOutcome::Kind::fail;
      out.expected = clip(want, 300);
      out.got = clip(got, 300);
    } else if (status == "timeout") {
      out.kind = TestOutcome::Kind::timeout;
    } else {
      out.kind = TestOutcome::Kind::error;
      const std::string err = string_member(doc, "err");
      out.error = status == "output_limit" ? "wrote more than " + std::to_string(o.limits.file_bytes) + " bytes"
                                           : (err.empty() ? "exited with " + status : clip(err, 300));
    }
    if (!s.fail) {
      s.fail = true;
      s.failure = std::move(out);
    }
  }
  if (declared < 0) declared = static_cast<int64_t>(seen.size());
  if (static_cast<int64_t>(seen.size()) < declared) seen.resize(static_cast<size_t>(declared));
  bool first_unreported = true;
  for (Seen& s : seen) {
    TestOutcome out;
    if (s.fail) {
      out = std::move(s.failure);
    } else if (s.pass) {
      out.kind = TestOutcome::Kind::pass;
      ++v.passed;
    } else if (!v.finished && first_unreported && v.program_error.empty() &&
               (r.status == RunStatus::cpu_time || r.status == RunStatus::wall_time)) {
      out.kind = TestOutcome::Kind::timeout;  // the test running when the time ran out
      first_unreported = false;
    }
    v.tests.push_back(std::move(out));
  }
  if (!v.finished && v.program_error.empty() && r.status == RunStatus::exited)
    v.program_error = r.err.empty() ? "the program ended the run before the tests finished (exit " + std::to_string(r.exit_code) + ")"
                                    : "the program ended the run before the tests finished: " + clip(std::string(trim(r.err)), 300);
  return v;
}

}  // namespace tamis::code
