// Tests of the `dedup` plugin family: the normalisation module (directly) and dedup.exact (through the
// real tamis binary, harness.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
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
std::string rec(const std::string& id, const std::string& problem, const std::string& answer) {
  return R"({"id":")" + id + R"(","problem":)" + tamis::json::quote(problem) + R"(,"answer":)" + tamis::json::quote(answer) + "}";
}

NormalizeOptions only(bool ws, bool lc, bool nfkc, bool latex, bool punct, bool digits) {
  NormalizeOptions o;
  o.whitespace = ws; o.lowercase = lc; o.nfkc = nfkc; o.latex = latex; o.punctuation = punct; o.digits = digits;
  return o;
}

// ============================================================================================
// Normalisation
// ============================================================================================

TEST(plugins_dedup_normalize, Whitespace) {
  EXPECT_EQ(collapse_whitespace("  a \t\n b  "), "a b");
  EXPECT_EQ(collapse_whitespace("a\u00A0\u3000\u2003b"), "a b");  // NBSP, ideographic and em space
  EXPECT_EQ(collapse_whitespace(""), "");
  EXPECT_EQ(collapse_whitespace(" \n "), "");
  EXPECT_EQ(collapse_whitespace("é  ü"), "é ü");
}

TEST(plugins_dedup_normalize, Lowercase) {
  EXPECT_EQ(lowercase("ABC xyz"), "abc xyz");
  EXPECT_EQ(lowercase("ÀÉÎÕÜÞ×"), "àéîõüþ×");                  // Latin-1, × untouched
  EXPECT_EQ(lowercase("ĀĂĄĆČĎĘĞĪİŁŃŇŐŒŘŠŤŮŰŸŹŻŽ"), "āăąćčďęğīiłńňőœřšťůűÿźżž");  // Latin Extended-A
  EXPECT_EQ(lowercase("ΑΒΓΔΩ ΆΈΉΊΌΎΏ Ϊ"), "αβγδω άέήίόύώ ϊ");   // Greek
  EXPECT_EQ(lowercase("ПРИВЕТ МИР ЁЖЇЎЂ"), "привет мир ёжїўђ");  // Cyrillic incl. U+0400-040F
  EXPECT_EQ(lowercase("ѢӀӁӐ"), "ѣӏӂӑ");
  EXPECT_EQ(lowercase("ẠẾỆ ẞ"), "ạếệ ß");                          // Latin Extended Additional
  EXPECT_EQ(lowercase("中文 ١٢٣"), "中文 ١٢٣");                      // other scripts untouched
  EXPECT_EQ(lowercase(std::string("a\xff" "B")), std::string("a\xff" "b"));  // invalid byte kept
  // Every covered upper case letter maps into a lowercase letter that maps to itself.
  for (char32_t c = 0; c < 0x2000; ++c) EXPECT_EQ(lower(lower(c)), lower(c)) << std::hex << static_cast<uint32_t>(c);
}

TEST(plugins_dedup_normalize, NfkcSubset) {
  EXPECT_EQ(nfkc_subset("ＡＢＣ１２３！＝"), "ABC123!=");
  EXPECT_EQ(nfkc_subset("ｘ＋ｙ"), "x+y");
  EXPECT_EQ(nfkc_subset("a\u00A0b\u3000c\u2009d"), "a b c d");
  EXPECT_EQ(nfkc_subset("\uFB01nd \uFB02ow \uFB00 \uFB03 \uFB04"), "find flow ff ffi ffl");
  EXPECT_EQ(nfkc_subset("x² + y³ = z¹⁰, a₁ + a₂₃"), "x2 + y3 = z10, a1 + a23");
  EXPECT_EQ(nfkc_subset("10⁻³ … µm"), "10-3 ... μm");
  EXPECT_EQ(nfkc_subset("é ü 中"), "é ü 中");  // no decomposition: a subset, as documented
}

TEST(plugins_dedup_normalize, Latex) {
  EXPECT_EQ(latex_normalize("$x\\,y\\;z\\!w$"), "xyzw");
  EXPECT_EQ(latex_normalize("a\\quad b\\qquad c"), "a b c");
  EXPECT_EQ(latex_normalize("\\left( x \\right)"), "( x )");
  EXPECT_EQ(latex_normalize("\\left. f \\right|"), " f |");
  EXPECT_EQ(latex_normalize("\\leftarrow \\rightarrow"), "\\leftarrow \\rightarrow");  // not \left / \right
  EXPECT_EQ(latex_normalize("\\dfrac{1}{2} + \\tfrac12 = \\frac{1}{1}"), "\\frac{1}{2} + \\frac12 = \\frac{1}{1}");
  EXPECT_EQ(latex_normalize("\\text{if } x \\text{ and {nested} } y"), "if  x  and {nested}  y");
  EXPECT_EQ(latex_normalize("$$a$$ \\(b\\) \\[c\\]"), "a b c");
  EXPECT_EQ(latex_normalize("costs \\$5"), "costs \\$5");  // an escaped dollar stays
  EXPECT_EQ(latex_normalize("\\textbf{x}"), "\\textbf{x}");
  EXPECT_EQ(latex_normalize("\\text{unclosed"), "\\text{unclosed");
  EXPECT_EQ(latex_normalize("\\"), "\\");
}

TEST(plugins_dedup_normalize, PunctuationAndDigits) {
  EXPECT_EQ(strip_punctuation("Hello, world! (x+y)^2 = z."), "Hello world xy2  z");
  EXPECT_EQ(strip_punctuation("¿Qué?"), "¿Qué");  // only ASCII punctuation
  EXPECT_EQ(strip_digits("Tom has 12 apples and 3 pears"), "Tom has  apples and  pears");
}

TEST(plugins_dedup_normalize, AllStepsAndDescribe) {
  const NormalizeOptions def;
  EXPECT_EQ(normalize("  What is $\\dfrac{1}{2}$ \\quad of ＴＥＮ?  ", def), "what is \\frac{1}{2} of ten?");
  EXPECT_EQ(normalize("Wie viel ist \\text{ÄRGER}?", def), "wie viel ist ärger?");
  EXPECT_EQ(normalize("A, B: 12!", only(true, true, false, false, true, true)), "a b");
  EXPECT_EQ(normalize("A  B", only(false, false, false, false, false, false)), "A  B");
  EXPECT_EQ(def.describe(), "v2;ws=1;case=1;nfkc=1;latex=1;punct=0;digits=0");
}

// normalize() is a fused fast path; normalize_steps() runs each step in turn. On random mixes of
// ASCII, LaTeX, the Unicode the steps touch, other Unicode and invalid bytes, under every combination
// of steps, they must agree byte for byte.
TEST(plugins_dedup_normalize, FastPathEqualsStepByStep) {
  const std::vector<std::string> pieces = {
      "a", "Z", "q", "X", "7", "0", " ", "  ", "\t", "\n", "\r", "\f", "\v", ".", ",", "!", "?", "(", ")", "{", "}",
      "+", "-", "^", "_", "~", "'", "\"", "$", "$$", "\\,", "\\;", "\\!", "\\:", "\\quad ", "\\qquad", "\\left(",
      "\\right)", "\\left.", "\\right.", "\\leftarrow", "\\dfrac{1}{2}", "\\tfrac", "\\frac", "\\text{", "\\text {",
      "\\textrm{Ab}", "\\mbox{x}", "\\$", "\\{", "\\\\", "\\", "\\(", "\\)", "\\[", "\\]", "\\displaystyle",
      "É", "ß", "İ", "ı", "Σ", "ς", "Ά", "Д", "Ё", "Ѣ", "Ӏ", "ẞ", "Ạ", "Ÿ", "×", "ＡＢ", "ｘ＋１", "＄", "＼", "\u00A0",
      "\u3000", "\u2003", "\u0085", "\u2028", "\u1680", "ﬁ", "ﬃ", "²", "₃", "⁺", "…", "µ", "−", "中文", "😀", "e\u0301",
      "\xff", "\xC3", "\x80", "\xE2\x82", "\xF0\x9F",
      // runs of plain ASCII, so that the 16-byte path sees single and double spaces at every position
      "The Quick brown fox ", "jumps over the", " lazy DOG", "abcdefghijklmnopqrstuvwxyz", "x y z w v u t s r q p",
      "Compute 12 + 34 = ?", "ALL CAPS TEXT HERE"};
  std::mt19937_64 rng(11);
  size_t differ = 0, tried = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string s;
    const bool invalid_ok = i % 4 == 0;  // most cases valid UTF-8 (the fast path proper)
    for (int k = 0, n = static_cast<int>(rng() % 40); k < n; ++k) {
      const std::string& p = pieces[rng() % pieces.size()];
      if (!invalid_ok && static_cast<unsigned char>(p[0]) >= 0x80 && (p == "\xff" || p == "\xC3" || p == "\x80" ||
                                                                          p == "\xE2\x82" || p == "\xF0\x9F"))
        continue;
      s += p;
    }
    const int m = static_cast<int>(rng() % 64);
    const NormalizeOptions o = only(m & 1, m & 2, m & 4, m & 8, m & 16, m & 32);
    ++tried;
    const std::string fast = normalize(s, o), slow = normalize_steps(s, o);
    if (fast != slow && ++differ <= 5) ADD_FAILURE() << "options " << o.describe() << "\ninput [" << s << "]\nfast  [" << fast << "]\nsteps [" << slow << "]";
    // Appending after existing text normalises the new text alone.
    std::string appended = "prefix ";
    normalize_append(s, o, appended);
    EXPECT_EQ(appended, "prefix " + slow);
  }
  EXPECT_EQ(differ, 0u) << "of " << tried;
}

