// Tests of `decontaminate` (plugins/dedup/decontaminate.cpp) through the real tamis binary (harness.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <tamis/json.hpp>

#include "harness.hpp"
#include "normalize.hpp"

namespace {

using namespace tamis::test;
using namespace tamis::text;
using Strings = std::vector<std::string>;

std::string rec(const std::string& id, const std::string& problem) {
  return R"({"id":")" + id + R"(","problem":)" + tamis::json::quote(problem) + "}";
}

// A rejected line's verdict and contaminated_by, by id.
struct Hit {
  std::string reason, detail, benchmark, item, method;
  int64_t shared = -1;
};
std::map<std::string, Hit> hits(const OpRun& run) {
  std::map<std::string, Hit> out;
  for (const auto& line : run.rejected) {
    Hit h;
    h.reason = json_string(line, "tamis.reason").value_or("");
    h.detail = json_string(line, "tamis.detail").value_or("");
    h.benchmark = json_string(line, "tamis.contaminated_by.benchmark").value_or("");
    h.item = json_raw(line, "tamis.contaminated_by.item").value_or("");
    h.method = json_string(line, "tamis.contaminated_by.method").value_or("");
    h.shared = json_int(line, "tamis.contaminated_by.shared_ngrams").value_or(-1);
    out[json_string(line, "id").value_or("")] = h;
  }
  return out;
}

// The stage's own report object (Stage::report) inside report.json.
std::string stage_report(const OpRun& run) {
  for (const char* path : {"stages.stage.report", "/stages/0/report"})
    if (auto r = json_raw(run.report, path)) return *r;
  return "";
}

const std::string kAime1 =
    "Every morning Aya goes for a 9 kilometer long walk and stops at a coffee shop afterwards. When she walks at a "
    "constant speed of s kilometers per hour, the walk takes her 4 hours, including t minutes spent in the coffee shop.";
const std::string kAime2 =
    "Let ABC be a triangle inscribed in circle omega. Let the tangents to omega at B and C intersect at point D, and "
    "let AD intersect omega at P. Find AP in the form m/n.";
const std::string kNumbers = "Tom has 3 apples and 5 pears, he eats 2 of them, how many are left?";
const std::string kGsm =
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends "
    "every day with four.";

// Two reference files in `dir`: aime (with an id field) and gsm (no id: items are line numbers).
void write_refs(const TempDir& dir) {
  write_file(dir / "aime.jsonl", jsonl({R"({"id":60,"problem":)" + tamis::json::quote(kAime1) + "}",
                                        R"({"id":"2024-II-5","problem":)" + tamis::json::quote(kAime2) + "}",
                                        R"({"id":61,"problem":)" + tamis::json::quote(kNumbers) + "}"}));
  write_file(dir / "gsm.jsonl", "\n" + jsonl({R"({"question":)" + tamis::json::quote(kGsm) + "}"}));
}

std::string refs_yaml(const TempDir& dir, const std::string& extra = "") {
  return "{references: [{name: aime24, path: " + (dir / "aime.jsonl").string() +
         "}, {name: gsm8k, path: " + (dir / "gsm.jsonl").string() + ", fields: [question]}]" + extra + "}";
}

TEST(plugins_decontaminate, CopiesRewordingsAndSiblings) {
  TempDir dir;
  write_refs(dir);
  const std::string embedded = "Solve this: " + kAime2 + " Give your answer as m+n.";
  const std::string formatted =
      "Every morning Aya goes for a $9$ kilometer-long walk and stops at a coffee shop afterwards.  When she walks "
      "at a constant speed of $s$ kilometers per hour, the walk takes her $4$ hours, including $t$ minutes spent "
      "in the coffee shop.";
  const std::string changed = "Tom has 4 apples and 7 pears, he eats 1 of them, how many are left?";
  std::string sibling = kAime1;
  sibling.replace(sibling.find("9 kilometer"), 1, "10");
  const std::string unrelated =
      "A rectangle has a perimeter of 40 units and an area of 96 square units; find the length of its diagonal.";
  const std::string short_text = "Every morning Aya goes for a walk.";
  const std::string lines = jsonl({rec("copy", kAime1), rec("embedded", embedded), rec("formatted", formatted),
                                   rec("changed", changed), rec("sibling", sibling), rec("unrelated", unrelated),
                                   rec("short", short_text), rec("gsm", kGsm), R"({"id":"nofield","text":"x"})"});
  const OpRun run = run_op("decontaminate", refs_yaml(dir), lines);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"changed", "sibling", "unrelated", "short"}));
  auto h = hits(run);
  ASSERT_EQ(h.size(), 5u) << run.describe();
  EXPECT_EQ(h["copy"].reason, "contaminated");
  EXPECT_EQ(h["copy"].benchmark, "aime24");
  EXPECT_EQ(h["copy"].item, "60");
  EXPECT_EQ(h["copy"].method, "ngram");
  EXPECT_EQ(h["embedded"].item, "\"2024-II-5\"");
  EXPECT_EQ(h["embedded"].detail.find("contaminated by aime24 item \"2024-II-5\""), 0u) << h["embedded"].detail;
  EXPECT_EQ(h["formatted"].item, "60");
  EXPECT_EQ(h["gsm"].benchmark, "gsm8k");
  EXPECT_EQ(h["gsm"].item, "2");  // line number (line 1 is blank)
  EXPECT_EQ(h["nofield"].reason, "missing_field");

  // match: siblings masks numbers: the template siblings are hits too.
  const OpRun sib = run_op("decontaminate", refs_yaml(dir, ", match: siblings"), lines);
  ASSERT_EQ(sib.exit_code, 0) << sib.describe();
  EXPECT_EQ(sib.kept_ids(), (Strings{"unrelated", "short"}));
  EXPECT_EQ(hits(sib)["changed"].item, "61");
  EXPECT_EQ(hits(sib)["sibling"].item, "60");
}

