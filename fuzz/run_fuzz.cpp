// A whole run in-process: the input is the source file of a small pipeline of built-in ops (map.rename,
// filter.require, filter.length, sample), run by run_pipeline() with small batches at 1 or 2 threads.
//
// Input: [flags] [fraction] [length] payload. flags: bit 0 on_error skip (else fail), bit 1 ids from
// the `id` field, bit 2 two threads, bit 3 the source gzip-compressed, bits 4-7 the batch size
// (32 to 512 bytes, so that a few lines make several batches). Checked after a successful run: the
// totals balance (read = kept + rejected + errors); every line of every sink is one JSON object (numbers
// beyond a double read as tamis reads them); the
// records, rejected and errors sinks hold as many lines as the totals say; the ledger names each
// input line once. A RunError (on_error: fail on a bad line, a cut stream) is a fine outcome; a
// crash, a leak or undefined behaviour is not.
#include <simdjson.h>
#include <tamis/json.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/diagnostics.hpp"
#include "common/log.hpp"
#include "engine/runner.hpp"
#include "fuzz_support.hpp"
#include "pipeline/pipeline.hpp"
#include "plugin/registry.hpp"

namespace {

const tamis::Registry& registry() {
  static const tamis::Registry r = [] {
    tamis::Registry reg;
    reg.load_directories({TAMIS_BUILD_PLUGIN_DIR});
    if (!reg.find("filter.require") || !reg.find("filter.sample")) {
      std::fprintf(stderr, "run_fuzz: the filter plugin is not in %s; build target tamis_filter\n", TAMIS_BUILD_PLUGIN_DIR);
      std::abort();
    }
    return reg;
  }();
  return r;
}

// The lines of a sink file, each checked to be one JSON object; their "line" members when `lines`.
size_t check_jsonl(const std::string& path, std::vector<uint64_t>* lines = nullptr) {
  const std::string text = tamis::fuzz::read_file(path);
  FUZZ_CHECK(text.empty() || text.back() == '\n');
  static simdjson::dom::parser parser;
  size_t n = 0, pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++n;
    simdjson::dom::element doc;
    auto err = parser.parse(line).get(doc);
    // Numbers beyond a double (1e400) are valid JSON that simdjson refuses: read as tamis reads them.
    std::string quoted;
    if (err == simdjson::NUMBER_ERROR && tamis::json::quote_big_numbers(line, quoted)) err = parser.parse(quoted).get(doc);
    FUZZ_CHECK(err == simdjson::SUCCESS);
    FUZZ_CHECK(doc.is_object());
    if (lines) {
      uint64_t number = 0;
      FUZZ_CHECK(doc["line"].get_uint64().get(number) == simdjson::SUCCESS);
      lines->push_back(number);
    }
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tamis::log::set_level(tamis::log::Level::quiet);
  registry();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tamis::fuzz::Input in(data, size);
  const uint8_t flags = in.byte();
  const uint8_t fraction = in.byte();
  const uint8_t length = in.byte();
  const std::string_view payload = in.rest();
  const std::string dir = tamis::fuzz::scratch_dir();

  const bool gz = flags & 8;
  const std::string source = dir + (gz ? "/in.jsonl.gz" : "/in.jsonl");
  tamis::fuzz::write_file(source, gz ? tamis::fuzz::gzip(payload) : std::string(payload));
  std::string yaml = "version: 1\nsources:\n  in:\n    path: " + source + "\n";
  if (flags & 1) yaml += "    on_error: skip\n";
  if (flags & 2) yaml += "    id: id\n";
  yaml += "stages:\n"
          "  fields: { uses: map.rename, with: { question: problem } }\n"
          "  require: { uses: filter.require, with: { fields: [problem] } }\n"
          "  length: { uses: filter.length, with: { field: problem, min: " + std::to_string(length % 16) +
          ", max: " + (length & 128 ? std::string("-1") : std::to_string(16 + length % 64)) + ", annotate: true } }\n"
          "  sample: { uses: filter.sample, with: { fraction: " + std::to_string(fraction / 255.0) + ", seed: 3 } }\n"
          "sinks:\n"
          "  kept: { path: " + dir + "/kept.jsonl }\n"
          "  rejected: { path: " + dir + "/rejected.jsonl, rejected: true }\n"
          "  errors: { path: " + dir + "/errors.jsonl, errors: true }\n"
          "  ledger: { path: " + dir + "/ledger.jsonl, ledger: true }\n"
          "  report: { path: " + dir + "/report.json, report: true }\n";
  const std::string pipeline_file = dir + "/run.yaml";
  tamis::fuzz::write_file(pipeline_file, yaml);

  tamis::Diagnostics diags;
  const tamis::Pipeline p = tamis::load_pipeline(pipeline_file, registry(), tamis::LoadOptions{}, diags);
  if (!diags.empty()) {
    std::fputs(diags.format().c_str(), stderr);
    std::abort();  // the pipeline is ours: it must load
  }
  tamis::RunOptions options;
  options.threads = flags & 4 ? 2 : 1;
  options.chunk_bytes = 32 * (1 + (flags >> 4));
  tamis::RunTotals t;
  try {
    t = tamis::run_pipeline(p, options);
  } catch (const tamis::RunError&) {
    return 0;
  }
  FUZZ_CHECK(t.balanced());
  FUZZ_CHECK(check_jsonl(dir + "/kept.jsonl") == t.kept);
  FUZZ_CHECK(check_jsonl(dir + "/rejected.jsonl") == t.rejected);
  FUZZ_CHECK(check_jsonl(dir + "/errors.jsonl") == t.errors);
  std::vector<uint64_t> lines;
  FUZZ_CHECK(check_jsonl(dir + "/ledger.jsonl", &lines) == t.read);
  FUZZ_CHECK(std::set<uint64_t>(lines.begin(), lines.end()).size() == lines.size());
  simdjson::dom::parser parser;
  simdjson::dom::element report;
  FUZZ_CHECK(parser.parse(tamis::fuzz::read_file(dir + "/report.json")).get(report) == simdjson::SUCCESS);
  return 0;
}
