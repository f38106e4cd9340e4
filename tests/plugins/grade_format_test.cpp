// Tests of grade.verifiable's option, letter-answer and blank rules (plugins/grade/format.cpp) on real records
// from ../shared/data (each found wrong or missed by the hand-checked sample of bench/accuracy/format.sh),
// and on hand-written look-alikes that must be kept.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using namespace tamis::test;
using Strings = std::vector<std::string>;

std::filesystem::path shared_data() { return TAMIS_SHARED_DATA; }

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += c;
  }
  return out + "\"";
}

// Line `n` (1-based) of a shared data file, "" when the file is absent.
std::string data_line(const std::string& file, int n) {
  std::ifstream f(shared_data() / file);
  std::string line;
  for (int i = 0; i < n && std::getline(f, line); ++i) {
  }
  return f ? line : std::string();
}

// One record {id, problem, answer} made from a real line: the problem is the named field (and, when
// `options` is set, that field appended on a new line, as the set stores it), the answer the named field.
std::string record(const std::string& id, const std::string& line, const std::string& problem, const std::string& answer,
                   const std::string& options = "") {
  std::string p = json_string(line, problem).value_or("");
  if (!options.empty()) p += "\n" + json_string(line, options).value_or("");
  return "{\"id\":" + quote(id) + ",\"problem\":" + quote(p) + ",\"answer\":" + quote(json_string(line, answer).value_or("")) + "}";
}

struct Real {
  const char* file;
  int line;
  const char* problem;
  const char* answer;
  const char* options;  // "" unless the options are stored beside the question
  const char* reason;   // expected reason, "" = kept
};

// Records checked by reading them (bench/accuracy/format_handcheck.tsv holds the same verdicts).
constexpr Real kReal[] = {
    // Options the old rules missed.
    {"qwen25math_eval/aqua_test.jsonl", 21, "question", "correct", "", "multiple_choice"},           // options stored apart, one per line: "A)12", "B)16"
    {"qwen25math_eval/cn_middle_school_test.jsonl", 1, "question", "answer", "", "multiple_choice"},  // "A.-2  B.0  C. 3  D.  -1/2" on one line
    {"qwen25math_eval/gaokao2024_mix_test.jsonl", 20, "question", "answer", "", "multiple_choice"},   // "（） A. \frac{1}{4} B. ..." inline
    {"qwen25math_eval/sat_math_test.jsonl", 27, "question", "Answer", "options", "multiple_choice"},  // "A) $3 x^2-3=0$ B) ..." inline
    {"qwen25math_eval/gaokao_math_qa_test.jsonl", 1, "question", "label", "", "multiple_choice"},     // answer "D", the problem ends "( )"
    {"deepscaler/train_math.jsonl", 4126, "problem", "answer", "", "multiple_choice"},               // "Which of the following", answer "D, E"
    {"qwen25math_eval/gaokao2023en_test.jsonl", 294, "question", "answer", "", "multiple_choice"},    // ACT options (F) (G) (H) (J) (K)
    // Several blanks: several answers.
    {"qwen25math_eval/gaokao_math_cloze_test.jsonl", 2, "question", "answer", "", "multi_part"},      // a_1=(\quad), a_2+a_3+a_4=(\quad)
    {"qwen25math_eval/cn_middle_school_test.jsonl", 101, "question", "answer", "", "multi_part"},     // 可列方程为 ___ , 求出客房数量为 ___ 间
    // Wrongly rejected before.
    {"deepscaler/train_math.jsonl", 1931, "problem", "answer", "", ""},           // "Each question has five answer choices": a probability question
    {"qwen25math_eval/olympiadbench_test.jsonl", 609, "question", "/final_answer/0", "", ""},  // two or three students "in the picture" (selfies)
    // Letter answers that are not option letters.
    {"deepscaler/train_math.jsonl", 5058, "problem", "answer", "", ""},           // the 100th letter of ABCABC...: "A"
    {"deepscaler/train_math.jsonl", 3683, "problem", "answer", "", ""},           // Enter "C" for circle, ... "E" for ellipse
    {"qwen25math_eval/gaokao_math_cloze_test.jsonl", 1, "question", "answer", "", ""},  // one blank (\quad), answer 2
};

