// The report sink (`report: true`): one JSON document at the end of the run, the totals per source,
// stage (in, kept, rejected by reason, counters, the op's own report) and sink (format_report in
// engine/report.cpp); written with the run's other outputs, last.
#include "sinks/sink_kind.hpp"

namespace tamis {

namespace {

class ReportSink final : public SinkKind {
 public:
  std::string_view name() const override { return "report"; }
  Inputs inputs() const override { return Inputs::none; }
  bool written_at_end() const override { return true; }
  void render(const SinkRenderContext&, Batch&, RenderedOutput&) const override {}
};

}  // namespace

const SinkKind& report_sink_kind() {
  static const ReportSink kind;
  return kind;
}

}  // namespace tamis
