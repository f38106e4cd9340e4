// The sandbox of plugins/code (suite plugins_code_sandbox): the escapes of issue 17, each shown to work
// when the same Python program runs directly (/usr/bin/python3 spawned by this test, bounded) and to fail
// through Sandbox::run. The direct runs are what makes each test able to fail: they prove the program does
// escape when nothing stops it. Harmful halves are not run directly (kill(-1), an endless loop or output):
// the direct run gets a bounded argument instead, named in each test.
//
// Every program starts with kPrefix, which sets RLIMIT_NPROC from TAMIS_SANDBOX_NPROC as the harness does
// (Sandbox::run leaves that to the program) and carries a marker unique to this test process, by which
// TearDown finds any process a test left behind (bwrap's and python's command lines hold the program).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "judge.hpp"
#include "sandbox.hpp"

extern char** environ;

namespace {

using tamis::code::Judge;
using tamis::code::JudgeOptions;
using tamis::code::Limits;
using tamis::code::RunResult;
using tamis::code::RunStatus;
using tamis::code::Sandbox;
using tamis::code::status_name;
using tamis::code::Suite;
using tamis::code::Verdict;

const std::string kPython = "/usr/bin/python3";
constexpr uid_t kNobody = 65534;

std::string marker() { return "tamis_sandbox_test_" + std::to_string(::getpid()); }

std::string prefix() {
  return "# " + marker() +
         "\n"
         "import os as _os, resource as _resource\n"
         "_n = _os.environ.get('TAMIS_SANDBOX_NPROC')\n"
         "if _n is not None:\n"
         "    _resource.setrlimit(_resource.RLIMIT_NPROC, (int(_n), int(_n)))\n";
}

std::vector<std::string> python_argv(const std::string& program, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kPython, "-I", "-S", "-c", prefix() + program};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// The processes whose command line holds `needle` (not this one).
std::vector<pid_t> processes_with(const std::string& needle) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == ::getpid()) continue;
    std::ifstream f(entry.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmd.find(needle) != std::string::npos) out.push_back(pid);
  }
  return out;
}

// Waits (bounded) for every process holding `needle` to end; kills and returns those that did not.
std::vector<pid_t> reap_strays(const std::string& needle, double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<pid_t> left = processes_with(needle);
  while (!left.empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    left = processes_with(needle);
  }
  for (pid_t p : left) ::kill(p, SIGKILL);
  return left;
}

// A program run directly, without the sandbox.
struct Direct {
  int exit_code = -1;
  int signal = 0;
  std::string out, err;
};

// Spawns argv in its own process group with /dev/null on stdin and this process's environment, reads its
// output, kills the group at `timeout_seconds` (a safety net, never reached by a passing test) and after.
Direct run_direct(const std::vector<std::string>& argv, double timeout_seconds = 60, size_t max_bytes = 64 << 20) {
  Direct d;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    d.err = "pipe failed";
    return d;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> cargv;
  std::vector<std::string> copy = argv;
  for (std::string& a : copy) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, cargv[0], &fa, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    d.err = std::string("posix_spawn: ") + std::strerror(rc);
    return d;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  int fds[2] = {out_pipe[0], err_pipe[0]};
  std::string* sinks[2] = {&d.out, &d.err};
  char buf[65536];
  bool killed = false;
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd p[2];
    int idx[2];
    nfds_t n = 0;
    for (int i = 0; i < 2; ++i)
      if (fds[i] >= 0) {
        p[n] = {fds[i], POLLIN, 0};
        idx[n++] = i;
      }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      if (killed) break;
      ::kill(-pid, SIGKILL);
      killed = true;
      continue;
    }
    if (::poll(p, n, static_cast<int>(std::min<long long>(left, 1000))) < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < n; ++i) {
      if (!p[i].revents) continue;
      const ssize_t r = ::read(p[i].fd, buf, sizeof buf);
      if (r > 0) {
        sinks[idx[i]]->append(buf, static_cast<size_t>(r));
        if (d.out.size() + d.err.size() > max_bytes && !killed) {
          ::kill(-pid, SIGKILL);
          killed = true;
        }
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fds[idx[i]]);
        fds[idx[i]] = -1;
      }
    }
  }
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::kill(-pid, SIGKILL);  // whatever of the group is left
  if (WIFEXITED(status)) d.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) d.signal = WTERMSIG(status);
  return d;
}

Direct python_direct(const std::string& program, const std::vector<std::string>& args = {}) {
  return run_direct(python_argv(program, args));
}