// Every hit carries its evidence: the item's id and text, the matched span, the scores.
TEST(plugins_decontaminate, Evidence) {
  TempDir dir;
  write_refs(dir);
  const std::string embedded = "Solve this: " + kAime2 + " Give your answer as m+n.";
  const OpRun run = run_op("decontaminate", refs_yaml(dir), jsonl({rec("e", embedded)}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.rejected.size(), 1u) << run.describe();
  const std::string& line = run.rejected[0];
  EXPECT_EQ(json_string(line, "tamis.contaminated_by.item_text"), kAime2);
  // The span: the record's words from the first to the last n-gram of the item (normalised text).
  EXPECT_EQ(json_string(line, "tamis.contaminated_by.span"),
            "let abc be a triangle inscribed in circle omega. let the tangents to omega at b and c intersect at "
            "point d, and let ad intersect omega at p. find ap in the form m/n");
  EXPECT_EQ(std::stod(json_raw(line, "tamis.contaminated_by.score").value_or("0")), 1.0);
  const auto shared = json_int(line, "tamis.contaminated_by.shared_ngrams");
  EXPECT_EQ(shared, json_int(line, "tamis.contaminated_by.item_ngrams"));
  EXPECT_GT(shared.value_or(0), 20);
  const std::string detail = json_string(line, "tamis.detail").value_or("");
  EXPECT_NE(detail.find("coverage 1.00): \"let abc be a triangle"), std::string::npos) << detail;
}

// N-grams found in `boilerplate` items of a benchmark do not count.
TEST(plugins_decontaminate, Boilerplate) {
  TempDir dir;
  const std::string tail = " The answer can be written as the ratio of two coprime positive integers whose sum you should report.";
  const Strings stems = {"Seven pirates share gold coins according to an old ritual of alternating votes.",
                         "Two trains leave distant stations heading toward each other along parallel tracks.",
                         "Several frogs hop around the edge of a pond choosing directions uniformly."};
  Strings ref;
  for (size_t i = 0; i < stems.size(); ++i)
    ref.push_back(R"({"id":)" + std::to_string(i) + R"(,"problem":)" + tamis::json::quote(stems[i] + tail) + "}");
  write_file(dir / "b.jsonl", jsonl(ref));
  const std::string record = "A gardener plants tulips in rows along a curved path near the greenhouse." + tail;
  const auto run = [&](const std::string& extra) {
    return run_op("decontaminate", "{references: [{name: b, path: " + (dir / "b.jsonl").string() + "}]" + extra + "}",
                  jsonl({rec("r", record), rec("copy", stems[1] + tail)}));
  };
  // The shared sentence is in 3 items: boilerplate; the record shares nothing informative.
  EXPECT_EQ(run("").rejected_ids(), (Strings{"copy"}));
  EXPECT_EQ(run(", min_coverage: 0.2").rejected_ids(), (Strings{"copy"}));
  EXPECT_EQ(run(", match: siblings, min_coverage: 0.2").rejected_ids(), (Strings{"copy"}));
  // Counted (boilerplate: 4), it covers about half of each item: a hit at a low min_coverage only, and only
  // in siblings mode (copies mode also wants the item's other words in the record).
  EXPECT_EQ(run(", boilerplate: 4").rejected_ids(), (Strings{"copy"}));
  EXPECT_EQ(run(", boilerplate: 4, min_coverage: 0.2").rejected_ids(), (Strings{"copy"}));
  EXPECT_EQ(run(", match: siblings, boilerplate: 4, min_coverage: 0.2").rejected_ids(), (Strings{"r", "copy"}));
}

// Short items: a record that is the item with at most two words edited (one per 5 words); in copies mode
// only instruction and function words may change, never numbers or other words.
TEST(plugins_decontaminate, ShortItemsWithEdits) {
  TempDir dir;
  write_file(dir / "s.jsonl", jsonl({R"({"id":"m","problem":"What is the smallest positive multiple of 7 that ends in the digit 4?"})",
                                     R"({"id":"b","problem":"Compute $\\dbinom{15}{3}$."})"}));
  const std::string with = "{references: [{name: s, path: " + (dir / "s.jsonl").string() + "}]";
  const std::string lines =
      jsonl({rec("two", "What is the smallest positive multiple of 7 which ends in a digit 4?"),
             rec("three", "Find the smallest positive multiple of 7 which ends in a digit 4?"),
             rec("number", "What is the smallest positive multiple of 9 which ends in a digit 4?"),
             rec("word", "What is the largest positive multiple of 7 that ends in the digit 4?"),
             rec("binom", "Compute $\\dbinom{31}{28}$."), rec("binom_same", "Find \\(\\binom{15}{3}\\)")});
  const OpRun run = run_op("decontaminate", with + "}", lines);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.rejected_ids(), (Strings{"two"}));
  auto h = hits(run);
  EXPECT_EQ(h["two"].method, "edit");
  EXPECT_EQ(json_int(run.rejected[0], "tamis.contaminated_by.edits"), 2);
  // exact_stripped cannot equate texts with fewer than 3 prose words.
  EXPECT_EQ(run_op("decontaminate", with + ", exact_stripped: true}", lines).rejected_ids(), (Strings{"two"}));
  // Siblings: any word and number may change (within the edit budget); the binomials are 1 word apart.
  const OpRun sib = run_op("decontaminate", with + ", match: siblings}", lines);
  EXPECT_EQ(sib.rejected_ids(), (Strings{"two", "number", "word", "binom"}));
  EXPECT_EQ(run_op("decontaminate", with + ", max_edits: 1}", lines).rejected_ids(), Strings{});
}

