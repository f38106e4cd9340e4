// Record ids and provenance (docs/pipeline-format.md, Record ids): a source without `id:` gives each
// record its content id SOURCE/HASH (.N for repeated lines), independent of paths, file names and
// line positions; the id and the source go out with the record, kept or rejected; a later run on the
// output keeps them; `annotations: false` on a records sink writes rows without the member.
// The expected ids come from test_support's content_ids(), written from the documented rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core_test_helpers.hpp"

namespace tamis::test {
namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }
#define EXPECT_HAS(hay, needle) EXPECT_TRUE(contains(hay, needle)) << "missing: " << (needle) << "\nin:\n" << (hay)

std::vector<std::string> field_of(const std::vector<std::string>& lines, const char* key) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(json_string(l, key));
  return out;
}

// The `tamis` member of an output line as compact text ("" when absent).
std::string annotations_of(const std::string& line) {
  const size_t at = line.find(",\"tamis\":");
  if (at == std::string::npos) return line.find("{\"tamis\":") == 0 ? line.substr(9, line.size() - 10) : "";
  return line.substr(at + 9, line.size() - at - 10);
}

const std::vector<std::string> kLines = {
    R"({"q":"What is 2+2?","a":"4"})",
    R"(  {"q":"What is 3+3?","a":"6"}  )",  // surrounding spaces are not part of the content
    R"({"q":"What is 2+2?","a":"4"})",      // the same bytes as the first: .2
    R"({"q":"What is 3+3?","a":"6"})",      // the same bytes as the second once trimmed: .2
    R"({"q":"Hi","a":"x"})",
    R"({"q":"What is 2+2?","a":"4"})",      // .3
};

std::string lines_text(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

std::string pipeline(const std::string& source, const std::string& path, const std::string& sink_extra = "") {
  return "version: 1\n"
         "sources:\n"
         "  " + source + ": { path: \"" + path + "\" }\n"
         "stages:\n"
         "  len:\n"
         "    uses: filter.length\n"
         "    with: { field: q, min: 5, annotate: true }\n"
         "sinks:\n"
         "  kept: { path: out/kept.jsonl, inputs: [len]" + sink_extra + " }\n"
         "  rejected: { path: out/rejected.jsonl, rejected: true }\n"
         "  ledger: { path: out/ledger.jsonl, ledger: true }\n";
}

TEST(RecordIds, ContentIdsFollowTheDocumentedRuleAndGoOutWithTheRecords) {
  TempDir t;
  write_file(t / "in.jsonl", lines_text(kLines));
  write_file(t / "p.yaml", pipeline("raw", "in.jsonl"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ids = content_ids("raw", kLines);
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids[2], ids[0] + ".2");
  EXPECT_EQ(ids[3], ids[1] + ".2");
  EXPECT_EQ(ids[5], ids[0] + ".3");
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "ids are unique";
  EXPECT_EQ(field_of(read_lines(t / "out/ledger.jsonl"), "id"), ids);
  // Kept and rejected records carry id and source first in the annotations member.
  const auto kept = read_lines(t / "out/kept.jsonl");
  ASSERT_EQ(kept.size(), 5u);
  size_t k = 0;
  for (size_t i = 0; i < kLines.size(); ++i) {
    if (i == 4) continue;  // "Hi" is too short
    EXPECT_EQ(annotations_of(kept[k]), "{\"id\":\"" + ids[i] + "\",\"source\":\"raw\",\"length\":12}") << kept[k];
    ++k;
  }
  const auto rejected = read_lines(t / "out/rejected.jsonl");
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].rfind("{\"q\":\"Hi\",\"a\":\"x\",\"tamis\":{\"id\":\"" + ids[4] + "\",\"source\":\"raw\",\"length\":2,", 0), 0u)
      << rejected[0];
}

