// Tests of the `basic` plugin family: filter.require, filter.length, map.rename, sample.
// Each test runs the real tamis binary on inline JSONL through harness.hpp.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using namespace tamis::test;
using Strings = std::vector<std::string>;

// Every rejected line's reason, detail and stage, checked against one expected reason/detail per id.
void expect_rejections(const OpRun& run, const std::vector<std::pair<std::string, std::pair<std::string, std::string>>>& expected,
                       const std::string& stage = "stage") {
  const auto got = run.rejections();
  ASSERT_EQ(got.size(), expected.size()) << run.describe();
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("rejected line " + std::to_string(i) + ": " + run.rejected[i]);
    EXPECT_EQ(got[i].id, expected[i].first);
    EXPECT_EQ(got[i].stage, stage);
    EXPECT_EQ(got[i].reason, expected[i].second.first);
    EXPECT_EQ(got[i].detail, expected[i].second.second);
  }
}

// The ledger agrees with the kept and rejected sinks, and the report balances.
void expect_consistent(const OpRun& run, size_t records) {
  EXPECT_EQ(run.ledger.size(), records) << run.describe();
  EXPECT_EQ(run.ledger_ids("kept"), run.kept_ids());
  EXPECT_EQ(run.ledger_ids("rejected"), run.rejected_ids());
  EXPECT_EQ(run.total("read"), static_cast<int64_t>(records));
  EXPECT_EQ(run.total("kept"), static_cast<int64_t>(run.kept.size()));
  EXPECT_EQ(run.total("rejected"), static_cast<int64_t>(run.rejected.size()));
  EXPECT_EQ(run.total("errors"), 0);
}

// The lines of a text.
Strings read_lines_of(const std::string& text) {
  Strings out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    out.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

// The input line with `,"tamis":{ANNOTATIONS}` added before its closing brace.
std::string with_annotations(const std::string& line, const std::string& annotations, const std::string& field = "tamis") {
  std::string head = line.substr(0, line.rfind('}'));
  while (!head.empty() && head.back() == ' ') head.pop_back();
  return head + (head.back() == '{' ? "" : ",") + "\"" + field + "\":{" + annotations + "}}";
}

// The annotations a record of the harness's source `input` gets when the source has no `id:`: its
// content id and the source (docs/pipeline-format.md, Record ids).
std::string provenance(const std::string& id) { return "\"id\":\"" + id + "\",\"source\":\"input\""; }

// ============================================================================================
// The harness itself
// ============================================================================================

TEST(plugins_harness, BlockStyleWithAndJsonHelpers) {
  // Multi-line YAML for `with` is indented under it.
  const OpRun run = run_op("filter.length", "field: t\nmin: 2\nannotate: true\n", jsonl({R"({"id":"a","t":"ab"})", R"({"id":"b","t":"a"})"}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"a"});
  EXPECT_EQ(run.rejected_ids(), Strings{"b"});
  EXPECT_EQ(run.annotation(run.kept[0], "length"), "2");
  EXPECT_EQ(run.annotation(run.kept[0], "absent"), std::nullopt);

  EXPECT_EQ(jsonl({"{}", R"({"a":1})"}), "{}\n{\"a\":1}\n");
  const std::string doc = R"({"a":{"b":[1,"x\u00e9"]},"c.d":2,"n":-5})";
  EXPECT_EQ(json_raw(doc, "a.b"), R"([1,"xé"])");
  EXPECT_EQ(json_raw(doc, "/a/b/0"), "1");
  EXPECT_EQ(json_string(doc, "/a/b/1"), "xé");
  EXPECT_EQ(json_string(doc, "/a/b/0"), std::nullopt);
  EXPECT_EQ(json_int(doc, "n"), -5);
  EXPECT_EQ(json_int(doc, "/c.d"), 2);
  EXPECT_EQ(json_raw(doc, "a.zz"), std::nullopt);
  EXPECT_EQ(json_raw("{not json", "a"), std::nullopt);
  EXPECT_TRUE(json_valid(doc));
  EXPECT_FALSE(json_valid(R"({"a":1)"));

  EXPECT_EQ(strip_annotation(R"({"a":1,"tamis":{"length":2}})"), R"({"a":1})");
  EXPECT_EQ(strip_annotation(R"({"tamis":{"reason":"x"}})"), "{}");
  EXPECT_EQ(strip_annotation(R"({"a":"\"tamis\":{","m":{"k":1},"tamis":{"detail":"\"tamis\":{"}})"),
            R"({"a":"\"tamis\":{","m":{"k":1}})");
  EXPECT_EQ(strip_annotation(R"({"a":1,"x":{"length":2}})", "x"), R"({"a":1})");
  EXPECT_EQ(strip_annotation(R"({"a":1})"), R"({"a":1})");
}

TEST(plugins_harness, RunsSeveralStagesAndReportsRefusals) {
  const std::string stages =
      "  a:\n    uses: filter.require\n    with: {fields: [t]}\n"
      "  b:\n    uses: filter.length\n    with: {field: t, min: 2}\n";
  const OpRun run = run_stages(stages, jsonl({R"({"id":"x"})", R"({"id":"y","t":"1"})", R"({"id":"z","t":"12"})"}));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"z"});
  ASSERT_EQ(run.rejections().size(), 2u);
  EXPECT_EQ(run.rejections()[0].stage, "a");
  EXPECT_EQ(run.rejections()[1].stage, "b");
  EXPECT_EQ(run.total("read"), 3);
  EXPECT_THROW(run.total("nonexistent"), std::runtime_error);
  // An unreadable line goes to the errors sink (on_error: skip).
  const OpRun bad = run_op("filter.require", "{fields: [t]}", jsonl({R"({"id":"x","t":"a"})", R"({"id":)"}));
  ASSERT_EQ(bad.exit_code, 0) << bad.describe();
  EXPECT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.ledger_ids("error"), Strings{"input.jsonl:2"});
  EXPECT_EQ(bad.total("errors"), 1);
  // A refused pipeline leaves every output empty.
  const OpRun refused = run_op("no.such.op", "{}", jsonl({R"({"id":"x"})"}));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("unknown op 'no.such.op'"), std::string::npos) << refused.err;
  EXPECT_TRUE(refused.kept.empty() && refused.rejected.empty() && refused.ledger.empty() && refused.report.empty());
}

// ============================================================================================
// filter.require
// ============================================================================================