TEST(plugins_grade_format, OptionsLettersAndBlanksOnRealRecords) {
  Strings in, expected_reasons;
  std::vector<std::string> ids;
  for (const auto& r : kReal) {
    const std::string line = data_line(r.file, r.line);
    if (line.empty()) continue;
    const std::string id = std::string(r.file) + ":" + std::to_string(r.line);
    // aqua keeps its options beside the question, one per line ("A)12", "B)16"): append them as lines.
    if (std::string(r.file).find("aqua") != std::string::npos) {
      std::string p = json_string(line, "question").value_or("");
      for (int i = 0; i < 5; ++i) p += "\n" + json_string(line, "/options/" + std::to_string(i)).value_or("");
      in.push_back("{\"id\":" + quote(id) + ",\"problem\":" + quote(p) + ",\"answer\":" + quote(json_string(line, "correct").value_or("")) + "}");
    } else {
      in.push_back(record(id, line, r.problem, r.answer, r.options));
    }
    ids.push_back(id);
    expected_reasons.push_back(r.reason);
  }
  if (in.empty()) GTEST_SKIP() << "no shared data";
  const OpRun run = run_op("grade.verifiable", "", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  std::map<std::string, std::pair<std::string, std::string>> got;
  for (const auto& v : run.rejections()) got[v.id] = {v.reason, v.detail};
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto it = got.find(ids[i]);
    EXPECT_EQ(it == got.end() ? "" : it->second.first, expected_reasons[i]) << ids[i] << ": " << (it == got.end() ? "kept" : it->second.second)
                                                                            << "\n" << in[i].substr(0, 600);
  }
}

TEST(plugins_grade_format, OptionAndBlankLookAlikesAreKept) {
  const Strings in = {
      // Initials and one "A." are no option list; four letters out of order neither.
      R"({"id":"initials","problem":"Mr. A. B. Smith walks 3 km. How far does he walk in two days?","answer":"6"})",
      R"({"id":"order","problem":"Label the points D. C. B. A. on a line. How many segments are there?","answer":"6"})",
      // One blank is one answer; a call f() is no blank.
      R"x({"id":"one_blank","problem":"若 2x=4, 则 x=( )","answer":"2"})x",
      R"({"id":"call","problem":"In code, f() and g() return 1 and 2. What is f()+g()?","answer":"3"})",
      // A letter answer without any choice in sight: a point, a letter of a word.
      R"({"id":"point","problem":"Of points A(0,0) and B(3,4), which is farther from the origin?","answer":"B"})",
      // "answer choices" in a story, not before a list.
      R"({"id":"story","problem":"A test has 10 questions with four answer choices each. How many ways can it be answered?","answer":"1048576"})",
  };
  const OpRun run = run_op("grade.verifiable", "", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"initials", "order", "one_blank", "call", "point", "story"})) << run.describe();
}

TEST(plugins_grade_format, OptionAndBlankRulesWithTheirDetail) {
  const Strings in = {
      R"({"id":"inline","problem":"下列各数中最小的是（）\nA.-2  B.0  C. 3  D.  -1/2","answer":"-2"})",
      R"({"id":"inline_paren","problem":"Which is prime? A) 4 B) 6 C) 7 D) 8","answer":"C"})",
      R"({"id":"lines_digit","problem":"How many?\nA)12\nB)16\nC)24","answer":"C"})",
      R"x({"id":"letter_blank","problem":"已知 a=1, 则 a+1=( )","answer":"B"})x",
      R"({"id":"letter_which","problem":"Which of the following is even?","answer":"\\text{(C)}"})",
      R"({"id":"act","problem":"Solve x+1=2: (F) 0 (G) 1 (H) 2 (J) 3 (K) 4","answer":"G"})",
      R"({"id":"choices_list","problem":"Solve 2x=4. Answer Choices: (a) 1 (b) 2","answer":"2"})",
      R"({"id":"blanks","problem":"The sum is ____ and the product is ____.","answer":"5; 6"})",
      R"({"id":"quad_blanks","problem":"则 $a_1=(\\quad)$, $a_2=(\\quad)$","answer":"$5$;$10$"})",
  };
  const OpRun run = run_op("grade.verifiable", "", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  const auto v = run.rejections();
  ASSERT_EQ(v.size(), in.size()) << run.describe();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"multiple_choice", "the problem lists options A. B. C. D."},
      {"multiple_choice", "the problem lists options A) B) C) D)"},
      {"multiple_choice", "the problem lists options A) B) C) at line starts"},
      {"multiple_choice", "the reference is an option letter and the problem has a blank ( ) to fill"},
      {"multiple_choice", "the reference is an option letter and the problem says 'which of the following'"},
      {"multiple_choice", "the problem lists options (F), (G), (H)"},
      {"multiple_choice", "the problem says 'answer choices' before a list"},
      {"multi_part", "the problem has 2 blanks to fill"},
      {"multi_part", "the problem has 2 blanks to fill"},
  };
  for (size_t i = 0; i < v.size(); ++i) {
    SCOPED_TRACE(v[i].id);
    EXPECT_EQ(v[i].reason, expected[i].first);
    EXPECT_EQ(v[i].detail, expected[i].second);
  }
  // Each rule keeps its switch.
  const OpRun off = run_op("grade.verifiable", "{multiple_choice: false, multi_part: false}", jsonl(in));
  ASSERT_EQ(off.exit_code, 0) << off.describe();
  EXPECT_EQ(off.kept.size(), in.size()) << off.describe();
}

}  // namespace
