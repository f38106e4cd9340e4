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
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return;
  out = grade::reference_answer(std::string_view(text).substr(begin, text.find_last_not_of(" \t\r\n") + 1 - begin));
}

bool answers_agree(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty() || a == b) return true;
  // Normalised only here: most records are never compared (they match no earlier text).
  thread_local std::string na, nb;
  na = grade::normalize(a);
  nb = grade::normalize(b);
  if (na.empty() || nb.empty() || na == nb) return true;  // an answer that normalises to nothing is no answer
  return grade::equivalent_normalized(na, nb).equal;
}

}  // namespace tamis::dedup
