// Parquet through `tamis run`: a source of kind parquet (`*.parquet` or `format: parquet`) and sinks
// whose path ends in .parquet (schema declared or inferred), with the run's guarantees: same bytes at any
// thread count, nothing written when the run fails or is a dry run, clear errors. Skips when tamis was
// built without DuckDB (docs/parquet.md); the independent reader check skips without node + hyparquet.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "core_test_helpers.hpp"

namespace tamis::test {
namespace {

#ifndef TAMIS_HAVE_PARQUET
#define SKIP_WITHOUT_PARQUET() GTEST_SKIP() << "tamis was built without Parquet support (DuckDB)"
#else
#define SKIP_WITHOUT_PARQUET() (void)0
#endif

// Problems with nested columns, as HF RL sets have them: a list of messages, a struct, numbers.
std::string problems(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += "{\"id\":\"q" + std::to_string(i) + "\",\"problem\":\"What is " + std::to_string(i) + " + " + std::to_string(i * 7) +
           "? " + std::string(static_cast<size_t>(i % 5) * 10, 'x') + "\",\"answer\":\"" + std::to_string(i * 8) +
           "\",\"prompt\":[{\"role\":\"user\",\"content\":\"q" + std::to_string(i) + "\"}],\"meta\":{\"level\":" +
           std::to_string(i % 5) + ",\"score\":" + std::to_string(i) + ".5,\"tags\":[\"a\",\"b\"]}}\n";
  }
  return out;
}

std::string minified(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).get(e) != simdjson::SUCCESS) return "(not JSON) " + json;
  return simdjson::minify(e);
}

std::vector<std::string> lines_of(const fs::path& f) { return read_lines(f); }

const char* kPipeline =
    "version: 1\n"
    "sources:\n"
    "  s: { path: in.jsonl, id: id }\n"
    "stages:\n"
    "  len: { uses: filter.length, with: { field: problem, min: 30 } }\n"
    "sinks:\n"
    "  kept: { path: out/kept.parquet }\n"
    "  copy: { path: out/kept.jsonl }\n"
    "  rejected: { path: out/rejected.parquet, rejected: true }\n";

