// The pipeline file through the CLI: every problem reported with file:line:column, all at once, exit 2;
// --set overrides; ${VAR} expansion; paths relative to the pipeline file; `validate`; `run --dry-run`.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <regex>
#include <string>
#include <sys/stat.h>

#include <tamis/temp_file.hpp>

#include "core_test_helpers.hpp"

namespace tamis::test {
namespace {

// Sets an environment variable for the life of the object (children started by run_tamis inherit it).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

constexpr const char* kInput = "{\"id\":\"a\",\"problem\":\"hello\"}\n{\"id\":\"b\",\"problem\":\"hello world\"}\n";

// A good pipeline: one source, one length stage, kept and ledger sinks.
std::string good_pipeline(const std::string& source = "in.jsonl", const std::string& kept = "out/kept.jsonl") {
  return "version: 1\n"
         "sources:\n"
         "  s: { path: \"" + source + "\", id: id }\n"
         "stages:\n"
         "  len:\n"
         "    uses: filter.length\n"
         "    with: { field: problem, min: 3 }\n"
         "sinks:\n"
         "  kept: { path: \"" + kept + "\" }\n"
         "  ledger: { path: out/ledger.jsonl, ledger: true }\n";
}

// Runs `validate` and `run` on the file and checks both fail with exit 2, write nothing, and give the
// same diagnostics. Returns the diagnostics (stderr).
std::string expect_pipeline_error(const TempDir& t, const std::string& file = "p.yaml",
                                  const std::vector<std::string>& extra = {}) {
  std::vector<std::string> v = {"validate", (t / file).string()};
  std::vector<std::string> r = {"run", (t / file).string()};
  v.insert(v.end(), extra.begin(), extra.end());
  r.insert(r.end(), extra.begin(), extra.end());
  const auto rv = run_tamis(v, t.path());
  const auto rr = run_tamis(r, t.path());
  EXPECT_EQ(rv.exit_code, 2) << rv.err;
  EXPECT_EQ(rr.exit_code, 2) << rr.err;
  EXPECT_EQ(rv.out, "");
  EXPECT_EQ(rr.out, "");
  EXPECT_EQ(rv.err, rr.err) << "validate and run report the same problems";
  EXPECT_EQ(list_files(t / "out"), std::vector<std::string>{}) << "nothing written";
  return rr.err;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

#define EXPECT_HAS(hay, needle) EXPECT_TRUE(contains(hay, needle)) << "missing: " << (needle) << "\nin:\n" << (hay)

// ---------------------------------------------------------------- all at once

// One file with a dozen independent mistakes: every one is listed, with its position, in one run.
constexpr const char* kManyErrors =
    "sources:\n"                                              // 1  (no version)
    "  s: { path: in.jsonl, id: id }\n"                       // 2
    "  gone: { path: missing/*.jsonl }\n"                     // 3  glob matching nothing
    "  s: { path: in.jsonl }\n"                               // 4  duplicate source name
    "stages:\n"                                               // 5
    "  lenn:\n"                                               // 6
    "    uses: filter.lenght\n"                               // 7  unknown op, did you mean
    "  req:\n"                                                // 8  missing required 'fields'
    "    uses: filter.require\n"                              // 9
    "    inputs: [s, nosuch]\n"                               // 10 unknown input
    "    with:\n"                                             // 11
    "      typo_param: 1\n"                                   // 12 unknown parameter
    "  len:\n"                                                // 13
    "    uses: filter.length\n"                               // 14
    "    inputs: [req]\n"                                     // 15
    "    with:\n"                                             // 16
    "      field: problem\n"                                  // 17
    "      min: abc\n"                                        // 18 mistyped parameter
    "  need:\n"                                               // 19 missing required 'field'
    "    uses: filter.length\n"                               // 20
    "    inputs: [len]\n"                                     // 21
    "  s:\n"                                                  // 22 duplicate name (a source's)
    "    uses: sample\n"                                      // 23
    "    inputs: [need]\n"                                    // 24
    "    with: { fraction: 0.5 }\n"                           // 25
    "sinks:\n"                                                // 26
    "  kept: { path: out/k.jsonl, inputs: [s] }\n"            // 27
    "  again: { path: ./out/../out/k.jsonl, inputs: [s] }\n"  // 28 same file as 'kept'
    "extra: 1\n";                                             // 29 unknown top-level key

TEST(PipelineFile, EveryErrorAtOnceWithPositions) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml", kManyErrors);
  const std::string err = expect_pipeline_error(t);
  const std::string f = (t / "p.yaml").string();
  EXPECT_HAS(err, f + ":29:1: error: unknown key 'extra' in the pipeline file");
  EXPECT_HAS(err, f + ":1:1: error: missing 'version'");
  EXPECT_HAS(err, f + ":3:17: error: source 'gone': no file matches '" + (t / "missing/*.jsonl").string() + "'");
  EXPECT_HAS(err, f + ":4:3: error: source name 's' is already used");
  EXPECT_HAS(err, f + ":7:11: error: stage 'lenn': unknown op 'filter.lenght'");
  EXPECT_HAS(err, "did you mean 'filter.length'?");
  EXPECT_HAS(err, f + ":8:3: error: stage 'req': missing required parameter 'fields'");
  EXPECT_HAS(err, f + ":10:17: error: stage 'req': unknown input 'nosuch'");
  EXPECT_HAS(err, f + ":12:7: error: stage 'req': op 'filter.require' has no parameter 'typo_param'");
  EXPECT_HAS(err, f + ":18:12: error: stage 'len': parameter 'min' must be an integer, got 'abc'");
  EXPECT_HAS(err, f + ":19:3: error: stage 'need': missing required parameter 'field'");
  EXPECT_HAS(err, f + ":22:3: error: stage name 's' is already used");
  EXPECT_HAS(err, f + ":28:18: error: sinks 'kept' and 'again' write the same file " + (t / "out/k.jsonl").string());
  EXPECT_HAS(err, "tamis: 12 errors in " + f);
  EXPECT_EQ(count_occurrences(err, ": error: "), 12u) << err;
}

// Parameter problems point at the offending value / key (regression: they were all reported at
// "file:1:1" while `with` was deep-copied with YAML::Clone(), fixed in f5febf0).
TEST(PipelineFile, MistypedParameterPointsAtItsValue) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: in.jsonl\n"
             "stages:\n"
             "  len:\n"
             "    uses: filter.length\n"
             "    with:\n"
             "      field: problem\n"
             "      min: abc\n"                                   // 9:12
             "  b:\n"
             "    uses: sample\n"
             "    with: { fraction: high }\n"                     // 12:23
             "  c:\n"
             "    uses: filter.length\n"
             "    with: { field: problem, annotate: maybe }\n"    // 15:39
             "sinks:\n"
             "  kept: { path: out/k.jsonl, inputs: [len, b, c] }\n");
  const std::string err = expect_pipeline_error(t);
  const std::string f = (t / "p.yaml").string();
  EXPECT_HAS(err, f + ":9:12: error: stage 'len': parameter 'min' must be an integer, got 'abc'");
  EXPECT_HAS(err, f + ":12:23: error: stage 'b': parameter 'fraction' must be a number, got 'high'");
  EXPECT_HAS(err, f + ":15:39: error: stage 'c': parameter 'annotate' must be true or false, got 'maybe'");
}

