// The engine end to end: golden runs (tests/core/pipelines/<case>/), determinism across --threads and
// batch sizes on ~50k generated records, balanced counts, fan-in order, fan-out, and the bytes of kept
// records (original bytes plus one annotations object).
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core_test_helpers.hpp"
#include "engine/runner.hpp"
#include "io/byte_source.hpp"
#include "pipeline/pipeline.hpp"
#include "plugin/registry.hpp"

namespace tamis::test {
namespace {

// ---------------------------------------------------------------- golden cases

// Copies tests/core/pipelines/<name> (without expected/) to a temporary directory, runs it, and compares
// every file of expected/ with out/ byte for byte, the "read ..." line of the summary with
// expected/summary.txt, and checks report.json's totals balance when there is one.
void run_golden(const std::string& name) {
  const fs::path src = source_dir() / "tests/core/pipelines" / name;
  ASSERT_TRUE(fs::exists(src / "pipeline.yaml")) << src;
  TempDir t;
  for (const auto& e : fs::directory_iterator(src))
    if (e.path().filename() != "expected") fs::copy(e.path(), t / e.path().filename().string(), fs::copy_options::recursive);
  const auto r = run_tamis({"run", (t / "pipeline.yaml").string(), "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::set<std::string> expected_files;
  for (const auto& e : fs::directory_iterator(src / "expected")) {
    const std::string f = e.path().filename().string();
    if (f == "summary.txt") {
      const std::string want = read_file(e.path());
      EXPECT_NE(r.out.find("\n" + want), std::string::npos) << "summary line " << want << "not in:\n" << r.out;
      continue;
    }
    expected_files.insert(f);
    ASSERT_TRUE(fs::exists(t / "out" / f)) << f;
    EXPECT_EQ(read_file(t / "out" / f), read_file(e.path())) << name << ": out/" << f << " differs from expected/" << f;
  }
  for (const auto& f : list_files(t / "out")) {
    if (f == "report.json") {
      const auto rep = report_totals(t / "out/report.json");
      EXPECT_EQ(rep.read, rep.kept + rep.rejected + rep.errors);
      EXPECT_TRUE(rep.balanced);
      const auto s = parse_summary(r.out);
      EXPECT_EQ(rep.read, s.read);
      EXPECT_EQ(rep.kept, s.kept);
      EXPECT_EQ(rep.rejected, s.rejected);
      EXPECT_EQ(rep.errors, s.errors);
      continue;
    }
    EXPECT_TRUE(expected_files.count(f)) << "unexpected output " << f;
  }
}

TEST(Golden, Basic) { run_golden("basic"); }
TEST(Golden, FanInOut) { run_golden("fan_in_out"); }

// ---------------------------------------------------------------- determinism on generated data

struct GeneratedFile {
  std::string name;  // relative to the pipeline directory
  std::string text;
};

struct Generated {
  uint64_t nonblank = 0;  // lines the ledger must have
  std::vector<std::string> error_keys;  // "file:line" of every unreadable line, in reading order
  uint64_t records = 0;
};

// One file of varied lines. `with_id`: records carry "id" (a few miss it: an error for that source).
GeneratedFile generate_file(const std::string& name, size_t n, uint64_t seed, bool with_id, Generated& g) {
  TextGen gen(seed);
  GeneratedFile f{name, {}};
  std::string& out = f.text;
  uint64_t line = 0;
  size_t made = 0;
  while (made < n) {
    ++line;
    const std::string eol = gen.below(100) == 0 ? "\r\n" : "\n";
    const uint64_t roll = gen.below(3000);
    if (roll < 8) {  // blank or whitespace-only
      out += roll < 4 ? eol : "  \t " + eol;
      continue;
    }
    ++g.nonblank;
    ++made;
    if (roll < 14) {  // malformed: cut short
      out += "{\"id\":\"cut" + std::to_string(made) + "\",\"problem\":\"never closed" + eol;
      g.error_keys.push_back(name + ":" + std::to_string(line));
      continue;
    }
    if (roll < 16) {  // invalid UTF-8
      out += "{\"id\":\"bad" + std::to_string(made) + "\",\"problem\":\"lat\xe9" "1 \xff\xfe\"}" + eol;
      g.error_keys.push_back(name + ":" + std::to_string(line));
      continue;
    }
    if (roll < 18) {  // JSON, not an object
      out += "[1,2,{\"problem\":\"x\"}]" + eol;
      g.error_keys.push_back(name + ":" + std::to_string(line));
      continue;
    }
    if (with_id && roll < 20) {  // no id field
      out += "{\"problem\":\"" + gen.text(40) + "\"}" + eol;
      g.error_keys.push_back(name + ":" + std::to_string(line));
      continue;
    }
    ++g.records;
    // Members, in a varied order.
    std::vector<std::string> m;
    if (with_id) m.push_back("\"id\":\"" + name + "#" + std::to_string(made) + "\"");
    const uint64_t len_roll = gen.below(100);
    const size_t len = len_roll < 5 ? gen.below(12) : len_roll < 75 ? 10 + gen.below(290) : len_roll < 97 ? 300 + gen.below(700) : 1000 + gen.below(4000);
    const bool question = with_id && gen.below(2) == 0;
    if (len_roll != 50) m.push_back(std::string(question ? "\"question\"" : "\"problem\"") + ":\"" + gen.text(len) + "\"");
    if (gen.below(3) == 0) m.push_back("\"answer\": \"" + gen.text(5) + "\"");
    if (gen.below(4) == 0) m.push_back("\"score\":" + std::string(gen.below(2) ? "1.50" : "-0.0e0"));
    if (gen.below(5) == 0) m.push_back("\"meta\":{\"tags\":[\"a\",\"}{\"],\"level\":" + std::to_string(gen.below(5)) + ",\"note\":\"x \\\"y\\\" {z}\"}");
    if (with_id && gen.below(20) == 0) m.push_back("\"junk\":[1,2,3]");
    if (gen.below(40) == 0) m.push_back("\"tamis\":{\"stale\":true,\"s\":\"}\"}");
    for (size_t i = m.size(); i > 1; --i) std::swap(m[i - 1], m[gen.below(i)]);
    out += gen.below(10) == 0 ? "{ " : "{";
    for (size_t i = 0; i < m.size(); ++i) out += (i ? (gen.below(8) == 0 ? " , " : ",") : "") + m[i];
    out += gen.below(10) == 0 ? " }" : "}";
    out += eol;
  }
  return f;
}

constexpr const char* kDeterminismPipeline =
    "version: 1\n"
    "sources:\n"
    "  a: { path: \"gen/a*\", id: id, on_error: skip }\n"
    "  b: { path: gen/b.jsonl.zst, on_error: skip }\n"
    "stages:\n"
    "  ra:\n"
    "    uses: map.rename\n"
    "    inputs: [a]\n"
    "    with: { question: problem, drop: [junk] }\n"
    "  merged:\n"
    "    uses: filter.require\n"
    "    inputs: [b, ra]\n"
    "    with: { fields: [problem] }\n"
    "  len:\n"
    "    uses: filter.length\n"
    "    inputs: [merged]\n"
    "    with: { field: problem, min: 10, max: 600, annotate: true }\n"
    "  samp:\n"
    "    uses: sample\n"
    "    inputs: [len]\n"
    "    with: { fraction: 0.7, seed: 3 }\n"
    "  words:\n"
    "    uses: filter.length\n"
    "    inputs: [merged]\n"
    "    with: { field: problem, unit: words, min: 20 }\n"
    "  bykey:\n"
    "    uses: sample\n"
    "    inputs: [words]\n"
    "    with: { fraction: 0.5, key: problem }\n"
    "sinks:\n"
    "  kept:     { path: \"${TAMIS_T_OUT:-out}/kept.jsonl\", inputs: [samp] }\n"
    "  wordy:    { path: \"${TAMIS_T_OUT:-out}/wordy.jsonl.zst\", inputs: [bykey] }\n"
    "  all:      { path: \"${TAMIS_T_OUT:-out}/all.jsonl\", inputs: [merged] }\n"
    "  rejected: { path: \"${TAMIS_T_OUT:-out}/rejected.jsonl\", rejected: true }\n"
    "  ledger:   { path: \"${TAMIS_T_OUT:-out}/ledger.jsonl\", ledger: true }\n"
    "  errors:   { path: \"${TAMIS_T_OUT:-out}/errors.jsonl\", errors: true }\n"
    "  report:   { path: \"${TAMIS_T_OUT:-out}/report.json\", report: true }\n";

const std::vector<std::string> kDeterminismOutputs = {"kept.jsonl", "wordy.jsonl.zst", "all.jsonl", "rejected.jsonl",
                                                      "ledger.jsonl", "errors.jsonl"};

// Writes the generated input (~50k lines over a plain, a .gz and a .zst file) and the pipeline.
Generated write_generated(const TempDir& t) {
  Generated g;
  // Reading order: b (listed first in merged's inputs), then a's files in name order.
  const GeneratedFile b = generate_file("gen/b.jsonl.zst", 15000, 3, false, g);
  const GeneratedFile a1 = generate_file("gen/a1.jsonl", 20000, 1, true, g);
  const GeneratedFile a2 = generate_file("gen/a2.jsonl.gz", 15000, 2, true, g);
  write_file(t / a1.name, a1.text);
  write_gzip(t / a2.name, a2.text);
  write_zstd(t / b.name, b.text);
  write_file(t / "p.yaml", kDeterminismPipeline);
  return g;
}

std::string decompressed(const fs::path& p) {
  auto src = io::open_byte_source(p.string());
  std::string out;
  std::vector<char> buf(1 << 16);
  while (size_t n = src->read(buf.data(), buf.size())) out.append(buf.data(), n);
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t e = text.find('\n', pos);
    if (e == std::string::npos) e = text.size();
    out.push_back(text.substr(pos, e - pos));
    pos = e + 1;
  }
  return out;
}

// report.json without the figures that depend on timing, threads and the output directory.
std::string normalized_report(const fs::path& dir) {
  std::string r = read_file(dir / "report.json");
  r = std::regex_replace(r, std::regex(R"#("(seconds|serial_seconds|first_pass_seconds|time_share|records_per_second|mb_per_second|threads)": [-+0-9.e]+)#"), "\"$1\": X");
  const std::string d = dir.string();
  for (size_t p = r.find(d); p != std::string::npos; p = r.find(d, p)) r.replace(p, d.size(), "OUT");
  return r;
}

// Checks the outputs of one run of kDeterminismPipeline against what the generator knows.
void check_generated_outputs(const fs::path& out, const Generated& g, const std::string& summary) {
  const auto ledger = read_lines(out / "ledger.jsonl");
  EXPECT_EQ(ledger.size(), g.nonblank) << "one ledger line per non-blank input line";
  std::map<std::string, uint64_t> fates;
  for (const auto& l : ledger) ++fates[json_string(l, "fate")];
  // Unreadable lines: exactly the generated ones, in reading order.
  std::vector<std::string> error_keys;
  for (const auto& l : read_lines(out / "errors.jsonl")) error_keys.push_back(json_string(l, "file") + ":" + std::to_string(json_int(l, "line")));
  EXPECT_EQ(error_keys, g.error_keys);
  EXPECT_EQ(fates["error"], g.error_keys.size());
  EXPECT_EQ(fates["kept"] + fates["rejected"] + fates["error"], g.nonblank);
  // Totals: summary, report and ledger agree and balance.
  const auto s = parse_summary(summary);
  ASSERT_TRUE(s.found) << summary;
  EXPECT_EQ(s.read, g.nonblank);
  EXPECT_EQ(s.errors, g.error_keys.size());
  EXPECT_EQ(s.kept, fates["kept"]);
  EXPECT_EQ(s.rejected, fates["rejected"]);
  EXPECT_EQ(s.read, s.kept + s.rejected + s.errors);
  EXPECT_TRUE(s.balanced_word);
  const auto rep = report_totals(out / "report.json");
  EXPECT_EQ(rep.read, s.read);
  EXPECT_EQ(rep.kept, s.kept);
  EXPECT_EQ(rep.rejected, s.rejected);
  EXPECT_EQ(rep.errors, s.errors);
  EXPECT_TRUE(rep.balanced);
  // Every output line is one JSON object with at most one annotations member; kept lines carry the
  // length annotation within the stage's bounds.
  simdjson::dom::parser parser;
  auto check_lines = [&](const std::string& file, const std::string& text, bool annotated) {
    size_t n = 0;
    for (const auto& line : split_lines(text)) {
      ++n;
      simdjson::dom::object obj;
      ASSERT_EQ(parser.parse(line).get_object().get(obj), simdjson::SUCCESS) << file << ":" << n << ": " << line;
      int fields = 0;
      for (auto [k, v] : obj) fields += k == "tamis";
      ASSERT_LE(fields, 1) << file << ":" << n << ": " << line;
      if (annotated) {
        int64_t len = -1;
        ASSERT_EQ(obj["tamis"]["length"].get_int64().get(len), simdjson::SUCCESS) << file << ":" << n << ": " << line;
        ASSERT_GE(len, 10);
        ASSERT_LE(len, 600);
      }
    }
  };
  check_lines("kept.jsonl", read_file(out / "kept.jsonl"), true);
  check_lines("all.jsonl", read_file(out / "all.jsonl"), false);
  check_lines("rejected.jsonl", read_file(out / "rejected.jsonl"), false);
  check_lines("wordy.jsonl.zst", decompressed(out / "wordy.jsonl.zst"), false);
  // Sizes that show the run did something on every branch.
  EXPECT_GT(read_lines(out / "kept.jsonl").size(), 10000u);
  EXPECT_GT(split_lines(decompressed(out / "wordy.jsonl.zst")).size(), 1000u);
  EXPECT_GT(read_lines(out / "rejected.jsonl").size(), 10000u);
}

TEST(Determinism, SameBytesForOneTwoAndEightThreads) {
  TempDir t;
  const Generated g = write_generated(t);
  ASSERT_GT(g.nonblank, 49000u);
  std::map<int, std::string> reports;
  for (int threads : {1, 2, 8}) {
    const std::string tag = "out" + std::to_string(threads);
    const std::string cmd = "TAMIS_T_OUT=" + tag + " " + std::string(tamis_bin()) + " run " + (t / "p.yaml").string() +
                            " --threads " + std::to_string(threads);
    const auto r = run_shell(cmd);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    SCOPED_TRACE("threads " + std::to_string(threads));
    check_generated_outputs(t / tag, g, r.out);
    reports[threads] = normalized_report(t / tag);
  }
  for (const auto& f : kDeterminismOutputs) {
    const std::string one = read_file(t / "out1" / f);
    EXPECT_TRUE(one == read_file(t / "out2" / f)) << f << " differs between --threads 1 and 2";
    EXPECT_TRUE(one == read_file(t / "out8" / f)) << f << " differs between --threads 1 and 8";
  }
  EXPECT_EQ(reports[1], reports[2]);
  EXPECT_EQ(reports[1], reports[8]);
}

// The engine in-process with tiny batches (hundreds per file): outputs are the same as the CLI's with
// 4 MiB batches, for any thread count.
TEST(Determinism, SameBytesForAnyBatchSizeInProcess) {
  TempDir t;
  const Generated g = write_generated(t);
  {
    const std::string cmd = "TAMIS_T_OUT=ref " + std::string(tamis_bin()) + " run " + (t / "p.yaml").string();
    const auto r = run_shell(cmd);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    check_generated_outputs(t / "ref", g, r.out);
  }
  Registry registry;
  registry.load_directories({TAMIS_PLUGIN_BUILD_DIR});
  ASSERT_TRUE(registry.problems().empty());
  ASSERT_NE(registry.find("filter.length"), nullptr);
  struct Config {
    int threads;
    size_t chunk;
  };
  for (const Config c : {Config{1, 8192}, Config{2, 8192}, Config{8, 8192}, Config{3, 100000}}) {
    const std::string tag = "in" + std::to_string(c.threads) + "_" + std::to_string(c.chunk);
    SCOPED_TRACE(tag);
    ::setenv("TAMIS_T_OUT", tag.c_str(), 1);
    Diagnostics diags;
    const Pipeline p = load_pipeline((t / "p.yaml").string(), registry, LoadOptions{}, diags);
    ::unsetenv("TAMIS_T_OUT");
    ASSERT_TRUE(diags.empty()) << diags.format();
    RunOptions ro;
    ro.threads = c.threads;
    ro.chunk_bytes = c.chunk;
    const RunTotals totals = run_pipeline(p, ro);
    EXPECT_TRUE(totals.balanced());
    EXPECT_EQ(totals.read, g.nonblank);
    EXPECT_EQ(totals.errors, g.error_keys.size());
    // Compressed sinks are compared once decompressed: how a stream is cut into gzip members or zstd
    // frames may follow the batch size (the CLI test above pins the compressed bytes across --threads).
    for (const auto& f : kDeterminismOutputs)
      EXPECT_TRUE(decompressed(t / "ref" / f) == decompressed(t / tag / f)) << f << " differs from the CLI run";
    EXPECT_EQ(normalized_report(t / "ref"), normalized_report(t / tag));
  }
}

// Real data (../shared/data): GSM8K train and MATH test through a fan-in sink. Every kept line is the
// original line, byte for byte, with the annotations object added; 1 and 2 threads agree.
TEST(Determinism, RealDataKeptLinesAreOriginalBytesPlusAnnotation) {
  const fs::path gsm = shared_data("gsm8k/train.jsonl");
  const fs::path math = shared_data("math/math_test.jsonl");
  if (gsm.empty() || math.empty()) GTEST_SKIP() << "../shared/data is absent";
  TempDir t;
  write_file(t / "p.yaml",
             "version: 1\n"
             "sources:\n"
             "  gsm: { path: \"" + gsm.string() + "\" }\n"
             "  math: { path: \"" + math.string() + "\" }\n"
             "stages:\n"
             "  lg:\n"
             "    uses: filter.length\n"
             "    inputs: [gsm]\n"
             "    with: { field: question, annotate: true }\n"
             "  lm:\n"
             "    uses: filter.length\n"
             "    inputs: [math]\n"
             "    with: { field: problem, annotate: true }\n"
             "sinks:\n"
             "  kept: { path: \"${TAMIS_T_OUT}/kept.jsonl\", inputs: [lg, lm] }\n"
             "  ledger: { path: \"${TAMIS_T_OUT}/ledger.jsonl\", ledger: true }\n");
  // The expected output, from the inputs.
  std::string expected;
  simdjson::dom::parser parser;
  uint64_t n = 0;
  for (const auto& [source, file, field] : {std::tuple{"gsm", gsm, "question"}, std::tuple{"math", math, "problem"}}) {
    const auto lines = read_lines(file);
    const auto ids = content_ids(source, lines);  // no `id:`: content ids, written with the source
    ASSERT_EQ(ids.size(), lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& line = lines[i];
      ++n;
      std::string_view text;
      ASSERT_EQ(parser.parse(line)[field].get_string().get(text), simdjson::SUCCESS) << line;
      uint64_t chars = 0;
      for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
      std::string body = line;
      while (!body.empty() && (body.back() == ' ' || body.back() == '\r')) body.pop_back();
      ASSERT_EQ(body.back(), '}');
      body.pop_back();
      while (!body.empty() && body.back() == ' ') body.pop_back();
      expected += body + ",\"tamis\":{\"id\":\"" + ids[i] + "\",\"source\":\"" + source + "\",\"length\":" +
                  std::to_string(chars) + "}}\n";
    }
  }
  for (const char* threads : {"1", "2"}) {
    const std::string tag = std::string("out") + threads;
    const auto r = run_shell("TAMIS_T_OUT=" + (t / tag).string() + " " + tamis_bin() + " run " + (t / "p.yaml").string() +
                             " --threads " + threads);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(read_file(t / tag / "kept.jsonl") == expected) << "kept.jsonl is not the input plus annotations";
    EXPECT_EQ(read_lines(t / tag / "ledger.jsonl").size(), n);
    const auto s = parse_summary(r.out);
    EXPECT_EQ(s.read, n);
    EXPECT_EQ(s.kept, n);
  }
  EXPECT_TRUE(read_file(t / "out1/ledger.jsonl") == read_file(t / "out2/ledger.jsonl"));
}

// ---------------------------------------------------------------- graph semantics

struct CaseRun {
  TempDir t;
  CommandResult r;
  std::string out(const std::string& f) const { return read_file(t / "out" / f); }
};

// Writes `files` (name → content) and the pipeline, runs it.
void run_case(CaseRun& run, const std::string& pipeline, const std::map<std::string, std::string>& files,
              const std::vector<std::string>& args = {}) {
  for (const auto& [name, content] : files) write_file(run.t / name, content);
  write_file(run.t / "p.yaml", pipeline);
  std::vector<std::string> a = {"run", (run.t / "p.yaml").string()};
  a.insert(a.end(), args.begin(), args.end());
  run.r = run_tamis(a);
}

TEST(Graph, FanInTakesInputsInTheOrderListed) {
  for (const bool b_first : {true, false}) {
    CaseRun run;
    run_case(run,
             std::string("version: 1\n"
                         "sources:\n"
                         "  a: a.jsonl\n"
                         "  b: b.jsonl\n"
                         "stages:\n"
                         "  m:\n"
                         "    uses: filter.length\n"
                         "    inputs: ") + (b_first ? "[b, a]" : "[a, b]") + "\n"
                         "    with: { field: p, annotate: true }\n"
                         "sinks:\n"
                         "  kept: { path: out/kept.jsonl }\n"
                         "  ledger: { path: out/ledger.jsonl, ledger: true }\n",
             {{"a.jsonl", "{\"p\":\"a1\"}\n{\"p\":\"a22\"}\n"}, {"b.jsonl", "{\"p\":\"b1\"}\n{\"p\":\"b22\"}\n"}});
    ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
    const auto ia = content_ids("a", {"{\"p\":\"a1\"}", "{\"p\":\"a22\"}"});
    const auto ib = content_ids("b", {"{\"p\":\"b1\"}", "{\"p\":\"b22\"}"});
    const std::string a = "{\"p\":\"a1\",\"tamis\":{\"id\":\"" + ia[0] + "\",\"source\":\"a\",\"length\":2}}\n"
                          "{\"p\":\"a22\",\"tamis\":{\"id\":\"" + ia[1] + "\",\"source\":\"a\",\"length\":3}}\n";
    const std::string b = "{\"p\":\"b1\",\"tamis\":{\"id\":\"" + ib[0] + "\",\"source\":\"b\",\"length\":2}}\n"
                          "{\"p\":\"b22\",\"tamis\":{\"id\":\"" + ib[1] + "\",\"source\":\"b\",\"length\":3}}\n";
    EXPECT_EQ(run.out("kept.jsonl"), b_first ? b + a : a + b);
    const auto ledger = read_lines(run.t / "out/ledger.jsonl");
    ASSERT_EQ(ledger.size(), 4u);
    EXPECT_EQ(json_string(ledger[0], "id"), b_first ? ib[0] : ia[0]);
    EXPECT_EQ(json_string(ledger[3], "id"), b_first ? ia[1] : ib[1]);
  }
}

// Two branches of one source merged again: records come in line order, ties in the order of `inputs`,
// and each branch works on its own copy (x's annotation does not leak into y's copy).
TEST(Graph, FanInOfOneSourceMergesByLineThenInputOrder) {
  CaseRun run;
  run_case(run,
           "version: 1\n"
           "sources:\n"
           "  s: { path: s.jsonl, id: i }\n"
           "stages:\n"
           "  x:\n"
           "    uses: filter.length\n"
           "    inputs: [s]\n"
           "    with: { field: p, max: 5, annotate: true }\n"
           "  y:\n"
           "    uses: filter.length\n"
           "    inputs: [s]\n"
           "    with: { field: p, min: 3 }\n"
           "  m:\n"
           "    uses: sample\n"
           "    inputs: [y, x]\n"
           "    with: { fraction: 1 }\n"
           "sinks:\n"
           "  kept: { path: out/kept.jsonl }\n"
           "  ledger: { path: out/ledger.jsonl, ledger: true }\n",
           {{"s.jsonl", "{\"i\":1,\"p\":\"ab\"}\n{\"i\":2,\"p\":\"abcd\"}\n{\"i\":3,\"p\":\"abcdefgh\"}\n"}}, {"--threads", "2"});
  ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
  EXPECT_EQ(run.out("kept.jsonl"),
            "{\"i\":1,\"p\":\"ab\",\"tamis\":{\"length\":2}}\n"
            "{\"i\":2,\"p\":\"abcd\"}\n"
            "{\"i\":2,\"p\":\"abcd\",\"tamis\":{\"length\":4}}\n"
            "{\"i\":3,\"p\":\"abcdefgh\"}\n");
  EXPECT_EQ(read_lines(run.t / "out/ledger.jsonl").size(), 3u) << "one ledger line per input line, not per copy";
  const auto s = parse_summary(run.r.out);
  EXPECT_EQ(s.read, 3u);
  EXPECT_EQ(s.kept, 3u);
}

TEST(Graph, FanOutTwoSinksBothGetEveryRecord) {
  CaseRun run;
  run_case(run,
           "version: 1\n"
           "sources:\n"
           "  s: { path: s.jsonl, id: i }\n"
           "stages:\n"
           "  len:\n"
           "    uses: filter.length\n"
           "    with: { field: p, min: 2, annotate: true }\n"
           "sinks:\n"
           "  one: { path: out/one.jsonl, inputs: [len] }\n"
           "  two: { path: out/two.jsonl.gz, inputs: [len] }\n"
           "  raw: { path: out/raw.jsonl, inputs: [s] }\n"
           "  ledger: { path: out/ledger.jsonl, ledger: true }\n",
           {{"s.jsonl", "{\"i\":\"a\",\"p\":\"x\"}\n{\"i\":\"b\",\"p\":\"yy\"}\n{ \"i\":\"c\", \"p\" : \"zzz\" }\n"}});
  ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
  const std::string expected = "{\"i\":\"b\",\"p\":\"yy\",\"tamis\":{\"length\":2}}\n{ \"i\":\"c\", \"p\" : \"zzz\",\"tamis\":{\"length\":3}}\n";
  EXPECT_EQ(run.out("one.jsonl"), expected);
  EXPECT_EQ(decompressed(run.t / "out/two.jsonl.gz"), expected);
  EXPECT_EQ(run.out("raw.jsonl"), "{\"i\":\"a\",\"p\":\"x\"}\n{\"i\":\"b\",\"p\":\"yy\"}\n{ \"i\":\"c\", \"p\" : \"zzz\" }\n") << "a source read raw is copied byte for byte";
  EXPECT_EQ(run.out("ledger.jsonl"),
            "{\"id\":\"a\",\"source\":\"s\",\"file\":\"s.jsonl\",\"line\":1,\"fate\":\"kept\",\"sinks\":[\"raw\"]}\n"
            "{\"id\":\"b\",\"source\":\"s\",\"file\":\"s.jsonl\",\"line\":2,\"fate\":\"kept\",\"sinks\":[\"one\",\"two\",\"raw\"]}\n"
            "{\"id\":\"c\",\"source\":\"s\",\"file\":\"s.jsonl\",\"line\":3,\"fate\":\"kept\",\"sinks\":[\"one\",\"two\",\"raw\"]}\n");
}

// ---------------------------------------------------------------- record bytes

constexpr const char* kAnnotatePipeline =
    "version: 1\n"
    "sources:\n"
    "  s: { path: s.jsonl, id: id }\n"
    "stages:\n"
    "  len:\n"
    "    uses: filter.length\n"
    "    with: { field: p, unit: bytes, min: 2, annotate: true }\n"
    "sinks:\n"
    "  kept: { path: out/kept.jsonl }\n"
    "  rejected: { path: out/rejected.jsonl, rejected: true }\n";

TEST(RecordBytes, KeptRecordsKeepTheirOriginalBytes) {
  CaseRun run;
  const std::string rec1 = "{ \"id\" : \"r1\",\"n\":1.50,\"big\":1E+2,\"neg\":-0.0,\"z\":{\"b\":1,  \"a\":[1 ,2]},"
                           "\"p\":\"caf\\u00e9 \\\"q\\\" \\/ \\ud83d\\ude00 \xe6\x95\xb0\",\"t\":true,\"nul\":null   }";
  const std::string rec2 = "{\"p\":\"no id first\",\"id\":\"r2\"}";
  run_case(run, kAnnotatePipeline, {{"s.jsonl", rec1 + "\n" + rec2 + "\n"}});
  ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
  // "café \"q\" / 😀 数" is 5+1+3+1+1+1+4+1+3 = 20 bytes once unescaped.
  EXPECT_EQ(run.out("kept.jsonl"),
            "{ \"id\" : \"r1\",\"n\":1.50,\"big\":1E+2,\"neg\":-0.0,\"z\":{\"b\":1,  \"a\":[1 ,2]},"
            "\"p\":\"caf\\u00e9 \\\"q\\\" \\/ \\ud83d\\ude00 \xe6\x95\xb0\",\"t\":true,\"nul\":null,\"tamis\":{\"length\":20}}\n"
            "{\"p\":\"no id first\",\"id\":\"r2\",\"tamis\":{\"length\":11}}\n");
}

TEST(RecordBytes, RecordsWithNothingToAddAreCopiedByteForByte) {
  CaseRun run;
  const std::string text = "{ \"id\":\"a\", \"p\" : \"x\\u00e9\", \"n\": 1.50 }\n{\"id\":\"b\",\"p\":[1, 2]}\n";
  run_case(run,
           "version: 1\n"
           "sources:\n"
           "  s: { path: s.jsonl, id: id }\n"
           "stages:\n"
           "  req:\n"
           "    uses: filter.require\n"
           "    with: { fields: [p] }\n"
           "sinks:\n"
           "  kept: { path: out/kept.jsonl }\n",
           {{"s.jsonl", text}});
  ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
  EXPECT_EQ(run.out("kept.jsonl"), text);
}

TEST(RecordBytes, ExistingAnnotationFieldIsReplacedWherever) {
  CaseRun run;
  const std::string in =
      "{\"tamis\":{\"old\":1},\"id\":\"first\",\"p\":\"abc\"}\n"
      "{\"id\":\"middle\",\"tamis\":\"a string with } and { and \\\"quotes\\\"\",\"p\":\"abcd\"}\n"
      "{\"id\":\"last\",\"p\":\"abcde\",\"tamis\":[{\"x\":\"]\"}]}\n"
      "{\"id\":\"spaces\" , \"tamis\" : null , \"p\":\"ab\"}\n"
      "{\"id\":\"nested\",\"meta\":{\"tamis\":\"inner stays\"},\"p\":\"xyz\"}\n"
      "{\"id\":\"rejected\",\"tamis\":{\"keep\":false},\"p\":\"a\"}\n";
  run_case(run, kAnnotatePipeline, {{"s.jsonl", in}});
  ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
  EXPECT_EQ(run.out("kept.jsonl"),
            "{\"id\":\"first\",\"p\":\"abc\",\"tamis\":{\"length\":3}}\n"
            "{\"id\":\"middle\",\"p\":\"abcd\",\"tamis\":{\"length\":4}}\n"
            "{\"id\":\"last\",\"p\":\"abcde\",\"tamis\":{\"length\":5}}\n"
            "{\"id\":\"spaces\" , \"p\":\"ab\",\"tamis\":{\"length\":2}}\n"
            "{\"id\":\"nested\",\"meta\":{\"tamis\":\"inner stays\"},\"p\":\"xyz\",\"tamis\":{\"length\":3}}\n");
  EXPECT_EQ(run.out("rejected.jsonl"),
            "{\"id\":\"rejected\",\"p\":\"a\",\"tamis\":{\"length\":1,\"rejected_by\":\"len\",\"reason\":\"too_short\","
            "\"detail\":\"1 bytes < min 2\"}}\n");
}

TEST(RecordBytes, AnnotationsFieldCanBeRenamed) {
  CaseRun run;
  std::string pipeline = kAnnotatePipeline;
  pipeline += "annotations: { field: meta_x }\n";
  run_case(run, pipeline,
           {{"s.jsonl",
             "{\"id\":\"a\",\"tamis\":1,\"p\":\"abc\"}\n"
             "{\"id\":\"b\",\"meta_x\":{\"old\":true},\"p\":\"abcd\"}\n"
             "{\"id\":\"c\",\"p\":\"x\"}\n"}});
  ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
  EXPECT_EQ(run.out("kept.jsonl"),
            "{\"id\":\"a\",\"tamis\":1,\"p\":\"abc\",\"meta_x\":{\"length\":3}}\n"
            "{\"id\":\"b\",\"p\":\"abcd\",\"meta_x\":{\"length\":4}}\n");
  EXPECT_EQ(run.out("rejected.jsonl"),
            "{\"id\":\"c\",\"p\":\"x\",\"meta_x\":{\"length\":1,\"rejected_by\":\"len\",\"reason\":\"too_short\","
            "\"detail\":\"1 bytes < min 2\"}}\n");
}

TEST(RecordBytes, EmptyObjectGetsTheAnnotations) {
  CaseRun run;
  run_case(run,
           "version: 1\n"
           "sources:\n"
           "  s: s.jsonl\n"
           "stages:\n"
           "  req:\n"
           "    uses: filter.require\n"
           "    with: { fields: [p] }\n"
           "sinks:\n"
           "  kept: { path: out/kept.jsonl }\n"
           "  rejected: { path: out/rejected.jsonl, rejected: true }\n",
           {{"s.jsonl", "{}\n{ }\n{\"tamis\":5}\n"}});
  ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
  EXPECT_EQ(run.out("kept.jsonl"), "");
  const std::string why = "\"rejected_by\":\"req\",\"reason\":\"missing_field\",\"detail\":\"field 'p' is missing or null\"";
  // No id field: each record's content id and source come first (they are annotations).
  const auto ids = content_ids("s", {"{}", "{ }", "{\"tamis\":5}"});
  std::string expected;
  for (const auto& id : ids) expected += "{\"tamis\":{\"id\":\"" + id + "\",\"source\":\"s\"," + why + "}}\n";
  EXPECT_EQ(run.out("rejected.jsonl"), expected);
}

// A record whose annotations key is written with an escape ("\u0074amis") gets it replaced like any
// other "tamis" member (find_member compares keys unescaped): one annotations object in the output, not
// a stale duplicate key.
TEST(RecordBytes, EscapedAnnotationKeyIsReplacedToo) {
  CaseRun run;
  run_case(run, kAnnotatePipeline, {{"s.jsonl", "{\"id\":\"a\",\"\\u0074amis\":{\"stale\":1},\"p\":\"abc\"}\n"}});
  ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
  const std::string kept = run.out("kept.jsonl");
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  ASSERT_EQ(parser.parse(kept).get_object().get(obj), simdjson::SUCCESS) << kept;
  int members = 0;
  for (auto [k, v] : obj) members += k == "tamis";
  EXPECT_EQ(members, 1) << kept;
}

// A valid JSON line with an integer beyond 64 bits (or 1e400) is a record, its numbers kept byte for
// byte (parse.cpp: json::quote_big_numbers); simdjson alone rejects such numbers, and the record was once
// lost to the errors sink as "invalid JSON".
TEST(RecordBytes, BigIntegersAreValidJson) {
  CaseRun run;
  const std::string rec = "{\"id\":\"a\",\"hash\":123456789012345678901234567890,\"p\":\"abc\"}";
  std::string pipeline = kAnnotatePipeline;
  pipeline.replace(pipeline.find("id: id }"), 8, "id: id, on_error: skip }");
  run_case(run, pipeline, {{"s.jsonl", rec + "\n"}});
  ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
  EXPECT_EQ(run.out("kept.jsonl"), "{\"id\":\"a\",\"hash\":123456789012345678901234567890,\"p\":\"abc\",\"tamis\":{\"length\":3}}\n");
}

// ---------------------------------------------------------------- the command line

// `run` is quiet on stderr for any --threads, more than the cores included, and uses that many threads
// (runner.cpp run_tbb: a tbb::global_control; oneTBB once warned on stderr and silently used fewer).
TEST(Cli, RunIsQuietForAnyThreadCount) {
  for (const char* threads : {"1", "2", "8"}) {
    CaseRun run;
    run_case(run, kAnnotatePipeline, {{"s.jsonl", "{\"id\":\"a\",\"p\":\"abc\"}\n"}}, {"--threads", threads});
    ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
    EXPECT_EQ(run.r.err, "") << "--threads " << threads;
    EXPECT_EQ(run.out("kept.jsonl"), "{\"id\":\"a\",\"p\":\"abc\",\"tamis\":{\"length\":3}}\n");
  }
}

TEST(Cli, QuietOptionDropsTheSummary) {
  CaseRun run;
  run_case(run, kAnnotatePipeline, {{"s.jsonl", "{\"id\":\"a\",\"p\":\"abc\"}\n"}}, {"--quiet"});
  ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
  EXPECT_EQ(run.r.out, "");
  EXPECT_EQ(run.r.err, "");
  EXPECT_EQ(run.out("kept.jsonl"), "{\"id\":\"a\",\"p\":\"abc\",\"tamis\":{\"length\":3}}\n");
}

// ---------------------------------------------------------------- totals

TEST(Totals, ReportInputsAndStagesAddUp) {
  CaseRun run;
  run_case(run,
           "version: 1\n"
           "sources:\n"
           "  s: { path: s.jsonl, on_error: skip }\n"
           "stages:\n"
           "  req:\n"
           "    uses: filter.require\n"
           "    with: { fields: [p] }\n"
           "  len:\n"
           "    uses: filter.length\n"
           "    with: { field: p, min: 3 }\n"
           "sinks:\n"
           "  kept: { path: out/kept.jsonl }\n"
           "  report: { path: out/report.json, report: true }\n",
           {{"s.jsonl", "{\"p\":\"abcd\"}\n\n{\"p\":\"a\"}\n{\"q\":1}\nnot json\n{\"p\":\"abc\"}\n"}});
  ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
  const std::string rep = run.out("report.json");
  EXPECT_NE(rep.find("\"totals\": {\"read\": 5, \"kept\": 2, \"rejected\": 2, \"errors\": 1, \"balanced\": true}"), std::string::npos) << rep;
  EXPECT_NE(rep.find("\"lines\": 6, \"blank_lines\": 1, \"records\": 4, \"errors\": 1"), std::string::npos) << rep;
  EXPECT_NE(rep.find("{\"name\": \"req\", \"op\": \"filter.require\", \"in\": 4, \"kept\": 3, \"emitted\": 0, \"rejected\": 1, "
                     "\"rejected_by_reason\": {\"missing_field\": 1}"),
            std::string::npos)
      << rep;
  EXPECT_NE(rep.find("{\"name\": \"len\", \"op\": \"filter.length\", \"in\": 3, \"kept\": 2, \"emitted\": 0, \"rejected\": 1, "
                     "\"rejected_by_reason\": {\"too_short\": 1}"),
            std::string::npos)
      << rep;
  EXPECT_NE(rep.find("{\"name\": \"kept\", \"kind\": \"records\", \"path\": \"" + (run.t / "out/kept.jsonl").string() + "\", \"lines\": 2,"),
            std::string::npos)
      << rep;
  EXPECT_NE(run.r.out.find("read 5 = kept 2 + rejected 2 + errors 1  (balanced)\n"), std::string::npos) << run.r.out;
}


// ---------------------------------------------------------------- discard sinks

TEST(Sinks, ADiscardSinkKeepsAndCountsItsRecordsButWritesNothing) {
  CaseRun run;
  run_case(run,
           "version: 1\n"
           "sources:\n"
           "  s: { path: s.jsonl, id: id }\n"
           "stages:\n"
           "  len:\n"
           "    uses: filter.length\n"
           "    with: { field: p, min: 3 }\n"
           "sinks:\n"
           "  nowhere: { discard: true }\n"
           "  rejected: { path: out/rejected.jsonl, rejected: true }\n"
           "  ledger: { path: out/ledger.jsonl, ledger: true }\n"
           "  report: { path: out/report.json, report: true }\n",
           {{"s.jsonl", "{\"id\":\"a\",\"p\":\"abcd\"}\n{\"id\":\"b\",\"p\":\"a\"}\n{\"id\":\"c\",\"p\":\"abc\"}\n"}});
  ASSERT_EQ(run.r.exit_code, 0) << run.r.err;
  EXPECT_NE(run.r.out.find("read 3 = kept 2 + rejected 1 + errors 0  (balanced)"), std::string::npos) << run.r.out;
  EXPECT_NE(run.r.out.find("  nowhere      discard              2 lines  (not written)\n"), std::string::npos) << run.r.out;
  EXPECT_NE(run.out("ledger.jsonl").find("\"id\":\"a\",\"source\":\"s\",\"file\":"), std::string::npos);
  EXPECT_NE(run.out("ledger.jsonl").find("\"fate\":\"kept\",\"sinks\":[\"nowhere\"]"), std::string::npos) << run.out("ledger.jsonl");
  EXPECT_NE(run.out("report.json").find("\"kind\": \"discard\""), std::string::npos) << run.out("report.json");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(run.t / "out")) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"ledger.jsonl", "rejected.jsonl", "report.json"}));
}

TEST(Sinks, ADiscardSinkWithAPathOrOfAnotherKindIsAnError) {
  for (const std::string sink : {"{ discard: true, path: out/x.jsonl }", "{ discard: true, rejected: true }", "{ discard: maybe }"}) {
    CaseRun run;
    run_case(run, "version: 1\nsources:\n  s: { path: s.jsonl }\nsinks:\n  x: " + sink + "\n", {{"s.jsonl", "{}\n"}});
    EXPECT_EQ(run.r.exit_code, 2) << sink;
    EXPECT_NE(run.r.err.find("sink 'x'"), std::string::npos) << run.r.err;
  }
}

}  // namespace
}  // namespace tamis::test