// ============================================================================================
// dedup.exact
// ============================================================================================

TEST(plugins_dedup_exact, FirstSurvivesWithDupOf) {
  const OpRun run = run_op("dedup.exact", "{fields: [problem]}",
                           jsonl({rec("a", "What is 1+1?"), rec("b", "what  is 1+1?"), rec("c", "What is 2+2?"),
                                  rec("d", " WHAT IS $1+1$? "), R"({"id":"e"})", rec("f", "What is 2+2?")}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"a", "c"}));
  EXPECT_EQ(run.rejected_ids(), (Strings{"b", "d", "e", "f"}));
  const auto v = run.rejections();
  EXPECT_EQ(v[0].reason, "duplicate");
  EXPECT_EQ(v[0].detail, "duplicate of a");
  EXPECT_EQ(run.annotation(run.rejected[0], "dup_of"), "\"a\"");
  EXPECT_EQ(run.annotation(run.rejected[1], "dup_of"), "\"a\"");
  EXPECT_EQ(v[2].reason, "missing_field");
  EXPECT_EQ(run.annotation(run.rejected[3], "dup_of"), "\"c\"");
  EXPECT_NE(run.report.find("\"distinct\":2"), std::string::npos) << run.report;
  EXPECT_NE(run.report.find("\"duplicates\":3"), std::string::npos) << run.report;
}

TEST(plugins_dedup_exact, EachNormalisationIsSwitchable) {
  struct Case { std::string with; std::string a, b; bool merged; };
  const std::vector<Case> cases = {
      {"{whitespace: true}", "a  b", " a b", true},   {"{whitespace: false}", "a  b", " a b", false},
      {"{lowercase: true}", "ΑΒΓ Дом", "αβγ дом", true}, {"{lowercase: false}", "ΑΒΓ Дом", "αβγ дом", false},
      {"{nfkc: true}", "ｆｉｘ²", "fix2", true},       {"{nfkc: false}", "ｆｉｘ²", "fix2", false},
      {"{latex: true}", "$\\dfrac{1}{2}$", "\\frac{1}{2}", true}, {"{latex: false}", "$\\dfrac{1}{2}$", "\\frac{1}{2}", false},
      {"{punctuation: true}", "x, y!", "x y", true},  {"{punctuation: false}", "x, y!", "x y", false},
      {"{digits: true}", "add 2 and 3", "add 7 and 9", true}, {"{digits: false}", "add 2 and 3", "add 7 and 9", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.with);
    const OpRun run = run_op("dedup.exact", c.with, jsonl({rec("a", c.a), rec("b", c.b)}));
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept_ids(), (c.merged ? Strings{"a"} : Strings{"a", "b"}));
  }
}

TEST(plugins_dedup_exact, SeveralFieldsAndNonStrings) {
  const OpRun run = run_op("dedup.exact", "{fields: [problem, answer]}",
                           jsonl({rec("a", "P", "1"), rec("b", "P", "2"), rec("c", "p", "1"),
                                  // the separator keeps ("ab","c") and ("a","bc") apart
                                  rec("d", "ab", "c"), rec("e", "a", "bc"),
                                  R"({"id":"f","problem":"N","answer":42})", R"({"id":"g","problem":"n","answer":42})"}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"a", "b", "d", "e", "f"}));
  EXPECT_EQ(run.rejected_ids(), (Strings{"c", "g"}));
}

// The key is read from the record text without a DOM parse: escapes, escaped key names, the first of
// duplicate keys (as simdjson), dotted paths and non-strings (which go through the parser) all give the
// key the parsed value would.
TEST(plugins_dedup_exact, KeyFieldReadingMatchesTheParser) {
  const OpRun run = run_op("dedup.exact", "{fields: [problem]}",
                           jsonl({R"({"id":"a","problem":"Caf\u00e9 \"x\"\/y\\z \ud83d\ude00"})",
                                  R"({"id":"b","problem":"Café \"x\"/y\\z 😀"})",  // same text, unescaped
                                  R"({"id":"c","pro\u0062lem":"café \"X\"/y\\z 😀"})",  // escaped key name
                                  R"({"id":"d","meta":{"problem":"other"},"problem":"first","problem":"second"})",
                                  R"({"id":"e","problem":"FIRST"})", R"({"id":"f","problem":"second"})",
                                  R"({"id":"g","problem":12})", R"({"id":"h","problem":12.0})",
                                  R"({"id":"i", "problem" : "spaced"})", R"({"id":"j","problem":"Spaced"})"}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"a", "d", "f", "g", "h", "i"}));
  EXPECT_EQ(run.rejected_ids(), (Strings{"b", "c", "e", "j"}));
  const OpRun nested = run_op("dedup.exact", "{fields: [meta.problem]}",
                              jsonl({R"({"id":"a","meta":{"problem":"X y"}})", R"({"id":"b","meta":{"problem":"x  Y"}})",
                                     R"({"id":"c","meta":{}})"}));
  ASSERT_EQ(nested.exit_code, 0) << nested.describe();
  EXPECT_EQ(nested.kept_ids(), Strings{"a"});
  EXPECT_EQ(nested.reasons(), (Strings{"duplicate", "missing_field"}));
}

TEST(plugins_dedup_exact, Validation) {
  EXPECT_NE(validate_op("dedup.exact", "{fields: []}").exit_code, 0);
  EXPECT_NE(validate_op("dedup.exact", "{on_answer_conflict: reject_later}").exit_code, 0);
  EXPECT_NE(validate_op("dedup.exact", "{answer_field: answer, on_answer_conflict: maybe}").exit_code, 0);
  EXPECT_EQ(validate_op("dedup.exact", "{answer_field: answer, on_answer_conflict: reject_both}").exit_code, 0);
}

// ~50k records, many repeated under normalisation, spread over many batches: identical bytes at 1, 2, 8 threads.
TEST(plugins_dedup_exact, DeterministicAcrossThreads) {
  std::mt19937_64 rng(42);
  Strings lines;
  size_t expect_distinct = 0;
  std::set<uint64_t> seen;
  for (int i = 0; i < 50000; ++i) {
    const uint64_t k = rng() % 20000;
    if (seen.insert(k).second) ++expect_distinct;
    std::string p = "Problem number " + std::to_string(k) + ": compute $\\dfrac{" + std::to_string(k % 97) +
                    "}{7}$ and say why, with some padding text so that batches fill up.";
    if (rng() % 2) p = "  " + p + "\n";
    if (rng() % 3 == 0) p.replace(p.find("Problem number"), 14, "PROBLEM  NUMBER");  // (LaTeX commands stay as written)
    lines.push_back(rec("r" + std::to_string(i), p));
  }
  const std::string input = jsonl(lines);
  OpRun base;
  for (int threads : {1, 2, 8}) {
    SCOPED_TRACE(threads);
    OpRun run = run_op("dedup.exact", "{fields: [problem]}", input, threads);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept.size(), expect_distinct);
    EXPECT_EQ(run.kept.size() + run.rejected.size(), lines.size());
    if (threads == 1) {
      // The memory budget: index structures <= 32 bytes per distinct key (ids apart).
      const auto bytes = json_int(run.report, "/stages/0/report/index_bytes");
      ASSERT_TRUE(bytes.has_value()) << run.report;
      EXPECT_LE(static_cast<double>(*bytes) / static_cast<double>(expect_distinct), 32.0);
      base = std::move(run);
      continue;
    }
    EXPECT_TRUE(run.kept == base.kept);
    EXPECT_TRUE(run.rejected == base.rejected);
    EXPECT_TRUE(run.ledger == base.ledger);
  }
  // The survivor of each key is its first occurrence.
  std::map<uint64_t, std::string> first;
  std::mt19937_64 rng2(42);
  for (int i = 0; i < 50000; ++i) {
    const uint64_t k = rng2() % 20000;
    rng2(); rng2();
    first.try_emplace(k, "r" + std::to_string(i));
  }
  std::set<std::string> firsts;
  for (auto& [k, id] : first) firsts.insert(id);
  const auto kept = base.kept_ids();
  EXPECT_EQ(std::set<std::string>(kept.begin(), kept.end()), firsts);
}

// ============================================================================================
// Answer conflicts
// ============================================================================================

std::string conflict_input() {
  return jsonl({rec("a", "What is 6*7?", "42"), rec("b", "what is 6*7?", " 42 "), rec("c", "What is 6*7?", "41"),
                rec("d", "What is 6*7?", "42"), R"({"id":"e","problem":"What is 6*7?"})", rec("f", "Other", "1")});
}

