#include "answers.hpp"

#include <answer.hpp>
#include <xxhash.h>

#include <cstdio>

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
      const bool structured = e->is_object() || (e->is_array() && e->get_array().value_unsafe().size() > 0 &&
                                                  e->get_array().value_unsafe().at(0).value_unsafe().is_object());
      if (structured) {  // a code problem's tests: compared as JSON, through a hash
        const std::string json = simdjson::minify(*e);
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(XXH3_64bits(json.data(), json.size())));
        out = std::string(kStructuredAnswer) + hex;
        return;
      }
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

namespace {

// A plain decimal number ("97", "-3", "097", "2.50", "+4.", " 12 "): its canonical text (no sign for
// zero, no leading zeros, no trailing fractional zeros), or "" when `s` is anything else. Most answers
// in template-heavy pools are such numbers: comparing them needs no normalisation.
std::string_view plain_number(std::string_view s, char* buf, size_t cap) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  size_t dot = std::string_view::npos, digits = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') ++digits;
    else if (s[i] == '.' && dot == std::string_view::npos) dot = i;
    else return {};
  }
  if (digits == 0 || s.size() + 2 > cap) return {};
  std::string_view whole = s.substr(0, dot), frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  while (!whole.empty() && whole.front() == '0') whole.remove_prefix(1);
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  size_t n = 0;
  if (negative && (!whole.empty() || !frac.empty())) buf[n++] = '-';
  if (whole.empty()) buf[n++] = '0';
  for (char c : whole) buf[n++] = c;
  if (!frac.empty()) {
    buf[n++] = '.';
    for (char c : frac) buf[n++] = c;
  }
  return {buf, n};
}

}  // namespace

bool answers_agree(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty() || a == b) return true;
  if (a.starts_with(kStructuredAnswer) || b.starts_with(kStructuredAnswer)) return false;  // other tests, or tests against an answer
  char ba[64], bb[64];
  const std::string_view pa = plain_number(a, ba, sizeof ba), pb = plain_number(b, bb, sizeof bb);
  if (!pa.empty() && !pb.empty()) return pa == pb;
  // Normalised only here: the grader's canonical forms, then its equivalence.
  thread_local std::string na, nb;
  na = grade::normalize(a);
  nb = grade::normalize(b);
  if (na.empty() || nb.empty() || na == nb) return true;  // an answer that normalises to nothing is no answer
  const grade::Equivalence eq = grade::equivalent_normalized(na, nb);
  if (eq.equal) return true;
  // Answers the grader refuses to compare for their length (a proof, a worked solution whose final
  // answer was not found) say nothing about the problem: no answer. Too complex to decide: different.
  return eq.reason.ends_with("_too_long");
}

}  // namespace tamis::dedup