TEST(plugins_basic_require, MissingNullAndMisspelledFieldsAreMissing) {
  const Strings in = {
      R"({"id":"a","answer":"4"})",
      R"({"id":"b"})",
      R"({"id":"c","answer":null})",
      R"({"id":"d","Answer":"4"})",
      R"({"id":"e","meta":{"answer":"4"}})",
  };
  const OpRun run = run_op("filter.require", "{fields: [answer]}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept, Strings{in[0]});  // a filter writes the kept record byte for byte
  const std::pair<std::string, std::string> missing = {"missing_field", "field 'answer' is missing or null"};
  expect_rejections(run, {{"b", missing}, {"c", missing}, {"d", missing}, {"e", missing}});
  expect_consistent(run, in.size());
}

TEST(plugins_basic_require, EmptyValuesAreRejectedByDefault) {
  const Strings in = {
      R"({"id":"e1","x":""})",
      R"({"id":"e2","x":"   "})",
      R"({"id":"e3","x":" \t\r\n "})",
      R"({"id":"e4","x":[]})",
      R"({"id":"e5","x":{}})",
      R"({"id":"e6","x":[ ]})",
      R"({"id":"e7","x":{ }})",
      R"({"id":"e8","x":"\u0020\u000A\u0009 \t"})",
      R"({"id":"k1","x":"0"})",
      R"({"id":"k2","x":0})",
      R"({"id":"k3","x":false})",
      R"({"id":"k4","x":" a "})",
      R"({"id":"k5","x":[null]})",
      R"({"id":"k6","x":{"a":null}})",
      R"({"id":"k7","x":[[]]})",
      R"({"id":"k8","x":"\u00e9"})",
      R"({"id":"k9","x":"\\"})",
      R"({"id":"k10","x":"\u00a0"})",
      R"({"id":"k11","x":"\t\u0009x"})",
  };
  const OpRun run = run_op("filter.require", "{fields: [x]}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11"}));
  EXPECT_EQ(run.kept, Strings(in.begin() + 8, in.end()));
  const std::pair<std::string, std::string> empty = {"empty_field", "field 'x' is empty"};
  expect_rejections(run, {{"e1", empty}, {"e2", empty}, {"e3", empty}, {"e4", empty}, {"e5", empty}, {"e6", empty}, {"e7", empty}, {"e8", empty}});
  expect_consistent(run, in.size());
}