// The same lines in a file of another name, in another folder, reached through another relative
// path, give the same ids; lines in another order keep theirs (only the .N of repeats follows the
// reading order).
TEST(RecordIds, IdsDoNotDependOnThePathTheFileNameOrTheLinePositions) {
  TempDir t;
  write_file(t / "a/in.jsonl", lines_text(kLines));
  write_file(t / "elsewhere/deeper/renamed.jsonl", lines_text(kLines));
  std::vector<std::string> reordered = {kLines[4], kLines[1], kLines[0]};
  write_file(t / "r.jsonl", lines_text(reordered));
  write_file(t / "a/p.yaml", pipeline("raw", "in.jsonl"));
  write_file(t / "p2.yaml", pipeline("raw", "elsewhere/deeper/renamed.jsonl"));
  write_file(t / "p3.yaml", pipeline("raw", "r.jsonl"));
  ASSERT_EQ(run_tamis({"run", (t / "a/p.yaml").string()}).exit_code, 0);
  ASSERT_EQ(run_tamis({"run", "p2.yaml"}, t.path()).exit_code, 0);
  ASSERT_EQ(run_tamis({"run", (t / "p3.yaml").string()}).exit_code, 0);
  const auto first = field_of(read_lines(t / "a/out/ledger.jsonl"), "id");
  EXPECT_EQ(field_of(read_lines(t / "out/ledger.jsonl"), "id").size(), 3u);
  EXPECT_EQ(field_of(read_lines(t / "out/ledger.jsonl"), "id"), (std::vector<std::string>{first[4], first[1], first[0]}));
  ASSERT_EQ(run_tamis({"run", "p2.yaml"}, t.path()).exit_code, 0);
  EXPECT_EQ(field_of(read_lines(t / "out/ledger.jsonl"), "id"), first);
  for (const auto& id : first) EXPECT_EQ(id.find("jsonl"), std::string::npos) << "no file name in " << id;
}