TEST(plugins_dedup_exact, AnswerConflictTag) {
  const OpRun run = run_op("dedup.exact", "{answer_field: answer}", conflict_input());
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"a", "c", "f"}));
  EXPECT_EQ(run.rejected_ids(), (Strings{"b", "d", "e"}));  // same answer, or no answer: plain duplicates
  EXPECT_EQ(run.annotation(run.kept[1], "answer_conflict"), "\"a\"");
  EXPECT_EQ(run.annotation(run.kept[0], "answer_conflict"), std::nullopt);
  for (const auto& v : run.rejections()) EXPECT_EQ(v.reason, "duplicate");
  EXPECT_NE(run.report.find("\"answer_conflicts\":1"), std::string::npos) << run.report;
}

// The clusters file: one line per key with copies, in first-occurrence order, members in input order,
// answer conflicts marked; with `prefer` named after the kept record.
TEST(plugins_dedup_exact, ClustersFile) {
  TempDir dir;
  const std::string path = (dir / "clusters.jsonl").string();
  const std::string input = conflict_input() + jsonl({rec("g", "OTHER", "1"), rec("h", "Lonely", "")});
  for (int threads : {1, 2}) {
    const OpRun run = run_op("dedup.exact", "{answer_field: answer, clusters: " + path + "}", input, threads);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(read_file(path),
              "{\"cluster\":\"a\",\"survivor\":\"a\",\"members\":[{\"id\":\"b\"},{\"id\":\"c\",\"answer_conflict\":true},"
              "{\"id\":\"d\"},{\"id\":\"e\"}]}\n"
              "{\"cluster\":\"f\",\"survivor\":\"f\",\"members\":[{\"id\":\"g\"}]}\n");
  }
  const OpRun chosen = run_op("dedup.exact", "{prefer: [longer], clusters: " + path + "}",
                              jsonl({rec("x1", "Sum?"), rec("x2", "  sum? "), rec("x3", "SUM?")}));
  ASSERT_EQ(chosen.exit_code, 0) << chosen.describe();
  EXPECT_EQ(read_file(path), "{\"cluster\":\"x2\",\"survivor\":\"x2\",\"members\":[{\"id\":\"x1\"},{\"id\":\"x3\"}]}\n");
}

TEST(plugins_dedup_exact, AnswerConflictRejectLater) {
  const OpRun run = run_op("dedup.exact", "{answer_field: answer, on_answer_conflict: reject_later}", conflict_input());
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"a", "f"}));
  EXPECT_EQ(run.reasons(), (Strings{"duplicate", "answer_conflict", "duplicate", "duplicate"}));
  EXPECT_EQ(run.rejections()[1].detail, "same problem as a with a different answer (41 vs 42)");
  EXPECT_EQ(run.annotation(run.rejected[1], "answer_conflict"), "\"a\"");
}

TEST(plugins_dedup_exact, AnswerConflictRejectBoth) {
  // A first pass finds that a and c disagree: every record of that problem is rejected, a included
  // (a names c, the record it conflicts with; the others name a). Same bytes at 1 and 2 threads.
  OpRun base;
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    OpRun run = run_op("dedup.exact", "{answer_field: answer, on_answer_conflict: reject_both}", conflict_input(), threads);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept_ids(), Strings{"f"});
    EXPECT_EQ(run.rejected_ids(), (Strings{"a", "b", "c", "d", "e"}));
    EXPECT_EQ(run.reasons(), (Strings{"answer_conflict", "answer_conflict", "answer_conflict", "answer_conflict", "answer_conflict"}));
    EXPECT_EQ(run.annotation(run.rejected[0], "answer_conflict"), "\"c\"");
    EXPECT_EQ(run.rejections()[0].detail, "same problem as c with conflicting answers (42 vs 41)");
    EXPECT_EQ(run.annotation(run.rejected[2], "answer_conflict"), "\"a\"");
    // Each shows an answer that conflicts with its own: b agrees with a, so it is shown c's 41; c is
    // shown a's 42; e has no answer of its own, and is shown the one that disagreed with a's.
    EXPECT_EQ(run.annotation(run.rejected[1], "conflicting_answer"), "\"41\"");
    EXPECT_EQ(run.annotation(run.rejected[2], "conflicting_answer"), "\"42\"");
    EXPECT_EQ(run.annotation(run.rejected[4], "answer"), std::nullopt);
    EXPECT_EQ(run.annotation(run.rejected[4], "conflicting_answer"), "\"41\"");
    EXPECT_NE(run.report.find("\"conflicted_survivors\":[]"), std::string::npos) << run.report;
    if (threads == 1) base = std::move(run);
    else EXPECT_TRUE(run.rejected == base.rejected && run.kept == base.kept);
  }
  // Without a conflict, reject_both is plain dedup: the first record survives.
  const OpRun plain = run_op("dedup.exact", "{answer_field: answer, on_answer_conflict: reject_both}",
                             jsonl({rec("a", "Q", "1"), rec("b", "q", "1"), rec("c", "Other", "2")}));
  ASSERT_EQ(plain.exit_code, 0) << plain.describe();
  EXPECT_EQ(plain.kept_ids(), (Strings{"a", "c"}));
  EXPECT_EQ(plain.annotation(plain.rejected[0], "dup_of"), "\"a\"");
}

// ============================================================================================
// Index files
// ============================================================================================

// Survivor policies: with `prefer` a first pass finds each key's best record, which is kept; the
// others are rejected `duplicate` with dup_of naming it. Answer conflicts are then judged against the
// survivor's answer.
TEST(plugins_dedup_exact, PreferChoosesEachKeysSurvivor) {
  const std::string input = jsonl({
      rec("a1", "What is 2+2?", ""), rec("b1", "Compute $x$.", "1"), rec("a2", "what is  2+2?", "4"),
      rec("b2", "Compute x.", "1"), rec("a3", "WHAT IS 2+2?", "4"), rec("c1", "Alone here.", ""),
      rec("d1", "Same D.", ""), rec("d2", "same d.", "5"), rec("d3", "SAME D.", "6")});
  std::string previous;
  for (int threads : {1, 2}) {
    const OpRun run = run_op("dedup.exact", "{answer_field: answer, prefer: [answer]}", input, threads);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    // a2: the first with an answer; b1: a tie, so the first; d2 kept, d3 kept too (tag: another answer).
    EXPECT_EQ(run.kept_ids(), (Strings{"b1", "a2", "c1", "d2", "d3"}));
    EXPECT_EQ(run.rejected_ids(), (Strings{"a1", "b2", "a3", "d1"}));
    for (const auto& line : run.rejected) {
      const std::string id = *json_string(line, "id");
      const std::string want = id[0] == 'a' ? "\"a2\"" : id[0] == 'b' ? "\"b1\"" : "\"d2\"";
      EXPECT_EQ(run.annotation(line, "dup_of"), want) << line;
    }
    EXPECT_EQ(run.annotation(run.kept[4], "answer_conflict"), "\"d2\"");
    EXPECT_EQ(json_int(run.report, "/stages/0/report/chosen_not_first"), 2) << run.report;  // a2, d2
    const std::string all = jsonl(run.kept) + jsonl(run.rejected);
    if (!previous.empty()) {
      EXPECT_EQ(all, previous);
    }
    previous = all;
  }
  // `longer` (bytes of the key fields as written): a2 has a double space.
  const OpRun longer = run_op("dedup.exact", "{prefer: [longer]}", input);
  ASSERT_EQ(longer.exit_code, 0) << longer.describe();
  EXPECT_EQ(longer.kept_ids(), (Strings{"b1", "a2", "c1", "d1"}));
  // reject_later against the chosen survivor's answer.
  const OpRun later = run_op("dedup.exact", "{answer_field: answer, prefer: [answer], on_answer_conflict: reject_later}", input);
  ASSERT_EQ(later.exit_code, 0) << later.describe();
  EXPECT_EQ(later.kept_ids(), (Strings{"b1", "a2", "c1", "d2"}));
  EXPECT_EQ(later.rejections().back().reason, "answer_conflict");
  // Refused: an answer criterion without the field, a source criterion without a ranking, an index.
  EXPECT_NE(validate_op("dedup.exact", "{prefer: [answer]}").exit_code, 0);
  EXPECT_NE(validate_op("dedup.exact", "{prefer: [source]}").exit_code, 0);
  EXPECT_NE(validate_op("dedup.exact", "{prefer: [longer, longer]}").exit_code, 0);
  // A saved index names the kept records, with their answers: later copies point at a2 and d2.
  TempDir dir;
  const std::string idx = (dir / "chosen.idx").string();
  const OpRun saved = run_op("dedup.exact", "{answer_field: answer, prefer: [answer], save_index: " + idx + "}", input);
  ASSERT_EQ(saved.exit_code, 0) << saved.describe();
  const OpRun next = run_op("dedup.exact", "{answer_field: answer, load_index: " + idx + "}",
                            jsonl({rec("n1", "what is 2+2?", "4"), rec("n2", "same d.", "5"), rec("n3", "SAME D.", "7")}));
  ASSERT_EQ(next.exit_code, 0) << next.describe();
  EXPECT_EQ(next.rejected_ids(), (Strings{"n1", "n2"}));
  EXPECT_EQ(next.annotation(next.rejected[0], "dup_of"), "\"a2\"");
  EXPECT_EQ(next.annotation(next.rejected[1], "dup_of"), "\"d2\"");
  EXPECT_EQ(next.annotation(next.kept[0], "answer_conflict"), "\"d2\"");  // 7 against d2's 5
}

