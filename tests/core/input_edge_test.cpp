// Input edge cases (issue 13, item 8): a compressed file that holds no stream of its format, numbers
// beyond 64 bits or beyond a double, a record that already has the annotations member twice, and one
// file read under two names.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "core_test_helpers.hpp"
#include "sinks/render.hpp"

namespace tamis::test {
namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

#define EXPECT_HAS(hay, needle) EXPECT_TRUE(contains(hay, needle)) << "missing: " << (needle) << "\nin:\n" << (hay)

// One source `s` reading `path` with the given extra options, an annotating length stage on `field`
// (min 1), and every sink under out/.
std::string pipeline(const std::string& path, const std::string& source_opts = "", const std::string& field = "problem",
                     const std::string& top = "") {
  return "version: 1\n" + top +
         "sources:\n"
         "  s: { path: \"" + path + "\"" + source_opts + " }\n"
         "stages:\n"
         "  len:\n"
         "    uses: filter.length\n"
         "    with: { field: \"" + field + "\", min: 1, annotate: true }\n"
         "sinks:\n"
         "  kept:     { path: out/kept.jsonl }\n"
         "  rejected: { path: out/rejected.jsonl, rejected: true }\n"
         "  errors:   { path: out/errors.jsonl, errors: true }\n"
         "  ledger:   { path: out/ledger.jsonl, ledger: true }\n"
         "  report:   { path: out/report.json, report: true }\n";
}

CommandResult run(const TempDir& t, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"run", (t / "p.yaml").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_tamis(args);
}

// ---------------------------------------------------------------- compressed files with no stream

// A .gz or .zst file that is empty, or that does not start like its format, holds no stream at all
// (an empty input compresses to 20 bytes of gzip, 13 of zstd): it is damaged, not empty input. The run
// stops whatever on_error says (there is no line to send to the errors sink), naming the file.
TEST(NoStream, EmptyOrForeignCompressedFileStopsTheRunNamingTheFile) {
  struct Case {
    const char* name;
    std::string bytes;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"a.jsonl.gz", "", "the file is empty: not a gzip stream"},
      {"a.jsonl.zst", "", "the file is empty: not a zstd stream"},
      {"a.jsonl.zstd", "", "the file is empty: not a zstd stream"},
      {"a.jsonl.gz", "{\"id\":1,\"problem\":\"plain text\"}\n", "not gzip data"},
      {"a.jsonl.zst", "{\"id\":1,\"problem\":\"plain text\"}\n", "not zstd data"},
      {"a.jsonl.gz", "x", "not gzip data"},    // shorter than the signature
      {"a.jsonl.zst", "\n", "not zstd data"},
  };
  for (const auto& c : cases) {
    for (const char* on_error : {"fail", "skip"}) {
      SCOPED_TRACE(std::string(c.name) + " [" + c.bytes.substr(0, 8) + "] on_error: " + on_error);
      TempDir t;
      write_file(t / c.name, c.bytes);
      write_file(t / "p.yaml", pipeline(c.name, std::string(", on_error: ") + on_error));
      const auto r = run(t);
      EXPECT_EQ(r.exit_code, 1) << r.err;
      EXPECT_HAS(r.err, "tamis: error: " + (t / c.name).string() + ": " + c.says);
      EXPECT_HAS(r.err, "(source 's')");
      EXPECT_HAS(r.err, "no output file was written or changed");
      EXPECT_EQ(list_files(t / "out"), std::vector<std::string>{});
    }
  }
}

// Among other files of a glob: the damaged one still stops the run (its lines cannot be counted).
TEST(NoStream, AnEmptyGzipAmongGoodFilesStopsTheRun) {
  TempDir t;
  write_gzip(t / "d/a.jsonl.gz", "{\"id\":1,\"problem\":\"p\"}\n");
  write_file(t / "d/b.jsonl.gz", "");
  write_zstd(t / "d/c.jsonl.zst", "{\"id\":2,\"problem\":\"q\"}\n");
  write_file(t / "p.yaml", pipeline("d/*", ", on_error: skip"));
  const auto r = run(t);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_HAS(r.err, (t / "d/b.jsonl.gz").string() + ": the file is empty");
  EXPECT_EQ(list_files(t / "out"), std::vector<std::string>{});
}