// A stand-in for the tamis process: `sleep` as the sandbox's user (when this test runs as root, as the
// sandbox's runs then are outside their namespace too, so that only the namespaces keep them apart), with
// `env` as its environment. Killed and reaped when it goes out of scope.
struct StandIn {
  pid_t pid = -1;
  explicit StandIn(const std::vector<std::string>& env = {}) {
    std::vector<std::string> e = env;
    std::vector<char*> cenv;
    for (std::string& s : e) cenv.push_back(s.data());
    cenv.push_back(nullptr);
    char sleep_path[] = "/usr/bin/sleep";
    char sleep_name[] = "sleep";
    char seconds[] = "120";
    char* argv[] = {sleep_name, seconds, nullptr};
    const bool root = ::geteuid() == 0;
    const pid_t parent = ::getpid();
    pid = ::fork();
    if (pid == 0) {
      if (root && (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
                   ::setresuid(kNobody, kNobody, kNobody) != 0))
        ::_exit(125);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // after the uid change, which clears it
      if (::getppid() != parent) ::_exit(0);
      ::execve(sleep_path, argv, cenv.data());
      ::_exit(126);
    }
  }
  bool alive() const {
    int status = 0;
    return pid > 0 && ::waitpid(pid, &status, WNOHANG) == 0;
  }
  // Reaps it when it was killed; its signal, or 0.
  int wait_killed() {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return 0;
    const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    pid = -1;
    return sig;
  }
  ~StandIn() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  }
  StandIn(const StandIn&) = delete;
  StandIn& operator=(const StandIn&) = delete;
};

// A host folder every user may write, removed at the end.
struct HostDir {
  std::string path;
  HostDir() {
    char tmpl[] = "/tmp/tamis-sandbox-test-XXXXXX";
    if (::mkdtemp(tmpl)) path = tmpl;
    ::chmod(path.c_str(), 0777);
  }
  ~HostDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path, std::ios::binary) << text;
  ::chmod(path.c_str(), mode);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string describe(const RunResult& r) {
  std::ostringstream s;
  s << "status " << status_name(r.status) << ", exit " << r.exit_code << ", signal " << r.signal << ", "
    << r.wall_seconds << " s\n--- out:\n"
    << r.out.substr(0, 2000) << "\n--- err:\n"
    << r.err.substr(0, 2000) << "\n--- message: " << r.message;
  return s.str();
}

std::string describe(const Direct& d) {
  return "exit " + std::to_string(d.exit_code) + ", signal " + std::to_string(d.signal) + "\n--- out:\n" + d.out.substr(0, 2000) +
         "\n--- err:\n" + d.err.substr(0, 2000);
}

// The value printed after "KEY " on a line of `out` ("" when no such line).
std::string line_value(const std::string& out, const std::string& key) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + " ", 0) == 0) return line.substr(key.size() + 1);
  return {};
}

Limits test_limits() {
  Limits l;
  l.wall_seconds = 15;
  l.cpu_seconds = 5;
  l.memory_bytes = int64_t{512} << 20;
  l.processes = 8;
  l.output_bytes = 1 << 20;
  return l;
}

// TAMIS_SANDBOX_TEST_BYPASS=1: the sandboxed halves run the programs directly instead, and every test
// but the two that drive the sandbox themselves must fail (how each was checked to be able to fail).
bool bypass() {
  const char* v = std::getenv("TAMIS_SANDBOX_TEST_BYPASS");
  return v && std::string(v) == "1";
}

class plugins_code_sandbox : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    unavailable_ = Sandbox::unavailable();
    if (!unavailable_) sandbox_ = std::make_unique<Sandbox>(Sandbox::Options{});
  }
  static void TearDownTestSuite() { sandbox_.reset(); }

  void SetUp() override {
    if (unavailable_) GTEST_SKIP() << "no sandbox here: " << *unavailable_;
  }
  void TearDown() override {
    // No test leaves a process behind (the sandbox's or a direct run's).
    const std::vector<pid_t> strays = reap_strays(marker(), 5);
    EXPECT_TRUE(strays.empty()) << strays.size() << " process(es) outlived the test, the first pid " << (strays.empty() ? 0 : strays[0]);
  }

  static RunResult sandboxed(const std::string& program, const std::vector<std::string>& args = {}, const Limits& limits = test_limits()) {
    if (bypass()) {
      // The check that each test can fail: the same program, unprotected (no limit either).
      RunResult r;
      const auto t0 = std::chrono::steady_clock::now();
      const Direct d = run_direct(python_argv(program, args), 12, static_cast<size_t>(limits.output_bytes) * 4);
      r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      r.status = d.signal ? RunStatus::signaled : RunStatus::exited;
      r.exit_code = d.exit_code;
      r.signal = d.signal;
      r.out = d.out;
      r.err = d.err;
      return r;
    }
    return sandbox_->run(python_argv(program, args), "", limits);
  }

  static std::optional<std::string> unavailable_;
  static std::unique_ptr<Sandbox> sandbox_;
};

std::optional<std::string> plugins_code_sandbox::unavailable_;
std::unique_ptr<Sandbox> plugins_code_sandbox::sandbox_;

// ---- processes ----------------------------------------------------------------------------------

