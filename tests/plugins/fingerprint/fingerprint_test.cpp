// Tests of the `fingerprint` plugin family: the tokeniser and the analysis library directly; the ops
// through the real binary (../harness.hpp); `tamis fingerprint` end to end on ../shared/data/slop.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <tamis/json.hpp>

#include "analysis.hpp"
#include "harness.hpp"
#include "tokenize.hpp"

namespace {

using namespace tamis::test;
using namespace tamis::fingerprint;
using Strings = std::vector<std::string>;

// ---- a small Newick reader, independent of the writer: leaves, balance, branch lengths ----
struct NewickTree {
  Strings leaves;
  std::vector<double> lengths;
  std::vector<Strings> clades;  // the leaves under each internal node
};

// Parses one Newick tree ending in ';'. Throws std::runtime_error with the position on malformed text.
NewickTree parse_newick(const std::string& s) {
  NewickTree t;
  size_t i = 0;
  auto fail = [&](const std::string& what) {
    throw std::runtime_error("newick: " + what + " at " + std::to_string(i) + " in " + s);
  };
  auto label = [&]() {
    std::string out;
    if (i < s.size() && s[i] == '\'') {
      for (++i;; ++i) {
        if (i >= s.size()) fail("unclosed quote");
        if (s[i] == '\'') {
          if (i + 1 < s.size() && s[i + 1] == '\'') out.push_back('\''), ++i;
          else break;
        } else {
          out.push_back(s[i]);
        }
      }
      ++i;
      return out;
    }
    while (i < s.size() && std::string("(),:;'[] ").find(s[i]) == std::string::npos) out.push_back(s[i++]);
    return out;
  };
  auto length = [&]() {
    if (i < s.size() && s[i] == ':') {
      ++i;
      size_t used = 0;
      const double v = std::stod(s.substr(i), &used);
      if (used == 0) fail("bad length");
      i += used;
      t.lengths.push_back(v);
    }
  };
  std::function<Strings()> node = [&]() -> Strings {
    Strings under;
    if (i < s.size() && s[i] == '(') {
      ++i;
      while (true) {
        Strings child = node();
        length();
        under.insert(under.end(), child.begin(), child.end());
        if (i >= s.size()) fail("unbalanced parentheses");
        if (s[i] == ',') { ++i; continue; }
        if (s[i] == ')') { ++i; break; }
        fail("expected , or )");
      }
      label();  // internal labels are allowed, unused
      t.clades.push_back(under);
      return under;
    }
    const std::string l = label();
    if (l.empty()) fail("empty leaf label");
    t.leaves.push_back(l);
    return {l};
  };
  node();
  length();
  if (i >= s.size() || s[i] != ';') fail("missing ';'");
  ++i;
  while (i < s.size() && (s[i] == '\n' || s[i] == ' ')) ++i;
  if (i != s.size()) fail("text after ';'");
  return t;
}

// The smallest clade holding both leaves (its size), in a parsed tree.
size_t clade_size(const NewickTree& t, const std::string& a, const std::string& b) {
  size_t best = SIZE_MAX;
  for (const auto& c : t.clades)
    if (std::count(c.begin(), c.end(), a) && std::count(c.begin(), c.end(), b)) best = std::min(best, c.size());
  return best;
}

std::string rec(const std::string& id, const std::string& group, const std::string& text) {
  return R"({"id":")" + id + R"(","model":)" + tamis::json::quote(group) + R"(,"text":)" + tamis::json::quote(text) + "}";
}

// ============================================================================================
// Tokeniser
// ============================================================================================

TEST(plugins_fingerprint_tokenize, WordsStopwordsAndSegments) {
  Tokens t;
  tokenize("The voice was barely above a whisper. Don’t STOP—ＦＵＬＬ width; ﬁne 42x", {.drop_stopwords = true}, t);
  EXPECT_EQ(t.text, "voice barely whisper stop full width fine x");
  EXPECT_EQ(t.words, 13u);  // every word, stopwords ("the", "was", "above", "a", "don't") included
  EXPECT_EQ(t.ngram(0, 3), "voice barely whisper");
  EXPECT_EQ(t.ngram(1, 3), "");  // "barely whisper stop" spans the sentence end
  EXPECT_EQ(t.ngram(3, 2), "stop full");
  EXPECT_EQ(t.ngram(5, 2), "");  // "width; fine" spans a ';'
  EXPECT_EQ(t.letters[0], 5);

  tokenize("The voice wasn't there", {.drop_stopwords = false}, t);
  EXPECT_EQ(t.text, "the voice wasn't there");
  EXPECT_EQ(t.letters[2], 5);  // the apostrophe is kept, not counted
}

TEST(plugins_fingerprint_tokenize, UnicodeLetters) {
  Tokens t;
  tokenize("Élan CAFÉ, Привет мир; e\u0301t\u00e9 ΑΒΓΔ", {.drop_stopwords = true}, t);
  EXPECT_EQ(t.text, "élan café привет мир e\u0301té αβγδ");
  EXPECT_EQ(t.letters[4], 3);  // the combining accent is part of the word, not a letter
  EXPECT_TRUE(is_stopword("don't"));
  EXPECT_FALSE(is_stopword("voice"));
  for (const char* w : {"a", "themselves", "yourselves", "should've", "y", "the"}) EXPECT_TRUE(is_stopword(w)) << w;
  for (const char* w : {"", "thems", "themselvesx", "é", "zebra"}) EXPECT_FALSE(is_stopword(w)) << w;
}

// ============================================================================================
// Analysis: smoothing, distances, clustering, Newick
// ============================================================================================

TEST(plugins_fingerprint_analysis, SmoothingByHand) {
  // Group: 10 of 1000 tokens; reference: 1 of 100; pooled: 20 of 2000; prior 0.1 -> a0 = 10, alpha = 0.1.
  const Smoothed s = smooth(10, 1000, 1, 100, 20, 2000, 0.1);
  EXPECT_NEAR(s.group_rate, 10.1 / 1010, 1e-12);
  EXPECT_NEAR(s.ref_rate, 1.1 / 110, 1e-12);
  EXPECT_NEAR(s.log_ratio, std::log((10.1 / 1010) / (1.1 / 110)), 1e-12);
  EXPECT_NEAR(s.z, s.log_ratio / std::sqrt(1 / 10.1 + 1 / 1.1), 1e-12);
}

TEST(plugins_fingerprint_analysis, UnseenInReferenceIsFiniteAndRareWordsDoNotDominate) {
  // A raw ratio is infinite for any feature the reference lacks; smoothed, a word seen twice in the group
  // (and nowhere else) ranks below one seen 200 times, although both are absent from the reference.
  const Smoothed rare = smooth(2, 100000, 0, 10000, 2, 500000, 0.1);
  const Smoothed common = smooth(200, 100000, 0, 10000, 260, 500000, 0.1);
  EXPECT_TRUE(std::isfinite(rare.log_ratio));
  EXPECT_GT(common.z, rare.z);
  // With the reference 10% prior, an unseen feature's reference rate is 1/11 of its pooled rate.
  EXPECT_NEAR(common.ref_rate, (1000.0 * 260 / 500000) / 11000, 1e-15);
  // More uses in the group, more over-representation.
  EXPECT_GT(smooth(300, 100000, 0, 10000, 360, 500000, 0.1).log_ratio, common.log_ratio);
}

TEST(plugins_fingerprint_analysis, Distances) {
  EXPECT_DOUBLE_EQ(jaccard_distance({1, 2, 3}, {2, 3, 4}), 0.5);
  EXPECT_DOUBLE_EQ(jaccard_distance({}, {}), 0.0);
  EXPECT_DOUBLE_EQ(jaccard_distance({1}, {2}), 1.0);
  EXPECT_NEAR(cosine_distance({1, 0}, {1, 0}), 0.0, 1e-12);
  EXPECT_NEAR(cosine_distance({1, 0}, {0, 1}), 1.0, 1e-12);
  EXPECT_NEAR(cosine_distance({1, 1}, {1, 0}), 1 - 1 / std::sqrt(2.0), 1e-12);
  EXPECT_DOUBLE_EQ(cosine_distance({0, 0}, {1, 0}), 1.0);
}

TEST(plugins_fingerprint_analysis, AverageLinkageByHand) {
  // a-b 1, c-d 2; a-c 8, a-d 10, b-c 12, b-d 14: (ab) then (cd) then their average (8+10+12+14)/4 = 11.
  const std::vector<std::vector<double>> d = {{0, 1, 8, 10}, {1, 0, 12, 14}, {8, 12, 0, 2}, {10, 14, 2, 0}};
  const Strings names = {"a", "b", "c", "d"};
  const auto m = average_linkage(d, names);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].left, 0);
  EXPECT_EQ(m[0].right, 1);
  EXPECT_DOUBLE_EQ(m[0].height, 1);
  EXPECT_EQ(m[1].left, 2);
  EXPECT_EQ(m[1].right, 3);
  EXPECT_DOUBLE_EQ(m[1].height, 2);
  EXPECT_DOUBLE_EQ(m[2].height, 11);
  EXPECT_EQ(newick(m, names), "((a:0.5000,b:0.5000):5.0000,(c:1.0000,d:1.0000):4.5000);");
  const NewickTree t = parse_newick(newick(m, names));
  EXPECT_EQ(t.leaves, names);
  EXPECT_EQ(clade_size(t, "a", "b"), 2u);
  const std::string text = text_dendrogram(m, names);
  EXPECT_NE(text.find("+ 11.0000"), std::string::npos) << text;
  EXPECT_NE(text.find("|   |-- a\n"), std::string::npos) << text;
}

