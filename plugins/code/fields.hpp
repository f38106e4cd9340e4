// Where a code problem keeps its tests, reference solution and text (docs/code.md, "Layouts"): the
// fields looked at when a stage names none, and reading the reference program out of a solution field.
#pragma once

#include <tamis/sdk.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tamis::code {

// Looked at in this order when the stage names no field.
inline constexpr const char* kTestFields[] = {"tests", "input_output", "test", "test_list"};
inline constexpr const char* kSolutionFields[] = {"solutions", "canonical_solution", "solution", "code"};
inline constexpr const char* kProblemFields[] = {"problem", "prompt", "question", "text"};

// The field's value unless it is missing or null.
inline std::optional<simdjson::dom::element> present(const Record& r, std::string_view field) {
  auto v = r.field(field);
  if (!v || v->is_null()) return std::nullopt;
  return v;
}

// The field `field` names when it is not empty, else the first of `candidates` present (then `field`
// names it); nullopt when none is.
inline std::optional<simdjson::dom::element> find_present(const Record& r, std::string& field, std::span<const char* const> candidates) {
  if (!field.empty()) return present(r, field);
  for (const char* f : candidates)
    if (auto v = present(r, f)) {
      field = f;
      return v;
    }
  return std::nullopt;
}

// The program in a solution value: a non-blank string, the first non-blank string of a list (APPS keeps
// several), or of a string holding such a JSON list; nullopt when it holds no code.
std::optional<std::string> first_program(simdjson::dom::element v);

}  // namespace tamis::code
