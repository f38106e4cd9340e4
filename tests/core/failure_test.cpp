// Failed and interrupted runs: exit 1 (or 130), a message naming the file and line with an excerpt,
// and no output left behind: no partial output file, no temporary file, pre-existing outputs unchanged.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include <tamis/json.hpp>

#include "core_test_helpers.hpp"

namespace tamis::test {
namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

#define EXPECT_HAS(hay, needle) EXPECT_TRUE(contains(hay, needle)) << "missing: " << (needle) << "\nin:\n" << (hay)

// Every sink kind, all under out/.
std::string pipeline(const std::string& source_opts) {
  return "version: 1\n"
         "sources:\n"
         "  s: { path: s.jsonl" + source_opts + " }\n"
         "stages:\n"
         "  len:\n"
         "    uses: filter.length\n"
         "    with: { field: problem, min: 20, annotate: true }\n"
         "sinks:\n"
         "  kept:     { path: out/kept.jsonl }\n"
         "  packed:   { path: out/kept.jsonl.zst }\n"
         "  rejected: { path: out/rejected.jsonl, rejected: true }\n"
         "  errors:   { path: out/errors.jsonl, errors: true }\n"
         "  ledger:   { path: out/ledger.jsonl, ledger: true }\n"
         "  report:   { path: out/report.json, report: true }\n";
}

// ~20 MB of records (several 4 MiB batches), then `last` as the final line.
std::string big_input(const std::string& last, size_t& lines) {
  TextGen gen(5);
  std::string out;
  lines = 0;
  while (out.size() < (20u << 20)) {
    ++lines;
    out += "{\"id\":\"r" + std::to_string(lines) + "\",\"problem\":\"" + gen.text(100 + gen.below(400)) + "\"}\n";
  }
  ++lines;
  out += last + "\n";
  return out;
}

void expect_no_output(const TempDir& t) {
  EXPECT_EQ(list_files(t / "out"), std::vector<std::string>{}) << "a failed run left files behind";
  EXPECT_FALSE(has_temporary(t.path())) << "a temporary file was left behind";
}

TEST(Failure, MalformedLastLineOfALargeFileLeavesNoOutput) {
  TempDir t;
  size_t lines = 0;
  write_file(t / "s.jsonl", big_input("{\"id\":\"last\",\"problem\":\"never closed", lines));
  write_file(t / "p.yaml", pipeline(""));  // on_error: fail is the default
  const auto r = run_tamis({"run", (t / "p.yaml").string(), "--threads", "2"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_HAS(r.err, "tamis: error: s.jsonl:" + std::to_string(lines) + ": invalid JSON: ");
  EXPECT_HAS(r.err, "\n  | {\"id\":\"last\",\"problem\":\"never closed\n");
  EXPECT_HAS(r.err, "set `on_error: skip` on source 's'");
  EXPECT_HAS(r.err, "no output file was written or changed");
  expect_no_output(t);
}

TEST(Failure, PreExistingOutputsAreLeftUnchanged) {
  TempDir t;
  size_t lines = 0;
  write_file(t / "s.jsonl", big_input("not json", lines));
  write_file(t / "p.yaml", pipeline(""));
  write_file(t / "out/kept.jsonl", "previous kept\n");
  write_file(t / "out/ledger.jsonl", "previous ledger\n");
  write_file(t / "out/report.json", "{}\n");
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_HAS(r.err, "s.jsonl:" + std::to_string(lines) + ": invalid JSON");
  EXPECT_EQ(list_files(t / "out"), (std::vector<std::string>{"kept.jsonl", "ledger.jsonl", "report.json"}));
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), "previous kept\n");
  EXPECT_EQ(read_file(t / "out/ledger.jsonl"), "previous ledger\n");
  EXPECT_EQ(read_file(t / "out/report.json"), "{}\n");
  EXPECT_FALSE(has_temporary(t.path()));
}

TEST(Failure, LongBadLineExcerptIsShortened) {
  TempDir t;
  const std::string bad = "{\"id\":\"x\",\"problem\":\"" + std::string(500, 'y') + "\",}";
  write_file(t / "s.jsonl", "{\"id\":\"ok\",\"problem\":\"fine fine fine fine fine\"}\n\n" + bad + "\n");
  write_file(t / "p.yaml", pipeline(""));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_HAS(r.err, "tamis: error: s.jsonl:3: invalid JSON: ");
  EXPECT_HAS(r.err, "\n  | " + bad.substr(0, 120) + " ...\n");
  EXPECT_FALSE(contains(r.err, bad.substr(0, 121))) << "the excerpt is at most 120 bytes";
  expect_no_output(t);
}

TEST(Failure, InvalidUtf8IsAnErrorLikeMalformedJson) {
  const std::vector<std::string> bad = {
      "{\"id\":\"a\",\"problem\":\"caf\xe9 latin-1\"}",     // latin-1 byte
      "{\"id\":\"b\",\"problem\":\"\xc0\xaf overlong\"}",    // overlong encoding of '/'
      "{\"id\":\"c\",\"problem\":\"\xed\xa0\x80 surrogate\"}",  // UTF-16 surrogate encoded in UTF-8
      "{\"id\":\"d\",\"pro\xff\":\"in a key\"}",            // in a key
  };
  for (const auto& line : bad) {
    SCOPED_TRACE(line);
    TempDir t;
    write_file(t / "s.jsonl", "{\"id\":\"ok\",\"problem\":\"fine fine fine fine fine\"}\n" + line + "\n");
    write_file(t / "p.yaml", pipeline(""));
    auto r = run_tamis({"run", (t / "p.yaml").string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_HAS(r.err, "tamis: error: s.jsonl:2: invalid UTF-8 in the line\n  | ");
    expect_no_output(t);
    // With on_error: skip the line goes to the errors sink, its bytes kept exactly (base64).
    write_file(t / "p.yaml", pipeline(", on_error: skip"));
    r = run_tamis({"run", (t / "p.yaml").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto errors = read_lines(t / "out/errors.jsonl");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(json_int(errors[0], "line"), 2);
    EXPECT_EQ(json_string(errors[0], "error"), "invalid UTF-8 in the line");
    const std::string b64 = json_string(errors[0], "text_base64");
    const auto decoded = run_shell("printf '%s' '" + b64 + "' | base64 -d");
    EXPECT_EQ(decoded.out, line);
    const auto ledger = read_lines(t / "out/ledger.jsonl");
    ASSERT_EQ(ledger.size(), 2u);
    EXPECT_EQ(ledger[1], "{\"id\":\"s.jsonl:2\",\"source\":\"s\",\"file\":\"s.jsonl\",\"line\":2,\"fate\":\"error\","
                         "\"reason\":\"unreadable\",\"detail\":\"invalid UTF-8 in the line\"}");
  }
}

TEST(Failure, NonObjectLinesAreErrors) {
  for (const std::string line : {"[1,2]", "\"just a string\"", "42", "null", "true"}) {
    SCOPED_TRACE(line);
    TempDir t;
    write_file(t / "s.jsonl", "{\"id\":\"ok\",\"problem\":\"fine fine fine fine fine\"}\n" + line + "\n");
    write_file(t / "p.yaml", pipeline(""));
    auto r = run_tamis({"run", (t / "p.yaml").string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_HAS(r.err, "tamis: error: s.jsonl:2: the line is JSON but not an object (each line must be one JSON object)\n  | " +
                          line + "\n");
    expect_no_output(t);
    write_file(t / "p.yaml", pipeline(", on_error: skip"));
    r = run_tamis({"run", (t / "p.yaml").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(t / "out/errors.jsonl"),
              "{\"source\":\"s\",\"file\":\"s.jsonl\",\"line\":2,\"error\":\"the line is JSON but not an object (each line "
              "must be one JSON object)\",\"text\":" + json::quote(line) + "}\n");
  }
}

TEST(Failure, MissingOrMistypedIdField) {
  struct Case {
    std::string line, message;
  };
  const std::vector<Case> cases = {
      {"{\"problem\":\"no id here at all, none\"}", "missing id field 'id' (source 's' has `id: id`)"},
      {"{\"ID\":\"x\",\"problem\":\"wrong case is not the field\"}", "missing id field 'id' (source 's' has `id: id`)"},
      {"{\"id\":1.5,\"problem\":\"a float is not an id here\"}", "id field 'id' is neither a string nor an integer"},
      {"{\"id\":{\"k\":1},\"problem\":\"an object is not an id\"}", "id field 'id' is neither a string nor an integer"},
      {"{\"id\":null,\"problem\":\"null is not an id either\"}", "id field 'id' is neither a string nor an integer"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    TempDir t;
    write_file(t / "s.jsonl", "{\"id\":\"ok\",\"problem\":\"fine fine fine fine fine\"}\n" + c.line + "\n");
    write_file(t / "p.yaml", pipeline(", id: id"));
    const auto r = run_tamis({"run", (t / "p.yaml").string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_HAS(r.err, "tamis: error: s.jsonl:2: " + c.message + "\n  | " + c.line + "\n");
    expect_no_output(t);
  }
}

TEST(Failure, IntegerAndStringIdsAreAccepted) {
  TempDir t;
  write_file(t / "s.jsonl",
             "{\"id\":42,\"problem\":\"an integer id is fine here\"}\n"
             "{\"id\":\"q\\\"1\",\"problem\":\"a string id with a quote\"}\n"
             "{\"id\":18446744073709551615,\"problem\":\"the largest unsigned id\"}\n");
  write_file(t / "p.yaml", pipeline(", id: id"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ledger = read_lines(t / "out/ledger.jsonl");
  ASSERT_EQ(ledger.size(), 3u);
  EXPECT_EQ(json_string(ledger[0], "id"), "42");
  EXPECT_EQ(json_string(ledger[1], "id"), "q\"1");
  EXPECT_EQ(json_string(ledger[2], "id"), "18446744073709551615");
}

TEST(Failure, UnwritableSinkFailsAndLeavesNoOtherOutput) {
  TempDir t;
  write_file(t / "s.jsonl", "{\"id\":\"ok\",\"problem\":\"fine fine fine fine fine\"}\n");
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: s.jsonl\n"
             "sinks:\n"
             "  good: { path: out/good.jsonl }\n"
             "  bad: { path: blocked/bad.jsonl }\n");
  write_file(t / "blocked", "a file where a directory should be\n");
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_HAS(r.err, "sink 'bad'");
  EXPECT_HAS(r.err, (t / "blocked/bad.jsonl").string());
  expect_no_output(t);
  EXPECT_EQ(read_file(t / "blocked"), "a file where a directory should be\n");
}

// A sink path that names a FIFO, or a link to a device, is refused: renaming the temporary over it
// would replace it with a regular file (as root, `path: /dev/null` once replaced the system's
// /dev/null). The link here points to /dev/null, so that a regression replaces the link, not the device.
TEST(Failure, SinkOverADeviceOrFifoIsRefusedAndLeftAlone) {
  TempDir t;
  write_file(t / "s.jsonl", "{\"id\":\"ok\",\"problem\":\"fine fine fine fine fine\"}\n");
  fs::create_directories(t / "out");
  ASSERT_EQ(::mkfifo((t / "out/fifo").c_str(), 0600), 0);
  fs::create_symlink("/dev/null", t / "out/null");
  for (const char* name : {"fifo", "null"}) {
    write_file(t / "p.yaml", std::string("version: 1\nsources:\n  s: s.jsonl\nsinks:\n  kept: { path: out/") + name + " }\n");
    const auto r = run_tamis({"run", (t / "p.yaml").string()});
    EXPECT_NE(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_HAS(r.err, (t / "out" / name).string());
    EXPECT_HAS(r.err, std::string(name) == std::string("fifo") ? "is a FIFO, not a regular file" : "is a character device");
  }
  struct stat st;
  ASSERT_EQ(::lstat((t / "out/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced";
  ASSERT_EQ(::lstat((t / "out/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link to /dev/null was replaced";
  EXPECT_FALSE(has_temporary(t.path())) << "a temporary file was left behind";
}

// A rerun keeps an existing output's permissions (the temporary gets them before the rename).
TEST(Failure, RerunKeepsAnOutputsPermissions) {
  TempDir t;
  write_file(t / "s.jsonl", "{\"id\":\"ok\",\"problem\":\"fine fine fine fine fine\"}\n");
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: { path: s.jsonl, id: id }\nsinks:\n  kept: { path: out/kept.jsonl }\n");
  ASSERT_EQ(run_tamis({"run", (t / "p.yaml").string()}).exit_code, 0);
  fs::permissions(t / "out/kept.jsonl", fs::perms::owner_read | fs::perms::owner_write);
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fs::status(t / "out/kept.jsonl").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), read_file(t / "s.jsonl"));
}

// SIGINT during a long run: exit 130, and neither outputs nor temporaries remain.
TEST(Failure, InterruptLeavesNoOutputAndExits130) {
  TempDir t;
  // ~9 million short records (about 13 s of work on 2 cores) from a tiny .zst of three frames.
  const auto gen = run_shell("cd " + t.path().string() +
                             " && yes '{\"id\":1,\"problem\":\"What is the sum of two and two, in words?\"}' | head -n 3000000"
                             " | zstd -q -1 -c > frame.zst && cat frame.zst frame.zst frame.zst > s.jsonl.zst");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: s.jsonl.zst\n"
             "stages:\n"
             "  len:\n"
             "    uses: filter.length\n"
             "    with: { field: problem, min: 1000 }\n"
             "sinks:\n"
             "  kept: { path: out/kept.jsonl }\n"
             "  rejected: { path: out/rejected.jsonl.zst, rejected: true }\n"
             "  report: { path: out/report.json, report: true }\n");
  // Start the run, wait until it has opened its outputs (temporaries exist: the handler is installed and
  // reading has begun), then interrupt it. No sleep decides the outcome: the poll only waits.
  const std::string script =
      "cd " + t.path().string() + " || exit 99; " + tamis_bin() + " run p.yaml --threads 2 > run.out 2> run.err & pid=$!; "
      "i=0; while ! ls out/.kept.jsonl.tamis-tmp-* >/dev/null 2>&1 && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; "
      "ls -a out > seen.txt; sleep 0.2; kill -INT $pid; wait $pid; echo \"rc=$?\"";
  const auto r = run_shell(script);
  const std::string seen = read_file(t / "seen.txt");
  ASSERT_TRUE(contains(seen, ".kept.jsonl.tamis-tmp-")) << "the run never opened its outputs: " << seen;
  EXPECT_EQ(r.out, "rc=130\n") << read_file(t / "run.err");
  EXPECT_HAS(read_file(t / "run.err"), "interrupted");
  EXPECT_EQ(read_file(t / "run.out"), "");
  expect_no_output(t);
}

}  // namespace
}  // namespace tamis::test
