// Reading one string field of a record without a DOM parse.
//
// The SDK's Record::field() parses the whole record with simdjson's DOM parser, which was about a fifth
// of dedup.exact's time on the benchmark pool, to read one short field of a ~500-byte record. The host
// has already validated every record, so Record::raw_field() finds key paths in the text; the string is
// then unescaped into the caller's reused buffer (no allocation per record). JSON pointers and lone
// surrogate escapes go back to Record::field(), so results never differ.
//
//     std::string key;
//     switch (read_string_field(r, "problem", key)) { ... }
#pragma once

#include <tamis/sdk.hpp>

#include <string>
#include <string_view>

namespace tamis::dedup {

enum class FieldKind { absent, string, other };

// Appends the text of a JSON string body (as written, escapes kept) to `out`, unescaped to UTF-8.
// Returns false (out partly written) on a \u surrogate escape that is not a high-low pair, which
// callers leave to simdjson.
bool append_unescaped(std::string_view body, std::string& out);

// Reads string field `path` of `r` into `out` (replacing its content). Returns its kind: `string` (out
// holds the unescaped text), `absent`, or `other` (present but not a string; out untouched).
FieldKind read_string_field(const Record& r, std::string_view path, std::string& out);

}  // namespace tamis::dedup