// Repeats are counted across batches and files of a source, the same for any thread count, and a
// first pass (dedup.exact with `prefer`) does not count the lines twice.
TEST(RecordIds, RepeatsAcrossBatchesAndFilesAnyThreadsAndAFirstPass) {
  TempDir t;
  std::vector<std::string> lines;
  for (int i = 0; i < 3000; ++i) lines.push_back("{\"q\":\"problem number " + std::to_string(i % 700) + "\",\"a\":\"1\"}");
  const std::vector<std::string> one(lines.begin(), lines.begin() + 1700), two(lines.begin() + 1700, lines.end());
  write_file(t / "d/1.jsonl", lines_text(one));
  write_file(t / "d/2.jsonl", lines_text(two));
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  s: \"d/*.jsonl\"\n"
             "stages:\n"
             "  dedup:\n"
             "    uses: dedup.exact\n"
             "    with: { fields: [q], prefer: [longer] }\n"
             "sinks:\n"
             "  kept: { path: out/kept.jsonl }\n"
             "  ledger: { path: out/ledger.jsonl, ledger: true }\n");
  const auto expected = content_ids("s", lines);
  std::string kept_before;
  for (const char* threads : {"1", "2", "4"}) {
    const auto r = run_tamis({"run", (t / "p.yaml").string(), "--threads", threads, "--batch-bytes", "4096"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(field_of(read_lines(t / "out/ledger.jsonl"), "id"), expected) << threads << " threads";
    const std::string kept = read_file(t / "out/kept.jsonl");
    if (!kept_before.empty()) {
      EXPECT_TRUE(kept == kept_before) << threads << " threads";
    }
    kept_before = kept;
  }
  EXPECT_EQ(read_lines(t / "out/kept.jsonl").size(), 700u);
  EXPECT_EQ(expected[2999], expected[2999 - 4 * 700] + ".5");
}

// A run on an earlier run's output (no `id:`) keeps the ids and the source the records entered
// through; its own annotations come after them.
TEST(RecordIds, ALaterRunOnTheOutputKeepsTheIdsAndTheFirstSource) {
  TempDir t;
  write_file(t / "in.jsonl", lines_text(kLines));
  write_file(t / "p.yaml", pipeline("raw", "in.jsonl"));
  ASSERT_EQ(run_tamis({"run", (t / "p.yaml").string()}).exit_code, 0);
  fs::rename(t / "out", t / "first");
  write_file(t / "p2.yaml",
             "version: 1\n"
             "sources:\n"
             "  again: first/kept.jsonl\n"
             "stages:\n"
             "  len2:\n"
             "    uses: filter.length\n"
             "    with: { field: a, annotate: true }\n"
             "sinks:\n"
             "  kept: { path: out/kept.jsonl }\n"
             "  ledger: { path: out/ledger.jsonl, ledger: true }\n");
  const auto r = run_tamis({"run", (t / "p2.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ids = content_ids("raw", kLines);
  const std::vector<std::string> kept_ids = {ids[0], ids[1], ids[2], ids[3], ids[5]};
  const auto ledger = read_lines(t / "out/ledger.jsonl");
  EXPECT_EQ(field_of(ledger, "id"), kept_ids);
  EXPECT_EQ(field_of(ledger, "source"), std::vector<std::string>(5, "again")) << "the ledger names where it was read";
  const auto kept = read_lines(t / "out/kept.jsonl");
  ASSERT_EQ(kept.size(), 5u);
  for (size_t i = 0; i < kept.size(); ++i)
    EXPECT_EQ(annotations_of(kept[i]), "{\"id\":\"" + kept_ids[i] + "\",\"source\":\"raw\",\"length\":1}") << kept[i];
  // The first run's `tamis` member is replaced, not doubled.
  for (const auto& l : kept) EXPECT_EQ(l.find("\"tamis\""), l.rfind("\"tamis\"")) << l;
}

// With `id:` the record names itself: no provenance annotations, bytes unchanged.
TEST(RecordIds, AnIdFieldIsTheIdAndAddsNothing) {
  TempDir t;
  const std::string in = "{\"id\":\"p1\",\"q\":\"What is 2+2?\"}\n{\"id\":7,\"q\":\"What is 3+3?\"}\n";
  write_file(t / "in.jsonl", in);
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nsinks:\n"
                           "  kept: { path: out/kept.jsonl }\n  ledger: { path: out/ledger.jsonl, ledger: true }\n");
  ASSERT_EQ(run_tamis({"run", (t / "p.yaml").string()}).exit_code, 0);
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), in);
  EXPECT_EQ(field_of(read_lines(t / "out/ledger.jsonl"), "id"), (std::vector<std::string>{"p1", "7"}));
}

// `annotations: false` on a records sink: the rows without the member (an earlier run's member
// removed too), the other sinks unchanged; refused on a rejected sink.
TEST(RecordIds, AnnotationsFalseWritesRowsWithoutTheMember) {
  TempDir t;
  write_file(t / "in.jsonl", lines_text({kLines[0], kLines[4], R"({"q":"What is 5+5?","tamis":{"old":1}})"}));
  write_file(t / "p.yaml", pipeline("raw", "in.jsonl", ", annotations: false"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), kLines[0] + "\n" + "{\"q\":\"What is 5+5?\"}\n");
  EXPECT_NE(read_file(t / "out/rejected.jsonl").find("\"tamis\":{\"id\":"), std::string::npos);
  write_file(t / "bad.yaml", "version: 1\nsources:\n  s: in.jsonl\nsinks:\n"
                             "  kept: { path: out/kept.jsonl, annotations: maybe }\n"
                             "  rejected: { path: out/rejected.jsonl, rejected: true, annotations: false }\n");
  const auto bad = run_tamis({"validate", (t / "bad.yaml").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_HAS(bad.err, "sink 'kept': 'annotations' must be true or false");
  EXPECT_HAS(bad.err, "sink 'rejected': 'annotations: false' is for record sinks");
}

}  // namespace
}  // namespace tamis::test