TEST(plugins_basic_require, NonEmptyFalseKeepsEmptyValuesButNotMissingOnes) {
  const Strings in = {
      R"({"id":"e1","x":""})",
      R"({"id":"e2","x":"  "})",
      R"({"id":"e3","x":[]})",
      R"({"id":"e4","x":{}})",
      R"({"id":"m1"})",
      R"({"id":"m2","x":null})",
      R"({"id":"k1","x":"v"})",
  };
  const OpRun run = run_op("filter.require", "{fields: [x], non_empty: false}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"e1", "e2", "e3", "e4", "k1"}));
  const std::pair<std::string, std::string> missing = {"missing_field", "field 'x' is missing or null"};
  expect_rejections(run, {{"m1", missing}, {"m2", missing}});
  expect_consistent(run, in.size());
}

TEST(plugins_basic_require, TypeChecksEveryJsonType) {
  // id → the value of v and the type filter.require should see in it.
  const std::vector<std::tuple<std::string, std::string, std::string>> values = {
      {"str", R"("text")", "string"},
      {"estr", R"("")", "string"},
      {"int", "3", "integer"},
      {"neg", "-7", "integer"},
      {"zero", "0", "integer"},
      {"big", "18446744073709551615", "integer"},  // beyond int64: still an integer
      {"frac", "2.5", "number"},
      {"exp", "-1.25e-3", "number"},
      {"true", "true", "boolean"},
      {"false", "false", "boolean"},
      {"arr", "[1]", "array"},
      {"obj", R"({"a":1})", "object"},
  };
  Strings in;
  for (const auto& [id, v, t] : values) in.push_back(R"({"id":")" + id + R"(","v":)" + v + "}");
  const std::map<std::string, std::set<std::string>> accepts = {
      {"any", {"string", "integer", "number", "boolean", "array", "object"}},
      {"string", {"string"}},
      {"number", {"integer", "number"}},  // an integer is a number
      {"integer", {"integer"}},
      {"boolean", {"boolean"}},
      {"array", {"array"}},
      {"object", {"object"}},
  };
  for (const auto& [type, ok] : accepts) {
    SCOPED_TRACE("type: " + type);
    // non_empty: false, so that "" is judged by its type alone.
    const OpRun run = run_op("filter.require", "{fields: [v], type: " + type + ", non_empty: false}", jsonl(in));
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    Strings kept;
    std::vector<std::pair<std::string, std::pair<std::string, std::string>>> rejected;
    for (const auto& [id, v, t] : values) {
      if (ok.count(t)) kept.push_back(id);
      else rejected.push_back({id, {"wrong_type", "field 'v' is " + t + ", not " + type}});
    }
    EXPECT_EQ(run.kept_ids(), kept);
    expect_rejections(run, rejected);
    expect_consistent(run, in.size());
  }
}

TEST(plugins_basic_require, NullIsMissingAndTypeIsCheckedBeforeEmptiness) {
  const Strings in = {
      R"({"id":"null","v":null})",
      R"({"id":"blank","v":" "})",
      R"({"id":"emptyarr","v":[]})",
      R"({"id":"ok","v":"x"})",
  };
  const OpRun run = run_op("filter.require", "{fields: [v], type: string}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"ok"});
  expect_rejections(run, {{"null", {"missing_field", "field 'v' is missing or null"}},
                          {"blank", {"empty_field", "field 'v' is empty"}},
                          {"emptyarr", {"wrong_type", "field 'v' is array, not string"}}});
}

TEST(plugins_basic_require, NestedPathsAndJsonPointers) {
  const Strings in = {
      R"({"id":"n1","meta":{"level":3}})",
      R"({"id":"n2","meta":{"level":null}})",
      R"({"id":"n3","meta":{}})",
      R"({"id":"n4","meta":"level"})",
      R"({"id":"n5","level":3})",
      R"({"id":"n6","meta":{"level":""}})",
      R"({"id":"n7","meta":{"level":{"x":1}}})",
      R"({"id":"n8","meta":[{"level":1}]})",
  };
  for (const std::string path : {"meta.level", "/meta/level"}) {
    SCOPED_TRACE("path: " + path);
    const OpRun run = run_op("filter.require", "{fields: ['" + path + "']}", jsonl(in));
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept_ids(), (Strings{"n1", "n7"}));
    const std::pair<std::string, std::string> missing = {"missing_field", "field '" + path + "' is missing or null"};
    expect_rejections(run, {{"n2", missing}, {"n3", missing}, {"n4", missing}, {"n5", missing},
                            {"n6", {"empty_field", "field '" + path + "' is empty"}}, {"n8", missing}});
    expect_consistent(run, in.size());
  }
}

TEST(plugins_basic_require, PointerIntoArraysAndDeepPaths) {
  const Strings in = {
      R"({"id":"a","choices":["x","y"],"m":{"a":{"b":{"c":1}}}})",
      R"({"id":"b","choices":[],"m":{"a":{"b":{"c":1}}}})",
      R"({"id":"c","choices":[""],"m":{"a":{"b":{"c":1}}}})",
      R"({"id":"d","choices":["x"],"m":{"a":{"b":{}}}})",
  };
  const OpRun run = run_op("filter.require", "{fields: [/choices/0, m.a.b.c]}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"a"});
  expect_rejections(run, {{"b", {"missing_field", "field '/choices/0' is missing or null"}},
                          {"c", {"empty_field", "field '/choices/0' is empty"}},
                          {"d", {"missing_field", "field 'm.a.b.c' is missing or null"}}});
}

TEST(plugins_basic_require, KeyWithDotsIsFoundWhole) {
  const Strings in = {
      R"({"id":"a","meta.level":2})",
      R"({"id":"b","meta":{"level":2}})",
      R"({"id":"c","meta":{}})",
  };
  const OpRun run = run_op("filter.require", "{fields: [meta.level]}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"a", "b"}));
  EXPECT_EQ(run.rejected_ids(), Strings{"c"});
}

TEST(plugins_basic_require, TheFirstFailingFieldIsReported) {
  const Strings in = {
      R"({"id":"x"})",
      R"({"id":"y","problem":"p"})",
      R"({"id":"z","problem":"","answer":null})",
      R"({"id":"ok","problem":"p","answer":"a"})",
  };
  const OpRun run = run_op("filter.require", "{fields: [problem, answer]}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"ok"});
  expect_rejections(run, {{"x", {"missing_field", "field 'problem' is missing or null"}},
                          {"y", {"missing_field", "field 'answer' is missing or null"}},
                          {"z", {"empty_field", "field 'problem' is empty"}}});
}

TEST(plugins_basic_require, NumericIdsAndDefaultIds) {
  // With `id: id` a numeric id is the id; without it the records get content ids.
  const std::string in = jsonl({R"({"id":17,"x":"a"})", R"({"id":18})"});
  const OpRun with_ids = run_op("filter.require", "{fields: [x]}", in);
  ASSERT_EQ(with_ids.exit_code, 0) << with_ids.describe();
  EXPECT_EQ(with_ids.ledger_ids("kept"), Strings{"17"});
  EXPECT_EQ(with_ids.ledger_ids("rejected"), Strings{"18"});
  OpOptions o;
  o.id_field = "";
  const OpRun no_ids = run_op("filter.require", "{fields: [x]}", in, o);
  ASSERT_EQ(no_ids.exit_code, 0) << no_ids.describe();
  const Strings ids = content_ids("input", {R"({"id":17,"x":"a"})", R"({"id":18})"});
  EXPECT_EQ(no_ids.ledger_ids("kept"), Strings{ids[0]});
  EXPECT_EQ(no_ids.ledger_ids("rejected"), Strings{ids[1]});
}

TEST(plugins_basic_require, BadParametersAreRefusedAtValidation) {
  {
    const CommandResult r = validate_op("filter.require", "{non_empty: true}");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("stage 'stage': missing required parameter 'fields'"), std::string::npos) << r.err;
  }
  {
    const CommandResult r = validate_op("filter.require", "{fields: [x], type: float}");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("stage 'stage': parameter 'type' has value 'float'"), std::string::npos) << r.err;
  }
  {
    const CommandResult r = validate_op("filter.require", "{fields: [x], non_empty: maybe}");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("stage 'stage': parameter 'non_empty' must be true or false"), std::string::npos) << r.err;
  }
  const CommandResult ok = validate_op("filter.require", "{fields: [x, meta.level], type: integer, non_empty: false}");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// ============================================================================================
// filter.length
// ============================================================================================

struct Lengths {
  int chars, bytes, words;
};

// Records whose `t` has known lengths (code points, UTF-8 bytes of the unescaped text, words).
const std::vector<std::pair<std::string, Lengths>>& length_cases() {
  static const std::vector<std::pair<std::string, Lengths>> cases = {
      {R"({"id":"ascii","t":"hello"})", {5, 5, 1}},
      {R"({"id":"zh","t":"你好，世界"})", {5, 15, 1}},
      {R"({"id":"ru","t":"Привет, мир"})", {11, 20, 2}},
      {R"({"id":"emoji","t":"😀👍🏽"})", {3, 12, 1}},           // a skin-tone modifier is a code point
      {R"({"id":"esc","t":"caf\u00e9 \"x\""})", {8, 9, 2}},      // escapes count as what they stand for
      {R"({"id":"pair","t":"\ud83d\ude00!"})", {2, 5, 1}},       // a surrogate pair is one code point
      {R"({"id":"comb","t":"e\u0301"})", {2, 3, 1}},             // e + combining accent: two code points
      {R"({"id":"empty","t":""})", {0, 0, 0}},
      {R"({"id":"ws","t":"  two\twords \n"})", {13, 13, 2}},
      {R"({"id":"lines","t":"a\nb\r\nc\fd\u000be"})", {10, 10, 5}},
  };
  return cases;
}

TEST(plugins_basic_length, MeasuresCharsBytesAndWords) {
  Strings in;
  for (const auto& c : length_cases()) in.push_back(c.first);
  for (const std::string unit : {"chars", "bytes", "words"}) {
    SCOPED_TRACE("unit: " + unit);
    const OpRun run = run_op("filter.length", "{field: t, unit: " + unit + ", annotate: true}", jsonl(in));
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    ASSERT_EQ(run.kept.size(), in.size()) << run.describe();
    for (size_t i = 0; i < in.size(); ++i) {
      const Lengths& l = length_cases()[i].second;
      const int n = unit == "chars" ? l.chars : unit == "bytes" ? l.bytes : l.words;
      EXPECT_EQ(run.kept[i], with_annotations(in[i], "\"length\":" + std::to_string(n)));
    }
  }
}

TEST(plugins_basic_length, BoundsAreInclusive) {
  const Strings in = {
      R"({"id":"l2","t":"ab"})",
      R"({"id":"l3","t":"abc"})",
      R"({"id":"l4","t":"abcd"})",
      R"({"id":"l5","t":"abcde"})",
      R"({"id":"l6","t":"abcdef"})",
      R"({"id":"ja","t":"日本語"})",
  };
  {
    const OpRun run = run_op("filter.length", "{field: t, min: 3, max: 5}", jsonl(in));
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept_ids(), (Strings{"l3", "l4", "l5", "ja"}));
    EXPECT_EQ(run.kept, (Strings{in[1], in[2], in[3], in[5]}));  // no annotate: original bytes
    expect_rejections(run, {{"l2", {"too_short", "2 chars < min 3"}}, {"l6", {"too_long", "6 chars > max 5"}}});
    expect_consistent(run, in.size());
  }
  {
    const OpRun run = run_op("filter.length", "{field: t, unit: bytes, min: 3, max: 5}", jsonl(in));
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept_ids(), (Strings{"l3", "l4", "l5"}));
    expect_rejections(run, {{"l2", {"too_short", "2 bytes < min 3"}},
                            {"l6", {"too_long", "6 bytes > max 5"}},
                            {"ja", {"too_long", "9 bytes > max 5"}}});
  }
  {
    const OpRun run = run_op("filter.length", "{field: t, min: 4, max: 4}", jsonl(in));
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept_ids(), Strings{"l4"});
  }
}