// What stays fine: an empty plain file, and compressed streams of no data (gzip and zstd of "").
TEST(NoStream, EmptyPlainFileAndCompressedEmptyStreamsAreEmptyInput) {
  TempDir t;
  write_file(t / "d/a.jsonl", "");
  write_gzip(t / "d/b.jsonl.gz", "");
  write_zstd(t / "d/c.jsonl.zst", "");
  write_file(t / "p.yaml", pipeline("d/*"));
  const auto r = run(t);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), "");
  EXPECT_EQ(report_totals(t / "out/report.json").read, 0u);
}

// A stream cut inside its first bytes, when those bytes are the signature's beginning, is a cut stream
// (one unreadable line), as a stream cut later is.
TEST(NoStream, ASignatureCutShortIsATruncatedStream) {
  for (const char* name : {"a.jsonl.gz", "a.jsonl.zst"}) {
    SCOPED_TRACE(name);
    TempDir t;
    write_file(t / name, std::string(name).ends_with(".gz") ? "\x1f" : "\x28\xb5");
    write_file(t / "p.yaml", pipeline(name, ", on_error: skip"));
    const auto r = run(t);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_HAS(read_file(t / "out/errors.jsonl"), "truncated");
    EXPECT_EQ(report_totals(t / "out/report.json").errors, 1u);
  }
}

// ---------------------------------------------------------------- big numbers

// Numbers simdjson cannot hold: integers beyond 64 bits, numbers beyond a double's range. The record is
// read (not an unreadable line, even under on_error: fail), written back byte for byte, and ops see the
// number as a string of its text, by a key path (read from the text) as by a JSON pointer (the DOM).
TEST(BigNumbers, AreReadAndSeenAsStringsOfTheirDigits) {
  const std::vector<std::string> big = {"1e400", "-1e400", "1E+309", "1.7976931348623159e308", "2.5e99999999999999999999",
                                        "123456789012345678901234567890", "18446744073709551616", "-9223372036854775809",
                                        "100000000000000000000000000000000e300"};
  for (const char* field : {"n", "/n", "m.n"}) {
    SCOPED_TRACE(field);
    TempDir t;
    std::string in;
    std::vector<std::string> want;
    for (size_t i = 0; i < big.size(); ++i) {
      const std::string rec = std::string("{\"id\":") + std::to_string(i) + ",\"n\":" + big[i] + ",\"m\":{\"n\":" + big[i] + "}}";
      in += rec + "\n";
      want.push_back(rec.substr(0, rec.size() - 1) + ",\"tamis\":{\"length\":" + std::to_string(big[i].size()) + "}}");
    }
    write_file(t / "in.jsonl", in);
    write_file(t / "p.yaml", pipeline("in.jsonl", ", id: id", field));
    const auto r = run(t);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(t / "out/errors.jsonl"), "");
    EXPECT_EQ(read_file(t / "out/rejected.jsonl"), "");
    EXPECT_EQ(read_lines(t / "out/kept.jsonl"), want);
  }
}

// A stage that rewrites a record holding big numbers (map.rename: Record::replace) keeps them as they
// were: the host checks replaced text the way it reads records, big numbers included. Before, the stage
// failed with "replace: the new text is not one JSON object".
TEST(BigNumbers, ARecordWithThemCanBeRewritten) {
  TempDir t;
  write_file(t / "in.jsonl", "{\"id\":1,\"n\":1e400,\"m\":{\"k\":-123456789012345678901234567890}}\n");
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n  r:\n    uses: map.rename\n"
                           "    with: { n: big }\nsinks:\n  kept: { path: out/kept.jsonl }\n");
  const auto r = run(t);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), "{\"id\":1,\"big\":1e400,\"m\":{\"k\":-123456789012345678901234567890}}\n");
}

