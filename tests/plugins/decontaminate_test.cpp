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

TEST(plugins_decontaminate, PlantedCopiesAndNumberChanges) {
  TempDir dir;
  write_refs(dir);
  const std::string embedded = "Solve this: " + kAime2 + " Give your answer as m+n.";
  const std::string changed = "Tom has 4 apples and 7 pears, he eats 1 of them, how many are left?";
  const std::string punct = "tom has 30 apples and 50 pears he eats 20 of them how many are left";
  const std::string unrelated =
      "A rectangle has a perimeter of 40 units and an area of 96 square units; find the length of its diagonal.";
  const std::string short_text = "Every morning Aya goes for a walk.";
  const OpRun run = run_op("decontaminate", refs_yaml(dir),
                           jsonl({rec("copy", kAime1), rec("embedded", embedded), rec("changed", changed),
                                  rec("punct", punct), rec("unrelated", unrelated), rec("short", short_text),
                                  rec("gsm", kGsm), R"({"id":"nofield","text":"x"})"}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"unrelated", "short"}));
  auto h = hits(run);
  ASSERT_EQ(h.size(), 6u) << run.describe();
  EXPECT_EQ(h["copy"].reason, "contaminated");
  EXPECT_EQ(h["copy"].benchmark, "aime24");
  EXPECT_EQ(h["copy"].item, "60");
  EXPECT_EQ(h["copy"].method, "exact_stripped");
  EXPECT_EQ(h["copy"].shared, 36);  // kAime1: 43 words, 36 8-grams
  EXPECT_EQ(h["embedded"].method, "ngram");
  EXPECT_EQ(h["embedded"].item, "\"2024-II-5\"");
  EXPECT_EQ(h["embedded"].detail.find("contaminated by aime24 item \"2024-II-5\""), 0u) << h["embedded"].detail;
  EXPECT_EQ(h["changed"].method, "exact_stripped");  // every 8-gram holds a number: only the exact method finds it
  EXPECT_EQ(h["changed"].shared, 0);
  EXPECT_EQ(h["changed"].item, "61");
  EXPECT_EQ(h["punct"].method, "exact_stripped");
  EXPECT_EQ(h["gsm"].benchmark, "gsm8k");
  EXPECT_EQ(h["gsm"].item, "2");  // line number (line 1 is blank)
  EXPECT_EQ(h["nofield"].reason, "missing_field");

  // Without the exact method, the number-changed copies survive.
  const OpRun plain = run_op("decontaminate", refs_yaml(dir, ", exact_stripped: false"),
                             jsonl({rec("copy", kAime1), rec("changed", changed), rec("punct", punct)}));
  ASSERT_EQ(plain.exit_code, 0) << plain.describe();
  EXPECT_EQ(plain.kept_ids(), (Strings{"changed", "punct"}));
  EXPECT_EQ(hits(plain)["copy"].method, "ngram");
}