TEST(plugins_fingerprint_analysis, TiesAndLabels) {
  // All distances equal: merges follow name order, whatever the input order.
  const std::vector<std::vector<double>> d(3, std::vector<double>{1, 1, 1});
  EXPECT_EQ(newick(average_linkage(d, {"c", "a", "b"}), {"c", "a", "b"}), "((a:0.5000,b:0.5000):0.0000,c:0.5000);");
  EXPECT_EQ(newick_label("openai/gpt-4o"), "openai/gpt-4o");
  EXPECT_EQ(newick_label("a b"), "'a b'");
  EXPECT_EQ(newick_label("it's (x)"), "'it''s (x)'");
  const Strings odd = {"it's", "a:b", "c,d"};
  const NewickTree t = parse_newick(newick(average_linkage(d, odd), odd));
  EXPECT_EQ(std::set<std::string>(t.leaves.begin(), t.leaves.end()), std::set<std::string>(odd.begin(), odd.end()));
  EXPECT_THROW(parse_newick("((a,b);"), std::runtime_error);  // the parser does catch unbalanced text
  EXPECT_EQ(newick({}, {"solo"}), "solo;");
}

// ============================================================================================
// fingerprint.profile through the binary
// ============================================================================================

// Group "slop" uses "tapestry" and "voice barely whisper" in every record; group "plain" never does;
// "zanzibar" appears many times but in one record only.
std::string planted_records() {
  Strings lines;
  for (int i = 0; i < 12; ++i) {
    lines.push_back(rec("s" + std::to_string(i), "slop",
                        "A rich tapestry, a tapestry of light. Her voice was barely above a whisper, number " + std::to_string(i) +
                            (i == 0 ? ". Zanzibar zanzibar zanzibar zanzibar zanzibar zanzibar." : ".")));
    lines.push_back(rec("p" + std::to_string(i), "plain", "The dog ran to the park and sat down near the old gate."));
  }
  return jsonl(lines);
}

