// Whole-file I/O for the dedup family's side files (index files, clusters files).
#pragma once

#include <string>
#include <string_view>

namespace tamis::dedup {

// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename over it, so a reader
// never sees half a file. `what` names the file in messages ("index file"). Throws tamis::Error.
void write_atomically(const std::string& path, std::string_view bytes, const std::string& what);

// The whole content of `path`. Throws tamis::Error("cannot open <what> '<path>': ...").
std::string read_whole(const std::string& path, const std::string& what);

}  // namespace tamis::dedup