TEST(PipelineFile, UnknownParameterPointsAtItsKeyWithDidYouMean) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: in.jsonl\n"
             "stages:\n"
             "  len:\n"
             "    uses: filter.length\n"
             "    with:\n"
             "      field: problem\n"
             "      minn: 3\n"  // 9:7
             "sinks:\n"
             "  kept: { path: out/k.jsonl }\n");
  const std::string err = expect_pipeline_error(t);
  EXPECT_HAS(err, "error: stage 'len': op 'filter.length' has no parameter 'minn'\n  hint: did you mean 'min'?");
  EXPECT_HAS(err, (t / "p.yaml").string() + ":9:7: error: stage 'len': op 'filter.length' has no parameter 'minn'");
}

TEST(PipelineFile, UnknownKeysInSourceStageAndSinkWithDidYouMean) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: { path: in.jsonl, idd: id }\n"  // 3:24
             "stages:\n"
             "  len:\n"
             "    uses: filter.length\n"
             "    wiht: { field: problem }\n"  // 7:5
             "sinks:\n"
             "  k: { path: out/k.jsonl, ledgr: true }\n");  // 9:27
  const std::string err = expect_pipeline_error(t);
  const std::string f = (t / "p.yaml").string();
  EXPECT_HAS(err, f + ":3:24: error: unknown key 'idd' in source 's'\n  hint: did you mean 'id'?");
  EXPECT_HAS(err, f + ":7:5: error: unknown key 'wiht' in stage 'len'\n  hint: did you mean 'with'?");
  EXPECT_HAS(err, f + ":9:27: error: unknown key 'ledgr' in sink 'k'\n  hint: did you mean 'ledger'?");
  EXPECT_HAS(err, f + ":5:3: error: stage 'len': missing required parameter 'field'");
}

TEST(PipelineFile, YamlSyntaxError) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: { path: in.jsonl\nstages:\n  a:\n    uses: sample\n");
  const std::string err = expect_pipeline_error(t);
  const std::regex re(std::regex_replace((t / "p.yaml").string(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                      R"(:[34]:[0-9]+: error: YAML syntax error)");
  EXPECT_TRUE(std::regex_search(err, re)) << err;
  EXPECT_HAS(err, "tamis: 1 error in ");
}

// A key written twice in one mapping (here a parameter) is an error at the second one: yaml-cpp would
// silently keep the first value, other YAML readers the last.
TEST(PipelineFile, RepeatedKeyIsAnErrorAtItsPosition) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: in.jsonl\nstages:\n  len:\n    uses: filter.length\n"
                           "    with: { field: p, min: 3, min: 10 }\nsinks:\n  kept: { path: out/kept.jsonl }\n");
  const std::string err = expect_pipeline_error(t);
  EXPECT_HAS(err, (t / "p.yaml").string() + ":7:31: error: key 'min' appears twice in this mapping (first at line 7)");
  EXPECT_HAS(err, "tamis: 1 error in ");
}

