// tamis::find_member and tamis::render_record: the bytes of output lines.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "sinks/render.hpp"

namespace tamis {
namespace {

constexpr auto npos = std::string_view::npos;

// The object text with the member find_member() reports cut out ("" when absent).
std::string without(std::string_view text, std::string_view key) {
  const auto [pos, len] = find_member(text, key);
  if (pos == npos) return "";
  return std::string(text.substr(0, pos)) + std::string(text.substr(pos + len));
}

TEST(FindMember, AbsentKeys) {
  EXPECT_EQ(find_member("{}", "tamis"), std::make_pair(npos, size_t{0}));
  EXPECT_EQ(find_member("{ }", "tamis"), std::make_pair(npos, size_t{0}));
  EXPECT_EQ(find_member("{\"a\":1}", "tamis"), std::make_pair(npos, size_t{0}));
  EXPECT_EQ(find_member("{\"tamisx\":1,\"xtamis\":2}", "tamis").first, npos);
  EXPECT_EQ(find_member("not an object", "tamis").first, npos);
}

TEST(FindMember, OnlyMember) {
  EXPECT_EQ(find_member("{\"tamis\":1}", "tamis"), std::make_pair(size_t{1}, size_t{9}));
  EXPECT_EQ(without("{\"tamis\":1}", "tamis"), "{}");
  EXPECT_EQ(without("{ \"tamis\" : {\"a\":[1,2]} }", "tamis"), "{ }");
}

TEST(FindMember, FirstMemberTakesTheCommaAfterIt) {
  EXPECT_EQ(without("{\"tamis\":{\"x\":1},\"a\":2}", "tamis"), "{\"a\":2}");
  EXPECT_EQ(without("{\"tamis\":true , \"a\":2}", "tamis"), "{ \"a\":2}");
  EXPECT_EQ(without("{ \"tamis\": \"s\",\"a\":2}", "tamis"), "{ \"a\":2}");
}

TEST(FindMember, MiddleAndLastMembersTakeTheCommaBefore) {
  EXPECT_EQ(without("{\"a\":1,\"tamis\":[1,{\"b\":\"]\"}],\"c\":3}", "tamis"), "{\"a\":1,\"c\":3}");
  EXPECT_EQ(without("{\"a\":1 , \"tamis\" : null , \"c\":3}", "tamis"), "{\"a\":1 , \"c\":3}");
  EXPECT_EQ(without("{\"a\":1,\"tamis\":-1.5e3}", "tamis"), "{\"a\":1}");
  EXPECT_EQ(without("{\"a\":\"x\",\"tamis\":{}}", "tamis"), "{\"a\":\"x\"}");
}

TEST(FindMember, StringsWithBracesQuotesAndEscapedQuotes) {
  // Braces, brackets, commas, colons and the key's own name inside strings are not structure.
  EXPECT_EQ(without("{\"a\":\"}\\\"tamis\\\":{\",\"tamis\":1,\"b\":\"{[\"}", "tamis"), "{\"a\":\"}\\\"tamis\\\":{\",\"b\":\"{[\"}");
  EXPECT_EQ(without("{\"a\\\"\":\"\\\\\",\"tamis\":\"\\\"}\\\\\",\"b\":0}", "tamis"), "{\"a\\\"\":\"\\\\\",\"b\":0}");
  // A nested member with the same name is not the top-level one.
  EXPECT_EQ(without("{\"m\":{\"tamis\":1},\"tamis\":2}", "tamis"), "{\"m\":{\"tamis\":1}}");
  EXPECT_EQ(find_member("{\"m\":{\"tamis\":1},\"n\":[{\"tamis\":2}]}", "tamis").first, npos);
  // Keys are compared unescaped: the written key "ta\"mis" is the name ta"mis, and "\u0074amis" is tamis.
  EXPECT_EQ(without("{\"ta\\\"mis\":1,\"tamis\":2}", "ta\"mis"), "{\"tamis\":2}");
  EXPECT_EQ(without("{\"a\":1,\"\\u0074amis\":2}", "tamis"), "{\"a\":1}");
}

Record record(std::string_view text, bool has_field = false) {
  Record r;
  r.text = text;
  r.has_annotation_field = has_field;
  return r;
}

bool valid_object(const std::string& line) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  return parser.parse(line).get_object().get(obj) == simdjson::SUCCESS;
}

TEST(RenderRecord, NothingToAddIsByteForByte) {
  std::string out;
  const Record r = record("{ \"a\" : 1.50, \"s\":\"caf\\u00e9\" }");
  render_record(out, r, "tamis", nullptr);
  EXPECT_EQ(out, "{ \"a\" : 1.50, \"s\":\"caf\\u00e9\" }\n");
}

TEST(RenderRecord, AnnotationsAppendedAsOneObject) {
  std::string out;
  Record r = record("{\"a\":1.50,\"s\":\"x\\\"}\"  }");
  r.annotate("length", "12");
  r.annotate("lang", "\"fr\"");
  r.annotate("length", "13");  // the latest value of a key wins, in its first place
  render_record(out, r, "tamis", nullptr);
  EXPECT_EQ(out, "{\"a\":1.50,\"s\":\"x\\\"}\",\"tamis\":{\"length\":13,\"lang\":\"fr\"}}\n");
  EXPECT_TRUE(valid_object(out));
}

TEST(RenderRecord, EmptyObjects) {
  for (const char* text : {"{}", "{ }", "{\n}"}) {
    std::string out;
    Record r = record(text);
    r.annotate("k", "1");
    render_record(out, r, "tamis", nullptr);
    EXPECT_EQ(out, "{\"tamis\":{\"k\":1}}\n") << text;
  }
  std::string out;
  render_record(out, record("{}"), "tamis", nullptr);
  EXPECT_EQ(out, "{}\n");
}

TEST(RenderRecord, ExistingFieldReplacedFirstMiddleLastOnly) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"{\"tamis\":{\"old\":1},\"a\":1}", "{\"a\":1,\"tamis\":{\"k\":1}}\n"},
      {"{\"a\":1,\"tamis\":\"}{\",\"b\":2}", "{\"a\":1,\"b\":2,\"tamis\":{\"k\":1}}\n"},
      {"{\"a\":1,\"tamis\":[\"]\"]}", "{\"a\":1,\"tamis\":{\"k\":1}}\n"},
      {"{\"tamis\":null}", "{\"tamis\":{\"k\":1}}\n"},
      {"{ \"tamis\" : 5 }", "{\"tamis\":{\"k\":1}}\n"},
  };
  for (const auto& c : cases) {
    std::string out;
    Record r = record(c.in, true);
    r.annotate("k", "1");
    render_record(out, r, "tamis", nullptr);
    EXPECT_EQ(out, c.out) << c.in;
    EXPECT_TRUE(valid_object(out)) << out;
  }
  // With nothing to add, an existing field is still replaced (by an empty object).
  std::string out;
  render_record(out, record("{\"a\":1,\"tamis\":{\"stale\":true}}", true), "tamis", nullptr);
  EXPECT_EQ(out, "{\"a\":1,\"tamis\":{}}\n");
  // has_annotation_field set but no such member (e.g. a stage replaced the text): copied as is.
  out.clear();
  render_record(out, record("{\"a\":1}", true), "tamis", nullptr);
  EXPECT_EQ(out, "{\"a\":1}\n");
}