TEST(plugins_dedup_exact, SaveLoadRoundTrip) {
  TempDir dir;
  const std::string idx = (dir / "corpus.idx").string();
  const OpRun first = run_op("dedup.exact", "{answer_field: answer, save_index: " + idx + "}",
                             jsonl({rec("c1", "Alpha", "1"), rec("c2", "Beta", "2"), rec("c3", "alpha", "1")}));
  ASSERT_EQ(first.exit_code, 0) << first.describe();
  ASSERT_TRUE(fs::exists(idx));
  for (const auto& e : fs::directory_iterator(dir.path())) EXPECT_EQ(e.path().filename(), "corpus.idx");  // no temp left

  const std::string idx2 = (dir / "grown.idx").string();
  const OpRun second = run_op("dedup.exact", "{answer_field: answer, load_index: " + idx + ", save_index: " + idx2 + "}",
                              jsonl({rec("n1", "ALPHA", "1"), rec("n2", "Gamma", "3"), rec("n3", "beta", "5"), rec("n4", "gamma", "3")}));
  ASSERT_EQ(second.exit_code, 0) << second.describe();
  EXPECT_EQ(second.kept_ids(), (Strings{"n2", "n3"}));
  EXPECT_EQ(second.annotation(second.rejected[0], "dup_of"), "\"c1\"");
  EXPECT_EQ(second.annotation(second.kept[1], "answer_conflict"), "\"c2\"");
  EXPECT_EQ(second.annotation(second.rejected[1], "dup_of"), "\"n2\"");

  const OpRun third = run_op("dedup.exact", "{answer_field: answer, load_index: " + idx2 + "}",
                             jsonl({rec("x", "gamma", "3"), rec("y", "Delta", "4")}));
  ASSERT_EQ(third.exit_code, 0) << third.describe();
  EXPECT_EQ(third.kept_ids(), Strings{"y"});
  EXPECT_EQ(third.annotation(third.rejected[0], "dup_of"), "\"n2\"");
}

// Survivor ids live in 1 MiB chunks (an id never straddles two): long ids across several chunks come
// back intact in dup_of, in a saved index and after loading it.
TEST(plugins_dedup_exact, LongIdsAcrossIdChunks) {
  Strings first, again;
  auto long_id = [](int i) { return "id" + std::to_string(i) + std::string(700 + i % 97, static_cast<char>('a' + i % 26)); };
  for (int i = 0; i < 4000; ++i) first.push_back(rec(long_id(i), "problem number " + std::to_string(i)));
  for (int i = 0; i < 4000; i += 7) again.push_back(rec("copy" + std::to_string(i), "Problem number " + std::to_string(i)));
  TempDir dir;
  const std::string idx = (dir / "long.idx").string();
  Strings both = first;
  both.insert(both.end(), again.begin(), again.end());
  const OpRun run = run_op("dedup.exact", "{save_index: " + idx + "}", jsonl(both));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.rejected.size(), again.size());
  for (size_t k = 0; k < run.rejected.size(); ++k)
    ASSERT_EQ(run.annotation(run.rejected[k], "dup_of"), "\"" + long_id(static_cast<int>(k) * 7) + "\"") << k;
  const OpRun loaded = run_op("dedup.exact", "{load_index: " + idx + "}", jsonl(again));
  ASSERT_EQ(loaded.exit_code, 0) << loaded.describe();
  ASSERT_EQ(loaded.rejected.size(), again.size());
  for (size_t k = 0; k < loaded.rejected.size(); ++k)
    ASSERT_EQ(loaded.annotation(loaded.rejected[k], "dup_of"), "\"" + long_id(static_cast<int>(k) * 7) + "\"") << k;
}

TEST(plugins_dedup_exact, BadIndexFilesAreClearErrors) {
  TempDir dir;
  const std::string idx = (dir / "ok.idx").string();
  ASSERT_EQ(run_op("dedup.exact", "{save_index: " + idx + "}", jsonl({rec("a", "x"), rec("b", "y")})).exit_code, 0);
  const std::string good = read_file(idx);
  auto expect_error = [&](const std::string& name, const std::string& bytes, const std::string& message,
                          const std::string& with_extra = "") {
    SCOPED_TRACE(name);
    const std::string path = (dir / name).string();
    write_file(path, bytes);
    const OpRun run = run_op("dedup.exact", "{load_index: " + path + with_extra + "}", jsonl({rec("a", "x")}));
    EXPECT_EQ(run.exit_code, 1) << run.describe();
    EXPECT_NE(run.err.find(message), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(name), std::string::npos) << run.err;
    EXPECT_TRUE(run.kept.empty());
  };
  std::string bad_magic = good; bad_magic[0] = 'X';
  expect_error("magic.idx", bad_magic, "bad magic");
  expect_error("empty.idx", "", "bad magic");
  std::string bad_version = good; bad_version[8] = 9;
  expect_error("version.idx", bad_version, "format version 9");
  std::string flipped = good; flipped[flipped.size() - 12] ^= 0x40;
  expect_error("flipped.idx", flipped, "checksum mismatch");
  expect_error("truncated.idx", good.substr(0, good.size() - 5), "truncated");
  expect_error("short.idx", good.substr(0, 14), "truncated");
  expect_error("settings.idx", good, "other settings", ", lowercase: false");
  expect_error("answers.idx", good, "other settings", ", answer_field: answer");
  // A missing index file is found before any data is read: a pipeline error (exit 2), naming the file.
  const OpRun missing = run_op("dedup.exact", "{load_index: " + (dir / "none.idx").string() + "}", jsonl({rec("a", "x")}));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("none.idx"), std::string::npos) << missing.err;
}

// ============================================================================================
// Real data: GSM8K test questions that also occur in GSM8K train
// ============================================================================================

TEST(plugins_dedup_exact, Gsm8kTrainVsTest) {
  const fs::path train = shared_data("gsm8k/train.jsonl");
  const fs::path test = shared_data("gsm8k/test.jsonl");
  if (train.empty() || test.empty()) GTEST_SKIP() << "../shared/data/gsm8k is absent";
  TempDir dir;
  const std::string idx = (dir / "train.idx").string();
  OpOptions o;
  o.id_field = "";
  o.input = train;
  const OpRun tr = run_op("dedup.exact", "{fields: [question], save_index: " + idx + "}", "", o);
  ASSERT_EQ(tr.exit_code, 0) << tr.describe();
  o.input = test;
  const OpRun te = run_op("dedup.exact", "{fields: [question], load_index: " + idx + "}", "", o);
  ASSERT_EQ(te.exit_code, 0) << te.describe();

  // Brute force with strings (no hashing) over the same normalisation.
  const NormalizeOptions def;
  std::map<std::string, size_t> train_keys;
  for (const auto& line : read_lines(train)) train_keys.try_emplace(normalize(*json_string(line, "question"), def), 0);
  std::set<std::string> test_seen;
  size_t expect_rejected = 0;
  for (const auto& line : read_lines(test)) {
    const std::string k = normalize(*json_string(line, "question"), def);
    if (train_keys.count(k) || !test_seen.insert(k).second) ++expect_rejected;
  }
  EXPECT_EQ(tr.kept.size(), train_keys.size());
  EXPECT_EQ(te.rejected.size(), expect_rejected);
  std::cout << "GSM8K: train " << read_lines(train).size() << " lines, " << train_keys.size() << " distinct; test lines also in train or repeated: "
            << expect_rejected << "\n";
  for (const auto& line : te.rejected) {
    const auto dup = te.annotation(line, "dup_of");
    ASSERT_TRUE(dup.has_value()) << line;
  }
}

// ============================================================================================
// dedup.minhash
// ============================================================================================

