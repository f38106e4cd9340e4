// The ledger sink (`ledger: true`): one line per input line, in input order, with its id, source, file,
// line number and fate: kept (and the records sinks it reached), rejected (stage, reason, detail) or
// error (unreadable).
#include <tamis/json.hpp>

#include "pipeline/pipeline.hpp"
#include "sinks/sink_kind.hpp"

namespace tamis {

namespace {

class LedgerSink final : public SinkKind {
 public:
  std::string_view name() const override { return "ledger"; }
  Inputs inputs() const override { return Inputs::none; }

  void render(const SinkRenderContext& ctx, Batch& b, RenderedOutput& rendered) const override {
    std::string& out = rendered.owned;
    const size_t start = out.size();
    const auto& sinks = ctx.pipeline.sinks;
    rendered.lines = b.inputs.size();
    for (const InputEntry& e : b.inputs) {
      out += "{\"id\":";
      json::append_quoted(out, e.id);
      out += ",\"source\":";
      json::append_quoted(out, ctx.source);
      out += ",\"file\":";
      json::append_quoted(out, ctx.file);
      out += ",\"line\":" + std::to_string(e.line);
      if (e.fate == Fate::kept) {
        out += ",\"fate\":\"kept\",\"sinks\":[";
        bool first = true;
        for (size_t s = 0; s < sinks.size(); ++s) {
          if (ctx.records_sink_bit[s] < 0 || !(e.sink_mask >> ctx.records_sink_bit[s] & 1)) continue;
          if (!first) out += ",";
          first = false;
          json::append_quoted(out, sinks[s].name);
        }
        out += "]}\n";
      } else if (e.fate == Fate::rejected) {
        out += ",\"fate\":\"rejected\",\"stage\":";
        json::append_quoted(out, ctx.pipeline.stages[e.rejection->rejected_by].name);
        out += ",\"reason\":";
        json::append_quoted(out, e.rejection->reason);
        out += ",\"detail\":";
        json::append_quoted(out, e.rejection->detail);
        out += "}\n";
      } else {
        out += ",\"fate\":\"error\",\"reason\":\"unreadable\",\"detail\":";
        json::append_quoted(out, e.error);
        out += "}\n";
      }
    }
    rendered.commit_owned(start);
  }
};

}  // namespace

const SinkKind& ledger_sink_kind() {
  static const LedgerSink kind;
  return kind;
}

}  // namespace tamis