// 200 children that wait on a pipe (they end when the parent closes it, or dies); the count of fork()
// calls that succeeded.
const std::string kForkBomb = R"(
import os, sys
r, w = os.pipe()
made = 0
for i in range(200):
    try:
        pid = os.fork()
    except OSError as e:
        print('refused', e.errno)
        break
    if pid == 0:
        os.close(w)
        try:
            os.read(r, 1)
        finally:
            os._exit(0)
    made += 1
print('forked', made, flush=True)
os.close(w)
for _ in range(made):
    os.wait()
)";

TEST_F(plugins_code_sandbox, ForkBombIsBoundedByTheProcessLimit) {
  const Direct d = python_direct(kForkBomb);
  ASSERT_EQ(d.exit_code, 0) << describe(d);
  EXPECT_EQ(line_value(d.out, "forked"), "200") << describe(d);

  Limits limits = test_limits();
  limits.processes = 8;
  const RunResult r = sandboxed(kForkBomb, {}, limits);
  ASSERT_EQ(r.status, RunStatus::exited) << describe(r);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  const std::string forked = line_value(r.out, "forked");
  ASSERT_FALSE(forked.empty()) << describe(r);
  EXPECT_LE(std::stoi(forked), limits.processes) << describe(r);
  EXPECT_FALSE(line_value(r.out, "refused").empty()) << describe(r);  // EAGAIN
}

// Through the judge: the harness sets the process limit before the program runs.
TEST_F(plugins_code_sandbox, ForkBombThroughTheJudgeIsBounded) {
  if (bypass()) GTEST_SKIP() << "runs the judge itself";
  JudgeOptions o;
  o.limits = test_limits();
  o.limits.processes = 8;
  o.test_seconds = 10;
  const Judge judge(o);
  Suite suite;
  suite.mode = Suite::Mode::check;
  suite.entry_point = "bomb";
  suite.test_code = "def check(candidate):\n    assert candidate() == 200\n";
  const std::string program = "# " + marker() + "\n" +
                              "import os\n"
                              "def bomb():\n"
                              "    r, w = os.pipe()\n"
                              "    made = 0\n"
                              "    for i in range(200):\n"
                              "        try:\n"
                              "            pid = os.fork()\n"
                              "        except OSError:\n"
                              "            break\n"
                              "        if pid == 0:\n"
                              "            os.close(w)\n"
                              "            os.read(r, 1)\n"
                              "            os._exit(0)\n"
                              "        made += 1\n"
                              "    os.close(w)\n"
                              "    for _ in range(made):\n"
                              "        os.wait()\n"
                              "    return made\n";
  const Verdict v = judge.run(program, suite);
  ASSERT_TRUE(v.sandbox_error.empty()) << v.sandbox_error;
  ASSERT_TRUE(v.finished) << v.first_failure();
  ASSERT_EQ(v.tests.size(), 1u) << v.first_failure();
  EXPECT_FALSE(v.all_passed());
  ASSERT_EQ(v.tests[0].kind, tamis::code::TestOutcome::Kind::fail) << v.first_failure();
  EXPECT_LE(std::stoi(v.tests[0].got), 8) << v.first_failure();

  // The same program run directly makes its 200.
  const Direct d = run_direct({kPython, "-I", "-S", "-c", program + "print('forked', bomb())\n"});
  EXPECT_EQ(line_value(d.out, "forked"), "200") << describe(d);
}

// A process that detaches (new session) and outlives the program.
const std::string kDaemon = R"(
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for fd in range(0, 4):
            try:
                os.close(fd)
            except OSError:
                pass
        time.sleep(float(sys.argv[1]))
    os._exit(0)
print('parent done', flush=True)
)";

TEST_F(plugins_code_sandbox, ADetachedProcessDoesNotOutliveTheRun) {
  const Direct d = python_direct(kDaemon, {"30"});
  ASSERT_EQ(d.exit_code, 0) << describe(d);
  // Directly, the detached sleeper survives its parent (and is killed here).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::vector<pid_t> left = processes_with(marker());
  for (pid_t p : left) ::kill(p, SIGKILL);
  EXPECT_FALSE(left.empty()) << "the direct run left no process: the test cannot tell";
  reap_strays(marker(), 5);

  const RunResult r = sandboxed(kDaemon, {"30"});
  ASSERT_EQ(r.status, RunStatus::exited) << describe(r);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_LT(r.wall_seconds, 15) << describe(r);
  EXPECT_TRUE(reap_strays(marker(), 5).empty()) << "a process of the run outlived it";
}