TEST(plugins_basic_length, WordBounds) {
  const Strings in = {
      R"({"id":"w1","t":"one"})",
      R"({"id":"w2","t":" one  two "})",
      R"({"id":"w3","t":"раз два три"})",
      R"({"id":"w4","t":"a b c d"})",
  };
  const OpRun run = run_op("filter.length", "{field: t, unit: words, min: 2, max: 3}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"w2", "w3"}));
  expect_rejections(run, {{"w1", {"too_short", "1 words < min 2"}}, {"w4", {"too_long", "4 words > max 3"}}});
}

TEST(plugins_basic_length, MaxMinusOneIsUnbounded) {
  const std::string long_text(100000, 'x');
  const Strings in = {
      R"({"id":"long","t":")" + long_text + R"("})",
      R"({"id":"empty","t":""})",
      R"({"id":"one","t":"é"})",
  };
  const OpRun run = run_op("filter.length", "{field: t, min: 1, max: -1}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), (Strings{"long", "one"}));
  EXPECT_EQ(run.kept[0], in[0]);
  expect_rejections(run, {{"empty", {"too_short", "0 chars < min 1"}}});
  // The defaults are min 0 and max -1: everything with a string field passes.
  const OpRun defaults = run_op("filter.length", "{field: t}", jsonl(in));
  ASSERT_EQ(defaults.exit_code, 0) << defaults.describe();
  EXPECT_EQ(defaults.kept, in);
}

TEST(plugins_basic_length, MaxZeroKeepsOnlyEmptyText) {
  const Strings in = {R"({"id":"e","t":""})", R"({"id":"s","t":" "})"};
  const OpRun run = run_op("filter.length", "{field: t, max: 0}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), Strings{"e"});
  expect_rejections(run, {{"s", {"too_long", "1 chars > max 0"}}});
}

TEST(plugins_basic_length, MissingAndNonStringFields) {
  const Strings in = {
      R"({"id":"missing"})",
      R"({"id":"null","t":null})",
      R"({"id":"num","t":42})",
      R"({"id":"arr","t":["a"]})",
      R"({"id":"obj","t":{"a":"b"}})",
      R"({"id":"bool","t":true})",
      R"({"id":"ok","t":"fine"})",
  };
  const OpRun run = run_op("filter.length", "{field: t, annotate: true}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept, Strings{with_annotations(in[6], "\"length\":4")});
  const std::pair<std::string, std::string> missing = {"missing_field", "field 't' is missing"};
  const std::pair<std::string, std::string> not_string = {"not_a_string", "field 't' is not a string"};
  expect_rejections(run, {{"missing", missing}, {"null", missing}, {"num", not_string},
                          {"arr", not_string}, {"obj", not_string}, {"bool", not_string}});
  // A record that could not be measured carries no length.
  for (const auto& line : run.rejected) EXPECT_EQ(run.annotation(line, "length"), std::nullopt) << line;
  expect_consistent(run, in.size());
}

TEST(plugins_basic_length, AnnotateWritesLengthOnKeptAndRejectedRecords) {
  const Strings in = {
      R"({"id":"s","t":"ab"})",
      R"({"id":"k","n":1.50,"t":"d\u00e9j\u00e0"})",
      R"({})",
  };
  OpOptions o;
  o.id_field = "";  // the last record has no id
  const OpRun run = run_op("filter.length", "{field: t, min: 3, annotate: true}", jsonl(in), o);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  const Strings ids = content_ids("input", in);
  EXPECT_EQ(run.kept, Strings{with_annotations(in[1], provenance(ids[1]) + ",\"length\":4")});
  EXPECT_EQ(run.rejected,
            (Strings{with_annotations(in[0], provenance(ids[0]) + R"(,"length":2,"rejected_by":"stage","reason":"too_short","detail":"2 chars < min 3")"),
                     with_annotations(in[2], provenance(ids[2]) + R"(,"rejected_by":"stage","reason":"missing_field","detail":"field 't' is missing")")}));
  EXPECT_EQ(strip_annotation(run.kept[0]), in[1]);
  EXPECT_EQ(strip_annotation(run.rejected[1]), in[2]);
  // Without annotate the kept record is its input bytes with its provenance, and with `id:` its bytes alone.
  const OpRun plain = run_op("filter.length", "{field: t, min: 3}", jsonl(in), o);
  ASSERT_EQ(plain.exit_code, 0) << plain.describe();
  EXPECT_EQ(plain.kept, Strings{with_annotations(in[1], provenance(ids[1]))});
  const OpRun with_ids = run_op("filter.length", "{field: t, min: 3}", jsonl({in[0], in[1]}));
  ASSERT_EQ(with_ids.exit_code, 0) << with_ids.describe();
  EXPECT_EQ(with_ids.kept, Strings{in[1]});
}

TEST(plugins_basic_length, AnnotationFieldCanBeRenamed) {
  const Strings in = {R"({"id":"a","t":"abc"})"};
  OpOptions o;
  o.annotation_field = "_meta";
  const OpRun run = run_op("filter.length", "{field: t, annotate: true}", jsonl(in), o);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept, Strings{R"({"id":"a","t":"abc","_meta":{"length":3}})"});
  EXPECT_EQ(run.annotation(run.kept[0], "length"), "3");
}

TEST(plugins_basic_length, NestedField) {
  const Strings in = {
      R"({"id":"a","meta":{"text":"abcd"}})",
      R"({"id":"b","meta":{"text":"ab"}})",
      R"({"id":"c","meta":{}})",
  };
  for (const std::string path : {"meta.text", "/meta/text"}) {
    SCOPED_TRACE(path);
    const OpRun run = run_op("filter.length", "{field: '" + path + "', min: 3}", jsonl(in));
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept_ids(), Strings{"a"});
    expect_rejections(run, {{"b", {"too_short", "2 chars < min 3"}}, {"c", {"missing_field", "field '" + path + "' is missing"}}});
  }
}

TEST(plugins_basic_length, MaxBelowMinIsRefusedNamingTheStage) {
  OpOptions o;
  o.stage = "question_length";
  const CommandResult v = validate_op("filter.length", "{field: t, min: 5, max: 3}", o);
  EXPECT_EQ(v.exit_code, 2) << v.err;
  EXPECT_NE(v.err.find("error: stage 'question_length': max (3) is below min (5)"), std::string::npos) << v.err;
  EXPECT_NE(v.err.find("tamis: 1 error in "), std::string::npos) << v.err;
  // `run` refuses it too, before reading anything.
  const OpRun run = run_op("filter.length", "{field: t, min: 5, max: 3}", jsonl({R"({"id":"a","t":"abcd"})"}), o);
  EXPECT_EQ(run.exit_code, 2) << run.describe();
  EXPECT_NE(run.err.find("stage 'question_length': max (3) is below min (5)"), std::string::npos) << run.err;
  EXPECT_TRUE(run.kept.empty());
  EXPECT_TRUE(run.ledger.empty());
  EXPECT_EQ(run.report, "");
  // So does a --set that makes the combination bad.
  o.args = {"--set", "question_length.max=2"};
  const OpRun set = run_op("filter.length", "{field: t, min: 3, max: 10}", jsonl({R"({"id":"a","t":"abcd"})"}), o);
  EXPECT_EQ(set.exit_code, 2) << set.describe();
  EXPECT_NE(set.err.find("stage 'question_length': max (2) is below min (3)"), std::string::npos) << set.err;
}

