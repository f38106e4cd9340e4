// The end of a run as a two-phase commit (core/src/io/output_set.hpp): sinks, the report and the side
// files plugins write in finish are put in place together or not at all; a crash between two renames
// is finished by the next run; signals and crashes leave no temporaries, and a crash names its stage.
// Faults come from fixture ops (tests/sdk/fixtures/test_ops.cpp: test.at_finish, test.fail_on) and
// from the engine's fault-injection hook TAMIS_FAULT_INJECT (docs/reliability.md).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <tamis/temp_file.hpp>

#include "test_support.hpp"

namespace tamis::test {
namespace {

const fs::path kFixtures = FIXTURE_PLUGINS;

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }
#define EXPECT_HAS(hay, needle) EXPECT_TRUE(contains(hay, needle)) << "missing: " << (needle) << "\nin:\n" << (hay)

// Three records, one rejected by filter.length; `stages` after it. Sinks: kept, rejected, report.
std::string pipeline(const std::string& stages) {
  return "version: 1\n"
         "sources:\n  in: { path: in.jsonl, id: id }\n"
         "stages:\n"
         "  len:\n    uses: filter.length\n    with: { field: p, min: 2 }\n" +
         stages +
         "sinks:\n"
         "  kept: { path: out/kept.jsonl }\n"
         "  rejected: { path: out/rejected.jsonl, rejected: true }\n"
         "  report: { path: out/report.json, report: true }\n";
}

void write_inputs(const TempDir& d, const std::string& stages) {
  write_file(d / "in.jsonl", "{\"id\":\"a\",\"p\":\"long\"}\n{\"id\":\"b\",\"p\":\"x\"}\n{\"id\":\"c\",\"p\":\"longer\"}\n");
  write_file(d / "p.yaml", pipeline(stages));
}

// Outputs of an earlier run, to see whether a later one changed them.
void write_old_outputs(const TempDir& d) {
  fs::create_directories(d / "out");
  write_file(d / "out/kept.jsonl", "old kept\n");
  write_file(d / "out/rejected.jsonl", "old rejected\n");
  write_file(d / "out/report.json", "old report\n");
  write_file(d / "out/side.txt", "old side file\n");
}

void expect_old_outputs(const TempDir& d) {
  EXPECT_EQ(read_file(d / "out/kept.jsonl"), "old kept\n");
  EXPECT_EQ(read_file(d / "out/rejected.jsonl"), "old rejected\n");
  EXPECT_EQ(read_file(d / "out/report.json"), "old report\n");
  EXPECT_EQ(read_file(d / "out/side.txt"), "old side file\n");
}

// Files in `dir` whose name says they are tamis's temporaries or commit journals.
std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (contains(n, ".tamis-tmp-") || contains(n, ".tamis-commit-")) out.push_back(n);
  }
  return out;
}

CommandResult run_in(const TempDir& d, const std::string& env = "", const std::string& extra = "") {
  return run_shell("cd " + d.path().string() + " && " + env + " " + tamis_bin() + " run p.yaml --quiet --plugin-path " +
                   (kFixtures / "ops").string() + " " + extra + "; echo \"rc=$?\"");
}

// A side file written in finish by one stage is not put in place when a later stage fails: before, the
// SDK renamed it at once, so a failed run changed it while saying nothing was written.
TEST(Commit, SideFileOfAFailedRunIsNotWritten) {
  TempDir d;
  write_inputs(d, "  side:\n    uses: test.at_finish\n    inputs: len\n    with: { write: out/side.txt }\n"
                  "  bad:\n    uses: test.at_finish\n    inputs: side\n    with: { fail: true }\n");
  write_old_outputs(d);
  const auto r = run_in(d);
  EXPECT_HAS(r.out, "rc=1");
  EXPECT_HAS(r.err, "failing in finish on purpose");
  EXPECT_HAS(r.err, "no output file was written or changed");
  expect_old_outputs(d);
  EXPECT_TRUE(leftovers(d / "out").empty()) << leftovers(d / "out").front();

  // Without the failure, the side file goes in place with the sinks.
  write_inputs(d, "  side:\n    uses: test.at_finish\n    inputs: len\n    with: { write: out/side.txt }\n");
  const auto ok = run_in(d);
  EXPECT_HAS(ok.out, "rc=0");
  EXPECT_EQ(read_file(d / "out/side.txt"), "side file of the run\n");
  EXPECT_EQ(read_lines(d / "out/kept.jsonl").size(), 2u);
  EXPECT_TRUE(leftovers(d / "out").empty());
}

