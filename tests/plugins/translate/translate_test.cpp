// Tests of the translation ops: the selection rule, the fidelity checks and the file formats (library
// tamis_translate_core, directly), translate.tag and translate.export (through the real tamis binary).
#include <gtest/gtest.h>
#include <simdjson.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <tamis/json.hpp>

#include "batch.hpp"
#include "fidelity.hpp"
#include "harness.hpp"
#include "selection.hpp"

namespace {

using namespace tamis::test;
namespace tr = tamis::translate;
using Strings = std::vector<std::string>;

const Strings kDefaultLangs = {"fr", "de", "zh", "es", "it", "ru"};

// ---- the documented rule, recomputed from xxHash alone (docs/translation.md#selection) ----

bool rule_selected(const std::string& key, uint64_t seed, double fraction) {
  const uint64_t h = XXH3_64bits_withSeed(key.data(), key.size(), seed);
  return static_cast<double>(h) < std::ldexp(fraction, 64);
}

std::string rule_target(const std::string& key, uint64_t seed, const Strings& langs) {
  std::string best;
  uint64_t best_w = 0;
  for (const auto& l : langs) {
    const uint64_t lk = XXH3_64bits_withSeed(l.data(), l.size(), seed ^ 0x7472616E736C6174ULL);
    const uint64_t w = XXH3_64bits_withSeed(key.data(), key.size(), lk);
    if (best.empty() || w > best_w) best = l, best_w = w;
  }
  return best;
}

std::string id_of(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "p-%07zu", i);
  return buf;
}

std::string rec(const std::string& id, const std::string& lang, const std::string& problem) {
  return R"({"id":")" + id + R"(","lang":")" + lang + R"(","problem":)" + tamis::json::quote(problem) + "}";
}

// n records: every tenth in French, the others in English.
std::string pool(size_t n, size_t first = 0, size_t step = 1) {
  std::string out;
  for (size_t i = first; i < n; i += step) out += rec(id_of(i), i % 10 == 3 ? "fr" : "en", "Problem number " + std::to_string(i) + ".") + "\n";
  return out;
}

std::map<std::string, std::string> targets_by_id(const OpRun& run) {
  std::map<std::string, std::string> out;
  for (const auto& l : run.kept)
    if (auto t = run.annotation(l, "translate_to")) out[*json_string(l, "id")] = t->substr(1, t->size() - 2);
  return out;
}

// ============================================================================================
// The selection rule (library)
// ============================================================================================

TEST(plugins_translate_select, MatchesTheDocumentedRule) {
  std::vector<uint64_t> keys;
  for (const auto& l : kDefaultLangs) keys.push_back(tr::language_key(l, 7));
  const uint64_t t = tr::fraction_threshold(0.1);
  for (size_t i = 0; i < 20000; ++i) {
    const std::string id = id_of(i);
    EXPECT_EQ(tr::selected(tr::selection_hash(id, 7), t, 0.1), rule_selected(id, 7, 0.1)) << id;
    EXPECT_EQ(kDefaultLangs[tr::pick_targets(id, keys, 1)[0]], rule_target(id, 7, kDefaultLangs)) << id;
  }
  EXPECT_EQ(tr::fraction_threshold(0.0), 0u);
  EXPECT_EQ(tr::fraction_threshold(1.0), UINT64_MAX);
  EXPECT_TRUE(tr::selected(UINT64_MAX, tr::fraction_threshold(1.0), 1.0));  // fraction 1: everything
  EXPECT_FALSE(tr::selected(0, tr::fraction_threshold(0.0), 0.0));          // fraction 0: nothing
}

TEST(plugins_translate_select, TargetsFollowLanguagesNotPositions) {
  // Reordering the list changes no target; adding a language moves only the records it wins.
  auto keys = [](const Strings& langs) {
    std::vector<uint64_t> k;
    for (const auto& l : langs) k.push_back(tr::language_key(l, 0));
    return k;
  };
  const Strings six = kDefaultLangs, shuffled = {"ru", "zh", "fr", "it", "es", "de"};
  Strings seven = six;
  seven.push_back("ja");
  size_t moved = 0;
  const size_t n = 60000;
  for (size_t i = 0; i < n; ++i) {
    const std::string id = id_of(i);
    const std::string a = six[tr::pick_targets(id, keys(six), 1)[0]];
    EXPECT_EQ(a, shuffled[tr::pick_targets(id, keys(shuffled), 1)[0]]);
    const std::string b = seven[tr::pick_targets(id, keys(seven), 1)[0]];
    if (b != a) {
      EXPECT_EQ(b, "ja");
      ++moved;
    }
  }
  EXPECT_NEAR(static_cast<double>(moved) / n, 1.0 / 7, 0.01);
  // k targets: distinct, the first is the k = 1 choice.
  for (size_t i = 0; i < 1000; ++i) {
    const auto two = tr::pick_targets(id_of(i), keys(six), 2);
    ASSERT_EQ(two.size(), 2u);
    EXPECT_NE(two[0], two[1]);
    EXPECT_EQ(two[0], tr::pick_targets(id_of(i), keys(six), 1)[0]);
  }
}

TEST(plugins_translate_select, BalancedPicksTheLeastUsedLanguage) {
  std::vector<uint64_t> keys;
  for (const auto& l : kDefaultLangs) keys.push_back(tr::language_key(l, 0));
  std::vector<int64_t> counts(kDefaultLangs.size(), 0);
  for (size_t i = 0; i < 6001; ++i) {
    const auto before = counts;
    const size_t t = tr::pick_balanced(id_of(i), keys, 1, counts)[0];
    EXPECT_EQ(before[t], *std::min_element(before.begin(), before.end()));
    const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
    ASSERT_LE(*hi - *lo, 1);
  }
  // The first pick of a fresh batch is the record's rendezvous choice.
  std::vector<int64_t> fresh(kDefaultLangs.size(), 0);
  EXPECT_EQ(tr::pick_balanced("abc", keys, 1, fresh)[0], tr::pick_targets("abc", keys, 1)[0]);
  std::vector<int64_t> two(kDefaultLangs.size(), 0);
  const auto k2 = tr::pick_balanced("abc", keys, 2, two);
  EXPECT_NE(k2[0], k2[1]);
}

// How often assign: hash meets the balance target on 100K records (10K selected), over 200 seeds.
// Independent per-record choices give multinomial counts (sd ~ 37 of ~1,667 per language), so this is
// a probability, not a guarantee (the reason assign: balanced is the default); docs/translation.md
// quotes the printed figures.
TEST(plugins_translate_select, BalanceOverSeeds) {
  const size_t n = 100000, seeds = 200;
  size_t within_mean = 0, within_minmax = 0, fraction_ok = 0;
  double worst_dev = 0;
  std::vector<std::string> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back(id_of(i));
  for (uint64_t seed = 0; seed < seeds; ++seed) {
    std::vector<uint64_t> keys;
    for (const auto& l : kDefaultLangs) keys.push_back(tr::language_key(l, seed));
    const uint64_t t = tr::fraction_threshold(0.1);
    std::vector<double> c(kDefaultLangs.size(), 0);
    double sel = 0;
    for (const auto& id : ids) {
      if (!tr::selected(tr::selection_hash(id, seed), t, 0.1)) continue;
      ++sel;
      ++c[tr::pick_targets(id, keys, 1)[0]];
    }
    const double mean = sel / static_cast<double>(c.size());
    double dev = 0;
    for (double x : c) dev = std::max(dev, std::fabs(x - mean) / mean);
    const auto [lo, hi] = std::minmax_element(c.begin(), c.end());
    worst_dev = std::max(worst_dev, dev);
    within_mean += dev <= 0.05;
    within_minmax += *hi / *lo <= 1.05;
    fraction_ok += std::fabs(sel / n - 0.1) <= 0.005;
  }
  std::printf("seeds %zu: fraction within 10%% +- 0.5 points: %zu; languages within 5%% of the mean: %zu; "
              "max/min <= 1.05: %zu; worst deviation from the mean %.4f\n",
              seeds, fraction_ok, within_mean, within_minmax, worst_dev);
  EXPECT_EQ(fraction_ok, seeds);
  EXPECT_GE(within_mean, seeds * 8 / 10);
}

