// The grader alone over a JSONL file, for bench/grade_cost.sh: each line's `response` graded against its
// reference field with tamis::grade::grade() (default options, as the `grade.answer` op), one verdict per line on
// stdout ("correct<TAB>reason<TAB>extracted") so that two builds can be compared verdict for verdict.
// bench/grade_cost.sh compiles it together with plugins/grade sources of any revision and counts the
// instructions spent inside grade() with callgrind.
//
//   grade_cost FILE.jsonl REFERENCE_FIELD > verdicts.tsv
#include <simdjson.h>

#include <cstdio>
#include <string_view>

#include "answer.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: grade_cost FILE.jsonl REFERENCE_FIELD\n");
    return 2;
  }
  simdjson::padded_string json;
  if (simdjson::padded_string::load(argv[1]).get(json)) {
    std::fprintf(stderr, "grade_cost: cannot read %s\n", argv[1]);
    return 1;
  }
  simdjson::dom::parser parser;
  simdjson::dom::document_stream stream;
  if (parser.parse_many(json).get(stream)) return 1;
  const std::string_view field = argv[2];
  size_t n = 0, correct = 0;
  for (auto doc : stream) {
    std::string_view response, reference;
    if (doc["response"].get_string().get(response) || doc[field].get_string().get(reference)) {
      std::fprintf(stderr, "grade_cost: line %zu lacks string fields response / %s\n", n + 1, argv[2]);
      return 1;
    }
    const tamis::grade::Verdict v = tamis::grade::grade(response, reference);
    ++n, correct += v.correct;
    std::printf("%d\t%s\t%s\n", v.correct ? 1 : 0, v.reason.c_str(), v.extracted.c_str());
  }
  std::fprintf(stderr, "grade_cost: %zu graded, %zu correct\n", n, correct);
  return 0;
}
