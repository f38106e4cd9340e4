#include "cli/fingerprint.hpp"
#include "cli/numbers.hpp"

#include <glob.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "engine/runner.hpp"
#include "io/atomic_writer.hpp"
#include "pipeline/pipeline.hpp"
#include "plugin/registry.hpp"

namespace tamis::cli {

namespace {

namespace fs = std::filesystem;

const char* kFingerprintUsage = R"(usage:
  tamis fingerprint --group-by FIELD --text FIELD [--human FILE ...] [--human-field FIELD] [--out DIR]
                    [--threads N] [--measure cosine|jaccard] [--neighbours N] [--min-count N]
                    [--min-records N] [--keep-stopwords] [--plugin-path DIR ...] [--quiet] FILE...

  Groups the records of FILE... (JSONL, .gz, .zst; globs) by FIELD, finds the words, bigrams and trigrams
  each group over-uses against the human reference (--human; without it, against the other groups), and
  prints each group's nearest neighbours and an average-linkage tree. Writes to DIR (default
  fingerprint-out): profile.json, tree.nwk, dendrogram.txt, neighbours.md, report.json, and the
  pipeline it ran (pipeline.yaml; re-run it with `tamis run`). See docs/fingerprint.md.

example:
  tamis fingerprint --group-by model --text output --human 'data/slop/*.jsonl' --human-field prompt \
                    data/slop/*.jsonl
)";

int usage(const std::string& message) {
  std::fprintf(stderr, "tamis fingerprint: %s\n\n%s", message.c_str(), kFingerprintUsage);
  return 2;
}

// A YAML double-quoted scalar: the loader expands ${VAR} in strings, so '$' is written '$$'.
std::string yq(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '$') out.push_back('$');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

// A file name as a source pattern: glob characters escaped, so the loader matches exactly this file.
std::string literal_pattern(const std::string& path) {
  std::string out;
  for (const char c : path) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

volatile std::sig_atomic_t g_fp_signal = 0;
void on_signal(int sig) {
  g_fp_signal = sig;
  if (g_interrupted.exchange(true)) {
    io::remove_all_temporaries();
    _exit(128 + sig);
  }
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int fingerprint_main(int argc, char** argv, int first) {
  std::string group_by, text, human_field = "text", out = "fingerprint-out", measure = "cosine";
  std::vector<std::string> human, inputs, plugin_dirs;
  long long threads = 0, neighbours = 3, min_count = 5, min_records = 5;
  bool keep_stopwords = false, quiet = false;
  for (int i = first; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--help" || a == "-h") {
      std::fputs(kFingerprintUsage, stdout);
      return 0;
    } else if (a == "--keep-stopwords") {
      keep_stopwords = true;
    } else if (a == "--quiet" || a == "-q") {
      quiet = true;
    } else if (a == "--verbose" || a == "-v") {
      log::set_level(log::Level::debug);
    } else if (a.size() > 1 && a[0] == '-') {
      if (!(v = value())) return usage(a + " needs a value");
      long long n = 0;
      if (a == "--group-by") group_by = v;
      else if (a == "--text") text = v;
      else if (a == "--human") human.emplace_back(v);
      else if (a == "--human-field") human_field = v;
      else if (a == "--out" || a == "-o") out = v;
      else if (a == "--plugin-path") plugin_dirs.emplace_back(v);
      else if (a == "--measure") {
        measure = v;
        if (measure != "cosine" && measure != "jaccard") return usage("--measure is cosine or jaccard, got '" + measure + "'");
      } else if (a == "--threads" || a == "-j" || a == "--neighbours" || a == "--min-count" || a == "--min-records") {
        // The thread count becomes an int, with `tamis run`'s bound; the others are stage parameters.
        const bool thread_option = a == "--threads" || a == "-j";
        const long long max = thread_option ? 1024 : 1000000000;
        if (!cli::positive(v, max, n))
          return usage(a + " wants a whole number from 1 to " + std::to_string(max) + ", got '" + v + "'");
        (a == "--neighbours" ? neighbours : a == "--min-count" ? min_count : a == "--min-records" ? min_records : threads) = n;
      } else {
        return usage("unknown option '" + a + "'");
      }
    } else {
      inputs.push_back(a);
    }
  }
  if (group_by.empty()) return usage("--group-by FIELD is needed: the field naming each record's group (e.g. model)");
  if (text.empty()) return usage("--text FIELD is needed: the field holding the text to profile (e.g. output)");
  if (inputs.empty()) return usage("no input files: give one or more JSONL files (or globs)");

  // Every input, expanded and checked here, so that a typo is named as the user wrote it.
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (fs::is_regular_file(in, ec)) {
      files.push_back(fs::absolute(in).lexically_normal().string());
      continue;
    }
    glob_t g{};
    size_t matched = 0;
    if (in.find_first_of("*?[") != std::string::npos && ::glob(in.c_str(), 0, nullptr, &g) == 0) {
      for (size_t k = 0; k < g.gl_pathc; ++k)
        if (fs::is_regular_file(g.gl_pathv[k], ec)) {
          files.push_back(fs::absolute(g.gl_pathv[k]).lexically_normal().string());
          ++matched;
        }
    }
    globfree(&g);
    if (matched == 0) {
      std::fprintf(stderr, "tamis fingerprint: error: input '%s': %s\n", in.c_str(),
                   fs::exists(in, ec) ? "not a regular file" : "no such file");
      return 2;
    }
  }
  for (const auto& h : human) {
    glob_t g{};
    const bool any = ::glob(h.c_str(), 0, nullptr, &g) == 0 && g.gl_pathc > 0;
    globfree(&g);
    if (!any) {
      std::fprintf(stderr, "tamis fingerprint: error: human reference '%s': no such file\n", h.c_str());
      return 2;
    }
  }

  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) {
    std::fprintf(stderr, "tamis fingerprint: error: cannot create output directory '%s': %s\n", out.c_str(),
                 ec.message().c_str());
    return 2;
  }
  const fs::path dir = fs::absolute(out).lexically_normal();

  // The pipeline: one source per file, read in the order given; the profile observes them all, and the
  // records end in a discard sink (the products are the profile's files).
  std::string y = "# written by `tamis fingerprint`; re-run with: tamis run " + (dir / "pipeline.yaml").string() +
                  "\nversion: 1\nsources:\n";
  std::string names;
  for (size_t k = 0; k < files.size(); ++k) {
    const std::string name = "in" + std::to_string(k + 1);
    y += "  " + name + ": { path: " + yq(literal_pattern(files[k])) + " }\n";
    names += (k ? ", " : "") + name;
  }
  y += "stages:\n  profile:\n    uses: fingerprint.profile\n    inputs: [" + names + "]\n    with:\n";
  y += "      group_by: " + yq(group_by) + "\n      field: " + yq(text) + "\n      dir: " + yq(dir.string()) + "\n";
  if (!human.empty()) {
    y += "      human: [";
    for (size_t k = 0; k < human.size(); ++k)
      y += (k ? ", " : "") + yq(fs::absolute(human[k]).lexically_normal().string());
    y += "]\n      human_field: " + yq(human_field) + "\n";
  }
  y += "      drop_stopwords: " + std::string(keep_stopwords ? "false" : "true") + "\n      measure: " + measure +
       "\n      neighbours: " + std::to_string(neighbours) + "\n      min_count: " + std::to_string(min_count) +
       "\n      min_records: " + std::to_string(min_records) + "\n";
  y += "sinks:\n  records: { discard: true }\n";
  y += "  report: { path: " + yq((dir / "report.json").string()) + ", report: true }\n";
  const std::string pipeline_file = (dir / "pipeline.yaml").string();
  {
    std::ofstream f(pipeline_file, std::ios::binary | std::ios::trunc);
    f << y;
    if (!f) {
      std::fprintf(stderr, "tamis fingerprint: error: cannot write %s\n", pipeline_file.c_str());
      return 1;
    }
  }

  Registry registry;
  registry.load_directories(Registry::default_search_path(plugin_dirs));
  for (const auto& problem : registry.problems()) std::fprintf(stderr, "tamis: error: %s\n", problem.c_str());
  if (!registry.problems().empty()) return 2;
  if (!registry.find("fingerprint.profile")) {
    std::fprintf(stderr, "tamis fingerprint: error: no plugin offers fingerprint.profile (is libtamis_fingerprint.so "
                         "in the plugin path? see `tamis plugins list`)\n");
    return 2;
  }
  Diagnostics diags;
  const Pipeline p = load_pipeline(pipeline_file, registry, LoadOptions{}, diags);
  if (!diags.empty()) {
    std::fputs(diags.format().c_str(), stderr);
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  RunOptions ro;
  ro.threads = static_cast<int>(threads);
  ro.progress = !quiet && isatty(STDERR_FILENO);
  if (quiet) log::set_level(log::Level::warn);
  try {
    const RunTotals t = run_pipeline(p, ro);
    std::printf("%s records from %zu file(s), %.2f s, %d thread(s)\n\n", std::to_string(t.read).c_str(), files.size(),
                t.seconds, t.threads);
  } catch (const RunError& e) {
    std::fprintf(stderr, "tamis fingerprint: error: %s\n", e.what());
    if (g_interrupted) return g_fp_signal ? 128 + g_fp_signal : 130;
    std::fprintf(stderr, "tamis fingerprint: the run failed; the pipeline it ran is %s\n", pipeline_file.c_str());
    return 1;
  }
  std::fputs(slurp(dir / "neighbours.md").c_str(), stdout);
  std::printf("\n%s\nfiles: %s/{profile.json, tree.nwk, dendrogram.txt, neighbours.md, report.json, pipeline.yaml}\n",
              slurp(dir / "dendrogram.txt").c_str(), dir.string().c_str());
  return 0;
}

}  // namespace tamis::cli