TEST(plugins_fingerprint_profile, PlantedFeaturesRecordsUnchanged) {
  TempDir t;
  write_file(t / "human.jsonl", jsonl({R"({"body":"The dog sat at the gate of the park."})",
                                       R"({"body":"A light rain fell on the old town."})",
                                       R"({"body":"The dog sat at the gate of the park."})",
                                       R"({"text":"Not in the reference field."})"}));
  const std::string in = planted_records();
  const OpRun run = run_op("fingerprint.profile",
                           "{group_by: model, field: text, dir: '" + (t / "fp").string() + "', human: ['" +
                               (t / "human.jsonl").string() + "'], human_field: body, min_count: 3, min_records: 3}",
                           in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  // It only observes: every record kept, byte for byte, no annotation.
  EXPECT_EQ(jsonl(run.kept), in);
  const std::string profile = read_file(t / "fp/profile.json");
  ASSERT_TRUE(json_valid(profile)) << profile;
  EXPECT_EQ(json_string(profile, "/groups/1/name"), "slop");
  EXPECT_EQ(json_int(profile, "/groups/1/records"), 12);
  // Features no other group and no reference text has tie on the ratio; the more frequent comes first.
  EXPECT_EQ(json_string(profile, "/groups/1/top/words/0/text"), "tapestry");
  EXPECT_EQ(json_int(profile, "/groups/1/top/words/0/count"), 24);
  EXPECT_NE(profile.find("{\"text\": \"voice barely whisper\", \"count\": 12, \"records\": 12, \"ref_count\": 0"),
            std::string::npos) << profile;
  EXPECT_EQ(json_int(profile, "/reference/texts"), 2);  // the repeated reference line counted once
  EXPECT_EQ(json_int(profile, "/reference/duplicates_skipped"), 1);
  // A reference line without human_field is skipped, counted and named, not lost silently.
  EXPECT_EQ(json_int(profile, "/reference/without_field"), 1);
  EXPECT_NE(run.err.find("human.jsonl:4); set human_field"), std::string::npos) << run.err;
  EXPECT_EQ(profile.find("\"zanzibar\""), std::string::npos) << "one record's word must not be ranked";
  EXPECT_EQ(profile.find("\"text\": \"dog\""), std::string::npos) << "stopword-free but under 4 letters";
  // "light" is in the reference: below "number", which has the same counts and is not (or not ranked).
  const size_t light = profile.find("\"text\": \"light\""), number = profile.find("\"text\": \"number\"");
  ASSERT_NE(number, std::string::npos);
  if (light != std::string::npos) {
    EXPECT_LT(number, light);
  }
  const NewickTree tree = parse_newick(read_file(t / "fp/tree.nwk"));
  EXPECT_EQ(std::set<std::string>(tree.leaves.begin(), tree.leaves.end()), (std::set<std::string>{"plain", "slop"}));
  EXPECT_NE(read_file(t / "fp/neighbours.md").find("| slop | 12 |"), std::string::npos);
  EXPECT_NE(run.report.find("\"nearest\""), std::string::npos) << run.report;

  // The other ranking and distance: still the planted word first, a tree over both groups.
  const OpRun z = run_op("fingerprint.profile",
                         "{group_by: model, field: text, dir: '" + (t / "fz").string() + "', human: ['" +
                             (t / "human.jsonl").string() + "'], human_field: body, min_count: 3, min_records: 3, " +
                             "rank: z, measure: jaccard}",
                         in);
  ASSERT_EQ(z.exit_code, 0) << z.describe();
  const std::string pz = read_file(t / "fz/profile.json");
  EXPECT_EQ(json_string(pz, "/groups/1/top/words/0/text"), "tapestry");
  EXPECT_EQ(json_string(pz, "/tree/measure"), "jaccard");
  EXPECT_EQ(parse_newick(read_file(t / "fz/tree.nwk")).leaves.size(), 2u);
}

TEST(plugins_fingerprint_profile, SameFilesForOneAndTwoThreadsAcrossBatches) {
  // ~6 MB, so that the serial part sees several 4 MiB batches.
  Strings lines;
  const Strings words = {"tapestry", "testament", "whisper", "gleaming", "shimmering", "delve", "realm", "beacon"};
  for (int i = 0; i < 24000; ++i) {
    std::string text;
    for (int k = 0; k < 40; ++k) text += words[static_cast<size_t>((i * 7 + k * k) % 8)] + (k % 9 == 8 ? ". " : " ");
    // Each group over-uses one word, so every group has a top list.
    text += words[static_cast<size_t>(i % 5)] + " again. ";
    lines.push_back(rec(std::to_string(i), "g" + std::to_string(i % 5), text + "row " + std::to_string(i % 97)));
  }
  TempDir t;
  write_file(t / "in.jsonl", jsonl(lines));
  std::map<int, std::map<std::string, std::string>> files;
  for (int threads : {1, 2}) {
    OpOptions o;
    o.threads = threads;
    o.input = t / "in.jsonl";
    const fs::path dir = t / ("fp" + std::to_string(threads));
    const OpRun run = run_op("fingerprint.profile", "{group_by: model, field: text, dir: '" + dir.string() + "'}", "", o);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    for (const char* f : {"profile.json", "tree.nwk", "dendrogram.txt", "neighbours.md"}) files[threads][f] = read_file(dir / f);
  }
  // The same records in reverse order: counts are sums, outputs are sorted, so the files are the same.
  Strings reversed(lines.rbegin(), lines.rend());
  write_file(t / "rev.jsonl", jsonl(reversed));
  OpOptions o;
  o.input = t / "rev.jsonl";
  const OpRun rev = run_op("fingerprint.profile", "{group_by: model, field: text, dir: '" + (t / "rev").string() + "'}", "", o);
  ASSERT_EQ(rev.exit_code, 0) << rev.describe();
  for (const auto& [name, bytes] : files[1]) {
    EXPECT_TRUE(bytes == files[2][name]) << name << " differs between 1 and 2 threads";
    EXPECT_TRUE(bytes == read_file(t / "rev" / name)) << name << " depends on the input order";
  }
  EXPECT_EQ(parse_newick(files[1]["tree.nwk"]).leaves.size(), 5u);
  EXPECT_EQ(json_string(files[1]["profile.json"], "/groups/0/top/words/0/text"), "tapestry") << files[1]["profile.json"];
  EXPECT_EQ(json_string(files[1]["profile.json"], "/groups/4/top/words/0/text"), "shimmering");
}

TEST(plugins_fingerprint_profile, ClearErrors) {
  TempDir t;
  const std::string dir = (t / "fp").string();
  // A group field no record has: the run fails and names a record, the field and the fields it has.
  OpRun run = run_op("fingerprint.profile", "{group_by: modle, field: text, dir: '" + dir + "'}",
                     jsonl({rec("a", "m", "some text here")}));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("no group field 'modle'"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("its fields: id, model, text"), std::string::npos) << run.err;
  // An empty group name is no group: counted missing_group and named, the record passes on.
  run = run_op("fingerprint.profile", "{group_by: model, field: text, dir: '" + dir + "'}",
               jsonl({rec("a", "", "some words"), rec("b", "m", "some words")}));
  EXPECT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept.size(), 2u);
  EXPECT_EQ(json_int(run.report, "/stages/0/counters/missing_group"), 1);
  EXPECT_NE(run.err.find("has no group field 'model' (a non-empty string, a number or a boolean)"), std::string::npos) << run.err;
  // A reference that does not exist: found before any data is read, a pipeline error naming it.
  run = run_op("fingerprint.profile", "{group_by: model, field: text, dir: '" + dir + "', human: ['" + (t / "nope.jsonl").string() + "']}",
               jsonl({rec("a", "m", "x")}));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("parameter 'human': input file '" + (t / "nope.jsonl").string() + "' does not exist"), std::string::npos)
      << run.err;
  // A group_by field with a value per record (an id): stopped at max_groups, not at the memory limit.
  run = run_op("fingerprint.profile", "{group_by: id, field: text, dir: '" + dir + "', max_groups: 2}",
               jsonl({rec("a", "m", "x"), rec("b", "m", "x"), rec("c", "m", "x")}));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("more than 2 distinct values of 'id' (group_by), the latest 'c'"), std::string::npos) << run.err;
  // One group, no reference: a warning, files still written.
  run = run_op("fingerprint.profile", "{group_by: model, field: text, dir: '" + dir + "'}", jsonl({rec("a", "m", "some words")}));
  EXPECT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_NE(run.err.find("one group and no human reference"), std::string::npos) << run.err;
  EXPECT_EQ(read_file(t / "fp/tree.nwk"), "m;\n");
  // Parameters checked before anything runs.
  const CommandResult v = validate_op("fingerprint.profile", "{group_by: model, field: text, dir: x, prior: 0}");
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.err.find("prior must be > 0"), std::string::npos) << v.err;
}