TEST(plugins_basic_length, OtherBadParametersAreRefused) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{field: t, min: -1}", "stage 'stage': min must be >= 0"},
      {"{field: t, max: -2}", "stage 'stage': max must be >= 0, or -1 for no limit"},
      {"{field: t, unit: lines}", "stage 'stage': parameter 'unit' has value 'lines'"},
      {"{field: t, min: 2.5}", "stage 'stage': parameter 'min' must be an integer"},
      {"{min: 1}", "stage 'stage': missing required parameter 'field'"},
      {"{field: t, mni: 1}", "stage 'stage': op 'filter.length' has no parameter 'mni'"},
  };
  for (const auto& [with, message] : bad) {
    SCOPED_TRACE(with);
    const CommandResult r = validate_op("filter.length", with);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  }
  for (const std::string with : {"{field: t, min: 3, max: 3}", "{field: t, min: 0, max: 0}", "{field: t, min: 9, max: -1}"}) {
    const CommandResult r = validate_op("filter.length", with);
    EXPECT_EQ(r.exit_code, 0) << with << "\n" << r.err;
  }
}

// ============================================================================================
// map.rename
// ============================================================================================

TEST(plugins_basic_rename, RenamesAField) {
  const Strings in = {
      R"({"id":"a","question":"What is 2+2?","answer":"4"})",
      R"({"id":"b","problem":"already named","answer":"5"})",
      R"({ "id" : "c" ,  "answer":"6" , "x": [1, 2] })",
      R"({})",
  };
  OpOptions o;
  o.id_field = "";
  const OpRun run = run_op("map.rename", "{question: problem}", jsonl(in), o);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  const Strings ids = content_ids("input", in);  // of the records as read, before the rename
  EXPECT_EQ(run.kept, (Strings{with_annotations(R"({"id":"a","problem":"What is 2+2?","answer":"4"})", provenance(ids[0])),
                               with_annotations(in[1], provenance(ids[1])), with_annotations(in[2], provenance(ids[2])),
                               with_annotations(in[3], provenance(ids[3]))}));
  EXPECT_TRUE(run.rejected.empty());
  EXPECT_EQ(run.ledger_ids("kept").size(), in.size());
  EXPECT_EQ(run.total("kept"), 4);
}

TEST(plugins_basic_rename, RenamingOntoAnExistingFieldReplacesIt) {
  const Strings in = {
      R"({"id":"a","problem":"old","question":"new"})",
      R"({"id":"b","question":"new","problem":"old","answer":"x"})",
      R"({"id":"c","problem":"only the old one"})",
  };
  const OpRun run = run_op("map.rename", "{question: problem}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept, (Strings{R"({"id":"a","problem":"new"})", R"({"id":"b","problem":"new","answer":"x"})", in[2]}));
}

TEST(plugins_basic_rename, SwapsAndChains) {
  const Strings in = {R"({"id":"s","a":1,"b":2,"c":3})"};
  const OpRun swap = run_op("map.rename", "{a: b, b: a}", jsonl(in));
  ASSERT_EQ(swap.exit_code, 0) << swap.describe();
  EXPECT_EQ(swap.kept, Strings{R"({"id":"s","b":1,"a":2,"c":3})"});
  const OpRun chain = run_op("map.rename", "{a: b, b: c}", jsonl(in));
  ASSERT_EQ(chain.exit_code, 0) << chain.describe();
  EXPECT_EQ(chain.kept, Strings{R"({"id":"s","b":1,"c":2})"});
}

TEST(plugins_basic_rename, Drops) {
  const Strings in = {
      R"({"id":"a","source":"x","problem":"p","meta":{"k":[1,{"x":"}]\""}]}})",
      R"({"id":"b","problem":"p"})",
      R"({"meta":1,"id":"c"})",
      R"({"source":"only"})",
  };
  OpOptions o;
  o.id_field = "";
  const OpRun run = run_op("map.rename", "{drop: [source, meta, absent]}", jsonl(in), o);
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  const Strings ids = content_ids("input", in);
  EXPECT_EQ(run.kept, (Strings{with_annotations(R"({"id":"a","problem":"p"})", provenance(ids[0])),
                               with_annotations(in[1], provenance(ids[1])), with_annotations(R"({"id":"c"})", provenance(ids[2])),
                               with_annotations("{}", provenance(ids[3]))}));
}

TEST(plugins_basic_rename, KeepsOnlyListedFieldsInTheirOriginalOrder) {
  const Strings in = {
      R"({"answer":"4","problem":"p","id":"a","extra":[1,2]})",
      R"({"id":"b","problem":"p"})",
      R"({"id": "c",   "problem": "p"})",
      R"({"id":"d"})",
  };
  const OpRun run = run_op("map.rename", "{keep: [id, problem]}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  // Records already holding only kept fields are not rewritten.
  EXPECT_EQ(run.kept, (Strings{R"({"problem":"p","id":"a"})", in[1], in[2], in[3]}));
  OpOptions no_ids;
  no_ids.id_field = "";
  const OpRun none = run_op("map.rename", "{keep: []}", jsonl({in[0]}), no_ids);
  ASSERT_EQ(none.exit_code, 0) << none.describe();
  EXPECT_EQ(none.kept, Strings{with_annotations("{}", provenance(content_ids("input", {in[0]})[0]))});
}

TEST(plugins_basic_rename, RenameDropAndKeepTogether) {
  const Strings in = {
      R"({"id":"a","source":"gsm8k","question":"q","answer":"4","meta":{"x":1}})",
      R"({"id":"b","problem":"p","answer":"5"})",
  };
  // keep names fields after renaming; drop removes `source` although keep would not list it anyway.
  const OpRun run = run_op("map.rename", "{question: problem, drop: [source, answer], keep: [id, problem, answer]}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept, (Strings{R"({"id":"a","problem":"q"})", R"({"id":"b","problem":"p"})"}));
}

TEST(plugins_basic_rename, ValuesKeepTheirExactBytes) {
  const std::string tail =
      R"("w":1.50,"e":1e-3,"E":1E+2,"neg":-0.0,"z":0.1000,"big":9007199254740993,)"
      R"("nested":{"a": [1, 2.50, "}"], "b" : null},"uni":"日本語 😀 \u00e9\ud83d\ude00","t":true,"n":null})";
  const std::string text = R"("caf\u00e9 \"quoted\" back\\slash \/ tab\t end")";
  const Strings in = {R"({"id":"v","question":)" + text + "," + tail};
  const OpRun run = run_op("map.rename", "{question: problem}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept, Strings{R"({"id":"v","problem":)" + text + "," + tail});
  // And through drop: the other values are untouched.
  const OpRun drop = run_op("map.rename", "{drop: [question]}", jsonl(in));
  ASSERT_EQ(drop.exit_code, 0) << drop.describe();
  EXPECT_EQ(drop.kept, Strings{R"({"id":"v",)" + tail});
}

TEST(plugins_basic_rename, ARecordNeedingNoChangeIsWrittenByteForByte) {
  const Strings in = {
      R"({ "id" : "a",	"answer" : 1.50 , "meta" : { "k" : "\u00e9" } })",
      R"({"id":"b","problem":"\"x\"","n":1e-3})",
  };
  for (const std::string with : {"{question: problem}", "{drop: [question]}", "{keep: [id, answer, meta, problem, n]}"}) {
    SCOPED_TRACE(with);
    const OpRun run = run_op("map.rename", with, jsonl(in));
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.kept, in);
  }
}

