// The records sink (the default kind): the records its inputs put out, kept. An unchanged record is
// written as its input bytes; others with their annotations (render_record). With `annotations:
// false` every record is written without the annotations member (a trainer's rows, whose schema has
// no place for it: map.to_verl folds the annotations into extra_info).
#include "engine/gather.hpp"
#include "pipeline/pipeline.hpp"
#include "sinks/render.hpp"
#include "sinks/sink_kind.hpp"

namespace tamis {

namespace {

class RecordsSink final : public SinkKind {
 public:
  std::string_view name() const override { return "records"; }
  Inputs inputs() const override { return Inputs::nodes; }
  bool keeps_records() const override { return true; }

  void render(const SinkRenderContext& ctx, Batch& b, RenderedOutput& out) const override {
    const size_t index = static_cast<size_t>(&ctx.sink - ctx.pipeline.sinks.data());
    const uint64_t bit = uint64_t{1} << ctx.records_sink_bit[index];
    const char* buffer_end = b.chunk.buffer.data.get() + b.chunk.bytes;
    for (const Record* r : gather(ctx.pipeline, b, ctx.sink.inputs, nullptr)) {
      b.inputs[r->origin].sink_mask |= bit;
      ++out.lines;
      if (ctx.sink.discard) continue;
      const char* end = r->text.data() + r->text.size();
      if ((r->annotations.empty() || !ctx.sink.write_annotations) && !r->has_annotation_field && r->owned.empty() &&
          end < buffer_end && *end == '\n') {
        out.append_ref(r->text.data(), r->text.size() + 1);  // unchanged: its input bytes, newline included
        continue;
      }
      const size_t start = out.owned.size();
      if (ctx.sink.write_annotations) {
        render_record(out.owned, *r, ctx.annotation_field, nullptr);
      } else {
        std::string stripped;
        out.owned.append(r->has_annotation_field && strip_members(r->text, ctx.annotation_field, stripped) ? stripped : r->text);
        out.owned.push_back('\n');
      }
      out.commit_owned(start);
    }
  }
};

}  // namespace

const SinkKind& records_sink_kind() {
  static const RecordsSink kind;
  return kind;
}

}  // namespace tamis