// tamis itself killed while a run goes on: the run dies with it.
TEST_F(plugins_code_sandbox, KillingTamisEndsItsRuns) {
  if (bypass()) GTEST_SKIP() << "runs the sandbox itself (its direct half is the check)";
  const std::string tag = marker() + "_orphan";
  const std::string program = "# " + tag + "\nimport time\ntime.sleep(60)\n";
  for (const bool with_sandbox : {false, true}) {
    SCOPED_TRACE(with_sandbox ? "sandboxed" : "direct");
    const pid_t tamis = ::fork();
    ASSERT_GE(tamis, 0);
    if (tamis == 0) {
      if (with_sandbox) {
        Limits l = test_limits();
        l.wall_seconds = 60;
        sandbox_->run({kPython, "-I", "-S", "-c", program}, "", l);
      } else {
        pid_t child = -1;
        std::vector<std::string> argv = {kPython, "-I", "-S", "-c", program};
        std::vector<char*> cargv;
        for (std::string& a : argv) cargv.push_back(a.data());
        cargv.push_back(nullptr);
        ::posix_spawn(&child, cargv[0], nullptr, nullptr, cargv.data(), environ);
        int status = 0;
        ::waitpid(child, &status, 0);
      }
      ::_exit(0);
    }
    // Wait (bounded) for the program to start, then kill the stand-in for tamis.
    bool started = false;
    for (int i = 0; i < 200 && !started; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      for (pid_t p : processes_with(tag)) {
        const std::string cmd = read_file("/proc/" + std::to_string(p) + "/cmdline");
        if (cmd.rfind(kPython, 0) == 0) started = true;
      }
    }
    EXPECT_TRUE(started);
    ::kill(tamis, SIGKILL);
    int status = 0;
    ::waitpid(tamis, &status, 0);
    const std::vector<pid_t> left = reap_strays(tag, with_sandbox ? 5 : 0.5);
    if (with_sandbox) {
      EXPECT_TRUE(left.empty()) << left.size() << " process(es) of the run outlived tamis";
    } else {
      EXPECT_FALSE(left.empty()) << "the direct program did not outlive its parent: the test cannot tell";
    }
  }
}

// kill() of the stand-in for tamis (same outer user as the run when this runs as root), of the sandbox's
// parent and of every process (-1). Directly, only the stand-in is killed (never kill(-1) outside).
const std::string kKiller = R"(
import os, signal, sys
def attempt(name, pid):
    try:
        os.kill(pid, signal.SIGKILL)
        print(name, 'sent')
    except OSError as e:
        print(name, 'error', e.errno)
attempt('stand-in', int(sys.argv[1]))
# Only inside a sandbox (pid 1 bwrap, a small pid): kill(-1) elsewhere would end every process of the user.
def sandboxed():
    try:
        with open('/proc/1/cmdline', 'rb') as f:
            return os.getpid() < 10 and b'bwrap' in f.read().split(b'\0')[0]
    except OSError:
        return False
if len(sys.argv) > 2 and sandboxed():
    attempt('tamis', int(sys.argv[2]))
    attempt('parent', os.getppid())
    attempt('all', -1)
print('alive')
)";

TEST_F(plugins_code_sandbox, KillingTheParentFails) {
  {
    StandIn standin;
    ASSERT_TRUE(standin.alive());
    const Direct d = python_direct(kKiller, {std::to_string(standin.pid)});
    EXPECT_EQ(line_value(d.out, "stand-in"), "sent") << describe(d);
    EXPECT_EQ(standin.wait_killed(), SIGKILL) << describe(d);
  }
  StandIn standin;
  ASSERT_TRUE(standin.alive());
  const RunResult r = bypass() ? sandboxed(kKiller, {std::to_string(standin.pid)})
                               : sandboxed(kKiller, {std::to_string(standin.pid), std::to_string(::getpid())});
  ASSERT_EQ(r.status, RunStatus::exited) << describe(r);
  EXPECT_NE(line_value(r.out, "stand-in"), "sent") << describe(r);
  EXPECT_NE(line_value(r.out, "tamis"), "sent") << describe(r);
  EXPECT_NE(r.out.find("alive"), std::string::npos) << describe(r);
  EXPECT_TRUE(standin.alive()) << describe(r);
  EXPECT_EQ(::kill(standin.pid, 0), 0);
}

// ---- files --------------------------------------------------------------------------------------

const std::string kWriter = R"(
import sys
for path in sys.argv[1:]:
    try:
        with open(path, 'w') as f:
            f.write('escaped')
        print(path, 'written')
    except OSError as e:
        print(path, 'error', e.errno)
)";