// translate.export's batch file is a side file too: before, it was renamed in finish.
TEST(Commit, TranslationBatchFileOfAFailedRunIsNotWritten) {
  TempDir d;
  write_inputs(d, "  export:\n    uses: translate.export\n    inputs: len\n    with: { path: out/side.txt, model: m }\n"
                  "  bad:\n    uses: test.at_finish\n    inputs: export\n    with: { fail: true }\n");
  write_old_outputs(d);
  const auto r = run_in(d);
  EXPECT_HAS(r.out, "rc=1");
  expect_old_outputs(d);
  EXPECT_TRUE(leftovers(d / "out").empty()) << leftovers(d / "out").front();
}

// One output that cannot be put in place (its target became a directory while the run ran) is found
// before the first rename: no other output changes, and the message says so truthfully. Before, the
// report and the sinks before it in file order were already replaced.
TEST(Commit, AnOutputThatCannotBePutInPlaceChangesNothing) {
  TempDir d;
  write_inputs(d, "  side:\n    uses: test.at_finish\n    inputs: len\n"
                  "    with: { write: out/side.txt, mkdir: out/rejected.jsonl }\n");
  write_old_outputs(d);
  const auto r = run_in(d);
  EXPECT_HAS(r.out, "rc=1");
  EXPECT_HAS(r.err, "rejected.jsonl' in place: it is now a directory");
  EXPECT_HAS(r.err, "no output file was written or changed");
  EXPECT_EQ(read_file(d / "out/kept.jsonl"), "old kept\n");
  EXPECT_EQ(read_file(d / "out/report.json"), "old report\n");
  EXPECT_EQ(read_file(d / "out/side.txt"), "old side file\n");
  EXPECT_TRUE(leftovers(d / "out").empty());
}

// A crash between two renames (SIGKILL injected after the first) leaves a journal; the next run finds
// it, puts the rest of that run's complete outputs in place, and says which files it put in place.
TEST(Commit, ACrashBetweenRenamesIsFinishedAndReportedByTheNextRun) {
  TempDir d;
  write_inputs(d, "  side:\n    uses: test.at_finish\n    inputs: len\n    with: { write: out/side.txt }\n");
  write_old_outputs(d);
  const auto killed = run_in(d, "TAMIS_FAULT_INJECT=kill-after-rename:1");
  EXPECT_HAS(killed.out, "rc=137");  // 128 + SIGKILL
  // The first output in rename order (the kept sink) is new; the rest are old.
  EXPECT_EQ(read_lines(d / "out/kept.jsonl").size(), 2u);
  EXPECT_EQ(read_file(d / "out/rejected.jsonl"), "old rejected\n");
  EXPECT_EQ(read_file(d / "out/side.txt"), "old side file\n");
  EXPECT_EQ(read_file(d / "out/report.json"), "old report\n");
  const auto left = leftovers(d / "out");
  ASSERT_EQ(left.size(), 4u);  // the journal and three temporaries

  // The next run (here one that fails later, so that what it finds is what it leaves) finishes it.
  write_inputs(d, "  side:\n    uses: test.at_finish\n    inputs: len\n    with: { write: out/side.txt, fail: true }\n");
  const auto next = run_in(d);
  EXPECT_HAS(next.out, "rc=1");
  EXPECT_HAS(next.err, "died while putting its outputs in place");
  EXPECT_HAS(next.err, "1 of 4 files were in place");
  EXPECT_HAS(next.err, "rejected.jsonl");
  EXPECT_HAS(next.err, "Every output of that run is now whole and from that run");
  EXPECT_EQ(read_lines(d / "out/rejected.jsonl").size(), 1u);
  EXPECT_EQ(read_file(d / "out/side.txt"), "side file of the run\n");
  EXPECT_HAS(read_file(d / "out/report.json"), "\"kept\": 2");
  EXPECT_TRUE(leftovers(d / "out").empty()) << leftovers(d / "out").front();
}

// A rename that fails halfway stops the commit; the message names what is in place and what is not
// (not "nothing was written"), and the journal lets the next run finish.
TEST(Commit, ARenameFailureSaysWhichOutputsAreInPlace) {
  TempDir d;
  write_inputs(d, "");
  write_old_outputs(d);
  const auto r = run_in(d, "TAMIS_FAULT_INJECT=rename-fails-at:2");
  EXPECT_HAS(r.out, "rc=1");
  EXPECT_HAS(r.err, "In place from this run: " + (d / "out/kept.jsonl").string());
  EXPECT_HAS(r.err, "Not in place (still as they were): " + (d / "out/rejected.jsonl").string());
  EXPECT_FALSE(contains(r.err, "no output file was written or changed")) << r.err;
  EXPECT_EQ(read_file(d / "out/rejected.jsonl"), "old rejected\n");
  const auto next = run_in(d);
  EXPECT_HAS(next.out, "rc=0");
  EXPECT_HAS(next.err, "1 of 3 files were in place");
  EXPECT_TRUE(leftovers(d / "out").empty());
}

