// The parse step: a batch's lines become records (engine/parse.hpp).
#include "engine/parse.hpp"

#include <simdjson.h>
#include <tamis/json.hpp>

#include "common/utf8.hpp"
#include "engine/content_ids.hpp"
#include "engine/runner.hpp"
#include "engine/stage_call.hpp"

namespace tamis {

namespace {

// A short, printable excerpt of a bad line for error messages.
std::string excerpt(std::string_view line) {
  const std::string_view head = utf8_prefix(line, 120);
  const bool utf8 = simdjson::validate_utf8(head.data(), head.size());
  std::string out;
  for (unsigned char c : head) {
    if (c >= 0x20 && c < 0x7f) out.push_back(static_cast<char>(c));
    else if (c >= 0x80) out.push_back(utf8 ? static_cast<char>(c) : '?');
    else out += ' ';
  }
  if (line.size() > head.size()) out += " ...";
  return out;
}

}  // namespace

// A source's maximum line size.
size_t max_line_bytes(const SourceSpec& src) {
  return src.max_line_bytes ? static_cast<size_t>(src.max_line_bytes) : io::kDefaultMaxLineBytes;
}

// The message for an allocation that failed while reading or parsing line `line` of a file.
std::string out_of_memory(const SourceSpec& src, const std::string& file, uint64_t line, const char* doing) {
  return file + ":" + std::to_string(line) + ": out of memory " + doing + " the line (source '" + src.name +
         "')\n  hint: lower --batch-bytes or --threads, or the source's `max_line_bytes` (now " +
         std::to_string(max_line_bytes(src)) + " bytes; longer lines are unreadable lines)";
}

void parse_batch(const Pipeline& p_, Batch& b, const std::string& file) {
  const SourceSpec& src = p_.sources[b.source];
  const size_t nodes = p_.sources.size() + p_.stages.size();
  b.node_out.resize(nodes);
  b.calls.resize(p_.stages.size());
  b.stage_stats.resize(p_.stages.size());
  b.rendered.resize(p_.sinks.size());
  b.encoded.resize(p_.sinks.size());
  auto& out = b.node_out[b.source];
  const auto& chunk = b.chunk;
  b.inputs.reserve(chunk.lines.size() + 1);
  out.reserve(chunk.lines.size());
  thread_local simdjson::dom::parser parser;
  std::string sanitized, quoted;
  const std::string_view field = p_.annotation_field;

  auto fail_line = [&](InputEntry& e, std::string message) {
    e.fate = Fate::error;
    if (e.id.empty()) e.id = file + ":" + std::to_string(e.line);
    e.error = std::move(message);
    ++b.errors;
    if (src.on_error == OnError::fail && b.fatal.empty()) {
      b.fatal = file + ":" + std::to_string(e.line) + ": " + e.error + "\n  | " + excerpt(b.line_text(e)) +
                "\n  hint: fix or remove the line, or set `on_error: skip` on source '" + src.name +
                "' to send unreadable lines to an errors sink and go on";
    }
  };

  size_t next_long = 0;  // in chunk.long_lines
  uint64_t current = chunk.lines.empty() ? chunk.truncated_line : chunk.lines.front().number;
  try {
    for (size_t i = 0; i < chunk.lines.size(); ++i) {
      const io::Line& line = chunk.lines[i];
      current = line.number;
      InputEntry& e = b.inputs.emplace_back();
      e.line = line.number;
      e.offset = line.offset;
      e.size = line.size;
      const bool too_long = next_long < chunk.long_lines.size() && chunk.long_lines[next_long].index == i;
      if (too_long) e.line_bytes = chunk.long_lines[next_long++].length;
      if (chunk.truncated && chunk.last_line_partial && i + 1 == chunk.lines.size()) {
        fail_line(e, "incomplete last line: " + *chunk.truncated);
        continue;
      }
      if (too_long) {
        fail_line(e, "line too long: " + std::to_string(e.line_bytes) + " bytes, more than max_line_bytes (" +
                         std::to_string(max_line_bytes(src)) + "); raise `max_line_bytes` on source '" + src.name +
                         "' to read it");
        continue;
      }
      const std::string_view text = chunk.text(line);  // padded: parsed in place
      simdjson::dom::element doc;
      auto err = parser.parse(text.data(), text.size(), false).get(doc);
      if (err == simdjson::NUMBER_ERROR && json::quote_big_numbers(text, sanitized)) {
        err = parser.parse(sanitized).get(doc);  // valid JSON with numbers beyond 64 bits: kept as written
      }
      if (err == simdjson::MEMALLOC) throw std::bad_alloc();
      if (err) {
        fail_line(e, err == simdjson::UTF8_ERROR ? std::string("invalid UTF-8 in the line")
                                                 : std::string("invalid JSON: ") + simdjson::error_message(err));
        continue;
      }
      simdjson::dom::object obj;
      if (doc.get_object().get(obj) != simdjson::SUCCESS) {
        fail_line(e, "the line is JSON but not an object (each line must be one JSON object)");
        continue;
      }
      if (!src.id_field.empty()) {
        simdjson::dom::element idv;
        std::string_view sv;
        int64_t iv;
        uint64_t uv;
        if (obj.at_key(src.id_field).get(idv) != simdjson::SUCCESS) {
          fail_line(e, "missing id field '" + src.id_field + "' (source '" + src.name + "' has `id: " + src.id_field + "`)");
          continue;
        }
        if (idv.get_string().get(sv) == simdjson::SUCCESS) e.id.assign(sv);
        else if (idv.get_int64().get(iv) == simdjson::SUCCESS) e.id = std::to_string(iv);
        else if (idv.get_uint64().get(uv) == simdjson::SUCCESS) e.id = std::to_string(uv);
        else {
          fail_line(e, "id field '" + src.id_field + "' is neither a string nor an integer");
          continue;
        }
      }
      Record& r = b.records.emplace_back();
      r.text = text;
      r.origin = static_cast<uint32_t>(b.inputs.size() - 1);
      simdjson::dom::element existing;
      r.has_annotation_field = obj.at_key(field).get(existing) == simdjson::SUCCESS;
      if (src.id_field.empty()) {
        // No id field: the id an earlier run wrote in the annotations field, else the content id
        // (engine/content_ids.hpp); both go out with the record, with the source it entered through.
        std::string_view carried_id, carried_source;
        simdjson::dom::object earlier;
        if (r.has_annotation_field && existing.get_object().get(earlier) == simdjson::SUCCESS) {
          if (earlier.at_key("id").get_string().get(carried_id) != simdjson::SUCCESS) carried_id = {};
          if (earlier.at_key("source").get_string().get(carried_source) != simdjson::SUCCESS) carried_source = {};
        }
        if (!carried_id.empty()) e.id.assign(carried_id);
        else append_content_id(e.id, src.name, b.content_ids[i]);
        quoted.clear();
        json::append_quoted(quoted, e.id);
        r.annotate("id", quoted);
        quoted.clear();
        json::append_quoted(quoted, carried_id.empty() || carried_source.empty() ? std::string_view(src.name) : carried_source);
        r.annotate("source", quoted);
      }
      r.id = e.id;
      out.push_back(&r);
    }
    if (chunk.truncated && !chunk.last_line_partial) {
      InputEntry& e = b.inputs.emplace_back();
      e.line = chunk.truncated_line;
      fail_line(e, *chunk.truncated);
    }
  } catch (const std::bad_alloc&) {
    throw RunError(out_of_memory(src, file, current, "parsing"));
  }
}

}  // namespace tamis
