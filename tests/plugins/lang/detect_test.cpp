// Tests of the detection library (plugins/lang/detect.hpp) and of the script classifier
// (plugins/text/script.hpp), called directly.
//
// Accuracy is measured on tests/plugins/lang/data/problems.jsonl: math word problems written for these
// tests in en, fr, de, es, it, ru, zh and ja (numbers and LaTeX in them, as in real problems), each
// with its language. The accuracy test prints its table (the figures quoted in docs/languages.md):
//   build/tests/plugins/lang/plugins_lang_detect_test --gtest_filter='*Accuracy*'
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "detect.hpp"
#include "harness.hpp"
#include "script.hpp"
#include "utf8.hpp"

namespace {

using namespace tamis::lang;
using tamis::text::Script;
using tamis::text::script_of;

struct Sample {
  std::string id, lang, text;
};

std::vector<Sample> samples() {
  std::vector<Sample> out;
  const auto path = tamis::test::source_dir() / "tests/plugins/lang/data/problems.jsonl";
  for (const std::string& line : tamis::test::read_lines(path)) {
    if (line.empty()) continue;
    Sample s{tamis::test::json_string(line, "id").value_or(""), tamis::test::json_string(line, "lang").value_or(""),
             tamis::test::json_string(line, "problem").value_or("")};
    EXPECT_FALSE(s.id.empty() || s.lang.empty() || s.text.empty()) << line;
    out.push_back(std::move(s));
  }
  return out;
}

const std::vector<std::string> kLanguages = {"en", "fr", "de", "es", "it", "ru", "zh", "ja"};

// Letters as characters (a Han character counts 1 here, unlike Detection::letters): the issue's
// ">= 40 letters" read literally, the stricter reading for Chinese and Japanese.
size_t characters(std::string_view stripped) {
  size_t n = 0;
  for (size_t i = 0; i < stripped.size();) {
    const tamis::text::Decoded d = tamis::text::decode(stripped, i);
    if (d.ok && tamis::text::is_letter(d.cp)) ++n;
    i += d.len;
  }
  return n;
}

// ============================================================================================
// Stripping
// ============================================================================================

TEST(plugins_lang_strip, InlineAndDisplayMath) {
  EXPECT_EQ(strip_markup("Find $x$ such that $$x^2 = 4$$ holds."), "Find such that holds.");
  EXPECT_EQ(strip_markup("Let \\(a+b\\) and \\[c = d\\] be given."), "Let and be given.");
  EXPECT_EQ(strip_markup("Solve $\\frac{1}{2} x = \\text{three}$ now"), "Solve now");  // \text inside math goes too
}

TEST(plugins_lang_strip, ManyUnclosedParenDelimiters) {
  // Each unclosed \( is dropped with its delimiter and the text after it stays; the spans before
  // and after still go.
  std::string unclosed, expected;
  for (int i = 0; i < 60000; ++i) {
    unclosed += "\\(word ";
    expected += " word";
  }
  EXPECT_EQ(strip_markup("Let \\(x\\) be " + unclosed + "\\[y\\] end"), "Let be" + expected + " end");
}

TEST(plugins_lang_strip, DollarsThatAreNotMath) {
  // Prices: an opening $ followed by a digit whose "closer" is preceded by a space is not math.
  EXPECT_EQ(strip_markup("She pays $5 and he pays $7 for lunch."), "She pays and he pays for lunch.");
  EXPECT_EQ(strip_markup("It costs \\$12 in total."), "It costs in total.");
  EXPECT_EQ(strip_markup("A lone $ sign"), "A lone sign");
  // An unclosed display opener is dropped, the words stay.
  EXPECT_EQ(strip_markup("words $$ more words"), "words more words");
}

TEST(plugins_lang_strip, Environments) {
  EXPECT_EQ(strip_markup("Consider \\begin{align} x &= 1 \\\\ y &= 2 \\end{align} then stop."), "Consider then stop.");
  EXPECT_EQ(strip_markup("A \\begin{pmatrix} 1 & 2 \\end{pmatrix} matrix"), "A matrix");
  EXPECT_EQ(strip_markup("\\begin{equation*} e^{i\\pi} \\end{equation*} Euler"), "Euler");
  // Prose environments keep their content.
  EXPECT_EQ(strip_markup("\\begin{itemize}\\item first point \\item second\\end{itemize}"), "first point second");
  // An unclosed math environment runs to the end.
  EXPECT_EQ(strip_markup("Text \\begin{align} x = 1"), "Text");
}

TEST(plugins_lang_strip, Commands) {
  EXPECT_EQ(strip_markup("\\textbf{Problem.} Show that \\emph{every} number works."),
            "Problem. Show that every number works.");
  EXPECT_EQ(strip_markup("see \\label{eq:1} and \\ref{fig} here"), "see and here");
  EXPECT_EQ(strip_markup("the value \\frac{1}{2} and \\sqrt[3]{8} here"), "the value and here");
  EXPECT_EQ(strip_markup("Visit \\href{http://x.org}{our page} now"), "Visit our page now");
  EXPECT_EQ(strip_markup("a\\quad b\\, c"), "a b c");
}

TEST(plugins_lang_strip, CodeUrlsNumbersTags) {
  EXPECT_EQ(strip_markup("Run this:\n```python\nprint('hello world')\n```\nand report."), "Run this: and report.");
  EXPECT_EQ(strip_markup("Call `sorted(xs)` twice"), "Call twice");
  EXPECT_EQ(strip_markup("See https://example.com/a?b=c and www.test.org now"), "See and now");
  EXPECT_EQ(strip_markup("In 2024, 3.5 kg and 1,000 apples"), "In , . kg and , apples");
  EXPECT_EQ(strip_markup("全角１２３数字"), "全角 数字");
  EXPECT_EQ(strip_markup("<think>I think so</think> The answer<br/>is"), "I think so The answer is");
  EXPECT_EQ(strip_markup("if x<y and y>z"), "if x<y and y>z");  // not a known tag
  EXPECT_EQ(strip_markup("[asy] draw((0,0)--(1,1)); [/asy] Find the area."), "Find the area.");
}

TEST(plugins_lang_strip, InvalidUtf8BecomesSpace) {
  EXPECT_EQ(strip_markup(std::string("abc\xff\xfe" "def")), "abc def");
  EXPECT_EQ(strip_markup(std::string("trunc\xe4\xb8")), "trunc");
}

// ============================================================================================
// Scripts and letters
// ============================================================================================

TEST(plugins_lang_script, Classifier) {
  EXPECT_EQ(script_of(U'a'), Script::latin);
  EXPECT_EQ(script_of(U'é'), Script::latin);
  EXPECT_EQ(script_of(U'×'), Script::none);
  EXPECT_EQ(script_of(U'7'), Script::none);
  EXPECT_EQ(script_of(U'ж'), Script::cyrillic);
  EXPECT_EQ(script_of(U'ї'), Script::cyrillic);
  EXPECT_EQ(script_of(U'λ'), Script::greek);
  EXPECT_EQ(script_of(U'中'), Script::han);
  EXPECT_EQ(script_of(U'々'), Script::han);
  EXPECT_EQ(script_of(U'の'), Script::hiragana);
  EXPECT_EQ(script_of(U'カ'), Script::katakana);
  EXPECT_EQ(script_of(U'ー'), Script::katakana);
  EXPECT_EQ(script_of(U'한'), Script::hangul);
  EXPECT_EQ(script_of(U'ש'), Script::hebrew);
  EXPECT_EQ(script_of(U'ب'), Script::arabic);
  EXPECT_EQ(script_of(U'क'), Script::indic);
  EXPECT_EQ(script_of(U'५'), Script::none);  // Devanagari digit five
  EXPECT_EQ(script_of(U'ก'), Script::thai);
  EXPECT_EQ(script_of(U'ა'), Script::georgian);
  EXPECT_EQ(script_of(U'。'), Script::none);
  EXPECT_EQ(script_of(U'，'), Script::none);
  EXPECT_EQ(script_of(U'\U00020000'), Script::han);
}

TEST(plugins_lang_script, CountLetters) {
  EXPECT_EQ(count_letters("abc 123 déf"), 6u);
  EXPECT_EQ(count_letters("中文，テスト。"), 10u);  // Han and kana count 2 each
  EXPECT_EQ(count_letters(std::string("a\xff" "b")), 2u);
}

// ============================================================================================
// Detection
// ============================================================================================

TEST(plugins_lang_detect, IsoCodes) {
  EXPECT_EQ(iso_code("zh-Hant"), "zh");
  EXPECT_EQ(iso_code("zh"), "zh");
  EXPECT_EQ(iso_code("iw"), "he");
  EXPECT_EQ(iso_code("jw"), "jv");
  EXPECT_EQ(iso_code("sr-ME"), "sr");
  EXPECT_EQ(iso_code("un"), "und");
  EXPECT_EQ(iso_code("xx-Qaai"), "und");
  EXPECT_EQ(iso_code("haw"), "haw");  // no ISO 639-1 code: CLD2's
}

TEST(plugins_lang_detect, MinLetters) {
  const Detection d = detect("Compute $\\sqrt{18032} + \\sqrt{80063}$.");
  EXPECT_EQ(d.lang, "und");
  EXPECT_EQ(d.letters, 7u);  // "Compute"
  EXPECT_FALSE(d.reliable);
  EXPECT_STREQ(d.method, "short");
  EXPECT_EQ(detect("Compute the sum.", {.min_letters = 5}).letters, 13u);
  EXPECT_EQ(detect("", {.min_letters = 0}).lang, "und");
}

// Below min_letters, Han, kana and Hangul text is named by its script (DetectOptions::min_cjk), in both
// modes; anything the script does not settle stays und.
TEST(plugins_lang_detect, ShortCjk) {
  struct Case {
    const char* text;
    const char* lang;
  };
  const std::vector<Case> cases = {
      {"9只兔子有多少条腿？", "zh"},  // 8 characters, 16 letters: und before
      {"计算：$(\\pi-3)^0 + (1/2)^{-1}$", "zh"},
      {"因式分解：$2x^2-8$", "zh"},
      {"已知 $z=1+i$, 则 $\\bar z=$ ( ) A. $1-i$ B. $-1+i$", "zh"},  // option letters are not language
      {"求下列各式的值", "zh"},
      {"値を求めよ。", "ja"},  // 2 Han, 3 kana
      {"$x$ の値を求めよ", "ja"},
      {"次の計算をせよ", "ja"},
      {"$x$의 값을 구하시오.", "ko"},
      {"넓이를 구하라", "ko"},
      // Not settled by the script: und.
      {"Find $x$ 若", "und"},               // Han 2 of 6 letters
      {"则 $x=1$", "und"},                  // one Han character
      {"$(5$ 分 $)(1+i)(2-i)=( )$", "und"},  // one Han character (a score marker)
      {"求の值", "und"},                    // Chinese with one stray kana: neither zh nor ja
      {"漢字 한글", "und"},                 // Han and Hangul, neither 80%
      {"Find the sum 的", "und"},
  };
  for (const Case& c : cases) {
    for (const bool fast : {true, false}) {
      const Detection d = detect(c.text, {.fast_path = fast});
      EXPECT_EQ(d.lang, c.lang) << c.text << (fast ? " (fast path)" : " (plain)");
      EXPECT_LT(d.letters, 20u) << c.text;  // all below min_letters: this is the short rule
      EXPECT_FALSE(d.reliable) << c.text;
      EXPECT_STREQ(d.method, std::string(c.lang) == "und" ? "short" : "short_cjk") << c.text;
    }
  }
  const Detection zh = detect("9只兔子有多少条腿？");
  EXPECT_EQ(zh.letters, 16u);
  EXPECT_DOUBLE_EQ(zh.confidence, 1.0);
  EXPECT_EQ(detect("9只兔子有多少条腿？", {.min_cjk = 0}).lang, "und");  // off: as before
  EXPECT_EQ(detect("9只兔子有多少条腿？", {.min_cjk = 8}).lang, "zh");
  EXPECT_EQ(detect("9只兔子有多少条腿？", {.min_cjk = 9}).lang, "und");
  EXPECT_EQ(detect("计算：$x+1$", {.min_cjk = 3}).lang, "und");
  EXPECT_EQ(detect("计算：$x+1$", {.min_cjk = 2}).lang, "zh");
  // At min_letters and above, the short rule plays no part: a long text is decided as before.
  EXPECT_STREQ(detect("一家面包店上午卖出48个面包，下午卖出的数量是上午的两倍。").method, "script");
}

TEST(plugins_lang_detect, ScriptDecides) {
  // Short Chinese full of digits and math: CLD2 is unreliable there; the script is not.
  const Detection zh = detect("某班男生人数与女生人数的比是3比5。如果全班一共有40名学生，那么女生比男生多多少名？");
  EXPECT_EQ(zh.lang, "zh");
  EXPECT_STREQ(zh.method, "script");
  EXPECT_TRUE(zh.reliable);
  EXPECT_EQ(detect("某班學生共有四十名，其中男生人數與女生人數的比是三比五，請問女生比男生多幾名？").lang, "zh");  // traditional
  EXPECT_EQ(detect("関数のグラフが点を通るとき、この関数の式を求めなさい。また頂点の座標も答えなさい。").lang, "ja");
  EXPECT_EQ(detect("두 개의 주사위를 던질 때 나온 눈의 합이 소수일 확률을 구하시오. 답은 분수로 쓰시오.").lang, "ko");
  EXPECT_EQ(detect("Να βρείτε όλες τις πραγματικές λύσεις της εξίσωσης και να υπολογίσετε το άθροισμά τους.").lang, "el");
  // A Chinese text with one kana is not decided by script (it goes to CLD2).
  EXPECT_EQ(fast_path(strip_markup("这是一个数学问题の例子，请计算三角形的面积和周长并写出过程")).lang, "");
}

TEST(plugins_lang_detect, CyrillicIsNotOnlyRussian) {
  // Ukrainian, Bulgarian, Serbian: never Russian by the fast path.
  const std::vector<std::string> not_russian = {
      "Скільки існує натуральних чисел, менших від тисячі, які діляться на сім, але не діляться на одинадцять?",
      "Колко естествени числа, по-малки от хиляда, се делят на седем, но не се делят на единадесет?",
      "Колико има природних бројева мањих од хиљаду који су дељиви са седам, а нису дељиви са једанаест?",
      "Фермер має курей і корів. Разом у них п'ятдесят голів і сто сорок ніг. Скільки корів у фермера?",
      "Влак тръгва от гарата в девет часа и се движи със средна скорост от осемдесет километра в час.",
  };
  for (const std::string& t : not_russian) {
    const Detection fast = fast_path(strip_markup(t));
    EXPECT_EQ(fast.lang, "") << t;
    EXPECT_NE(detect(t).lang, "ru") << t;
  }
  EXPECT_EQ(fast_path(strip_markup("Сколько существует натуральных чисел, которые делятся на семь?")).lang, "ru");
}

TEST(plugins_lang_detect, LatinNeighboursAreNotShortcut) {
  // Portuguese, Galician, Catalan, Dutch, Romanian: the fast path leaves them to CLD2.
  const std::vector<std::string> others = {
      "Quantos números inteiros positivos menores que mil são divisíveis por sete mas não por onze?",
      "Um agricultor tem galinhas e vacas. Ao todo são cinquenta cabeças e cento e quarenta patas. Quantas vacas ele tem?",
      "Cantos números enteiros positivos menores ca mil son divisibles por sete pero non por once?",
      "Quants nombres enters positius més petits que mil són divisibles per set però no per onze?",
      "Hoeveel positieve gehele getallen kleiner dan duizend zijn deelbaar door zeven maar niet door elf?",
      "Câte numere naturale mai mici decât o mie sunt divizibile cu șapte, dar nu sunt divizibile cu unsprezece?",
  };
  for (const std::string& t : others) {
    EXPECT_EQ(fast_path(strip_markup(t)).lang, "") << t;
  }
  EXPECT_EQ(detect(others[0]).lang, "pt");
  EXPECT_EQ(detect(others[4]).lang, "nl");
}

TEST(plugins_lang_detect, WordCheckAfterCld2) {
  // CLD2 alone says "en" (and reliable) for this Spanish line once the math is gone; the word check
  // answers es in both modes.
  const std::string t = "Halla la parte imaginaria de $z$ sabiendo que es positiva.";
  EXPECT_EQ(cld2_detect(strip_markup(t)).lang, "en");
  const Detection plain = detect(t, {.fast_path = false});
  EXPECT_EQ(plain.lang, "es");
  EXPECT_STREQ(plain.method, "check");
  EXPECT_FALSE(plain.reliable);
}

// The figure the issue asks for: >= 98% per language on problems of >= 40 letters (characters, for
// Chinese and Japanese too), with and without the fast path. Shorter problems are counted apart. Prints the table quoted in docs/languages.md.
TEST(plugins_lang_detect, AccuracyPerLanguage) {
  struct Tally {
    int n = 0, fast = 0, plain = 0, cld2 = 0, raw = 0, fast_decided = 0, agree = 0;
    int short_n = 0, short_fast = 0, short_plain = 0;
  };
  std::map<std::string, Tally> by_lang;
  for (const Sample& s : samples()) {
    const std::string stripped = strip_markup(s.text);
    const Detection fast = detect(s.text);
    const Detection plain = detect(s.text, {.fast_path = false});
    Tally& t = by_lang[s.lang];
    if (characters(stripped) < 40) {  // shorter problems: counted apart
      ++t.short_n;
      t.short_fast += fast.lang == s.lang;
      t.short_plain += plain.lang == s.lang;
      continue;
    }
    ++t.n;
    t.fast += fast.lang == s.lang;
    t.plain += plain.lang == s.lang;
    t.cld2 += cld2_detect(stripped).lang == s.lang;
    t.raw += cld2_detect(s.text).lang == s.lang;  // no stripping: what stripping buys
    t.fast_decided += fast_path(stripped).lang.empty() ? 0 : 1;
    t.agree += fast.lang == plain.lang;
    EXPECT_EQ(fast.lang, s.lang) << s.id << " (fast path): " << s.text;
    EXPECT_EQ(plain.lang, s.lang) << s.id << " (plain): " << s.text;
  }
  std::printf("| lang | problems >= 40 letters | fast path | plain (CLD2 + check) | CLD2 alone | CLD2 on unstripped text | "
              "decided by fast path | fast = plain | problems < 40 letters: count: fast / plain right |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const std::string& lang : kLanguages) {
    const Tally& t = by_lang[lang];
    ASSERT_GE(t.n, 40) << lang << ": too few problems of >= 40 letters in problems.jsonl";
    const auto pct = [&](int k, int n) { return n == 0 ? 0.0 : 100.0 * k / n; };
    std::printf("| %s | %d | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.0f%% | %.1f%% | %d: %d / %d |\n", lang.c_str(), t.n,
                pct(t.fast, t.n), pct(t.plain, t.n), pct(t.cld2, t.n), pct(t.raw, t.n), pct(t.fast_decided, t.n),
                pct(t.agree, t.n), t.short_n, t.short_fast, t.short_plain);
    EXPECT_GE(pct(t.fast, t.n), 98.0) << lang;
    EXPECT_GE(pct(t.plain, t.n), 98.0) << lang;
  }
}

// Why strip, and why the script rules: CLD2 on the raw questions of the Chinese sets of ../shared/data,
// CLD2 on the stripped questions, and detect(). Prints the table quoted in docs/languages.md:
//   build/tests/plugins/lang/plugins_lang_detect_test --gtest_filter='*RawVsStripped*'
TEST(plugins_lang_detect, SharedChineseRawVsStripped) {
  const std::vector<std::string> files = {"qwen25math_eval/cmath_test.jsonl", "qwen25math_eval/cn_middle_school_test.jsonl",
                                          "qwen25math_eval/gaokao2024_mix_test.jsonl",
                                          "qwen25math_eval/gaokao_math_cloze_test.jsonl",
                                          "qwen25math_eval/gaokao_math_qa_test.jsonl"};
  if (tamis::test::shared_data(files[0]).empty()) GTEST_SKIP() << "../shared/data is absent";
  std::printf("| file | questions | CLD2 on raw text: zh / other / und | CLD2 on stripped text | detect() |\n"
              "|---|---:|---:|---:|---:|\n");
  for (const std::string& f : files) {
    struct Count { int zh = 0, other = 0, und = 0; } raw, stripped, full;
    const auto tally = [](Count& c, const std::string& lang) { (lang == "zh" ? c.zh : lang == "und" ? c.und : c.other)++; };
    int n = 0;
    for (const std::string& line : tamis::test::read_lines(tamis::test::shared_data(f))) {
      const auto q = tamis::test::json_string(line, "question");
      if (!q) continue;
      ++n;
      tally(raw, cld2_detect(*q).lang);
      tally(stripped, cld2_detect(strip_markup(*q)).lang);
      tally(full, detect(*q).lang);
    }
    const auto cell = [](const Count& c) {
      return std::to_string(c.zh) + " / " + std::to_string(c.other) + " / " + std::to_string(c.und);
    };
    std::printf("| %s | %d | %s | %s | %s |\n", f.c_str(), n, cell(raw).c_str(), cell(stripped).c_str(), cell(full).c_str());
    EXPECT_EQ(full.other, 0) << f;  // zh, or und when too short to tell
    EXPECT_LE(full.und * 100, n * 3) << f;  // short questions are named by their script (min_cjk)
  }
}

// Every sample, detected from 4 threads at once, gives what it gives alone: no shared state.
TEST(plugins_lang_detect, ThreadSafe) {
  const std::vector<Sample> all = samples();
  std::vector<std::string> expected;
  for (const Sample& s : all) expected.push_back(detect(s.text).lang + "/" + detect(s.text, {.fast_path = false}).lang);
  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < got.size(); ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 3; ++round) {
        got[k].clear();
        for (size_t i = 0; i < all.size(); ++i) {
          const Sample& s = all[(i + k * 37) % all.size()];
          got[k].push_back(s.id + "=" + detect(s.text).lang + "/" + detect(s.text, {.fast_path = false}).lang);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (size_t k = 0; k < got.size(); ++k) {
    for (size_t i = 0; i < all.size(); ++i) {
      const size_t j = (i + k * 37) % all.size();
      EXPECT_EQ(got[k][i], all[j].id + "=" + expected[j]);
    }
  }
}

}  // namespace
