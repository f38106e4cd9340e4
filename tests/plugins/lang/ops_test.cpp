// Tests of the `lang` ops (plugins/lang: lang.identify, lang.consistency) through the real tamis binary
// (../harness.hpp): annotations, the allow filter, und below min_letters, validation messages,
// consistency rejections, determinism across --threads 1/2, and the Chinese sets of ../shared/data.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <tamis/json.hpp>

#include "harness.hpp"

namespace {

using namespace tamis::test;
using Strings = std::vector<std::string>;

std::string rec(const std::string& id, const std::string& problem) {
  return R"({"id":")" + id + R"(","problem":)" + tamis::json::quote(problem) + "}";
}
std::string trace(const std::string& id, const std::string& problem, const std::string& response) {
  return R"({"id":")" + id + R"(","problem":)" + tamis::json::quote(problem) + R"(,"response":)" +
         tamis::json::quote(response) + "}";
}

Verdict verdict(const OpRun& run, const std::string& id) {
  for (const auto& v : run.rejections())
    if (v.id == id) return v;
  return {};
}

const std::string kEn = "A bakery sells 48 croissants in the morning and twice as many in the afternoon. How many are sold?";
const std::string kFr = "Une boulangerie vend 48 croissants le matin et deux fois plus l'après-midi. Combien en vend-elle ?";
const std::string kZh = "一家面包店上午卖出48个面包，下午卖出的数量是上午的两倍。这家面包店一天一共卖出多少个面包？";
const std::string kShort = "Compute $\\sqrt{18032} + \\sqrt{80063}$.";

// ============================================================================================
// lang.identify
// ============================================================================================

TEST(plugins_lang_langid, Annotations) {
  const OpRun run = run_op("lang.identify", "", jsonl({rec("en", kEn), rec("fr", kFr), rec("zh", kZh), rec("short", kShort)}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"en", "fr", "zh", "short"}));
  EXPECT_EQ(run.annotation_of("en", "lang"), "\"en\"");
  EXPECT_EQ(run.annotation_of("fr", "lang"), "\"fr\"");
  EXPECT_EQ(run.annotation_of("zh", "lang"), "\"zh\"");
  EXPECT_EQ(run.annotation_of("zh", "lang_reliable"), "true");
  EXPECT_EQ(run.annotation_of("short", "lang"), "\"und\"");  // "Compute": 7 letters < 20
  EXPECT_EQ(run.annotation_of("short", "lang_confidence"), "0");
  EXPECT_EQ(run.annotation_of("short", "lang_reliable"), "false");
  const double conf = std::stod(*run.annotation_of("fr", "lang_confidence"));
  EXPECT_GT(conf, 0.5);
  EXPECT_LE(conf, 1.0);
}

TEST(plugins_lang_langid, MinLettersAndSeveralFields) {
  const std::string in = jsonl({R"({"id":"a","problem":"Compute $x$.","solution":"We add the two numbers and then we divide the total by two."})"});
  const OpRun one = run_op("lang.identify", "{min_letters: 5}", in);
  ASSERT_EQ(one.exit_code, 0) << one.describe();
  EXPECT_EQ(one.annotation_of("a", "lang"), "\"und\"");  // "Compute": 7 letters, too few for CLD2 or the fast path
  const OpRun both = run_op("lang.identify", "{fields: [problem, solution]}", in);
  ASSERT_EQ(both.exit_code, 0) << both.describe();
  EXPECT_EQ(both.annotation_of("a", "lang"), "\"en\"");
  const OpRun high = run_op("lang.identify", "{fields: [problem, solution], min_letters: 100}", in);
  EXPECT_EQ(high.annotation_of("a", "lang"), "\"und\"");
}