TEST_F(plugins_code_sandbox, WritingOutsideItsDirectoryFails) {
  const HostDir dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string tag = std::to_string(::getpid());
  const std::string host = dir.file("escaped.txt");
  const std::string usr = "/usr/tamis-sandbox-test-" + tag + ".txt";
  const std::string tmp = "/tmp/tamis-sandbox-test-" + tag + ".txt";

  const Direct d = python_direct(kWriter, {host, usr, tmp});
  EXPECT_EQ(line_value(d.out, host), "written") << describe(d);
  EXPECT_EQ(read_file(host), "escaped");
  const bool wrote_usr = exists(usr), wrote_tmp = exists(tmp);
  std::filesystem::remove(host);
  std::filesystem::remove(usr);
  std::filesystem::remove(tmp);
  EXPECT_EQ(wrote_usr, ::geteuid() == 0) << describe(d);  // /usr is writable by root only
  EXPECT_TRUE(wrote_tmp) << describe(d);

  const RunResult r = sandboxed(kWriter, {host, usr, tmp});
  ASSERT_EQ(r.status, RunStatus::exited) << describe(r);
  EXPECT_EQ(line_value(r.out, host), "error " + std::to_string(ENOENT)) << describe(r);  // not there at all
  const std::string usr_error = line_value(r.out, usr);
  EXPECT_TRUE(usr_error == "error " + std::to_string(EROFS) || usr_error == "error " + std::to_string(EACCES)) << describe(r);
  EXPECT_EQ(line_value(r.out, tmp), "written") << describe(r);  // its own /tmp
  EXPECT_FALSE(exists(host));
  EXPECT_FALSE(exists(usr));
  EXPECT_FALSE(exists(tmp));  // not the host's /tmp
  std::filesystem::remove(usr);
  std::filesystem::remove(tmp);
}

// Bigger files than file_bytes, and more in /tmp than tmp_bytes.
const std::string kFiller = R"(
import os, sys
block = b'x' * (1 << 20)
os.makedirs(sys.argv[1], exist_ok=True)
for i in range(int(sys.argv[2])):
    path = '%s/fill%d' % (sys.argv[1], i)
    try:
        with open(path, 'wb') as f:
            for _ in range(int(sys.argv[3])):
                f.write(block)
        print(path, 'written')
    except OSError as e:
        print(path, 'error', e.errno)
)";

TEST_F(plugins_code_sandbox, FilesAndTmpAreBounded) {
  const HostDir dir;
  // One 4 MiB file, then 4 files of 1 MiB less a little.
  const Direct big = python_direct(kFiller, {dir.path, "1", "4"});
  EXPECT_EQ(line_value(big.out, dir.path + "/fill0"), "written") << describe(big);
  Limits limits = test_limits();
  limits.file_bytes = 2 << 20;
  limits.tmp_bytes = 3 << 20;
  const std::string inside = "/tmp/tamis-sandbox-test-fill-" + std::to_string(::getpid());
  RunResult r = sandboxed(kFiller, {inside, "1", "4"}, limits);
  std::filesystem::remove_all(inside);
  ASSERT_EQ(r.status, RunStatus::exited) << describe(r);
  EXPECT_EQ(line_value(r.out, inside + "/fill0"), "error " + std::to_string(EFBIG)) << describe(r);

  const Direct many = python_direct(kFiller, {dir.path, "4", "1"});
  EXPECT_EQ(line_value(many.out, dir.path + "/fill3"), "written") << describe(many);
  r = sandboxed(kFiller, {inside, "4", "1"}, limits);
  std::filesystem::remove_all(inside);
  ASSERT_EQ(r.status, RunStatus::exited) << describe(r);
  EXPECT_EQ(line_value(r.out, inside + "/fill0"), "written") << describe(r);
  EXPECT_EQ(line_value(r.out, inside + "/fill3"), "error " + std::to_string(ENOSPC)) << describe(r);
}

// The sandbox's root and /dev are tmpfs mounts of bwrap's, owned by the sandbox user and without a size:
// writable, files there would escape tmp_bytes (and RLIMIT_AS: tmpfs pages are nobody's address space),
// up to half the host's RAM each, per run. The sandbox remounts them read-only (without that, 16 MiB went
// into each with tmp_bytes 3 MiB).
TEST_F(plugins_code_sandbox, WritingOutsideTmpIsRefused) {
  const HostDir dir;
  const Direct d = python_direct(kFiller, {dir.path, "16", "1"});
  EXPECT_EQ(line_value(d.out, dir.path + "/fill15"), "written") << describe(d);
  Limits limits = test_limits();
  limits.file_bytes = 2 << 20;
  limits.tmp_bytes = 3 << 20;
  const std::string tag = std::to_string(::getpid());
  for (const std::string& inside : {"/tamis-fill-" + tag, "/dev/tamis-fill-" + tag, "/dev/shm/tamis-fill-" + tag}) {
    SCOPED_TRACE(inside);
    const RunResult r = sandboxed(kFiller, {inside, "16", "1"}, limits);
    std::filesystem::remove_all(inside);
    ASSERT_EQ(r.status, RunStatus::exited) << describe(r);
    // Read-only: the folder cannot even be made (EROFS), so nothing is written there.
    EXPECT_EQ(r.out.find("written"), std::string::npos) << describe(r);
    EXPECT_NE(r.err.find("[Errno " + std::to_string(EROFS) + "]"), std::string::npos) << describe(r);
  }
}

const std::string kReader = R"(
import sys
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            print(path, 'read', f.read())
    except OSError as e:
        print(path, 'error', e.errno)
)";

