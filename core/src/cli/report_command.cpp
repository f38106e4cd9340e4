// `tamis report`: report.json → the review page (report_command.hpp).
#include "cli/report_command.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "io/atomic_writer.hpp"
#include "review/html_report.hpp"

namespace tamis::cli {

namespace {

namespace fs = std::filesystem;

const char* kReportUsage = R"(usage: tamis report REPORT.json [-o OUT.html] [--pipeline PIPELINE.yaml]

Renders a finished run's report.json as one self-contained HTML page (no network, no script): the
balance read = kept + rejected + errors, the funnel, the pipeline graph, each stage's reasons, counters,
time and its op's report (decontamination evidence among them), warnings, inputs and outputs.

  -o, --output FILE    where the page goes (default: REPORT with .html for .json)
  --pipeline FILE      the pipeline file, for the graph's inputs and parameters (default: the file the
                       report names, when it can be found from here)
)";

bool read_whole(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return !in.bad();
}

int usage(const std::string& message) {
  std::fprintf(stderr, "tamis: %s\n\n%s", message.c_str(), kReportUsage);
  return 2;
}

}  // namespace

int report_main(int argc, char** argv, int first) {
  std::vector<std::string> positional;
  std::string output, pipeline;
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kReportUsage, stdout);
      return 0;
    }
    if (arg == "-o" || arg == "--output" || arg == "--pipeline") {
      if (i + 1 >= argc) return usage(arg + " needs a file");
      (arg == "--pipeline" ? pipeline : output) = argv[++i];
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage("report: unknown option '" + arg + "'");
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 1) return usage("report needs one report.json");
  const fs::path report_path = positional[0];
  if (output.empty()) {
    fs::path o = report_path;
    o.replace_extension(".html");
    output = o.string();
  }
  std::error_code ec;
  if (fs::weakly_canonical(output, ec) == fs::weakly_canonical(report_path, ec))
    return usage("report: the page would overwrite the report itself; name another file with -o");
  std::string json;
  if (!read_whole(report_path, json)) {
    std::fprintf(stderr, "tamis: error: cannot read %s\n", report_path.c_str());
    return 1;
  }
  review::ReviewOptions options;
  if (!pipeline.empty()) {
    if (!read_whole(pipeline, options.pipeline_yaml)) {
      std::fprintf(stderr, "tamis: error: cannot read the pipeline file %s\n", pipeline.c_str());
      return 1;
    }
    options.pipeline_origin = pipeline;
  }
  try {
    if (pipeline.empty()) {
      // The file the report names (as the run was given it, so relative to where the run was started):
      // read when it is there from here; else the page draws the stages as a chain and says so.
      const std::string named = review::report_pipeline(json);
      if (!named.empty() && fs::is_regular_file(named, ec) && read_whole(named, options.pipeline_yaml))
        options.pipeline_origin = named;
    }
    const std::string html = review::render_review_html(json, options);
    io::AtomicWriter w(output);
    w.write(html);
    w.commit();
    std::printf("%s: the review page of %s (%zu bytes)\n", output.c_str(), report_path.c_str(), html.size());
    return 0;
  } catch (const review::ReviewError& e) {
    std::fprintf(stderr, "tamis: error: %s: %s\n", report_path.c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tamis: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace tamis::cli