TEST(plugins_dedup_minhash, BandsAndRows) {
  const OpRun run = run_op("dedup.minhash", "", jsonl({rec("a", "x")}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_NE(run.report.find("\"bands\":16,\"rows\":8"), std::string::npos) << run.report;
  const OpRun given = run_op("dedup.minhash", "{bands: 10, rows: 5}", jsonl({rec("a", "x")}));
  EXPECT_NE(given.report.find("\"bands\":10,\"rows\":5"), std::string::npos) << given.report;
  EXPECT_NE(validate_op("dedup.minhash", "{bands: 20, rows: 10}").exit_code, 0);  // 200 > 128
  EXPECT_NE(validate_op("dedup.minhash", "{bands: 20}").exit_code, 0);
  EXPECT_NE(validate_op("dedup.minhash", "{threshold: 0}").exit_code, 0);
  EXPECT_EQ(validate_op("dedup.minhash", "{bands: 16, rows: 8, shingle: chars, ngram: 3}").exit_code, 0);
}

TEST(plugins_dedup_minhash, NearDuplicatesCarryDupOfSimilarityCluster) {
  const std::string base = "the quick brown fox jumps over the lazy dog near the river bank on a sunny day in june";
  const OpRun run = run_op("dedup.minhash", "{threshold: 0.5}",
                           jsonl({rec("a", base), rec("b", "Completely different text about prime numbers and their many curious properties"),
                                  rec("c", base + " again"), rec("d", "THE QUICK  brown fox jumps over the lazy dog near the river bank on a sunny day in june"),
                                  R"({"id":"e"})"}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"a", "b"}));
  EXPECT_EQ(run.rejected_ids(), (Strings{"c", "d", "e"}));
  const auto v = run.rejections();
  EXPECT_EQ(v[0].reason, "near_duplicate");
  EXPECT_EQ(run.annotation(run.rejected[0], "dup_of"), "\"a\"");
  EXPECT_EQ(run.annotation(run.rejected[0], "cluster"), "\"a\"");
  // c adds one word: 15 of its 16 word 5-grams are a's 15.
  EXPECT_EQ(run.annotation(run.rejected[0], "similarity"), "0.9375");
  EXPECT_EQ(v[0].detail, "near duplicate of a (similarity 0.9375)");
  EXPECT_EQ(run.annotation(run.rejected[1], "similarity"), "1");  // identical after normalisation
  EXPECT_EQ(v[2].reason, "missing_field");
}

// Word 5-gram set of a space-separated text, as strings.
std::set<std::string> five_grams(const Strings& w) {
  std::set<std::string> out;
  for (size_t i = 0; i + 5 <= w.size(); ++i) out.insert(w[i] + " " + w[i + 1] + " " + w[i + 2] + " " + w[i + 3] + " " + w[i + 4]);
  return out;
}
double exact_jaccard(const std::set<std::string>& a, const std::set<std::string>& b) {
  size_t both = 0;
  for (const auto& x : a) both += b.count(x);
  return static_cast<double>(both) / static_cast<double>(a.size() + b.size() - both);
}
std::string join(const Strings& w) {
  std::string s;
  for (const auto& x : w) s += (s.empty() ? "" : " ") + x;
  return s;
}

// Planted pairs: a base text and a copy with random word substitutions, so that Jaccard values spread
// over [0.3, 1]; the test computes each pair's exact Jaccard by brute force.
TEST(plugins_dedup_minhash, PlantedDuplicatesRecallAndPrecision) {
  std::mt19937_64 rng(7);
  auto word = [&] {
    std::string w;
    for (int k = 0; k < 7; ++k) w += static_cast<char>('a' + rng() % 26);
    return w;
  };
  Strings lines;
  std::vector<double> sims;
  const int pairs = 2000;
  for (int i = 0; i < pairs; ++i) {
    Strings base;
    for (int k = 0; k < 120; ++k) base.push_back(word());
    Strings copy = base;
    const int edits = static_cast<int>(rng() % 12);
    for (int e = 0; e < edits; ++e) copy[rng() % copy.size()] = word();
    sims.push_back(exact_jaccard(five_grams(base), five_grams(copy)));
    lines.push_back(rec("b" + std::to_string(i), join(base)));
    lines.push_back(rec("c" + std::to_string(i), join(copy)));
  }
  const double t = 0.8;
  const OpRun run = run_op("dedup.minhash", "{threshold: 0.8}", jsonl(lines));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  std::map<std::string, std::string> dup_of;
  for (const auto& l : run.rejected) dup_of[*json_string(l, "id")] = *json_string(l, "tamis.dup_of");
  int high = 0, found = 0, low = 0, wrongly = 0;
  for (int i = 0; i < pairs; ++i) {
    const std::string c = "c" + std::to_string(i);
    EXPECT_EQ(dup_of.count("b" + std::to_string(i)), 0u);  // bases are unrelated to each other
    if (dup_of.count(c)) {
      EXPECT_EQ(dup_of[c], "b" + std::to_string(i));
    }
    if (sims[static_cast<size_t>(i)] >= t + 0.05) {
      ++high;
      found += dup_of.count(c) ? 1 : 0;
    }
    if (sims[static_cast<size_t>(i)] < t - 0.05) {
      ++low;
      wrongly += dup_of.count(c) ? 1 : 0;
    }
    // With exact Jaccard verification nothing below the threshold is ever rejected.
    if (sims[static_cast<size_t>(i)] < t) {
      EXPECT_EQ(dup_of.count(c), 0u) << c << " " << sims[static_cast<size_t>(i)];
    }
  }
  std::cout << "planted: " << high << " pairs >= t+0.05, " << found << " found; " << low << " pairs < t-0.05, " << wrongly
            << " rejected\n";
  ASSERT_GT(high, 100);
  ASSERT_GT(low, 100);
  EXPECT_GE(static_cast<double>(found) / high, 0.99);
  EXPECT_EQ(wrongly, 0);
}

TEST(plugins_dedup_minhash, DeterministicAcrossThreads) {
  std::mt19937_64 rng(3);
  Strings vocab;
  for (int i = 0; i < 3000; ++i) vocab.push_back("w" + std::to_string(rng() % 100000));
  Strings lines;
  for (int i = 0; i < 20000; ++i) {
    Strings w;
    const uint64_t topic = rng() % 4000;
    std::mt19937_64 trng(topic);
    for (int k = 0; k < 30; ++k) w.push_back(vocab[trng() % vocab.size()]);
    for (int e = 0, n = static_cast<int>(rng() % 4); e < n; ++e) w[rng() % w.size()] = vocab[rng() % vocab.size()];
    lines.push_back(rec("r" + std::to_string(i), join(w)));
  }
  const std::string input = jsonl(lines);
  const OpRun one = run_op("dedup.minhash", "{threshold: 0.7}", input, 1);
  ASSERT_EQ(one.exit_code, 0) << one.describe();
  EXPECT_GT(one.rejected.size(), 2000u);
  for (int threads : {2, 8}) {
    const OpRun run = run_op("dedup.minhash", "{threshold: 0.7}", input, threads);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_TRUE(run.kept == one.kept) << threads;
    EXPECT_TRUE(run.rejected == one.rejected) << threads;
  }
}

// prepare() searches the survivors published when it runs, in parallel, and ordered() the ones added
// since (docs/dedup.md#index): the verdicts must not depend on where that split falls. Template families
// (hot LSH buckets; with max_candidates 8 many records go over the cap) cut into ~2 KB batches at 2 and
// 8 threads, against one batch at 1 thread, where the serial part searches everything.
// JSONL of n texts in template families: 12 families of 40 words from a vocabulary of "v<digits>"
// words, each text with up to 10 words replaced at random; each(i, text, rng) makes record i (it may
// draw more from rng).
std::string family_records(uint64_t seed, int n,
                           const std::function<std::string(int, const std::string&, std::mt19937_64&)>& each) {
  std::mt19937_64 rng(seed);
  Strings vocab;
  for (int i = 0; i < 2000; ++i) vocab.push_back("v" + std::to_string(rng() % 1000000));
  Strings lines;
  for (int i = 0; i < n; ++i) {
    std::mt19937_64 family(rng() % 12);
    Strings w;
    for (int k = 0; k < 40; ++k) w.push_back(vocab[family() % vocab.size()]);
    for (int e = 0, edits = static_cast<int>(rng() % 11); e < edits; ++e) w[rng() % w.size()] = vocab[rng() % vocab.size()];
    lines.push_back(each(i, join(w), rng));
  }
  return jsonl(lines);
}

// Runs `with` on `input` cut into ~2 KB batches at 2 and 8 threads, each expected to give `one`'s kept
// and rejected lines byte for byte (`one`: a single batch at 1 thread); returns the runs, for their reports.
std::vector<OpRun> split_runs_agree(const std::string& with, const std::string& input, const OpRun& one, const std::string& what) {
  std::vector<OpRun> runs;
  for (int threads : {2, 8}) {
    OpOptions small;
    small.threads = threads;
    small.args = {"--batch-bytes", "2048"};
    OpRun run = run_op("dedup.minhash", with, input, small);
    EXPECT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_TRUE(run.kept == one.kept) << what << ", threads " << threads;
    EXPECT_TRUE(run.rejected == one.rejected) << what << ", threads " << threads;
    runs.push_back(std::move(run));
  }
  return runs;
}

TEST(plugins_dedup_minhash, VerdictsDoNotDependOnBatchesOrThreads) {
  const std::string input =
      family_records(11, 6000, [](int i, const std::string& text, std::mt19937_64&) { return rec("r" + std::to_string(i), text); });
  for (const char* cap : {"0", "8"}) {
    const std::string with = std::string("{threshold: 0.7, ngram: 3, max_candidates: ") + cap + "}";
    OpOptions whole;
    whole.threads = 1;
    whole.args = {"--batch-bytes", "1073741824"};
    const OpRun one = run_op("dedup.minhash", with, input, whole);
    ASSERT_EQ(one.exit_code, 0) << one.describe();
    EXPECT_GT(one.rejected.size(), 1000u) << cap;
    const auto capped = json_int(one.report, "/stages/0/report/capped");
    const auto candidates = json_int(one.report, "/stages/0/report/candidates");
    ASSERT_TRUE(capped && candidates) << one.report;
    if (std::string(cap) == "8") {
      EXPECT_GT(*capped, 500) << one.report;
    }
    for (const OpRun& run : split_runs_agree(with, input, one, std::string("cap ") + cap)) {
      EXPECT_EQ(json_int(run.report, "/stages/0/report/capped"), capped);
      EXPECT_EQ(json_int(run.report, "/stages/0/report/candidates"), candidates);
    }
  }
}

TEST(plugins_dedup_minhash, ClustersFile) {
  TempDir dir;
  const std::string path = (dir / "clusters.jsonl").string();
  const std::string a = "one two three four five six seven eight nine ten eleven twelve";
  const std::string b = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu";
  const OpRun run = run_op("dedup.minhash", "{threshold: 0.6, clusters: " + path + "}",
                           jsonl({rec("a", a), rec("b", b), rec("a2", a + " thirteen"), rec("c", "unrelated words here"),
                                  rec("b2", b + " nu"), rec("a3", a)}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"a", "b", "c"}));
  const Strings lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], R"({"cluster":"a","survivor":"a","members":[{"id":"a2","similarity":0.8889},{"id":"a3","similarity":1.0000}]})");
  EXPECT_EQ(lines[1], R"({"cluster":"b","survivor":"b","members":[{"id":"b2","similarity":0.8889}]})");
  for (const auto& e : fs::directory_iterator(dir.path())) EXPECT_EQ(e.path().filename(), "clusters.jsonl");
}