// A short Chinese prompt (8 characters, 16 letters: below min_letters) is named by its script.
TEST(plugins_lang_langid, ShortCjkPrompts) {
  const std::string in = jsonl({rec("zh", "9只兔子有多少条腿？"), rec("ja", "$x$ の値を求めよ"),
                                rec("ko", "$x$의 값을 구하시오."), rec("en", "Find $x$ 若")});
  const OpRun run = run_op("lang.identify", "{allow: [zh, ja, ko]}", in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"zh", "ja", "ko"}));
  EXPECT_EQ(run.annotation_of("zh", "lang"), "\"zh\"");
  EXPECT_EQ(run.annotation_of("ja", "lang"), "\"ja\"");
  EXPECT_EQ(run.annotation_of("ko", "lang"), "\"ko\"");
  EXPECT_EQ(run.annotation_of("zh", "lang_reliable"), "false");  // a short text
  EXPECT_EQ(run.annotation_of("en", "lang"), "\"und\"");
  const auto counters = json_raw(run.report, "/stages/0/counters").value_or("{}");
  EXPECT_EQ(json_int(counters, "decided_by_short_cjk"), 3) << counters;
  EXPECT_EQ(json_int(counters, "decided_by_short"), 1) << counters;
  // min_cjk: 0 turns the rule off: every one of them is und, as before.
  const OpRun off = run_op("lang.identify", "{min_cjk: 0, allow: [und]}", in);
  EXPECT_EQ(off.kept_ids(), (Strings{"zh", "ja", "ko", "en"}));
  EXPECT_EQ(validate_op("lang.identify", "{min_cjk: -1}").exit_code, 2);
}

TEST(plugins_lang_langid, AllowFilter) {
  const std::string in = jsonl({rec("en", kEn), rec("fr", kFr), rec("zh", kZh), rec("short", kShort)});
  const OpRun run = run_op("lang.identify", "{allow: [en, zh]}", in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"en", "zh"}));
  EXPECT_EQ(run.rejected_ids(), (Strings{"fr", "short"}));
  const Verdict fr = verdict(run, "fr");
  EXPECT_EQ(fr.reason, "language");
  EXPECT_EQ(fr.stage, "stage");
  EXPECT_NE(fr.detail.find("detected fr"), std::string::npos) << fr.detail;
  EXPECT_NE(fr.detail.find("allowed: en, zh"), std::string::npos) << fr.detail;
  EXPECT_EQ(verdict(run, "short").reason, "language");
  EXPECT_EQ(run.annotation_of("fr", "lang"), "\"fr\"");  // rejected records keep their annotations
  // `und` in the list keeps the records too short to tell.
  const OpRun und = run_op("lang.identify", "{allow: [en, und]}", in);
  EXPECT_EQ(und.kept_ids(), (Strings{"en", "short"}));
  EXPECT_EQ(und.total("read"), und.total("kept") + und.total("rejected"));
}

TEST(plugins_lang_langid, MissingField) {
  const OpRun run = run_op("lang.identify", "{fields: [problem, question]}",
                           jsonl({R"({"id":"a","text":"no problem here"})", R"({"id":"b","question":"How many apples are there in the basket if we add three more?"})",
                                  R"({"id":"c","problem":42})"}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"b"}));
  EXPECT_EQ(verdict(run, "a").reason, "missing_field");
  EXPECT_NE(verdict(run, "a").detail.find("'problem', 'question'"), std::string::npos) << verdict(run, "a").detail;
  EXPECT_EQ(verdict(run, "c").reason, "missing_field");
}

TEST(plugins_lang_langid, Validation) {
  auto err = [](const std::string& with) {
    const CommandResult r = validate_op("lang.identify", with);
    EXPECT_EQ(r.exit_code, 2) << with << "\n" << r.err;
    return r.err;
  };
  EXPECT_NE(err("{allow: []}").find("allow is empty"), std::string::npos);
  EXPECT_NE(err("{allow: [EN]}").find("not a lowercase language code"), std::string::npos);
  EXPECT_NE(err("{fields: []}").find("fields is empty"), std::string::npos);
  EXPECT_NE(err("{min_letters: -1}").find("min_letters"), std::string::npos);
  EXPECT_NE(err("{fast_path: maybe}").find("fast_path"), std::string::npos);
  EXPECT_EQ(validate_op("lang.identify", "{fields: [problem, solution], allow: [en, zh-hant, und], fast_path: false}").exit_code, 0);
}