TEST(plugins_basic_rename, KeepsTheBytesBetweenFieldsAsItsSummarySays) {
  // map.rename's summary: "leaving every other byte of the record as it was". The spaces after
  // the colons and commas of a typical `json.dumps` line are such bytes.
  const Strings in = {R"({"id": "w", "question": "q", "answer": "a"})"};
  const OpRun run = run_op("map.rename", "{question: problem}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept, Strings{R"({"id": "w", "problem": "q", "answer": "a"})"});
}

TEST(plugins_basic_rename, NewNamesAreWrittenAsJsonStrings) {
  const Strings in = {R"({"id":"x","q":"v","r":"w"})"};
  // A name with a quote or a backslash must be escaped in the output; UTF-8 passes as is.
  const OpRun run = run_op("map.rename", R"({q: 'say "hi"', r: "café\\x"})", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  ASSERT_EQ(run.kept.size(), 1u);
  EXPECT_TRUE(json_valid(run.kept[0])) << run.kept[0];
  EXPECT_EQ(json_string(run.kept[0], R"(/say "hi")"), "v") << run.kept[0];
  EXPECT_EQ(json_string(run.kept[0], R"(/café\x)"), "w") << run.kept[0];
}

TEST(plugins_basic_rename, LaterStagesSeeTheNewNames) {
  const std::string stages =
      "  fields:\n    uses: map.rename\n    with: {question: problem}\n"
      "  need:\n    uses: filter.require\n    with: {fields: [problem]}\n"
      "  len:\n    uses: filter.length\n    with: {field: problem, annotate: true}\n";
  const Strings in = {R"({"id":"a","question":"abc"})", R"({"id":"b","answer":"1"})"};
  const OpRun run = run_stages(stages, jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept, Strings{R"({"id":"a","problem":"abc","tamis":{"length":3}})"});
  expect_rejections(run, {{"b", {"missing_field", "field 'problem' is missing or null"}}}, "need");
}

TEST(plugins_basic_rename, NothingToDoIsRefusedAtValidation) {
  OpOptions o;
  o.stage = "fields";
  const CommandResult r = validate_op("map.rename", "{}", o);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("error: stage 'fields': nothing to do: give renames (old: new), drop or keep"), std::string::npos)
      << r.err;
  for (const std::string with : {"{question: problem}", "{drop: [x]}", "{keep: [id]}"}) {
    const CommandResult good = validate_op("map.rename", with);
    EXPECT_EQ(good.exit_code, 0) << with << "\n" << good.err;
  }
}

TEST(plugins_basic_rename, ANonStringNewNameIsRefusedNamingTheField) {
  // The rename rows share the catch-all parameter row "*"; the message should name the field the
  // user wrote, not "*".
  const CommandResult bad = validate_op("map.rename", "{question: [a, b]}");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("stage 'stage': parameter 'question' must be a single string"), std::string::npos) << bad.err;
}

// ============================================================================================
// Validation messages point at the parameter
// ============================================================================================

TEST(plugins_basic_validation, ParameterErrorsGiveTheParametersLine) {
  // The contract: errors come "with file, line and column". In the pipeline run_op writes, `with:` is
  // on line 10 (checked here, so that a change of the harness shows up as such).
  const std::string pipeline = op_pipeline("filter.length", "{field: t, min: abc}");
  ASSERT_EQ(read_lines_of(pipeline).at(9), "    with: {field: t, min: abc}") << pipeline;
  const CommandResult type_error = validate_op("filter.length", "{field: t, min: abc}");
  EXPECT_EQ(type_error.exit_code, 2) << type_error.err;
  EXPECT_NE(type_error.err.find("pipeline.yaml:10:"), std::string::npos) << type_error.err;
  EXPECT_NE(type_error.err.find("error: stage 'stage': parameter 'min' must be an integer, got 'abc'"), std::string::npos)
      << type_error.err;
  const CommandResult unknown = validate_op("filter.length", "{field: t, mni: 1}");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_NE(unknown.err.find("pipeline.yaml:10:"), std::string::npos) << unknown.err;
  // A cross-parameter check (Length::check) already points at `with:`.
  const CommandResult check = validate_op("filter.length", "{field: t, min: 5, max: 3}");
  EXPECT_EQ(check.exit_code, 2) << check.err;
  EXPECT_NE(check.err.find("pipeline.yaml:10:11: error: stage 'stage': max (3) is below min (5)"), std::string::npos)
      << check.err;
}

TEST(plugins_basic_validation, AStageWithoutWithIsCheckedLikeAnEmptyOne) {
  // No `with:` at all means no parameters: the same errors as `with: {}`, exit 2.
  {
    OpOptions o;
    o.stage = "fields";
    const CommandResult r = validate_op("map.rename", "", o);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("error: stage 'fields': nothing to do: give renames (old: new), drop or keep"), std::string::npos)
        << r.err;
  }
  {
    const CommandResult r = validate_op("sample", "");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("stage 'stage': missing required parameter 'fraction'"), std::string::npos) << r.err;
  }
}

// ============================================================================================
// sample
// ============================================================================================

std::string sample_id(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "rec-%05d", i);
  return buf;
}

// 20,000 records with ids rec-00000 … rec-19999.
const Strings& sample_records() {
  static const Strings records = [] {
    Strings out;
    for (int i = 0; i < 20000; ++i) out.push_back(R"({"id":")" + sample_id(i) + R"(","n":)" + std::to_string(i) + "}");
    return out;
  }();
  return records;
}

std::set<std::string> as_set(const Strings& v) { return {v.begin(), v.end()}; }

TEST(plugins_basic_sample, KeepsTheFractionOf20000Records) {
  const OpRun run = run_op("sample", "{fraction: 0.3, seed: 7}", jsonl(sample_records()));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  const double share = static_cast<double>(run.kept.size()) / 20000.0;
  EXPECT_NEAR(share, 0.3, 0.015) << run.kept.size() << " kept";
  EXPECT_EQ(run.kept.size() + run.rejected.size(), 20000u);
  expect_consistent(run, 20000);
  // Kept and rejected records partition the input, each in input order, bytes unchanged.
  Strings kept_expected, rejected_ids;
  const std::set<std::string> kept = as_set(run.kept_ids());
  for (int i = 0; i < 20000; ++i) {
    if (kept.count(sample_id(i))) kept_expected.push_back(sample_records()[i]);
    else rejected_ids.push_back(sample_id(i));
  }
  EXPECT_EQ(run.kept, kept_expected);
  EXPECT_EQ(run.rejected_ids(), rejected_ids);
  for (const auto& v : run.rejections()) {
    ASSERT_EQ(v.reason, "sampled_out");
    ASSERT_EQ(v.detail, "not in the 0.3 sample (seed 7)");
  }
}

