// The end-of-run summary table, the JSON run report and the warnings' text (declared in runner.hpp).
#include <tamis/json.hpp>

#include <cstdio>

#include "common/version.hpp"
#include "engine/runner.hpp"
#include "pipeline/pipeline.hpp"

namespace tamis {

namespace {

std::string with_commas(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string pad(std::string s, size_t width, bool right) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

}  // namespace

std::string RunWarning::message() const {
  std::string out = "stage '" + stage + "' (" + op + "): " + with_commas(count) + " of " + with_commas(in) + " records rejected ";
  if (!field.empty()) out += "because field '" + field + "' is missing or unusable (" + reason + (detail.empty() ? "" : ": " + detail) + ")";
  else out += "as " + reason + (detail.empty() ? "" : " (first: " + detail + ")");
  if (other) out += ", and " + with_commas(other) + " for other missing fields";
  out += "; the records have: ";
  constexpr size_t kShown = 16;
  for (size_t i = 0; i < record_fields.size() && i < kShown; ++i) out += (i ? ", " : "") + record_fields[i];
  if (record_fields.size() > kShown) out += ", ... (" + std::to_string(record_fields.size() - kShown) + " more)";
  if (record_fields.empty()) out += "(no fields)";
  return out + ". Check the stage's field parameters.";
}

std::string format_summary(const RunTotals& t) {
  double work = t.parse_seconds + t.render_seconds;
  for (const auto& s : t.stages) work += s.seconds;
  auto share = [&](double sec) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", work > 0 ? 100.0 * sec / work : 0.0);
    return std::string(buf);
  };
  size_t w = 12, wo = 18;
  for (const auto& s : t.stages) w = std::max(w, s.name.size() + 2);
  for (const auto& s : t.stages) wo = std::max(wo, s.op.size() + 2);
  for (const auto& s : t.stages)
    for (const auto& [reason, n] : s.rejected) w = std::max(w, reason.size() + 4);
  std::string out;
  out += pad("stage", w, false) + pad("op", wo, false) + pad("in", 12, true) + pad("kept", 12, true) +
         pad("rejected", 12, true) + pad("time", 8, true) + "\n";
  out += pad("(parse)", w, false) + pad("", wo, false) + pad(with_commas(t.read), 12, true) +
         pad(with_commas(t.read - t.errors), 12, true) + pad(with_commas(0), 12, true) + pad(share(t.parse_seconds), 8, true) + "\n";
  for (const auto& s : t.stages) {
    uint64_t rej = 0;
    for (const auto& [_, n] : s.rejected) rej += n;
    out += pad(s.name, w, false) + pad(s.op, wo, false) + pad(with_commas(s.in), 12, true) + pad(with_commas(s.out), 12, true) +
           pad(with_commas(rej), 12, true) + pad(share(s.seconds), 8, true) + "\n";
    for (const auto& [reason, n] : s.rejected)
      out += pad("  - " + reason, w, false) + pad("", wo + 24, false) + pad(with_commas(n), 12, true) + "\n";
    if (s.emitted) out += pad("  + emitted", w, false) + pad("", wo, false) + pad("", 12, true) + pad(with_commas(s.emitted), 12, true) + "\n";
    for (const auto& wn : t.warnings)
      if (wn.stage == s.name)
        out += "  ! warning: " + with_commas(wn.count) + " rejected " +
               (wn.field.empty() ? "as " + wn.reason : "for a missing field '" + wn.field + "'") +
               " (the records have other fields; see the warning)\n";
  }
  out += pad("(render)", w, false) + pad("", wo + 36, false) + pad(share(t.render_seconds), 8, true) + "\n";
  out += "\nsinks:\n";
  for (const auto& s : t.sinks)
    out += "  " + pad(s.name, w, false) + pad(s.kind, 10, false) + pad(with_commas(s.lines), 12, true) + " lines  " +
           (s.path.empty() ? "(not written)" : t.dry_run ? s.path + "  (dry run: not written)" : s.path) + "\n";
  char rate[128];
  const double mb = static_cast<double>(t.input_bytes) / 1e6;
  std::snprintf(rate, sizeof rate, "%.2f s, %.1f MB/s, %s records/s, %d thread%s", t.seconds, t.seconds > 0 ? mb / t.seconds : 0.0,
                with_commas(static_cast<uint64_t>(t.seconds > 0 ? static_cast<double>(t.read) / t.seconds : 0)).c_str(), t.threads,
                t.threads == 1 ? "" : "s");
  out += "\nread " + with_commas(t.read) + " = kept " + with_commas(t.kept) + " + rejected " + with_commas(t.rejected) +
         " + errors " + with_commas(t.errors) + (t.balanced() ? "  (balanced)" : "  (NOT BALANCED)") + "\n";
  out += std::string(rate) + "\n";
  if (t.first_pass_stages > 0) {
    char fp[96];
    std::snprintf(fp, sizeof fp, "(of which %.2f s a first pass over the input for %zu stage%s)\n", t.first_pass_seconds,
                  t.first_pass_stages, t.first_pass_stages == 1 ? "" : "s");
    out += fp;
  }
  // Where to look next: the review page, or how to draw it from the report.
  if (!t.dry_run) {
    std::string page, report;
    for (const auto& s : t.sinks) {
      if (s.kind != "report" || s.path.empty()) continue;
      if (s.path.size() > 5 && s.path.compare(s.path.size() - 5, 5, ".html") == 0) page = s.path;
      else if (report.empty()) report = s.path;
    }
    if (!page.empty()) out += "review page: " + page + "  (open it in a browser)\n";
    else if (!report.empty()) out += "review page: tamis report " + report + " -o review.html\n";
  }
  return out;
}

std::string format_report(const Pipeline& p, const RunTotals& t) {
  auto num = [](double v) { return json::number(v); };
  std::string o = "{\n  \"tamis_version\": " + json::quote(kVersion) + ",\n";
  o += "  \"pipeline\": " + json::quote(p.file) + ",\n";
  o += "  \"threads\": " + std::to_string(t.threads) + ",\n";
  o += "  \"seconds\": " + num(t.seconds) + ",\n";
  o += "  \"first_pass_seconds\": " + num(t.first_pass_seconds) + ",\n";
  o += "  \"input_bytes\": " + std::to_string(t.input_bytes) + ",\n";
  o += "  \"records_per_second\": " + num(t.seconds > 0 ? static_cast<double>(t.read) / t.seconds : 0) + ",\n";
  o += "  \"mb_per_second\": " + num(t.seconds > 0 ? static_cast<double>(t.input_bytes) / 1e6 / t.seconds : 0) + ",\n";
  o += "  \"totals\": {\"read\": " + std::to_string(t.read) + ", \"kept\": " + std::to_string(t.kept) +
       ", \"rejected\": " + std::to_string(t.rejected) + ", \"errors\": " + std::to_string(t.errors) +
       ", \"balanced\": " + (t.balanced() ? "true" : "false") + "},\n";
  o += "  \"warnings\": [";
  for (size_t i = 0; i < t.warnings.size(); ++i) {
    const auto& w = t.warnings[i];
    std::string fields;
    for (const auto& f : w.record_fields) fields += (fields.empty() ? "" : ", ") + json::quote(f);
    o += std::string(i ? "," : "") + "\n    {\"kind\": \"missing_field\", \"stage\": " + json::quote(w.stage) + ", \"op\": " + json::quote(w.op) +
         ", \"field\": " + (w.field.empty() ? std::string("null") : json::quote(w.field)) + ", \"reason\": " + json::quote(w.reason) +
         ", \"detail\": " + json::quote(w.detail) + ", \"rejected\": " + std::to_string(w.count) +
         ", \"other_missing\": " + std::to_string(w.other) + ", \"in\": " + std::to_string(w.in) +
         ", \"record_fields\": [" + fields + "], \"message\": " + json::quote(w.message()) + "}";
  }
  o += std::string(t.warnings.empty() ? "" : "\n  ") + "],\n";
  if (!t.distributions_json.empty()) o += "  \"distributions\": " + t.distributions_json + ",\n";
  o += "  \"inputs\": [";
  for (size_t i = 0; i < t.sources.size(); ++i) {
    const auto& s = t.sources[i];
    const auto& spec = p.sources[i];
    o += std::string(i ? "," : "") + "\n    {\"source\": " + json::quote(s.name) + ", \"files\": [";
    for (size_t f = 0; f < spec.display_files.size(); ++f) o += (f ? ", " : "") + json::quote(spec.display_files[f]);
    o += "], \"lines\": " + std::to_string(s.lines) + ", \"blank_lines\": " + std::to_string(s.blank) +
         ", \"records\": " + std::to_string(s.records) + ", \"errors\": " + std::to_string(s.errors) +
         ", \"bytes\": " + std::to_string(s.bytes) + "}";
  }
  o += "\n  ],\n  \"stages\": [";
  double work = t.parse_seconds + t.render_seconds;
  for (const auto& s : t.stages) work += s.seconds;
  for (size_t i = 0; i < t.stages.size(); ++i) {
    const auto& s = t.stages[i];
    uint64_t rej = 0;
    std::string reasons;
    for (const auto& [k, v] : s.rejected) {
      rej += v;
      reasons += (reasons.empty() ? "" : ", ") + json::quote(k) + ": " + std::to_string(v);
    }
    std::string counters;
    for (const auto& [k, v] : s.counters) counters += (counters.empty() ? "" : ", ") + json::quote(k) + ": " + std::to_string(v);
    o += std::string(i ? "," : "") + "\n    {\"name\": " + json::quote(s.name) + ", \"op\": " + json::quote(s.op) +
         ", \"in\": " + std::to_string(s.in) + ", \"kept\": " + std::to_string(s.out) + ", \"emitted\": " + std::to_string(s.emitted) +
         ", \"rejected\": " + std::to_string(rej) + ", \"rejected_by_reason\": {" + reasons + "}, \"counters\": {" + counters +
         "}, \"seconds\": " + num(s.seconds) + ", \"time_share\": " + num(work > 0 ? s.seconds / work : 0);
    if (s.serial_seconds >= 0) o += ", \"serial_seconds\": " + num(s.serial_seconds);
    // What the stage read and the parameters in force (defaults and --set included): the review page
    // draws the graph from these.
    for (const auto& spec : p.stages) {
      if (spec.name != s.name) continue;
      o += ", \"inputs\": [";
      for (size_t k = 0; k < spec.inputs.size(); ++k) o += (k ? ", " : "") + json::quote(spec.inputs[k].name);
      o += "], \"with\": " + (spec.params_json.empty() ? std::string("{}") : spec.params_json);
    }
    if (!s.report_json.empty()) o += ", \"report\": " + s.report_json;
    if (!s.samples_json.empty()) o += ", \"samples\": " + s.samples_json;
    o += "}";
  }
  o += "\n  ],\n  \"sinks\": [";
  for (size_t i = 0; i < t.sinks.size(); ++i) {
    const auto& s = t.sinks[i];
    o += std::string(i ? "," : "") + "\n    {\"name\": " + json::quote(s.name) + ", \"kind\": " + json::quote(s.kind) +
         ", \"path\": " + json::quote(s.path) + ", \"lines\": " + std::to_string(s.lines) + ", \"bytes\": " + std::to_string(s.bytes) + "}";
  }
  o += "\n  ]\n}\n";
  return o;
}

}  // namespace tamis