TEST_F(plugins_code_sandbox, ReadingAHostSecretFails) {
  const HostDir dir;
  const std::string secret = "secret-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand());
  const std::string path = dir.file("secret.txt");
  write_file(path, secret, 0644);  // readable by every user: only the sandbox keeps it out of reach
  const std::vector<std::string> paths = {path, "/proc/" + std::to_string(::getpid()) + "/root" + path, "/proc/1/root" + path};

  const Direct d = python_direct(kReader, paths);
  EXPECT_EQ(line_value(d.out, path), "read " + secret) << describe(d);
  if (::geteuid() == 0) {
    EXPECT_EQ(line_value(d.out, paths[1]), "read " + secret) << describe(d);
  }

  const RunResult r = sandboxed(kReader, paths);
  ASSERT_EQ(r.status, RunStatus::exited) << describe(r);
  EXPECT_EQ(r.out.find(secret), std::string::npos) << describe(r);
  EXPECT_EQ(line_value(r.out, path), "error " + std::to_string(ENOENT)) << describe(r);
}

// ---- network ------------------------------------------------------------------------------------

// A listening socket of this process, closed at the end; counts the connections it got.
struct Listener {
  int fd = -1;
  int port = 0;
  std::string name;  // an AF_UNIX address (abstract: starts with '\0')

  static Listener tcp() {
    Listener l;
    l.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(l.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l.fd, 16) != 0 ||
        ::getsockname(l.fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return l;
    l.port = ntohs(a.sin_port);
    return l;
  }
  static Listener unix_socket(const std::string& name) {
    Listener l;
    l.name = name;
    l.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, name.data(), std::min(name.size(), sizeof a.sun_path - 1));
    const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (::bind(l.fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(l.fd, 16) != 0) {
      ::close(l.fd);
      l.fd = -1;
    }
    if (!name.empty() && name[0] != '\0') ::chmod(name.c_str(), 0777);
    return l;
  }
  // Accepts what is pending: the number of connections.
  int accepted() {
    int n = 0;
    for (;;) {
      const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) break;
      ::close(c);
      ++n;
    }
    return n;
  }
  Listener() = default;
  Listener(Listener&& o) noexcept : fd(o.fd), port(o.port), name(std::move(o.name)) { o.fd = -1; }
  ~Listener() {
    if (fd >= 0) ::close(fd);
  }
};

const std::string kConnector = R"(
import socket, sys
port, abstract, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(('127.0.0.1', port))
    s.sendall(b'escaped')
    s.close()
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b'escaped', ('127.0.0.1', port))
def tcp6():
    socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
def netlink():
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
def packet():
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
def unix_abstract():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect('\0' + abstract)
    s.close()
def unix_path():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(path)
    s.close()
for f in [tcp, udp, tcp6, netlink, packet, unix_abstract, unix_path]:
    try:
        f()
        print(f.__name__, 'ok')
    except OSError as e:
        print(f.__name__, 'error', e.errno)
)";

TEST_F(plugins_code_sandbox, OpeningSocketsFails) {
  const HostDir dir;
  Listener tcp = Listener::tcp();
  ASSERT_GT(tcp.port, 0);
  const std::string abstract = "tamis-sandbox-test-" + std::to_string(::getpid());
  Listener abs = Listener::unix_socket(std::string(1, '\0') + abstract);
  ASSERT_GE(abs.fd, 0);
  const std::string path = dir.file("sock");
  Listener named = Listener::unix_socket(path);
  ASSERT_GE(named.fd, 0);
  const std::vector<std::string> args = {std::to_string(tcp.port), abstract, path};

  const Direct d = python_direct(kConnector, args);
  EXPECT_EQ(line_value(d.out, "tcp"), "ok") << describe(d);
  EXPECT_EQ(line_value(d.out, "unix_abstract"), "ok") << describe(d);
  EXPECT_EQ(line_value(d.out, "unix_path"), "ok") << describe(d);
  EXPECT_EQ(tcp.accepted(), 1);
  EXPECT_EQ(abs.accepted(), 1);
  EXPECT_EQ(named.accepted(), 1);

  const RunResult r = sandboxed(kConnector, args);
  ASSERT_EQ(r.status, RunStatus::exited) << describe(r);
  for (const char* inet : {"tcp", "udp", "tcp6", "netlink", "packet"})
    EXPECT_EQ(line_value(r.out, inet), "error " + std::to_string(EACCES)) << inet << "\n" << describe(r);  // the seccomp filter
  EXPECT_EQ(line_value(r.out, "unix_abstract"), "error " + std::to_string(ECONNREFUSED)) << describe(r);  // another network namespace
  EXPECT_EQ(line_value(r.out, "unix_path"), "error " + std::to_string(ENOENT)) << describe(r);
  EXPECT_EQ(tcp.accepted(), 0);
  EXPECT_EQ(abs.accepted(), 0);
  EXPECT_EQ(named.accepted(), 0);
}

// ---- environment --------------------------------------------------------------------------------

