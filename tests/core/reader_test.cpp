// The JSONL reader: tamis::io::JsonlFileReader and open_byte_source as units, then the same cases end to
// end through `tamis run` (plain, .gz, .zst, concatenated members, CRLF, BOM, blank lines, no final
// newline, huge lines, truncated and corrupt compressed files, globs, empty files).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "core_test_helpers.hpp"
#include "io/byte_source.hpp"
#include "io/jsonl_reader.hpp"

namespace tamis::test {
namespace {

struct ReadLine {
  uint64_t number;
  std::string text;
  bool operator==(const ReadLine&) const = default;
};

std::ostream& operator<<(std::ostream& os, const ReadLine& l) { return os << l.number << ":" << l.text; }

struct ReadAll {
  std::vector<ReadLine> lines;
  std::vector<std::pair<uint64_t, uint64_t>> long_lines;  // line number, length
  uint64_t blank = 0, bytes = 0, chunks = 0, max_lines_per_chunk = 0;
  std::optional<std::string> truncated;
  bool last_line_partial = false;
  uint64_t truncated_line = 0;
};

// Reads the whole file with the given chunk size (and maximum line, and cost per line), checking the
// buffer invariants of every chunk.
ReadAll read_all(const fs::path& path, size_t chunk_size, size_t max_line = io::kDefaultMaxLineBytes, size_t line_cost = 0) {
  ReadAll out;
  io::BufferPool pool(chunk_size);
  io::JsonlFileReader reader(path.string(), io::ReaderLimits{chunk_size, max_line, line_cost}, pool);
  io::LineChunk chunk;
  while (reader.next(chunk)) {
    ++out.chunks;
    for (const io::LongLine& l : chunk.long_lines) {
      EXPECT_LT(l.index, chunk.lines.size());
      if (l.index < chunk.lines.size()) out.long_lines.push_back({chunk.lines[l.index].number, l.length});
    }
    out.max_lines_per_chunk = std::max<uint64_t>(out.max_lines_per_chunk, chunk.lines.size());
    // The budget: up to the start of the chunk's last line (offsets are starts in files without
    // leading spaces), its bytes plus line_cost per line are below the chunk size.
    if (line_cost && !chunk.lines.empty()) {
      EXPECT_LT(chunk.lines.back().offset + (chunk.lines.size() - 1) * line_cost, chunk_size) << "chunk " << out.chunks;
    }
    for (const io::Line& l : chunk.lines) {
      // simdjson parses in place: kPadding readable bytes must follow every line inside the buffer.
      EXPECT_LE(static_cast<size_t>(l.offset) + l.size, chunk.buffer.capacity) << "line " << l.number;
      out.lines.push_back({l.number, std::string(chunk.text(l))});
    }
    out.blank += chunk.blank_lines;
    out.bytes += chunk.bytes;
    if (chunk.truncated) {
      EXPECT_FALSE(out.truncated) << "two truncation reports";
      out.truncated = chunk.truncated;
      out.last_line_partial = chunk.last_line_partial;
      out.truncated_line = chunk.truncated_line;
    }
    pool.put(std::move(chunk.buffer));
    if (out.chunks > 1000000) {
      ADD_FAILURE() << "reader does not end";
      break;
    }
  }
  return out;
}

std::vector<ReadLine> numbered(const std::vector<std::string>& lines, uint64_t first = 1) {
  std::vector<ReadLine> out;
  for (size_t i = 0; i < lines.size(); ++i) out.push_back({first + i, lines[i]});
  return out;
}

// Varied records, some longer than small chunk sizes.
std::vector<std::string> sample_records(size_t n, uint64_t seed = 7) {
  TextGen gen(seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    const size_t len = i % 17 == 0 ? 3000 + gen.below(3000) : 5 + gen.below(200);
    out.push_back("{\"id\":\"r" + std::to_string(i) + "\",\"problem\":\"" + gen.text(len) + "\"}");
  }
  return out;
}

// ---------------------------------------------------------------- unit: byte sources

TEST(ByteSource, CompressionFromName) {
  EXPECT_EQ(io::compression_from_name("a.jsonl"), io::Compression::none);
  EXPECT_EQ(io::compression_from_name("a.jsonl.gz"), io::Compression::gzip);
  EXPECT_EQ(io::compression_from_name("a.jsonl.zst"), io::Compression::zstd);
  EXPECT_EQ(io::compression_from_name("a.jsonl.zstd"), io::Compression::zstd);
  EXPECT_EQ(io::compression_from_name("gz"), io::Compression::none);
}

std::string read_source(const fs::path& p, size_t step) {
  auto src = io::open_byte_source(p.string());
  std::string out;
  std::vector<char> buf(step);
  while (size_t n = src->read(buf.data(), buf.size())) out.append(buf.data(), n);
  EXPECT_EQ(src->file_bytes_consumed(), fs::file_size(p)) << p;
  return out;
}

TEST(ByteSource, DecompressesGzipAndZstdIncludingConcatenatedMembers) {
  TempDir t;
  const std::string a = join_lines(sample_records(300, 1)), b = join_lines(sample_records(200, 2));
  write_file(t / "p.jsonl", a);
  write_gzip(t / "a.gz", a);
  write_gzip(t / "b.gz", b);
  write_zstd(t / "a.zst", a);
  write_zstd(t / "b.zst", b);
  write_file(t / "two.jsonl.gz", read_file(t / "a.gz") + read_file(t / "b.gz"));
  write_file(t / "two.jsonl.zst", read_file(t / "a.zst") + read_file(t / "b.zst"));
  for (size_t step : {size_t{1} << 20, size_t{4096}, size_t{1}}) {
    SCOPED_TRACE(step);
    EXPECT_EQ(read_source(t / "p.jsonl", step), a);
    EXPECT_EQ(read_source(t / "a.gz", step), a);
    EXPECT_EQ(read_source(t / "a.zst", step), a);
    EXPECT_EQ(read_source(t / "two.jsonl.gz", step), a + b);
    EXPECT_EQ(read_source(t / "two.jsonl.zst", step), a + b);
  }
}

TEST(ByteSource, MissingFileNamesTheFile) {
  TempDir t;
  try {
    io::open_byte_source((t / "nope.jsonl").string());
    FAIL() << "no exception";
  } catch (const io::ReadError& e) {
    EXPECT_NE(std::string(e.what()).find((t / "nope.jsonl").string()), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- unit: the line reader

TEST(JsonlFileReader, PlainFileLinesNumbersAndBytes) {
  TempDir t;
  const auto recs = sample_records(500);
  const std::string text = join_lines(recs);
  write_file(t / "a.jsonl", text);
  const ReadAll r = read_all(t / "a.jsonl", 4 << 20);
  EXPECT_EQ(r.lines, numbered(recs));
  EXPECT_EQ(r.blank, 0u);
  EXPECT_EQ(r.bytes, text.size());
  EXPECT_LE(r.chunks, 3u);  // a file's first read is 64 KiB, then the reads double up to the chunk size
  EXPECT_FALSE(r.truncated);
}

TEST(JsonlFileReader, SameLinesForEveryChunkSizeAndCompression) {
  TempDir t;
  auto recs = sample_records(400);
  std::string text;
  std::vector<ReadLine> expected;
  uint64_t n = 0, blanks = 0;
  for (size_t i = 0; i < recs.size(); ++i) {
    text += recs[i] + "\n";
    expected.push_back({++n, recs[i]});
    if (i % 13 == 0) {
      text += "\n";
      ++n;
      ++blanks;
    }
  }
  write_file(t / "a.jsonl", text);
  write_gzip(t / "a.jsonl.gz", text);
  write_zstd(t / "a.jsonl.zst", text);
  for (const char* name : {"a.jsonl", "a.jsonl.gz", "a.jsonl.zst"}) {
    for (size_t chunk : {size_t{1}, size_t{16}, size_t{100}, size_t{4096}, size_t{65536}, size_t{4} << 20}) {
      SCOPED_TRACE(std::string(name) + " chunk " + std::to_string(chunk));
      const ReadAll r = read_all(t / name, chunk);
      EXPECT_EQ(r.lines, expected);
      EXPECT_EQ(r.blank, blanks);
      EXPECT_EQ(r.bytes, text.size());
      if (chunk == 4096) {
        EXPECT_GT(r.chunks, 10u);  // many chunks, so lines are cut at chunk ends
      }
    }
  }
}

TEST(JsonlFileReader, LinesLongerThanTheChunkGrowTheBuffer) {
  TempDir t;
  const std::string big(200000, 'x');
  const std::vector<std::string> recs = {"{\"a\":1}", "{\"s\":\"" + big + "\"}", "{\"b\":2}", "{\"s\":\"" + big + big + "\"}"};
  write_file(t / "a.jsonl", join_lines(recs));
  const ReadAll r = read_all(t / "a.jsonl", 1024);
  EXPECT_EQ(r.lines, numbered(recs));
}

TEST(JsonlFileReader, CrlfLineEndings) {
  TempDir t;
  write_file(t / "a.jsonl", "{\"a\":1}\r\n{\"b\":\"x\\r\"}\r\n\r\n{\"c\":3}\r\n");
  const ReadAll r = read_all(t / "a.jsonl", 4096);
  EXPECT_EQ(r.lines, (std::vector<ReadLine>{{1, "{\"a\":1}"}, {2, "{\"b\":\"x\\r\"}"}, {4, "{\"c\":3}"}}));
  EXPECT_EQ(r.blank, 1u);
}

TEST(JsonlFileReader, Utf8ByteOrderMarkAtFileStartIsRemoved) {
  TempDir t;
  write_file(t / "a.jsonl", "\xEF\xBB\xBF{\"a\":\"\xC3\xA9\"}\n{\"b\":2}\n");
  const ReadAll r = read_all(t / "a.jsonl", 4096);
  EXPECT_EQ(r.lines, (std::vector<ReadLine>{{1, "{\"a\":\"\xC3\xA9\"}"}, {2, "{\"b\":2}"}}));
  // Compressed too: the mark is at the start of the decompressed text.
  write_gzip(t / "b.jsonl.gz", "\xEF\xBB\xBF{\"a\":1}\n");
  EXPECT_EQ(read_all(t / "b.jsonl.gz", 4096).lines, (std::vector<ReadLine>{{1, "{\"a\":1}"}}));
  // A mark alone on the first line makes it blank.
  write_file(t / "c.jsonl", "\xEF\xBB\xBF\n{\"a\":1}\n");
  const ReadAll c = read_all(t / "c.jsonl", 4096);
  EXPECT_EQ(c.lines, (std::vector<ReadLine>{{2, "{\"a\":1}"}}));
  EXPECT_EQ(c.blank, 1u);
}

TEST(JsonlFileReader, BlankAndWhitespaceOnlyLinesAreCountedNotReturned) {
  TempDir t;
  write_file(t / "a.jsonl", "\n  \n{\"a\":1}\n\t \t\n \r\n   {\"b\":2}   \n\n");
  const ReadAll r = read_all(t / "a.jsonl", 4096);
  EXPECT_EQ(r.lines, (std::vector<ReadLine>{{3, "{\"a\":1}"}, {6, "{\"b\":2}"}}));
  EXPECT_EQ(r.blank, 5u);
}

TEST(JsonlFileReader, NoTrailingNewline) {
  TempDir t;
  write_file(t / "a.jsonl", "{\"a\":1}\n{\"b\":2}");
  for (size_t chunk : {size_t{3}, size_t{4096}}) {
    const ReadAll r = read_all(t / "a.jsonl", chunk);
    EXPECT_EQ(r.lines, (std::vector<ReadLine>{{1, "{\"a\":1}"}, {2, "{\"b\":2}"}})) << chunk;
    EXPECT_EQ(r.bytes, 15u);
  }
}

TEST(JsonlFileReader, EmptyFiles) {
  TempDir t;
  write_file(t / "a.jsonl", "");
  write_gzip(t / "a.jsonl.gz", "");
  write_zstd(t / "a.jsonl.zst", "");
  for (const char* name : {"a.jsonl", "a.jsonl.gz", "a.jsonl.zst"}) {
    const ReadAll r = read_all(t / name, 4096);
    EXPECT_TRUE(r.lines.empty()) << name;
    EXPECT_EQ(r.bytes, 0u) << name;
    EXPECT_FALSE(r.truncated) << name;
  }
}

// Cuts a compressed file in half: the reader returns the good prefix and reports the cut line.
void check_truncated(const fs::path& full_plain, const fs::path& cut) {
  const auto all = read_lines(full_plain);
  const ReadAll r = read_all(cut, 65536);
  ASSERT_TRUE(r.truncated.has_value());
  EXPECT_NE(r.truncated->find(cut.string()), std::string::npos) << *r.truncated;
  EXPECT_NE(r.truncated->find("truncated"), std::string::npos) << *r.truncated;
  ASSERT_FALSE(r.lines.empty());
  ASSERT_LT(r.lines.size(), all.size());
  // Every complete line is a line of the original, in order.
  const size_t complete = r.last_line_partial ? r.lines.size() - 1 : r.lines.size();
  for (size_t i = 0; i < complete; ++i) ASSERT_EQ(r.lines[i], (ReadLine{i + 1, all[i]}));
  if (r.last_line_partial) {
    const ReadLine& last = r.lines.back();
    EXPECT_EQ(last.number, r.lines.size());
    EXPECT_EQ(r.truncated_line, last.number);
    EXPECT_LT(last.text.size(), all[last.number - 1].size());
    EXPECT_EQ(all[last.number - 1].compare(0, last.text.size(), last.text), 0) << "the partial line is a prefix";
  } else {
    EXPECT_EQ(r.truncated_line, r.lines.size() + 1);
  }
}

TEST(JsonlFileReader, TruncatedGzipAndZstd) {
  TempDir t;
  const std::string text = join_lines(sample_records(3000));
  write_file(t / "a.jsonl", text);
  write_gzip(t / "a.jsonl.gz", text);
  write_zstd(t / "a.jsonl.zst", text);
  for (const char* name : {"a.jsonl.gz", "a.jsonl.zst"}) {
    SCOPED_TRACE(name);
    const std::string z = read_file(t / name);
    const fs::path cut = t / (std::string("cut-") + name);
    write_file(cut, z.substr(0, z.size() / 2));
    check_truncated(t / "a.jsonl", cut);
  }
}

TEST(JsonlFileReader, CorruptGzipThrowsReadErrorNamingTheFile) {
  TempDir t;
  const std::string text = join_lines(sample_records(3000));
  write_gzip(t / "a.jsonl.gz", text);
  std::string z = read_file(t / "a.jsonl.gz");
  for (size_t i = z.size() / 3; i < z.size() / 3 + 64; ++i) z[i] = static_cast<char>(~z[i]);
  write_file(t / "bad.jsonl.gz", z);
  try {
    read_all(t / "bad.jsonl.gz", 65536);
    FAIL() << "no exception";
  } catch (const io::TruncatedError& e) {
    FAIL() << "corruption reported as truncation: " << e.what();
  } catch (const io::ReadError& e) {
    EXPECT_NE(std::string(e.what()).find((t / "bad.jsonl.gz").string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("corrupt"), std::string::npos) << e.what();
  }
}

// Lines as "number:size:hash", so that a mismatch of long lines prints briefly.
std::vector<std::string> brief(const std::vector<ReadLine>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    out.push_back(std::to_string(l.number) + ":" + std::to_string(l.text.size()) + ":" +
                  std::to_string(std::hash<std::string>{}(l.text) % 1000000));
  }
  return out;
}

// A line longer than the maximum is one line of the chunk holding its first bytes, flagged with its
// whole length; its other bytes are dropped and the lines after it read as usual, for every chunk
// size (smaller or larger than the maximum) and compression.
TEST(JsonlFileReader, LinesOverTheMaximumAreCutFlaggedAndSkipped) {
  TempDir t;
  TextGen gen(3);
  const std::string long1 = "{\"s\":\"" + gen.text(5000) + "\"}";         // over the maximum of 1000
  const std::string huge = "{\"s\":\"" + std::string(3u << 20, 'h') + "\"}";  // over several chunks
  const std::string at_max = "{\"s\":\"" + std::string(1000 - 8, 'm') + "\"}";  // exactly the maximum: read
  ASSERT_EQ(at_max.size(), 1000u);
  const std::string tail = "{\"t\":\"" + std::string(1500, 't');             // the last line, no newline
  const std::string text = "{\"a\":1}\n" + long1 + "\n\n{\"b\":2}\n" + huge + "\r\n" + at_max + "\n{\"c\":3}\n" + tail;
  write_file(t / "a.jsonl", text);
  write_gzip(t / "a.jsonl.gz", text);
  write_zstd(t / "a.jsonl.zst", text);
  // Of a line over the maximum, its first 1000 bytes (the maximum) are kept.
  const std::vector<ReadLine> expected = {{1, "{\"a\":1}"}, {2, long1.substr(0, 1000)}, {4, "{\"b\":2}"},
                                          {5, huge.substr(0, 1000)}, {6, at_max}, {7, "{\"c\":3}"}, {8, tail.substr(0, 1000)}};
  const std::vector<std::pair<uint64_t, uint64_t>> expected_long = {{2, long1.size()}, {5, huge.size() + 1}, {8, tail.size()}};
  for (const char* name : {"a.jsonl", "a.jsonl.gz", "a.jsonl.zst"}) {
    for (size_t chunk : {size_t{16}, size_t{700}, size_t{4096}, size_t{1} << 20}) {
      SCOPED_TRACE(std::string(name) + " chunk " + std::to_string(chunk));
      const ReadAll r = read_all(t / name, chunk, 1000);
      EXPECT_EQ(brief(r.lines), brief(expected));
      EXPECT_EQ(r.long_lines, expected_long) << "(line, length) of the lines over the maximum";
      EXPECT_EQ(r.blank, 1u);
      EXPECT_EQ(r.bytes, text.size());
      EXPECT_FALSE(r.truncated);
    }
  }
}

// The reader never holds a line much longer than the maximum: one endless line of a compressed
// bomb leaves only small buffers, and the lines after it are read.
TEST(JsonlFileReader, AnEndlessLineIsNotBuffered) {
  TempDir t;
  const auto made = run_shell("cd " + t.path().string() +
                              " && { echo '{\"a\":1}'; head -c 200000000 /dev/zero; printf '\\n{\"b\":2}\\n'; } | zstd -q -1 -o bomb.jsonl.zst");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  io::BufferPool pool(65536);
  io::JsonlFileReader reader((t / "bomb.jsonl.zst").string(), io::ReaderLimits{65536, 1 << 20, 0}, pool);
  io::LineChunk chunk;
  std::vector<std::string> lines;
  std::vector<uint64_t> long_lengths;
  size_t largest = 0;
  while (reader.next(chunk)) {
    largest = std::max(largest, chunk.buffer.capacity);
    for (const io::Line& l : chunk.lines) lines.push_back(std::to_string(l.number) + ":" + std::string(chunk.text(l).substr(0, 8)));
    for (const io::LongLine& l : chunk.long_lines) long_lengths.push_back(l.length);
    pool.put(std::move(chunk.buffer));
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"1:{\"a\":1}", std::string("2:") + std::string(8, '\0'), "3:{\"b\":2}"}));
  EXPECT_EQ(long_lengths, std::vector<uint64_t>{200000000});
  EXPECT_LE(largest, size_t{1} << 20) << "a chunk kept a buffer of the size of the line";
}

// A chunk ends when its bytes plus line_cost per line reach the chunk size: a file of tiny lines
// gives chunks of a bounded number of lines, and the same lines as without the budget.
TEST(JsonlFileReader, ChunksOfTinyLinesAreBoundedByTheCostPerLine) {
  TempDir t;
  std::string text;
  std::vector<std::string> recs;
  for (int i = 0; i < 200000; ++i) recs.push_back("{\"id\":" + std::to_string(i) + "}");
  write_file(t / "a.jsonl", join_lines(recs));
  write_zstd(t / "a.jsonl.zst", join_lines(recs));
  for (const char* name : {"a.jsonl", "a.jsonl.zst"}) {
    SCOPED_TRACE(name);
    const ReadAll unbounded = read_all(t / name, 1 << 20);
    EXPECT_EQ(brief(unbounded.lines), brief(numbered(recs)));
    EXPECT_GT(unbounded.max_lines_per_chunk, 50000u);
    const ReadAll r = read_all(t / name, 1 << 20, io::kDefaultMaxLineBytes, 512);
    EXPECT_EQ(brief(r.lines), brief(numbered(recs)));
    EXPECT_LE(r.max_lines_per_chunk, (1u << 20) / 512);
    EXPECT_GE(r.max_lines_per_chunk, (1u << 20) / (512 + 13)) << "chunks are filled up to the budget";
    EXPECT_EQ(r.bytes, join_lines(recs).size());
  }
  // Lines longer than the chunk still make chunks of one line each.
  std::vector<std::string> big;
  for (int i = 0; i < 20; ++i) big.push_back("{\"s\":\"" + std::string(3000 + 100 * i, 'x') + "\"}");
  write_file(t / "b.jsonl", join_lines(big));
  const ReadAll b = read_all(t / "b.jsonl", 2048, io::kDefaultMaxLineBytes, 512);
  EXPECT_EQ(brief(b.lines), brief(numbered(big)));
  EXPECT_EQ(b.max_lines_per_chunk, 1u);
}

// ---------------------------------------------------------------- end to end

// A pipeline with one source and every sink, an annotating length stage so kept lines show the record
// went through a stage.
std::string pipeline_for(const std::string& path, const std::string& extra_source = "", const std::string& id = "id") {
  return "version: 1\n"
         "sources:\n"
         "  s: { path: \"" + path + "\"" + (id.empty() ? "" : ", id: " + id) + extra_source + " }\n"
         "stages:\n"
         "  len:\n"
         "    uses: filter.length\n"
         "    with: { field: problem, unit: bytes, annotate: true }\n"
         "sinks:\n"
         "  kept: { path: out/kept.jsonl }\n"
         "  errors: { path: out/errors.jsonl, errors: true }\n"
         "  ledger: { path: out/ledger.jsonl, ledger: true }\n"
         "  report: { path: out/report.json, report: true }\n";
}

std::string with_length(const std::string& rec) {
  const std::string p = json_string(rec, "problem");
  return rec.substr(0, rec.size() - 1) + ",\"tamis\":{\"length\":" + std::to_string(p.size()) + "}}";
}

TEST(ReaderCli, PlainGzipAndZstdGiveTheSameOutput) {
  TempDir t;
  const auto recs = sample_records(2000);
  const std::string text = join_lines(recs);
  write_file(t / "d/a.jsonl", text);
  write_gzip(t / "d/a.jsonl.gz", text);
  write_zstd(t / "d/a.jsonl.zst", text);
  std::vector<std::string> expected_kept;
  for (const auto& r : recs) expected_kept.push_back(with_length(r));
  for (const char* name : {"a.jsonl", "a.jsonl.gz", "a.jsonl.zst"}) {
    SCOPED_TRACE(name);
    fs::remove_all(t / "out");
    write_file(t / "p.yaml", pipeline_for(std::string("d/") + name));
    const auto r = run_tamis({"run", (t / "p.yaml").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "") << "quiet when stderr is not a terminal";
    EXPECT_EQ(read_lines(t / "out/kept.jsonl"), expected_kept);
    const auto ledger = read_lines(t / "out/ledger.jsonl");
    ASSERT_EQ(ledger.size(), recs.size());
    EXPECT_EQ(ledger[1999], "{\"id\":\"r1999\",\"source\":\"s\",\"file\":\"d/" + std::string(name) +
                                "\",\"line\":2000,\"fate\":\"kept\",\"sinks\":[\"kept\"]}");
    EXPECT_EQ(read_file(t / "out/errors.jsonl"), "");
    const auto s = parse_summary(r.out);
    EXPECT_TRUE(s.found) << r.out;
    EXPECT_EQ(s.read, 2000u);
    EXPECT_EQ(s.kept, 2000u);
  }
}

TEST(ReaderCli, GzipOfTwoConcatenatedMembers) {
  TempDir t;
  write_gzip(t / "a.gz", "{\"id\":\"m1\",\"problem\":\"one\"}\n");
  write_gzip(t / "b.gz", "{\"id\":\"m2\",\"problem\":\"two\"}\n{\"id\":\"m3\",\"problem\":\"three\"}\n");
  write_file(t / "in.jsonl.gz", read_file(t / "a.gz") + read_file(t / "b.gz"));
  write_file(t / "p.yaml", pipeline_for("in.jsonl.gz"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "out/kept.jsonl"),
            "{\"id\":\"m1\",\"problem\":\"one\",\"tamis\":{\"length\":3}}\n"
            "{\"id\":\"m2\",\"problem\":\"two\",\"tamis\":{\"length\":3}}\n"
            "{\"id\":\"m3\",\"problem\":\"three\",\"tamis\":{\"length\":5}}\n");
}

TEST(ReaderCli, CrlfBomBlankLinesAndNoFinalNewline) {
  TempDir t;
  write_file(t / "in.jsonl",
             "\xEF\xBB\xBF{\"id\":\"a\",\"problem\":\"caf\xC3\xA9\"}\r\n"
             "\r\n"
             "   \t \r\n"
             "{\"id\":\"b\",\"problem\":\"x\"}\r\n"
             "\n"
             "{\"id\":\"c\",\"problem\":\"yz\"}");
  write_file(t / "p.yaml", pipeline_for("in.jsonl"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "out/kept.jsonl"),
            "{\"id\":\"a\",\"problem\":\"caf\xC3\xA9\",\"tamis\":{\"length\":5}}\n"
            "{\"id\":\"b\",\"problem\":\"x\",\"tamis\":{\"length\":1}}\n"
            "{\"id\":\"c\",\"problem\":\"yz\",\"tamis\":{\"length\":2}}\n");
  EXPECT_EQ(read_file(t / "out/ledger.jsonl"),
            "{\"id\":\"a\",\"source\":\"s\",\"file\":\"in.jsonl\",\"line\":1,\"fate\":\"kept\",\"sinks\":[\"kept\"]}\n"
            "{\"id\":\"b\",\"source\":\"s\",\"file\":\"in.jsonl\",\"line\":4,\"fate\":\"kept\",\"sinks\":[\"kept\"]}\n"
            "{\"id\":\"c\",\"source\":\"s\",\"file\":\"in.jsonl\",\"line\":6,\"fate\":\"kept\",\"sinks\":[\"kept\"]}\n");
  const std::string report = read_file(t / "out/report.json");
  EXPECT_NE(report.find("\"lines\": 6, \"blank_lines\": 3, \"records\": 3, \"errors\": 0"), std::string::npos) << report;
}

TEST(ReaderCli, FiftyMegabyteSingleLine) {
  TempDir t;
  std::string problem(50u << 20, 'a');
  for (size_t i = 0; i < problem.size(); i += 4099) problem[i] = 'b';
  const std::string big = "{\"id\":\"big\",\"problem\":\"" + problem + "\",\"tail\":1.50}";
  const std::string small = "{\"id\":\"small\",\"problem\":\"hi\"}";
  write_file(t / "in.jsonl", small + "\n" + big + "\n" + small + "\n");
  write_file(t / "p.yaml", pipeline_for("in.jsonl", ", on_error: fail"));
  const auto r = run_tamis({"run", (t / "p.yaml").string(), "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string kept = read_file(t / "out/kept.jsonl");
  const std::string expected_big = big.substr(0, big.size() - 1) + ",\"tamis\":{\"length\":" + std::to_string(problem.size()) + "}}";
  const std::string expected_small = "{\"id\":\"small\",\"problem\":\"hi\",\"tamis\":{\"length\":2}}";
  EXPECT_TRUE(kept == expected_small + "\n" + expected_big + "\n" + expected_small + "\n")
      << "kept.jsonl is " << kept.size() << " bytes, starts " << kept.substr(0, 120);
  EXPECT_EQ(read_file(t / "out/ledger.jsonl"),
            "{\"id\":\"small\",\"source\":\"s\",\"file\":\"in.jsonl\",\"line\":1,\"fate\":\"kept\",\"sinks\":[\"kept\"]}\n"
            "{\"id\":\"big\",\"source\":\"s\",\"file\":\"in.jsonl\",\"line\":2,\"fate\":\"kept\",\"sinks\":[\"kept\"]}\n"
            "{\"id\":\"small\",\"source\":\"s\",\"file\":\"in.jsonl\",\"line\":3,\"fate\":\"kept\",\"sinks\":[\"kept\"]}\n");
}

// A line over the source's max_line_bytes is an unreadable line: with on_error: skip it goes to the
// errors sink (its first 1 MiB, cut between two UTF-8 characters, marked with the whole length), the
// lines around it are read, and the run balances.
TEST(ReaderCli, LineOverMaxLineBytesIsAnErrorWithItsFirstMebibyte) {
  TempDir t;
  std::string problem;
  while (problem.size() < (3u << 20)) problem += "\xC3\xA9";  // é: the 1 MiB mark falls inside one
  const std::string huge = "{\"id\":\"h\",\"problem\":\"" + problem + "\"}";
  const std::string ok1 = "{\"id\":\"a\",\"problem\":\"first\"}", ok2 = "{\"id\":\"b\",\"problem\":\"after\"}";
  write_zstd(t / "in.jsonl.zst", ok1 + "\n" + huge + "\n" + ok2 + "\n");
  write_file(t / "p.yaml", pipeline_for("in.jsonl.zst", ", on_error: skip, max_line_bytes: 2 MiB"));
  const auto r = run_tamis({"run", (t / "p.yaml").string(), "--batch-bytes", "65536"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_lines(t / "out/kept.jsonl"), (std::vector<std::string>{with_length(ok1), with_length(ok2)}));
  const auto errors = read_lines(t / "out/errors.jsonl");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(json_int(errors[0], "line"), 2);
  EXPECT_EQ(json_string(errors[0], "error"),
            "line too long: " + std::to_string(huge.size()) + " bytes, more than max_line_bytes (2097152); raise "
            "`max_line_bytes` on source 's' to read it");
  const std::string text = json_string(errors[0], "text");
  EXPECT_EQ(text.size(), (1u << 20) - 1) << "1 MiB, less the half character at its end";
  EXPECT_TRUE(text == huge.substr(0, text.size())) << "the text is the line's beginning";
  EXPECT_NE(errors[0].find(",\"text_cut\":true,\"line_bytes\":" + std::to_string(huge.size()) + "}"), std::string::npos)
      << errors[0].substr(errors[0].size() - 100);
  const auto ledger = read_lines(t / "out/ledger.jsonl");
  ASSERT_EQ(ledger.size(), 3u);
  EXPECT_EQ(json_string(ledger[1], "fate"), "error");
  const auto s = parse_summary(r.out);
  EXPECT_EQ(s.read, 3u);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_TRUE(s.balanced_word) << r.out;
}

TEST(ReaderCli, LineOverMaxLineBytesFailsTheRunWithOnErrorFail) {
  TempDir t;
  const std::string line = "{\"id\":\"b\",\"problem\":\"" + std::string(5000, 'x') + "\"}";
  write_gzip(t / "in.jsonl.gz", "{\"id\":\"a\",\"problem\":\"first\"}\n" + line + "\n");
  write_file(t / "p.yaml", pipeline_for("in.jsonl.gz", ", max_line_bytes: 1 KiB"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("in.jsonl.gz:2: line too long: " + std::to_string(line.size()) +
                       " bytes, more than max_line_bytes (1024); raise `max_line_bytes` on source 's'"),
            std::string::npos) << r.err;
  EXPECT_EQ(list_files(t / "out"), std::vector<std::string>{});
  // At the limit, the line is read.
  write_file(t / "p.yaml", pipeline_for("in.jsonl.gz", ", max_line_bytes: " + std::to_string(line.size())));
  const auto ok = run_tamis({"run", (t / "p.yaml").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(ReaderCli, MaxLineBytesMustBeASizeFromOneByteToTwoGibibytes) {
  TempDir t;
  write_file(t / "in.jsonl", "{\"id\":\"a\",\"problem\":\"first\"}\n");
  for (const char* bad : {"0", "-1", "3 GiB", "2049 MiB", "lots", "1.5 MiB", "[1]", "12 kB"}) {
    SCOPED_TRACE(bad);
    write_file(t / "p.yaml", pipeline_for("in.jsonl", std::string(", max_line_bytes: ") + bad));
    const auto r = run_tamis({"validate", (t / "p.yaml").string()});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("max_line_bytes must be a number of bytes from 1 to 2 GiB"), std::string::npos) << r.out << r.err;
  }
  for (const char* good : {"1", "2 GiB", "2048MiB", "100 KiB", "67108864"}) {
    SCOPED_TRACE(good);
    write_file(t / "p.yaml", pipeline_for("in.jsonl", std::string(", max_line_bytes: ") + good));
    const auto r = run_tamis({"validate", (t / "p.yaml").string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
}

// Any unreadable line longer than 1 MiB keeps only its first 1 MiB in the errors sink (here under the
// default maximum line size): invalid JSON as text, invalid UTF-8 as base64.
TEST(ReaderCli, ErrorsSinkKeepsTheFirstMebibyteOfALongBadLine) {
  TempDir t;
  const std::string bad_json = "{\"id\":\"x\",\"problem\":\"" + std::string(3u << 20, 'j');  // never closed
  std::string bad_utf8 = "{\"id\":\"y\",\"problem\":\"" + std::string(2u << 20, 'u') + "\"}";
  bad_utf8[1000] = '\xFF';
  write_file(t / "in.jsonl", bad_json + "\n" + bad_utf8 + "\n{\"id\":\"z\",\"problem\":\"fine\"}\n");
  write_file(t / "p.yaml", pipeline_for("in.jsonl", ", on_error: skip"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto errors = read_lines(t / "out/errors.jsonl");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_LT(errors[0].size(), (1u << 20) + 400);
  EXPECT_TRUE(json_string(errors[0], "text") == bad_json.substr(0, 1u << 20));
  EXPECT_NE(errors[0].find(",\"text_cut\":true,\"line_bytes\":" + std::to_string(bad_json.size()) + "}"), std::string::npos);
  EXPECT_NE(json_string(errors[0], "error").find("invalid JSON"), std::string::npos) << json_string(errors[0], "error");
  EXPECT_EQ(json_string(errors[1], "error"), "invalid UTF-8 in the line");
  EXPECT_EQ(json_string(errors[1], "text_base64").size(), ((1u << 20) + 2) / 3 * 4);
  EXPECT_NE(errors[1].find(",\"text_cut\":true,\"line_bytes\":" + std::to_string(bad_utf8.size()) + "}"), std::string::npos);
  // A short bad line is kept whole, unmarked.
  write_file(t / "in.jsonl", "{\"id\":\"x\",\"problem\":\"open\n");
  ASSERT_EQ(run_tamis({"run", (t / "p.yaml").string()}).exit_code, 0);
  const auto short_errors = read_lines(t / "out/errors.jsonl");
  ASSERT_EQ(short_errors.size(), 1u);
  EXPECT_EQ(json_string(short_errors[0], "text"), "{\"id\":\"x\",\"problem\":\"open");
  EXPECT_EQ(short_errors[0].find("text_cut"), std::string::npos);
}

#if defined(__SANITIZE_ADDRESS__)
#define TAMIS_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TAMIS_TEST_ASAN 1
#endif
#endif

// A zstd bomb (36 KB: 1 GiB of zeros on one line between two records) runs within 1 GiB of address
// space at 2 and 8 threads, its line reported with a bounded text; unbounded, the line alone needed
// several GB (issue 13, item 4).
TEST(ReaderCli, CompressedBombRunsInBoundedMemory) {
#ifdef TAMIS_TEST_ASAN
  GTEST_SKIP() << "AddressSanitizer reserves more address space than the limit";
#endif
  TempDir t;
  const auto made = run_shell("cd " + t.path().string() +
                              " && { echo '{\"id\":\"a\",\"problem\":\"first\"}'; head -c 1073741824 /dev/zero;"
                              " printf '\\n{\"id\":\"b\",\"problem\":\"after\"}\\n'; } | zstd -q -1 -o bomb.jsonl.zst");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  write_file(t / "p.yaml", pipeline_for("bomb.jsonl.zst", ", on_error: skip, max_line_bytes: 16 MiB"));
  for (const char* threads : {"2", "8"}) {
    SCOPED_TRACE(threads);
    const auto r = run_shell("ulimit -v 1048576 && " + std::string(tamis_bin()) + " run " + (t / "p.yaml").string() +
                             " --threads " + threads);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_lines(t / "out/kept.jsonl").size(), 2u);
    const auto errors = read_lines(t / "out/errors.jsonl");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_LT(errors[0].size(), 7u << 20) << "1 MiB of NUL bytes, escaped";
    EXPECT_NE(errors[0].find("\"line_bytes\":1073741824}"), std::string::npos);
  }
}

// An allocation that fails while reading a line names the file and line and says what to lower,
// instead of a bare std::bad_alloc (here: a 1 GiB line allowed by max_line_bytes, in 1 GiB of
// address space).
TEST(ReaderCli, OutOfMemoryNamesTheFileAndLine) {
#ifdef TAMIS_TEST_ASAN
  GTEST_SKIP() << "AddressSanitizer reserves more address space than the limit";
#endif
  TempDir t;
  const auto made = run_shell("cd " + t.path().string() +
                              " && { echo '{\"id\":\"a\",\"problem\":\"first\"}'; head -c 1073741824 /dev/zero; echo; }"
                              " | zstd -q -1 -o bomb.jsonl.zst");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  write_file(t / "p.yaml", pipeline_for("bomb.jsonl.zst", ", on_error: skip, max_line_bytes: 2 GiB"));
  const auto r = run_shell("ulimit -v 1048576 && " + std::string(tamis_bin()) + " run " + (t / "p.yaml").string());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("tamis: error: bomb.jsonl.zst:2: out of memory reading the line (source 's')\n  hint: lower "
                       "--batch-bytes or --threads, or the source's `max_line_bytes` (now 2147483648 bytes"),
            std::string::npos) << r.err;
  EXPECT_EQ(list_files(t / "out"), std::vector<std::string>{});
}

// A compressed file cut in half, read end to end.
struct CutFile {
  std::vector<std::string> lines;  // the original
  std::string name;
};

CutFile make_cut(const TempDir& t, bool zstd) {
  CutFile c;
  c.lines = sample_records(6000, 11);
  const std::string text = join_lines(c.lines);
  c.name = zstd ? "cut.jsonl.zst" : "cut.jsonl.gz";
  if (zstd) write_zstd(t / "full", text);
  else write_gzip(t / "full", text);
  const std::string z = read_file(t / "full");
  write_file(t / c.name, z.substr(0, z.size() / 2));
  return c;
}

class TruncatedCli : public ::testing::TestWithParam<bool> {};

TEST_P(TruncatedCli, OnErrorFailExitsOneNamingTheFile) {
  TempDir t;
  const CutFile c = make_cut(t, GetParam());
  write_file(t / "p.yaml", pipeline_for(c.name, ", on_error: fail"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(c.name), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  EXPECT_EQ(list_files(t / "out"), std::vector<std::string>{}) << "no output after a failed run";
}

TEST_P(TruncatedCli, OnErrorSkipSendsTheCutLineToErrorsAndBalances) {
  TempDir t;
  const CutFile c = make_cut(t, GetParam());
  write_file(t / "p.yaml", pipeline_for(c.name, ", on_error: skip"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto kept = read_lines(t / "out/kept.jsonl");
  const auto errors = read_lines(t / "out/errors.jsonl");
  const auto ledger = read_lines(t / "out/ledger.jsonl");
  ASSERT_GT(kept.size(), 100u);
  ASSERT_LT(kept.size(), c.lines.size());
  for (size_t i = 0; i < kept.size(); ++i) ASSERT_EQ(kept[i], with_length(c.lines[i])) << i;
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(json_string(errors[0], "file"), c.name);
  EXPECT_EQ(json_int(errors[0], "line"), static_cast<int64_t>(kept.size() + 1));
  EXPECT_NE(json_string(errors[0], "error").find("truncated"), std::string::npos) << errors[0];
  const std::string partial = json_string(errors[0], "text");
  EXPECT_EQ(c.lines[kept.size()].compare(0, partial.size(), partial), 0) << "the error text is the cut line's beginning";
  EXPECT_EQ(ledger.size(), kept.size() + 1);
  EXPECT_EQ(json_string(ledger.back(), "fate"), "error");
  const auto s = parse_summary(r.out);
  EXPECT_EQ(s.read, kept.size() + 1);
  EXPECT_EQ(s.kept, kept.size());
  EXPECT_EQ(s.errors, 1u);
  EXPECT_TRUE(s.balanced_word) << r.out;
  const auto rep = report_totals(t / "out/report.json");
  EXPECT_EQ(rep.read, rep.kept + rep.rejected + rep.errors);
  EXPECT_EQ(rep.errors, 1u);
  EXPECT_TRUE(rep.balanced);
}

INSTANTIATE_TEST_SUITE_P(GzipAndZstd, TruncatedCli, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param_info) { return param_info.param ? std::string("zstd") : std::string("gzip"); });

TEST(ReaderCli, CorruptGzipFailsTheRunEvenWithOnErrorSkip) {
  TempDir t;
  const std::string text = join_lines(sample_records(3000));
  write_gzip(t / "full.gz", text);
  std::string z = read_file(t / "full.gz");
  for (size_t i = z.size() / 2; i < z.size() / 2 + 64; ++i) z[i] = static_cast<char>(z[i] ^ 0x5a);
  write_file(t / "bad.jsonl.gz", z);
  write_file(t / "p.yaml", pipeline_for("bad.jsonl.gz", ", on_error: skip"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("bad.jsonl.gz"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("corrupt"), std::string::npos) << r.err;
  EXPECT_EQ(list_files(t / "out"), std::vector<std::string>{});
}

TEST(ReaderCli, GlobReadsFilesInSortedByteOrder) {
  TempDir t;
  auto rec = [](const std::string& id) { return "{\"id\":\"" + id + "\",\"problem\":\"p\"}\n"; };
  write_file(t / "d/b.jsonl", rec("b1") + rec("b2"));
  write_gzip(t / "d/a.jsonl.gz", rec("a1"));
  write_zstd(t / "d/c.jsonl.zst", rec("c1"));
  write_file(t / "d/B.jsonl", rec("B1"));
  write_file(t / "d/a10.jsonl", rec("a10"));
  write_file(t / "d/a9.jsonl", rec("a9"));
  write_file(t / "d/empty.jsonl", "");
  write_file(t / "d/skip.txt", rec("no"));
  write_file(t / "p.yaml", pipeline_for("d/*.jsonl*", "", ""));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Byte order: uppercase before lowercase, "a.jsonl.gz" < "a10" < "a9" < "b" < "c" < "empty".
  const std::vector<std::string> places = {"d/B.jsonl:1", "d/a.jsonl.gz:1", "d/a10.jsonl:1", "d/a9.jsonl:1",
                                           "d/b.jsonl:1", "d/b.jsonl:2",    "d/c.jsonl.zst:1"};
  const auto ledger = read_lines(t / "out/ledger.jsonl");
  std::vector<std::string> got;
  for (const auto& l : ledger) got.push_back(json_string(l, "file") + ":" + std::to_string(json_int(l, "line")));
  EXPECT_EQ(got, places);
  const auto kept = read_lines(t / "out/kept.jsonl");
  std::vector<std::string> kept_ids;
  for (const auto& l : kept) kept_ids.push_back(json_string(l, "id"));
  EXPECT_EQ(kept_ids, (std::vector<std::string>{"B1", "a1", "a10", "a9", "b1", "b2", "c1"}));
  const std::string report = read_file(t / "out/report.json");
  EXPECT_NE(report.find("\"files\": [\"d/B.jsonl\", \"d/a.jsonl.gz\", \"d/a10.jsonl\", \"d/a9.jsonl\", \"d/b.jsonl\", "
                        "\"d/c.jsonl.zst\", \"d/empty.jsonl\"]"),
            std::string::npos)
      << report;
}

TEST(ReaderCli, EmptyFileGivesEmptyOutputs) {
  TempDir t;
  write_file(t / "in.jsonl", "");
  write_file(t / "p.yaml", pipeline_for("in.jsonl"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(list_files(t / "out"), (std::vector<std::string>{"errors.jsonl", "kept.jsonl", "ledger.jsonl", "report.json"}));
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), "");
  EXPECT_EQ(read_file(t / "out/ledger.jsonl"), "");
  const auto s = parse_summary(r.out);
  EXPECT_TRUE(s.found);
  EXPECT_EQ(s.read, 0u);
  const auto rep = report_totals(t / "out/report.json");
  EXPECT_EQ(rep.read, 0u);
  EXPECT_TRUE(rep.balanced);
}

TEST(ReaderCli, OnlyBlankLinesGiveNoRecords) {
  TempDir t;
  write_file(t / "in.jsonl", "\n\n  \n\r\n");
  write_file(t / "p.yaml", pipeline_for("in.jsonl"));
  const auto r = run_tamis({"run", (t / "p.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(t / "out/kept.jsonl"), "");
  EXPECT_EQ(read_file(t / "out/ledger.jsonl"), "");
  EXPECT_NE(read_file(t / "out/report.json").find("\"lines\": 4, \"blank_lines\": 4, \"records\": 0"), std::string::npos);
}

}  // namespace
}  // namespace tamis::test