// ============================================================================================
// translate.tag
// ============================================================================================

// The issue's measure: on 100K records, the selected share of the source records within 10% +- 0.5
// points and the per-language counts within 5% of their mean, for several seeds. With assign: hash,
// each record's language is recomputed from the documented rule; assign: balanced (the default) must
// select the same records.
TEST(plugins_translate_tag, FractionAndBalanceOn100K) {
  const size_t n = 100000;
  const std::string in = pool(n);
  for (const std::string assign : {"balanced", "hash"}) {
    for (uint64_t seed : {0, 1, 2}) {
      const OpRun run = run_op("translate.tag", "{assign: " + assign + ", seed: " + std::to_string(seed) + "}", in, 2);
      ASSERT_EQ(run.exit_code, 0) << run.describe();
      ASSERT_EQ(run.kept.size(), n);
      const auto targets = targets_by_id(run);
      size_t english = 0;
      std::map<std::string, double> per_lang;
      for (size_t i = 0; i < n; ++i) {
        const std::string id = id_of(i);
        const bool en = i % 10 != 3;
        english += en;
        const auto it = targets.find(id);
        const bool expect = en && rule_selected(id, seed, 0.1);
        ASSERT_EQ(it != targets.end(), expect) << id;
        if (!expect) continue;
        if (assign == "hash") {
          EXPECT_EQ(it->second, rule_target(id, seed, kDefaultLangs)) << id;
        }
        ++per_lang[it->second];
      }
      const double share = static_cast<double>(targets.size()) / static_cast<double>(english);
      EXPECT_NEAR(share, 0.10, 0.005) << targets.size() << " of " << english;
      ASSERT_EQ(per_lang.size(), 6u);
      const double mean = static_cast<double>(targets.size()) / 6;
      double dev = 0;
      for (const auto& [l, c] : per_lang) dev = std::max(dev, std::fabs(c - mean) / mean);
      std::printf("assign %s, seed %d: %zu of %zu selected (%.4f); largest deviation from the mean %.4f\n", assign.c_str(),
                  static_cast<int>(seed), targets.size(), english, share, dev);
      EXPECT_LE(dev, assign == "balanced" ? 0.005 : 0.05) << assign << ": a few batches, each at most one record apart";
      double lo = 1e18, hi = 0;
      for (const auto& [l, c] : per_lang) lo = std::min(lo, c), hi = std::max(hi, c);
      if (assign == "balanced") {
        EXPECT_LE(hi / lo, 1.01) << "the strict reading of 'within 5% of each other' holds too";
      }
      // The report says the same.
      EXPECT_EQ(json_int(run.report, "/stages/0/report/selected"), static_cast<int64_t>(targets.size()));
      EXPECT_EQ(json_int(run.report, "/stages/0/report/source_records"), static_cast<int64_t>(english));
      EXPECT_EQ(json_int(run.report, "/stages/0/counters/other_language"), static_cast<int64_t>(n - english));
      for (const auto& [l, c] : per_lang)
        EXPECT_EQ(json_int(run.report, "/stages/0/report/languages/" + l), static_cast<int64_t>(c)) << l;
    }
  }
}

TEST(plugins_translate_tag, StableAcrossThreadsAndOtherRecords) {
  const size_t n = 30000;
  OpOptions one;
  one.threads = 1;
  for (const std::string assign : {"balanced", "hash"}) {  // byte-identical for any thread count
    const OpRun x = run_op("translate.tag", "{seed: 5, assign: " + assign + "}", pool(n), one);
    const OpRun y = run_op("translate.tag", "{seed: 5, assign: " + assign + "}", pool(n), 2);
    ASSERT_EQ(x.exit_code, 0) << x.describe();
    EXPECT_EQ(x.kept, y.kept) << assign;
  }
  // Other records present or not: the same records are selected; with assign: hash, also the same
  // languages (with balanced, a language depends on the selected records before it in its batch).
  const OpRun a = run_op("translate.tag", "{seed: 5, assign: hash}", pool(n), 2);
  const OpRun bal = run_op("translate.tag", "{seed: 5}", pool(n), 2);
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  // Every third record only, and other records in between: the same decisions for the shared ids.
  std::string mixed;
  for (size_t i = 0; i < n; i += 3) {
    mixed += rec(id_of(i), i % 10 == 3 ? "fr" : "en", "Problem number " + std::to_string(i) + ".") + "\n";
    mixed += rec("other-" + std::to_string(i), "en", "Another problem.") + "\n";
  }
  const OpRun c = run_op("translate.tag", "{seed: 5, assign: hash}", mixed, 2);
  const OpRun cbal = run_op("translate.tag", "{seed: 5}", mixed, 2);
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  const auto all = targets_by_id(a), sub = targets_by_id(c), all_bal = targets_by_id(bal), sub_bal = targets_by_id(cbal);
  for (size_t i = 0; i < n; i += 3)
    EXPECT_EQ(all_bal.count(id_of(i)), sub_bal.count(id_of(i))) << id_of(i);
  size_t shared = 0;
  for (size_t i = 0; i < n; i += 3) {
    const auto x = all.find(id_of(i)), y = sub.find(id_of(i));
    ASSERT_EQ(x == all.end(), y == sub.end()) << id_of(i);
    if (x != all.end()) {
      EXPECT_EQ(x->second, y->second);
      ++shared;
    }
  }
  EXPECT_GT(shared, 500u);
  // Another seed, another selection.
  const OpRun d = run_op("translate.tag", "{seed: 6, assign: hash}", pool(n), 2);
  EXPECT_NE(targets_by_id(d), all);
}

TEST(plugins_translate_tag, LanguageFromAnnotationFieldOrEarlierRun) {
  // lang as a field, as a path (meta.lang), as an earlier run's annotation (tamis.lang); no lang at all.
  const std::string in = jsonl({R"({"id":"a","lang":"en","problem":"x"})", R"({"id":"b","meta":{"lang":"en"},"problem":"x"})",
                                R"({"id":"c","tamis":{"lang":"en"},"problem":"x"})", R"({"id":"d","problem":"x"})"});
  const OpRun run = run_op("translate.tag", "{fraction: 1}", in, 2);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_TRUE(run.annotation(run.kept[0], "translate_to"));
  EXPECT_FALSE(run.annotation(run.kept[1], "translate_to"));  // meta.lang is not `lang`
  EXPECT_TRUE(run.annotation(run.kept[2], "translate_to"));
  EXPECT_FALSE(run.annotation(run.kept[3], "translate_to"));
  EXPECT_EQ(json_int(run.report, "/stages/0/counters/no_language"), 2);
  const OpRun meta = run_op("translate.tag", "{fraction: 1, lang_field: meta.lang}", in, 2);
  ASSERT_EQ(meta.exit_code, 0) << meta.describe();
  EXPECT_TRUE(meta.annotation(meta.kept[1], "translate_to"));
  const OpRun pointer = run_op("translate.tag", "{fraction: 1, lang_field: /meta/lang}", in, 2);
  ASSERT_EQ(pointer.exit_code, 0) << pointer.describe();
  EXPECT_TRUE(pointer.annotation(pointer.kept[1], "translate_to"));
  EXPECT_FALSE(pointer.annotation(pointer.kept[0], "translate_to"));
  // An annotation from an earlier stage of the same run.
  const OpRun staged = run_stages(
      "  src:\n    uses: translate.tag\n    with: {fraction: 0, source: en}\n"  // annotates nothing
      "  tag:\n    uses: translate.tag\n    with: {fraction: 1, source: fr, languages: [en]}\n",
      jsonl({R"({"id":"a","lang":"fr","problem":"x"})"}));
  ASSERT_EQ(staged.exit_code, 0) << staged.describe();
  EXPECT_EQ(staged.annotation(staged.kept[0], "translate_to"), "\"en\"");
  // No record in the source language: a warning that says what to do.
  const OpRun none = run_op("translate.tag", "", jsonl({R"({"id":"a","problem":"x"})"}), 2);
  ASSERT_EQ(none.exit_code, 0) << none.describe();
  EXPECT_NE(none.err.find("run lang.identify before translate.tag"), std::string::npos) << none.err;
}

