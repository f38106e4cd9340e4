#include "sandbox.hpp"

#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tamis/sdk.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

namespace tamis::code {

namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// An fd closed when it goes out of scope.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

std::string find_on_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return std::filesystem::exists(name) ? name : std::string();
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "/usr/bin:/bin";
  while (!rest.empty()) {
    const size_t colon = rest.find(':');
    const std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// The seccomp filter (docs/code.md, "The sandbox"): everything is allowed but what a test program has no
// use for and an escape would: other sockets than AF_UNIX, tracing and reading other processes' memory,
// namespaces and mounts, the kernel's keyring, BPF, perf, userfaultfd, io_uring, modules, reboot. The
// namespaces already cut most of these off; the filter is the second wall. Refused calls fail with EPERM
// (EACCES for socket), so a program sees an error, not a crash.
std::string compile_filter() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) throw Error("the sandbox cannot be made: seccomp_init failed (libseccomp)");
  struct Guard {
    scmp_filter_ctx c;
    ~Guard() { seccomp_release(c); }
  } guard{ctx};
  const char* denied[] = {
      "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
      "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "open_tree", "move_mount", "fsopen",
      "fsconfig", "fsmount", "fspick", "mount_setattr",
      "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
      "io_uring_setup", "io_uring_enter", "io_uring_register",
      "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
      "swapon", "swapoff", "syslog", "acct", "quotactl", "open_by_handle_at", "name_to_handle_at",
      "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "personality", "vhangup",
  };
  for (const char* name : denied) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) != 0)
      throw Error(std::string("the sandbox cannot be made: seccomp_rule_add(") + name + ") failed");
  }
  if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX)) != 0)
    throw Error("the sandbox cannot be made: seccomp_rule_add(socket) failed");
  // The BPF program, through a memory file.
  Fd mem(static_cast<int>(::syscall(SYS_memfd_create, "tamis-seccomp", MFD_CLOEXEC)));
  if (mem.fd < 0) throw Error("the sandbox cannot be made: " + errno_text("memfd_create"));
  if (seccomp_export_bpf(ctx, mem.fd) != 0) throw Error("the sandbox cannot be made: seccomp_export_bpf failed");
  const off_t size = ::lseek(mem.fd, 0, SEEK_END);
  std::string bpf(static_cast<size_t>(size), '\0');
  if (::pread(mem.fd, bpf.data(), bpf.size(), 0) != size) throw Error("the sandbox cannot be made: " + errno_text("reading the seccomp filter"));
  return bpf;
}

