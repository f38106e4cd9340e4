#include "answers.hpp"

#include <answer.hpp>

#include "fields.hpp"

namespace tamis::dedup {

void read_answer(const Record& r, std::string_view field, std::string& out) {
  thread_local std::string text;
  out.clear();
  switch (read_string_field(r, field, text)) {
    case FieldKind::absent:
      return;
    case FieldKind::string:
      break;
    case FieldKind::other: {  // a number, or an array of strings and numbers; anything else: no answer
      const auto e = r.field(field);
      if (!e) return;
      text.clear();
      if (e->is_number()) {
        text = simdjson::minify(*e);
      } else if (simdjson::dom::array list; e->get_array().get(list) == simdjson::SUCCESS) {
        for (simdjson::dom::element x : list) {
          std::string_view s;
          if (!text.empty()) text += ", ";
          if (x.get_string().get(s) == simdjson::SUCCESS) text += s;
          else if (x.is_number()) text += simdjson::minify(x);
          else return;
        }
      } else {
        return;
      }
      break;
    }
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return;
  out = grade::normalize(grade::reference_answer(text));
}

bool answers_agree(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty() || a == b) return true;
  return grade::equivalent_normalized(a, b).equal;
}

}  // namespace tamis::dedup