TEST(plugins_dedup_minhash, SaveLoadIndex) {
  TempDir dir;
  const std::string idx = (dir / "near.idx").string(), idx2 = (dir / "near2.idx").string();
  const std::string a = "one two three four five six seven eight nine ten eleven twelve";
  const std::string b = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu";
  for (const std::string verify : {"jaccard", "signature"}) {
    SCOPED_TRACE(verify);
    const std::string opts = "{threshold: 0.6, verify: " + verify;
    const OpRun first = run_op("dedup.minhash", opts + ", save_index: " + idx + "}", jsonl({rec("a", a), rec("a2", a + " x")}));
    ASSERT_EQ(first.exit_code, 0) << first.describe();
    const OpRun second = run_op("dedup.minhash", opts + ", load_index: " + idx + ", save_index: " + idx2 + "}",
                                jsonl({rec("n1", a + " thirteen"), rec("n2", b)}));
    ASSERT_EQ(second.exit_code, 0) << second.describe();
    EXPECT_EQ(second.kept_ids(), Strings{"n2"});
    EXPECT_EQ(second.annotation(second.rejected[0], "dup_of"), "\"a\"");
    const OpRun third = run_op("dedup.minhash", opts + ", load_index: " + idx2 + "}", jsonl({rec("m", b + " nu"), rec("k", "fresh text")}));
    ASSERT_EQ(third.exit_code, 0) << third.describe();
    EXPECT_EQ(third.kept_ids(), Strings{"k"});
    EXPECT_EQ(third.annotation(third.rejected[0], "dup_of"), "\"n2\"");
  }
  // Wrong settings, corrupt, truncated, an exact index: clear errors naming the file.
  const std::string good = read_file(idx);  // verify: signature
  auto expect_error = [&](const std::string& name, const std::string& bytes, const std::string& with, const std::string& message) {
    SCOPED_TRACE(name);
    const std::string path = (dir / name).string();
    write_file(path, bytes);
    const OpRun run = run_op("dedup.minhash", "{threshold: 0.6, " + with + "load_index: " + path + "}", jsonl({rec("a", "x")}));
    EXPECT_EQ(run.exit_code, 1) << run.describe();
    EXPECT_NE(run.err.find(message), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(name), std::string::npos) << run.err;
  };
  expect_error("settings.idx", good, "", "other settings");  // built with verify: signature
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 1;
  expect_error("flipped.idx", flipped, "verify: signature, ", "checksum mismatch");
  expect_error("truncated.idx", good.substr(0, good.size() - 3), "verify: signature, ", "checksum mismatch");
  expect_error("magic.idx", "TAMISIDX", "", "bad magic");
  std::string version = good;
  version[8] = 7;
  expect_error("version.idx", version, "verify: signature, ", "format version 7");
}

// max_candidates: one band of one row over character unigrams puts texts sharing most characters in one
// bucket, so each new record has every earlier one as a candidate (pairwise Jaccard 10/12 < 0.9: no
// duplicates among them). Over the limit, a record is capped and counted; an exact copy of the first
// text is still found (all share one band: ties go to the earliest, which is its survivor).
TEST(plugins_dedup_minhash, MaxCandidatesCapsAndCounts) {
  Strings lines;
  const std::string extras = "klmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%&()*+,-./:;<=>?@[]^_{|}~";
  for (size_t i = 0; i < extras.size(); ++i)  // one distinct ASCII character each (shingles are bytes)
    lines.push_back(rec("r" + std::to_string(i), "abcdefghij" + extras.substr(i, 1)));
  lines.push_back(rec("copy", *json_string(lines[0], "problem")));
  const std::string with =
      "{shingle: chars, ngram: 1, bands: 1, rows: 1, threshold: 0.9, whitespace: false, lowercase: false, latex: false";
  const OpRun capped = run_op("dedup.minhash", with + ", max_candidates: 20}", jsonl(lines));
  ASSERT_EQ(capped.exit_code, 0) << capped.describe();
  const OpRun all = run_op("dedup.minhash", with + ", max_candidates: 0}", jsonl(lines));
  ASSERT_EQ(all.exit_code, 0) << all.describe();
  EXPECT_EQ(capped.rejected_ids(), Strings{"copy"});
  EXPECT_EQ(all.rejected_ids(), Strings{"copy"});
  EXPECT_EQ(capped.annotation(capped.rejected[0], "dup_of"), "\"r0\"");
  const auto n = json_int(capped.report, "/stages/0/report/capped");
  ASSERT_TRUE(n.has_value()) << capped.report;
  EXPECT_GT(*n, 40);
  EXPECT_EQ(json_int(all.report, "/stages/0/report/capped"), 0);
  EXPECT_NE(validate_op("dedup.minhash", "{max_candidates: -1}").exit_code, 0);
}

// Survivor policies: a first pass picks each cluster's member to keep; the others are rejected with
// dup_of = that member and their true similarity to it.
TEST(plugins_dedup_minhash, PreferKeepsTheBestMemberOfEachCluster) {
  const std::string base = "the quick brown fox jumps over the lazy dog near the river bank on a sunny day in june";
  const std::string input = jsonl({rec("a", base, ""), rec("b", base + " again", "42"), rec("c", "Completely different text about prime numbers and their many curious properties"),
                                   rec("d", base, "7"), R"({"id":"e","problem":")" + base + R"( and more words here"})"});
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    const OpRun ans = run_op("dedup.minhash", "{threshold: 0.5, prefer: [answer]}", input, threads);
    ASSERT_EQ(ans.exit_code, 0) << ans.describe();
    EXPECT_EQ(ans.kept_ids(), (Strings{"b", "c"}));  // b: the first member with a non-empty answer
    EXPECT_EQ(ans.rejected_ids(), (Strings{"a", "d", "e"}));
    for (const auto& line : ans.rejected) EXPECT_EQ(ans.annotation(line, "dup_of"), "\"b\"") << line;
    EXPECT_EQ(ans.annotation(ans.rejected[0], "similarity"), "0.9375");  // a vs b, not a vs itself
    EXPECT_EQ(ans.rejections()[0].detail, "near duplicate of b (similarity 0.9375)");
    const OpRun longer = run_op("dedup.minhash", "{threshold: 0.5, prefer: [longer]}", input, threads);
    ASSERT_EQ(longer.exit_code, 0) << longer.describe();
    EXPECT_EQ(longer.kept_ids(), (Strings{"c", "e"}));
    const OpRun both = run_op("dedup.minhash", "{threshold: 0.5, prefer: [answer, longer]}", input, threads);
    ASSERT_EQ(both.exit_code, 0) << both.describe();
    EXPECT_EQ(both.kept_ids(), (Strings{"b", "c"}));  // e is longer but has no answer
  }
  const OpRun first = run_op("dedup.minhash", "{threshold: 0.5}", input);
  EXPECT_EQ(first.kept_ids(), (Strings{"a", "c"}));
  EXPECT_NE(validate_op("dedup.minhash", "{prefer: [source]}").exit_code, 0);
  EXPECT_NE(validate_op("dedup.minhash", "{prefer: [answer, answer]}").exit_code, 0);
  EXPECT_EQ(validate_op("dedup.minhash", "{prefer: [source, answer], source_rank: [input]}").exit_code, 0);
  // Incremental: the saved index holds each cluster's kept member (b, not a); with `prefer` again, a
  // loaded survivor stays (it is in the curated corpus) even when a new member ranks higher.
  TempDir dir;
  const std::string idx = (dir / "chosen.idx").string();
  const OpRun saved = run_op("dedup.minhash", "{threshold: 0.5, prefer: [answer], save_index: " + idx + "}", input);
  ASSERT_EQ(saved.exit_code, 0) << saved.describe();
  const std::string more = jsonl({rec("n1", base + " once more", "42"), rec("n2", "A brand new problem about triangles and their angles"),
                                  rec("n3", "a brand new problem about triangles and their angles today", "9")});
  const OpRun next = run_op("dedup.minhash", "{threshold: 0.5, prefer: [answer], load_index: " + idx + "}", more);
  ASSERT_EQ(next.exit_code, 0) << next.describe();
  EXPECT_EQ(next.kept_ids(), Strings{"n3"});  // n2, n3: a new cluster, n3 has the answer
  EXPECT_EQ(next.annotation(next.rejected[0], "dup_of"), "\"b\"");  // n1 joins the loaded b, which stays
  EXPECT_EQ(next.annotation(next.rejected[1], "dup_of"), "\"n3\"");
  const OpRun src = run_op("dedup.minhash", "{threshold: 0.5, prefer: [source], source_rank: [other, input]}", input);
  EXPECT_EQ(src.kept_ids(), (Strings{"a", "c"}));  // one source: ties, input order
}