std::filesystem::path problems_file() { return source_dir() / "tests/plugins/lang/data/problems.jsonl"; }

// The hand-written problems through the op: the labels the library test measures, with and without
// the fast path; outputs byte-identical at 1 and 2 threads.
TEST(plugins_lang_langid, ProblemsBothModesAndThreads) {
  std::map<std::string, std::string> outputs;
  for (const std::string fast : {"true", "false"}) {
    for (int threads : {1, 2}) {
      OpOptions o;
      o.threads = threads;
      o.input = problems_file();
      const OpRun run = run_op("lang.identify", "{fast_path: " + fast + ", allow: [en, fr, de, es, it, ru, zh, ja]}", "", o);
      ASSERT_EQ(run.exit_code, 0) << run.describe();
      std::string all;
      for (const auto& l : run.kept) all += l + "\n";
      for (const auto& l : run.rejected) all += l + "\n";
      outputs[fast + "/" + std::to_string(threads)] = all;
      int right = 0;
      for (const auto& line : run.kept) right += run.annotation(line, "lang") == "\"" + *json_string(line, "lang") + "\"";
      // Two problems are below min_letters (rejected as und); every other one gets its language.
      EXPECT_GE(right, static_cast<int>(run.kept.size() + run.rejected.size()) - 2) << fast;
      EXPECT_LE(run.rejected.size(), 2u) << fast;
    }
  }
  EXPECT_EQ(outputs["true/1"], outputs["true/2"]);
  EXPECT_EQ(outputs["false/1"], outputs["false/2"]);
}

// The Chinese math sets of ../shared/data (real problems: cmath, gaokao, middle school): no record gets
// a language other than zh, and with the defaults (short CJK text named by its script) at least 97% of
// each file is zh; `min_cjk: 0` is the rule off (Han characters only counting two letters each).
// Prints the table quoted in docs/languages.md:
//   build/tests/plugins/lang/plugins_lang_ops_test --gtest_filter='*SharedChinese*'
TEST(plugins_lang_langid, SharedChineseSets) {
  const Strings files = {"qwen25math_eval/cmath_test.jsonl", "qwen25math_eval/cn_middle_school_test.jsonl",
                         "qwen25math_eval/gaokao2024_I_test.jsonl", "qwen25math_eval/gaokao2024_II_test.jsonl",
                         "qwen25math_eval/gaokao2024_mix_test.jsonl", "qwen25math_eval/gaokao_math_cloze_test.jsonl",
                         "qwen25math_eval/gaokao_math_qa_test.jsonl"};
  if (shared_data(files[0]).empty()) GTEST_SKIP() << "../shared/data is absent";
  std::printf("| file | lang.identify parameters | records | zh | und | other |\n|---|---|---:|---:|---:|---:|\n");
  for (const std::string& f : files) {
    for (const std::string with : {"{fields: [question]}", "{fields: [question], fast_path: false}",
                                   "{fields: [question], min_cjk: 0}"}) {
      OpOptions o;
      o.id_field = "";
      o.input = shared_data(f);
      const OpRun run = run_op("lang.identify", with, "", o);
      ASSERT_EQ(run.exit_code, 0) << run.describe();
      std::map<std::string, int> langs;
      for (const auto& line : run.kept) ++langs[run.annotation(line, "lang").value_or("?")];
      const int total = static_cast<int>(run.kept.size());
      const int zh = langs["\"zh\""], und = langs["\"und\""];
      std::string seen;
      for (const auto& [k, v] : langs) seen += k + ":" + std::to_string(v) + " ";
      std::printf("| %s | `%s` | %d | %d | %d | %d |\n", f.c_str(), with.c_str(), total, zh, und, total - zh - und);
      EXPECT_EQ(zh + und, total) << f << " " << with << ": " << seen;  // no other language at all
      if (with.find("min_cjk: 0") == std::string::npos) {
        EXPECT_GE(zh * 100, total * 97) << f << " " << with << ": " << seen;
      }
      if (f.find("cmath") != std::string::npos) {
        EXPECT_GE(zh, total * 99 / 100) << f << " " << with << ": " << seen;
      }
    }
  }
}