TEST(plugins_decontaminate, Thresholds) {
  TempDir dir;
  write_refs(dir);
  // Shares exactly 2 8-grams with kAime2 (its first 9 words), then unrelated words.
  const std::string partial =
      "Let ABC be a triangle inscribed in circle omega. Then count the marbles in the blue jar on Tuesday evening.";
  const auto run = [&](const std::string& extra) {
    return run_op("decontaminate", refs_yaml(dir, extra + ", exact_stripped: false"), jsonl({rec("p", partial)}));
  };
  auto r = run("");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  ASSERT_EQ(r.rejected_ids(), (Strings{"p"}));
  EXPECT_EQ(hits(r)["p"].shared, 2);
  EXPECT_EQ(run(", min_shared: 2").rejected_ids(), (Strings{"p"}));
  EXPECT_EQ(run(", min_shared: 3").kept_ids(), (Strings{"p"}));
  // 20 words: 13 distinct 8-grams, 2 shared = 0.154.
  EXPECT_EQ(run(", min_fraction: 0.15").rejected_ids(), (Strings{"p"}));
  EXPECT_EQ(run(", min_fraction: 0.16").kept_ids(), (Strings{"p"}));
  EXPECT_EQ(run(", min_fraction: 0.15, min_shared: 3").kept_ids(), (Strings{"p"}));  // both must hold
  EXPECT_EQ(run(", ngram: 10").kept_ids(), (Strings{"p"}));
  EXPECT_EQ(run(", ngram: 9").rejected_ids(), (Strings{"p"}));
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
  EXPECT_EQ(json_int(rep, "by_method.exact_stripped"), 2);
  EXPECT_EQ(json_int(rep, "by_method.ngram"), 1);
  EXPECT_EQ(json_string(rep, "/benchmarks/0/benchmark"), "aime24");
  EXPECT_EQ(json_int(rep, "/benchmarks/0/items"), 3);
  EXPECT_EQ(json_int(rep, "/benchmarks/0/records_matched"), 2);
  EXPECT_EQ(json_int(rep, "/benchmarks/0/items_hit"), 1);
  EXPECT_EQ(json_raw(rep, "/benchmarks/0/hits"), R"([{"item":60,"records":2}])");
  EXPECT_EQ(json_string(rep, "/benchmarks/1/benchmark"), "gsm8k");
  EXPECT_EQ(json_raw(rep, "/benchmarks/1/hits"), R"([{"item":2,"records":1}])");
}

TEST(plugins_decontaminate, RelativePathsAndErrors) {
  TempDir dir;
  write_refs(dir);
  // The harness writes the pipeline in a sibling temporary directory: "../NAME/aime.jsonl" is relative to it.
  const std::string rel = "../" + dir.path().filename().string() + "/aime.jsonl";
  const OpRun ok = run_op("decontaminate", "{references: [{name: aime24, path: " + rel + "}]}", jsonl({rec("a", kAime1)}));
  ASSERT_EQ(ok.exit_code, 0) << ok.describe();
  EXPECT_EQ(ok.rejected_ids(), (Strings{"a"}));

  const auto invalid = [&](const std::string& with, const std::string& message) {
    const CommandResult v = validate_op("decontaminate", with);
    EXPECT_EQ(v.exit_code, 2) << with << "\n" << v.err;
    EXPECT_NE(v.err.find(message), std::string::npos) << with << "\n" << v.err;
  };
  invalid("{references: {name: a}}", "references must be a list");
  invalid("{references: []}", "references is empty");
  invalid("{references: [{path: x.jsonl}]}", "references[0]: 'name'");
  invalid("{references: [{name: a}]}", "references[0] (a): 'path'");
  invalid("{references: [{name: a, path: x}, {name: a, path: y}]}", "'a' is used twice");
  invalid("{references: [{name: a, path: x, feilds: [q]}]}", "unknown key 'feilds'");
  invalid("{references: [{name: a, path: x, fields: []}]}", "'fields' is empty");
  invalid("{references: [{name: a, path: x}], min_fraction: 1.5}", "min_fraction");
  invalid("{references: [{name: a, path: x}], ngram: 0}", "ngram");

  const OpRun missing = run_op("decontaminate", "{references: [{name: gone, path: " + (dir / "none.jsonl").string() + "}]}",
                               jsonl({rec("a", "x")}));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("benchmark 'gone': cannot open"), std::string::npos) << missing.err;
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
  for (int i = 0; i < 3000; ++i) vocab.push_back("w" + std::to_string(i));
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
    else if (i % 50 == 25) t = text(10) + " " + refs[rng() % refs.size()].substr(0, 60) + " " + text(10), ++planted;
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
  EXPECT_GE(one.rejected.size(), planted * 9 / 10);  // a 60-char prefix may hold fewer than 8 words
  EXPECT_LE(one.rejected.size(), planted);
}

