// tamis — the command line. See docs/ and `tamis --help`.
#include <malloc.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "cli/fingerprint.hpp"
#include "cli/numbers.hpp"
#include "cli/op_docs.hpp"
#include "cli/report_command.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "engine/crash_context.hpp"
#include "engine/runner.hpp"
#include "io/atomic_writer.hpp"
#include "pipeline/pipeline.hpp"
#include "plugin/registry.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRunFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

const char* kUsage = R"(tamis — sieve large JSONL prompt pools into clean RL training sets

usage:
  tamis run PIPELINE.yaml [--threads N] [--set stage.param=value ...] [--plugin-path DIR ...]
                          [--dry-run] [--quiet] [--verbose] [--batch-bytes N]
  tamis validate PIPELINE.yaml [--set ...] [--plugin-path DIR ...]
  tamis plugins list [--plugin-path DIR ...]
  tamis plugins info OP [--plugin-path DIR ...]
  tamis plugins docs [--plugin-path DIR ...]     # the op reference (docs/ops.md) as Markdown
  tamis report REPORT.json [-o OUT.html] [--pipeline FILE]  # a finished run as an HTML review page
  tamis fingerprint --group-by FIELD --text FIELD [--human FILE] FILE...  # which model wrote it? (--help)
  tamis PLUGIN COMMAND ARGS...                   # a plugin's own command, e.g. tamis rollout cache stats FILE
  tamis --version

exit codes: 0 success, 1 the run failed (data or plugin error), 2 usage or pipeline-file error,
128 + N interrupted by signal N: 130 SIGINT, 143 SIGTERM, 129 SIGHUP, 131 SIGQUIT (no output written)
)";

struct Args {
  std::vector<std::string> positional;
  std::vector<std::string> plugin_dirs;
  std::vector<tamis::Override> overrides;
  int threads = 0;
  size_t batch_bytes = 0;  // 0: RunOptions' default
  bool dry_run = false, quiet = false, verbose = false;
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "tamis: %s\n\n%s", message.c_str(), kUsage);
  return kExitUsage;
}

// Parses options after the command; returns an exit code, or -1 to go on.
int parse_args(int argc, char** argv, int first, Args& a) {
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)name;
      return argv[++i];
    };
    if (arg == "--threads" || arg == "-j") {
      const char* v = value("--threads");
      if (!v) return usage_error("--threads needs a number");
      long long n = 0;
      if (!tamis::cli::positive(v, 1024, n)) return usage_error(std::string("--threads wants a positive integer, got '") + v + "'");
      a.threads = static_cast<int>(n);
    } else if (arg == "--batch-bytes") {
      const char* v = value("--batch-bytes");
      if (!v) return usage_error("--batch-bytes needs a number");
      long long n = 0;
      if (!tamis::cli::positive(v, 1LL << 30, n))
        return usage_error(std::string("--batch-bytes wants a number of bytes from 1 to 2^30, got '") + v + "'");
      a.batch_bytes = static_cast<size_t>(n);
    } else if (arg == "--set") {
      const char* v = value("--set");
      tamis::Override o;
      if (!v || !tamis::parse_override(v, o))
        return usage_error(std::string("--set wants stage.param=value, got '") + (v ? v : "") + "'");
      a.overrides.push_back(o);
    } else if (arg == "--plugin-path") {
      const char* v = value("--plugin-path");
      if (!v) return usage_error("--plugin-path needs a directory");
      std::error_code ec;
      if (!std::filesystem::is_directory(v, ec)) return usage_error(std::string("--plugin-path ") + v + ": no such directory");
      a.plugin_dirs.emplace_back(v);
    } else if (arg == "--dry-run") {
      a.dry_run = true;
    } else if (arg == "--quiet" || arg == "-q") {
      a.quiet = true;
    } else if (arg == "--verbose" || arg == "-v") {
      a.verbose = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage_error("unknown option '" + arg + "'");
    } else {
      a.positional.push_back(arg);
    }
  }
  return -1;
}

// Loads plugins; prints problems. Returns false when any plugin was refused.
bool load_plugins(const Args& a, tamis::Registry& registry) {
  registry.load_directories(tamis::Registry::default_search_path(a.plugin_dirs));
  for (const auto& problem : registry.problems()) std::fprintf(stderr, "tamis: error: %s\n", problem.c_str());
  return registry.problems().empty();
}

volatile std::sig_atomic_t g_signal = 0;

// SIGINT, SIGTERM, SIGHUP (the terminal went away), SIGQUIT: the first stops the run at the next batch,
// which then unwinds and deletes its temporaries; a second one deletes them from here and exits at
// once. While the outputs are being put in place (a few renames) both wait for it to finish, so that a
// signal never leaves some outputs new and others old.
void on_signal(int sig) {
  g_signal = sig;
  if (tamis::io::committing()) {
    tamis::g_interrupted = true;
    return;
  }
  if (tamis::g_interrupted.exchange(true)) {
    tamis::io::remove_all_temporaries();
    _exit(128 + sig);
  }
}

