// The errors sink (`errors: true`): the lines that could not be read (on_error: skip), each with its
// source, file, line number and what was wrong, and its text (base64 when it is not UTF-8; at most the
// first MiB, marked as cut, of a longer line).
#include <simdjson.h>
#include <tamis/json.hpp>

#include <algorithm>

#include "io/jsonl_reader.hpp"
#include "sinks/sink_kind.hpp"

namespace tamis {

namespace {

std::string base64(std::string_view in) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += i + 1 < in.size() ? k[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

class ErrorsSink final : public SinkKind {
 public:
  std::string_view name() const override { return "errors"; }
  Inputs inputs() const override { return Inputs::none; }
  bool keeps_unreadable_lines() const override { return true; }

  void render(const SinkRenderContext& ctx, Batch& b, RenderedOutput& rendered) const override {
    std::string& out = rendered.owned;
    const size_t start = out.size();
    for (const InputEntry& e : b.inputs) {
      if (e.fate != Fate::error) continue;
      // At most the line's first kLongLineKept bytes (1 MiB), not cutting a UTF-8 character; a cut text
      // is marked, with the whole line's length.
      std::string_view text = b.line_text(e);
      const uint64_t line_bytes = std::max<uint64_t>(e.line_bytes, text.size());
      if (line_bytes > io::kLongLineKept || line_bytes > text.size()) {
        text = text.substr(0, io::kLongLineKept);
        size_t end = text.size(), tail = 0;  // drop an incomplete last character
        while (end > 0 && tail < 3 && (static_cast<unsigned char>(text[end - 1]) & 0xC0) == 0x80) --end, ++tail;
        if (end > 0) {
          const auto lead = static_cast<unsigned char>(text[end - 1]);
          const size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
          if (need > tail + 1) text = text.substr(0, end - 1);
        }
      }
      out += "{\"source\":";
      json::append_quoted(out, ctx.source);
      out += ",\"file\":";
      json::append_quoted(out, ctx.file);
      out += ",\"line\":" + std::to_string(e.line) + ",\"error\":";
      json::append_quoted(out, e.error);
      if (simdjson::validate_utf8(text.data(), text.size())) {
        out += ",\"text\":";
        json::append_quoted(out, text);
      } else {
        out += ",\"text_base64\":\"" + base64(text) + "\"";
      }
      if (text.size() < line_bytes) out += ",\"text_cut\":true,\"line_bytes\":" + std::to_string(line_bytes);
      out += "}\n";
      ++rendered.lines;
    }
    rendered.commit_owned(start);
  }
};

}  // namespace

const SinkKind& errors_sink_kind() {
  static const ErrorsSink kind;
  return kind;
}

}  // namespace tamis