TEST(PipelineFile, MissingAndUnsupportedVersion) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  std::string text = good_pipeline();
  write_file(t / "p.yaml", text.substr(text.find('\n') + 1));
  EXPECT_HAS(expect_pipeline_error(t), (t / "p.yaml").string() + ":1:1: error: missing 'version'");
  write_file(t / "p.yaml", "version: 2\n" + text.substr(text.find('\n') + 1));
  EXPECT_HAS(expect_pipeline_error(t), (t / "p.yaml").string() + ":1:10: error: unsupported pipeline version '2'");
}

TEST(PipelineFile, MissingSourceFile) {
  TempDir t;
  write_file(t / "p.yaml", good_pipeline("nope.jsonl"));
  EXPECT_HAS(expect_pipeline_error(t), (t / "p.yaml").string() + ":3:14: error: source 's': no file matches '" +
                                           (t / "nope.jsonl").string() + "'");
}

TEST(PipelineFile, Cycle) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: in.jsonl\n"
             "stages:\n"
             "  a:\n"
             "    uses: filter.length\n"
             "    inputs: [s, c]\n"
             "    with: { field: problem }\n"
             "  b:\n"
             "    uses: filter.length\n"
             "    inputs: [a]\n"
             "    with: { field: problem }\n"
             "  c:\n"
             "    uses: filter.length\n"
             "    inputs: [b]\n"
             "    with: { field: problem }\n"
             "sinks:\n"
             "  kept: { path: out/k.jsonl, inputs: [c] }\n");
  const std::string err = expect_pipeline_error(t);
  const std::string f = (t / "p.yaml").string();
  EXPECT_HAS(err, f + ":5:3: error: stage 'a' is part of a cycle");
  EXPECT_HAS(err, f + ":9:3: error: stage 'b' is part of a cycle");
  EXPECT_HAS(err, f + ":13:3: error: stage 'c' is part of a cycle");
  EXPECT_HAS(err, "tamis: 3 errors in ");
}

TEST(PipelineFile, StageListingItselfAsInput) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: in.jsonl\n"
             "stages:\n"
             "  a:\n"
             "    uses: filter.length\n"
             "    inputs: [s, a]\n"
             "    with: { field: problem }\n"
             "sinks:\n"
             "  kept: { path: out/k.jsonl }\n");
  EXPECT_HAS(expect_pipeline_error(t), (t / "p.yaml").string() + ":7:17: error: stage 'a' lists itself as an input");
}

// Cycles, unknown names, unknown ops and parameter errors are reported all at once (regression: a cycle
// was only reported once every other error had been fixed).
TEST(PipelineFile, CycleIsReportedTogetherWithOtherErrors) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: in.jsonl\n"
             "stages:\n"
             "  a:\n"
             "    uses: filter.length\n"
             "    inputs: [s, b]\n"
             "    with: { field: problem, unit: lines }\n"  // bad value: an unrelated error
             "  b:\n"
             "    uses: filter.length\n"
             "    inputs: [a]\n"
             "    with: { field: problem }\n"
             "sinks:\n"
             "  kept: { path: out/k.jsonl, inputs: [b] }\n");
  const std::string err = expect_pipeline_error(t);
  EXPECT_HAS(err, "stage 'a': parameter 'unit' has value 'lines'");
  EXPECT_HAS(err, (t / "p.yaml").string() + ":5:3: error: stage 'a' is part of a cycle");
  EXPECT_HAS(err, (t / "p.yaml").string() + ":9:3: error: stage 'b' is part of a cycle");
}

TEST(PipelineFile, DuplicateNamesAcrossSourcesStagesAndSinks) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  x: in.jsonl\n"
             "stages:\n"
             "  len:\n"
             "    uses: filter.length\n"
             "    inputs: [x]\n"
             "    with: { field: problem }\n"
             "  len:\n"
             "    uses: sample\n"
             "    with: { fraction: 1 }\n"
             "sinks:\n"
             "  x: { path: out/k.jsonl, inputs: [len] }\n");
  const std::string err = expect_pipeline_error(t);
  const std::string f = (t / "p.yaml").string();
  EXPECT_HAS(err, f + ":9:3: error: stage name 'len' is already used");
  EXPECT_HAS(err, f + ":13:3: error: sink name 'x' is already used");
}

TEST(PipelineFile, TwoSinksWritingTheSameFile) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: in.jsonl\n"
             "sinks:\n"
             "  kept: { path: out/k.jsonl }\n"
             "  ledger: { path: out/sub/../k.jsonl, ledger: true }\n");
  EXPECT_HAS(expect_pipeline_error(t), (t / "p.yaml").string() + ":6:19: error: sinks 'kept' and 'ledger' write the same file " +
                                           (t / "out/k.jsonl").string());
}

// A sink whose path is one of the sources' input files would replace the input with the output (the
// input data lost): like two sinks writing one file, it is a pipeline error (exit 2) that leaves the
// input alone (once accepted; the loader checks it now).
TEST(PipelineFile, SinkOverwritingASourceFileIsAnError) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: { path: in.jsonl, id: id }\n"
             "stages:\n"
             "  len:\n"
             "    uses: filter.length\n"
             "    with: { field: problem, min: 6 }\n"
             "sinks:\n"
             "  kept: { path: ./in.jsonl }\n");
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(read_file(t / "in.jsonl"), kInput) << "the input file was overwritten";
}