// ============================================================================================
// fingerprint.score through the binary
// ============================================================================================

TEST(plugins_fingerprint_score, PlantedHitsAndScore) {
  TempDir t;
  write_file(t / "list.json", R"([["tapestry"], ["testament"], ["voice barely whisper"], ["the"], ["delve", 2.5]])");
  // 12 words; hits: tapestry, testament, voice barely whisper (1 each), delve (weight 2.5) -> 5.5 / 12 words.
  const std::string text = "Her voice was barely above a whisper. A tapestry, a testament; delve.";
  const OpRun run = run_op("fingerprint.score", "{field: text, lists: ['" + (t / "list.json").string() + "']}",
                           jsonl({rec("a", "m", text), rec("b", "m", "Nothing here at all."), R"({"id":"c"})"}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 2u);
  EXPECT_EQ(run.annotation(run.kept[0], "slop_words"), "12");
  EXPECT_EQ(run.annotation(run.kept[0], "slop_score"), tamis::json::number(std::round(1e6 * 5.5 / 12) / 1e3));
  EXPECT_EQ(run.annotation(run.kept[0], "slop_hits"),
            R"({"delve":1,"tapestry":1,"testament":1,"voice barely whisper":1})");
  EXPECT_EQ(run.annotation(run.kept[1], "slop_score"), "0");
  EXPECT_EQ(run.reasons(), Strings{"missing_field"});  // nothing dropped silently
}

TEST(plugins_fingerprint_score, MaxMakesItAFilter) {
  TempDir t;
  write_file(t / "list.json", R"(["tapestry", "testament"])");
  const OpRun run = run_op("fingerprint.score", "{field: text, lists: ['" + (t / "list.json").string() + "'], max: 100}",
                           jsonl({rec("a", "m", "tapestry testament tapestry and more words here"),
                                  rec("b", "m", "one tapestry among many many many other plain words here")}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"b"});
  ASSERT_EQ(run.rejections().size(), 1u);
  EXPECT_EQ(run.rejections()[0].reason, "slop");
  EXPECT_NE(run.rejections()[0].detail.find("> max 100 (tapestry x2, testament x1)"), std::string::npos)
      << run.rejections()[0].detail;
}

TEST(plugins_fingerprint_score, BadListsAreClearErrors) {
  TempDir t;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json at all", "is not valid JSON"},
      {R"({"words": []})", "object without a 'groups' array"},
      {R"([["fine"], [42]])", "entry 1 is [42]"},
      {R"([["one two three four"]])", "is 4 words"},
  };
  for (const auto& [content, expect] : cases) {
    write_file(t / "bad.json", content);
    const OpRun run = run_op("fingerprint.score", "{field: text, lists: ['" + (t / "bad.json").string() + "']}",
                             jsonl({rec("a", "m", "x")}));
    EXPECT_EQ(run.exit_code, 1) << content;
    EXPECT_NE(run.err.find(expect), std::string::npos) << content << "\n" << run.err;
    EXPECT_NE(run.err.find("bad.json"), std::string::npos) << run.err;
  }
}