TEST(plugins_translate_tag, CopyModeEmitsTaggedCopies) {
  const size_t n = 2000;
  const std::string in = pool(n);
  const OpRun run = run_op("translate.tag", "{mode: copy, fraction: 0.2, assign: hash}", in, 2);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  const Strings input_lines = [&] {
    Strings v;
    size_t b = 0;
    for (size_t e; (e = in.find('\n', b)) != std::string::npos; b = e + 1) v.push_back(in.substr(b, e - b));
    return v;
  }();
  size_t k = 0, copies = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string id = id_of(i);
    ASSERT_LT(k, run.kept.size());
    EXPECT_EQ(run.kept[k++], input_lines[i]) << "the original passes untouched";
    if (i % 10 != 3 && rule_selected(id, 0, 0.2)) {
      const std::string lang = rule_target(id, 0, kDefaultLangs);
      ASSERT_LT(k, run.kept.size());
      const std::string& copy = run.kept[k++];
      EXPECT_EQ(json_string(copy, "id"), id + "#" + lang);
      EXPECT_EQ(json_string(copy, "translate_to"), lang);
      EXPECT_EQ(json_string(copy, "problem"), "Problem number " + std::to_string(i) + ".");
      EXPECT_FALSE(run.annotation(copy, "translate_to"));
      ++copies;
    }
  }
  EXPECT_EQ(k, run.kept.size());
  EXPECT_EQ(json_int(run.report, "/stages/0/emitted"), static_cast<int64_t>(copies));
  EXPECT_EQ(run.ledger_ids("kept").size(), n);

  // Two languages per record: two copies with different languages, the first the k = 1 choice.
  const OpRun two = run_op("translate.tag", "{mode: copy, fraction: 1, per_record: 2, assign: hash}", jsonl({rec("x", "en", "Hello")}), 2);
  ASSERT_EQ(two.exit_code, 0) << two.describe();
  ASSERT_EQ(two.kept.size(), 3u);
  const std::string first = rule_target("x", 0, kDefaultLangs);
  EXPECT_EQ(json_string(two.kept[1], "id"), "x#" + first);
  EXPECT_NE(json_string(two.kept[2], "translate_to"), first);
  // A record without the id field: the copy keeps its text, only the record id changes.
  const OpRun noid = run_op("translate.tag", "{mode: copy, fraction: 1, id_field: uid, assign: hash}", jsonl({rec("x", "en", "Hello")}), 2);
  ASSERT_EQ(noid.exit_code, 0) << noid.describe();
  EXPECT_EQ(json_string(noid.kept[1], "id"), "x");
  EXPECT_EQ(json_string(noid.kept[1], "translate_to"), first);
}

TEST(plugins_translate_tag, Stratification) {
  std::string in;
  for (size_t i = 0; i < 6000; ++i)
    in += R"({"id":")" + id_of(i) + R"(","lang":"en","level":)" + std::to_string(i % 3) + R"(,"src":")" +
          (i % 2 ? "aops" : "gsm") + R"("})" + "\n";
  const OpRun run = run_op("translate.tag", "{stratify: level, fractions: {\"2\": 1, \"0\": 0}}", in, 2);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  for (const auto& l : run.kept) {
    const auto level = json_int(l, "level");
    const bool tagged = run.annotation(l, "translate_to").has_value();
    if (level == 2) {
      EXPECT_TRUE(tagged);
    } else if (level == 0) {
      EXPECT_FALSE(tagged);
    } else {
      EXPECT_EQ(tagged, rule_selected(*json_string(l, "id"), 0, 0.1));
    }
  }
  EXPECT_EQ(json_int(run.report, "/stages/0/report/strata/2/selected"), 2000);
  EXPECT_EQ(json_int(run.report, "/stages/0/report/strata/0/selected"), 0);
  EXPECT_EQ(json_int(run.report, "/stages/0/report/strata/1/source_records"), 2000);
  EXPECT_EQ(json_int(run.report, "/stages/0/report/strata_count"), 3);
  EXPECT_EQ(run.err.find("fractions names the stratum"), std::string::npos) << run.err;
  // A fractions key that matches no stratum is named, with the strata that were seen.
  const OpRun typo = run_op("translate.tag", "{stratify: src, fractions: {AoPS: 1}}", in, 2);
  ASSERT_EQ(typo.exit_code, 0) << typo.describe();
  EXPECT_NE(typo.err.find("fractions names the stratum 'AoPS', which no 'en' record had in 'src'"), std::string::npos) << typo.err;
  EXPECT_NE(typo.err.find("Strata seen: 'aops', 'gsm'"), std::string::npos) << typo.err;
  // Stratifying without per-stratum fractions selects exactly the same records (only the report changes).
  const OpRun plain = run_op("translate.tag", "", in, 2), strat = run_op("translate.tag", "{stratify: src}", in, 2);
  EXPECT_EQ(targets_by_id(plain), targets_by_id(strat));
  EXPECT_TRUE(json_int(strat.report, "/stages/0/report/strata/aops/selected").has_value());

  // Buckets of a numeric field (a pass rate): every hard problem, no easy one, 10% of the others.
  std::string rates;
  for (size_t i = 0; i < 3000; ++i)
    rates += R"({"id":")" + id_of(i) + R"(","lang":"en","pass_rate":)" + tamis::json::number(static_cast<double>(i % 10) / 10) + "}\n";
  const OpRun b = run_op("translate.tag", "{stratify: pass_rate, buckets: [0.2, 0.8], fractions: {'<0.2': 1, '>=0.8': 0}}", rates, 2);
  ASSERT_EQ(b.exit_code, 0) << b.describe();
  for (const auto& l : b.kept) {
    const double rate = std::stod(*json_raw(l, "pass_rate"));
    const bool tagged = b.annotation(l, "translate_to").has_value();
    if (rate < 0.2) {
      EXPECT_TRUE(tagged) << l;
    } else if (rate >= 0.8) {
      EXPECT_FALSE(tagged) << l;
    }
  }
  EXPECT_EQ(json_int(b.report, "/stages/0/report/strata/<0.2/selected"), 600);
  EXPECT_EQ(json_int(b.report, "/stages/0/report/strata/[0.2,0.8)/source_records"), 1800);
  EXPECT_EQ(json_int(b.report, "/stages/0/report/strata_count"), 3);
}

TEST(plugins_translate_tag, KeyField) {
  // Hashing the problem text: two ids with the same problem get the same decision and language.
  std::string in;
  for (size_t i = 0; i < 400; ++i) {
    in += rec(id_of(i), "en", "Problem " + std::to_string(i % 200)) + "\n";
  }
  const OpRun run = run_op("translate.tag", "{key: problem, fraction: 0.5, assign: hash}", in, 2);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  const auto t = targets_by_id(run);
  for (size_t i = 0; i < 200; ++i) {
    const auto a = t.find(id_of(i)), b = t.find(id_of(i + 200));
    ASSERT_EQ(a == t.end(), b == t.end());
    if (a != t.end()) {
      EXPECT_EQ(a->second, b->second);
    }
    EXPECT_EQ(a != t.end(), rule_selected("Problem " + std::to_string(i), 0, 0.5));
  }
}

TEST(plugins_translate_tag, InvalidParameters) {
  auto invalid = [](const std::string& with, const std::string& message) {
    const CommandResult r = validate_op("translate.tag", with);
    EXPECT_EQ(r.exit_code, 2) << with << "\n" << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << with << "\n" << r.err;
  };
  invalid("{fraction: 1.5}", "fraction must be within [0, 1]");
  invalid("{languages: []}", "languages is empty");
  invalid("{languages: [fr, fr]}", "lists 'fr' twice");
  invalid("{languages: [en, fr]}", "holds the source language 'en'");
  invalid("{per_record: 2}", "per_record above 1 needs mode: copy");
  invalid("{per_record: 7, mode: copy}", "per_record must be within [1, 6]");
  invalid("{fractions: {a: 0.5}}", "fractions needs stratify");
  invalid("{stratify: s, fractions: {a: 2}}", "'a' must be within [0, 1]");
  invalid("{mode: move}", "mode");
  invalid("{assign: random}", "assign");
  invalid("{buckets: [0.5]}", "buckets needs stratify");
  invalid("{stratify: r, buckets: [0.5, 0.2]}", "increasing order");
  EXPECT_EQ(validate_op("translate.tag", "").exit_code, 0);
}