// The value's text (Record::raw_field, which filter.require reads) shows a big number as a string too,
// by a key path as by a JSON pointer: require type string keeps it, type number rejects it.
TEST(BigNumbers, RawFieldSeesAStringByEveryPath) {
  TempDir t;
  write_file(t / "in.jsonl", "{\"id\":1,\"n\":1e400,\"m\":{\"n\":-123456789012345678901234567890}}\n");
  for (const char* type : {"string", "number"}) {
    for (const char* field : {"n", "/n", "m.n", "/m/n"}) {
      SCOPED_TRACE(std::string(type) + " " + field);
      fs::remove_all(t / "out");
      write_file(t / "p.yaml", std::string("version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nstages:\n  req:\n"
                                           "    uses: filter.require\n    with: { fields: [\"") + field + "\"], type: " + type + " }\n"
                               "sinks:\n  kept: { path: out/kept.jsonl }\n  rejected: { path: out/rejected.jsonl, rejected: true }\n");
      const auto r = run(t);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(read_lines(t / "out/kept.jsonl").size(), std::string(type) == "string" ? 1u : 0u);
      if (std::string(type) == "number") {
        EXPECT_HAS(read_file(t / "out/rejected.jsonl"), "is string, not number");
      }
    }
  }
}

// Numbers a double holds, however they are written, stay numbers (filter.length: not a string); so do
// numbers too small for a double (they read as 0). The big-number helper read an unset double for these
// (std::from_chars out of range), which decided at random between "invalid JSON" and a string.
TEST(BigNumbers, SmallAndOrdinaryNumbersStayNumbers) {
  const std::vector<std::string> numbers = {"1e-400", "-1e-400", "0e999999", "1.7976931348623157e308", "0.0000001e309",
                                            "4.9e-324", "18446744073709551615", "-9223372036854775808", "12", "1.50"};
  TempDir t;
  std::string in;
  for (size_t i = 0; i < numbers.size(); ++i) in += "{\"id\":" + std::to_string(i) + ",\"n\":" + numbers[i] + "}\n";
  write_file(t / "in.jsonl", in);
  write_file(t / "p.yaml", pipeline("in.jsonl", ", id: id", "n"));
  const auto r = run(t);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), "");
  const auto rejected = read_lines(t / "out/rejected.jsonl");
  ASSERT_EQ(rejected.size(), numbers.size());
  for (size_t i = 0; i < numbers.size(); ++i) {
    EXPECT_HAS(rejected[i], "\"n\":" + numbers[i] + ",");
    EXPECT_HAS(rejected[i], "\"reason\":\"not_a_string\"");
  }
}

// A big integer as the record id: the id is its digits.
TEST(BigNumbers, BigIntegerIdIsItsDigits) {
  TempDir t;
  write_file(t / "in.jsonl", "{\"id\":123456789012345678901234567890,\"problem\":\"p\"}\n");
  write_file(t / "p.yaml", pipeline("in.jsonl", ", id: id"));
  const auto r = run(t);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(read_file(t / "out/ledger.jsonl"), "\"123456789012345678901234567890\"");
}

// Malformed numbers stay unreadable lines: quoting big numbers never makes invalid JSON valid.
TEST(BigNumbers, MalformedNumbersStayInvalid) {
  TempDir t;
  write_file(t / "in.jsonl",
             "{\"id\":1,\"n\":01e400}\n{\"id\":2,\"n\":1.e400}\n{\"id\":3,\"n\":--1e400}\n{\"id\":4,\"n\":1e400.5}\n"
             "{\"id\":5,\"n\":+1e400}\n{\"id\":6,\"n\":1e400 1e400}\n");
  write_file(t / "p.yaml", pipeline("in.jsonl", ", id: id, on_error: skip", "n"));
  const auto r = run(t);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_lines(t / "out/errors.jsonl").size(), 6u) << read_file(t / "out/errors.jsonl");
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), "");
}

// ---------------------------------------------------------------- the annotations member written twice

int members_named(const std::string& line, std::string_view key) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(line).get_object().get(obj) != simdjson::SUCCESS) return -1;
  int n = 0;
  for (auto [k, v] : obj) n += k == key;
  return n;
}