const std::string kEnvironment = R"(
import os, sys
print('environ', sorted(os.environ.items()))
for path in sys.argv[1:]:
    try:
        with open(path, 'rb') as f:
            print(path, 'read', f.read())
    except OSError as e:
        print(path, 'error', e.errno)
)";

TEST_F(plugins_code_sandbox, ReadingTheEnvironmentFails) {
  const std::string secret = "envsecret" + std::to_string(::getpid());
  ::setenv("TAMIS_SANDBOX_TEST_SECRET", secret.c_str(), 1);
  StandIn standin({"TAMIS_SANDBOX_TEST_SECRET=" + secret});
  ASSERT_TRUE(standin.alive());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // it has exec'd sleep with that environment
  const std::vector<std::string> paths = {"/proc/1/environ", "/proc/" + std::to_string(::getpid()) + "/environ",
                                          "/proc/" + std::to_string(standin.pid) + "/environ", "/proc/self/environ"};

  const Direct d = python_direct(kEnvironment, paths);
  EXPECT_NE(line_value(d.out, "environ").find(secret), std::string::npos) << describe(d);
  if (::geteuid() == 0 || ::getuid() == kNobody) {
    EXPECT_NE(line_value(d.out, paths[2]).find(secret), std::string::npos) << describe(d);
  }

  const RunResult r = sandboxed(kEnvironment, paths);
  ::unsetenv("TAMIS_SANDBOX_TEST_SECRET");
  ASSERT_EQ(r.status, RunStatus::exited) << describe(r);
  EXPECT_EQ(r.out.find(secret), std::string::npos) << describe(r);
  EXPECT_EQ(r.out.find("TAMIS_SANDBOX_TEST_SECRET"), std::string::npos) << describe(r);
  // Only what the sandbox sets.
  EXPECT_EQ(line_value(r.out, "environ"),
            "[('HOME', '/tmp'), ('LANG', 'C.UTF-8'), ('PATH', '/usr/bin'), ('PWD', '/tmp'), ('TAMIS_SANDBOX_NPROC', '" + std::to_string(test_limits().processes) + "')]")
      << describe(r);
}

// ---- limits -------------------------------------------------------------------------------------

const std::string kSleeper = "import sys, time\ntime.sleep(float(sys.argv[1]))\nprint('woke')\n";

TEST_F(plugins_code_sandbox, SleepingPastTheWallLimitIsKilled) {
  const Direct d = python_direct(kSleeper, {"0.5"});  // directly, nothing stops it (30 s shortened)
  EXPECT_EQ(d.out, "woke\n") << describe(d);
  Limits limits = test_limits();
  limits.wall_seconds = 1;
  RunResult r = sandboxed(kSleeper, {"0.2"}, limits);
  EXPECT_EQ(r.status, RunStatus::exited) << describe(r);
  EXPECT_EQ(r.out, "woke\n") << describe(r);

  r = sandboxed(kSleeper, {"30"}, limits);
  EXPECT_EQ(r.status, RunStatus::wall_time) << describe(r);
  EXPECT_EQ(r.out, "") << describe(r);
  EXPECT_LT(r.wall_seconds, 10) << describe(r);
}

const std::string kSpinner = "import sys, time\nwhile time.process_time() < float(sys.argv[1]):\n    pass\nprint('done')\n";

TEST_F(plugins_code_sandbox, ABusyLoopIsKilledAtTheCpuLimit) {
  const Direct d = python_direct(kSpinner, {"1.2"});
  EXPECT_EQ(d.out, "done\n") << describe(d);
  Limits limits = test_limits();
  limits.cpu_seconds = 1;
  limits.wall_seconds = 20;
  const RunResult r = sandboxed(kSpinner, {"1.2"}, limits);
  EXPECT_EQ(r.status, RunStatus::cpu_time) << describe(r);
  EXPECT_EQ(r.out, "") << describe(r);
}

// 64 KiB blocks to fd argv[2], argv[1] times.
const std::string kPrinter = R"(
import os, sys
block = b'x' * 65536
for _ in range(int(sys.argv[1])):
    os.write(int(sys.argv[2]), block)
print('end')
)";

TEST_F(plugins_code_sandbox, HugeOutputIsCutAtTheLimit) {
  const Direct d = python_direct(kPrinter, {"64", "1"});  // 4 MiB directly (the endless one shortened)
  EXPECT_EQ(d.out.size(), (size_t{64} << 16) + 4) << describe(d).substr(0, 300);
  Limits limits = test_limits();
  limits.output_bytes = 1 << 20;
  for (const char* fd : {"1", "2", "3"}) {
    SCOPED_TRACE(std::string("fd ") + fd);
    const RunResult r = sandboxed(kPrinter, {"1000000", fd}, limits);  // 64 GB: endless in practice
    EXPECT_EQ(r.status, RunStatus::output_limit) << status_name(r.status) << " " << r.message;
    EXPECT_TRUE(r.truncated);
    EXPECT_LE(static_cast<int64_t>(r.out.size() + r.err.size() + r.results.size()), limits.output_bytes);
    EXPECT_GT(static_cast<int64_t>(r.out.size() + r.err.size() + r.results.size()), limits.output_bytes / 2);
    EXPECT_LT(r.wall_seconds, 10);
  }
}