// ============================================================================================
// translate.export
// ============================================================================================

struct Request {
  std::string custom_id, method, url, model, system, user;
  size_t messages = 0;
};

// Parses every line of a batch file; fails the test on any line that is not a well-formed request.
std::vector<Request> parse_batch(const fs::path& p) {
  std::vector<Request> out;
  simdjson::dom::parser parser;
  size_t n = 0;
  for (const auto& line : read_lines(p)) {
    ++n;
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << p << ":" << n;
    Request r;
    std::string_view s;
    EXPECT_EQ(doc["custom_id"].get_string().get(s), simdjson::SUCCESS) << n;
    r.custom_id = s;
    EXPECT_EQ(doc["method"].get_string().get(s), simdjson::SUCCESS) << n;
    r.method = s;
    EXPECT_EQ(doc["url"].get_string().get(s), simdjson::SUCCESS) << n;
    r.url = s;
    EXPECT_EQ(doc["body"]["model"].get_string().get(s), simdjson::SUCCESS) << n;
    r.model = s;
    simdjson::dom::array msgs;
    EXPECT_EQ(doc["body"]["messages"].get_array().get(msgs), simdjson::SUCCESS) << n;
    for (auto m : msgs) {
      std::string_view role, content;
      EXPECT_EQ(m["role"].get_string().get(role), simdjson::SUCCESS) << n;
      EXPECT_EQ(m["content"].get_string().get(content), simdjson::SUCCESS) << n;
      (role == "system" ? r.system : r.user) = content;
      ++r.messages;
    }
    out.push_back(std::move(r));
  }
  return out;
}

TEST(plugins_translate_export, WritesValidBatchRequests) {
  TempDir dir;
  const fs::path batch = dir / "batch.jsonl";
  const std::string stages =
      "  tag:\n    uses: translate.tag\n    with: {fraction: 0.3}\n"
      "  export:\n    uses: translate.export\n    with: {path: '" + batch.string() + "', model: gpt-4.1-mini, body: {temperature: 0, max_tokens: 2048}}\n";
  std::string in;
  for (size_t i = 0; i < 3000; ++i)
    in += rec(id_of(i), i % 10 == 3 ? "fr" : "en", "Tom has " + std::to_string(i) + " apples; $x^2 = \\frac{1}{2}$. \"Quoted\" é 中\n.") + "\n";
  const OpRun run = run_stages(stages, in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 3000u);  // records pass on
  const auto tagged = targets_by_id(run);
  const auto reqs = parse_batch(batch);
  ASSERT_EQ(reqs.size(), tagged.size());
  std::set<std::string> ids;
  size_t k = 0;
  for (const auto& l : run.kept) {  // requests come in input order
    const std::string id = *json_string(l, "id");
    const auto t = tagged.find(id);
    if (t == tagged.end()) continue;
    const Request& r = reqs[k++];
    EXPECT_EQ(r.custom_id, id);
    EXPECT_TRUE(ids.insert(r.custom_id).second);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.url, "/v1/chat/completions");
    EXPECT_EQ(r.model, "gpt-4.1-mini");
    EXPECT_EQ(r.messages, 2u);
    EXPECT_EQ(r.user, *json_string(l, "problem"));
    EXPECT_NE(r.system.find("from English into " + tr::language_name(t->second) + "."), std::string::npos) << r.system;
    EXPECT_NE(r.system.find("LaTeX"), std::string::npos);
  }
  const std::string first = read_lines(batch).front();
  EXPECT_NE(first.find(R"("temperature":0,"max_tokens":2048}})"), std::string::npos) << first;
  EXPECT_EQ(json_int(run.report, "/stages/1/counters/exported"), static_cast<int64_t>(reqs.size()));
  // No temporary file is left beside it.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
}

TEST(plugins_translate_export, SameFileForAnyThreadCountAndSplitsIntoParts) {
  TempDir dir;
  std::string in;
  for (size_t i = 0; i < 40000; ++i) in += rec(id_of(i), "en", "Compute " + std::to_string(i) + " + 1.") + "\n";
  auto run = [&](int threads, const std::string& name, const std::string& extra) {
    OpOptions o;
    o.threads = threads;
    return run_stages("  tag:\n    uses: translate.tag\n    with: {fraction: 0.5}\n"
                      "  export:\n    uses: translate.export\n    with: {path: '" + (dir / name).string() + "'" + extra + "}\n",
                      in, o);
  };
  ASSERT_EQ(run(1, "one.jsonl", "").exit_code, 0);
  ASSERT_EQ(run(2, "two.jsonl", "").exit_code, 0);
  EXPECT_EQ(read_file(dir / "one.jsonl"), read_file(dir / "two.jsonl"));
  // 5,000 requests per part: the same lines, in order, over parts NAME.1.jsonl ...
  const OpRun parts = run(2, "parts.jsonl", ", max_requests: 5000");
  ASSERT_EQ(parts.exit_code, 0) << parts.describe();
  EXPECT_FALSE(fs::exists(dir / "parts.jsonl"));
  std::string joined;
  size_t n = 0;
  for (size_t i = 1; fs::exists(dir / ("parts." + std::to_string(i) + ".jsonl")); ++i, ++n) {
    const std::string part = read_file(dir / ("parts." + std::to_string(i) + ".jsonl"));
    EXPECT_LE(read_lines(dir / ("parts." + std::to_string(i) + ".jsonl")).size(), 5000u);
    joined += part;
  }
  EXPECT_EQ(joined, read_file(dir / "one.jsonl"));
  EXPECT_EQ(n, (read_lines(dir / "one.jsonl").size() + 4999) / 5000);
  EXPECT_GE(n, 4u);
}

TEST(plugins_translate_export, TemplatesAndTheShippedDefault) {
  TempDir dir;
  const std::string in = jsonl({rec("a", "en", "What is $1+1$?"), rec("b#x", "en", "Tab\there {braces}")});
  auto run = [&](const std::string& with) {
    return run_stages("  tag:\n    uses: translate.tag\n    with: {fraction: 1, languages: [de]}\n"
                      "  export:\n    uses: translate.export\n    with: " + with + "\n", in);
  };
  // pipelines/translate/template.json is the built-in template, byte for byte.
  const fs::path shipped = source_dir() / "pipelines/translate/template.json";
  ASSERT_EQ(run("{path: '" + (dir / "builtin.jsonl").string() + "'}").exit_code, 0);
  ASSERT_EQ(run("{path: '" + (dir / "shipped.jsonl").string() + "', template: '" + shipped.string() + "'}").exit_code, 0);
  EXPECT_EQ(read_file(dir / "builtin.jsonl"), read_file(dir / "shipped.jsonl"));
  // A template of one's own: every placeholder, literal braces.
  write_file(dir / "t.json",
             R"([{"role":"user","content":"{{{id}}} {source}>{target} ({source_name} to {target_name}): {text}"}])");
  const OpRun own = run("{path: '" + (dir / "own.jsonl").string() + "', template: '" + (dir / "t.json").string() +
                        "', language_names: {de: Deutsch}}");
  ASSERT_EQ(own.exit_code, 0) << own.describe();
  const auto reqs = parse_batch(dir / "own.jsonl");
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].user, "{a} en>de (English to Deutsch): What is $1+1$?");
  EXPECT_EQ(reqs[1].user, "{b#x} en>de (English to Deutsch): Tab\there {braces}");
  EXPECT_EQ(reqs[1].messages, 1u);
  // Bad templates are reported when the pipeline is validated.
  auto invalid = [&](const std::string& text, const std::string& message) {
    write_file(dir / "bad.json", text);
    const CommandResult r = validate_op("translate.export", "{path: out.jsonl, template: '" + (dir / "bad.json").string() + "'}");
    EXPECT_EQ(r.exit_code, 2) << text;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  };
  invalid(R"([{"role":"user","content":"{txt}"}])", "unknown placeholder {txt}");
  invalid(R"([{"role":"user","content":"translate"}])", "never uses {text}");
  invalid(R"({"role":"user"})", "must be a JSON array of messages");
  invalid(R"([{"role":"user"}])", "message 1 needs string fields role and content");
  invalid("[", "is not valid JSON");
  const CommandResult body = validate_op("translate.export", "{path: out.jsonl, body: {model: x}}");
  EXPECT_EQ(body.exit_code, 2);
  EXPECT_NE(body.err.find("body may not set 'model'"), std::string::npos) << body.err;
}