// Real prompts (../shared/data: English, Chinese, competition math with heavy LaTeX): the fast path
// gives the labels plain CLD2 (+ check) gives, record by record. Prints the table quoted in
// docs/languages.md:
//   build/tests/plugins/lang/plugins_lang_ops_test --gtest_filter='*FastPathAgrees*'
TEST(plugins_lang_langid, FastPathAgreesOnSharedData) {
  const std::vector<std::pair<std::string, std::string>> sets = {
      {"gsm8k/train.jsonl", "question"},
      {"math/math_test.jsonl", "problem"},
      {"deepscaler/train_math.jsonl", "problem"},
      {"deepscaler/train_aime.jsonl", "problem"},
      {"qwen25math_eval/olympiadbench_test.jsonl", "question"},
      {"qwen25math_eval/college_math_test.jsonl", "question"},
      {"qwen25math_eval/cmath_test.jsonl", "question"},
      {"qwen25math_eval/gaokao_math_qa_test.jsonl", "question"},
      {"qwen25math_eval/gaokao2023en_test.jsonl", "question"},
  };
  if (shared_data(sets[0].first).empty()) GTEST_SKIP() << "../shared/data is absent";
  std::printf("| file | field | records | same lang | fast path decided | languages (fast path) |\n|---|---|---:|---:|---:|---|\n");
  for (const auto& [file, field] : sets) {
    std::map<std::string, std::vector<std::string>> labels;
    std::string langs;
    for (const std::string fast : {"true", "false"}) {
      OpOptions o;
      o.id_field = "";
      o.input = shared_data(file);
      const OpRun run = run_op("lang.identify", "{fields: [" + field + "], fast_path: " + fast + "}", "", o);
      ASSERT_EQ(run.exit_code, 0) << run.describe();
      for (const auto& line : run.kept) labels[fast].push_back(run.annotation(line, "lang").value_or("?"));
      if (fast == "true") {
        std::map<std::string, int> count;
        for (const auto& l : labels[fast]) ++count[l];
        for (const auto& [l, n] : count) {
          langs += (langs.empty() ? "" : ", ") + l.substr(1, l.size() - 2) + " " + std::to_string(n);  // unquoted
        }
        const auto counters = json_raw(run.report, "/stages/0/counters");
        int decided = 0;
        for (const char* k : {"decided_by_script", "decided_by_words"}) {
          decided += static_cast<int>(json_int(counters.value_or("{}"), k).value_or(0));
        }
        langs = std::to_string(decided) + " | " + langs;
      }
    }
    ASSERT_EQ(labels["true"].size(), labels["false"].size()) << file;
    size_t same = 0;
    for (size_t i = 0; i < labels["true"].size(); ++i) same += labels["true"][i] == labels["false"][i];
    const size_t n = labels["true"].size();
    std::printf("| %s | %s | %zu | %zu (%.2f%%) | %s |\n", file.c_str(), field.c_str(), n, same, 100.0 * same / n,
                langs.c_str());
    EXPECT_GE(same * 1000, n * 995) << file;  // at least 99.5% the same
  }
}

// ============================================================================================
// lang.consistency
// ============================================================================================

const std::string kEnThink =
    "First I compute the number sold in the afternoon, which is twice the morning amount. Then I add both amounts "
    "together to get the total for the whole day.";
const std::string kEnAnswer = "The bakery sells $48 + 96 = 144$ croissants in total, so the answer is $\\boxed{144}$.";
const std::string kZhThink = "首先计算下午卖出的数量，它是上午的两倍。然后把上午和下午的数量加起来，得到一天一共卖出的数量。";