void write_stderr(const char* text) {
  size_t n = std::strlen(text);
  while (n > 0) {
    const ssize_t w = ::write(STDERR_FILENO, text, n);
    if (w <= 0) return;
    text += w;
    n -= static_cast<size_t>(w);
  }
}

// A crash (in a plugin, most often): say which stage, op, plugin and hook were running on the
// crashing thread (engine/crash_context.hpp), delete the temporaries, then die of the same signal (a
// core dump, the usual exit status). Async-signal-safe: write, unlink, signal, raise.
void on_crash(int sig) {
  const char* stage = tamis::crash::current_stage();
  const char* hook = tamis::crash::current_hook();
  write_stderr("\ntamis: fatal: ");
  write_stderr(sig == SIGSEGV ? "SIGSEGV (invalid memory access)" : sig == SIGBUS ? "SIGBUS (bad memory access)"
               : sig == SIGFPE ? "SIGFPE (arithmetic error)" : sig == SIGILL ? "SIGILL (illegal instruction)"
                               : "SIGABRT (abort)");
  if (stage) {
    write_stderr(" in ");
    write_stderr(stage);
    if (hook) {
      write_stderr(" during ");
      write_stderr(hook);
    }
    write_stderr(": the plugin crashed; no output file was written or changed\n");
  } else {
    write_stderr(" in the tamis engine, outside any stage; no output file was written or changed\n");
  }
  tamis::io::remove_all_temporaries();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);
  // Crashes run on an alternate stack where one was set (a stack overflow leaves none to run on):
  // this thread's here, TBB workers' by the engine.
  tamis::crash::install_alternate_stack();
  struct sigaction crash {};
  crash.sa_handler = on_crash;
  crash.sa_flags = SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&crash.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(sig, &crash, nullptr);
}

int cmd_run(const Args& a, bool validate_only) {
  if (a.positional.size() != 2) return usage_error(std::string(validate_only ? "validate" : "run") + " needs one pipeline file");
  tamis::Registry registry;
  const bool plugins_ok = load_plugins(a, registry);
  tamis::Diagnostics diags;
  tamis::LoadOptions lo;
  lo.overrides = a.overrides;
  const tamis::Pipeline p = tamis::load_pipeline(a.positional[1], registry, lo, diags);
  if (!diags.empty()) {
    std::fputs(diags.format().c_str(), stderr);
    std::fprintf(stderr, "tamis: %zu error%s in %s\n", diags.size(), diags.size() == 1 ? "" : "s", a.positional[1].c_str());
    return kExitUsage;
  }
  if (!plugins_ok) return kExitUsage;
  if (validate_only) {
    std::printf("%s: ok (%zu source%s, %zu stage%s, %zu sink%s)\n", a.positional[1].c_str(), p.sources.size(),
                p.sources.size() == 1 ? "" : "s", p.stages.size(), p.stages.size() == 1 ? "" : "s", p.sinks.size(),
                p.sinks.size() == 1 ? "" : "s");
    return kExitOk;
  }
  if (a.dry_run) {
    std::fputs(tamis::describe_pipeline(p).c_str(), stdout);
    std::fflush(stdout);
  }
  install_signal_handlers();
  tamis::RunOptions ro;
  ro.threads = a.threads;
  if (a.batch_bytes > 0) ro.chunk_bytes = a.batch_bytes;
  ro.progress = !a.quiet && isatty(STDERR_FILENO);
  ro.dry_run = a.dry_run;
  try {
    const tamis::RunTotals t = tamis::run_pipeline(p, ro);
    if (a.dry_run) std::fputs("\ndry run: every record was read and went through the stages; no output was written, and "
                              "stages that would ask a server only counted (their plans below)\n\n", stdout);
    if (!a.quiet) std::fputs(tamis::format_summary(t).c_str(), stdout);
    if (a.dry_run) {
      std::string plans;
      for (const auto& s : t.stages)
        if (!s.report_json.empty()) plans += "  " + s.name + " (" + s.op + "): " + s.report_json + "\n";
      if (!plans.empty()) std::fputs(("\nstage reports (dry run):\n" + plans).c_str(), stdout);
    }
    std::fflush(stdout);
    // After the run (the progress line is gone), even with --quiet: a warning, the exit code stays 0.
    for (const auto& w : t.warnings) std::fprintf(stderr, "tamis: warning: %s\n", w.message().c_str());
    if (tamis::g_interrupted)
      std::fprintf(stderr, "tamis: a signal (%d) arrived while the outputs were being put in place; the run had "
                           "finished, and every output is in place and whole\n", static_cast<int>(g_signal));
    return kExitOk;
  } catch (const tamis::RunError& e) {
    std::fprintf(stderr, "tamis: error: %s\n", e.what());
    if (e.outputs_changed()) {
      std::fprintf(stderr, "tamis: the run failed while putting its outputs in place: see above for which are new\n");
      return kExitRunFailed;
    }
    if (tamis::g_interrupted) return g_signal ? 128 + g_signal : kExitInterrupted;  // 130 SIGINT, 143 SIGTERM, 129, 131
    std::fprintf(stderr, "tamis: the run failed; no output file was written or changed\n");
    return kExitRunFailed;
  } catch (const std::bad_alloc&) {
    // Reading and parsing name the file and line themselves (a RunError); this is the rest: a stage,
    // rendering, a plugin's finish. The temporaries are gone with the unwinding.
    std::fprintf(stderr, "tamis: error: out of memory while running the stages; lower --batch-bytes or --threads, or "
                         "look at the stages that keep state (dedup indexes grow with the input)\n");
    std::fprintf(stderr, "tamis: the run failed; no output file was written or changed\n");
    return kExitRunFailed;
  }
}

