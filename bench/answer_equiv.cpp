// Compares answer pairs with the grader, as dedup's answer checks do (plugins/dedup/answers.hpp): each
// answer reduced to its final answer (grade::reference_answer), normalised, then grade::equivalent.
// For the accuracy scripts in bench/accuracy/, which judge dedup's decisions with it.
//
//   answer_equiv < pairs.jsonl      one {"a": "...", "b": "..."} per line (strings)
// prints per line: 1 or 0 (equivalent or not), a tab, and the two canonical answers separated by a tab.
#include <simdjson.h>

#include <iostream>
#include <string>

#include <answer.hpp>

int main() {
  simdjson::dom::parser parser;
  std::string line;
  size_t n = 0;
  while (std::getline(std::cin, line)) {
    ++n;
    simdjson::dom::element e;
    std::string_view a, b;
    if (parser.parse(line).get(e) || e["a"].get_string().get(a) || e["b"].get_string().get(b)) {
      std::cerr << "answer_equiv: line " << n << " is not {\"a\": string, \"b\": string}\n";
      return 1;
    }
    const std::string na = tamis::grade::normalize(tamis::grade::reference_answer(a));
    const std::string nb = tamis::grade::normalize(tamis::grade::reference_answer(b));
    const bool eq = tamis::grade::equivalent_normalized(na, nb).equal;
    std::cout << (eq ? 1 : 0) << '\t' << na << '\t' << nb << '\n';
  }
}