TEST(plugins_decontaminate, Thresholds) {
  TempDir dir;
  write_refs(dir);
  // The first two sentences of kAime2 (and other words): a share of its n-grams.
  const std::string partial = "Let ABC be a triangle inscribed in circle omega. Let the tangents to omega at B and C "
                              "intersect at point D, and then count the marbles in the blue jar on Tuesday.";
  const auto run = [&](const std::string& extra) {
    return run_op("decontaminate", refs_yaml(dir, ", match: siblings" + extra), jsonl({rec("p", partial)}));
  };
  const OpRun low = run(", min_coverage: 0.1");
  ASSERT_EQ(low.rejected_ids(), (Strings{"p"})) << low.describe();
  const int64_t shared = json_int(low.rejected[0], "tamis.contaminated_by.shared_ngrams").value_or(0);
  const int64_t of = json_int(low.rejected[0], "tamis.contaminated_by.item_ngrams").value_or(0);
  ASSERT_GT(shared, 0);
  ASSERT_LT(shared, of);
  const auto coverage = [](int64_t a, int64_t b) { return std::to_string(static_cast<double>(a) / b); };
  EXPECT_EQ(run(", min_coverage: " + coverage(shared, of)).rejected_ids(), (Strings{"p"}));
  EXPECT_EQ(run(", min_coverage: " + coverage(shared + 1, of)).kept_ids(), (Strings{"p"}));
  EXPECT_EQ(run(", min_coverage: 0.1, min_shared: " + std::to_string(shared + 1)).kept_ids(), (Strings{"p"}));
  EXPECT_EQ(run("").rejected.size(), shared * 2 >= of ? 1u : 0u);  // default 0.5
}