TEST(PipelineFile, EverySourceAndStageMustFeedSomething) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: in.jsonl\n"
             "  unused: in.jsonl\n"
             "stages:\n"
             "  a:\n"
             "    uses: sample\n"
             "    inputs: [s]\n"
             "    with: { fraction: 1 }\n"
             "  dangling:\n"
             "    uses: sample\n"
             "    inputs: [s]\n"
             "    with: { fraction: 1 }\n"
             "sinks:\n"
             "  kept: { path: out/k.jsonl, inputs: [a] }\n");
  const std::string err = expect_pipeline_error(t);
  EXPECT_HAS(err, (t / "p.yaml").string() + ":4:3: error: source 'unused' is read by no stage or sink");
  EXPECT_HAS(err, (t / "p.yaml").string() + ":10:3: error: stage 'dangling' feeds no stage or sink");
}

TEST(PipelineFile, ConflictingFanInOrders) {
  TempDir t;
  write_file(t / "a.jsonl", kInput);
  write_file(t / "b.jsonl", kInput);
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  a: a.jsonl\n"
             "  b: b.jsonl\n"
             "sinks:\n"
             "  one: { path: out/1.jsonl, inputs: [a, b] }\n"
             "  two: { path: out/2.jsonl, inputs: [b, a] }\n");
  EXPECT_HAS(expect_pipeline_error(t), "error: inputs are listed in conflicting orders");
}

// ---------------------------------------------------------------- --set