// ============================================================================================
// Real data: DeepScaleR MATH train against MATH-500, checked against a brute-force n-gram overlap
// ============================================================================================

std::vector<std::pair<size_t, std::string>> read_field(const fs::path& file, const std::string& field) {
  std::vector<std::pair<size_t, std::string>> out;
  std::ifstream in(file);
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n)
    if (auto s = json_string(line, field)) out.emplace_back(n, *s);
  return out;
}

std::set<std::string> word_ngrams(const std::string& text, size_t n) {
  NormalizeOptions o;
  o.nfkc = false;
  o.latex = false;
  const std::string norm = normalize(text, o);
  Strings words;
  for (size_t i = 0; i < norm.size();) {
    const size_t j = std::min(norm.find(' ', i), norm.size());
    words.push_back(norm.substr(i, j - i));
    i = j + 1;
  }
  std::set<std::string> out;
  for (size_t i = 0; i + n <= words.size(); ++i) {
    std::string g;
    for (size_t k = i; k < i + n; ++k) g += (k > i ? " " : "") + words[k];
    out.insert(g);
  }
  return out;
}

TEST(plugins_decontaminate, DeepScaleRMathVsMath500) {
  const fs::path train = shared_data("deepscaler/train_math.jsonl");
  const fs::path test = shared_data("math/math500_test.jsonl");
  if (train.empty() || test.empty()) GTEST_SKIP() << "../shared/data (deepscaler, math) is absent";
  OpOptions o;
  o.id_field = "";
  o.input = train;
  const std::string with =
      "{references: [{name: math500, path: " + test.string() + ", id: unique_id}], exact_stripped: false}";
  const OpRun run = run_op("decontaminate", with, "", o);
  ASSERT_EQ(run.exit_code, 0) << run.describe();

  // Brute force: for each train line, the math500 item sharing the most 8-grams (strings, no hashing).
  const auto refs = read_field(test, "problem");
  ASSERT_EQ(refs.size(), 500u);
  std::map<std::string, std::vector<size_t>> postings;
  for (size_t i = 0; i < refs.size(); ++i)
    for (const auto& g : word_ngrams(refs[i].second, 8)) postings[g].push_back(i);
  std::set<size_t> expected;
  std::map<size_t, int> expected_shared;
  for (const auto& [line, text] : read_field(train, "problem")) {
    std::map<size_t, int> count;
    for (const auto& g : word_ngrams(text, 8))
      if (auto it = postings.find(g); it != postings.end())
        for (size_t i : it->second) ++count[i];
    int best = 0;
    for (const auto& [i, c] : count) best = std::max(best, c);
    if (best > 0) expected.insert(line), expected_shared[line] = best;
  }
  std::set<size_t> got;
  const Strings rejected = run.ledger_ids("rejected");
  for (const auto& id : rejected) got.insert(std::stoul(id.substr(id.rfind(':') + 1)));
  EXPECT_EQ(got, expected);
  EXPECT_GT(expected.size(), 0u);
  for (const auto& line : run.rejected) {
    const auto shared = json_int(line, "tamis.contaminated_by.shared_ngrams");
    ASSERT_TRUE(shared.has_value()) << line;
  }
  std::cerr << "deepscaler train_math vs math500 (8-grams, min_shared 1): " << got.size() << " of "
            << run.total("read") << " records contaminated\n";

  // With exact_stripped (default) too: at least as many.
  const OpRun both = run_op("decontaminate", "{references: [{name: math500, path: " + test.string() + ", id: unique_id}]}", "", o);
  ASSERT_EQ(both.exit_code, 0) << both.describe();
  EXPECT_GE(both.rejected.size(), run.rejected.size());
  std::cerr << "  with exact_stripped: " << both.rejected.size() << " (" << json_int(stage_report(both), "by_method.exact_stripped").value_or(-1)
            << " by exact_stripped)\n";
}

}  // namespace
