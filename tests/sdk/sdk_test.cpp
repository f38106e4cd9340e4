// The plugin boundary: ABI version checks, duplicate ops, library lifetime, and the three op kinds
// (ordered, expanding, record) with their failure paths, through fixture plugins built with the SDK.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <unistd.h>

#include <tamis/abi.h>

#include "plugin/registry.hpp"
#include "test_support.hpp"

namespace tamis::test {
namespace {

const fs::path kFixtures = FIXTURE_PLUGINS;

std::string pipeline_with(const std::string& stages, const std::string& sinks_extra = "") {
  return "version: 1\nsources:\n  in: { path: in.jsonl, id: id }\nstages:\n" + stages +
         "sinks:\n  kept: { path: out/kept.jsonl }\n  rejected: { path: out/rejected.jsonl, rejected: true }\n"
         "  ledger: { path: out/ledger.jsonl, ledger: true }\n  report: { path: out/report.json, report: true }\n" +
         sinks_extra;
}

TEST(Abi, PluginBuiltForAnotherAbiIsRefusedNamingFileAndBothVersions) {
  const auto r = run_tamis({"plugins", "list", "--plugin-path", (kFixtures / "abi").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find((kFixtures / "abi" / "libfixture_abi_mismatch.so").string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ABI version 999"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ABI version " + std::to_string(TAMIS_ABI_VERSION)), std::string::npos) << r.err;
}

TEST(Abi, RunRefusesToStartWithARefusedPlugin) {
  TempDir d;
  write_file(d / "in.jsonl", "{\"id\": \"a\", \"p\": \"x\"}\n");
  write_file(d / "p.yaml", pipeline_with("  s:\n    uses: filter.length\n    with: { field: p }\n"));
  const auto r = run_tamis({"run", (d / "p.yaml").string(), "--plugin-path", (kFixtures / "abi").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("ABI version 999"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "out" / "kept.jsonl"));
}

TEST(Abi, AnUnresolvedSymbolIsRefusedAtLoadNamingThePlugin) {
  const auto r = run_tamis({"plugins", "list", "--plugin-path", (kFixtures / "unresolved").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find((kFixtures / "unresolved" / "libfixture_unresolved.so").string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tamis_fixture_function_nobody_defines"), std::string::npos) << r.err;
}

TEST(Abi, HeaderIsPinned) {
  // Changing tamis/abi.h changes what plugins were compiled against. When you change it on purpose,
  // bump TAMIS_ABI_VERSION if an old plugin would misread the new layout, then update this hash.
  const std::string text = read_file(source_dir() / "sdk/include/tamis/abi.h");
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  EXPECT_EQ(h, ABI_HEADER_HASH) << "sdk/include/tamis/abi.h changed: new hash " << h;
}

TEST(Plugins, TwoPluginsOfferingOneOpNameIsAnErrorNamingBothFiles) {
  const auto r = run_tamis({"plugins", "list", "--plugin-path", (kFixtures / "dup").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'filter.length' is offered by two plugins"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("libfixture_duplicate.so"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("libtamis_filter.so"), std::string::npos) << r.err;
}

TEST(Plugins, InfoShowsTheParameterTable) {
  const auto r = run_tamis({"plugins", "info", "test.first_seen", "--plugin-path", (kFixtures / "ops").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("test.first_seen (ordered op)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("field"), std::string::npos);
  EXPECT_NE(r.out.find("required"), std::string::npos);
  const auto missing = run_tamis({"plugins", "info", "filter.lenght"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("did you mean 'filter.length'?"), std::string::npos) << missing.err;
}

TEST(Lifetime, LibraryStaysLoadedWhileAnOpHandleLives) {
  const std::string path = (fs::path(TAMIS_PLUGIN_BUILD_DIR) / "libtamis_filter.so").string();
  ASSERT_EQ(dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD), nullptr) << "the plugin is loaded before the test";
  std::optional<OpHandle> handle;
  {
    Registry registry;
    ASSERT_TRUE(registry.load_file(path));
    const OpHandle* op = registry.find("filter.length");
    ASSERT_NE(op, nullptr);
    handle = *op;
  }  // the registry is gone
  void* probe = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(probe, nullptr) << "the library was unloaded while an OpHandle still refers to it";
  dlclose(probe);
  EXPECT_STREQ(handle->desc->name, "filter.length");  // its static data is still readable
  handle.reset();
  EXPECT_EQ(dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD), nullptr) << "the library outlived its last handle";
}

TEST(OrderedOp, KeepsTheFirstOccurrenceInInputOrderForAnyThreadCount) {
  TempDir d;
  std::string in;
  for (int i = 0; i < 30000; ++i) in += "{\"id\": \"r" + std::to_string(i) + "\", \"k\": \"key" + std::to_string((i * 7919) % 1000) + "\"}\n";
  write_file(d / "in.jsonl", in);
  write_file(d / "p.yaml", pipeline_with("  firsts:\n    uses: test.first_seen\n    with: { field: k }\n"));
  std::string previous;
  for (const char* threads : {"1", "2", "8"}) {
    const auto r = run_tamis({"run", (d / "p.yaml").string(), "--threads", threads, "--quiet", "--plugin-path", (kFixtures / "ops").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto kept = read_lines(d / "out" / "kept.jsonl");
    ASSERT_EQ(kept.size(), 1000u);
    // The first record with each key is r0..r999 (7919 is prime to 1000), ranks in order.
    EXPECT_EQ(kept[0], "{\"id\": \"r0\", \"k\": \"key0\",\"tamis\":{\"seen_rank\":1}}");
    EXPECT_EQ(kept[999], "{\"id\": \"r999\", \"k\": \"key" + std::to_string((999 * 7919) % 1000) + "\",\"tamis\":{\"seen_rank\":1000}}");
    const auto rejected = read_lines(d / "out" / "rejected.jsonl");
    ASSERT_EQ(rejected.size(), 29000u);
    EXPECT_NE(rejected[0].find("\"id\": \"r1000\""), std::string::npos);
    EXPECT_NE(rejected[0].find("\"reason\":\"duplicate\",\"detail\":\"dup_of r0\""), std::string::npos) << rejected[0];
    const std::string all = read_file(d / "out" / "kept.jsonl") + read_file(d / "out" / "rejected.jsonl") + read_file(d / "out" / "ledger.jsonl");
    if (!previous.empty()) {
      EXPECT_EQ(all, previous) << "outputs differ with --threads " << threads;
    }
    previous = all;
    const std::string report = read_file(d / "out" / "report.json");
    EXPECT_NE(report.find("\"report\": {\"distinct\": 1000, \"unhinted\": 0}"), std::string::npos) << report;
    EXPECT_NE(report.find("\"distinct\": 1000"), std::string::npos);
    // An ordered stage reports its serial part's time, a part of its seconds.
    const std::regex times(R"#("seconds": ([0-9.e+-]+), "time_share": [0-9.e+-]+, "serial_seconds": ([0-9.e+-]+))#");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(report, m, times)) << report;
    EXPECT_GE(std::stod(m[2]), 0.0);
    EXPECT_LE(std::stod(m[2]), std::stod(m[1]));
  }
}

// The first pass: test.last_seen keeps the LAST record of each key, downstream of a stateful stage
// (test.first_seen on another field) that must be started afresh after the first pass, and upstream of
// an expanding stage that must not run in it.
TEST(FirstPass, AnOrderedOpCanKeepTheLastOccurrenceForAnyThreadCount) {
  TempDir d;
  std::string in;
  const int n = 20000;
  std::vector<int> g(n), k(n);
  for (int i = 0; i < n; ++i) {
    g[i] = i % 7 == 3 ? i - 1 : i;  // every 7th record repeats its predecessor's g: first_seen drops it
    k[i] = (i * 7919) % 500;
    in += "{\"id\": \"r" + std::to_string(i) + "\", \"g\": \"g" + std::to_string(g[i]) + "\", \"k\": \"k" + std::to_string(k[i]) + "\"}\n";
  }
  write_file(d / "in.jsonl", in);
  // Expected, computed here: survivors of first_seen(g), then the last of each k among them.
  std::vector<int> after_g;
  std::set<int> seen_g;
  for (int i = 0; i < n; ++i)
    if (seen_g.insert(g[i]).second) after_g.push_back(i);
  std::map<int, int> last;
  for (int i : after_g) last[k[i]] = i;
  std::vector<std::string> expected_ids;
  for (int i : after_g)
    if (last[k[i]] == i) expected_ids.push_back("r" + std::to_string(i));

  write_file(d / "p.yaml", pipeline_with("  firsts:\n    uses: test.first_seen\n    with: { field: g }\n"
                                         "  lasts:\n    uses: test.last_seen\n    with: { field: k }\n"
                                         "  copies:\n    uses: test.copy\n    with: { copies: 1 }\n"));
  std::string previous;
  for (const char* threads : {"1", "2", "8"}) {
    const auto r = run_tamis({"run", (d / "p.yaml").string(), "--threads", threads, "--plugin-path", (kFixtures / "ops").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("first pass"), std::string::npos) << r.err;
    const auto kept = read_lines(d / "out" / "kept.jsonl");
    ASSERT_EQ(kept.size(), 2 * expected_ids.size());
    for (size_t i = 0; i < expected_ids.size(); ++i) {
      EXPECT_NE(kept[2 * i].find("\"id\": \"" + expected_ids[i] + "\""), std::string::npos) << kept[2 * i];
      EXPECT_NE(kept[2 * i + 1].find("\"copy\":1"), std::string::npos) << kept[2 * i + 1];
    }
    const auto rejected = read_lines(d / "out" / "rejected.jsonl");
    EXPECT_EQ(rejected.size() + expected_ids.size(), static_cast<size_t>(n));
    // Counts are those of one pass: the upstream stage saw every record once, its state started afresh.
    const std::string report = read_file(d / "out" / "report.json");
    EXPECT_NE(report.find("\"report\": {\"distinct\": " + std::to_string(after_g.size()) + ", \"unhinted\": 0}"), std::string::npos) << report;
    EXPECT_NE(report.find("\"read\": " + std::to_string(n) + ","), std::string::npos) << report;
    const std::string all = read_file(d / "out" / "kept.jsonl") + read_file(d / "out" / "rejected.jsonl") + read_file(d / "out" / "ledger.jsonl");
    if (!previous.empty()) {
      EXPECT_EQ(all, previous) << "outputs differ with --threads " << threads;
    }
    previous = all;
  }
}

TEST(FirstPass, AnOpMaySayItNeedsNone) {
  TempDir d;
  write_file(d / "in.jsonl", "{\"id\":\"a\",\"k\":\"x\"}\n{\"id\":\"b\",\"k\":\"x\"}\n");
  write_file(d / "p.yaml", pipeline_with("  lasts:\n    uses: test.last_seen\n    with: { field: k, first_pass: false }\n"));
  const auto r = run_tamis({"run", (d / "p.yaml").string(), "--plugin-path", (kFixtures / "ops").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("first pass"), std::string::npos) << r.err;
  EXPECT_EQ(read_lines(d / "out" / "rejected.jsonl").size(), 2u);
}

TEST(FirstPass, TwoFirstPassStagesInAChainAreRefusedNamingBoth) {
  TempDir d;
  write_file(d / "in.jsonl", "{\"id\":\"a\",\"k\":\"x\"}\n");
  write_file(d / "p.yaml", pipeline_with("  one:\n    uses: test.last_seen\n    with: { field: k }\n"
                                         "  two:\n    uses: test.last_seen\n    with: { field: k }\n"));
  const auto r = run_tamis({"run", (d / "p.yaml").string(), "--plugin-path", (kFixtures / "ops").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("stage 'two' needs a first pass"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stage 'one' upstream of it"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "out" / "kept.jsonl"));
}

TEST(FirstPass, ADataErrorInTheFirstPassStopsTheRunWithItsLine) {
  TempDir d;
  write_file(d / "in.jsonl", "{\"id\":\"a\",\"k\":\"x\"}\n{\"id\":\"b\",\"k\":\n");
  write_file(d / "p.yaml", pipeline_with("  lasts:\n    uses: test.last_seen\n    with: { field: k }\n"));
  const auto r = run_tamis({"run", (d / "p.yaml").string(), "--plugin-path", (kFixtures / "ops").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("in.jsonl:2"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d / "out" / "kept.jsonl"));
}

TEST(ExpandingOp, CopiesFollowTheirOriginalAndTheLedgerCountsInputsOnce) {
  TempDir d;
  write_file(d / "in.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
  write_file(d / "p.yaml", pipeline_with("  copies:\n    uses: test.copy\n    with: { copies: 2 }\n"));
  const auto r = run_tamis({"run", (d / "p.yaml").string(), "--plugin-path", (kFixtures / "ops").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> expected = {
      "{\"id\":\"a\"}", "{\"id\":\"a\",\"copy\":1}", "{\"id\":\"a\",\"copy\":2}",
      "{\"id\":\"b\"}", "{\"id\":\"b\",\"copy\":1}", "{\"id\":\"b\",\"copy\":2}"};
  EXPECT_EQ(read_lines(d / "out" / "kept.jsonl"), expected);
  EXPECT_EQ(read_lines(d / "out" / "ledger.jsonl").size(), 2u);
  EXPECT_NE(r.out.find("read 2 = kept 2 + rejected 0 + errors 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+ emitted"), std::string::npos) << r.out;
}

TEST(RecordOp, AFailingOpStopsTheRunNamingStageRecordAndMessage) {
  TempDir d;
  std::string in;
  for (int i = 1; i <= 20; ++i) in += "{\"id\": \"r" + std::to_string(i) + "\"}\n";
  write_file(d / "in.jsonl", in);
  write_file(d / "p.yaml", pipeline_with("  boom:\n    uses: test.fail_on\n    with: { id: r7 }\n"));
  const auto r = run_tamis({"run", (d / "p.yaml").string(), "--plugin-path", (kFixtures / "ops").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("stage 'boom' (test.fail_on) failed in process on record r7 (in.jsonl:7): boom on purpose"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(d / "out" / "kept.jsonl"));
  EXPECT_FALSE(fs::exists(d / "out" / "ledger.jsonl"));
}

TEST(RecordOp, InvalidAnnotationJsonFailsTheStage) {
  TempDir d;
  write_file(d / "in.jsonl", "{\"id\": \"x\"}\n");
  write_file(d / "p.yaml", pipeline_with("  bad:\n    uses: test.fail_on\n    with: { id: x, bad_json: true }\n"));
  const auto r = run_tamis({"run", (d / "p.yaml").string(), "--plugin-path", (kFixtures / "ops").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the value of 'broken' is not valid JSON"), std::string::npos) << r.err;
}

// JSON that is valid but spans lines (pretty-printed) would add lines to the JSONL output while the
// summary says balanced: the host refuses it at the boundary, naming the op and the record.
TEST(RecordOp, JsonWithALineBreakFailsTheStage) {
  for (const char* how : {"annotate", "replace"}) {
    TempDir d;
    write_file(d / "in.jsonl", "{\"id\": \"x\"}\n");
    write_file(d / "p.yaml", pipeline_with(std::string("  bad:\n    uses: test.fail_on\n    with: { id: x, line_break: ") + how + " }\n"));
    const auto r = run_tamis({"run", (d / "p.yaml").string(), "--plugin-path", (kFixtures / "ops").string()});
    EXPECT_EQ(r.exit_code, 1) << how;
    EXPECT_NE(r.err.find("stage 'bad' (test.fail_on) failed"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("record x"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("a raw line break"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(d / "out" / "kept.jsonl")) << how;
  }
}

TEST(Params, CheckHookErrorsAreReportedByValidateWithTheStage) {
  TempDir d;
  write_file(d / "in.jsonl", "{\"id\": \"x\"}\n");
  write_file(d / "p.yaml", pipeline_with("  len:\n    uses: filter.length\n    with: { field: p, min: 10, max: 5 }\n"));
  const auto r = run_tamis({"validate", (d / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("p.yaml:7:11: error: stage 'len'"), std::string::npos) << r.err;  // at `with`
  EXPECT_NE(r.err.find("stage 'len': max (5) is below min (10)"), std::string::npos) << r.err;
}

// ---------------------------------------------------------------- side files, missing fields

TEST(Params, ValidateChecksEveryFileAStageWillReadAndNoneItWrites) {
  TempDir d;
  write_file(d / "in.jsonl", "{\"id\": \"x\", \"text\": \"t\"}\n");
  write_file(d / "refs/a.jsonl", "{}\n");
  write_file(d / "p.yaml", pipeline_with("  side:\n    uses: test.side_files\n    with:\n"
                                         "      table: no/table.tsv\n"                       // line 8
                                         "      out: not/yet/written.jsonl\n"
                                         "      sets:\n"                                     // line 10, its value at 11:9
                                         "        - { file: refs/a.jsonl }\n"
                                         "        - { file: refs/gone.jsonl }\n"
                                         "        - { file: \"refs/*.json\" }\n"
                                         "        - { other: 1 }\n"));
  const std::vector<std::string> plugins = {"--plugin-path", (kFixtures / "ops").string()};
  auto with = [&](std::vector<std::string> args) { args.insert(args.end(), plugins.begin(), plugins.end()); return args; };
  const auto v = run_tamis(with({"validate", (d / "p.yaml").string()}));
  EXPECT_EQ(v.exit_code, 2) << v.err;
  const std::string at = (d / "p.yaml").string();
  EXPECT_NE(v.err.find(at + ":8:14: error: stage 'side': parameter 'table': input file '" + (d / "no/table.tsv").string() +
                       "' does not exist"), std::string::npos) << v.err;
  EXPECT_NE(v.err.find(at + ":11:9: error: stage 'side': parameter 'sets': input file '" + (d / "refs/gone.jsonl").string() +
                       "' does not exist"), std::string::npos) << v.err;
  EXPECT_NE(v.err.find("input file '" + (d / "refs/*.json").string() + "' no file matches"), std::string::npos) << v.err;
  EXPECT_EQ(v.err.find("a.jsonl'"), std::string::npos) << "an existing file is not reported: " << v.err;
  EXPECT_EQ(v.err.find("written.jsonl"), std::string::npos) << "an output need not exist: " << v.err;
  EXPECT_NE(v.err.find("3 errors"), std::string::npos) << v.err;
  const auto r = run_tamis(with({"run", (d / "p.yaml").string()}));
  EXPECT_EQ(r.exit_code, 2) << "run refuses before reading: " << r.err;
  EXPECT_FALSE(fs::exists(d / "out"));

  write_file(d / "no/table.tsv", "");
  write_file(d / "refs/gone.jsonl", "");
  write_file(d / "refs/b.json", "");
  const auto ok = run_tamis(with({"validate", (d / "p.yaml").string()}));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  fs::permissions(d / "no/table.tsv", fs::perms::none);
  if (::access((d / "no/table.tsv").c_str(), R_OK) != 0) {  // not as root
    const auto unreadable = run_tamis(with({"validate", (d / "p.yaml").string()}));
    EXPECT_EQ(unreadable.exit_code, 2);
    EXPECT_NE(unreadable.err.find("table.tsv' is not readable"), std::string::npos) << unreadable.err;
  }
}

TEST(RecordOp, RejectingNearlyAllForAMissingFieldWarnsNamingTheFieldAndTheRecordsFields) {
  TempDir d;
  // The first record has one more field than the rest: the evidence is the first record in input
  // order, whatever the batches and threads.
  std::string in = "{\"id\": \"r0\", \"txt\": \"a\", \"extra\": 1}\n";
  for (int i = 1; i < 200; ++i) in += "{\"id\": \"r" + std::to_string(i) + "\", \"txt\": \"a\"}\n";
  write_file(d / "in.jsonl", in);
  write_file(d / "p.yaml", pipeline_with("  side:\n    uses: test.side_files\n"));
  const std::string expected =
      "tamis: warning: stage 'side' (test.side_files): 200 of 200 records rejected because field 'text' is missing or "
      "unusable (unusable: no text); the records have: id, txt, extra. Check the stage's field parameters.\n";
  for (const char* threads : {"1", "8"}) {
    const auto r = run_tamis({"run", (d / "p.yaml").string(), "--threads", threads, "--batch-bytes", "100",
                              "--plugin-path", (kFixtures / "ops").string()});
    ASSERT_EQ(r.exit_code, 0) << "a warning, not a failure: " << r.err;
    EXPECT_EQ(r.err, expected);
    EXPECT_NE(r.out.find("  ! warning: 200 rejected for a missing field 'text'"), std::string::npos) << r.out;
    const std::string report = read_file(d / "out" / "report.json");
    EXPECT_NE(report.find("\"warnings\": [\n    {\"kind\": \"missing_field\", \"stage\": \"side\", \"op\": \"test.side_files\", "
                          "\"field\": \"text\", \"reason\": \"unusable\", \"detail\": \"no text\", \"rejected\": 200, "
                          "\"other_missing\": 0, \"in\": 200, \"record_fields\": [\"id\", \"txt\", \"extra\"]"),
              std::string::npos) << report;
  }
}

TEST(RecordOp, NoWarningBelowNineTenthsOrForAHandfulOfRecords) {
  TempDir d;
  std::string in;  // 17 of 20 without the field: 85%
  for (int i = 0; i < 20; ++i) in += "{\"id\": \"r" + std::to_string(i) + "\"" + (i < 3 ? ", \"text\": \"t\"" : "") + "}\n";
  write_file(d / "in.jsonl", in);
  write_file(d / "p.yaml", pipeline_with("  side:\n    uses: test.side_files\n"));
  auto run = [&] { return run_tamis({"run", (d / "p.yaml").string(), "--plugin-path", (kFixtures / "ops").string()}); };
  auto r = run();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(read_file(d / "out" / "report.json").find("\"warnings\": [],"), std::string::npos);
  write_file(d / "in.jsonl", "{\"id\": \"a\"}\n{\"id\": \"b\"}\n{\"id\": \"c\"}\n{\"id\": \"d\"}\n");  // 4 of 4
  r = run();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  write_file(d / "in.jsonl", in.substr(in.find('\n', in.find("r2\"")) + 1));  // 17 of 17: warns
  r = run();
  EXPECT_NE(r.err.find("17 of 17 records rejected because field 'text'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tamis::test

// ---------------------------------------------------------------- big numbers (issue 13, item 8)
// tamis::json::big_number / quote_big_numbers against simdjson. (What ops see of big numbers, through
// the Record's text paths and its DOM, is tested end to end in tests/core/input_edge_test.cpp.)
#include <simdjson.h>
#include <tamis/json.hpp>

#include <random>

namespace tamis::test {
namespace {

// Whether simdjson refuses `token` as a number (the case quote_big_numbers is for).
bool simdjson_refuses(const std::string& token) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  return parser.parse(token).get(e) == simdjson::NUMBER_ERROR;
}

TEST(BigNumbers, HandPickedTokensAgreeWithSimdjson) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"0", false}, {"-0", false}, {"12", false}, {"-12.5e-3", false},
      {"9223372036854775807", false}, {"-9223372036854775808", false}, {"-9223372036854775809", true},
      {"18446744073709551615", false}, {"18446744073709551616", true}, {"123456789012345678901234567890", true},
      {"-123456789012345678901234567890", true}, {"00000000000000000000001", false},  // malformed: not a token at all
      {"1e308", false}, {"1e309", true}, {"1e400", true}, {"-1e400", true}, {"1E+400", true},
      {"1.7976931348623157e308", false}, {"1.7976931348623159e308", true}, {"17976931348623157e292", false},
      {"0.0000001e309", false}, {"1000e306", true}, {"100e306", false},
      {"1e-400", false}, {"-1e-400", false}, {"4.9e-324", false}, {"1e-99999999999999999999", false},
      {"2.5e99999999999999999999", true}, {"0e999999", false}, {"0.000e999999", false}, {"0.001e99999", true},
  };
  for (const auto& [token, big] : cases) {
    const size_t n = json::number_token_length(token);
    const bool well_formed = n == token.size();
    EXPECT_EQ(well_formed && json::big_number(token), big) << token;
    if (well_formed) {
      EXPECT_EQ(json::big_number(token), simdjson_refuses(token)) << token;
    }
  }
}

// Random tokens around the edges of int64, uint64 and the double range (both ends): big_number says
// exactly when simdjson refuses the number, and the quoted line then parses with the number as a
// string of its text. (Before the fix, the double case read an unset value on out-of-range input.)
TEST(BigNumbers, RandomTokensAgreeWithSimdjson) {
  std::mt19937_64 rng(8);
  auto pick = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };
  auto digits = [&](size_t n, bool lead) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + ((i == 0 && lead) ? 1 + pick(9) : pick(10))));
    return s;
  };
  size_t big = 0, small = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string t = pick(4) == 0 ? "-" : "";
    if (pick(3) == 0) {
      t += digits(17 + pick(5), true);  // 17 to 21 digits: around 2^63 and 2^64
    } else {
      const size_t int_digits = 1 + pick(4);
      t += pick(5) == 0 ? "0" : digits(int_digits, true);
      if (pick(2)) t += "." + digits(1 + pick(6), false);
      const int64_t exp = pick(2) ? 300 + static_cast<int64_t>(pick(15)) : -(315 + static_cast<int64_t>(pick(100)));
      t += (pick(2) ? "e" : "E") + std::to_string(exp);
    }
    ASSERT_EQ(json::number_token_length(t), t.size()) << t;
    const bool refused = simdjson_refuses(t);
    ASSERT_EQ(json::big_number(t), refused) << t;
    (refused ? big : small)++;
    const std::string line = "{\"n\":" + t + ",\"s\":\"" + t + "\"}";
    std::string quoted;
    ASSERT_EQ(json::quote_big_numbers(line, quoted), refused) << line;
    if (refused) {
      EXPECT_EQ(quoted, "{\"n\":\"" + t + "\",\"s\":\"" + t + "\"}");
    }
  }
  EXPECT_GT(big, 2000u);
  EXPECT_GT(small, 2000u);
}

TEST(BigNumbers, QuotingLeavesStringsAndMalformedNumbersAlone) {
  std::string out;
  EXPECT_FALSE(json::quote_big_numbers("{\"a\":\"1e400\",\"b\":[1,2.5,-3e-400]}", out));
  EXPECT_TRUE(json::quote_big_numbers("{\"a\\\"1e400\":[1e400, -1e400 ,{\"c\":123456789012345678901234567890}]}", out));
  EXPECT_EQ(out, "{\"a\\\"1e400\":[\"1e400\", \"-1e400\" ,{\"c\":\"123456789012345678901234567890\"}]}");
  for (const char* bad : {"{\"n\":01e400}", "{\"n\":1.e400}", "{\"n\":--1e400}", "{\"n\":1e400.5}", "{\"n\":+1e400}",
                          "{\"n\":1e400e1}", "{\"n\":-}", "{\"n\":1e}"}) {
    json::quote_big_numbers(bad, out);
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    EXPECT_NE(parser.parse(out).get(e), simdjson::SUCCESS) << bad << " became " << out;
  }
}

}  // namespace
}  // namespace tamis::test
