// dedup.minhash survivor policies on planted clusters: with `prefer: [source, answer]` a first pass finds
// each cluster's best member (source rank, then a non-empty answer, then input order) and the real pass
// keeps it. Checked against an independent computation, across thread counts (1, 2, 8), next to the
// default policy (the first member in the merged input order) on the same kind of data.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "harness.hpp"

namespace tamis::test {
namespace {

// A pipeline with two sources (`web` and `curated`, merged by input line) into one minhash stage.
std::string two_source_pipeline(const std::string& with) {
  return "version: 1\nsources:\n  web: { path: web.jsonl, id: id }\n  curated: { path: curated.jsonl, id: id }\n"
         "stages:\n  near:\n    inputs: [web, curated]\n    uses: dedup.minhash\n    with: " + with + "\n"
         "sinks:\n  kept: { path: out/kept.jsonl }\n  rejected: { path: out/rejected.jsonl, rejected: true }\n"
         "  ledger: { path: out/ledger.jsonl, ledger: true }\n";
}

struct Planted {
  std::string web, curated;                   // JSONL
  std::map<std::string, int> group_of;        // id -> planted cluster
  std::vector<std::string> expected_kept;     // ids, sorted
};

// `groups` clusters of 100-word texts from a 5,000-word vocabulary; each member is the group's base
// text with one word replaced, so with word 3-grams every two members of a group have Jaccard >= 0.88
// and members of different groups share almost nothing: the clusters do not depend on input order.
// The pipelines use 32 bands of 4 rows (kBands below), not the 16 x 8 chosen for 0.8: at Jaccard 0.88
// a pair escapes 16 x 8 with p = 5e-4, and thousands of pairs would make a planted cluster split now
// and then; with 32 x 4 the chance is 1e-13.
// Members are spread over both sources in random order, with the answer empty in about half of them.
Planted plant(int groups, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> vocab;
  for (int i = 0; i < 5000; ++i) vocab.push_back("w" + std::to_string(i) + "x" + std::to_string(rng() % 1000));
  struct Rec { std::string id, text, answer; bool curated; int group; };
  std::vector<Rec> recs;
  for (int g = 0; g < groups; ++g) {
    std::vector<std::string> base(100);
    for (auto& w : base) w = vocab[rng() % vocab.size()];
    const int members = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < members; ++m) {
      auto words = base;
      if (m > 0) words[10 + rng() % 80] = "edit" + std::to_string(rng() % 100000);
      std::string text;
      for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
      recs.push_back({"g" + std::to_string(g) + "m" + std::to_string(m), text, rng() % 2 ? "42" : "", rng() % 3 == 0, g});
    }
  }
  std::shuffle(recs.begin(), recs.end(), rng);
  Planted out;
  // Input order: the engine merges the two sources by line number, web first on ties.
  std::vector<const Rec*> web, cur;
  for (const auto& r : recs) (r.curated ? cur : web).push_back(&r);
  std::vector<const Rec*> order;
  for (size_t i = 0; i < std::max(web.size(), cur.size()); ++i) {
    if (i < web.size()) order.push_back(web[i]);
    if (i < cur.size()) order.push_back(cur[i]);
  }
  for (const Rec* r : web) out.web += "{\"id\":\"" + r->id + "\",\"problem\":\"" + r->text + "\",\"answer\":\"" + r->answer + "\"}\n";
  for (const Rec* r : cur) out.curated += "{\"id\":\"" + r->id + "\",\"problem\":\"" + r->text + "\",\"answer\":\"" + r->answer + "\"}\n";
  // Expected: per group the member with the lowest (curated first, answer non-empty first, order).
  std::map<int, std::tuple<int, int, size_t, std::string>> best;
  for (size_t pos = 0; pos < order.size(); ++pos) {
    const Rec* r = order[pos];
    out.group_of[r->id] = r->group;
    const auto key = std::make_tuple(r->curated ? 0 : 1, r->answer.empty() ? 1 : 0, pos, r->id);
    auto it = best.find(r->group);
    if (it == best.end() || key < it->second) best[r->group] = key;
  }
  for (const auto& [g, key] : best) out.expected_kept.push_back(std::get<3>(key));
  std::sort(out.expected_kept.begin(), out.expected_kept.end());
  return out;
}

constexpr const char* kBands = "bands: 32, rows: 4, ";

std::vector<std::string> ids_of(const std::vector<std::string>& lines) {
  std::vector<std::string> ids;
  for (const auto& l : lines) ids.push_back(json_string(l, "id").value_or(""));
  return ids;
}

TEST(plugins_dedup_survivor, BestRankedMemberSurvivesForAnyThreadCount) {
  const Planted p = plant(3000, 7);
  TempDir d;
  write_file(d / "web.jsonl", p.web);
  write_file(d / "curated.jsonl", p.curated);
  write_file(d / "p.yaml", two_source_pipeline(std::string("{ field: problem, ngram: 3, threshold: 0.8, ") + kBands + "prefer: [source, answer], "
                                               "source_rank: [curated] }"));
  std::string previous;
  // Small batches too (many batch boundaries, where the first pass and the real pass hand records
  // from the parallel part to the serial part): the same clusters and the same bytes.
  for (const auto& [threads, batch] : std::vector<std::pair<const char*, const char*>>{
           {"1", "4194304"}, {"2", "4194304"}, {"8", "4194304"}, {"2", "4096"}, {"8", "4096"}}) {
    SCOPED_TRACE(std::string(threads) + " threads, batches of " + batch + " bytes");
    const auto r = run_tamis({"run", (d / "p.yaml").string(), "--threads", threads, "--batch-bytes", batch});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto kept = ids_of(read_lines(d / "out" / "kept.jsonl"));
    std::sort(kept.begin(), kept.end());
    ASSERT_EQ(kept, p.expected_kept);
    // Every rejected record points at its own cluster's survivor.
    const std::set<std::string> survivors(kept.begin(), kept.end());
    for (const auto& line : read_lines(d / "out" / "rejected.jsonl")) {
      const auto id = json_string(line, "id").value_or("");
      const auto dup_of = json_string(line, "tamis.dup_of").value_or("");
      EXPECT_TRUE(survivors.count(dup_of)) << line;
      EXPECT_EQ(p.group_of.at(dup_of), p.group_of.at(id)) << line;
      EXPECT_EQ(json_string(line, "tamis.reason").value_or(""), "near_duplicate") << line;
    }
    const std::string all = read_file(d / "out" / "kept.jsonl") + read_file(d / "out" / "rejected.jsonl") + read_file(d / "out" / "ledger.jsonl");
    if (!previous.empty()) {
      EXPECT_EQ(all, previous) << "outputs differ with --threads " << threads;
    }
    previous = all;
  }
}

TEST(plugins_dedup_survivor, FirstPolicyKeepsTheFirstInInputOrderOnTheSameData) {
  const Planted p = plant(500, 11);
  TempDir d;
  write_file(d / "web.jsonl", p.web);
  write_file(d / "curated.jsonl", p.curated);
  write_file(d / "p.yaml", two_source_pipeline(std::string("{ field: problem, ngram: 3, threshold: 0.8, ") + kBands + "}"));
  const auto r = run_tamis({"run", (d / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("first pass"), std::string::npos) << "survivor: first streams in one pass";
  std::set<int> seen;
  std::vector<std::string> expected;  // the first member of each group in the merged input order
  for (const auto& line : read_lines(d / "out" / "ledger.jsonl")) {
    const auto id = json_string(line, "id").value_or("");
    if (seen.insert(p.group_of.at(id)).second) expected.push_back(id);
  }
  EXPECT_EQ(ids_of(read_lines(d / "out" / "kept.jsonl")), expected);
}

}  // namespace
}  // namespace tamis::test
