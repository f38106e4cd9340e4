// Rendering output lines: kept and rejected records (original bytes plus the annotations object),
// error lines and ledger lines.
#pragma once

#include <string>
#include <string_view>

#include "engine/batch.hpp"

namespace tamis {

// The byte range of the top-level member `key` of a valid JSON object text (from the key's opening
// quote to the end of its value, plus one neighbouring comma), or {npos, 0} when absent. Keys are
// compared after unescaping ("\u0074amis" is the key tamis).
std::pair<size_t, size_t> find_member(std::string_view object_text, std::string_view key);

// Copies the valid JSON object text `s` to `out` without any of its top-level members named `key`
// (compared unescaped), each with one neighbouring comma as find_member() takes it; returns false (and
// leaves `out` alone) when there is none. A key written twice goes twice.
bool strip_members(std::string_view s, std::string_view key, std::string& out);

struct RejectionText {
  std::string_view stage;
  std::string_view reason;
  std::string_view detail;
};

// Appends `r` as one output line: its text, with the annotations (and the rejection, if any) in the
// member `field`, replacing every member of that name the record already had. A record with nothing to
// add and no such member is written byte for byte.
void render_record(std::string& out, const Record& r, std::string_view field, const RejectionText* rejection);

}  // namespace tamis
