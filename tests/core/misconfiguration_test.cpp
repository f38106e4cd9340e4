// No silent misconfiguration, with the built-in ops: a side file a stage will read must exist when the
// pipeline is validated (not when the run reaches the stage), and a stage that rejects (nearly) all its
// input for a missing field warns, naming the field and the fields the records do have.
#include <gtest/gtest.h>

#include <string>

#include "core_test_helpers.hpp"

namespace tamis::test {
namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

#define EXPECT_HAS(hay, needle) EXPECT_TRUE(contains(hay, needle)) << "missing: " << (needle) << "\nin:\n" << (hay)

constexpr const char* kRecords =
    "{\"id\": \"a\", \"problem\": \"What is 2+2? Give the number.\", \"answer\": \"4\"}\n"
    "{\"id\": \"b\", \"problem\": \"What is 3+3? Give the number.\", \"answer\": \"6\"}\n"
    "{\"id\": \"c\", \"problem\": \"What is 4+4? Give the number.\", \"answer\": \"8\"}\n"
    "{\"id\": \"d\", \"problem\": \"What is 5+5? Give the number.\", \"answer\": \"10\"}\n"
    "{\"id\": \"e\", \"problem\": \"What is 6+6? Give the number.\", \"answer\": \"12\"}\n"
    "{\"id\": \"f\", \"problem\": \"What is 7+7? Give the number.\", \"answer\": \"14\"}\n";

std::string pipeline(const std::string& stages) {
  return "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n" + stages +
         "sinks:\n  kept: { path: out/kept.jsonl }\n  report: { path: out/report.json, report: true }\n";
}

// ---------------------------------------------------------------- validate: files a stage reads

// The case: `tamis validate` said ok for a decontaminate reference file that does not exist.
TEST(Misconfiguration, ValidateRefusesADecontaminationReferenceThatDoesNotExist) {
  TempDir t;
  write_file(t / "in.jsonl", kRecords);
  write_file(t / "bench/aime.jsonl", "{\"id\": 1, \"problem\": \"Find the number of ordered pairs of integers.\"}\n");
  write_file(t / "p.yaml", pipeline("  decon:\n    uses: dedup.decontaminate\n    with:\n      references:\n"
                                    "        - { name: aime, path: bench/aime.jsonl }\n"
                                    "        - { name: amc, path: bench/amc.jsonl }\n"));
  for (const char* cmd : {"validate", "run"}) {
    const auto r = run_tamis({cmd, (t / "p.yaml").string()});
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_HAS(r.err, (t / "p.yaml").string() + ":9:9: error: stage 'decon': parameter 'references': input file '" +
                          (t / "bench/amc.jsonl").string() + "' does not exist");
    EXPECT_FALSE(contains(r.err, "aime.jsonl")) << r.err;
    EXPECT_FALSE(fs::exists(t / "out")) << "nothing read, nothing written";
  }
  write_file(t / "bench/amc.jsonl", "{\"id\": 1, \"problem\": \"How many positive divisors does 36 have?\"}\n");
  const auto ok = run_tamis({"validate", (t / "p.yaml").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// An index to load must exist; the one to save and the clusters file are written, so they need not.
TEST(Misconfiguration, DedupIndexToLoadMustExistIndexToSaveNeedNot) {
  TempDir t;
  write_file(t / "in.jsonl", kRecords);
  write_file(t / "p.yaml", pipeline("  exact:\n    uses: dedup.exact\n    with:\n      fields: [problem]\n"
                                    "      load_index: idx/old.idx\n      save_index: idx/new.idx\n"
                                    "      clusters: idx/clusters.jsonl\n"));
  const auto r = run_tamis({"validate", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_HAS(r.err, ":9:19: error: stage 'exact': parameter 'load_index': input file '" + (t / "idx/old.idx").string() +
                        "' does not exist");
  EXPECT_FALSE(contains(r.err, "new.idx")) << r.err;
  EXPECT_FALSE(contains(r.err, "clusters.jsonl")) << r.err;
  EXPECT_HAS(r.err, "tamis: 1 error in");
}

// ---------------------------------------------------------------- run: nearly all rejected for a missing field

// filter.require names the field it misses (Record::reject_missing_field): the warning names it, and the
// fields the records do have.
TEST(Misconfiguration, RequireOfAFieldNoRecordHasWarnsWithTheFieldsTheRecordsHave) {
  TempDir t;
  write_file(t / "in.jsonl", kRecords);
  write_file(t / "p.yaml", pipeline("  need:\n    uses: filter.require\n    with: { fields: [question] }\n"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << "a warning: " << r.err;
  EXPECT_EQ(r.err,
            "tamis: warning: stage 'need' (filter.require): 6 of 6 records rejected because field 'question' is missing or "
            "unusable (missing_field: field 'question' is missing or null); the records have: id, problem, answer. Check "
            "the stage's field parameters.\n");
  EXPECT_HAS(r.out, "  ! warning: 6 rejected for a missing field 'question'");
  const std::string report = read_file(t / "out/report.json");
  EXPECT_HAS(report, "{\"kind\": \"missing_field\", \"stage\": \"need\", \"op\": \"filter.require\", \"field\": \"question\", "
                     "\"reason\": \"missing_field\", \"detail\": \"field 'question' is missing or null\", \"rejected\": 6, "
                     "\"other_missing\": 0, \"in\": 6, \"record_fields\": [\"id\", \"problem\", \"answer\"]");
}

// An op that gives only a reason starting with `missing_` (grade's missing_response) is covered too: the
// warning names the reason and the first record's detail, since the field itself is not known.
TEST(Misconfiguration, AMissingReasonAloneWarnsToo) {
  TempDir t;
  write_file(t / "in.jsonl", kRecords);
  write_file(t / "p.yaml", pipeline("  g:\n    uses: grade.answer\n    with: { response_field: response, reject_incorrect: true }\n"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << "a warning: " << r.err;
  EXPECT_HAS(r.err, "tamis: warning: stage 'g' (grade.answer): 6 of 6 records rejected as missing_response (first: ");
  EXPECT_HAS(r.err, "the records have: id, problem, answer. Check the stage's field parameters.");
  EXPECT_HAS(r.out, "  ! warning: 6 rejected as missing_response");
  EXPECT_HAS(read_file(t / "out/report.json"), "\"field\": null, \"reason\": \"missing_response\"");
}

TEST(Misconfiguration, AStageThatFindsItsFieldsDoesNotWarn) {
  TempDir t;
  write_file(t / "in.jsonl", std::string(kRecords) + "{\"id\": \"g\", \"answer\": \"1\"}\n");
  write_file(t / "p.yaml", pipeline("  need:\n    uses: filter.require\n    with: { fields: [problem] }\n"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(contains(r.out, "warning")) << r.out;
  EXPECT_HAS(read_file(t / "out/report.json"), "\"warnings\": [],");
}

// The case on the real file: filter.format with problem_field: question on DeepScaleR's
// train_math, whose field is `problem`, rejected 7,474 of 7,474 and said nothing.
TEST(Misconfiguration, FormatFilterWithAMisnamedProblemFieldWarnsOnRealData) {
  const fs::path data = shared_data("deepscaler/train_math.jsonl");
  if (data.empty()) GTEST_SKIP() << "../shared/data is absent";
  TempDir t;
  write_file(t / "p.yaml", "version: 1\nsources:\n  ds: { path: \"" + data.string() +
                               "\" }\nstages:\n  format:\n    uses: grade.verifiable\n    with: { problem_field: question }\n"
                               "sinks:\n  kept: { path: out/kept.jsonl }\n  report: { path: out/report.json, report: true }\n");
  const auto r = run_tamis({"run", (t / "p.yaml").string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.err, "tamis: warning: stage 'format' (grade.verifiable): 7,474 of 7,474 records rejected because field 'question' "
                    "is missing or unusable (missing_problem: no string field 'question'); the records have: problem, answer, "
                    "difficulty, type.");
  EXPECT_HAS(read_file(t / "out/report.json"), "\"record_fields\": [\"problem\", \"answer\", \"difficulty\", \"type\"]");
}

}  // namespace
}  // namespace tamis::test
