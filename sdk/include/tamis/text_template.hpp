// Text templates: literal text with {FIELD} places, FIELD a record field path ("problem", "meta.q",
// or a JSON pointer "/a/0"), and {{ and }} for literal braces. What ops that build a prompt or a field
// from other fields read (rollout.sample's prompt_template, map.template); each op fills the places
// its own way. Header-only, part of the SDK.
#pragma once

#include <tamis/sdk.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace tamis {

struct TemplatePart {
  bool field = false;
  std::string text;  // the literal, or the field path
};

// The parts of `text`, literals and places in order (adjacent literals joined). Throws tamis::Error
// naming `what` (the parameter) and the byte for an unclosed '{', a '}' without '{', or an empty or
// nested place.
inline std::vector<TemplatePart> parse_text_template(std::string_view text, std::string_view what) {
  std::vector<TemplatePart> parts;
  std::string lit;
  const std::string w(what);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      lit += c;
      ++i;
    } else if (c == '{') {
      const size_t end = text.find('}', i + 1);
      if (end == std::string_view::npos) throw Error(w + ": '{' at byte " + std::to_string(i) + " is not closed (write {{ for a brace)");
      const std::string_view path = text.substr(i + 1, end - i - 1);
      if (path.empty() || path.find('{') != std::string_view::npos) throw Error(w + ": bad field name at byte " + std::to_string(i));
      if (!lit.empty()) parts.push_back({false, std::move(lit)});
      lit.clear();
      parts.push_back({true, std::string(path)});
      i = end;
    } else if (c == '}') {
      throw Error(w + ": '}' at byte " + std::to_string(i) + " has no '{' (write }} for a brace)");
    } else {
      lit += c;
    }
  }
  if (!lit.empty()) parts.push_back({false, std::move(lit)});
  return parts;
}

}  // namespace tamis