TEST(plugins_basic_sample, SelectionIsTheSeededXxh3OfTheId) {
  // Pins the documented rule, so that a pipeline rerun after an upgrade samples the same records:
  // keep when XXH3_64(id, seed) < fraction · 2^64.
  const double fraction = 0.3;
  const uint64_t seed = 7;
  const auto threshold = static_cast<uint64_t>(std::ldexp(fraction, 64));
  Strings expected;
  for (int i = 0; i < 20000; ++i) {
    const std::string id = sample_id(i);
    if (XXH3_64bits_withSeed(id.data(), id.size(), seed) < threshold) expected.push_back(id);
  }
  const OpRun run = run_op("sample", "{fraction: 0.3, seed: 7}", jsonl(sample_records()));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.kept_ids(), expected);
}

TEST(plugins_basic_sample, SameSeedSameSelectionAcrossRunsAndThreads) {
  const std::string in = jsonl(sample_records());
  const OpRun one = run_op("sample", "{fraction: 0.3, seed: 7}", in, 1);
  const OpRun two = run_op("sample", "{fraction: 0.3, seed: 7}", in, 2);
  const OpRun again = run_op("sample", "{fraction: 0.3, seed: 7}", in, 2);
  ASSERT_EQ(one.exit_code, 0) << one.describe();
  ASSERT_EQ(two.exit_code, 0) << two.describe();
  ASSERT_EQ(again.exit_code, 0) << again.describe();
  EXPECT_EQ(one.kept, two.kept);
  EXPECT_EQ(one.rejected, two.rejected);
  EXPECT_EQ(one.ledger, two.ledger);
  EXPECT_EQ(two.kept, again.kept);
  EXPECT_EQ(two.ledger, again.ledger);
  // Also with default ids (FILE:LINE).
  OpOptions o;
  o.id_field = "";
  o.threads = 1;
  const OpRun d1 = run_op("sample", "{fraction: 0.5}", in, o);
  o.threads = 2;
  const OpRun d2 = run_op("sample", "{fraction: 0.5}", in, o);
  ASSERT_EQ(d1.exit_code, 0) << d1.describe();
  EXPECT_EQ(d1.kept, d2.kept);
  EXPECT_EQ(d1.ledger, d2.ledger);
  EXPECT_NEAR(static_cast<double>(d1.kept.size()) / 20000.0, 0.5, 0.015);
}

TEST(plugins_basic_sample, AnotherSeedPicksAnotherSample) {
  const std::string in = jsonl(sample_records());
  const OpRun s7 = run_op("sample", "{fraction: 0.3, seed: 7}", in);
  const OpRun s8 = run_op("sample", "{fraction: 0.3, seed: 8}", in);
  ASSERT_EQ(s7.exit_code, 0) << s7.describe();
  ASSERT_EQ(s8.exit_code, 0) << s8.describe();
  EXPECT_NEAR(static_cast<double>(s8.kept.size()) / 20000.0, 0.3, 0.015);
  const std::set<std::string> a = as_set(s7.kept_ids()), b = as_set(s8.kept_ids());
  EXPECT_NE(a, b);
  // Independent samples overlap on about 0.3 · 0.3 of the records (1800; 5 sigma is 200).
  size_t both = 0;
  for (const auto& id : a) both += b.count(id);
  EXPECT_GE(both, 1600u);
  EXPECT_LE(both, 2000u);
  EXPECT_EQ(s8.rejections().at(0).detail, "not in the 0.3 sample (seed 8)");
}

TEST(plugins_basic_sample, ARecordsFateDoesNotDependOnTheOtherRecords) {
  const OpRun full = run_op("sample", "{fraction: 0.3, seed: 7}", jsonl(sample_records()));
  ASSERT_EQ(full.exit_code, 0) << full.describe();
  const std::set<std::string> kept_in_full = as_set(full.kept_ids());
  // Every 7th record, in reverse order, with its other fields changed.
  Strings subset;
  std::set<std::string> expected;
  for (int i = 19999; i >= 0; --i) {
    if (i % 7 != 3) continue;
    subset.push_back(R"({"other":"changed","id":")" + sample_id(i) + R"("})");
    if (kept_in_full.count(sample_id(i))) expected.insert(sample_id(i));
  }
  const OpRun part = run_op("sample", "{fraction: 0.3, seed: 7}", jsonl(subset), 1);
  ASSERT_EQ(part.exit_code, 0) << part.describe();
  EXPECT_EQ(as_set(part.kept_ids()), expected);
  EXPECT_EQ(part.kept.size() + part.rejected.size(), subset.size());
}

TEST(plugins_basic_sample, FractionZeroKeepsNoneAndOneKeepsAll) {
  Strings in(sample_records().begin(), sample_records().begin() + 1000);
  const OpRun none = run_op("sample", "{fraction: 0}", jsonl(in));
  ASSERT_EQ(none.exit_code, 0) << none.describe();
  EXPECT_TRUE(none.kept.empty());
  EXPECT_EQ(none.rejected.size(), 1000u);
  EXPECT_EQ(none.rejections().at(0).detail, "not in the 0 sample (seed 0)");
  const OpRun all = run_op("sample", "{fraction: 1}", jsonl(in));
  ASSERT_EQ(all.exit_code, 0) << all.describe();
  EXPECT_EQ(all.kept, in);
}