TEST(plugins_lang_consistency, ConsistentTraceKept) {
  const OpRun run = run_op("lang.consistency", "",
                           jsonl({trace("ok", kEn, "<think>" + kEnThink + "</think>" + kEnAnswer),
                                  trace("nothink", kEn, kEnThink + " " + kEnAnswer)}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"ok", "nothink"}));
  EXPECT_EQ(run.annotation_of("ok", "lang_prompt"), "\"en\"");
  EXPECT_EQ(run.annotation_of("ok", "lang_think"), "\"en\"");
  EXPECT_EQ(run.annotation_of("ok", "lang_answer"), "\"en\"");
  EXPECT_EQ(run.annotation_of("ok", "lang_response"), "\"en\"");
  EXPECT_EQ(run.annotation_of("ok", "lang_other_share"), "0");
  EXPECT_EQ(run.annotation_of("nothink", "lang_think"), std::nullopt);  // no think part
}

TEST(plugins_lang_consistency, PartsDisagree) {
  const OpRun run = run_op("lang.consistency", "",
                           jsonl({trace("zh-think", kEn, "<think>" + kZhThink + "</think>" + kEnAnswer + " " + kEnThink),
                                  trace("fr-prompt", kFr, "<think>" + kEnThink + "</think>" + kEnAnswer),
                                  trace("no-open-tag", kEn, kZhThink + "</think>" + kEnThink)}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_TRUE(run.kept.empty());
  const Verdict a = verdict(run, "zh-think");
  EXPECT_EQ(a.reason, "mixed_language");
  EXPECT_EQ(a.detail, "parts disagree: prompt en, think zh, answer en");
  EXPECT_EQ(verdict(run, "fr-prompt").detail, "parts disagree: prompt fr, think en, answer en");
  EXPECT_EQ(verdict(run, "no-open-tag").detail, "parts disagree: prompt en, think zh, answer en");
  // Without a prompt field, and with think: false, the same trace is judged as one response by chunks.
  const OpRun whole = run_op("lang.consistency", "{prompt_field: \"\", think: false}",
                             jsonl({trace("fr-prompt", kFr, "<think>" + kEnThink + "</think>" + kEnAnswer)}));
  EXPECT_EQ(whole.kept_ids(), (Strings{"fr-prompt"}));
}

// A short Chinese prompt (below min_letters) is compared with the response: its script names it.
TEST(plugins_lang_consistency, ShortCjkPromptIsCompared) {
  const std::string in = jsonl({trace("en-answer", "9只兔子有多少条腿？", "<think>" + kEnThink + "</think>" + kEnAnswer),
                                trace("zh-answer", "9只兔子有多少条腿？", "<think>" + kZhThink + "</think>" + kZhThink)});
  const OpRun run = run_op("lang.consistency", "", in);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"zh-answer"}));
  EXPECT_EQ(verdict(run, "en-answer").detail, "parts disagree: prompt zh, think en, answer en");
  EXPECT_EQ(run.annotation_of("zh-answer", "lang_prompt"), "\"zh\"");
  // min_cjk: 0: the prompt is und again and not compared.
  const OpRun off = run_op("lang.consistency", "{min_cjk: 0}", in);
  EXPECT_EQ(off.kept_ids(), (Strings{"en-answer", "zh-answer"}));
  EXPECT_EQ(off.annotation_of("en-answer", "lang_prompt"), "\"und\"");
}

TEST(plugins_lang_consistency, SecondLanguageShare) {
  // An English trace with one Chinese paragraph: about a third of its letters.
  std::string mixed = "<think>" + kEnThink + " " + kZhThink + " " + kEnThink + "</think>" + kEnAnswer;
  // A long English trace with one short Chinese sentence: under 10%.
  std::string mostly;
  for (int i = 0; i < 6; ++i) mostly += kEnThink + " ";
  mostly = "<think>" + mostly + "然后把两个数加起来得到答案。</think>" + kEnAnswer;
  const OpRun run = run_op("lang.consistency", "", jsonl({trace("mixed", kEn, mixed), trace("mostly", kEn, mostly)}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"mostly"}));
  const Verdict v = verdict(run, "mixed");
  EXPECT_EQ(v.reason, "mixed_language");
  EXPECT_NE(v.detail.find("response mainly en; other languages hold"), std::string::npos) << v.detail;
  EXPECT_NE(v.detail.find("zh "), std::string::npos) << v.detail;
  const double share = std::stod(*run.annotation_of("mixed", "lang_other_share"));
  EXPECT_GT(share, 0.2);
  EXPECT_LT(share, 0.5);
  const double small = std::stod(*run.annotation_of("mostly", "lang_other_share"));
  EXPECT_GT(small, 0.0);
  EXPECT_LT(small, 0.1);
  // A higher limit keeps the mixed one; 0 rejects the mostly-English one.
  EXPECT_EQ(run_op("lang.consistency", "{max_other_share: 0.5}", jsonl({trace("mixed", kEn, mixed)})).kept_ids(),
            (Strings{"mixed"}));
  EXPECT_TRUE(run_op("lang.consistency", "{max_other_share: 0}", jsonl({trace("mostly", kEn, mostly)})).kept.empty());
}

