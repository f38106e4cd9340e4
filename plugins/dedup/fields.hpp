// Reading one string field of a record without a DOM parse.
//
// The SDK's Record::field() parses the whole record with simdjson's DOM parser, which was about a fifth
// of dedup.exact's time on the benchmark pool, to read one short field of a ~500-byte record. The host
// has already validated every record (one valid UTF-8 JSON object; replaced text is checked too), so a
// scan that only finds boundaries is enough for a plain top-level key. Anything else (a dotted path, a
// JSON pointer, a value that is not a string) goes back to Record::field(), so results never differ.
//
//     std::string key;
//     switch (append_string_field(r, "problem", key)) { ... }
#pragma once

#include <tamis/sdk.hpp>

#include <string>
#include <string_view>

namespace tamis::dedup {

enum class FieldKind { absent, string, other };

// The value of top-level member `key` of the JSON object text `json` (valid JSON): `raw` is the string
// body as written (escapes kept, no quotes) when kind is `string`. The first member of that name wins,
// as with simdjson.
struct RawField {
  FieldKind kind = FieldKind::absent;
  std::string_view raw;
};
RawField find_top_level(std::string_view json, std::string_view key);

// Appends the text of a JSON string body (as written, escapes kept) to `out`, unescaped to UTF-8.
// Returns false (out partly written) on a \u surrogate escape that is not a high-low pair, which
// callers leave to simdjson.
bool append_unescaped(std::string_view body, std::string& out);

// True when `path` names a top-level key directly (no '.', not a JSON pointer): find_top_level applies.
inline bool plain_key(std::string_view path) {
  return !path.empty() && path.front() != '/' && path.find('.') == std::string_view::npos;
}

// Reads string field `path` of `r` into `out` (replacing its content). Returns its kind: `string` (out
// holds the unescaped text), `absent`, or `other` (present but not a string; out untouched).
FieldKind read_string_field(const Record& r, std::string_view path, std::string& out);

}  // namespace tamis::dedup