TEST(PipelineFile, SetOverridesAParameter) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml", good_pipeline());
  auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_lines(t / "out/kept.jsonl").size(), 2u);
  r = run_tamis({"run", (t / "p.yaml").string(), "--set", "len.min=6", "--set", "len.annotate=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), "{\"id\":\"b\",\"problem\":\"hello world\",\"tamis\":{\"length\":11}}\n");
  r = run_tamis({"run", (t / "p.yaml").string(), "--dry-run", "--set", "len.min=6", "--set", "len.unit=bytes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, "    min = 6  (--set)\n");
  EXPECT_HAS(r.out, "    unit = \"bytes\"  (--set)\n");
  EXPECT_HAS(r.out, "    field = \"problem\"\n");
  EXPECT_HAS(r.out, "    max = -1  (default)\n");
}

TEST(PipelineFile, SetForAnUnknownStageOrParameterIsAnError) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml", good_pipeline());
  std::string err = expect_pipeline_error(t, "p.yaml", {"--set", "nosuch.min=3"});
  EXPECT_HAS(err, "--set: error: no stage named 'nosuch' (in --set nosuch.min)");
  err = expect_pipeline_error(t, "p.yaml", {"--set", "len.mx=3"});
  EXPECT_HAS(err, "--set len.mx: error: stage 'len': op 'filter.length' has no parameter 'mx'\n  hint: did you mean 'max'?");
  // Malformed: a usage error.
  const auto r = run_tamis({"run", (t / "p.yaml").string(), "--set", "len.min"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.err, "--set wants stage.param=value, got 'len.min'");
}

// A mistyped --set value is reported against the --set option (regression: it was "p.yaml:1:1").
TEST(PipelineFile, MistypedSetValueIsReportedAgainstSet) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml", good_pipeline());
  const std::string err = expect_pipeline_error(t, "p.yaml", {"--set", "len.min=abc"});
  EXPECT_HAS(err, "error: stage 'len': parameter 'min' must be an integer, got 'abc'");
  EXPECT_HAS(err, "--set len.min: error: stage 'len': parameter 'min' must be an integer, got 'abc'");
}

// ---------------------------------------------------------------- ${VAR}

TEST(PipelineFile, EnvironmentVariablesAndDefaults) {
  TempDir t;
  write_file(t / "data/in.jsonl", kInput);
  const std::string text =
      "version: 1\n"
      "sources:\n"
      "  s: { path: \"${TAMIS_T_DATA}/in.jsonl\", id: id }\n"
      "stages:\n"
      "  len:\n"
      "    uses: filter.length\n"
      "    with: { field: \"${TAMIS_T_FIELD:-problem}\", min: \"${TAMIS_T_MIN:-0}\", annotate: true }\n"
      "sinks:\n"
      "  kept: { path: \"${TAMIS_T_OUT:-out}/kept$$.jsonl\" }\n";
  write_file(t / "p.yaml", text);
  ScopedEnv data("TAMIS_T_DATA", "data");
  ScopedEnv field("TAMIS_T_FIELD", nullptr);
  {
    ScopedEnv min("TAMIS_T_MIN", "6");
    ScopedEnv out("TAMIS_T_OUT", nullptr);
    const auto r = run_tamis({"run", (t / "p.yaml").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(t / "out/kept$.jsonl"), "{\"id\":\"b\",\"problem\":\"hello world\",\"tamis\":{\"length\":11}}\n");
  }
  {
    ScopedEnv min("TAMIS_T_MIN", nullptr);
    ScopedEnv out("TAMIS_T_OUT", "elsewhere");
    const auto r = run_tamis({"run", (t / "p.yaml").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_lines(t / "elsewhere/kept$.jsonl").size(), 2u);
  }
  {
    ScopedEnv out("TAMIS_T_OUT", "");  // set but empty: ${VAR:-default} takes the default, as in sh
    fs::remove_all(t / "out");
    const auto r = run_tamis({"run", (t / "p.yaml").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::exists(t / "out/kept$.jsonl"));
  }
}

TEST(PipelineFile, UnsetVariableIsAnErrorAtItsPosition) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml", good_pipeline("in.jsonl", "${TAMIS_T_SURELY_UNSET}/kept.jsonl"));
  ScopedEnv unset("TAMIS_T_SURELY_UNSET", nullptr);
  const std::string err = expect_pipeline_error(t);
  EXPECT_HAS(err, (t / "p.yaml").string() + ":9:17: error: environment variable TAMIS_T_SURELY_UNSET is not set");
}

// ${VAR} expands in every string of the file, `on_error` included: `on_error: ${TAMIS_ON_ERROR:-skip}`
// works (it was once read raw and refused).
TEST(PipelineFile, OnErrorValueExpandsVariables) {
  TempDir t;
  write_file(t / "in.jsonl", std::string(kInput) + "{oops\n");
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: { path: in.jsonl, id: id, on_error: \"${TAMIS_T_ON_ERROR:-skip}\" }\n"
             "sinks:\n"
             "  kept: { path: out/kept.jsonl }\n");
  ScopedEnv unset("TAMIS_T_ON_ERROR", nullptr);
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// ---------------------------------------------------------------- paths

TEST(PipelineFile, RelativePathsAreRelativeToThePipelineFile) {
  TempDir t;
  write_file(t / "project/data/in.jsonl", kInput);
  write_file(t / "project/p.yaml", good_pipeline("data/in.jsonl", "out/kept.jsonl"));
  fs::create_directories(t / "elsewhere/data");
  const auto r = run_tamis({"run", "../project/p.yaml"}, t / "elsewhere");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(list_files(t / "elsewhere"), std::vector<std::string>{});
  EXPECT_EQ(list_files(t / "project/out"), (std::vector<std::string>{"kept.jsonl", "ledger.jsonl"}));
  EXPECT_EQ(read_lines(t / "project/out/ledger.jsonl")[0],
            "{\"id\":\"a\",\"source\":\"s\",\"file\":\"data/in.jsonl\",\"line\":1,\"fate\":\"kept\",\"sinks\":[\"kept\"]}");
  EXPECT_HAS(r.out, (t / "project/out/kept.jsonl").string());
}

// ---------------------------------------------------------------- validate, --dry-run

TEST(PipelineFile, ValidateAcceptsAGoodFileAndReadsNothing) {
  TempDir t;
  write_file(t / "in.jsonl", "{not json at all\n");
  write_file(t / "p.yaml", good_pipeline());
  const auto r = run_tamis({"validate", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, (t / "p.yaml").string() + ": ok (1 source, 1 stage, 2 sinks)\n");
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(fs::exists(t / "out"));
}

TEST(PipelineFile, DemoPipelineValidates) {
  const auto r = run_tamis({"validate", (source_dir() / "pipelines/demo.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.out, ": ok (1 source, 4 stages, 5 sinks)");
}

// The graph is printed before any record is read; the dry pass then stops on bad input as the run would.
TEST(PipelineFile, DryRunPrintsTheResolvedGraphThenStopsOnBadInputLikeARun) {
  TempDir t;
  write_file(t / "in.jsonl", "{not json at all\n[1,2]\n");
  write_file(t / "b.jsonl", "also bad\n");
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: { path: in.jsonl, id: id }\n"
             "  t: { path: \"b*.jsonl\", on_error: skip }\n"
             "stages:\n"
             "  len:\n"
             "    uses: filter.length\n"
             "    inputs: [t, s]\n"
             "    with: { field: problem, min: 3 }\n"
             "  samp:\n"
             "    uses: filter.sample\n"
             "    with: { fraction: 0.5 }\n"
             "annotations: { field: meta_x }\n"
             "sinks:\n"
             "  kept: { path: out/kept.jsonl.zst }\n"
             "  rejected: { path: out/rejected.jsonl, rejected: true, inputs: [len] }\n"
             "  ledger: { path: out/ledger.jsonl, ledger: true }\n");
  const auto r = run_tamis({"run", (t / "p.yaml").string(), "--dry-run"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  EXPECT_HAS(r.err, "in.jsonl:1");
  EXPECT_FALSE(fs::exists(t / "out")) << "dry-run wrote something";
  const std::string d = t.path().string();
  EXPECT_HAS(r.out, "sources (reading order):\n"
                    "  t: 1 file(s) matching " + d + "/b*.jsonl, id: content (SOURCE/HASH), on_error: skip\n"
                    "    b.jsonl\n"
                    "  s: 1 file(s) matching " + d + "/in.jsonl, id: id, on_error: fail\n"
                    "    in.jsonl\n"
                    "stages (execution order):\n"
                    "  len (filter.length, record op from ");
  EXPECT_HAS(r.out, "    inputs: t, s\n"
                    "    field = \"problem\"\n"
                    "    unit = \"chars\"  (default)\n"
                    "    min = 3\n"
                    "    max = -1  (default)\n"
                    "    annotate = false  (default)\n"
                    "  samp (filter.sample, record op from ");
  EXPECT_HAS(r.out, "    inputs: len\n"
                    "    fraction = 0.5\n"
                    "    seed = 0  (default)\n"
                    "    key = \"\"  (default)\n"
                    "sinks:\n"
                    "  kept [records] -> " + d + "/out/kept.jsonl.zst  from samp\n"
                    "  rejected [rejected] -> " + d + "/out/rejected.jsonl  from len\n"
                    "  ledger [ledger] -> " + d + "/out/ledger.jsonl\n"
                    "annotations field: meta_x\n");
}

// A dry run reads every record through every stage (ops are told: TAMIS_RUN_DRY) and prints what a run
// would keep and reject, but writes nothing: no sink, no report, no side file (dedup index), existing
// outputs left as they are, and no cleanup of the output folders either.
TEST(PipelineFile, DryRunReadsEveryRecordAndWritesNothing) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  const std::string pipeline =
      "version: 1\n"
      "sources:\n"
      "  s: { path: in.jsonl, id: id }\n"
      "stages:\n"
      "  len:\n"
      "    uses: filter.length\n"
      "    with: { field: problem, min: 6 }\n"
      "  dd:\n"
      "    uses: dedup.exact\n"
      "    with: { fields: [problem], save_index: out/index.bin }\n"
      "sinks:\n"
      "  kept: { path: out/kept.jsonl }\n"
      "  rejected: { path: out/rejected.jsonl, rejected: true }\n"
      "  ledger: { path: out/ledger.jsonl, ledger: true }\n"
      "  report: { path: out/report.json, report: true }\n";
  write_file(t / "p.yaml", pipeline);
  auto r = run_tamis({"run", (t / "p.yaml").string(), "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(t / "out")) << "dry-run wrote something";
  EXPECT_HAS(r.out, "dry run: every record was read");
  EXPECT_HAS(r.out, "(dry run: not written)");
  const auto real = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(real.exit_code, 0) << real.err;
  // The dry run's counts are the run's: the same summary lines, timings aside.
  auto counts = [](const std::string& out) {
    std::string keep;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("len ", 0) == 0 || line.rfind("dd ", 0) == 0 || line.rfind("  - ", 0) == 0 || line.rfind("read ", 0) == 0)
      {
        std::string cut = line.substr(0, line.find('%') == std::string::npos ? line.size() : line.rfind(' ', line.find('%')));
        while (!cut.empty() && cut.back() == ' ') cut.pop_back();
        keep += cut + "\n";
      }
    return keep;
  };
  EXPECT_EQ(counts(r.out), counts(real.out)) << r.out << real.out;
  EXPECT_NE(counts(r.out), "");
  std::map<std::string, std::string> before;
  for (const auto& e : fs::directory_iterator(t / "out")) before[e.path().filename().string()] = read_file(e.path());
  ASSERT_TRUE(before.count("index.bin"));
  // A temporary left by a dead process stays: a dry run changes nothing in the output folders.
  const std::string stale = ".kept.jsonl.tamis-tmp-999999999." + tamis::files::host_name_for_files();
  write_file(t / "out" / stale, "half");
  write_file(t / "in.jsonl", kInput + std::string("{\"id\":\"z\",\"problem\":\"a new long problem\"}\n"));
  r = run_tamis({"run", (t / "p.yaml").string(), "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(counts(r.out), counts(real.out)) << "the dry run did not read the new record";
  std::map<std::string, std::string> after;
  for (const auto& e : fs::directory_iterator(t / "out"))
    if (e.path().filename() != stale) after[e.path().filename().string()] = read_file(e.path());
  EXPECT_EQ(after, before);
  EXPECT_TRUE(fs::exists(t / "out" / stale));
}

TEST(PipelineFile, DryRunWithErrorsExitsTwo) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml", good_pipeline());
  const auto r = run_tamis({"run", (t / "p.yaml").string(), "--dry-run", "--set", "len.min=-4"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.err, "stage 'len': min must be >= 0");
  EXPECT_EQ(r.out, "");
}

TEST(PipelineFile, UsageErrorsExitTwo) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml", good_pipeline());
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"run"}, "tamis: run needs one pipeline file"},
      {{"run", (t / "p.yaml").string(), "--threads", "0"}, "--threads wants a positive integer, got '0'"},
      {{"run", (t / "p.yaml").string(), "--threads", "two"}, "--threads wants a positive integer, got 'two'"},
      {{"run", (t / "p.yaml").string(), "--batch-bytes", "0"}, "--batch-bytes wants a number of bytes from 1 to 2^30, got '0'"},
      {{"run", (t / "p.yaml").string(), "--batch-bytes"}, "--batch-bytes needs a number"},
      {{"run", (t / "p.yaml").string(), "--frobnicate"}, "unknown option '--frobnicate'"},
      {{"validate", (t / "missing.yaml").string()}, (t / "missing.yaml").string() + ": error: cannot read the pipeline file"},
      {{"bogus"}, "unknown command 'bogus'"},
  };
  for (const auto& c : cases) {
    const auto r = run_tamis(c.args, t.path());
    EXPECT_EQ(r.exit_code, 2) << c.message;
    EXPECT_HAS(r.err, c.message);
  }
  EXPECT_EQ(list_files(t / "out"), std::vector<std::string>{});
}

// ---------------------------------------------------------------- hazards in the pipeline file (issue 13, item 9)

// A value that names YAML anchors nested `levels` deep, `width` aliases each: width^(levels + 1) copies
// of "lol" in its last item once expanded, from one line.
std::string alias_bomb(int width, int levels) {
  std::string out = "&a0 [";
  for (int i = 0; i < width; ++i) out += std::string(i ? "," : "") + "lol";
  out += "]";
  std::string all = "[" + out;
  for (int l = 1; l <= levels; ++l) {
    std::string level = ", &a" + std::to_string(l) + " [";
    for (int i = 0; i < width; ++i) level += std::string(i ? "," : "") + "*a" + std::to_string(l - 1);
    all += level + "]";
  }
  return all + "]";
}

// A json-typed parameter made of aliases that name aliases ("billion laughs"): its JSON grows
// exponentially with the nesting. It is refused at the value's position once the JSON passes the
// bound, instead of being built (8^7 = 2 million copies here: 14 MB of JSON; 9^9 copies took 16 GB
// and 8 minutes before the fix, and were killed).
TEST(PipelineFile, AliasBombInAJsonParameterIsRefusedAtItsPosition) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  const std::string pipeline =
      "version: 1\n"
      "sources:\n"
      "  s: { path: in.jsonl, id: id }\n"
      "stages:\n"
      "  tag:\n"
      "    uses: translate_tag\n"
      "    with:\n"
      "      languages: [de]\n"
      "      buckets: " + alias_bomb(8, 6) + "\n"
      "sinks:\n"
      "  kept: { path: out/k.jsonl }\n";
  write_file(t / "p.yaml", pipeline);
  std::string err = expect_pipeline_error(t);
  EXPECT_HAS(err, (t / "p.yaml").string() + ":9:16: error: stage 'tag': parameter 'buckets': this value expands to more than 4 MiB of JSON");
  EXPECT_EQ(count_occurrences(err, "error:"), 1u) << err;

  // The same value from --set is reported against the option.
  const std::string q =
      "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n  tag:\n    uses: translate_tag\n"
      "    with: { languages: [de] }\nsinks:\n  kept: { path: out/k.jsonl }\n";
  write_file(t / "q.yaml", q);
  err = expect_pipeline_error(t, "q.yaml", {"--set", "tag.buckets=" + alias_bomb(8, 6)});
  EXPECT_HAS(err, "--set tag.buckets: error: stage 'tag': parameter 'buckets': this value expands to more than 4 MiB of JSON");

  // The bound holds for the whole file: 40 stages repeating a 1.8 MB value (8^6 copies, under the bound
  // alone) stop being expanded once 4 MiB have been made in all, so no walk repeats without end.
  std::string many = "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n";
  for (int k = 0; k < 40; ++k) {
    many += "  t" + std::to_string(k) + ":\n    uses: translate_tag\n    with:\n      languages: [de]\n";
    many += k == 0 ? "      buckets: &big " + alias_bomb(8, 5) + "\n" : "      buckets: *big\n";
  }
  many += "sinks:\n  kept: { path: out/k.jsonl }\n";
  write_file(t / "many.yaml", many);
  err = expect_pipeline_error(t, "many.yaml");
  EXPECT_FALSE(contains(err, "stage 't1': parameter 'buckets': this value expands")) << err;
  EXPECT_HAS(err, "error: stage 't2': parameter 'buckets': this value expands to more than 4 MiB of JSON");
  EXPECT_HAS(err, "error: stage 't39': parameter 'buckets': this value expands to more than 4 MiB of JSON");
  EXPECT_EQ(count_occurrences(err, "this value expands"), 38u);
}

// A sink, or a stage's output file (a parameter with role output), that would replace the pipeline
// file itself is refused like one that would replace an input, whatever name it is given.
TEST(PipelineFile, OutputsOverwritingThePipelineFileAreRefused) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  for (const char* name : {"p.yaml", "./sub/../p.yaml", "link.yaml", "hard.yaml"}) {
    fs::remove(t / "link.yaml");
    fs::remove(t / "hard.yaml");
    write_file(t / "p.yaml", good_pipeline("in.jsonl", name));
    fs::create_symlink(t / "p.yaml", t / "link.yaml");
    fs::create_hard_link(t / "p.yaml", t / "hard.yaml");
    const std::string before = read_file(t / "p.yaml");
    const std::string err = expect_pipeline_error(t);
    EXPECT_HAS(err, (t / "p.yaml").string() + ":9:17: error: sink 'kept' would overwrite the pipeline file " + (t / "p.yaml").string());
    EXPECT_EQ(read_file(t / "p.yaml"), before) << name;
  }
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: { path: in.jsonl, id: id }\n"
             "stages:\n"
             "  exact:\n"
             "    uses: dedup.exact\n"
             "    with: { fields: [problem], save_index: p.yaml, clusters: in.jsonl }\n"
             "sinks:\n"
             "  kept: { path: out/k.jsonl }\n");
  const std::string before = read_file(t / "p.yaml");
  const std::string err = expect_pipeline_error(t);
  EXPECT_HAS(err, ":7:44: error: stage 'exact': parameter 'save_index' would overwrite the pipeline file " + (t / "p.yaml").string());
  EXPECT_HAS(err, ":7:62: error: stage 'exact': parameter 'clusters' would overwrite " + (t / "in.jsonl").string() +
                      ", an input of source 's'");
  EXPECT_EQ(read_file(t / "p.yaml"), before);
  EXPECT_EQ(read_file(t / "in.jsonl"), kInput);
}

// A source naming a directory, a FIFO or a device says what it names, not "no file matches".
TEST(PipelineFile, SourceThatIsNotARegularFileSaysWhatItIs) {
  TempDir t;
  fs::create_directories(t / "dir/sub");
  ASSERT_EQ(::mkfifo((t / "fifo").c_str(), 0600), 0);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"dir", "'" + (t / "dir").string() + "' is a directory, not a regular file"},
      {"fifo", "'" + (t / "fifo").string() + "' is a FIFO (named pipe), not a regular file"},
      {"/dev/null", "'/dev/null' is a device, not a regular file"},
      {"dir/*", "no regular file matches '" + (t / "dir/*").string() + "' ('" + (t / "dir/sub").string() + "' is a directory)"},
      {"missing.jsonl", "no file matches '" + (t / "missing.jsonl").string() + "'"},
  };
  for (const auto& [path, message] : cases) {
    write_file(t / "p.yaml", good_pipeline(path));
    EXPECT_HAS(expect_pipeline_error(t), (t / "p.yaml").string() + ":3:14: error: source 's': " + message);
  }
}

// An unclosed ${ in a --set value is reported against the option, not at 1:1 of the pipeline file.
TEST(PipelineFile, UnclosedVariableInSetIsReportedAgainstSet) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml", good_pipeline());
  const std::string err = expect_pipeline_error(t, "p.yaml", {"--set", "len.field=${X"});
  EXPECT_HAS(err, "--set len.field: error: unclosed '${' in \"${X\"");
  EXPECT_FALSE(contains(err, "p.yaml:")) << err;
}

// A NUL byte in a path (the YAML escape \0) would end the name where the system reads it, naming
// another file: it is an error, in source and sink paths and in path parameters.
TEST(PipelineFile, NulByteInAPathIsAnError) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml", good_pipeline("in.jsonl\\0.gz", "out/kept.jsonl\\0.zst"));
  std::string err = expect_pipeline_error(t);
  EXPECT_HAS(err, (t / "p.yaml").string() + ":3:14: error: source 's': path holds a NUL byte (\\0), which no file name can hold");
  EXPECT_HAS(err, (t / "p.yaml").string() + ":9:17: error: sink 'kept': path holds a NUL byte (\\0)");
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: { path: in.jsonl, id: id }\n"
             "stages:\n"
             "  exact:\n"
             "    uses: dedup.exact\n"
             "    with: { fields: [problem], load_index: \"in.jsonl\\0.idx\" }\n"
             "sinks:\n"
             "  kept: { path: out/k.jsonl }\n");
  err = expect_pipeline_error(t);
  EXPECT_HAS(err, ":7:44: error: stage 'exact': parameter 'load_index' holds a NUL byte (\\0)");
}