TEST(plugins_lang_consistency, WordsOfAnotherScriptInsideSentences) {
  // Language mixing inside sentences, as some reasoning models do: Chinese words in English prose.
  const std::string heavy =
      "<think>First I need to 计算下午的数量 which is twice the morning amount. Then I 把两个数加起来 to get the "
      "total. So the 总数 is the sum of both 数量 for the whole day.</think>" + kEnAnswer;
  const std::string light = "<think>" + kEnThink + " First I need to 计算 the afternoon amount again. " + kEnThink +
                            "</think>" + kEnAnswer;
  const OpRun run = run_op("lang.consistency", "", jsonl({trace("heavy", kEn, heavy), trace("light", kEn, light)}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"light"}));
  EXPECT_EQ(verdict(run, "heavy").reason, "mixed_language");
  EXPECT_NE(verdict(run, "heavy").detail.find("zh"), std::string::npos) << verdict(run, "heavy").detail;
  EXPECT_GT(std::stod(*run.annotation_of("light", "lang_other_share")), 0.0);
  // Latin letters inside a Chinese trace (variable names, an English term) are not another language.
  const OpRun zh = run_op("lang.consistency", "",
                          jsonl({trace("zh", kZh, "<think>" + kZhThink + "设 x 为上午卖出的数量，那么下午卖出 2x 个，用 Python 验证一下。</think>" +
                                                      kZhThink)}));
  EXPECT_EQ(zh.kept_ids(), (Strings{"zh"}));
  EXPECT_EQ(zh.annotation_of("zh", "lang_other_share"), "0");
}

TEST(plugins_lang_consistency, MissingFieldsAndValidation) {
  const OpRun run = run_op("lang.consistency", "",
                           jsonl({R"({"id":"a","problem":"x"})", R"({"id":"b","response":"x"})"}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(verdict(run, "a").reason, "missing_field");
  EXPECT_EQ(verdict(run, "b").reason, "missing_field");
  EXPECT_EQ(validate_op("lang.consistency", "{max_other_share: 1.5}").exit_code, 2);
  EXPECT_EQ(validate_op("lang.consistency", "{chunk_letters: 2}").exit_code, 2);
  EXPECT_EQ(validate_op("lang.consistency", "{response_field: \"\"}").exit_code, 2);
}

TEST(plugins_lang_consistency, DeterministicAcrossThreads) {
  Strings lines;
  for (int i = 0; i < 300; ++i) {
    const std::string id = "r" + std::to_string(i);
    if (i % 3 == 0) lines.push_back(trace(id, kEn, "<think>" + kEnThink + "</think>" + kEnAnswer));
    else if (i % 3 == 1) lines.push_back(trace(id, kEn, "<think>" + kZhThink + "</think>" + kEnAnswer));
    else lines.push_back(trace(id, kZh, "<think>" + kZhThink + kEnThink + "</think>" + kZhThink));
  }
  const std::string in = jsonl(lines);
  const OpRun one = run_op("lang.consistency", "", in, 1);
  const OpRun two = run_op("lang.consistency", "", in, 2);
  ASSERT_EQ(one.exit_code, 0) << one.describe();
  EXPECT_EQ(one.kept, two.kept);
  EXPECT_EQ(one.rejected, two.rejected);
  EXPECT_EQ(one.kept.size(), 100u);
}

}  // namespace