TEST(RenderRecord, OtherAnnotationFieldName) {
  std::string out;
  Record r = record("{\"tamis\":1,\"meta_x\":{\"old\":2},\"b\":3}", true);
  r.annotate("k", "true");
  render_record(out, r, "meta_x", nullptr);
  EXPECT_EQ(out, "{\"tamis\":1,\"b\":3,\"meta_x\":{\"k\":true}}\n");
}

TEST(RenderRecord, RejectionTextIsEscaped) {
  std::string out;
  Record r = record("{\"a\":1}");
  r.annotate("length", "3");
  const RejectionText why{"st\"age", "near_duplicate", "dup of \"x\\y\"\n\ttab \x01 caf\xc3\xa9 } {"};
  render_record(out, r, "tamis", &why);
  EXPECT_EQ(out,
            "{\"a\":1,\"tamis\":{\"length\":3,\"rejected_by\":\"st\\\"age\",\"reason\":\"near_duplicate\","
            "\"detail\":\"dup of \\\"x\\\\y\\\"\\n\\ttab \\u0001 caf\xc3\xa9 } {\"}}\n");
  EXPECT_TRUE(valid_object(out));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS);
  std::string_view detail;
  ASSERT_EQ(doc["tamis"]["detail"].get_string().get(detail), simdjson::SUCCESS);
  EXPECT_EQ(detail, why.detail);
}

TEST(RenderRecord, RejectionWithoutAnnotationsAndEmptyDetail) {
  std::string out;
  const RejectionText why{"s", "r", ""};
  render_record(out, record("{ }"), "tamis", &why);
  EXPECT_EQ(out, "{\"tamis\":{\"rejected_by\":\"s\",\"reason\":\"r\",\"detail\":\"\"}}\n");
}

TEST(RenderRecord, AppendsToWhatIsThere) {
  std::string out = "previous\n";
  render_record(out, record("{\"a\":1}"), "tamis", nullptr);
  Record r = record("{\"b\":2}");
  r.annotate("k", "1");
  render_record(out, r, "tamis", nullptr);
  EXPECT_EQ(out, "previous\n{\"a\":1}\n{\"b\":2,\"tamis\":{\"k\":1}}\n");
}

}  // namespace
}  // namespace tamis