// Temporaries of tamis processes that died (a SIGKILL mid-run) are removed by the next run writing to
// that folder; those of live processes and of other machines are left alone.
TEST(Commit, StaleTemporariesOfDeadProcessesAreRemoved) {
  TempDir d;
  write_inputs(d, "");
  fs::create_directories(d / "out");
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);  // a PID that no longer runs
  const std::string host = files::host_name_for_files();
  const std::string dead = ".kept.jsonl.tamis-tmp-" + std::to_string(child) + "." + host;
  const std::string live = ".kept.jsonl.tamis-tmp-" + std::to_string(::getpid()) + "." + host;
  const std::string elsewhere = ".kept.jsonl.tamis-tmp-" + std::to_string(child) + ".another-machine";
  const std::string foreign = ".kept.jsonl.tmp-" + std::to_string(child);
  for (const auto& n : {dead, live, elsewhere, foreign}) write_file(d / "out" / n, "partial\n");
  const auto r = run_shell("cd " + d.path().string() + " && " + tamis_bin() + " run p.yaml; echo \"rc=$?\"");
  EXPECT_HAS(r.out, "rc=0");
  EXPECT_HAS(r.err, "removed 1 temporary left by tamis processes that no longer run");
  EXPECT_FALSE(fs::exists(d / "out" / dead));
  EXPECT_TRUE(fs::exists(d / "out" / live));
  EXPECT_TRUE(fs::exists(d / "out" / elsewhere));
  EXPECT_TRUE(fs::exists(d / "out" / foreign));
}

// SIGHUP and SIGQUIT stop a run like SIGINT: no output, no temporary, exit 128 + the signal.
TEST(Commit, HangupAndQuitStopTheRunCleanly) {
  for (const auto& [sig, code] : {std::pair<std::string, int>{"HUP", 129}, {"QUIT", 131}}) {
    TempDir d;
    write_inputs(d, "  slow:\n    uses: test.at_finish\n    inputs: len\n    with: { wait_for: go }\n");
    write_old_outputs(d);
    // The stage waits for the file `go`: signal the run once its temporaries exist, then let it go on.
    const std::string script =
        "cd " + d.path().string() + " || exit 99; " + tamis_bin() + " run p.yaml --plugin-path " + (kFixtures / "ops").string() +
        " > run.out 2> run.err & pid=$!; "
        "i=0; while ! ls out/.kept.jsonl.tamis-tmp-* >/dev/null 2>&1 && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; "
        "kill -" + sig + " $pid; sleep 0.2; touch go; wait $pid; echo \"rc=$?\"";
    const auto r = run_shell(script);
    EXPECT_EQ(r.out, "rc=" + std::to_string(code) + "\n") << sig << ": " << read_file(d / "run.err");
    EXPECT_HAS(read_file(d / "run.err"), "interrupted");
    expect_old_outputs(d);
    EXPECT_TRUE(leftovers(d / "out").empty()) << sig << ": " << leftovers(d / "out").front();
  }
}

// A plugin that crashes: tamis names the stage, op, plugin file and hook, deletes its temporaries and
// dies of the same signal. A stack overflow too: the handler runs on the thread's alternate stack.
TEST(Commit, APluginCrashNamesItsStageAndLeavesNoTemporaries) {
  for (const auto& [how, code] : {std::pair<std::string, int>{"segv", 128 + SIGSEGV}, {"abort", 128 + SIGABRT},
                                   {"overflow", 128 + SIGSEGV}}) {
    TempDir d;
    write_inputs(d, "  bad:\n    uses: test.fail_on\n    inputs: len\n    with: { id: c, crash: " + how + " }\n");
    write_old_outputs(d);
    const auto r = run_shell("cd " + d.path().string() + " && ulimit -c 0; " + tamis_bin() + " run p.yaml --plugin-path " +
                             (kFixtures / "ops").string() + "; echo \"rc=$?\"");
    EXPECT_HAS(r.out, "rc=" + std::to_string(code));
    EXPECT_HAS(r.err, "tamis: fatal: SIG");
    EXPECT_HAS(r.err, "in stage 'bad' (op test.fail_on, plugin " + (kFixtures / "ops").string());
    EXPECT_HAS(r.err, "during process");
    expect_old_outputs(d);
    EXPECT_TRUE(leftovers(d / "out").empty()) << how << ": " << leftovers(d / "out").front();
  }
}

}  // namespace
}  // namespace tamis::test
