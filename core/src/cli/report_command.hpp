// `tamis report REPORT.json [-o OUT.html] [--pipeline FILE]`: a finished run's report.json as the HTML
// review page (review/html_report.hpp, docs/review.md), written whole or not at all.
#pragma once

namespace tamis::cli {

// argv[first..argc) are the arguments after `report`. Returns the process exit code: 0 written, 1 the
// report could not be read or the page not written, 2 usage.
int report_main(int argc, char** argv, int first);

}  // namespace tamis::cli