TEST(plugins_translate_export, MissingFieldDuplicateIdsAndUntaggedRecords) {
  TempDir dir;
  const fs::path batch = dir / "b.jsonl";
  const std::string in = jsonl({R"({"id":"a","problem":"One","translate_to":"fr"})", R"({"id":"b","translate_to":"fr"})",
                                R"({"id":"a","problem":"Again","translate_to":"fr"})", R"({"id":"c","problem":"Untagged"})",
                                R"({"id":"d","question":"Q","tamis":{"translate_to":"it"}})"});
  const OpRun run = run_op("translate.export", "{path: '" + batch.string() + "'}", in, 2);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"a", "c"}));
  EXPECT_EQ(run.reasons(), (Strings{"missing_field", "duplicate_id", "missing_field"}));
  const auto reqs = parse_batch(batch);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].user, "One");
  // The target read from an earlier run's annotations (tamis.translate_to), another text field.
  const OpRun other = run_op("translate.export", "{path: '" + batch.string() + "', field: question}", in, 2);
  ASSERT_EQ(other.exit_code, 0) << other.describe();
  const auto r2 = parse_batch(batch);
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(r2[0].custom_id, "d");
  EXPECT_NE(r2[0].system.find("into Italian"), std::string::npos);
  // Nothing tagged: an empty file and a warning.
  const OpRun none = run_op("translate.export", "{path: '" + batch.string() + "'}", jsonl({R"({"id":"x","problem":"p"})"}), 2);
  ASSERT_EQ(none.exit_code, 0);
  EXPECT_EQ(read_file(batch), "");
  EXPECT_NE(none.err.find("run translate.tag before translate.export"), std::string::npos) << none.err;
}

TEST(plugins_translate_export, RequestLargerThanMaxBytesIsRejected) {
  // A request that fits no part would sit alone in a file the API refuses: it is rejected, the
  // others are exported.
  TempDir dir;
  const fs::path batch = dir / "b.jsonl";
  const std::string big(3000, 'x');
  const std::string in = jsonl({R"({"id":"a","problem":"Short one","translate_to":"fr"})",
                                R"({"id":"b","problem":")" + big + R"(","translate_to":"fr"})",
                                R"({"id":"c","problem":"Short two","translate_to":"de"})"});
  const OpRun run = run_op("translate.export", "{path: '" + batch.string() + "', max_bytes: 2048}", in, 2);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"a", "c"}));
  EXPECT_EQ(run.reasons(), (Strings{"request_too_large"}));
  EXPECT_NE(run.rejected.front().find("raise max_bytes"), std::string::npos) << run.rejected.front();
  const auto reqs = parse_batch(batch);
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].custom_id, "a");
  EXPECT_EQ(reqs[1].custom_id, "c");
  for (const auto& line : read_lines(batch)) EXPECT_LE(line.size() + 1, 2048u);
}

// ============================================================================================
// translate.import (op options; the full round trip is in roundtrip_test.cpp)
// ============================================================================================

const std::string kEnglish = "A baker makes 48 croissants in the morning and sells 35 of them before noon. How many are left?";
const std::string kFrench = "Un boulanger fait 48 croissants le matin et en vend 35 avant midi. Combien en reste-t-il ?";

TEST(plugins_translate_import, CopiesKeepOnFailureAndFields) {
  TempDir dir;
  write_file(dir / "a.jsonl", jsonl({R"({"id":"p1#fr","text":)" + tamis::json::quote(kFrench) + "}"}));
  write_file(dir / "b.jsonl", jsonl({R"({"id":"p2","text":"Un boulanger."})"}));
  const std::string files = "[" + (dir / "a.jsonl").string() + ", " + (dir / "b.jsonl").string() + "]";
  const std::string in = jsonl({rec("p1", "en", kEnglish), R"({"id":"p1#fr","problem":)" + tamis::json::quote(kEnglish) + R"(,"translate_to":"fr"})",
                                R"({"id":"p2","problem":)" + tamis::json::quote(kEnglish) + R"(,"tamis":{"translate_to":"fr"}})"});
  // A copy (`<id>#<lang>`) is translated from `<id>`; translations come from two files.
  const OpRun run = run_op("translate.import", "{translations: " + files + "}", in, 2);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"p1", "p1#fr"}));
  EXPECT_EQ(run.kept[0], jsonl({rec("p1", "en", kEnglish)}).substr(0, run.kept[0].size()));  // untagged: untouched
  EXPECT_EQ(json_string(run.kept[1], "problem"), kFrench);
  EXPECT_EQ(json_string(run.kept[1], "translated_from"), "p1");
  EXPECT_EQ(json_string(run.kept[1], "lang"), "fr");
  EXPECT_EQ(run.reasons(), Strings{"length_ratio"});
  EXPECT_EQ(run.annotation(run.rejected[0], "translation"), "\"Un boulanger.\"");
  // on_failure: keep passes the record on untranslated, saying why; write_fields: false leaves the text alone.
  const OpRun keep = run_op("translate.import", "{translations: " + files + ", on_failure: keep, write_fields: false}", in, 2);
  ASSERT_EQ(keep.exit_code, 0) << keep.describe();
  EXPECT_EQ(keep.kept_ids(), (Strings{"p1", "p1#fr", "p2"}));
  EXPECT_FALSE(json_string(keep.kept[1], "lang"));
  EXPECT_EQ(keep.annotation(keep.kept[1], "lang"), "\"fr\"");
  EXPECT_EQ(json_string(keep.kept[2], "problem"), kEnglish);
  EXPECT_EQ(json_string(keep.kept[2], "/tamis/translation_failed/reason"), "length_ratio");
  // Checks can be switched off; bounds are per language.
  const OpRun loose = run_op("translate.import", "{translations: " + files + ", length_ratio: {default: [0.1, 3]}}", in, 2);
  ASSERT_EQ(loose.exit_code, 0) << loose.describe();
  EXPECT_EQ(loose.reasons(), Strings{"numbers_changed"});  // the next check: 48 and 35 are gone
  EXPECT_EQ(loose.annotation(loose.rejected[0], "translation_lang"), "\"und\"");  // too few letters to tell
  const OpRun looser = run_op("translate.import", "{translations: " + files + ", length_ratio: {default: [0.1, 3]}, check_numbers: false}", in, 2);
  EXPECT_EQ(looser.kept.size(), 3u);
}

TEST(plugins_translate_import, LangConfidenceRoundedAsLangidDoes) {
  // The translation's lang_confidence replaces lang.identify's, rounded the same way (0.01). Decided by the
  // function words, this one is 36/37 of the Latin words.
  TempDir dir;
  const std::string fr = "Soit α un angle et β un autre angle du triangle. Combien vaut la somme des angles du triangle ?";
  write_file(dir / "t.jsonl", jsonl({R"({"id":"g1","text":)" + tamis::json::quote(fr) + "}"}));
  const std::string en = "Let α be an angle and β another angle of the triangle. What is the sum of the angles of the triangle?";
  const OpRun run = run_op("translate.import", "{translations: ['" + (dir / "t.jsonl").string() + "']}",
                           jsonl({R"({"id":"g1","problem":)" + tamis::json::quote(en) + R"(,"translate_to":"fr"})"}), 2);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 1u) << run.describe();
  EXPECT_EQ(run.annotation(run.kept[0], "lang_confidence"), "0.97");
}

