// The review page: a finished run's report.json as one self-contained HTML file (docs/review.md).
//
// The page needs no network and no script: inline CSS and SVG drawn here, so it opens from a file on any
// machine. It shows the balance read = kept + rejected + errors, the funnel (records per stage), the
// pipeline graph (stages in execution order with their inputs; parameters on hover and in each stage's
// section), per stage its rejection reasons as bars, its counters, its time and its op's own report
// object (generic key/value and table rendering; decontamination hits with their evidence side by side),
// the run's warnings, inputs and sinks.
//
// Every string from the report is HTML-escaped (records' text can contain anything) and clipped; every
// table is capped, saying how many rows were left out, so the page stays small whatever the run. The
// same report.json (and pipeline text) gives the same bytes.
//
//   tamis::review::ReviewOptions o;
//   o.pipeline_yaml = read_file("pipelines/magistral-math.yaml");   // optional: the graph's inputs and parameters
//   const std::string html = tamis::review::render_review_html(report_json, o);
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tamis::review {

class ReviewError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ReviewOptions {
  // The pipeline file's text. report.json does not (yet) name each stage's inputs and parameters; when
  // this is given they are read from it (`inputs`, `with`, sinks' `inputs`), else the stages are drawn as
  // a chain in report order. Inputs and parameters a stage has in report.json itself win.
  std::string pipeline_yaml;
  std::string pipeline_origin;  // where pipeline_yaml came from, said on the page (e.g. its path)
  size_t max_rows = 40;          // rows of any one table or bar chart; the rest are counted, not shown
  size_t max_text_bytes = 400;   // of any one string shown
  size_t max_depth = 4;          // nesting of objects shown as tables within tables
};

// Throws ReviewError when `report_json` is not a JSON object with the fields of a tamis report
// (totals, stages).
std::string render_review_html(std::string_view report_json, const ReviewOptions& options = {});

// The pipeline file a report names ("pipeline"), or "" when it names none or is not JSON.
std::string report_pipeline(std::string_view report_json);

// `text` with & < > " ' replaced by entities: safe in element content and in quoted attributes.
std::string html_escape(std::string_view text);

}  // namespace tamis::review