TEST(plugins_decontaminate, Report) {
  TempDir dir;
  write_refs(dir);
  const OpRun run = run_op("decontaminate", refs_yaml(dir),
                           jsonl({rec("a", kAime1), rec("b", kAime1 + " Again."), rec("c", kGsm), rec("d", "nothing")}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  const std::string rep = stage_report(run);
  ASSERT_FALSE(rep.empty()) << run.report;
  EXPECT_EQ(json_int(rep, "contaminated"), 3);
  EXPECT_EQ(json_int(rep, "by_method.exact_stripped"), 0);
  EXPECT_EQ(json_int(rep, "by_method.ngram"), 3);
  EXPECT_EQ(json_string(rep, "match"), "copies");
  EXPECT_EQ(json_string(rep, "/benchmarks/0/benchmark"), "aime24");
  EXPECT_EQ(json_int(rep, "/benchmarks/0/items"), 3);
  EXPECT_EQ(json_int(rep, "/benchmarks/0/records_matched"), 2);
  EXPECT_EQ(json_int(rep, "/benchmarks/0/items_hit"), 1);
  EXPECT_EQ(json_raw(rep, "/benchmarks/0/hits/0/item"), "60");
  EXPECT_EQ(json_int(rep, "/benchmarks/0/hits/0/records"), 2);
  // One example per item hit, with its evidence: the same one at any thread count (smallest record key).
  const auto example = json_string(rep, "/benchmarks/0/hits/0/example/record");
  EXPECT_TRUE(example == "a" || example == "b") << rep;
  EXPECT_EQ(json_string(rep, "/benchmarks/0/hits/0/example/evidence/item_text"), kAime1);
  EXPECT_FALSE(json_raw(rep, "/benchmarks/0/hits/1").has_value());
  EXPECT_EQ(json_string(rep, "/benchmarks/1/benchmark"), "gsm8k");
  EXPECT_EQ(json_raw(rep, "/benchmarks/1/hits/0/item"), "2");
  EXPECT_EQ(json_string(rep, "/benchmarks/1/hits/0/example/record"), "c");
  const OpRun again = run_op("decontaminate", refs_yaml(dir),
                             jsonl({rec("a", kAime1), rec("b", kAime1 + " Again."), rec("c", kGsm), rec("d", "nothing")}), 1);
  EXPECT_EQ(stage_report(again), rep);
}

TEST(plugins_decontaminate, RelativePathsAndErrors) {
  TempDir dir;
  write_refs(dir);
  // The harness writes the pipeline in a sibling temporary directory: "../NAME/aime.jsonl" is relative to it.
  const std::string rel = "../" + dir.path().filename().string() + "/aime.jsonl";
  const OpRun ok = run_op("decontaminate", "{references: [{name: aime24, path: " + rel + "}]}", jsonl({rec("a", kAime1)}));
  ASSERT_EQ(ok.exit_code, 0) << ok.describe();
  EXPECT_EQ(ok.rejected_ids(), (Strings{"a"}));

  // Existing files: `tamis validate` also checks that the reference files exist (before these checks).
  const std::string x = (dir / "aime.jsonl").string();
  const auto invalid = [&](const std::string& with, const std::string& message) {
    const CommandResult v = validate_op("decontaminate", with);
    EXPECT_EQ(v.exit_code, 2) << with << "\n" << v.err;
    EXPECT_NE(v.err.find(message), std::string::npos) << with << "\n" << v.err;
  };
  invalid("{references: {name: a}}", "references must be a list");
  invalid("{references: []}", "references is empty");
  invalid("{references: [{path: " + x + "}]}", "references[0]: 'name'");
  invalid("{references: [{name: a}]}", "references[0] (a): 'path'");
  invalid("{references: [{name: a, path: " + x + "}, {name: a, path: " + x + "}]}", "'a' is used twice");
  invalid("{references: [{name: a, path: " + x + ", feilds: [q]}]}", "unknown key 'feilds'");
  invalid("{references: [{name: a, path: " + x + ", fields: []}]}", "'fields' is empty");
  invalid("{references: [{name: a, path: " + x + "}], min_fraction: 1.5}", "min_fraction");
  invalid("{references: [{name: a, path: " + x + "}], ngram: 0}", "ngram");
  invalid("{references: [{name: a, path: " + x + "}], match: exact}", "match must be copies or siblings");
  invalid("{references: [{name: a, path: " + x + "}], min_coverage: 0}", "min_coverage");
  invalid("{references: [{name: a, path: " + x + "}], boilerplate: 1}", "boilerplate must be at least 2");
  invalid("{references: [{name: a, path: " + x + "}], max_edits: -1}", "max_edits");

  const OpRun missing = run_op("decontaminate", "{references: [{name: gone, path: " + (dir / "none.jsonl").string() + "}]}",
                               jsonl({rec("a", "x")}));
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("none.jsonl"), std::string::npos) << missing.err;
  write_file(dir / "bad.jsonl", "{\"problem\":\"a\"}\nnot json\n");
  const OpRun bad = run_op("decontaminate", "{references: [{name: bad, path: " + (dir / "bad.jsonl").string() + "}]}",
                           jsonl({rec("a", "x")}));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("bad.jsonl:2 is not a JSON object"), std::string::npos) << bad.err;
}