TEST(plugins_translate_import, LanguageNumbersAndLatexChecks) {
  TempDir dir;
  const std::string en = R"(If $a = 3$ and $b = 4.5$, compute $a \cdot b$ and round the result to 2 decimal places.)";
  const std::map<std::string, std::string> tr = {
      {"ok", R"(Si $a = 3$ et $b = 4.5$, calculez $a \cdot b$ et arrondissez le résultat à 2 décimales.)"},
      {"lang", R"(Wenn $a = 3$ und $b = 4.5$, berechne $a \cdot b$ und runde das Ergebnis auf 2 Dezimalstellen.)"},
      {"num", R"(Si $a = 3$ et $b = 4.5$, calculez $a \cdot b$ et arrondissez le résultat à 3 décimales.)"},
      {"tex", R"(Si a vaut 3 et $b = 4.5$, calculez $a \cdot b$ et arrondissez le résultat à 2 décimales.)"},
      {"dec", R"(Si $a = 3$ et $b = 4,5$, calculez $a \cdot b$ et arrondissez le résultat à 2 décimales.)"},
  };
  std::string lines, in;
  for (const auto& [id, text] : tr) {
    lines += R"({"id":")" + id + R"(","text":)" + tamis::json::quote(text) + "}\n";
    in += R"({"id":")" + id + R"(","problem":)" + tamis::json::quote(en) + R"(,"translate_to":"fr"})" + "\n";
  }
  write_file(dir / "t.jsonl", lines);
  const std::string t = "{translations: '" + (dir / "t.jsonl").string() + "'";
  const OpRun run = run_op("translate.import", t + "}", in, 2);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"ok"});
  std::map<std::string, std::string> reason;
  for (const auto& v : run.rejections()) reason[v.id] = v.reason;
  EXPECT_EQ(reason, (std::map<std::string, std::string>{
                        {"dec", "latex_changed"}, {"lang", "wrong_language"}, {"num", "numbers_changed"}, {"tex", "latex_changed"}}));
  // Each check can be switched off.
  const OpRun off = run_op("translate.import", t + ", check_language: false, check_numbers: false, check_latex: false}", in, 2);
  ASSERT_EQ(off.exit_code, 0) << off.describe();
  EXPECT_EQ(off.kept.size(), 5u);
  // Outside math, a decimal comma is the same number: without the LaTeX check, "dec" passes.
  const OpRun nolatex = run_op("translate.import", t + ", check_latex: false}", in, 2);
  ASSERT_EQ(nolatex.exit_code, 0) << nolatex.describe();
  EXPECT_EQ(nolatex.kept_ids(), (Strings{"dec", "ok", "tex"}));  // "tex": a vaut 3, the numbers are all there
}

TEST(plugins_translate_import, AddedContentIsACountedCheckThatCanBeSwitchedOff) {
  TempDir dir;
  const std::string preamble = "Voici la traduction :\n" + kFrench;
  const std::map<std::string, std::string> tr = {
      {"ok", kFrench},
      {"pre", preamble},                                               // added_content alone
      {"pre_num", "Voici la traduction :\n" + std::string("Un boulanger fait 48 croissants le matin et en vend 36 avant midi. Combien en reste-t-il ?")},
      {"pre_de", "Hier ist die Übersetzung:\nEin Bäcker backt am Morgen 48 Croissants und verkauft 35 davon vor Mittag. Wie viele bleiben übrig?"},
  };
  std::string lines, in;
  for (const auto& [id, text] : tr) {
    lines += R"({"id":")" + id + R"(","text":)" + tamis::json::quote(text) + "}\n";
    in += R"({"id":")" + id + R"(","problem":)" + tamis::json::quote(kEnglish) + R"(,"translate_to":"fr"})" + "\n";
  }
  write_file(dir / "t.jsonl", lines);
  const std::string t = "{translations: '" + (dir / "t.jsonl").string() + "'";
  auto failed = [](const OpRun& run, const std::string& reason) {
    return json_int(run.report, "/stages/0/report/failed/" + reason);
  };
  // On by default: the verdict ranks after wrong_language and before numbers_changed, every failure listed.
  const OpRun run = run_op("translate.import", t + "}", in, 2);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"ok"});
  std::map<std::string, std::string> reason;
  for (const auto& v : run.rejections()) reason[v.id] = v.reason;
  EXPECT_EQ(reason, (std::map<std::string, std::string>{
                        {"pre", "added_content"}, {"pre_de", "wrong_language"}, {"pre_num", "added_content"}}));
  std::map<std::string, std::string> rejected;  // id -> line
  for (const auto& line : run.rejected) rejected[json_string(line, "id").value_or("")] = line;
  ASSERT_EQ(rejected.size(), 3u);
  EXPECT_EQ(json_string(rejected["pre"], "/tamis/detail"), "the translation adds preamble \"Voici la traduction :\"");
  EXPECT_FALSE(run.annotation(rejected["pre"], "fidelity_failures"));
  EXPECT_EQ(run.annotation(rejected["pre_num"], "fidelity_failures"), R"(["added_content","numbers_changed"])");
  EXPECT_EQ(run.annotation(rejected["pre_de"], "fidelity_failures"), R"(["wrong_language","added_content"])");
  // The report's `failed` counts it, in the order of the checks, like the other reasons.
  EXPECT_EQ(failed(run, "added_content"), 2);
  EXPECT_EQ(failed(run, "wrong_language"), 1);
  EXPECT_EQ(failed(run, "numbers_changed"), 0);  // counted by verdict: pre_num's is added_content
  EXPECT_NE(run.report.find(R"("wrong_language":1,"added_content":2,"latex_changed":0,"numbers_changed":0)"), std::string::npos)
      << run.report;
  // on_failure: keep says so too, and counts it.
  const OpRun keep = run_op("translate.import", t + ", on_failure: keep}", in, 2);
  ASSERT_EQ(keep.exit_code, 0) << keep.describe();
  ASSERT_EQ(keep.kept.size(), 4u) << keep.describe();
  EXPECT_EQ(json_string(keep.kept[1], "/tamis/translation_failed/reason"), "added_content");  // "pre" (input order)
  EXPECT_EQ(failed(keep, "added_content"), 2);
  // check_added: false keeps the planted preamble as the translation; the next check decides the others.
  const OpRun off = run_op("translate.import", t + ", check_added: false}", in, 2);
  ASSERT_EQ(off.exit_code, 0) << off.describe();
  ASSERT_EQ(off.kept_ids(), (Strings{"ok", "pre"}));
  EXPECT_EQ(json_string(off.kept[1], "problem"), preamble);  // "pre"
  reason.clear();
  for (const auto& v : off.rejections()) reason[v.id] = v.reason;
  EXPECT_EQ(reason, (std::map<std::string, std::string>{{"pre_de", "wrong_language"}, {"pre_num", "numbers_changed"}}));
  for (const auto& line : off.rejected) EXPECT_FALSE(off.annotation(line, "fidelity_failures")) << line;
  EXPECT_EQ(failed(off, "added_content"), 0);
  EXPECT_EQ(failed(off, "numbers_changed"), 1);
}

TEST(plugins_translate_import, InvalidParametersAndFiles) {
  TempDir dir;
  write_file(dir / "t.jsonl", "");
  const std::string t = "{translations: '" + (dir / "t.jsonl").string() + "'";
  auto invalid = [](const std::string& with, const std::string& message) {
    const CommandResult r = validate_op("translate.import", with);
    EXPECT_EQ(r.exit_code, 2) << with << "\n" << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << with << "\n" << r.err;
  };
  invalid(t + ", field: meta.problem}", "top-level field");
  invalid(t + ", length_ratio: {zh: [0.1, 1]}}", "'default' entry");
  invalid(t + ", length_ratio: {default: [2, 1]}}", "0 <= min <= max");
  invalid("{}", "translations");
  // A translations file that does not exist stops the run before any record is read, naming it (at
  // validation, exit 2, where the host checks input files; else when the stage starts, exit 1).
  const OpRun run = run_op("translate.import", "{translations: /nonexistent/t.jsonl}", jsonl({rec("a", "en", "x")}), 2);
  EXPECT_TRUE(run.exit_code == 1 || run.exit_code == 2) << run.describe();
  EXPECT_NE(run.err.find("'/nonexistent/t.jsonl'"), std::string::npos) << run.err;
  EXPECT_TRUE(run.kept.empty() && run.rejected.empty());
  // A compressed one is refused by name rather than read as lines of garbage.
  write_file(dir / "t.jsonl.gz", std::string("\x1f\x8b\x08\x00garbage", 12));
  const OpRun gz = run_op("translate.import", "{translations: ['" + (dir / "t.jsonl.gz").string() + "']}", jsonl({rec("a", "en", "x")}), 2);
  EXPECT_EQ(gz.exit_code, 1);
  EXPECT_NE(gz.err.find("t.jsonl.gz' is compressed; decompress it first"), std::string::npos) << gz.err;
}