int cmd_plugins(const Args& a) {
  if (a.positional.size() < 2) return usage_error("plugins needs 'list', 'info OP' or 'docs'");
  tamis::Registry registry;
  const bool ok = load_plugins(a, registry);
  const std::string& sub = a.positional[1];
  if (sub == "list") {
    std::fputs(tamis::format_op_list(registry).c_str(), stdout);
    return ok ? kExitOk : kExitUsage;
  }
  if (sub == "info") {
    if (a.positional.size() != 3) return usage_error("plugins info needs one op name");
    const auto* op = registry.find(a.positional[2]);
    if (!op) {
      std::string hint = tamis::did_you_mean(a.positional[2], registry.op_names());
      std::fprintf(stderr, "tamis: error: no op named '%s'%s%s\n", a.positional[2].c_str(), hint.empty() ? "" : "; ",
                   hint.c_str());
      return kExitUsage;
    }
    std::fputs(tamis::format_op_info(*op).c_str(), stdout);
    return ok ? kExitOk : kExitUsage;
  }
  if (sub == "docs") {
    std::fputs(tamis::format_op_reference(registry).c_str(), stdout);
    return ok ? kExitOk : kExitUsage;
  }
  return usage_error("unknown plugins command '" + sub + "'");
}

// `tamis PLUGIN COMMAND ARGS...`: a command a plugin offers (tamis_command_desc), found on the default
// plugin search path ($TAMIS_PLUGIN_PATH, then the built-in plugins). Returns -1 when PLUGIN names no
// plugin with commands.
int cmd_plugin_command(int argc, char** argv) {
  tamis::Registry registry;
  registry.load_directories(tamis::Registry::default_search_path({}));
  const std::string plugin = argv[1];
  bool has_commands = false;
  for (const auto* c : registry.commands()) has_commands |= c->plugin->name == plugin;
  if (!has_commands) return -1;
  const tamis::CommandHandle* c = argc >= 3 ? registry.find_command(plugin, argv[2]) : nullptr;
  if (!c) {
    std::string list;
    for (const auto* h : registry.commands())
      if (h->plugin->name == plugin) list += "\n" + tamis::format_command_usage(*h);
    if (argc >= 3 && std::strcmp(argv[2], "--help") != 0 && std::strcmp(argv[2], "-h") != 0) {
      std::fprintf(stderr, "tamis: plugin '%s' has no command '%s'; its commands:\n%s", plugin.c_str(), argv[2], list.c_str());
      return kExitUsage;
    }
    std::fprintf(argc >= 3 ? stdout : stderr, "commands of plugin '%s':\n%s", plugin.c_str(), list.c_str());
    return argc >= 3 ? kExitOk : kExitUsage;
  }
  std::fflush(stdout);
  const int rc = c->desc->run(argc - 3, argv + 3);
  std::fflush(stdout);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  // Batches allocate a few large buffers (record tables, views, rendered output) that glibc would
  // otherwise mmap and munmap every time: with two threads that doubled the page faults and cost ~20%
  // CPU in TLB shootdowns (bench/run.sh). Keep them in the heap; memory stays bounded by the batches
  // in flight.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  if (argc < 2) return usage_error("no command given");
  const std::string cmd = argv[1];
  if (cmd == "--version" || cmd == "version") {
    std::printf("tamis %s (plugin ABI %u)\n", tamis::kVersion, TAMIS_ABI_VERSION);
    return kExitOk;
  }
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (cmd == "fingerprint") {  // its own options: cli/fingerprint.hpp
    try {
      return tamis::cli::fingerprint_main(argc, argv, 2);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tamis: error: %s\n", e.what());
      return kExitRunFailed;
    }
  }
  if (cmd == "report") return tamis::cli::report_main(argc, argv, 2);  // report.json → HTML: cli/report_command.hpp
  if (cmd != "run" && cmd != "validate" && cmd != "plugins" && !cmd.empty() && cmd[0] != '-') {
    try {
      if (const int rc = cmd_plugin_command(argc, argv); rc >= 0) return rc;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tamis: error: %s\n", e.what());
      return kExitRunFailed;
    }
  }
  Args a;
  if (int rc = parse_args(argc, argv, 1, a); rc >= 0) return rc;
  if (a.verbose) tamis::log::set_level(tamis::log::Level::debug);
  if (a.quiet) tamis::log::set_level(tamis::log::Level::warn);
  try {
    if (cmd == "run") return cmd_run(a, false);
    if (cmd == "validate") return cmd_run(a, true);
    if (cmd == "plugins") return cmd_plugins(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tamis: error: %s\n", e.what());
    return kExitRunFailed;
  }
  return usage_error("unknown command '" + cmd + "'");
}