// A generated pool with planted copies: same bytes (kept, rejected, report) at 1 and 2 threads.
TEST(plugins_decontaminate, DeterministicAcrossThreads) {
  TempDir dir;
  std::mt19937 rng(7);
  Strings vocab;
  for (int i = 0; i < 3000; ++i) vocab.push_back("w" + std::string(1, char('a' + i % 26)) + char('a' + i / 26 % 26) + char('a' + i / 676));
  const auto text = [&](int words) {
    std::string s;
    for (int i = 0; i < words; ++i) s += (i ? " " : "") + vocab[rng() % vocab.size()];
    return s;
  };
  Strings refs, lines;
  for (int i = 0; i < 200; ++i) refs.push_back(text(30));
  Strings ref_lines;
  for (int i = 0; i < 200; ++i) ref_lines.push_back(R"({"id":"r)" + std::to_string(i) + R"(","problem":)" + tamis::json::quote(refs[i]) + "}");
  write_file(dir / "ref.jsonl", jsonl(ref_lines));
  size_t planted = 0;
  for (int i = 0; i < 6000; ++i) {
    std::string t = text(40);
    if (i % 50 == 0) t = refs[rng() % refs.size()], ++planted;
    else if (i % 50 == 25) t = text(10) + " " + refs[rng() % refs.size()] + " " + text(10), ++planted;
    lines.push_back(rec("x" + std::to_string(i), t));
  }
  const std::string with = "{references: [{name: bench, path: " + (dir / "ref.jsonl").string() + "}]}";
  const OpRun one = run_op("decontaminate", with, jsonl(lines), 1);
  const OpRun two = run_op("decontaminate", with, jsonl(lines), 2);
  ASSERT_EQ(one.exit_code, 0) << one.describe();
  ASSERT_EQ(two.exit_code, 0) << two.describe();
  EXPECT_EQ(one.kept, two.kept);
  EXPECT_EQ(one.rejected, two.rejected);
  EXPECT_EQ(stage_report(one), stage_report(two));
  EXPECT_EQ(one.rejected.size(), planted);
}