// ============================================================================================
// Fidelity checks and translation lines (library)
// ============================================================================================

Strings values(std::string_view s) {
  Strings out;
  for (const auto& n : tr::numbers(s)) out.push_back(n.value);
  return out;
}

TEST(plugins_translate_fidelity, Numbers) {
  EXPECT_EQ(values("Tom has 12 apples, 3.5 kg and 1,000 coins; x^2 - 7 = 0."), (Strings{"12", "3.5", "1000", "2", "7", "0"}));
  EXPECT_EQ(values("１２ apples, x² and 3.5."), (Strings{"12", "2", "3.5"}));  // fullwidth, superscript
  // One value for each locale's form of a number.
  for (const char* s : {"80,000", "80.000", "80 000", "80\u00A0000", "80\u202F000", "80{,}000", "80\\,000", "８００００"})
    EXPECT_EQ(values(s), Strings{"80000"}) << s;
  for (const char* s : {"1,234,567.25", "1.234.567,25", "1 234 567,25", "1\u202F234\u202F567,25"})
    EXPECT_EQ(values(s), Strings{"1234567.25"}) << s;
  EXPECT_EQ(values("3.5 3,5 3.50 0.125 0,125 05"), (Strings{"3.5", "3.5", "3.5", "0.125", "0.125", "5"}));
  // Lists and numbers side by side stay apart.
  EXPECT_EQ(values("1,2,3 and 1, 2 and 2020 100 and 2.5.2023 and 12 345 678"), (Strings{"1", "2", "3", "1", "2", "2020", "100", "2", "5", "2023", "12345678"}));
  EXPECT_EQ(values("数字1，2和3、4"), (Strings{"1", "2", "3", "4"}));  // Chinese commas separate
  EXPECT_EQ(values("8万元和1.5万和3亿"), (Strings{"80000", "15000", "300000000"}));
  EXPECT_EQ(tr::numbers("80 000 $")[0].written, "80 000");
}

TEST(plugins_translate_fidelity, NumbersAsMultisets) {
  // The issue's case: a number changed into one that occurs elsewhere, or a repeated number changed.
  const auto c = tr::compare_numbers("James runs 3 sprints 3 times a week, 60 meters each.", "James court 3 sprints 4 fois par semaine, 60 mètres chacun.");
  EXPECT_EQ(c.missing, Strings{"3 (2 in the original, 1 in the translation)"});
  EXPECT_EQ(c.added, Strings{"4"});
  const auto d = tr::compare_numbers("12 and 12 and 7", "12 und 8 und 12");
  EXPECT_EQ(d.missing, Strings{"7"});
  EXPECT_EQ(d.added, Strings{"8"});
  EXPECT_EQ(tr::compare_numbers("Tom has 5 apples", "Tom a 5 pommes. Réponse : 5").added, Strings{"5 (2 in the translation, 1 in the original)"});
  EXPECT_EQ(tr::compare_numbers("no numbers", "keine Zahlen 5").added, Strings{"5"});
  // Faithful forms: locale separators, decimal commas, Chinese 万.
  EXPECT_TRUE(tr::compare_numbers("He buys a house for $80,000 and 1.5 kg", "Il achète une maison 80 000 $ et 1,5 kg").empty());
  EXPECT_TRUE(tr::compare_numbers("He buys a house for $80,000", "Er kauft ein Haus für 80.000 $").empty());
  EXPECT_TRUE(tr::compare_numbers("He buys a house for $80,000", "他花8万美元买了一套房子").empty());
  EXPECT_TRUE(tr::compare_numbers("１２ apples", "12 pommes").empty());
}

TEST(plugins_translate_fidelity, NumberWords) {
  EXPECT_EQ(tr::number_words("She eats three for breakfast and twenty-five more, twice.", "en", true), (Strings{"3", "25", "2"}));
  EXPECT_EQ(tr::number_words("Elle en mange trois et vingt-cinq, une fois.", "fr", false), (Strings{"3", "25"}));
  EXPECT_EQ(tr::number_words("Er isst drei und ein Dutzend.", "de", true), (Strings{"3", "1", "12"}));
  EXPECT_EQ(tr::number_words("Она съедает три и двух", "ru", true), (Strings{"3", "2"}));
  EXPECT_EQ(tr::number_words("她吃三十五个，一万二千", "zh", true), (Strings{"35", "12000"}));
  EXPECT_EQ(tr::number_words("一个苹果和两个梨", "zh", false), Strings{"2"});
  EXPECT_EQ(tr::number_words("x", "xx", true), Strings{});
  // Words excuse digits in either direction; a word for 1 in the translation is also an article.
  EXPECT_TRUE(tr::compare_numbers("She eats three eggs.", "她每天吃3个鸡蛋。", "en", "zh").empty());
  EXPECT_TRUE(tr::compare_numbers("She eats 3 eggs.", "Elle mange trois œufs.", "en", "fr").empty());
  EXPECT_EQ(tr::compare_numbers("She eats 1 egg.", "Elle mange un œuf.", "en", "fr").missing, Strings{"1"});
  EXPECT_EQ(tr::compare_numbers("She eats three eggs.", "Elle mange 4 œufs.", "en", "fr").added, Strings{"4"});
  EXPECT_TRUE(tr::compare_numbers("a drink that is three-fifths water", "一种含水3/5的饮料", "en", "zh").empty());
}

TEST(plugins_translate_fidelity, MathSpans) {
  auto keys = [](std::string_view s) {
    Strings out;
    for (const auto& m : tr::math_spans(s)) out.push_back(m.key);
    return out;
  };
  EXPECT_EQ(keys(R"(Solve $x^2 + 1 = 0$ and $$\frac{a}{b}$$, \(y\), \[z = 1\].)"),
            (Strings{"x^2+1=0", "\\frac{a}{b}", "y", "z=1"}));
  EXPECT_EQ(keys(R"(It costs $5 and $6 more, or \$7.)"), Strings{});        // currency, escaped dollar
  EXPECT_EQ(keys(R"($\text{apples} + 2$ and $\mathrm{km}$)"), (Strings{"\\text{}+2", "\\mathrm{km}"}));
  EXPECT_EQ(keys("\\begin{align*} a &= b \\\\ c &= d \\end{align*} \\begin{itemize}x\\end{itemize}"),
            (Strings{"align*:a&=b\\\\c&=d"}));
  auto missing = [](std::string_view o, std::string_view t) { return tr::compare_math(o, t).missing; };
  EXPECT_EQ(missing(R"(Solve $x^2 + 1 = 0$ with \text{ok}.)", R"(Résoudre \(x^2+1=0\).)"), Strings{});
  EXPECT_EQ(missing(R"(If $a=1$ and $b=2$, find $a+b$.)", R"(Si $a=1$ y $b=3$, halla $a+b$.)"), (Strings{"$b=2$"}));
  EXPECT_EQ(tr::compare_math(R"(If $a=1$ and $b=2$, find $a+b$.)", R"(Si $a=1$ y $b=3$, halla $a+b$.)").added, (Strings{"$b=3$"}));
  EXPECT_EQ(missing(R"(Compute $\text{the sum} 1+2$.)", R"(Calculez $\text{la somme} 1+2$.)"), Strings{});
  // A repeated span changed in one place: the changed one is new.
  const auto rep = tr::compare_math("Let $x=3$. Show that $x=3$ is a root.", "Soit $x=3$. Montrer que $x=5$ est une racine.");
  EXPECT_EQ(rep.missing, Strings{});
  EXPECT_EQ(rep.added, Strings{"$x=5$"});
  EXPECT_TRUE(tr::compare_math("Find $x$.", "Trouver $x$.").empty());
  EXPECT_EQ(tr::code_points("aé中"), 3u);
}

