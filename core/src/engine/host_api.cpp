// The host's callbacks (tamis_host_api): what plugins call to annotate, reject, replace, emit,
// count, log and report. Every string is copied before the callback returns; misuse (invalid JSON,
// an index out of range, emitting from a non-expanding op) is recorded and fails the stage with a
// message once the hook returns, since nothing may throw across the C boundary.
#include <simdjson.h>
#include <tamis/json.hpp>

#include <cstdio>
#include <cstring>

#include "common/log.hpp"
#include "engine/stage_call.hpp"
#include "plugin/registry.hpp"

namespace tamis {
namespace {

std::string_view view(tamis_str s) { return {s.data, s.size}; }

// Whether `text` is one valid JSON value (and, with `object`, a JSON object). Numbers simdjson cannot
// hold (beyond 64 bits or a double's range) are valid JSON: they are checked as strings of their text,
// as records holding them are read (json::quote_big_numbers).
bool valid_json(std::string_view text, bool object) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element e;
  auto err = parser.parse(text.data(), text.size(), true).get(e);
  if (err == simdjson::NUMBER_ERROR) {
    thread_local std::string quoted;
    if (!json::quote_big_numbers(text, quoted)) return false;
    err = parser.parse(quoted.data(), quoted.size(), true).get(e);
  }
  if (err != simdjson::SUCCESS) return false;
  return !object || e.is_object();
}

// Whether `text` holds a raw line break. Valid JSON has one only as whitespace between tokens (a
// string cannot hold one unescaped), but one record is one line of JSONL: a pretty-printed value
// would add lines to the output while the counts still balance.
bool has_line_break(std::string_view text) {
  return std::memchr(text.data(), '\n', text.size()) != nullptr || std::memchr(text.data(), '\r', text.size()) != nullptr;
}
constexpr const char* kLineBreak = "a raw line break (one record is one line of JSONL: write it compact)";

StageCall* call_of(void* ctx) { return static_cast<StageCall*>(HostCtx::from(ctx)); }

Record* record_at(StageCall* call, size_t index, const char* what) {
  if (index >= call->records.size()) {
    call->fail(index, std::string(what) + ": record index " + std::to_string(index) + " is out of range (batch of " +
                          std::to_string(call->records.size()) + ")");
    return nullptr;
  }
  return call->records[index];
}

void on_annotate(void* ctx, size_t index, tamis_str key, tamis_str value) {
  StageCall* call = call_of(ctx);
  Record* r = record_at(call, index, "annotate");
  if (!r) return;
  const std::string_view k = view(key), v = view(value);
  if (k.empty() || k == "rejected_by" || k == "reason" || k == "detail") {
    return call->fail(index, "annotate: key '" + std::string(k) + "' is empty or reserved");
  }
  if (has_line_break(v)) return call->fail(index, "annotate: the value of '" + std::string(k) + "' holds " + kLineBreak);
  if (!valid_json(v, false)) {
    return call->fail(index, "annotate: the value of '" + std::string(k) + "' is not valid JSON: " +
                                 std::string(v.substr(0, 80)));
  }
  r->annotate(k, v);
  call->views_stale = true;
}

void on_reject(void* ctx, size_t index, tamis_str reason, tamis_str detail) {
  StageCall* call = call_of(ctx);
  Record* r = record_at(call, index, "reject");
  if (!r || r->rejected_by >= 0) return;  // the first verdict stands
  r->rejected_by = call->stage_index;
  r->reason = reason.size ? std::string(view(reason)) : std::string("rejected");
  r->detail = std::string(view(detail));
}

void on_reject_field(void* ctx, size_t index, tamis_str field, tamis_str reason, tamis_str detail) {
  StageCall* call = call_of(ctx);
  Record* r = record_at(call, index, "reject");
  if (!r || r->rejected_by >= 0) return;  // the first verdict stands
  on_reject(ctx, index, reason.size ? reason : tamis_str{"missing_field", 13}, detail);
  r->field_rejection = true;
  r->missing_field = std::string(view(field));
}

void on_replace(void* ctx, size_t index, tamis_str json) {
  StageCall* call = call_of(ctx);
  Record* r = record_at(call, index, "replace");
  if (!r) return;
  if (has_line_break(view(json))) return call->fail(index, std::string("replace: the new text holds ") + kLineBreak);
  if (!valid_json(view(json), true)) return call->fail(index, "replace: the new text is not one JSON object");
  r->set_text(view(json));
  r->has_annotation_field = true;  // may have it: the writer looks for the field in the new text
  call->views_stale = true;
}

void on_emit(void* ctx, size_t index, tamis_str json, tamis_str id) {
  StageCall* call = call_of(ctx);
  Record* parent = record_at(call, index, "emit");
  if (!parent) return;
  if (call->kind != TAMIS_OP_EXPANDING) return call->fail(index, "emit: only expanding ops may emit records");
  if (has_line_break(view(json))) return call->fail(index, std::string("emit: the new record holds ") + kLineBreak);
  if (!valid_json(view(json), true)) return call->fail(index, "emit: the new record is not one JSON object");
  Record& r = call->batch->records.emplace_back();
  r.set_text(view(json));
  r.id = id.size ? std::string(view(id)) : parent->id;
  r.origin = parent->origin;
  r.has_annotation_field = true;
  r.annotations = parent->annotations;
  if (call->emitted.size() < call->records.size()) call->emitted.resize(call->records.size());
  call->emitted[index].push_back(&r);
}

void on_count(void* ctx, tamis_str name, int64_t delta) { HostCtx::from(ctx)->count(view(name), delta); }

void on_log(void* ctx, tamis_log_level level, tamis_str message) {
  const auto l = level <= TAMIS_LOG_DEBUG ? log::Level::debug
                 : level == TAMIS_LOG_INFO ? log::Level::info
                 : level == TAMIS_LOG_WARN ? log::Level::warn
                                           : log::Level::error;
  log::write(l, HostCtx::from(ctx)->who(), view(message));
}

void on_report(void* ctx, tamis_str json) {
  auto* stage = dynamic_cast<StageContext*>(HostCtx::from(ctx));
  if (!stage) return;
  if (!valid_json(view(json), true)) {
    log::warn(stage->name, "report: ignored a value that is not a JSON object");
    return;
  }
  std::lock_guard lock(stage->mutex);
  stage->report_json = std::string(view(json));
}

// A side file written in finish, to be put in place with the run's other outputs.
tamis_status on_commit_file(void* ctx, tamis_str temp, tamis_str target, tamis_error* err) {
  auto fail = [&](const std::string& why) {
    if (err) {
      std::snprintf(err->message, sizeof err->message, "%s", why.c_str());
      err->record_index = -1;
    }
    return TAMIS_FAILED;
  };
  auto* stage = dynamic_cast<StageContext*>(HostCtx::from(ctx));
  if (!stage || !stage->outputs) return fail("commit_file: not a stage context (call it from finish)");
  const std::string why = stage->outputs->adopt(std::string(view(temp)), std::string(view(target)), "stage '" + stage->name + "'");
  return why.empty() ? TAMIS_OK : fail(why);
}

const tamis_host_api kHostApi = {
    sizeof(tamis_host_api), TAMIS_ABI_VERSION, on_annotate, on_reject, on_replace, on_emit, on_count, on_log, on_report,
    on_reject_field, on_commit_file,
};

}  // namespace

const tamis_host_api* host_api() { return &kHostApi; }

void StageCall::build_views(const std::vector<std::string>& source_names,
                            const std::vector<std::vector<std::string>>& file_names) {
  size_t total = 0;
  for (const Record* r : records) total += r->annotations.size();
  annotation_views.clear();
  annotation_views.reserve(total);
  views.resize(records.size());
  const std::string& source = source_names[batch->source];
  const std::string& file = file_names[batch->source][batch->file];
  for (size_t i = 0; i < records.size(); ++i) {
    const Record* r = records[i];
    const tamis_annotation* first = annotation_views.data() + annotation_views.size();
    for (const auto& a : r->annotations)
      annotation_views.push_back({{a.key.data(), a.key.size()}, {a.value_json.data(), a.value_json.size()}});
    views[i] = tamis_record{{r->text.data(), r->text.size()},
                            {r->id.data(), r->id.size()},
                            {source.data(), source.size()},
                            {file.data(), file.size()},
                            batch->inputs[r->origin].line,
                            r->annotations.empty() ? nullptr : first,
                            r->annotations.size()};
  }
  cbatch.count = records.size();
  cbatch.records = views.data();
  cbatch.host_ctx = as_void();
  views_stale = false;
}

}  // namespace tamis