// ---------------------------------------------------------------- the plugin path

#ifdef FOREIGN_LIBRARY
// Every *.so on the plugin path is read before it is loaded: one that is not a plugin (a real library
// whose constructor would leave a marker file) is skipped without running any of its code; a file that
// is not an ELF shared object, or a truncated one, is reported by name with what is wrong with it.
TEST(PipelineFile, PluginPathLibrariesAreCheckedBeforeLoading) {
  TempDir t;
  write_file(t / "in.jsonl", kInput);
  write_file(t / "p.yaml", good_pipeline());
  fs::create_directories(t / "plugins");
  fs::copy_file(FOREIGN_LIBRARY, t / "plugins/libforeign.so");
  ScopedEnv marker("TAMIS_TEST_MARKER", (t / "marker").c_str());

  auto r = run_tamis({"validate", (t / "p.yaml").string(), "--plugin-path", (t / "plugins").string(), "--verbose"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(t / "marker")) << "the foreign library was loaded: its constructor ran";
  EXPECT_HAS(r.err, (t / "plugins/libforeign.so").string() + " is not a tamis plugin (exports no tamis_plugin_entry), skipped without loading it");

  // Not ELF; an ELF header cut short; a real plugin cut before its section headers.
  write_file(t / "plugins/x.so", "not a library\n");
  write_file(t / "plugins/y.so", std::string("\x7f" "ELF\x02\x01\x01", 7));
  const std::string plugin = read_file(fs::path(TAMIS_PLUGIN_BUILD_DIR) / "libtamis_filter.so");
  write_file(t / "plugins/z.so", plugin.substr(0, plugin.size() / 2));
  r = run_tamis({"validate", (t / "p.yaml").string(), "--plugin-path", (t / "plugins").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_HAS(r.err, (t / "plugins/x.so").string() + ": cannot load plugin library: not an ELF shared object (14 bytes, no ELF header)");
  EXPECT_HAS(r.err, (t / "plugins/y.so").string() + ": cannot load plugin library: truncated ELF file (7 bytes, shorter than its header)");
  EXPECT_HAS(r.err, (t / "plugins/z.so").string() + ": cannot load plugin library: truncated or damaged ELF file (" +
                        std::to_string(plugin.size() / 2) + " bytes; its section headers are not inside it)");
  EXPECT_FALSE(contains(r.err, "Bad file descriptor")) << r.err;
  EXPECT_FALSE(fs::exists(t / "marker"));
}
#endif

}  // namespace
}  // namespace tamis::test