TEST(plugins_dedup_minhash, CharShinglesAndSignatureVerify) {
  const OpRun run = run_op("dedup.minhash", "{shingle: chars, ngram: 3, threshold: 0.6, verify: signature, num_perm: 256}",
                           jsonl({rec("a", "What is the sum of 17 and 25?"), rec("b", "What is the sum of 17 and 26?"),
                                  rec("c", "Find all primes below one hundred.")}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"a", "c"}));
  EXPECT_EQ(run.annotation(run.rejected[0], "dup_of"), "\"a\"");
}

// Real data: GSM8K train followed by GSM8K test. The op's verdicts equal a brute-force run of the same
// rule (each record against every earlier survivor, exact Jaccard of word 5-grams of the normalised text).
TEST(plugins_dedup_minhash, Gsm8kAgreesWithBruteForce) {
  const fs::path train = shared_data("gsm8k/train.jsonl");
  const fs::path test = shared_data("gsm8k/test.jsonl");
  if (train.empty() || test.empty()) GTEST_SKIP() << "../shared/data/gsm8k is absent";
  Strings lines, texts;
  for (const auto& [file, prefix] : {std::pair{train, "train"}, std::pair{test, "test"}}) {
    int n = 0;
    for (const auto& line : read_lines(file)) {
      texts.push_back(*json_string(line, "question"));
      lines.push_back(rec(std::string(prefix) + std::to_string(n++), texts.back()));
    }
  }
  const double t = 0.5;
  const OpRun run = run_op("dedup.minhash", "{threshold: 0.5}", jsonl(lines));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  std::map<std::string, std::string> got;
  for (const auto& l : run.rejected) got[*json_string(l, "id")] = *json_string(l, "tamis.dup_of");

  const NormalizeOptions def;
  std::vector<std::set<std::string>> sets;
  for (const auto& text : texts) {
    const std::string norm = normalize(text, def);
    Strings w;
    for (size_t i = 0; i < norm.size();) {
      const size_t e = std::min(norm.find(' ', i), norm.size());
      w.push_back(norm.substr(i, e - i));
      i = e + 1;
    }
    if (w.size() < 5) sets.push_back({join(w)});
    else sets.push_back(five_grams(w));
  }
  // Sorted hashes of the n-grams (std::hash: independent of the op's XXH3), for a fast merge.
  std::vector<std::vector<size_t>> hs;
  for (const auto& set : sets) {
    std::vector<size_t> h;
    for (const auto& g : set) h.push_back(std::hash<std::string>{}(g));
    std::sort(h.begin(), h.end());
    h.erase(std::unique(h.begin(), h.end()), h.end());
    hs.push_back(std::move(h));
  }
  auto jac = [&](size_t x, size_t y) {
    const auto& a = hs[x];
    const auto& b = hs[y];
    // Jaccard >= t needs min/max size >= t: skip the merge otherwise.
    if (static_cast<double>(std::min(a.size(), b.size())) < t * static_cast<double>(std::max(a.size(), b.size()))) return 0.0;
    size_t i = 0, j = 0, both = 0;
    while (i < a.size() && j < b.size()) {
      if (a[i] < b[j]) ++i;
      else if (b[j] < a[i]) ++j;
      else { ++both; ++i; ++j; }
    }
    return static_cast<double>(both) / static_cast<double>(a.size() + b.size() - both);
  };
  std::map<std::string, std::string> want;
  std::vector<size_t> survivors;
  for (size_t i = 0; i < sets.size(); ++i) {
    const std::string id = *json_string(lines[i], "id");
    bool dup = false;
    for (size_t s : survivors) {
      if (jac(i, s) >= t) {
        want[id] = *json_string(lines[s], "id");
        dup = true;
        break;
      }
    }
    if (!dup) survivors.push_back(i);
  }
  std::cout << "GSM8K train+test: " << want.size() << " near duplicates by brute force, " << got.size() << " by dedup.minhash\n";
  EXPECT_EQ(got, want);
}

}  // namespace

// ============================================================================================
// Answer-aware dedup: answers compared by the grader (plugins/dedup/answers.hpp)
// ============================================================================================

// Exact copies whose answers are one answer written differently are plain duplicates; a copy whose
// answer the grader finds different is a conflict, which shows both answers. Comparing the answers as
// text would flag b, c, d, e and g.
TEST(plugins_dedup_exact, AnswerConflictsAreJudgedByTheGrader) {
  const std::string input = jsonl({
      rec("a", "What is the sum?", "97"), rec("b", "What is the sum?", "097"), rec("c", "What is the sum?", "$97$"),
      rec("d", "What is the sum?", "Add them up.\nThe total is $\\boxed{97}$."), rec("e", "What is the sum?", "97.0"),
      rec("f", "What is the sum?", "98"), rec("g", "Angle?", "83^\\circ"), rec("h", "angle?", "83"),
      rec("i", "Pair?", "(1, 2)"), rec("j", "pair?", "(1,2)"), rec("k", "Half?", "\\frac{1}{2}"), rec("l", "half?", "0.5"),
      R"({"id":"m","problem":"Half?","answer":["0.5"]})", rec("n", "half?", "1/3")});
  for (int threads : {1, 2}) {
    const OpRun run = run_op("dedup.exact", "{answer_field: answer, on_answer_conflict: reject_later}", input, threads);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept_ids(), (Strings{"a", "g", "i", "k"}));
    EXPECT_EQ(run.reasons(), (Strings{"duplicate", "duplicate", "duplicate", "duplicate", "answer_conflict", "duplicate",
                                      "duplicate", "duplicate", "duplicate", "answer_conflict"}));
    const auto v = run.rejections();
    EXPECT_EQ(v[4].id, "f");
    EXPECT_EQ(v[4].detail, "same problem as a with a different answer (98 vs 97)");
    EXPECT_EQ(run.annotation(run.rejected[4], "answer"), "\"98\"");
    EXPECT_EQ(run.annotation(run.rejected[4], "conflicting_answer"), "\"97\"");
    EXPECT_EQ(v[9].id, "n");
    EXPECT_NE(run.report.find("\"answer_conflicts\":2"), std::string::npos) << run.report;
  }
}

// An index saved by a reject_both run marks a key's conflicting answers; loading it, a record of that
// key is an answer conflict whether or not a survivor policy is in force.
TEST(plugins_dedup_exact, ConflictedLoadedKeyStaysAConflictWithPrefer) {
  TempDir dir;
  const std::string idx = (dir / "conflicted.idx").string();
  const OpRun first = run_op("dedup.exact", "{answer_field: answer, on_answer_conflict: reject_both, save_index: " + idx + "}",
                             jsonl({rec("a", "Q", "1"), rec("b", "q", "2")}));
  ASSERT_EQ(first.exit_code, 0) << first.describe();
  for (const char* prefer : {"[]", "[longer]"}) {
    const OpRun run = run_op("dedup.exact", std::string("{answer_field: answer, on_answer_conflict: reject_later, prefer: ") + prefer +
                                                ", load_index: " + idx + "}",
                             jsonl({rec("x", "Q", "1"), rec("y", "Other", "3")}));
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.reasons(), Strings{"answer_conflict"}) << prefer;
    EXPECT_EQ(run.kept_ids(), Strings{"y"}) << prefer;
  }
}

// Answers too long for the grader to compare (a proof, a worked solution without a final answer) say
// nothing about the problem: such records are plain duplicates, not conflicts nor different problems.
TEST(plugins_dedup_exact, AnswersTooLongToCompareAreNoAnswer) {
  std::string proof = "Suppose not. ", other = "Assume the contrary. ";
  for (int i = 0; i < 120; ++i) proof += "Then step " + std::to_string(i) + " follows from the last one. ";
  other += proof;  // over the grader's 1,000 characters, and different from the first word on
  const std::string input = jsonl({rec("a", "Prove it.", proof), rec("b", "prove it.", other)});
  const OpRun exact = run_op("dedup.exact", "{answer_field: answer, on_answer_conflict: reject_later}", input);
  ASSERT_EQ(exact.exit_code, 0) << exact.describe();
  EXPECT_EQ(exact.reasons(), Strings{"duplicate"});
  const std::string stem =
      "Show that the sum of the first n odd numbers is a perfect square for every positive integer n and explain "
      "each step of the argument carefully so that a reader can check it line by line without any gaps";
  const OpRun near = run_op("dedup.minhash", "{threshold: 0.8, answers: distinct}",
                            jsonl({rec("a", stem + ".", proof), rec("b", stem + " .", other)}));
  ASSERT_EQ(near.exit_code, 0) << near.describe();
  EXPECT_EQ(near.reasons(), Strings{"near_duplicate"});
}