TEST(plugins_fingerprint_score, ListFromAProfile) {
  TempDir t;
  const OpRun prof = run_op("fingerprint.profile",
                            "{group_by: model, field: text, dir: '" + (t / "fp").string() + "', min_count: 3, min_records: 3}",
                            planted_records());
  ASSERT_EQ(prof.exit_code, 0) << prof.describe();
  const std::string with = "{field: text, lists: ['" + (t / "fp/profile.json").string() + "'], group: slop}";
  const OpRun run = run_op("fingerprint.score", with, jsonl({rec("a", "m", "What a tapestry."), rec("b", "m", "A dog.")}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_NE(run.annotation(run.kept[0], "slop_hits")->find("tapestry"), std::string::npos);
  EXPECT_EQ(run.annotation(run.kept[1], "slop_score"), "0");
  const OpRun missing = run_op("fingerprint.score", "{field: text, lists: ['" + (t / "fp/profile.json").string() + "'], group: nope}",
                               jsonl({rec("a", "m", "x")}));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("has no group 'nope'; its groups: plain, slop"), std::string::npos) << missing.err;
}

// ============================================================================================
// `tamis fingerprint` on the shared model outputs
// ============================================================================================

TEST(plugins_fingerprint_cli, Errors) {
  TempDir t;
  CommandResult r = run_tamis({"fingerprint", "--group-by", "model", "--text", "output"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no input files"), std::string::npos) << r.err;
  r = run_tamis({"fingerprint", "--group-by", "model", (t / "x.jsonl").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--text FIELD is needed"), std::string::npos) << r.err;
  r = run_tamis({"fingerprint", "--group-by", "model", "--text", "output", (t / "missing.jsonl").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.jsonl': no such file"), std::string::npos) << r.err;
  write_file(t / "in.jsonl", jsonl({rec("a", "m", "text")}));
  // Numbers out of range are refused, not wrapped into an int.
  for (const char* threads : {"0", "5000000000", "99999999999999999999", "2x"}) {
    r = run_tamis({"fingerprint", "--group-by", "model", "--text", "text", "--threads", threads, (t / "in.jsonl").string()});
    EXPECT_EQ(r.exit_code, 2) << threads;
    EXPECT_NE(r.err.find("--threads wants a whole number from 1 to 1024, got '" + std::string(threads) + "'"), std::string::npos) << r.err;
  }
  r = run_tamis({"fingerprint", "--group-by", "model", "--text", "text", "--min-count", "99999999999999999999", (t / "in.jsonl").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--min-count wants a whole number"), std::string::npos) << r.err;
  r = run_tamis({"fingerprint", "--group-by", "model", "--text", "outptu", "--out", (t / "o").string(), (t / "in.jsonl").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no string field 'outptu'; its fields: id, model, text"), std::string::npos) << r.err;
}

TEST(plugins_fingerprint_cli, SlopModelsFamiliesAndDeterminism) {
  const fs::path slop = shared_data("slop");
  if (slop.empty()) GTEST_SKIP() << "../shared/data/slop is absent";
  TempDir t;
  std::map<int, std::map<std::string, std::string>> files;
  CommandResult out;
  for (int threads : {1, 2}) {
    const fs::path dir = t / ("out" + std::to_string(threads));
    std::vector<std::string> args = {"fingerprint", "--group-by", "model", "--text", "output", "--human",
                                     (slop / "*.jsonl").string(), "--human-field", "prompt", "--out", dir.string(),
                                     "--threads", std::to_string(threads), "-q"};
    for (const auto& e : fs::directory_iterator(slop))
      if (e.path().extension() == ".jsonl") args.push_back(e.path().string());
    out = run_tamis(args);
    ASSERT_EQ(out.exit_code, 0) << out.err;
    for (const char* f : {"profile.json", "tree.nwk", "dendrogram.txt", "neighbours.md"}) files[threads][f] = read_file(dir / f);
  }
  for (const auto& [name, bytes] : files[1]) EXPECT_TRUE(bytes == files[2][name]) << name << " differs between 1 and 2 threads";
  // The command prints the neighbours table and the dendrogram.
  EXPECT_NE(out.out.find("| mistralai/mistral-nemo | 300 |"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("average linkage"), std::string::npos) << out.out;

  const std::string& profile = files[1]["profile.json"];
  const NewickTree tree = parse_newick(files[1]["tree.nwk"]);
  const std::set<std::string> leaves(tree.leaves.begin(), tree.leaves.end());
  EXPECT_EQ(leaves.size(), 12u);
  EXPECT_EQ(tree.leaves.size(), 12u);
  for (const char* m : {"claude-sonnet-4-5", "deepseek/deepseek-r1", "google/gemma-3-4b-it", "z-ai/glm-4.5"})
    EXPECT_TRUE(leaves.count(m)) << m;
  for (double l : tree.lengths) EXPECT_GE(l, 0.0);

  auto nearest = [&](const std::string& m) { return json_string(profile, "/neighbours/" + m + "/0/name").value_or(""); };
  // What the data supports (docs/fingerprint.md, worked example): the two Mistral models are each other's
  // nearest and form a clade of their own; Gemma's nearest is Gemini.
  EXPECT_EQ(nearest("mistralai~1mistral-nemo"), "mistralai/Mistral-Small-3.2-24B-Instruct-2506");
  EXPECT_EQ(nearest("mistralai~1Mistral-Small-3.2-24B-Instruct-2506"), "mistralai/mistral-nemo");
  EXPECT_EQ(clade_size(tree, "mistralai/mistral-nemo", "mistralai/Mistral-Small-3.2-24B-Instruct-2506"), 2u);
  EXPECT_EQ(nearest("google~1gemma-3-4b-it"), "google/gemini-2.5-flash");
  EXPECT_LE(clade_size(tree, "google/gemma-3-4b-it", "google/gemini-2.5-flash"), 4u);
}

}  // namespace
