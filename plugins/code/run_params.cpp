#include "run_params.hpp"

#include "fields.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tamis::code {

namespace {
const char* const kCompare[] = {"tokens", "lines", "exact", nullptr};
}

ParamTable run_params() {
  return {
      {.name = "tests_field", .type = ParamType::string,
       .help = "field holding the tests; absent: the first present of tests, input_output, test, test_list (docs/code.md, Layouts)"},
      {.name = "entry_point_field", .type = ParamType::string, .default_json = "\"entry_point\"",
       .help = "field naming the function a check(candidate) test is given (HumanEval); absent from the record: the "
               "test code calls check itself (LeetCode)"},
      {.name = "test_seconds", .type = ParamType::number, .default_json = "6",
       .help = "wall-clock and CPU time of one test (one stdin/stdout run, one call); a check function's asserts share "
               "test_seconds + 2 of CPU in all"},
      {.name = "run_seconds", .type = ParamType::number, .default_json = "120",
       .help = "the most wall-clock time one program's run of all its tests may take (then CPU time too)"},
      {.name = "memory_mb", .type = ParamType::integer, .default_json = "1024",
       .help = "address space of each process of a run (RLIMIT_AS), in MiB"},
      {.name = "output_kb", .type = ParamType::integer, .default_json = "16384",
       .help = "the most a test may write to standard output (and the largest file a run may write), in KiB"},
      {.name = "processes", .type = ParamType::integer, .default_json = "16",
       .help = "processes and threads a run may have at once (RLIMIT_NPROC in the run's own user namespace)"},
      {.name = "tmp_mb", .type = ParamType::integer, .default_json = "64", .help = "size of the run's private /tmp (a tmpfs), in MiB"},
      {.name = "compare", .type = ParamType::string, .default_json = "\"tokens\"",
       .help = "how a standard output is compared with the expected one: tokens (whitespace-separated, any spacing and line "
               "endings), lines (line by line, trailing blanks and final empty lines ignored, then as tokens), exact (bytes)",
       .choices = kCompare},
      {.name = "float_tolerance", .type = ParamType::number, .default_json = "0",
       .help = "> 0: two numeric tokens match when they differ by at most this, absolutely or relatively (1e-6 for "
               "problems whose answers are real numbers); 0: numbers compare as text"},
      {.name = "case_sensitive", .type = ParamType::boolean, .default_json = "true",
       .help = "false: YES matches yes (problems that accept any case)"},
      {.name = "prelude", .type = ParamType::boolean, .default_json = "true",
       .help = "run LeetCode's usual prelude before the program: from typing import *, collections, heapq, math ... and "
               "ListNode, TreeNode, list_node, tree_node, is_same_list, is_same_tree (docs/code.md)"},
      {.name = "parallel", .type = ParamType::integer, .default_json = "0",
       .help = "sandboxes running at once over the stage; 0: the run's thread count"},
      {.name = "python", .type = ParamType::string, .default_json = "\"/usr/bin/python3\"",
       .help = "the Python interpreter inside the sandbox (a path under /usr, the only host folder the sandbox sees)"},
  };
}

std::optional<Suite> record_suite(Record& r, const std::string& tests_field, const std::string& entry_point_field) {
  std::string field = tests_field;
  const auto tests = find_present(r, field, kTestFields);
  if (!tests && !tests_field.empty()) {
    r.reject_missing_field(field, "missing_tests", "field '" + field + "' is missing or null");
    return std::nullopt;
  }
  if (!tests) {
    r.reject_missing_field("tests", "missing_tests", "no tests: none of the fields tests, input_output, test, test_list");
    return std::nullopt;
  }
  SuiteOrError read = read_suite(*tests, field, r.string_field(entry_point_field).value_or(""));
  if (!read.suite) r.reject("unparseable_tests", read.error);
  return std::move(read.suite);
}

