// The per-run overhead of the code sandbox (bench/sandbox.sh): the wall time of a trivial program run
// through tamis::code::Sandbox::run against the same program forked and exec'd directly, and of a
// one-assert check suite through tamis::code::Judge::run against the same harness run directly (no
// sandbox), interleaved run by run so that the machine's load falls on both alike.
//
//   sandbox_bench [RUNS]
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "judge.hpp"
#include "sandbox.hpp"

using tamis::code::Judge;
using tamis::code::JudgeOptions;
using tamis::code::Limits;
using tamis::code::RunStatus;
using tamis::code::Sandbox;
using tamis::code::Suite;

namespace {

const char* const kPython = "/usr/bin/python3";

// fork, execv(argv) with `input` on its standard input (through a file) and fd 3 and the standard
// output and error on /dev/null, wait. The exit status, or -1.
int run_direct(const std::vector<std::string>& argv, const std::string& input_path) {
  std::vector<std::string> copy = argv;
  std::vector<char*> cargv;
  for (std::string& a : copy) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int in = ::open(input_path.empty() ? "/dev/null" : input_path.c_str(), O_RDONLY);
    const int null = ::open("/dev/null", O_WRONLY);
    if (in < 0 || null < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::dup2(null, 3);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Series {
  const char* name;
  std::vector<double> ms;
  double mean() const {
    double s = 0;
    for (double x : ms) s += x;
    return ms.empty() ? 0 : s / static_cast<double>(ms.size());
  }
  double quantile(double q) const {
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
  }
};

double time_ms(const std::function<bool()>& f, bool& ok) {
  const auto t0 = std::chrono::steady_clock::now();
  ok = f() && ok;
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The spec Judge::run writes for a check suite (plugins/code/judge.cpp), for the direct harness runs.
std::string check_spec(const std::string& program, const std::string& test, const std::string& entry, const JudgeOptions& o) {
  auto quote = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') q += '\\', q += c;
      else if (c == '\n') q += "\\n";
      else q += c;
    }
    return q + "\"";
  };
  return "{\"mode\":\"check\",\"program\":" + quote(program) + ",\"prelude\":" + (o.prelude ? "true" : "false") +
         ",\"test_seconds\":" + std::to_string(o.test_seconds) + ",\"output_bytes\":" + std::to_string(o.limits.file_bytes) +
         ",\"test\":" + quote(test) + ",\"entry_point\":" + quote(entry) + "}";
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 100;
  if (auto why = Sandbox::unavailable()) {
    std::fprintf(stderr, "no sandbox here: %s\n", why->c_str());
    return 2;
  }
  const Sandbox sandbox(Sandbox::Options{});
  JudgeOptions jo;
  const Judge judge(jo);
  const Limits limits;

  // The harness and the spec on the host for the direct harness runs.
  char dir[] = "/tmp/tamis-sandbox-bench-XXXXXX";
  if (!::mkdtemp(dir)) return 2;
  const std::string harness = std::string(dir) + "/harness.py", spec_path = std::string(dir) + "/spec.json";
  const std::string program = "def add(a, b):\n    return a + b\n";
  const std::string test = "def check(candidate):\n    assert candidate(1, 2) == 3\n";
  std::ofstream(harness) << tamis::code::kHarnessSource;
  std::ofstream(spec_path) << check_spec(program, test, "add", jo);
  Suite suite;
  suite.mode = Suite::Mode::check;
  suite.test_code = test;
  suite.entry_point = "add";

  const std::vector<std::string> trivial = {kPython, "-I", "-S", "-c", "pass"};
  const std::vector<std::string> truth = {"/usr/bin/true"};
  Series direct_true{"true, direct", {}}, sandbox_true{"true, Sandbox::run", {}};
  Series direct_py{"python -c pass, direct", {}}, sandbox_py{"python -c pass, Sandbox::run", {}};
  Series direct_harness{"harness 1 assert, direct", {}}, judged{"harness 1 assert, Judge::run", {}};
  bool ok = true;
  for (int i = -3; i < runs; ++i) {  // 3 warm-up rounds, not counted
    const double a = time_ms([&] { return run_direct(truth, "") == 0; }, ok);
    const double b = time_ms([&] { auto r = sandbox.run(truth, "", limits); return r.status == RunStatus::exited && r.exit_code == 0; }, ok);
    const double c = time_ms([&] { return run_direct(trivial, "") == 0; }, ok);
    const double d = time_ms([&] { auto r = sandbox.run(trivial, "", limits); return r.status == RunStatus::exited && r.exit_code == 0; }, ok);
    const double e = time_ms([&] { return run_direct({kPython, "-I", "-S", harness}, spec_path) == 0; }, ok);
    const double f = time_ms([&] { return judge.run(program, suite).all_passed(); }, ok);
    if (i < 0) continue;
    direct_true.ms.push_back(a);
    sandbox_true.ms.push_back(b);
    direct_py.ms.push_back(c);
    sandbox_py.ms.push_back(d);
    direct_harness.ms.push_back(e);
    judged.ms.push_back(f);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (!ok) {
    std::fprintf(stderr, "a run failed\n");
    return 1;
  }
  std::printf("%d runs each, interleaved (ms per run)\n", runs);
  std::printf("%-30s %8s %8s %8s %8s\n", "", "mean", "median", "p10", "p90");
  for (const Series* s : {&direct_true, &sandbox_true, &direct_py, &sandbox_py, &direct_harness, &judged})
    std::printf("%-30s %8.2f %8.2f %8.2f %8.2f\n", s->name, s->mean(), s->quantile(0.5), s->quantile(0.1), s->quantile(0.9));
  std::printf("%-30s %8s %8s\n", "overhead of the sandbox", "mean", "median");
  const std::pair<const Series*, const Series*> pairs[] = {{&direct_true, &sandbox_true}, {&direct_py, &sandbox_py}, {&direct_harness, &judged}};
  const char* names[] = {"true", "python -c pass", "harness 1 assert (Judge)"};
  for (size_t k = 0; k < 3; ++k)
    std::printf("%-30s %8.2f %8.2f\n", names[k], pairs[k].second->mean() - pairs[k].first->mean(),
                pairs[k].second->quantile(0.5) - pairs[k].first->quantile(0.5));
  return 0;
}