TEST(StripMembers, EveryMemberOfTheNameGoesWithOneComma) {
  auto strip = [](std::string_view s, std::string_view key) {
    std::string out = "untouched";
    return strip_members(s, key, out) ? out : "(none) " + out;
  };
  EXPECT_EQ(strip("{\"a\":1}", "tamis"), "(none) untouched");
  EXPECT_EQ(strip("{\"tamis\":1}", "tamis"), "{}");
  EXPECT_EQ(strip("{\"tamis\":1,\"tamis\":2}", "tamis"), "{}");
  EXPECT_EQ(strip("{\"tamis\":{\"a\":1},\"tamis\":{\"b\":2},\"id\":1}", "tamis"), "{\"id\":1}");
  EXPECT_EQ(strip("{\"id\":1,\"tamis\":{\"a\":1},\"tamis\":{\"b\":2}}", "tamis"), "{\"id\":1}");
  EXPECT_EQ(strip("{\"a\":1,\"tamis\":2,\"b\":3,\"tamis\":4}", "tamis"), "{\"a\":1,\"b\":3}");
  EXPECT_EQ(strip("{\"tamis\":1 , \"a\":2 , \"tamis\":3 , \"b\":4}", "tamis"), "{ \"a\":2 , \"b\":4}");
  EXPECT_EQ(strip("{ \"tamis\":1, \"t\\u0061mis\":2, \"tamis\":3 }", "tamis"), "{   }");  // the spaces after commas stay
  EXPECT_EQ(strip("{\"m\":{\"tamis\":1},\"tamis\":2,\"s\":\"\\\"tamis\\\":3\"}", "tamis"), "{\"m\":{\"tamis\":1},\"s\":\"\\\"tamis\\\":3\"}");
  // Agrees with find_member on a single member.
  for (const char* s : {"{\"tamis\":true , \"a\":2}", "{\"a\":1 , \"tamis\" : null , \"c\":3}", "{\"a\":1,\"tamis\":-1.5e3}"}) {
    const auto [pos, len] = find_member(s, "tamis");
    const std::string text = s;
    EXPECT_EQ(strip(s, "tamis"), text.substr(0, pos) + text.substr(pos + len)) << s;
  }
}

// {"tamis":..,"tamis":..} in the input: the output has exactly one annotations member, with the run's
// annotations (or the rejection), or {} when there are none; also for another annotations field name.
TEST(DuplicateAnnotationsMember, OutputHasExactlyOne) {
  for (const std::string name : {"tamis", "meta"}) {
    SCOPED_TRACE(name);
    TempDir t;
    const std::string k = "\"" + name + "\"";
    write_file(t / "in.jsonl",
               "{\"id\":1,\"problem\":\"abc\"," + k + ":{\"a\":1}," + k + ":{\"b\":2}}\n"
               "{\"id\":2," + k + ":1,\"problem\":\"\",\"x\":0," + k + ":[2]," + k + ":3}\n");
    write_file(t / "p.yaml", pipeline("in.jsonl", ", id: id", "problem", name == "tamis" ? "" : "annotations: { field: " + name + " }\n"));
    const auto r = run(t);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto kept = read_lines(t / "out/kept.jsonl");
    const auto rejected = read_lines(t / "out/rejected.jsonl");
    ASSERT_EQ(kept.size(), 1u);
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_EQ(kept[0], "{\"id\":1,\"problem\":\"abc\"," + k + ":{\"length\":3}}");
    EXPECT_EQ(members_named(rejected[0], name), 1) << rejected[0];
    EXPECT_EQ(rejected[0].rfind("{\"id\":2,\"problem\":\"\",\"x\":0," + k + ":{\"length\":0,\"rejected_by\":\"len\"", 0), 0u)
        << rejected[0];
  }
  // With no stage: the stale members go, an empty object stands for the run's annotations.
  TempDir t;
  write_file(t / "in.jsonl", "{\"id\":1,\"tamis\":{\"a\":1},\"tamis\":{\"b\":2}}\n");
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: { path: in.jsonl, id: id }\nsinks:\n  kept: { path: out/kept.jsonl }\n");
  const auto r = run(t);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), "{\"id\":1,\"tamis\":{}}\n");
}

