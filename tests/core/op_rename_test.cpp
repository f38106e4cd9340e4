// Renamed ops (`<family>.<verb>`): a pipeline naming an op by its former name validates and runs, with
// one deprecation warning per such stage, and writes the same bytes as with the new name; the report
// names the new op; `tamis plugins list/info/docs` show the former names; a former name that is another
// op's name is refused at load; a plugin built with an earlier or later tamis_op_desc of ABI 3 loads.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core_test_helpers.hpp"

namespace tamis::test {
namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

#define EXPECT_HAS(hay, needle) EXPECT_TRUE(contains(hay, needle)) << "missing: " << (needle) << "\nin:\n" << (hay)

const fs::path kFixtures = FIXTURE_RENAME_PLUGINS;

// The renames of issue 15, in the order of the stages below: former name → name.
const std::vector<std::pair<std::string, std::string>> kRenames = {
    {"filter.format", "grade.verifiable"}, {"decontaminate", "dedup.decontaminate"}, {"grade", "grade.answer"},
    {"difficulty", "grade.difficulty"},    {"langid", "lang.identify"},             {"translate_tag", "translate.tag"},
    {"sample", "filter.sample"},
};

// Records each renamed op acts on: proofs and a missing answer (verifiable), a benchmark copy
// (decontaminate), right and wrong responses (answer), easy and hard rollouts (difficulty), French
// (identify), the hash-chosen fraction (tag, sample).
std::string records() {
  std::string out;
  const char* problems[] = {
      "What is the sum of 17 and 25? Give the number only.",
      "Prove that there are infinitely many prime numbers.",
      "Find the number of ordered pairs of positive integers whose product is 36.",
      "Quel est le produit de 6 et de 7 ? Donne seulement le nombre.",
      "A train travels 120 kilometres in two hours. What is its average speed in kilometres per hour?",
      "How many positive divisors does the number 48 have in total?",
      "Compute the remainder when 2 to the power 10 is divided by 7.",
      "What is the least common multiple of 12 and 18?",
      "If x + 3 = 11, what is the value of x?",
      "How many edges does a cube have?",
      "What is 9 times 8?",
      "Evaluate 100 minus 37.",
  };
  const char* answers[] = {"42", "1", "9", "42", "60", "10", "2", "36", "8", "12", "72", "63"};
  for (int i = 0; i < 12; ++i) {
    const std::string a = answers[i];
    const std::string wrong = a + "1";
    // Pass rates from 0 to 1 over the records, so the difficulty band keeps some and rejects others; the
    // wrong rollouts all differ (no wrong majority, no suspect label).
    std::string rollouts = "[";
    for (int k = 0; k < 4; ++k)
      rollouts += std::string(k ? ", " : "") + "\"" + (k < i % 5 ? a : a + std::to_string(k + 1)) + "\"";
    rollouts += "]";
    out += "{\"id\": \"r" + std::to_string(i) + "\", \"problem\": \"" + problems[i] + "\", \"answer\": \"" + a +
           "\", \"response\": \"The answer is \\\\boxed{" + (i % 3 ? a : wrong) + "}.\", \"rollouts\": " + rollouts + "}\n";
  }
  return out;
}

// The stage bodies, `uses` first, with each op's name as `name_of` gives it (former or new).
std::string pipeline(const std::function<std::string(size_t)>& name_of) {
  const char* with[] = {
      "{}",
      "{references: [{name: bench, path: bench.jsonl}]}",
      "{response_field: response, reference_field: answer}",
      "{answers_field: rollouts, reference_field: answer, min: 0.2, max: 0.8, inclusive: true}",
      "{fields: [problem], allow: [en]}",
      "{fraction: 0.5, mode: copy, languages: [fr, de]}",
      "{fraction: 0.5, seed: 0}",
  };
  std::string out = "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n";
  for (size_t i = 0; i < kRenames.size(); ++i)
    out += "  st" + std::to_string(i) + ":\n    uses: " + name_of(i) + "\n    with: " + with[i] + "\n";
  out += "sinks:\n"
         "  kept: { path: out/kept.jsonl }\n"
         "  rejected: { path: out/rejected.jsonl, rejected: true }\n"
         "  ledger: { path: out/ledger.jsonl, ledger: true }\n"
         "  report: { path: out/report.json, report: true }\n";
  return out;
}

// The (name, op) of every stage of a report.json, in order.
std::vector<std::pair<std::string, std::string>> report_ops(const fs::path& report) {
  std::vector<std::pair<std::string, std::string>> out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string text = read_file(report);
  EXPECT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << text;
  simdjson::dom::array stages;
  EXPECT_EQ(doc["stages"].get_array().get(stages), simdjson::SUCCESS) << text;
  for (auto st : stages) {
    std::string_view name, op;
    EXPECT_EQ(st["name"].get_string().get(name), simdjson::SUCCESS);
    EXPECT_EQ(st["op"].get_string().get(op), simdjson::SUCCESS);
    out.emplace_back(std::string(name), std::string(op));
  }
  return out;
}

void write_inputs(const TempDir& t) {
  write_file(t / "in.jsonl", records());
  write_file(t / "bench.jsonl",
             "{\"id\": \"b1\", \"problem\": \"Find the number of ordered pairs of positive integers whose product is 36.\"}\n");
}

TEST(OpRename, EachFormerNameRunsWithOneWarningPerStageAndTheBytesOfTheNewName) {
  TempDir old_dir, new_dir;
  write_inputs(old_dir);
  write_inputs(new_dir);
  write_file(old_dir / "p.yaml", pipeline([](size_t i) { return kRenames[i].first; }));
  write_file(new_dir / "p.yaml", pipeline([](size_t i) { return kRenames[i].second; }));
  const std::string old_file = (old_dir / "p.yaml").string();

  // validate and run say the same thing: one warning per stage, at its `uses` line (stage st<i> is on
  // line 5 + 3i, its `uses` on the next), naming the stage, both names and the release that drops the old.
  for (const char* cmd : {"validate", "run"}) {
    const auto r = run_tamis({cmd, old_file, "--threads", "3"});
    ASSERT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
    EXPECT_EQ(count_occurrences(r.err, "was renamed"), kRenames.size()) << cmd << ": " << r.err;
    for (size_t i = 0; i < kRenames.size(); ++i) {
      const auto& [was, now] = kRenames[i];
      const std::string line = std::to_string(6 + 3 * i);
      EXPECT_EQ(count_occurrences(r.err, "stage 'st" + std::to_string(i) + "'"), 1u) << cmd << ": " << r.err;
      EXPECT_HAS(r.err, "warning: " + old_file + ":" + line + ": stage 'st" + std::to_string(i) + "': op '" + was +
                            "' was renamed '" + now + "'; the old name still works in tamis 0.1.0 and goes away in "
                            "tamis 0.2.0: write `uses: " + now + "`");
    }
  }
  const auto fresh = run_tamis({"run", (new_dir / "p.yaml").string(), "--threads", "3"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_FALSE(contains(fresh.err, "renamed")) << fresh.err;

  // The same records, verdicts and ledger, byte for byte; every op did something.
  for (const char* f : {"out/kept.jsonl", "out/rejected.jsonl", "out/ledger.jsonl"})
    EXPECT_EQ(read_file(old_dir / f), read_file(new_dir / f)) << f;
  const std::string rejected = read_file(new_dir / "out/rejected.jsonl");
  for (const char* reason : {"proof", "contaminated", "too_hard", "too_easy", "language", "sampled_out"})
    EXPECT_HAS(rejected, "\"reason\":\"" + std::string(reason) + "\"");
  EXPECT_HAS(read_file(new_dir / "out/kept.jsonl"), "\"translate_to\":");  // translate.tag's copies
  const auto totals = report_totals(new_dir / "out/report.json");
  EXPECT_GT(totals.kept, 0u);

  // The report names each stage as the pipeline does and its op by the new name, whichever was written.
  const auto ops = report_ops(old_dir / "out/report.json");
  ASSERT_EQ(ops.size(), kRenames.size());
  for (size_t i = 0; i < kRenames.size(); ++i) {
    EXPECT_EQ(ops[i].first, "st" + std::to_string(i));
    EXPECT_EQ(ops[i].second, kRenames[i].second);
  }
  EXPECT_EQ(ops, report_ops(new_dir / "out/report.json"));
}

TEST(OpRename, PluginsListInfoAndDocsShowTheFormerNames) {
  auto list = run_tamis({"plugins", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  list.out = "\n" + list.out;
  for (const auto& [was, now] : kRenames) {
    const size_t at = list.out.find("\n" + now + " ");
    ASSERT_NE(at, std::string::npos) << now << "\n" << list.out;
    const size_t next = list.out.find("\n", list.out.find("\n", list.out.find("\n", at + 1) + 1) + 1);
    EXPECT_HAS(list.out.substr(at, next - at), "formerly " + was + " (deprecated; goes away in tamis 0.2.0)");
  }
  EXPECT_FALSE(contains(list.out, "\nsample ")) << "a former name is not listed as an op of its own";

  const auto info = run_tamis({"plugins", "info", "langid"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_EQ(info.out.rfind("lang.identify (record op)", 0), 0u) << info.out;
  EXPECT_HAS(info.out, "formerly: langid (deprecated; goes away in tamis 0.2.0)");

  const auto docs = run_tamis({"plugins", "docs"});
  ASSERT_EQ(docs.exit_code, 0) << docs.err;
  for (const auto& [was, now] : kRenames) {
    const size_t at = docs.out.find("\n## " + now + "\n");
    ASSERT_NE(at, std::string::npos) << now;
    const size_t end = docs.out.find("\n## ", at + 1);
    EXPECT_HAS(docs.out.substr(at, end - at), "Former name: `" + was +
                                                  "` (deprecated: still accepted, with a warning; goes away in tamis 0.2.0).");
  }
}

TEST(OpRename, AFormerNameThatIsAnotherOpsNameIsRefusedAtLoad) {
  const std::string dir = (kFixtures / "clash").string();
  const std::string lib = (kFixtures / "clash/libfixture_former_name_clash.so").string();
  const auto r = run_tamis({"plugins", "list", "--plugin-path", dir});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // Within the plugin: a former name that is the name of one of its own ops.
  EXPECT_HAS(r.err, "op 'fixture.self' of " + lib + " declares the former name 'fixture.clash', which is the name of an op of " +
                        lib + "; a former name may not be another op's name or former name: remove it from the former "
                        "names of 'fixture.self'");
  // Across plugins (the fixture is loaded first): a later op whose name an earlier op declared as former.
  EXPECT_HAS(r.err, "op 'filter.length' of " + (fs::path(TAMIS_PLUGIN_BUILD_DIR) / "libtamis_filter.so").string() +
                        " has the name that op 'fixture.clash' of " + lib + " declares as its former name");

  // Nothing runs with such a plugin on the path, whichever op the pipeline names.
  TempDir t;
  write_file(t / "in.jsonl", "{\"id\": \"a\", \"text\": \"hello there\"}\n");
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n"
                           "  len: { uses: filter.length, with: { field: text } }\nsinks:\n  kept: { path: out.jsonl }\n");
  const auto v = run_tamis({"validate", (t / "p.yaml").string(), "--plugin-path", dir});
  EXPECT_EQ(v.exit_code, 2) << v.err;
  EXPECT_HAS(v.err, "declares the former name 'fixture.clash'");
  const auto ok = run_tamis({"validate", (t / "p.yaml").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// A plugin whose tamis_op_desc is shorter (built with an earlier SDK of ABI 3, without former_names) or
// longer (a later one) than the host's: the host steps through its ops by their struct_size.
TEST(OpRename, PluginsBuiltWithAnEarlierOrLaterOpLayoutLoadAndRun) {
  TempDir t;
  write_file(t / "in.jsonl", "{\"id\": \"a\"}\n{\"id\": \"b\"}\n{\"id\": \"c\"}\n");
  auto pipeline_using = [&](const std::string& op) {
    write_file(t / "p.yaml", "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n  all:\n    uses: " + op +
                                 "\nsinks:\n  kept: { path: out/kept.jsonl }\n  report: { path: out/report.json, report: true }\n");
  };
  for (const char* layout : {"earlier", "later"}) {
    const std::string dir = (kFixtures / layout).string();
    const auto list = run_tamis({"plugins", "list", "--plugin-path", dir});
    ASSERT_EQ(list.exit_code, 0) << layout << ": " << list.err;
    EXPECT_HAS(list.out, "fixture.keep_all");
    EXPECT_HAS(list.out, "fixture.reject_all");

    pipeline_using("fixture.reject_all");  // the second op of the array
    const auto r = run_tamis({"run", (t / "p.yaml").string(), "--plugin-path", dir});
    ASSERT_EQ(r.exit_code, 0) << layout << ": " << r.err;
    const auto totals = report_totals(t / "out/report.json");
    EXPECT_EQ(totals.read, 3u);
    EXPECT_EQ(totals.rejected, 3u) << layout;
  }
  // Only the later layout has former_names (the earlier one's bytes end before it).
  EXPECT_HAS(run_tamis({"plugins", "list", "--plugin-path", (kFixtures / "later").string()}).out,
             "formerly fixture.old_reject_all");
  EXPECT_FALSE(contains(run_tamis({"plugins", "list", "--plugin-path", (kFixtures / "earlier").string()}).out, "formerly fixture."));
  pipeline_using("fixture.old_reject_all");
  const auto later = run_tamis({"run", (t / "p.yaml").string(), "--plugin-path", (kFixtures / "later").string()});
  ASSERT_EQ(later.exit_code, 0) << later.err;
  EXPECT_HAS(later.err, "op 'fixture.old_reject_all' was renamed 'fixture.reject_all'");
  EXPECT_EQ(report_totals(t / "out/report.json").rejected, 3u);
  const auto earlier = run_tamis({"validate", (t / "p.yaml").string(), "--plugin-path", (kFixtures / "earlier").string()});
  EXPECT_EQ(earlier.exit_code, 2);
  EXPECT_HAS(earlier.err, "unknown op 'fixture.old_reject_all'");
}

}  // namespace
}  // namespace tamis::test