// ============================================================================================
// Real data: MATH test holds every MATH-500 item verbatim (labeled copies); AIME boilerplate
// ============================================================================================

std::vector<std::pair<size_t, std::string>> read_field(const fs::path& file, const std::string& field) {
  std::vector<std::pair<size_t, std::string>> out;
  std::ifstream in(file);
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n)
    if (auto s = json_string(line, field)) out.emplace_back(n, *s);
  return out;
}

TEST(plugins_decontaminate, MathTestVsMath500) {
  const fs::path pool = shared_data("math/math_test.jsonl");
  const fs::path test = shared_data("math/math500_test.jsonl");
  if (pool.empty() || test.empty()) GTEST_SKIP() << "../shared/data (math) is absent";
  OpOptions o;
  o.id_field = "";
  o.input = pool;
  const OpRun run = run_op("decontaminate", "{references: [{name: math500, path: " + test.string() + ", id: unique_id}]}", "", o);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  // The labels: MATH test lines whose problem text equals a MATH-500 item's.
  std::set<std::string> items;
  for (const auto& [n, text] : read_field(test, "problem")) items.insert(text);
  std::set<size_t> labeled, got;
  for (const auto& [n, text] : read_field(pool, "problem"))
    if (items.count(text)) labeled.insert(n);
  ASSERT_EQ(labeled.size(), 500u);
  for (const auto& entry : run.ledger)  // the pool has no id field: lines by the ledger's line numbers
    if (json_string(entry, "fate") == "rejected") got.insert(static_cast<size_t>(json_int(entry, "line").value_or(0)));
  EXPECT_TRUE(std::includes(got.begin(), got.end(), labeled.begin(), labeled.end()));  // recall 100%
  EXPECT_LE(got.size(), 505u);  // 1 more hit (a reworded copy, bench/accuracy/decontaminate_handcheck.tsv)
  for (const auto& line : run.rejected) {
    ASSERT_TRUE(json_string(line, "tamis.contaminated_by.item_text").has_value()) << line;
    ASSERT_FALSE(json_string(line, "tamis.contaminated_by.span").value_or("").empty()) << line;
  }
  std::cerr << "math_test vs math500: " << got.size() << " hits, " << labeled.size() << " labeled copies all found\n";
}

// The issue's case: DeepScaleR train_math against AIME 2024 rejected ~107 problems on shared AIME
// boilerplate ("relatively prime positive integers. Find m+n."); none of them is a copy.
TEST(plugins_decontaminate, AimeBoilerplateIsNoHit) {
  const fs::path pool = shared_data("deepscaler/train_math.jsonl");
  const fs::path aime = shared_data("aime/aime24.jsonl");
  if (pool.empty() || aime.empty()) GTEST_SKIP() << "../shared/data (deepscaler, aime) is absent";
  OpOptions o;
  o.id_field = "";
  o.input = pool;
  const OpRun run = run_op("decontaminate", "{references: [{name: aime24, path: " + aime.string() + "}]}", "", o);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.rejected.size(), 0u) << run.rejected.front();
  // In siblings mode the AIME boilerplate is still no hit.
  const OpRun sib = run_op("decontaminate", "{references: [{name: aime24, path: " + aime.string() + "}], match: siblings}", "", o);
  ASSERT_EQ(sib.exit_code, 0) << sib.describe();
  EXPECT_EQ(sib.rejected.size(), 0u);
}

}  // namespace