// ---------------------------------------------------------------- one file under two names

std::string records(int n, const std::string& prefix) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "{\"id\":\"" + prefix + std::to_string(i) + "\",\"problem\":\"p\"}\n";
  return out;
}

std::string two_sources(const std::string& a, const std::string& b) {
  return "version: 1\nsources:\n  a: \"" + a + "\"\n  b: \"" + b + "\"\nsinks:\n  kept: { path: out/kept.jsonl }\n"
         "  report: { path: out/report.json, report: true }\n";
}

// Two sources reading one file (by the same path, or through a link): each reads it (they may differ
// in id or on_error), and both run and validate warn, naming the sources and paths.
TEST(SameFileTwice, TwoSourcesReadItEachWithAWarning) {
  TempDir t;
  write_file(t / "d/a.jsonl", records(3, "a"));
  fs::create_symlink("a.jsonl", t / "d/link.jsonl");
  fs::create_hard_link(t / "d/a.jsonl", t / "hard.jsonl");
  for (const auto& [second, shown] : std::vector<std::pair<std::string, std::string>>{
           {"d/a.jsonl", "d/a.jsonl"}, {"d/link.jsonl", "d/link.jsonl"}, {"hard.jsonl", "hard.jsonl"}, {"d/*.jsonl", "d/a.jsonl"}}) {
    SCOPED_TRACE(second);
    write_file(t / "p.yaml", two_sources("d/a.jsonl", second));
    const std::string warning = "tamis: warning: sources 'a' (d/a.jsonl) and 'b' (" + shown + ") read the same file";
    const auto v = run_tamis({"validate", (t / "p.yaml").string()});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    EXPECT_HAS(v.err, warning);
    fs::remove_all(t / "out");
    const auto r = run(t);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_HAS(r.err, warning);
    EXPECT_EQ(read_lines(t / "out/kept.jsonl").size(), 6u);
  }
}

// Within one source (a glob matching a file and a link to it, or a hard link): read once, under the
// first name in byte order, with a warning.
TEST(SameFileTwice, OneSourceReadsItOnceWithAWarning) {
  TempDir t;
  write_file(t / "d/b.jsonl", records(3, "b"));
  write_file(t / "d/c.jsonl", records(2, "c"));
  fs::create_symlink("b.jsonl", t / "d/a-link.jsonl");
  fs::create_hard_link(t / "d/c.jsonl", t / "d/d-hard.jsonl");
  write_file(t / "p.yaml", "version: 1\nsources:\n  s: { path: \"d/*.jsonl\", id: id }\nsinks:\n  kept: { path: out/kept.jsonl }\n"
                           "  ledger: { path: out/ledger.jsonl, ledger: true }\n");
  const auto r = run(t);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_HAS(r.err, "tamis: warning: source 's' matches one file twice, as d/a-link.jsonl and as d/b.jsonl (a link?): it is read once, as d/a-link.jsonl");
  EXPECT_HAS(r.err, "tamis: warning: source 's' matches one file twice, as d/c.jsonl and as d/d-hard.jsonl (a link?): it is read once, as d/c.jsonl");
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), records(3, "b") + records(2, "c"));
  const std::string ledger = read_file(t / "out/ledger.jsonl");
  EXPECT_HAS(ledger, "\"file\":\"d/a-link.jsonl\",\"line\":1,");
  EXPECT_FALSE(contains(ledger, "d/b.jsonl")) << ledger;
  EXPECT_FALSE(contains(ledger, "d-hard")) << ledger;
  const auto d = run_tamis({"run", (t / "p.yaml").string(), "--dry-run"});
  EXPECT_EQ(count_occurrences(d.out, "    d/"), 2u) << d.out;  // the files listed: a-link and c
}

// Distinct files, even with equal content, are not warned about.
TEST(SameFileTwice, EqualContentIsNotTheSameFile) {
  TempDir t;
  write_file(t / "a.jsonl", records(2, "x"));
  write_file(t / "b.jsonl", records(2, "x"));
  write_file(t / "p.yaml", two_sources("a.jsonl", "b.jsonl"));
  const auto r = run(t);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace tamis::test
