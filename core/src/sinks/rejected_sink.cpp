// The rejected sink (`rejected: true`): the records its stages rejected (all stages when it names
// none), in input order, each with its annotations and the rejection (stage, reason, detail).
#include "pipeline/pipeline.hpp"
#include "sinks/render.hpp"
#include "sinks/sink_kind.hpp"

namespace tamis {

namespace {

class RejectedSink final : public SinkKind {
 public:
  std::string_view name() const override { return "rejected"; }
  Inputs inputs() const override { return Inputs::stages; }

  void render(const SinkRenderContext& ctx, Batch&, RenderedOutput& out) const override {
    const size_t start = out.owned.size();
    for (const Record* r : ctx.rejected) {
      if (!ctx.rejected_stages[r->rejected_by]) continue;
      const RejectionText why{ctx.pipeline.stages[r->rejected_by].name, r->reason, r->detail};
      render_record(out.owned, *r, ctx.annotation_field, &why);
      ++out.lines;
    }
    out.commit_owned(start);
  }
};

}  // namespace

const SinkKind& rejected_sink_kind() {
  static const RejectedSink kind;
  return kind;
}

}  // namespace tamis