void check_run_params(const Params& p) {
  if (p.has("tests_field") && p.get_string("tests_field").empty()) throw Error("tests_field is empty: leave it out to detect the field");
  if (p.get_double("test_seconds") <= 0) throw Error("test_seconds must be > 0");
  if (p.get_double("run_seconds") < p.get_double("test_seconds")) throw Error("run_seconds must be >= test_seconds");
  if (p.get_int("memory_mb") < 64) throw Error("memory_mb must be >= 64 (Python alone needs about 30)");
  if (p.get_int("output_kb") < 1) throw Error("output_kb must be >= 1");
  if (p.get_int("processes") < 3) throw Error("processes must be >= 3 (the sandbox's init, the harness and a test)");
  if (p.get_int("tmp_mb") < 1) throw Error("tmp_mb must be >= 1");
  if (p.get_double("float_tolerance") < 0) throw Error("float_tolerance must be >= 0");
  if (p.get_int("parallel") < 0) throw Error("parallel must be >= 0 (0: the thread count)");
  if (p.get_string("python").rfind("/usr/", 0) != 0) throw Error("python must be a path under /usr (the sandbox sees only /usr)");
}

JudgeOptions judge_options(const Params& p) {
  JudgeOptions o;
  o.test_seconds = p.get_double("test_seconds");
  o.limits.wall_seconds = p.get_double("run_seconds");
  o.limits.cpu_seconds = p.get_double("run_seconds");
  o.limits.memory_bytes = p.get_int("memory_mb") << 20;
  o.limits.file_bytes = p.get_int("output_kb") << 10;
  o.limits.output_bytes = p.get_int("output_kb") << 10;
  o.limits.processes = p.get_int("processes");
  o.limits.tmp_bytes = p.get_int("tmp_mb") << 20;
  const std::string compare = p.get_string("compare");
  o.comparison.mode = compare == "lines" ? Comparison::Mode::lines : compare == "exact" ? Comparison::Mode::exact : Comparison::Mode::tokens;
  o.comparison.float_tolerance = p.get_double("float_tolerance");
  o.comparison.case_sensitive = p.get_bool("case_sensitive");
  o.prelude = p.get_bool("prelude");
  o.python = p.get_string("python");
  return o;
}

StageRuns::StageRuns(const Params& p, const Stage& stage)
    : judge_(std::make_unique<Judge>(judge_options(p))),
      free_(p.get_int("parallel") > 0 ? p.get_int("parallel") : std::max<int64_t>(stage.threads(), 1)) {}

Verdict StageRuns::run(std::string_view program, const Suite& suite, std::string_view id) const {
  {
    std::unique_lock lock(mu_);
    freed_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  struct Slot {  // given back however the run ends
    const StageRuns& runs;
    ~Slot() {
      {
        std::lock_guard lock(runs.mu_);
        ++runs.free_;
      }
      runs.freed_.notify_one();
    }
  } slot{*this};
  Verdict v = judge_->run(program, suite);
  if (!v.sandbox_error.empty()) throw Error("the sandbox failed on record " + std::string(id) + ": " + v.sandbox_error);
  std::lock_guard lock(mu_);
  seconds_.push_back(v.wall_seconds);
  return v;
}

std::string StageRuns::seconds_json() const {
  std::vector<double> s;
  {
    std::lock_guard lock(mu_);
    s = seconds_;
  }
  if (s.empty()) return "{\"runs\":0}";
  std::sort(s.begin(), s.end());
  auto at = [&](double q) { return s[std::min(s.size() - 1, static_cast<size_t>(q * static_cast<double>(s.size())))]; };
  const double total = std::accumulate(s.begin(), s.end(), 0.0);
  auto r3 = [](double x) { return json::number(std::round(x * 1000) / 1000); };
  return "{\"runs\":" + std::to_string(s.size()) + ",\"total\":" + r3(total) + ",\"mean\":" + r3(total / static_cast<double>(s.size())) +
         ",\"median\":" + r3(at(0.5)) + ",\"p95\":" + r3(at(0.95)) + ",\"max\":" + r3(s.back()) + "}";
}

}  // namespace tamis::code
