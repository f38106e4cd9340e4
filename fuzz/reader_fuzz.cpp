// The JSONL reader (io::JsonlFileReader) over plain, gzip and zstd files, whole or cut short.
//
// Input: [mode] [chunk] [cut] [limits] payload. Modes: 0 the payload as a .jsonl file; 1 and 2 the payload
// itself as a .gz / .zst file (damaged streams); 3 and 4 the payload compressed to .gz / .zst and cut
// at cut/255 of its length (255: whole). Chunks are small (1 byte to 4 KB), a line may cost its chunk
// up to 63 bytes more than its length (ReaderLimits::line_cost), and the maximum line size is either
// the default or 16 to 268 bytes (lines beyond it come back cut and flagged long). Checked against an independent split of the payload: whole
// files give exactly its lines (numbers, text, blank count, bytes); cut ones a prefix of them, the
// last possibly partial and flagged so; damaged ones at least well-formed lines. A ReadError is a fine
// outcome; a crash, a leak, undefined behaviour or a wrong line is not.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "io/jsonl_reader.hpp"

namespace {

using tamis::fuzz::Input;

struct Expected {
  uint64_t number;
  std::string text;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The reader's contract, written out plainly: lines end at '\n'; a UTF-8 BOM opening the file and the
// spaces around each line go; empty lines are counted, not returned.
std::vector<Expected> expected_lines(std::string_view text, uint64_t& blank) {
  std::vector<Expected> out;
  blank = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  uint64_t number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    ++number;
    const std::string_view line = trim(text.substr(pos, end - pos));
    if (line.empty()) ++blank;
    else out.push_back({number, std::string(line)});
    pos = end + 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const int mode = in.byte() % 5;
  const uint8_t chunk_byte = in.byte();
  const uint8_t cut_byte = in.byte();
  const uint8_t limits_byte = in.byte();
  const std::string_view payload = in.rest();
  // Small chunks, so that lines are carried over and buffers grow.
  const size_t chunk_size = 1 + (chunk_byte & 63) * (chunk_byte & 64 ? 64 : 1);

  static const char* const kExt[] = {".jsonl", ".jsonl.gz", ".jsonl.zst", ".jsonl.gz", ".jsonl.zst"};
  const std::string path = std::string(tamis::fuzz::scratch_dir()) + "/in" + kExt[mode];
  std::string file;
  bool cut = false;
  switch (mode) {
    case 0: case 1: case 2: file = std::string(payload); break;
    case 3: file = tamis::fuzz::gzip(payload); break;
    case 4: file = tamis::fuzz::zstd(payload); break;
  }
  if (mode >= 3 && cut_byte != 255) {
    file.resize(file.size() * cut_byte / 255);
    cut = true;
  }
  tamis::fuzz::write_file(path, file);
  const bool known = mode == 0 || mode >= 3;  // the decompressed text is the payload (or a prefix of it)

  uint64_t expected_blank = 0;
  const std::vector<Expected> expected = expected_lines(payload, expected_blank);
  std::vector<Expected> got;
  uint64_t blank = 0, bytes = 0;
  bool truncated = false, partial = false;
  tamis::io::ReaderLimits limits;
  limits.chunk_bytes = chunk_size;
  limits.line_cost = limits_byte & 63;
  if (limits_byte & 64) limits.max_line_bytes = 16 + (limits_byte & 63) * 4;
  bool long_lines = false;
  tamis::io::BufferPool pool(chunk_size);
  try {
    tamis::io::JsonlFileReader reader(path, limits, pool);
    tamis::io::LineChunk chunk;
    uint64_t last_number = 0;
    while (reader.next(chunk)) {
      FUZZ_CHECK(!truncated);  // nothing after the chunk that reported the cut
      std::vector<bool> is_long(chunk.lines.size(), false);
      for (const auto& ll : chunk.long_lines) {
        FUZZ_CHECK(ll.index < chunk.lines.size() && ll.length > limits.max_line_bytes);
        FUZZ_CHECK(ll.length >= chunk.lines[ll.index].size);
        is_long[ll.index] = true;
        long_lines = true;
      }
      for (size_t i = 0; i < chunk.lines.size(); ++i) {
        const auto& l = chunk.lines[i];
        const std::string_view t = chunk.text(l);
        // A long line's first bytes are kept as they are; other lines are trimmed and not empty.
        FUZZ_CHECK(is_long[i] || (!t.empty() && !is_space(t.front()) && !is_space(t.back())));
        FUZZ_CHECK(t.find('\n') == std::string_view::npos);
        FUZZ_CHECK(l.number > last_number);
        last_number = l.number;
        // simdjson reads up to kPadding bytes past a line: they must be ours (ASan checks).
        volatile char past = chunk.buffer.data[l.offset + l.size + tamis::io::kPadding - 1];
        (void)past;
        got.push_back({l.number, std::string(t)});
      }
      blank += chunk.blank_lines;
      bytes += chunk.bytes;
      if (chunk.truncated) {
        truncated = true;
        partial = chunk.last_line_partial;
        FUZZ_CHECK(!partial || (!chunk.lines.empty() && chunk.truncated_line == chunk.lines.back().number));
      }
      tamis::io::Buffer b = std::move(chunk.buffer);
      pool.put(std::move(b));
    }
  } catch (const tamis::io::ReadError&) {
    FUZZ_CHECK(mode != 0 && !(known && !cut));  // a whole plain or well-compressed file always reads
    return 0;
  }
  // Lines beyond the maximum come back cut: then only the lines that came back whole are compared.
  if (!known || long_lines) return 0;
  if (!cut) {
    FUZZ_CHECK(!truncated);
    FUZZ_CHECK(got.size() == expected.size() && blank == expected_blank && bytes == payload.size());
  }
  FUZZ_CHECK(got.size() <= expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    FUZZ_CHECK(got[i].number == expected[i].number);
    const bool last_partial = truncated && partial && i + 1 == got.size();
    if (!last_partial) {
      FUZZ_CHECK(got[i].text == expected[i].text);
    } else {
      // A cut line: a prefix of the whole one (or of the byte order mark that opens the file).
      const bool prefix = expected[i].text.compare(0, got[i].text.size(), got[i].text) == 0;
      FUZZ_CHECK(prefix || (got[i].number == 1 && std::string_view("\xEF\xBB\xBF").starts_with(got[i].text)));
    }
  }
  return 0;
}