const std::string kAllocator = "b = bytes(4 << 30)\nprint('allocated', len(b) >> 30)\n";

TEST_F(plugins_code_sandbox, MemoryBeyondTheLimitIsRefused) {
  const Direct d = python_direct(kAllocator);  // untouched zero pages: 4 GiB of address space, no RAM
  EXPECT_EQ(d.exit_code, 0) << describe(d);
  EXPECT_EQ(line_value(d.out, "allocated"), "4") << describe(d);
  Limits limits = test_limits();
  limits.memory_bytes = int64_t{256} << 20;
  const RunResult r = sandboxed(kAllocator, {}, limits);
  ASSERT_EQ(r.status, RunStatus::exited) << describe(r);
  EXPECT_NE(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("MemoryError"), std::string::npos) << describe(r);
  EXPECT_EQ(line_value(r.out, "allocated"), "") << describe(r);
}

// ---- other runs and tamis's files ---------------------------------------------------------------

// argv[1] 'write': writes argv[2] and stays 1.5 s; 'look': looks for argv[2] for 1.2 s.
const std::string kNeighbour = R"(
import os, sys, time
if sys.argv[1] == 'write':
    with open(sys.argv[2], 'w') as f:
        f.write('mine')
    time.sleep(1.5)
    print('wrote')
else:
    end = time.monotonic() + 1.2
    seen = False
    while not seen and time.monotonic() < end:
        seen = os.path.exists(sys.argv[2])
        time.sleep(0.02)
    print('seen' if seen else 'unseen')
)";

TEST_F(plugins_code_sandbox, ConcurrentRunsDoNotSeeEachOthersFiles) {
  const std::string file = "/tmp/tamis-sandbox-test-neighbour-" + std::to_string(::getpid());
  {
    Direct writer, looker;
    std::thread w([&] { writer = python_direct(kNeighbour, {"write", file}); });
    looker = python_direct(kNeighbour, {"look", file});
    w.join();
    std::filesystem::remove(file);
    EXPECT_EQ(looker.out, "seen\n") << describe(looker);
  }
  RunResult writer, looker;
  std::thread w([&] { writer = sandboxed(kNeighbour, {"write", file}); });
  looker = sandboxed(kNeighbour, {"look", file});
  w.join();
  EXPECT_EQ(writer.status, RunStatus::exited) << describe(writer);
  EXPECT_EQ(writer.out, "wrote\n") << describe(writer);
  EXPECT_EQ(looker.status, RunStatus::exited) << describe(looker);
  EXPECT_EQ(looker.out, "unseen\n") << describe(looker);
  EXPECT_FALSE(exists(file));
  std::filesystem::remove(file);
}

// The fds open in the program, and writes to the numbers in argv[1] (comma-separated).
const std::string kFdWriter = R"(
import os, sys
print('fds', ' '.join(sorted(os.listdir('/proc/self/fd'), key=int)))
hits = []
for fd in [int(x) for x in sys.argv[1].split(',')]:
    try:
        os.write(fd, b'ESCAPED')
        hits.append(fd)
    except OSError:
        pass
print('written', ' '.join(map(str, hits)))
)";

TEST_F(plugins_code_sandbox, OpenFilesOfTamisDoNotReachTheRun) {
  const HostDir dir;
  const std::string path = dir.file("output.jsonl");
  write_file(path, "");
  // No O_CLOEXEC: inherited by whatever this process spawns. At fd 9 or above (fds 0-4 are the run's own).
  const int first = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(first, 0);
  const int fd = ::fcntl(first, F_DUPFD, 9);
  ::close(first);
  ASSERT_GE(fd, 9);
  ASSERT_LE(fd, 20);

  // Directly: only to that fd (the others may be this test's own).
  const Direct d = python_direct(kFdWriter, {std::to_string(fd)});
  EXPECT_EQ(line_value(d.out, "written"), std::to_string(fd)) << describe(d);
  EXPECT_EQ(read_file(path), "ESCAPED");
  ASSERT_EQ(::ftruncate(fd, 0), 0);

  std::string all;
  for (int i = 4; i <= 64; ++i) all += (i > 4 ? "," : "") + std::to_string(i);
  const RunResult r = sandboxed(kFdWriter, {all});
  ::close(fd);
  ASSERT_EQ(r.status, RunStatus::exited) << describe(r);
  EXPECT_EQ(line_value(r.out, "written"), "") << describe(r);
  EXPECT_EQ(read_file(path), "");
  // 0-2, the results pipe (3) and the listing's own fd.
  EXPECT_EQ(line_value(r.out, "fds"), "0 1 2 3 4") << describe(r);
}

}  // namespace