TEST(plugins_translate_fidelity, AddedContent) {
  using Adds = std::vector<std::pair<std::string, std::string>>;
  auto added = [](std::string_view o, std::string_view t) {
    Adds out;
    for (const auto& a : tr::added_content(o, t)) out.emplace_back(a.kind, a.text);
    return out;
  };
  const std::string en = "Tom has 5 apples and eats 2. How many are left?";
  const std::string fr = "Tom a 5 pommes et en mange 2. Combien en reste-t-il ?";
  EXPECT_EQ(added(en, fr), Adds{});
  EXPECT_EQ(added(en, "Here is the translation:\n\n" + fr), (Adds{{"preamble", "Here is the translation:"}}));
  EXPECT_EQ(added(en, "**Voici la traduction en français :**\n" + fr), (Adds{{"preamble", "Voici la traduction en français :**"}}));
  EXPECT_EQ(added(en, fr + " Réponse : il en reste 3."), (Adds{{"answer", "Réponse : il en reste 3."}}));
  EXPECT_EQ(added(en, fr + "\n\n答案：3"), (Adds{{"answer", "答案：3"}}));
  EXPECT_EQ(added(en, "Sure! " + fr + "\n\n(Note : « pommes » = apples.)"), (Adds{{"preamble", "Sure! Tom a 5 pommes et en mange 2. Combien en reste-t-il ?"}, {"note", "Note : « pommes » = apples.)"}}));
  EXPECT_EQ(added(en, fr + "\n\nОтвет: 3"), (Adds{{"answer", "Ответ: 3"}}));
  EXPECT_EQ(added(en, "```\n" + fr + "\n```"), (Adds{{"code fence", "```"}}));
  EXPECT_EQ(added(en, fr + " $\\boxed{3}$"), (Adds{{"answer", "\\boxed{3}$"}}));
  // Faithful: the words start no label, the original had the same kind, a colon too far away.
  EXPECT_EQ(added("The solution to $-4 < 2(x - 1) < 8$ is $a < x < b$.", "Решение неравенства $-4 < 2(x - 1) < 8$ имеет вид $a < x < b$."), Adds{});
  EXPECT_EQ(added("Note: all numbers are positive. Find $x$.", "Remarque : tous les nombres sont positifs. Trouver $x$."), Adds{});
  EXPECT_EQ(added("Answer the questions below. Find $x$.", "Réponds aux questions ci-dessous. Trouve $x$."), Adds{});
  EXPECT_EQ(added("Solve $x^2 = 4$.", "解方程：$x^2 = 4$。"), Adds{});
  EXPECT_EQ(added("Explain your answer.", "Erkläre deine Antwort."), Adds{});
  EXPECT_EQ(added("Surely 5 > 3.", "Sicherlich ist 5 > 3."), Adds{});
  EXPECT_EQ(added("Two dice are rolled. If you get a 6, you win.", "掷两颗骰子。如果您掷出6，您就赢了。"), Adds{});
}

TEST(plugins_translate_fidelity, ManyUnclosedDollarsThenOtherSpans) {
  // A price list: every $ opens a search that finds no closing $. The spans after it are still found,
  // and an inline span before the prices still closes.
  std::string prices;
  for (int i = 0; i < 60000; ++i) prices += "$" + std::to_string(i % 10) + " ";
  auto keys = [](std::string_view s) {
    Strings out;
    for (const auto& m : tr::math_spans(s)) out.push_back(m.key);
    return out;
  };
  EXPECT_EQ(keys("Take $a+b$; " + prices + "\\$ then \\(y\\), \\[z\\] and \\begin{equation}w\\end{equation}."),
            (Strings{"a+b", "y", "z", "equation:w"}));
  EXPECT_EQ(keys(prices), Strings{});
  std::string parens;  // the same for \( never closed
  for (int i = 0; i < 60000; ++i) parens += "\\(a ";
  EXPECT_EQ(keys("\\(x\\) " + parens + "\\[z\\]"), (Strings{"x", "z"}));
  EXPECT_EQ(tr::compare_math("Costs: " + prices + "so \\(x\\)", "Prix : " + prices + "donc \\(y\\)").missing, (Strings{"\\(x\\)"}));
}

TEST(plugins_translate_fidelity, TranslationLines) {
  simdjson::dom::parser p;
  using S = tr::Translation::Status;
  auto ok = tr::parse_translation_line(
      p, R"({"id":"batch_req_1","custom_id":"a#fr","response":{"status_code":200,"request_id":"r","body":{"choices":[{"index":0,"message":{"role":"assistant","content":"Bonjour $x$"},"finish_reason":"stop"}]}},"error":null})");
  EXPECT_EQ(ok.status, S::ok);
  EXPECT_EQ(ok.id, "a#fr");
  EXPECT_EQ(ok.text, "Bonjour $x$");
  auto err = tr::parse_translation_line(p, R"({"id":"batch_req_2","custom_id":"b","response":null,"error":{"code":"invalid_prompt","message":"bad"}})");
  EXPECT_EQ(err.status, S::error);
  EXPECT_EQ(err.message, "the API returned an error (invalid_prompt): bad");
  auto http = tr::parse_translation_line(p, R"({"custom_id":"c","response":{"status_code":429,"body":{"error":{"message":"slow down"}}},"error":null})");
  EXPECT_EQ(http.status, S::error);
  EXPECT_EQ(http.message, "HTTP status 429: slow down");
  auto cut = tr::parse_translation_line(p, R"({"custom_id":"d","response":{"status_code":200,"body":{"choices":[{"message":{"content":"Bon"},"finish_reason":"length"}]}}})");
  EXPECT_EQ(cut.status, S::error);
  auto refused = tr::parse_translation_line(p, R"({"custom_id":"e","response":{"status_code":200,"body":{"choices":[{"message":{"content":null,"refusal":"no"},"finish_reason":"stop"}]}}})");
  EXPECT_EQ(refused.status, S::error);
  // A long refusal is shortened at a UTF-8 boundary (67 three-byte characters = 201 bytes).
  std::string long_refusal;
  for (int i = 0; i < 67; ++i) long_refusal += "拒";
  auto refused_zh = tr::parse_translation_line(p, R"({"custom_id":"e2","response":{"status_code":200,"body":{"choices":[{"message":{"content":null,"refusal":")" +
                                                      long_refusal + R"("},"finish_reason":"stop"}]}}})");
  EXPECT_EQ(refused_zh.status, S::error);
  EXPECT_EQ(refused_zh.message, "the model refused: " + long_refusal.substr(0, 198));
  EXPECT_TRUE(simdjson::validate_utf8(refused_zh.message.data(), refused_zh.message.size()));
  auto nochoice = tr::parse_translation_line(p, R"({"custom_id":"f","response":{"status_code":200,"body":{"choices":[]}}})");
  EXPECT_EQ(nochoice.status, S::malformed);
  EXPECT_EQ(nochoice.id, "f");
  auto plain = tr::parse_translation_line(p, R"({"id":7,"text":"Hallo"})");
  EXPECT_EQ(plain.status, S::ok);
  EXPECT_EQ(plain.id, "7");
  auto notext = tr::parse_translation_line(p, R"({"id":"g","text":3})");
  EXPECT_EQ(notext.status, S::malformed);
  EXPECT_EQ(notext.id, "g");
  auto broken = tr::parse_translation_line(p, R"({"custom_id": "h", "response": {"status_code": 200, "body": {"choi)");
  EXPECT_EQ(broken.status, S::malformed);
  EXPECT_EQ(broken.id, "h");
  auto anonymous = tr::parse_translation_line(p, "this is not json");
  EXPECT_EQ(anonymous.status, S::malformed);
  EXPECT_EQ(anonymous.id, "");
}

}  // namespace