TEST(ParquetPipeline, SinkAndSourceRoundTripTheRecords) {
  SKIP_WITHOUT_PARQUET();
  TempDir t;
  write_file(t / "in.jsonl", problems(40));
  write_file(t / "p.yaml", kPipeline);
  auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("read 40 = kept 24 + rejected 16 + errors 0  (balanced)"), std::string::npos) << r.out;
  // Read back with a Parquet source: the same records as the JSONL sink wrote, in the same order.
  write_file(t / "back.yaml", "version: 1\nsources:\n  pq: { path: out/kept.parquet, id: id }\nsinks:\n  kept: { path: back/kept.jsonl }\n");
  r = run_tamis({"run", (t / "back.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto want = lines_of(t / "out/kept.jsonl"), got = lines_of(t / "back/kept.jsonl");
  ASSERT_EQ(got.size(), 24u);
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(minified(got[i]), minified(want[i])) << i;
  // The rejected sink as Parquet too: the records with their rejection (read under another annotation
  // field, else this run would replace the `tamis` member with its own annotations).
  write_file(t / "rej.yaml", "version: 1\nsources:\n  pq: out/rejected.parquet\nannotations: { field: again }\n"
                             "sinks:\n  kept: { path: rej/all.jsonl }\n");
  r = run_tamis({"run", (t / "rej.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rej = lines_of(t / "rej/all.jsonl");
  ASSERT_EQ(rej.size(), 16u);
  EXPECT_NE(rej[0].find("\"reason\":\"too_short\""), std::string::npos) << rej[0];
  // format: parquet reads a file of another name.
  fs::copy_file(t / "out/kept.parquet", t / "data.bin");
  write_file(t / "fmt.yaml", "version: 1\nsources:\n  pq: { path: data.bin, format: parquet }\nsinks:\n  kept: { path: fmt/kept.jsonl }\n");
  r = run_tamis({"run", (t / "fmt.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines_of(t / "fmt/kept.jsonl").size(), 24u);
}

TEST(ParquetPipeline, SameBytesAtAnyThreadCount) {
  SKIP_WITHOUT_PARQUET();
  TempDir t;
  write_file(t / "in.jsonl", problems(3000));
  write_file(t / "p.yaml", kPipeline);
  ASSERT_EQ(run_tamis({"run", (t / "p.yaml").string(), "--threads", "1", "--batch-bytes", "20000"}).exit_code, 0);
  const std::string one = read_file(t / "out/kept.parquet");
  ASSERT_EQ(run_tamis({"run", (t / "p.yaml").string(), "--threads", "3", "--batch-bytes", "7000"}).exit_code, 0);
  EXPECT_EQ(read_file(t / "out/kept.parquet"), one);
  EXPECT_GT(one.size(), 1000u);
}

TEST(ParquetPipeline, ADeclaredSchemaIsEnforcedAndAMisfitWritesNothing) {
  SKIP_WITHOUT_PARQUET();
  TempDir t;
  write_file(t / "in.jsonl", problems(10));
  const std::string good =
      "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nsinks:\n"
      "  kept: { path: out/kept.parquet, compression: snappy, row_group_rows: 4,\n"
      "          schema: { id: string, problem: string, answer: string, prompt: \"list<struct<role: string, content: string>>\","
      " meta: json } }\n";
  write_file(t / "p.yaml", good);
  auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string before = read_file(t / "out/kept.parquet");
  // answer declared an integer: the first row's string does not fit; the run fails naming the sink,
  // the line and the column, and the earlier output stays as it was.
  std::string bad = good;
  bad.replace(bad.find("answer: string"), 14, "answer: int64");
  write_file(t / "p.yaml", bad);
  r = run_tamis({"run", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("sink 'kept'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("answer"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no output file was written or changed"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(t / "out/kept.parquet"), before);
  EXPECT_FALSE(has_temporary(t / "out")) << "a temporary was left behind";
}

TEST(ParquetPipeline, NoRowsNeedsADeclaredSchema) {
  SKIP_WITHOUT_PARQUET();
  TempDir t;
  write_file(t / "in.jsonl", problems(5));
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: in.jsonl\nstages:\n  len: { uses: filter.length, with: { field: problem, min: 1000 } }\n"
                           "sinks:\n  kept: { path: out/kept.parquet }\n");
  auto r = run_tamis({"run", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("got no rows and has no `schema:`"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(t / "out/kept.parquet"));
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: in.jsonl\nstages:\n  len: { uses: filter.length, with: { field: problem, min: 1000 } }\n"
                           "sinks:\n  kept: { path: out/kept.parquet, schema: \"problem: string, answer: string\" }\n");
  r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(t / "out/kept.parquet"));
}

TEST(ParquetPipeline, ADryRunWritesNoParquet) {
  SKIP_WITHOUT_PARQUET();
  TempDir t;
  write_file(t / "in.jsonl", problems(10));
  write_file(t / "p.yaml", kPipeline);
  const auto r = run_tamis({"run", (t / "p.yaml").string(), "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(t / "out"));
}

TEST(ParquetPipeline, PipelineFileErrors) {
  SKIP_WITHOUT_PARQUET();
  TempDir t;
  write_file(t / "in.jsonl", problems(3));
  write_file(t / "x.parquet", "not parquet");
  struct Case {
    std::string yaml, want;
  } cases[] = {
      {"sources:\n  s: in.jsonl\nsinks:\n  kept: { path: out/kept.jsonl, schema: \"a: string\" }\n", "'schema' is for Parquet sinks"},
      {"sources:\n  s: in.jsonl\nsinks:\n  kept: { path: out/kept.parquet, compression: lz4 }\n", "compression must be zstd, snappy or none"},
      {"sources:\n  s: in.jsonl\nsinks:\n  kept: { path: out/kept.parquet, schema: { a: \"list<strin>\" } }\n", "schema:"},
      {"sources:\n  s: in.jsonl\nsinks:\n  kept: { path: out/kept.parquet, level: 3 }\n", "takes compression:, not level:"},
      {"sources:\n  s: { path: in.jsonl, format: xml }\nsinks:\n  kept: out/kept.jsonl\n", "unknown format 'xml'"},
      {"sources:\n  s: \"*.*\"\nsinks:\n  kept: { path: out/kept.jsonl }\n", "matches files of two formats"},
  };
  for (const auto& c : cases) {
    write_file(t / "p.yaml", "version: 1\n" + c.yaml);
    const auto r = run_tamis({"validate", (t / "p.yaml").string()});
    EXPECT_EQ(r.exit_code, 2) << c.yaml;
    EXPECT_NE(r.err.find(c.want), std::string::npos) << c.yaml << "\n" << r.err;
  }
  // A file that is not Parquet: the run fails naming it.
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: x.parquet\nsinks:\n  kept: { path: out/kept.jsonl }\n");
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("x.parquet"), std::string::npos) << r.err;
}

// An independent reader (npm's hyparquet) reads what the sink wrote and finds the JSONL sink's records.
TEST(ParquetPipeline, HyparquetReadsTheSink) {
  SKIP_WITHOUT_PARQUET();
  const char* env = std::getenv("TAMIS_DEPS_PREFIX");
  const fs::path modules = fs::path(env ? env : "/opt/tamis-deps") / "npm" / "node_modules";
  if (!fs::exists(modules / "hyparquet") || run_shell("node --version >/dev/null 2>&1").exit_code != 0)
    GTEST_SKIP() << "node or hyparquet absent (scripts/install-deps.sh installs them)";
  TempDir t;
  write_file(t / "in.jsonl", problems(40));
  write_file(t / "p.yaml", kPipeline);
  ASSERT_EQ(run_tamis({"run", (t / "p.yaml").string()}).exit_code, 0);
  const auto r = run_shell("node '" + (source_dir() / "tests/core/parquet/read.mjs").string() + "' '" + modules.string() + "' '" +
                           (t / "out/kept.parquet").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> rows;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (!line.starts_with("#")) rows.push_back(line);
  const auto want = lines_of(t / "out/kept.jsonl");
  ASSERT_EQ(rows.size(), want.size());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(minified(rows[i]), minified(want[i])) << i;
}

}  // namespace
}  // namespace tamis::test
