// PhraseMatcher (plugins/grade/phrase_matcher.hpp), grade.verifiable's one-pass phrase search, against a naive
// search (every pattern tried at every offset) on hand-written cases and on random texts and pattern sets:
// overlapping patterns, patterns that are prefixes or suffixes of each other, duplicates, matches at both
// ends of the text, UTF-8 bytes, ASCII case ignored or not.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phrase_matcher.hpp"

namespace {

using tamis::grade::PhraseMatcher;
using Matches = std::vector<std::pair<size_t, size_t>>;  // (pattern index, start), sorted

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

Matches naive(const std::vector<std::string>& patterns, std::string_view text, bool ignore_case) {
  Matches out;
  for (size_t id = 0; id < patterns.size(); ++id) {
    const std::string& p = patterns[id];
    for (size_t at = 0; at + p.size() <= text.size(); ++at) {
      bool same = true;
      for (size_t k = 0; k < p.size() && same; ++k)
        same = ignore_case ? lower(text[at + k]) == lower(p[k]) : text[at + k] == p[k];
      if (same) out.emplace_back(id, at);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Matches scan(const std::vector<std::string>& patterns, std::string_view text, bool ignore_case) {
  const std::vector<std::string_view> views(patterns.begin(), patterns.end());
  const PhraseMatcher m(views, ignore_case);
  Matches out;
  size_t last_end = 0;
  m.scan(text, [&](size_t id, size_t at) {
    const size_t end = at + patterns[id].size();
    EXPECT_GE(end, last_end) << "matches come in order of end offset";
    last_end = end;
    out.emplace_back(id, at);
  });
  std::sort(out.begin(), out.end());
  return out;
}

TEST(PhraseMatcher, OverlappingPrefixAndSuffixPatterns) {
  const std::vector<std::string> patterns = {"he", "she", "his", "hers", "s", "shes", "e"};
  const std::string text = "ushershes";
  const Matches got = scan(patterns, text, false);
  EXPECT_EQ(got, naive(patterns, text, false));
  // Written out: "she" at 1, "he" at 2, "hers" at 2, "shes" at 5 ... (a few checked by hand).
  EXPECT_NE(std::find(got.begin(), got.end(), std::make_pair(size_t{3}, size_t{2})), got.end());  // hers
  EXPECT_NE(std::find(got.begin(), got.end(), std::make_pair(size_t{5}, size_t{5})), got.end());  // shes
  EXPECT_NE(std::find(got.begin(), got.end(), std::make_pair(size_t{4}, size_t{8})), got.end());  // s at the end
  EXPECT_EQ(std::count_if(got.begin(), got.end(), [](auto m) { return m.first == 6; }), 2);      // e twice
}

TEST(PhraseMatcher, BoundariesDuplicatesAndRepeats) {
  const std::vector<std::string> patterns = {"ab", "ab", "aaa", "b", "abab"};
  for (const std::string text : {"", "a", "ab", "abab", "aaaaab", "babababa", "aaa"})
    EXPECT_EQ(scan(patterns, text, false), naive(patterns, text, false)) << text;
  const Matches whole = scan(patterns, "abab", false);
  EXPECT_NE(std::find(whole.begin(), whole.end(), std::make_pair(size_t{4}, size_t{0})), whole.end());  // the whole text
  EXPECT_NE(std::find(whole.begin(), whole.end(), std::make_pair(size_t{1}, size_t{2})), whole.end());  // duplicate index
}

TEST(PhraseMatcher, AsciiCaseAndUtf8) {
  const std::vector<std::string> patterns = {"Prove That", "(A)", "（A）", "证明", "é", "É"};
  const std::string text = "PROVE THAT x; prove that (a) (A) （a） （A） 证明 é É \xC3\x89";
  EXPECT_EQ(scan(patterns, text, true), naive(patterns, text, true));
  EXPECT_EQ(scan(patterns, text, false), naive(patterns, text, false));
  // Only ASCII letters fold: "é" (C3 A9) does not match "É" (C3 89).
  const Matches folded = scan(patterns, text, true);
  EXPECT_EQ(std::count_if(folded.begin(), folded.end(), [](auto m) { return m.first == 0; }), 2);
  EXPECT_EQ(std::count_if(folded.begin(), folded.end(), [](auto m) { return m.first == 4; }), 1);
  EXPECT_EQ(std::count_if(folded.begin(), folded.end(), [](auto m) { return m.first == 2; }), 2);
  const Matches exact = scan(patterns, text, false);
  EXPECT_EQ(std::count_if(exact.begin(), exact.end(), [](auto m) { return m.first == 0; }), 0);
  EXPECT_EQ(std::count_if(exact.begin(), exact.end(), [](auto m) { return m.first == 2; }), 1);
}

TEST(PhraseMatcher, EmptyPatternIsRefused) {
  const std::vector<std::string_view> patterns = {"a", ""};
  EXPECT_THROW(PhraseMatcher(patterns, false), std::invalid_argument);
}

// Random pattern sets over small alphabets (so that patterns overlap, nest and repeat a lot), with UTF-8
// and upper-case bytes, against the naive search.
TEST(PhraseMatcher, RandomAgainstNaive) {
  std::mt19937_64 rng(19);
  const std::vector<std::string> alphabets = {"ab", "abc", "aAbB(", "a\xC3\xA9\xE8\xAF\x81 ", "xyzXYZ.)\n"};
  size_t total = 0;
  for (int round = 0; round < 600; ++round) {
    const std::string& alpha = alphabets[round % alphabets.size()];
    const bool ignore_case = round % 2 == 1;
    auto pick = [&](size_t len) {
      std::string s;
      for (size_t i = 0; i < len; ++i) s += alpha[rng() % alpha.size()];
      return s;
    };
    std::vector<std::string> patterns(1 + rng() % 12);
    for (auto& p : patterns) p = pick(1 + rng() % 5);
    const std::string text = pick(rng() % 80);
    const Matches want = naive(patterns, text, ignore_case);
    ASSERT_EQ(scan(patterns, text, ignore_case), want) << "round " << round << " text '" << text << "'";
    total += want.size();
  }
  EXPECT_GT(total, 10000u);  // the rounds did exercise many matches
}

}  // namespace
