// Record::string_field reads key paths straight from the record text (no DOM parse). This checks it
// against the DOM reading (Record::field + get_string) on hand-written edge cases and on random JSON
// objects: escaped and duplicate keys, dotted keys, nesting, escapes in values, odd whitespace.
#include <gtest/gtest.h>
#include <tamis/sdk.hpp>

#include <random>
#include <string>
#include <vector>

namespace {

// The DOM's answer for `path`, copied.
std::optional<std::string> dom_string(const tamis::Record& r, std::string_view path) {
  auto e = r.field(path);
  std::string_view s;
  if (!e || e->get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  return std::string(s);
}

struct OneRecord {
  std::string text;  // padded for simdjson
  tamis_record view{};
  tamis_batch batch{};
  explicit OneRecord(std::string json) : text(std::move(json)) {
    const size_t n = text.size();
    text.append(TAMIS_RECORD_PADDING, ' ');
    view.json = {text.data(), n};
    view.id = {"r", 1};
    batch.count = 1;
    batch.records = &view;
  }
};

void expect_same(const std::string& json, const std::vector<std::string>& paths) {
  OneRecord one(json);
  for (const auto& path : paths) {
    const tamis::Record fast(&one.batch, 0);
    const auto got = fast.string_field(path);
    const tamis::Record dom(&one.batch, 0);
    const auto want = dom_string(dom, path);
    ASSERT_EQ(got.has_value(), want.has_value()) << json << "  path " << path;
    if (got) {
      EXPECT_EQ(std::string(*got), *want) << json << "  path " << path;
    }
  }
}

const std::vector<std::string> kPaths = {"a", "b", "c", "a.b", "a.b.c", "b.a", "\xC3\xA9", "x y", "", "q\"k"};

TEST(RecordFields, HandWrittenEdgeCases) {
  const std::vector<std::string> cases = {
      R"({"a":"plain"})",
      R"(  {  "a"  :  "spaced" , "b" : "x" }  )",
      R"({"a":"first","a":"second"})",
      R"({"\u0061":"escaped key","a":"later"})",
      R"({"a.b":"dotted key","a":{"b":"nested"}})",
      R"({"a":{"c":1},"a.b":"dotted key after a non-matching a"})",
      R"({"a":{"b":{"c":"deep"}}})",
      R"({"a":"with \"quotes\" and \\ backslash \\\" end"})",
      R"({"a":"\u00e9\ud83d\ude00\n\t\/"})",
      R"({"b":["a",{"a":"inside array"}],"a":"after array"})",
      R"({"b":{"a":"inside object","x":[1,2,{"a":"x"}]},"a":"outer"})",
      R"({"a":123,"b":null,"c":true})",
      R"({"a":"", "b":"\\"})",
      R"({"é":"accented key","x y":"space key","q\"k":"quote key"})",
      R"({"b":"a string with \"a\":\"fake\" inside","a":"real"})",
      R"({})",
      "{\"a\"\t:\r\n\"tabs\"}",
  };
  for (const auto& c : cases) expect_same(c, kPaths);
}

// Random objects built from pieces that stress the scanner.
std::string random_value(std::mt19937& rng, int depth);

std::string random_string(std::mt19937& rng) {
  static const std::vector<std::string> pieces = {"a", "b", "x y", "\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00",
                                                  "\xC3\xA9", "{", "}", "[", "]", ",", ":", "\\/", " ", "a.b", "\\u0061"};
  std::string s = "\"";
  const int n = static_cast<int>(rng() % 6);
  for (int i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
  return s + "\"";
}

std::string random_key(std::mt19937& rng) {
  static const std::vector<std::string> keys = {"\"a\"", "\"b\"", "\"c\"", "\"a.b\"", "\"\\u0061\"", "\"\xC3\xA9\"",
                                                "\"\\u00e9\"", "\"x y\"", "\"\"", "\"q\\\"k\""};
  return keys[rng() % keys.size()];
}

std::string ws(std::mt19937& rng) {
  static const std::vector<std::string> w = {"", "", " ", "  ", "\t", "\n ", "\r\n"};
  return w[rng() % w.size()];
}

std::string random_object(std::mt19937& rng, int depth) {
  std::string s = "{" + ws(rng);
  const int n = static_cast<int>(rng() % 5);
  for (int i = 0; i < n; ++i) {
    if (i) s += "," + ws(rng);
    s += random_key(rng) + ws(rng) + ":" + ws(rng) + random_value(rng, depth + 1) + ws(rng);
  }
  return s + "}";
}

std::string random_value(std::mt19937& rng, int depth) {
  const int k = static_cast<int>(rng() % (depth < 3 ? 8 : 5));
  switch (k) {
    case 0: case 1: case 2: return random_string(rng);
    case 3: return std::to_string(static_cast<int>(rng() % 2000) - 1000) + (rng() % 2 ? ".5e3" : "");
    case 4: return rng() % 2 ? "true" : "null";
    case 5: case 6: return random_object(rng, depth);
    default: {
      std::string a = "[" + ws(rng);
      const int n = static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) a += (i ? "," : "") + random_value(rng, depth + 1);
      return a + "]";
    }
  }
}

TEST(RecordFields, AgreesWithTheDomOnRandomObjects) {
  std::mt19937 rng(20261123);
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string json = random_object(rng, 0);
    simdjson::dom::parser p;
    simdjson::dom::element e;
    ASSERT_EQ(p.parse(simdjson::padded_string(json)).get(e), simdjson::SUCCESS) << "generator made invalid JSON: " << json;
    expect_same(json, kPaths);
    if (HasFatalFailure() || HasFailure()) return;
    ++checked;
  }
  EXPECT_EQ(checked, 20000);
}

TEST(RecordFields, ViewsOutliveOtherRecordsReads) {
  OneRecord one(R"({"a":"esc\"aped","b":"plain"})");
  OneRecord two(R"({"a":"other record"})");
  const tamis::Record r1(&one.batch, 0);
  const auto a = r1.string_field("a");
  const auto b = r1.string_field("b");
  const tamis::Record r2(&two.batch, 0);
  ASSERT_TRUE(r2.field("a"));  // a DOM parse on this thread
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, "esc\"aped");
  EXPECT_EQ(*b, "plain");
}

TEST(RecordFields, AnnotationsAreReadWithoutAParser) {
  OneRecord one(R"({"a":1})");
  const std::vector<std::pair<std::string, std::string>> kv = {
      {"lang", "\"en\""}, {"text", R"("a \"quoted\" \u00e9")"}, {"rate", "0.25"}, {"n", "12"}, {"obj", R"({"x":1})"}, {"lang", "\"fr\""}};
  std::vector<tamis_annotation> notes;
  for (const auto& [k, v] : kv) notes.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
  one.view.annotations = notes.data();
  one.view.annotation_count = notes.size();
  const tamis::Record r(&one.batch, 0);
  EXPECT_EQ(r.annotation_string("lang"), "fr");  // the latest wins
  EXPECT_EQ(r.annotation_string("text"), "a \"quoted\" \xC3\xA9");
  EXPECT_EQ(r.annotation_number("rate"), 0.25);
  EXPECT_EQ(r.annotation_number("n"), 12.0);
  EXPECT_FALSE(r.annotation_number("lang"));
  EXPECT_FALSE(r.annotation_string("rate"));
  EXPECT_FALSE(r.annotation_string("obj"));
  EXPECT_FALSE(r.annotation_string("missing"));
}

}  // namespace
