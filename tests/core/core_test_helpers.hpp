// Small helpers shared by the core tests (on top of tests/support/test_support.hpp).
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace tamis::test {

// The totals of the "read N = kept K + rejected R + errors E" line of the run summary (stdout).
struct SummaryTotals {
  bool found = false;
  uint64_t read = 0, kept = 0, rejected = 0, errors = 0;
  bool balanced_word = false;  // the line ends with "(balanced)"
};

inline uint64_t parse_commas(const std::string& s) {
  uint64_t v = 0;
  for (char c : s)
    if (c >= '0' && c <= '9') v = v * 10 + static_cast<uint64_t>(c - '0');
  return v;
}

inline SummaryTotals parse_summary(const std::string& out) {
  SummaryTotals t;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t end = out.find('\n', pos);
    if (end == std::string::npos) end = out.size();
    const std::string line = out.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("read ", 0) != 0) continue;
    // read 1,234 = kept 1,000 + rejected 200 + errors 34  (balanced)
    auto field = [&](const std::string& word) -> uint64_t {
      const size_t at = line.find(word);
      if (at == std::string::npos) return UINT64_MAX;
      size_t b = at + word.size();
      size_t e = b;
      while (e < line.size() && (std::isdigit(static_cast<unsigned char>(line[e])) || line[e] == ',')) ++e;
      return parse_commas(line.substr(b, e - b));
    };
    t.found = true;
    t.read = field("read ");
    t.kept = field("kept ");
    t.rejected = field("rejected ");
    t.errors = field("errors ");
    t.balanced_word = line.find("(balanced)") != std::string::npos;
  }
  return t;
}

// The "totals" object of report.json.
struct ReportTotals {
  uint64_t read = 0, kept = 0, rejected = 0, errors = 0;
  bool balanced = false;
};

inline ReportTotals report_totals(const fs::path& report) {
  ReportTotals t;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string text = read_file(report);
  EXPECT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << text;
  simdjson::dom::object totals;
  EXPECT_EQ(doc["totals"].get_object().get(totals), simdjson::SUCCESS) << text;
  EXPECT_EQ(totals["read"].get_uint64().get(t.read), simdjson::SUCCESS);
  EXPECT_EQ(totals["kept"].get_uint64().get(t.kept), simdjson::SUCCESS);
  EXPECT_EQ(totals["rejected"].get_uint64().get(t.rejected), simdjson::SUCCESS);
  EXPECT_EQ(totals["errors"].get_uint64().get(t.errors), simdjson::SUCCESS);
  EXPECT_EQ(totals["balanced"].get_bool().get(t.balanced), simdjson::SUCCESS);
  return t;
}

// Every file under `dir` (recursively), as paths relative to it, sorted. Empty if `dir` is absent.
inline std::vector<std::string> list_files(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (!e.is_directory()) out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

inline bool has_temporary(const fs::path& dir) {
  for (const auto& f : list_files(dir))
    if (f.find(".tamis-tmp-") != std::string::npos) return true;
  return false;
}

inline std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

inline size_t count_occurrences(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// A JSON string field's value of a JSON object line ("" when absent or not a string).
inline std::string json_string(const std::string& line, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(line).get(doc) != simdjson::SUCCESS) return "";
  std::string_view v;
  if (doc[key].get_string().get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

inline int64_t json_int(const std::string& line, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(line).get(doc) != simdjson::SUCCESS) return -1;
  int64_t v = -1;
  if (doc[key].get_int64().get(v) != simdjson::SUCCESS) return -1;
  return v;
}

// Deterministic pseudo-random text pieces for generated inputs.
class TextGen {
 public:
  explicit TextGen(uint64_t seed) : rng_(seed) {}
  uint64_t below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }

  // A JSON string body (already escaped) of about `n` units, mixing ASCII words, escapes and unicode.
  std::string text(size_t n) {
    static const char* const kPieces[] = {
        "the ", "sum ", "of ", "x ", "y ", "is ", "prime ", "Let ", "$\\\\frac{1}{2}$ ", "\\\"quoted\\\" ",
        "caf\\u00e9 ", "na\xc3\xafve ", "\xe6\x95\xb0\xe5\xad\xa6 ", "\xf0\x9f\x98\x80 ", "\\n", "\\t", "{braces} ",
        "[brackets] ", "comma, ", "colon: ", "\xd0\x97\xd0\xb0\xd0\xb4\xd0\xb0\xd1\x87\xd0\xb0 ", "\\/", "\\u20ac ",
        "\\ud83d\\ude00 ", "12.50 ", "-3e5 "};
    std::string out;
    while (out.size() < n) out += kPieces[below(sizeof kPieces / sizeof kPieces[0])];
    return out;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace tamis::test