// A long base text and a template sibling that differs in one number near the end: at threshold 0.8
// their texts match, but their answers differ, so with `answers: distinct` both are kept (the later
// one annotated with the evidence), while a reworded copy whose answer is the same value in another
// form, and a copy without an answer, are still rejected.
TEST(plugins_dedup_minhash, AnswersDistinctKeepsTemplateSiblings) {
  const std::string stem =
      "A bag holds red green and blue marbles in the ratio three to four to five and the bag is shared equally "
      "between the children of one class so that every child gets the same number of marbles of each colour "
      "when all the marbles are divided by ";
  const std::string input = jsonl({rec("a", stem + "9. How many are left?", "\\frac{1}{2}"),
                                   rec("b", stem + "8. How many are left?", "3"),
                                   rec("c", "Problem: " + stem + "9. How many are left?", "0.5"),
                                   rec("d", stem + "9.  How many are  left?", ""),
                                   rec("e", stem + "8. How many are left ?", "The remainder is\n$\\boxed{3}$.")});
  const OpRun ignore = run_op("dedup.minhash", "{threshold: 0.8}", input);
  ASSERT_EQ(ignore.exit_code, 0) << ignore.describe();
  EXPECT_EQ(ignore.kept_ids(), Strings{"a"});  // answers ignored: the sibling b is merged into a
  OpRun base;
  for (int threads : {1, 2}) {
    OpRun run = run_op("dedup.minhash", "{threshold: 0.8, answers: distinct}", input, threads);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept_ids(), (Strings{"a", "b"}));
    EXPECT_EQ(run.rejected_ids(), (Strings{"c", "d", "e"}));
    EXPECT_EQ(run.annotation(run.rejected[0], "dup_of"), "\"a\"");
    EXPECT_EQ(run.annotation(run.rejected[2], "dup_of"), "\"b\"");  // its answer is b's, written as a worked solution
    const auto evidence = run.annotation(run.kept[1], "answer_distinct");
    ASSERT_TRUE(evidence.has_value()) << run.kept[1];
    EXPECT_NE(evidence->find("\"of\":\"a\""), std::string::npos) << *evidence;
    EXPECT_NE(evidence->find("\"answer\":\"3\""), std::string::npos) << *evidence;
    EXPECT_NE(evidence->find("\"other_answer\":\"\\\\frac{1}{2}\""), std::string::npos) << *evidence;
    EXPECT_EQ(run.annotation(run.kept[0], "answer_distinct"), std::nullopt);
    EXPECT_EQ(json_int(run.report, "/stages/0/report/answer_distinct"), 1) << run.report;
    if (threads == 1) base = std::move(run);
    else EXPECT_TRUE(run.kept == base.kept && run.rejected == base.rejected);
  }
  // With a survivor policy (a first pass): each cluster keeps its longest member; the two clusters stay
  // apart by their answers, and the evidence goes to the member kept, naming the other cluster's kept one.
  for (int threads : {1, 2}) {
    const OpRun run = run_op("dedup.minhash", "{threshold: 0.8, answers: distinct, prefer: [longer]}", input, threads);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept_ids(), (Strings{"c", "e"}));
    EXPECT_EQ(run.annotation(run.rejected[0], "dup_of"), "\"c\"");   // a
    EXPECT_EQ(run.annotation(run.rejected[1], "dup_of"), "\"e\"");   // b
    const auto evidence = run.annotation(run.kept[1], "answer_distinct");
    ASSERT_TRUE(evidence.has_value()) << run.kept[1];
    // All of it about the two members kept: e's answer and c's, and their Jaccard (11/14, by hand).
    EXPECT_EQ(*evidence, "{\"of\":\"c\",\"similarity\":0.7857,\"answer\":\"3\",\"other_answer\":\"0.5\"}");
    EXPECT_EQ(run.annotation(run.kept[0], "answer_distinct"), std::nullopt);
  }
  EXPECT_NE(validate_op("dedup.minhash", "{answers: distinct, answer_field: ''}").exit_code, 0);
  EXPECT_NE(validate_op("dedup.minhash", "{answers: maybe}").exit_code, 0);
}

// With answers in play, which survivor a record is refused by (its evidence) and every verdict stay the
// same for any batch size and thread count, capped or not: the answer check is a pure function of the
// record and the survivor, and the refusal is taken over the same candidates as the verdict.
TEST(plugins_dedup_minhash, AnswersDistinctDoesNotDependOnBatchesOrThreads) {
  const std::string input = family_records(23, 4000, [](int i, const std::string& text, std::mt19937_64& rng) {
    const uint64_t a = rng() % 4;  // 0: no answer; else one of three, two of them the same value
    return rec("r" + std::to_string(i), text, a == 0 ? "" : a == 1 ? "12" : a == 2 ? "12.0" : "\\frac{1}{3}");
  });
  // The words are "v<digits>": with numbers: distinct, texts that share most words but not their
  // numbers are refused too, so both kinds of refusal compete for the evidence.
  for (const std::string numbers : {"", ", numbers: distinct"}) {
  for (const char* cap : {"0", "8"}) {
    const std::string with = std::string("{threshold: 0.7, ngram: 3, answers: distinct, max_candidates: ") + cap + numbers + "}";
    OpOptions whole;
    whole.threads = 1;
    whole.args = {"--batch-bytes", "1073741824"};
    const OpRun one = run_op("dedup.minhash", with, input, whole);
    ASSERT_EQ(one.exit_code, 0) << one.describe();
    const auto distinct = json_int(one.report, "/stages/0/report/answer_distinct");
    ASSERT_TRUE(distinct) << one.report;
    EXPECT_GT(*distinct, numbers.empty() ? 10 : 0) << one.report;
    if (!numbers.empty()) {
      EXPECT_GT(json_int(one.report, "/stages/0/report/numbers_distinct").value_or(0), 10) << one.report;
    }
    EXPECT_GT(one.rejected.size(), numbers.empty() ? 500u : 100u) << cap;
    for (const OpRun& run : split_runs_agree(with, input, one, std::string("cap ") + cap + numbers)) {
      EXPECT_EQ(json_int(run.report, "/stages/0/report/answer_distinct"), distinct);
      EXPECT_EQ(json_int(run.report, "/stages/0/report/numbers_distinct"), json_int(one.report, "/stages/0/report/numbers_distinct"));
    }
  }
  }
}

// numbers: distinct: texts at or above the threshold whose numbers differ are the same template with
// other data (here with the same answer, which answers: distinct cannot see); numbers written with a
// thousands separator are the same numbers.
TEST(plugins_dedup_minhash, NumbersDistinctKeepsSiblingsWithTheSameAnswer) {
  const std::string stem =
      "A farmer sells eggs at the market every week and keeps a careful record of how many boxes he sells on "
      "each day so that he can plan how many hens he needs for the next season when he has ";
  const std::string input = jsonl({rec("a", stem + "1000 hens and 12 boxes. How many boxes are left?", "2"),
                                   rec("b", stem + "1000 hens and 14 boxes. How many boxes are left?", "2"),
                                   rec("c", stem + "1,000 hens and 12 boxes. How many boxes are left?", "2"),
                                   rec("d", stem + "$1000$ hens and 12 boxes. How many boxes are left ?", ""),
                                   // figure code is not data: its numbers do not count
                                   rec("e", stem + "1000 hens and 12 boxes. How many boxes are left? [asy]draw((0,0)--(5,7));[/asy]", "2")});
  const OpRun text = run_op("dedup.minhash", "{threshold: 0.8, answers: distinct}", input);
  ASSERT_EQ(text.exit_code, 0) << text.describe();
  EXPECT_EQ(text.kept_ids(), Strings{"a"});  // the same answer: answers alone merge b into a
  for (int threads : {1, 2}) {
    const OpRun run = run_op("dedup.minhash", "{threshold: 0.8, answers: distinct, numbers: distinct}", input, threads);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept_ids(), (Strings{"a", "b"}));
    EXPECT_EQ(run.rejected_ids(), (Strings{"c", "d", "e"}));
    const auto evidence = run.annotation(run.kept[1], "numbers_distinct");
    ASSERT_TRUE(evidence.has_value()) << run.kept[1];
    EXPECT_NE(evidence->find("\"of\":\"a\""), std::string::npos) << *evidence;
    EXPECT_NE(evidence->find("\"numbers\":\"1000 14\",\"other_numbers\":\"1000 12\""), std::string::npos) << *evidence;
    EXPECT_EQ(json_int(run.report, "/stages/0/report/numbers_distinct"), 1) << run.report;
  }
}