TEST(plugins_basic_sample, KeyFieldKeepsDuplicatesTogether) {
  // 300 problems, 3 copies each under distinct ids, spread through the file; one copy spells the
  // problem with a JSON escape, which is still the same problem.
  constexpr int kProblems = 300;
  Strings in;
  for (int copy = 0; copy < 3; ++copy) {
    for (int p = 0; p < kProblems; ++p) {
      const std::string n = std::to_string(p);
      const std::string problem = (copy == 2 ? "\\u0050roblem " : "Problem ") + n + ": what is " + n + " + 1?";
      in.push_back(R"({"id":"c)" + std::to_string(copy) + "-" + n + R"(","problem":")" + problem + R"("})");
    }
  }
  const OpRun run = run_op("sample", "{fraction: 0.5, seed: 3, key: problem}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  const std::set<std::string> kept = as_set(run.kept_ids());
  int kept_groups = 0, split_groups = 0;
  for (int p = 0; p < kProblems; ++p) {
    int n = 0;
    for (int copy = 0; copy < 3; ++copy) n += kept.count("c" + std::to_string(copy) + "-" + std::to_string(p));
    if (n == 3) ++kept_groups;
    else if (n != 0) ++split_groups;
  }
  EXPECT_EQ(split_groups, 0);
  EXPECT_EQ(kept.size(), static_cast<size_t>(3 * kept_groups));
  EXPECT_GE(kept_groups, 105);  // 150 ± 5 sigma
  EXPECT_LE(kept_groups, 195);
  // By id, the copies of a problem go their own ways.
  const OpRun by_id = run_op("sample", "{fraction: 0.5, seed: 3}", jsonl(in));
  ASSERT_EQ(by_id.exit_code, 0) << by_id.describe();
  const std::set<std::string> kept_by_id = as_set(by_id.kept_ids());
  int split_by_id = 0;
  for (int p = 0; p < kProblems; ++p) {
    int n = 0;
    for (int copy = 0; copy < 3; ++copy) n += kept_by_id.count("c" + std::to_string(copy) + "-" + std::to_string(p));
    split_by_id += n != 0 && n != 3;
  }
  EXPECT_GT(split_by_id, 100);
}

TEST(plugins_basic_sample, KeyFieldWithNonStringValues) {
  // Non-string keys are compared as compact JSON: whitespace inside them does not matter.
  Strings in;
  for (int g = 0; g < 200; ++g) {
    const std::string n = std::to_string(g);
    in.push_back(R"({"id":"a)" + n + R"(","k":[)" + n + R"(,{"x":true}]})");
    in.push_back(R"({"id":"b)" + n + R"(","k":[ )" + n + R"( , { "x" : true } ]})");
  }
  const OpRun run = run_op("sample", "{fraction: 0.5, key: k}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  const std::set<std::string> kept = as_set(run.kept_ids());
  int pairs = 0;
  for (int g = 0; g < 200; ++g) {
    const bool a = kept.count("a" + std::to_string(g)) > 0, b = kept.count("b" + std::to_string(g)) > 0;
    EXPECT_EQ(a, b) << "group " << g;
    pairs += a;
  }
  EXPECT_GE(pairs, 65);  // 100 ± 5 sigma
  EXPECT_LE(pairs, 135);
}

TEST(plugins_basic_sample, MissingKeyFieldIsRejected) {
  const Strings in = {R"({"id":"a"})", R"({"id":"b","problem":"p"})", R"({"id":"c","problem":null})"};
  const OpRun run = run_op("sample", "{fraction: 1, key: problem}", jsonl(in));
  ASSERT_EQ(run.exit_code, 0) << run.describe();
  // fraction 1 keeps every record that has a key; null is a value like any other.
  EXPECT_EQ(run.kept_ids(), (Strings{"b", "c"}));
  expect_rejections(run, {{"a", {"missing_field", "sample key field 'problem' is missing"}}});
}

TEST(plugins_basic_sample, FractionOutsideZeroOneIsRefused) {
  for (const std::string f : {"1.5", "-0.1", "2", "1.0000001"}) {
    SCOPED_TRACE("fraction: " + f);
    OpOptions o;
    o.stage = "subsample";
    const CommandResult r = validate_op("sample", "{fraction: " + f + "}", o);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("error: stage 'subsample': fraction must be within [0, 1]"), std::string::npos) << r.err;
  }
  {
    // Not a number at all: refused as a type error.
    const CommandResult r = validate_op("sample", "{fraction: .nan}");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("stage 'stage': parameter 'fraction' must be a number, got '.nan'"), std::string::npos) << r.err;
  }
  {
    const CommandResult r = validate_op("sample", "{seed: 1}");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("stage 'stage': missing required parameter 'fraction'"), std::string::npos) << r.err;
  }
  {
    const CommandResult r = validate_op("sample", "{fraction: half}");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("stage 'stage': parameter 'fraction' must be a number"), std::string::npos) << r.err;
  }
  for (const std::string f : {"0", "1", "0.3", "1e-3"}) {
    const CommandResult r = validate_op("sample", "{fraction: " + f + "}");
    EXPECT_EQ(r.exit_code, 0) << f << "\n" << r.err;
  }
}

// ============================================================================================
// Real data: GSM8K train through filter.require + filter.length
// ============================================================================================

// Unicode code points in valid UTF-8.
int64_t code_points(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

TEST(plugins_basic_real_data, Gsm8kTrainBalancesAndKeepsBytes) {
  const fs::path data = shared_data("gsm8k/train.jsonl");
  if (data.empty()) GTEST_SKIP() << "../shared/data/gsm8k/train.jsonl is absent";
  const Strings input = read_lines(data);
  const std::string stages =
      "  require:\n    uses: filter.require\n    with: {fields: [question, answer], type: string}\n"
      "  length:\n    uses: filter.length\n    with: {field: question, min: 80, max: 300, annotate: true}\n";
  OpOptions o;
  o.input = data;
  o.id_field = "";
  const OpRun run = run_stages(stages, "", o);
  ASSERT_EQ(run.exit_code, 0) << run.describe();

  // Counts balance, in the report and in the sinks.
  const int64_t read = run.total("read"), kept = run.total("kept"), rejected = run.total("rejected"), errors = run.total("errors");
  EXPECT_EQ(read, kept + rejected + errors);
  EXPECT_EQ(read, static_cast<int64_t>(input.size()));
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(static_cast<int64_t>(run.kept.size()), kept);
  EXPECT_EQ(static_cast<int64_t>(run.rejected.size()), rejected);
  EXPECT_EQ(run.ledger.size(), input.size());
  EXPECT_EQ(json_raw(run.report, "/totals/balanced"), "true");

  // Walk the ledger: each record's output line is its input line plus the annotation, and its
  // verdict follows from its length, measured here independently.
  const Strings ids = content_ids("input", input);
  size_t k = 0, r = 0;
  int64_t short_n = 0, long_n = 0;
  for (size_t i = 0; i < run.ledger.size(); ++i) {
    const std::string& entry = run.ledger[i];
    const auto line = json_int(entry, "line");
    ASSERT_EQ(line, static_cast<int64_t>(i + 1)) << entry;
    const std::string& in = input[i];
    const auto question = json_string(in, "question");
    ASSERT_TRUE(question) << in;
    const int64_t n = code_points(*question);
    const std::string fate = json_string(entry, "fate").value_or("");
    if (fate == "kept") {
      ASSERT_LT(k, run.kept.size());
      EXPECT_EQ(run.kept[k], with_annotations(in, provenance(ids[i]) + ",\"length\":" + std::to_string(n))) << "input line " << i + 1;
      EXPECT_EQ(strip_annotation(run.kept[k]), in);
      EXPECT_GE(n, 80);
      EXPECT_LE(n, 300);
      ++k;
    } else {
      ASSERT_EQ(fate, "rejected") << entry;
      ASSERT_LT(r, run.rejected.size());
      const std::string reason = n < 80 ? "too_short" : "too_long";
      EXPECT_EQ(json_string(entry, "stage"), "length") << entry;
      EXPECT_EQ(json_string(entry, "reason"), reason) << entry;
      EXPECT_EQ(strip_annotation(run.rejected[r]), in) << "input line " << i + 1;
      EXPECT_EQ(run.annotation(run.rejected[r], "reason"), "\"" + reason + "\"");
      (n < 80 ? short_n : long_n)++;
      ++r;
    }
  }
  EXPECT_EQ(k, run.kept.size());
  EXPECT_EQ(r, run.rejected.size());
  // GSM8K train (7,473 problems) has 24 questions under 80 characters and 1,494 over 300.
  if (input.size() == 7473) {
    EXPECT_EQ(short_n, 24);
    EXPECT_EQ(long_n, 1494);
    EXPECT_EQ(kept, 5955);
  }
  EXPECT_EQ(json_raw(run.report, "/stages/0/rejected"), "0");
  EXPECT_EQ(json_int(run.report, "/stages/1/rejected_by_reason/too_short"), short_n);
  EXPECT_EQ(json_int(run.report, "/stages/1/rejected_by_reason/too_long"), long_n);
}

}  // namespace
