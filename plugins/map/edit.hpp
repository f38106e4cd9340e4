// The `map` family's shared pieces: reading a field as text or as a JSON value, templates that build a
// string or a JSON value from a record's fields, and setting a member at a path of a record's text
// without reparsing or rewriting the rest of it.
#pragma once

#include <tamis/sdk.hpp>
#include <tamis/text_template.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tamis::map {

// Why a field could not be used: `field` is its path; `detail` a sentence for the rejected record.
struct Missing {
  std::string field;
  std::string detail;
};

// A field's value as text: a string (unescaped), a number (as written) or a boolean. Null, absent,
// arrays and objects give nothing, and `why` says which.
std::optional<std::string> field_text(const Record& r, std::string_view path, std::string* why = nullptr);

// A text template: literal text and {FIELD} places, FIELD a path (`a.b` or a JSON pointer); {{ and }} are
// literal braces (the rules of rollout.sample's prompt_template).
class TextTemplate {
 public:
  // Throws tamis::Error naming `what` on an unclosed, unopened or empty brace.
  static TextTemplate parse(std::string_view text, std::string_view what);

  // The text with every place filled, or nothing (and `missing` says which field) when a field is
  // absent, null, or not a string, number or boolean.
  std::optional<std::string> render(const Record& r, Missing& missing) const;
  // When the template is exactly one place ("{problem}"): its field path.
  std::optional<std::string_view> single_field() const;
  bool empty() const { return parts_.empty(); }

 private:
  std::vector<TemplatePart> parts_;
};

// A JSON template: any JSON value whose strings are text templates. A string that is exactly one place
// ("{messages}") takes the field's value as it is written, of any JSON type (a list of messages is
// copied whole); other strings are filled as text. Object keys are literal.
class JsonTemplate {
 public:
  // From a parameter's JSON value. Throws tamis::Error naming `what` for a bad template string.
  static JsonTemplate compile(simdjson::dom::element value, std::string_view what);

  // The JSON text, or nothing (and `missing` says why).
  std::optional<std::string> render(const Record& r, Missing& missing) const;
  // Whether the whole template is one string template (not an array or object).
  bool is_string() const { return string_; }
  // The text template when is_string().
  const TextTemplate& text() const { return top_; }

 private:
  struct Piece {
    enum class Kind { literal, text, value } kind = Kind::literal;
    std::string literal;  // Kind::literal: JSON text to copy
    TextTemplate text;    // Kind::text: a quoted string filled from fields
    std::string field;    // Kind::value: the path of a field copied as it is
  };
  void add(simdjson::dom::element value, std::string_view what);
  void literal(std::string_view json_text);
  std::vector<Piece> pieces_;
  bool string_ = false;
  TextTemplate top_;  // the template when string_
};

// Splits a field path `a.b.c` into keys. Throws tamis::Error (naming `what`) for an empty path, an
// empty key or a JSON pointer (setting takes dotted paths only).
std::vector<std::string> split_path(std::string_view path, std::string_view what);

// The outcome of set_member().
enum class SetResult { changed, unchanged, conflict };

// Sets the member at `keys` (from split_path) of the JSON object text `obj` to `value_json` (valid
// JSON text): replaces it (every member of that key, as JSON readers differ on duplicates) when
// `overwrite`, else leaves a present member alone; a missing member is appended to its object, and
// missing intermediate objects are created. `conflict` when a key on the way holds something other
// than an object (then `out` is unspecified and `conflict_key` names the path up to it).
SetResult set_member(std::string_view obj, const std::vector<std::string>& keys, std::string_view value_json,
                     bool overwrite, std::string& out, std::string& conflict_key);

// The value text of the first member `key` (unescaped comparison) of `obj`, as json::member_value.
std::optional<std::string_view> member(std::string_view obj, std::string_view key);

}  // namespace tamis::map