void set_limit(int resource, rlim_t soft, rlim_t hard) {
  rlimit l{soft, hard};
  ::setrlimit(resource, &l);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

const char* status_name(RunStatus s) {
  switch (s) {
    case RunStatus::exited: return "exited";
    case RunStatus::signaled: return "signaled";
    case RunStatus::cpu_time: return "cpu_time";
    case RunStatus::wall_time: return "wall_time";
    case RunStatus::output_limit: return "output_limit";
    case RunStatus::sandbox_error: return "sandbox_error";
  }
  return "?";
}

Sandbox::Sandbox(Options options) : options_(std::move(options)) {
  bwrap_ = find_on_path(options_.bwrap);
  if (bwrap_.empty())
    throw Error("the sandbox cannot be made: bubblewrap (" + options_.bwrap +
                ") is not installed; install it (Debian: apt-get install bubblewrap) — untrusted code is never run unprotected");
  seccomp_ = compile_filter();
  // A trial run: bwrap fails here when user namespaces are not allowed (or /usr cannot be mounted).
  Limits trial;
  trial.wall_seconds = 10;
  const RunResult r = run({"/usr/bin/true"}, "", trial);
  if (r.status != RunStatus::exited || r.exit_code != 0) {
    std::string why = r.message.empty() ? r.err : r.message;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw Error("the sandbox cannot be made: a trial run of " + bwrap_ + " failed (" + std::string(status_name(r.status)) +
                (r.status == RunStatus::exited ? " " + std::to_string(r.exit_code) : std::string()) + ": " + why +
                "); bubblewrap needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
                "user.max_user_namespaces > 0) — untrusted code is never run unprotected");
  }
}

Sandbox::~Sandbox() = default;

std::optional<std::string> Sandbox::unavailable(const Options& options) {
  try {
    Sandbox probe(options);
    return std::nullopt;
  } catch (const Error& e) {
    return std::string(e.what());
  }
}

RunResult Sandbox::run(const std::vector<std::string>& argv, const std::string& input, const Limits& limits) const {
  RunResult result;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string uid = std::to_string(options_.sandbox_uid);

  // bwrap's command line, built before the fork (the child may only call async-signal-safe functions).
  std::vector<std::string> args = {
      bwrap_, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
      "--disable-userns", "--die-with-parent", "--new-session", "--uid", uid, "--gid", uid, "--hostname", "sandbox",
      "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
      "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
      "--proc", "/proc", "--dev", "/dev",
      "--perms", "1777", "--size", std::to_string(limits.tmp_bytes), "--tmpfs", "/tmp", "--chdir", "/tmp",
      "--clearenv", "--setenv", "PATH", "/usr/bin", "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8",
      "--setenv", "TAMIS_SANDBOX_NPROC", std::to_string(limits.processes),
      "--seccomp", "4"};
  for (const Mount& m : options_.mounts) {
    args.insert(args.end(), {"--ro-bind", m.host, m.inside});
  }
  // bwrap's own root and /dev are tmpfs without a size: read-only, so that /tmp (sized) is the only place
  // a run can write (after the mounts, which create their folders in the root).
  args.insert(args.end(), {"--remount-ro", "/", "--remount-ro", "/dev"});
  args.push_back("--");
  args.insert(args.end(), argv.begin(), argv.end());
  std::vector<char*> cargv;
  for (std::string& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  char* cenv[] = {nullptr};

  // The run's channels: stdin is a socket (written with MSG_NOSIGNAL: a program that closes its input
  // early does not SIGPIPE tamis); out, err and results are pipes; the filter goes through a pipe too.
  int in_pair[2], out_pipe[2], err_pipe[2], res_pipe[2], sec_pipe[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) return result.message = errno_text("socketpair"), result;
  Fd in_parent(in_pair[0]), in_child(in_pair[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return result.message = errno_text("pipe"), result;
  Fd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return result.message = errno_text("pipe"), result;
  Fd err_read(err_pipe[0]), err_write(err_pipe[1]);
  if (::pipe2(res_pipe, O_CLOEXEC) != 0) return result.message = errno_text("pipe"), result;
  Fd res_read(res_pipe[0]), res_write(res_pipe[1]);
  if (::pipe2(sec_pipe, O_CLOEXEC) != 0) return result.message = errno_text("pipe"), result;
  Fd sec_read(sec_pipe[0]), sec_write(sec_pipe[1]);
  if (seccomp_.size() > 60000) return result.message = "the seccomp filter does not fit a pipe", result;
  if (::write(sec_write.fd, seccomp_.data(), seccomp_.size()) != static_cast<ssize_t>(seccomp_.size()))
    return result.message = errno_text("writing the seccomp filter"), result;
  sec_write.reset();

  const auto cpu = static_cast<rlim_t>(std::max(1.0, std::ceil(limits.cpu_seconds)));
  const bool root = ::geteuid() == 0;
  const uid_t sandbox_uid = options_.sandbox_uid;
  const pid_t pid = ::fork();
  if (pid < 0) return result.message = errno_text("fork"), result;
  if (pid == 0) {
    // The child: async-signal-safe calls only, then bwrap.
    ::dup2(in_child.fd, 0);
    ::dup2(out_write.fd, 1);
    ::dup2(err_write.fd, 2);
    ::dup2(res_write.fd, 3);
    ::dup2(sec_read.fd, 4);
    ::syscall(SYS_close_range, 5U, ~0U, 0U);  // none of tamis's files (its outputs) reach the run
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    set_limit(RLIMIT_CPU, cpu, cpu + 1);
    set_limit(RLIMIT_AS, static_cast<rlim_t>(limits.memory_bytes), static_cast<rlim_t>(limits.memory_bytes));
    set_limit(RLIMIT_FSIZE, static_cast<rlim_t>(limits.file_bytes), static_cast<rlim_t>(limits.file_bytes));
    set_limit(RLIMIT_NOFILE, static_cast<rlim_t>(limits.open_files), static_cast<rlim_t>(limits.open_files));
    set_limit(RLIMIT_CORE, 0, 0);
    if (root) {
      // Root is exempt from RLIMIT_NPROC and owns the host's files: the run starts as an unprivileged
      // user outside its namespace too.
      if (::syscall(SYS_setgroups, 0, nullptr) != 0 || ::syscall(SYS_setresgid, sandbox_uid, sandbox_uid, sandbox_uid) != 0 ||
          ::syscall(SYS_setresuid, sandbox_uid, sandbox_uid, sandbox_uid) != 0) {
        static const char msg[] = "tamis sandbox: cannot drop to the sandbox user\n";
        [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
        ::_exit(125);
      }
    }
    ::execve(cargv[0], cargv.data(), cenv);
    static const char msg[] = "tamis sandbox: cannot execute bwrap\n";
    [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
    ::_exit(126);
  }
  in_child.reset();
  out_write.reset();
  err_write.reset();
  res_write.reset();
  sec_read.reset();

  // Feed the input, gather the output, until every channel is closed, the wall clock runs out or the
  // output is too long.
  const auto deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(limits.wall_seconds));
  size_t written = 0;
  if (input.empty()) in_parent.reset();
  bool killed = false;
  int64_t total = 0;
  char buf[65536];
  for (;;) {
    pollfd fds[4];
    std::string* sinks[4];
    int* owners[4];
    nfds_t n = 0;
    if (in_parent.fd >= 0) {
      fds[n] = {in_parent.fd, POLLOUT, 0};
      sinks[n] = nullptr;
      owners[n++] = &in_parent.fd;
    }
    for (auto [fd, sink] : {std::pair{&out_read, &result.out}, {&err_read, &result.err}, {&res_read, &result.results}})
      if (fd->fd >= 0) {
        fds[n] = {fd->fd, POLLIN, 0};
        sinks[n] = sink;
        owners[n++] = &fd->fd;
      }
    if (n == 0 || (n == 1 && in_parent.fd >= 0 && killed)) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0 && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
      result.status = RunStatus::wall_time;
      in_parent.reset();
      continue;
    }
    const int ready = ::poll(fds, n, killed ? 1000 : static_cast<int>(std::min<int64_t>(left, 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready == 0 && killed) break;  // a grandchild keeps a pipe open: give up on it
    for (nfds_t i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (!sinks[i]) {  // the input
        const ssize_t w = ::send(fds[i].fd, input.data() + written, std::min<size_t>(input.size() - written, 65536), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) in_parent.reset();  // the program closed its input
        else if (written == input.size()) in_parent.reset();
        continue;
      }
      const ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        ::close(*owners[i]);
        *owners[i] = -1;
        continue;
      }
      const int64_t room = limits.output_bytes - total;
      sinks[i]->append(buf, static_cast<size_t>(std::min<int64_t>(r, std::max<int64_t>(room, 0))));
      total += r;
      if (total > limits.output_bytes && !killed) {
        ::kill(pid, SIGKILL);
        killed = true;
        result.truncated = true;
        result.status = RunStatus::output_limit;
        in_parent.reset();
      }
    }
  }
  if (!killed && std::chrono::steady_clock::now() >= deadline) {
    ::kill(pid, SIGKILL);
    killed = true;
    result.status = RunStatus::wall_time;
  }
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  result.wall_seconds = seconds_since(t0);
  result.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  if (killed) return result;
  // bwrap exits with its command's status, or 128 + the signal that ended the command.
  if (WIFSIGNALED(status)) {
    result.status = RunStatus::signaled;
    result.signal = WTERMSIG(status);
    return result;
  }
  const int code = WEXITSTATUS(status);
  if (code == 125 || code == 126 || (code == 1 && result.err.rfind("bwrap:", 0) == 0)) {
    result.status = RunStatus::sandbox_error;
    result.message = result.err;
    return result;
  }
  if (code > 128 && code < 128 + 65) {
    const int sig = code - 128;
    if (sig == SIGXCPU || (sig == SIGKILL && result.cpu_seconds >= limits.cpu_seconds)) {
      result.status = RunStatus::cpu_time;
    } else {
      result.status = RunStatus::signaled;
      result.signal = sig;
    }
    return result;
  }
  result.status = RunStatus::exited;
  result.exit_code = code;
  return result;
}

}  // namespace tamis::code
