// A sandbox for untrusted programs (docs/code.md, "The sandbox"): each run is a bubblewrap (bwrap)
// process with its own user, PID, network, IPC, UTS and cgroup namespaces, a read-only view of /usr
// and nothing else of the host's files, a private size-bounded /tmp, an empty environment, a seccomp
// filter (libseccomp) and rlimits (CPU time, address space, file size, open files, processes), killed at
// a wall-clock limit or when it writes more than its output limit. Nothing of the tamis process is
// inherited but the pipes of the run: standard input, output and error, and a results pipe on fd 3.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tamis::code {

struct Limits {
  double cpu_seconds = 10;         // RLIMIT_CPU of every process of the run (SIGXCPU, then SIGKILL 1 s later)
  double wall_seconds = 20;        // the whole run, killed at this wall-clock time
  int64_t memory_bytes = 1 << 30;  // RLIMIT_AS of every process of the run
  int64_t output_bytes = 8 << 20;  // standard output + error + results together; killed past it
  int64_t file_bytes = 16 << 20;   // RLIMIT_FSIZE: the largest file a process may write
  int64_t tmp_bytes = 64 << 20;    // the size of the private /tmp (a tmpfs)
  int64_t processes = 16;          // RLIMIT_NPROC inside the run's own user namespace (set by the program; see run())
  int64_t open_files = 64;         // RLIMIT_NOFILE
};

// How a run ended. `exited`: the program ended by itself (exit code in RunResult::exit_code).
enum class RunStatus { exited, signaled, cpu_time, wall_time, output_limit, sandbox_error };
const char* status_name(RunStatus s);

struct RunResult {
  RunStatus status = RunStatus::sandbox_error;
  int exit_code = -1;  // with `exited`
  int signal = 0;      // with `signaled`
  std::string out, err, results;  // what the run wrote to fd 1, 2 and 3 (together at most output_bytes)
  bool truncated = false;         // output_limit: the run wrote more than that and was killed
  double wall_seconds = 0, cpu_seconds = 0;
  std::string message;  // sandbox_error: what failed (bwrap's own error, or the spawn's)
};

// A file of the host made visible read-only inside every run, at `inside`.
struct Mount {
  std::string host, inside;
};

struct SandboxOptions {
  std::string bwrap = "bwrap";      // found on PATH unless absolute
  std::vector<Mount> mounts;        // besides /usr (and its /bin, /lib, /lib64 links)
  uint32_t sandbox_uid = 65534;     // the user inside (and outside when tamis runs as root: see docs)
};

class Sandbox {
 public:
  using Options = SandboxOptions;

  // Throws tamis::Error naming what is missing and what to do when no sandbox can be made here (no
  // bwrap, no user namespaces, no seccomp): callers refuse to run untrusted code then.
  explicit Sandbox(Options options);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Runs argv (argv[0] a path inside the sandbox) with `input` on its standard input. Thread-safe: runs
  // are independent processes. RLIMIT_NPROC is not set from outside (inherited, it would count every
  // process of the user, and root is exempt): the program sets it first thing, in its own user namespace,
  // from the environment variable TAMIS_SANDBOX_NPROC (the harness does).
  RunResult run(const std::vector<std::string>& argv, const std::string& input, const Limits& limits) const;

  // Why no sandbox can be made here (the constructor's message), or nullopt when one can.
  static std::optional<std::string> unavailable(const Options& options = {});

  const std::string& bwrap_path() const { return bwrap_; }

 private:
  Options options_;
  std::string bwrap_;     // absolute
  std::string seccomp_;   // the compiled BPF filter bwrap loads (--seccomp)
};

}  // namespace tamis::code
