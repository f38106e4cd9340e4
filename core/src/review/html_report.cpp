// The review page (html_report.hpp): report.json → one HTML file with inline CSS and SVG, no script.
#include "review/html_report.hpp"

#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "common/utf8.hpp"

namespace tamis::review {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// A value read where the type was checked already, or where its default is the answer.
void ignore(simdjson::error_code) {}

// ---- text ----

std::string with_commas(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string general(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// At most `max` bytes of `text`, cut at a UTF-8 character boundary, with what was left out said.
std::string clip(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  const std::string_view kept = utf8_prefix(text, max);
  return std::string(kept) + " … (" + with_commas(text.size() - kept.size()) + " more bytes)";
}

// ---- the report, read ----

uint64_t get_u64(const object& o, const char* key) {
  element e;
  if (o[key].get(e) != simdjson::SUCCESS) return 0;
  uint64_t u = 0;
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return u;
  double d = 0;
  if (e.get_double().get(d) == simdjson::SUCCESS && d > 0) return static_cast<uint64_t>(d);
  return 0;
}

double get_double(const object& o, const char* key) {
  element e;
  double d = 0;
  if (o[key].get(e) != simdjson::SUCCESS || e.get_double().get(d) != simdjson::SUCCESS) return 0;
  return d;
}

std::string get_string(const object& o, const char* key) {
  std::string_view s;
  if (o[key].get_string().get(s) != simdjson::SUCCESS) return {};
  return std::string(s);
}

bool has(const object& o, const char* key) {
  element e;
  return o[key].get(e) == simdjson::SUCCESS;
}

struct Reason {
  std::string name;
  uint64_t count = 0;
};

struct StageInfo {
  std::string name, op;
  uint64_t in = 0, kept = 0, rejected = 0, emitted = 0;
  double seconds = 0, share = 0, serial_seconds = -1;
  std::vector<Reason> reasons;                          // by count, largest first; then by name
  std::vector<std::pair<std::string, uint64_t>> counters;  // as in the report
  std::vector<std::string> inputs;                      // graph: sources or stages
  std::vector<std::pair<std::string, std::string>> params;  // graph: name, value as text
  bool has_report = false;
  element report;
  bool has_samples = false;
  element samples;  // engine/evidence.hpp: {"kept": [...], "rejected": {"REASON": [...]}}
  int layer = 0;
};

struct SourceInfo {
  std::string name;
  std::vector<std::string> files;
  uint64_t lines = 0, records = 0, errors = 0, bytes = 0;
};

struct SinkInfo {
  std::string name, kind, path;
  uint64_t lines = 0, bytes = 0;
  std::vector<std::string> inputs;
};

// The pipeline file's graph: stage and sink inputs, stage parameters, in file order.
struct PipelineText {
  bool read = false;
  std::string problem;
  std::vector<std::string> source_names;
  std::vector<std::string> stage_names;
  std::map<std::string, std::vector<std::string>> stage_inputs, sink_inputs;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> stage_params;
};

std::string yaml_text(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e.SetSeqFormat(YAML::Flow);
  e.SetMapFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

std::vector<std::string> yaml_names(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n.IsDefined()) return out;
  if (n.IsScalar()) out.push_back(n.Scalar());
  if (n.IsSequence())
    for (const auto& item : n)
      if (item.IsScalar()) out.push_back(item.Scalar());
  return out;
}

PipelineText read_pipeline_text(const std::string& text) {
  PipelineText p;
  if (text.empty()) return p;
  try {
    const YAML::Node root = YAML::Load(text);
    if (const YAML::Node sources = root["sources"]; sources.IsMap())
      for (const auto& kv : sources) p.source_names.push_back(kv.first.Scalar());
    if (const YAML::Node stages = root["stages"]; stages.IsMap()) {
      for (const auto& kv : stages) {
        const std::string name = kv.first.Scalar();
        p.stage_names.push_back(name);
        if (!kv.second.IsMap()) continue;
        std::vector<std::string> inputs = yaml_names(kv.second["inputs"]);
        if (inputs.empty()) inputs = p.stage_names.size() == 1 ? p.source_names : std::vector{p.stage_names[p.stage_names.size() - 2]};
        p.stage_inputs[name] = inputs;
        if (const YAML::Node with = kv.second["with"]; with.IsMap())
          for (const auto& param : with) p.stage_params[name].emplace_back(param.first.Scalar(), yaml_text(param.second));
      }
    }
    if (const YAML::Node sinks = root["sinks"]; sinks.IsMap())
      for (const auto& kv : sinks)
        if (kv.second.IsMap()) p.sink_inputs[kv.first.Scalar()] = yaml_names(kv.second["inputs"]);
    p.read = true;
  } catch (const YAML::Exception& e) {
    p.problem = e.what();
  }
  return p;
}

// ---- HTML pieces ----

class Page {
 public:
  explicit Page(const ReviewOptions& o) : o_(o) {}
  std::string out;

  void text(std::string_view s) { out += html_escape(clip(s, o_.max_text_bytes)); }
  void raw(std::string_view s) { out += s; }
  // A number shown with an id the browser test finds, and its exact value beside it.
  void number(const std::string& id, uint64_t v) {
    out += "<span class=\"num\" id=\"" + html_escape(id) + "\" data-value=\"" + std::to_string(v) + "\">" +
           with_commas(v) + "</span>";
  }
  // Any JSON value: scalars inline, objects as key/value tables, arrays of objects as tables.
  void value(const element& e, size_t depth);
  void left_out(size_t n, const char* what) {
    if (n) out += "<p class=\"more\">… " + with_commas(n) + " more " + what + " not shown</p>";
  }
  const ReviewOptions& o_;
};

void Page::value(const element& e, size_t depth) {
  switch (e.type()) {
    case element_type::STRING: {
      std::string_view s;
      ignore(e.get_string().get(s));
      text(s);
      return;
    }
    case element_type::INT64: {
      int64_t v = 0;
      ignore(e.get_int64().get(v));
      out += v < 0 ? "-" + with_commas(static_cast<uint64_t>(-(v + 1)) + 1) : with_commas(static_cast<uint64_t>(v));
      return;
    }
    case element_type::UINT64: {
      uint64_t v = 0;
      ignore(e.get_uint64().get(v));
      out += with_commas(v);
      return;
    }
    case element_type::DOUBLE: {
      double v = 0;
      ignore(e.get_double().get(v));
      out += general(v);
      return;
    }
    case element_type::BOOL: {
      bool v = false;
      ignore(e.get_bool().get(v));
      out += v ? "true" : "false";
      return;
    }
    case element_type::NULL_VALUE:
      out += "<span class=\"dim\">null</span>";
      return;
    case element_type::OBJECT: {
      object o;
      ignore(e.get_object().get(o));
      if (o.size() == 0) {
        out += "<span class=\"dim\">{}</span>";
        return;
      }
      if (depth >= o_.max_depth) {
        out += "<span class=\"dim\">{… " + with_commas(o.size()) + " fields}</span>";
        return;
      }
      out += "<table class=\"kv\">";
      size_t shown = 0;
      for (auto [k, v] : o) {
        if (shown++ == o_.max_rows) break;
        out += "<tr><th>";
        text(k);
        out += "</th><td>";
        value(v, depth + 1);
        out += "</td></tr>";
      }
      out += "</table>";
      left_out(o.size() > o_.max_rows ? o.size() - o_.max_rows : 0, "fields");
      return;
    }
    case element_type::ARRAY: {
      array a;
      ignore(e.get_array().get(a));
      const size_t n = a.size();
      if (n == 0) {
        out += "<span class=\"dim\">[]</span>";
        return;
      }
      bool all_objects = true;
      for (auto item : a) all_objects &= item.type() == element_type::OBJECT;
      if (!all_objects || depth >= o_.max_depth) {
        size_t shown = 0;
        for (auto item : a) {
          if (shown == o_.max_rows) break;
          if (shown++) out += ", ";
          if (item.type() == element_type::OBJECT || item.type() == element_type::ARRAY) {
            out += "<span class=\"dim\">(" + std::string(item.type() == element_type::OBJECT ? "object" : "array") + ")</span>";
          } else {
            value(item, depth + 1);
          }
        }
        if (n > o_.max_rows) out += " <span class=\"more\">… " + with_commas(n - o_.max_rows) + " more</span>";
        return;
      }
      // An array of objects: one column per key, in the order keys first appear.
      std::vector<std::string> columns;
      std::set<std::string> seen;
      for (auto item : a) {
        object o;
        ignore(item.get_object().get(o));
        for (auto [k, v] : o)
          if (seen.insert(std::string(k)).second) columns.emplace_back(k);
      }
      constexpr size_t kMaxColumns = 12;
      const size_t cols = std::min(columns.size(), kMaxColumns);
      out += "<table class=\"grid\"><tr>";
      for (size_t c = 0; c < cols; ++c) {
        out += "<th>";
        text(columns[c]);
        out += "</th>";
      }
      out += "</tr>";
      size_t shown = 0;
      for (auto item : a) {
        if (shown++ == o_.max_rows) break;
        object o;
        ignore(item.get_object().get(o));
        out += "<tr>";
        for (size_t c = 0; c < cols; ++c) {
          out += "<td>";
          element v;
          if (o[columns[c]].get(v) == simdjson::SUCCESS) value(v, depth + 1);
          out += "</td>";
        }
        out += "</tr>";
      }
      out += "</table>";
      left_out(n > o_.max_rows ? n - o_.max_rows : 0, "rows");
      if (columns.size() > kMaxColumns) left_out(columns.size() - kMaxColumns, "columns");
      return;
    }
  }
}

// Words of `text` (letters and digits, lower-cased ASCII; other bytes kept as they are).
std::vector<std::pair<size_t, size_t>> word_spans(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> spans;
  size_t i = 0;
  auto is_word = [](unsigned char c) { return std::isalnum(c) || c >= 0x80; };
  while (i < text.size()) {
    while (i < text.size() && !is_word(static_cast<unsigned char>(text[i]))) ++i;
    const size_t from = i;
    while (i < text.size() && is_word(static_cast<unsigned char>(text[i]))) ++i;
    if (i > from) spans.emplace_back(from, i - from);
  }
  return spans;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `text`, escaped, with the words that also occur in `other` marked (or, with `shared` false, the words
// that do not: the differences between a duplicate and its survivor).
std::string highlight_shared(std::string_view text, std::string_view other, bool shared = true) {
  std::set<std::string> words;
  for (auto [from, n] : word_spans(other)) words.insert(lower(other.substr(from, n)));
  std::string out;
  size_t at = 0;
  for (auto [from, n] : word_spans(text)) {
    out += html_escape(text.substr(at, from - at));
    const std::string_view w = text.substr(from, n);
    if ((words.count(lower(w)) != 0) == shared) out += "<mark>" + html_escape(w) + "</mark>";
    else out += html_escape(w);
    at = from + n;
  }
  out += html_escape(text.substr(at));
  return out;
}

// A table of decision samples (engine/evidence.hpp): the record (id, place), the op's reason and detail,
// its annotations (the evidence; the id and source annotations are in the first column already), and
// the start of its text. A `contaminated_by` annotation with the benchmark item gets the record's matched
// words beside the item, shared words marked.
std::string sample_table(Page& pg, const array& list, const std::string& stage, const std::string& reason,
                         const ReviewOptions& options) {
  std::string& out = pg.out;
  const size_t start = out.size();
  out += "<table class=\"sample-table\"><tr><th>record</th>";
  if (!reason.empty()) out += "<th>detail</th>";
  out += "<th>evidence</th><th>text</th></tr>";
  for (auto e : list) {
    object o;
    if (e.get_object().get(o)) continue;
    out += "<tr class=\"sample\" data-stage=\"" + html_escape(stage) + "\" data-reason=\"" + html_escape(reason) +
           "\" data-id=\"" + html_escape(get_string(o, "id")) + "\"><td><code>";
    pg.text(get_string(o, "id"));
    out += "</code><br><span class=\"dim\">";
    pg.text(get_string(o, "file"));
    out += ":" + std::to_string(get_u64(o, "line")) + "</span></td>";
    if (!reason.empty()) {
      out += "<td>";
      pg.text(get_string(o, "detail"));
      out += "</td>";
    }
    out += "<td><table class=\"kv\">";
    object notes, contaminated;
    bool has_contamination = false;
    if (!o["annotations"].get_object().get(notes)) {
      for (auto [k, v] : notes) {
        if (k == "id" || k == "source") continue;
        out += "<tr><th>";
        pg.text(k);
        out += "</th><td>";
        pg.value(v, 1);
        out += "</td></tr>";
        if (k == "contaminated_by" && !v.get_object().get(contaminated)) has_contamination = true;
      }
    }
    out += "</table>";
    if (has_contamination) {
      const std::string span = clip(get_string(contaminated, "span"), options.max_text_bytes);
      const std::string item = clip(get_string(contaminated, "item_text"), options.max_text_bytes);
      if (!span.empty() && !item.empty())
        out += "<div class=\"evidence\"><div><b>record (matched words)</b>\n" + highlight_shared(span, item) +
               "</div><div><b>benchmark item</b>\n" + highlight_shared(item, span) + "</div></div>";
    }
    out += "</td><td>";
    object survivor;
    if (!o["survivor"].get_object().get(survivor)) {
      // A duplicate beside the record kept instead, the words that differ marked in each.
      const std::string mine = clip(get_string(o, "text"), options.max_text_bytes);
      const std::string theirs = clip(get_string(survivor, "text"), options.max_text_bytes);
      out += "<div class=\"evidence\"><div><b>this record</b>\n" + highlight_shared(mine, theirs, false) +
             "</div><div><b>kept instead: <code>" + html_escape(clip(get_string(survivor, "id"), options.max_text_bytes)) +
             "</code></b>\n" + highlight_shared(theirs, mine, false) + "</div></div>";
    } else {
      out += "<div class=\"sample-text\">";
      pg.text(get_string(o, "text"));
      const uint64_t bytes = get_u64(o, "text_bytes");
      if (bytes > get_string(o, "text").size()) out += "<span class=\"dim\"> … (" + with_commas(bytes) + " bytes in all)</span>";
      out += "</div>";
    }
    out += "</td></tr>";
  }
  out += "</table>";
  std::string table = out.substr(start);
  out.resize(start);
  return table;
}

const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;color:#1d232b;background:#f6f7f9;font-size:14px}
header{background:#1d3557;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.85}
main{padding:12px 24px;max-width:1200px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:12px 16px;margin:12px 0}
h2{font-size:16px;margin:0 0 8px}
h3{font-size:15px;margin:0 0 6px}
.balance{font-size:18px}
.balance .num{font-weight:600}
.ok{color:#1b7f3b;font-weight:600}
.bad{color:#b3261e;font-weight:600}
table{border-collapse:collapse;margin:4px 0}
th,td{border:1px solid #e3e6ea;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}
td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}
table.kv th{width:1%;white-space:nowrap}
.dim{color:#7a828c}
.more{color:#7a828c;font-style:italic;margin:2px 0}
.warn{background:#fff4e5;border-color:#f0c36d}
.stage-grid{display:flex;flex-wrap:wrap;gap:16px}
.stage-grid>div{flex:1 1 360px;min-width:0}
.evidence{display:grid;grid-template-columns:1fr 1fr;gap:8px;margin:6px 0 12px}
.evidence div{background:#fafbfc;border:1px solid #e3e6ea;padding:6px;white-space:pre-wrap;word-break:break-word}
mark{background:#ffe08a}
details.samples{margin:6px 0}
details.samples summary{cursor:pointer;font-weight:600}
.sample-table td{vertical-align:top}
.sample-text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;white-space:pre-wrap;word-break:break-word;max-width:40em}
svg text{font-family:inherit;font-size:12px}
svg{max-width:100%;height:auto}
svg text.param{fill:#56606b;font-size:11px}
details summary{cursor:pointer}
code{background:#f0f2f5;padding:0 3px;border-radius:3px;word-break:break-all}
)";

// A horizontal bar chart: one row per (label, value), bars scaled to the largest.
std::string bar_chart(const std::vector<std::pair<std::string, double>>& rows, const std::vector<std::string>& shown,
                      const char* color, const std::string& id) {
  double max = 0;
  for (const auto& r : rows) max = std::max(max, r.second);
  const int label_w = 200, bar_w = 360, row_h = 20;
  const int h = static_cast<int>(rows.size()) * row_h + 4;
  std::string s = "<svg id=\"" + html_escape(id) + "\" role=\"img\" width=\"" + std::to_string(label_w + bar_w + 110) +
                  "\" height=\"" + std::to_string(h) + "\" viewBox=\"0 0 " + std::to_string(label_w + bar_w + 110) + " " +
                  std::to_string(h) + "\">";
  for (size_t i = 0; i < rows.size(); ++i) {
    const int y = static_cast<int>(i) * row_h + 2;
    const double w = max > 0 ? rows[i].second / max * bar_w : 0;
    s += "<text x=\"" + std::to_string(label_w - 6) + "\" y=\"" + std::to_string(y + 14) + "\" text-anchor=\"end\">" +
         html_escape(clip(rows[i].first, 40)) + "</text>";
    s += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(y + 2) + "\" width=\"" + fixed(std::max(w, 1.0), 1) +
         "\" height=\"" + std::to_string(row_h - 6) + "\" fill=\"" + color + "\"><title>" + html_escape(rows[i].first) + ": " +
         html_escape(shown[i]) + "</title></rect>";
    s += "<text x=\"" + fixed(label_w + std::max(w, 1.0) + 6, 1) + "\" y=\"" + std::to_string(y + 14) + "\">" +
         html_escape(shown[i]) + "</text>";
  }
  return s + "</svg>";
}

// A small chart of kept (blue) and rejected (red) records per bin, stacked, one row per bin.
std::string stacked_chart(const std::vector<std::tuple<std::string, uint64_t, uint64_t>>& rows, const std::string& id,
                          size_t max_rows) {
  uint64_t max = 0;
  for (const auto& [label, k, r] : rows) max = std::max(max, k + r);
  const int label_w = 110, bar_w = 200, row_h = 16;
  const size_t n = std::min(rows.size(), max_rows);
  const int h = static_cast<int>(n) * row_h + 4, w = label_w + bar_w + 120;
  std::string s = "<svg id=\"" + html_escape(id) + "\" role=\"img\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) +
                  "\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(h) + "\">";
  for (size_t i = 0; i < n; ++i) {
    const auto& [label, k, r] = rows[i];
    const int y = static_cast<int>(i) * row_h + 2;
    const double kw = max ? static_cast<double>(k) / static_cast<double>(max) * bar_w : 0;
    const double rw = max ? static_cast<double>(r) / static_cast<double>(max) * bar_w : 0;
    s += "<text x=\"" + std::to_string(label_w - 4) + "\" y=\"" + std::to_string(y + 11) + "\" text-anchor=\"end\" font-size=\"11\">" +
         html_escape(clip(label, 24)) + "</text>";
    s += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(y + 2) + "\" width=\"" + fixed(kw, 1) +
         "\" height=\"" + std::to_string(row_h - 5) + "\" fill=\"#3a7ca5\"><title>kept " + with_commas(k) + "</title></rect>";
    s += "<rect x=\"" + fixed(label_w + kw, 1) + "\" y=\"" + std::to_string(y + 2) + "\" width=\"" + fixed(rw, 1) +
         "\" height=\"" + std::to_string(row_h - 5) + "\" fill=\"#d1495b\"><title>rejected " + with_commas(r) + "</title></rect>";
    s += "<text x=\"" + fixed(label_w + kw + rw + 4, 1) + "\" y=\"" + std::to_string(y + 11) + "\" font-size=\"11\">" +
         with_commas(k) + (r ? " / " + with_commas(r) : std::string()) + "</text>";
  }
  s += "</svg>";
  if (rows.size() > n) s += "<p class=\"more\">… " + with_commas(rows.size() - n) + " more bins not shown</p>";
  return s;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string report_pipeline(std::string_view report_json) {
  simdjson::dom::parser parser;
  element doc;
  object root;
  if (parser.parse(report_json.data(), report_json.size()).get(doc) || doc.get_object().get(root)) return {};
  return get_string(root, "pipeline");
}

std::string render_review_html(std::string_view report_json, const ReviewOptions& options) {
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(report_json.data(), report_json.size()).get(doc); err)
    throw ReviewError(std::string("not JSON: ") + simdjson::error_message(err));
  object root;
  object totals;
  array stages_json;
  if (doc.get_object().get(root) || root["totals"].get_object().get(totals) || root["stages"].get_array().get(stages_json))
    throw ReviewError("not a tamis report: it needs a \"totals\" object and a \"stages\" array");

  // ---- read everything first ----
  const uint64_t read = get_u64(totals, "read"), kept = get_u64(totals, "kept"), rejected = get_u64(totals, "rejected"),
                 errors = get_u64(totals, "errors");
  bool balanced_flag = false;
  ignore(totals["balanced"].get_bool().get(balanced_flag));
  const bool balanced = read == kept + rejected + errors;

  std::vector<SourceInfo> sources;
  if (array a; !root["inputs"].get_array().get(a))
    for (auto e : a) {
      object o;
      if (e.get_object().get(o)) continue;
      SourceInfo s{get_string(o, "source"), {}, get_u64(o, "lines"), get_u64(o, "records"), get_u64(o, "errors"), get_u64(o, "bytes")};
      if (array f; !o["files"].get_array().get(f))
        for (auto fe : f)
          if (std::string_view fs; !fe.get_string().get(fs)) s.files.emplace_back(fs);
      sources.push_back(std::move(s));
    }
  const PipelineText pt = read_pipeline_text(options.pipeline_yaml);

  std::vector<StageInfo> stages;
  for (auto e : stages_json) {
    object o;
    if (e.get_object().get(o)) continue;
    StageInfo s;
    s.name = get_string(o, "name");
    s.op = get_string(o, "op");
    s.in = get_u64(o, "in");
    s.kept = get_u64(o, "kept");
    s.rejected = get_u64(o, "rejected");
    s.emitted = get_u64(o, "emitted");
    s.seconds = get_double(o, "seconds");
    s.share = get_double(o, "time_share");
    if (has(o, "serial_seconds")) s.serial_seconds = get_double(o, "serial_seconds");
    if (object r; !o["rejected_by_reason"].get_object().get(r))
      for (auto [k, v] : r) {
        uint64_t n = 0;
        ignore(v.get_uint64().get(n));
        s.reasons.push_back({std::string(k), n});
      }
    std::stable_sort(s.reasons.begin(), s.reasons.end(),
                     [](const Reason& a, const Reason& b) { return a.count != b.count ? a.count > b.count : a.name < b.name; });
    if (object c; !o["counters"].get_object().get(c))
      for (auto [k, v] : c) {
        uint64_t n = 0;
        ignore(v.get_uint64().get(n));
        s.counters.emplace_back(std::string(k), n);
      }
    // The graph: the stage's own inputs and parameters when the report has them, else the pipeline file's.
    if (array in; !o["inputs"].get_array().get(in)) {
      for (auto ie : in)
        if (std::string_view n; !ie.get_string().get(n)) s.inputs.emplace_back(n);
    } else if (auto it = pt.stage_inputs.find(s.name); it != pt.stage_inputs.end()) {
      s.inputs = it->second;
    }
    if (object w; !o["with"].get_object().get(w)) {
      for (auto [k, v] : w) s.params.emplace_back(std::string(k), simdjson::minify(v));
    } else if (auto it = pt.stage_params.find(s.name); it != pt.stage_params.end()) {
      s.params = it->second;
    }
    s.has_report = !o["report"].get(s.report);
    s.has_samples = !o["samples"].get(s.samples);
    stages.push_back(std::move(s));
  }
  // Without inputs from anywhere: a chain in report order, the first stage reading every source.
  bool graph_known = pt.read;
  for (const auto& s : stages) graph_known |= !s.inputs.empty();
  if (!graph_known)
    for (size_t i = 0; i < stages.size(); ++i) {
      if (i > 0) stages[i].inputs = {stages[i - 1].name};
      else for (const auto& src : sources) stages[i].inputs.push_back(src.name);
    }

  std::vector<SinkInfo> sinks;
  if (array a; !root["sinks"].get_array().get(a))
    for (auto e : a) {
      object o;
      if (e.get_object().get(o)) continue;
      SinkInfo s{get_string(o, "name"), get_string(o, "kind"), get_string(o, "path"), get_u64(o, "lines"), get_u64(o, "bytes"), {}};
      if (s.kind == "records" || s.kind == "rejected") {
        if (auto it = pt.sink_inputs.find(s.name); it != pt.sink_inputs.end()) s.inputs = it->second;
        if (s.inputs.empty() && s.kind == "records") {
          if (!stages.empty()) s.inputs = {stages.back().name};
          else for (const auto& src : sources) s.inputs.push_back(src.name);
          // The last stage of the file, not of the execution order, when the file is known.
          if (!pt.stage_names.empty()) s.inputs = {pt.stage_names.back()};
        }
      }
      sinks.push_back(std::move(s));
    }

  Page pg(options);
  std::string& out = pg.out;
  const std::string pipeline = get_string(root, "pipeline");
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
         "<title>tamis review: ";
  pg.text(pipeline);
  out += "</title><style>";
  out += kStyle;
  out += "</style></head><body>\n<header><h1>tamis review: ";
  pg.text(pipeline);
  out += "</h1><p>tamis ";
  pg.text(get_string(root, "tamis_version"));
  out += " · " + std::to_string(get_u64(root, "threads")) + " threads · " + fixed(get_double(root, "seconds"), 2) + " s · " +
         with_commas(static_cast<uint64_t>(get_double(root, "records_per_second"))) + " records/s · " +
         fixed(get_double(root, "mb_per_second"), 1) + " MB/s · " + with_commas(get_u64(root, "input_bytes")) +
         " input bytes</p></header>\n<main>\n";

  // ---- the balance ----
  out += "<section id=\"balance\"><h2>Every record accounted for</h2><p class=\"balance\">read ";
  pg.number("total-read", read);
  out += " = kept ";
  pg.number("total-kept", kept);
  out += " + rejected ";
  pg.number("total-rejected", rejected);
  out += " + errors ";
  pg.number("total-errors", errors);
  out += balanced ? " <span class=\"ok\" id=\"balanced\">balanced</span>" : " <span class=\"bad\" id=\"balanced\">NOT BALANCED</span>";
  if (balanced != balanced_flag) out += " <span class=\"bad\">(the report says otherwise)</span>";
  out += "</p></section>\n";

  // ---- warnings ----
  if (array w; !root["warnings"].get_array().get(w) && w.size() > 0) {
    out += "<section class=\"warn\" id=\"warnings\"><h2>Warnings (" + with_commas(w.size()) + ")</h2><ul>";
    size_t shown = 0;
    for (auto e : w) {
      if (shown++ == options.max_rows) break;
      out += "<li>";
      object o;
      if (!e.get_object().get(o) && has(o, "message")) pg.text(get_string(o, "message"));
      else pg.value(e, 1);
      out += "</li>";
    }
    out += "</ul>";
    pg.left_out(w.size() > options.max_rows ? w.size() - options.max_rows : 0, "warnings");
    out += "</section>\n";
  }

  // ---- the funnel ----
  {
    out += "<section id=\"funnel\"><h2>Funnel: records into and out of each stage</h2>";
    uint64_t scale = std::max<uint64_t>(read, 1);
    for (const auto& s : stages) scale = std::max({scale, s.in, s.kept + s.rejected});
    const int label_w = 230, bar_w = 520, row_h = 26;
    const int rows = static_cast<int>(stages.size()) + 2;
    const int h = rows * row_h + 24;
    const int w = label_w + bar_w + 190;
    out += "<svg id=\"funnel-chart\" role=\"img\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) +
           "\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(h) + "\">";
    auto bar = [&](int row, const std::string& label, uint64_t k, uint64_t r, const std::string& note) {
      const int y = row * row_h + 4;
      const double kw = static_cast<double>(k) / static_cast<double>(scale) * bar_w;
      const double rw = static_cast<double>(r) / static_cast<double>(scale) * bar_w;
      out += "<text x=\"" + std::to_string(label_w - 8) + "\" y=\"" + std::to_string(y + 16) + "\" text-anchor=\"end\">" +
             html_escape(clip(label, 60)) + "</text>";
      out += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(y + 3) + "\" width=\"" + fixed(kw, 1) +
             "\" height=\"18\" fill=\"#3a7ca5\"><title>kept " + with_commas(k) + "</title></rect>";
      out += "<rect x=\"" + fixed(label_w + kw, 1) + "\" y=\"" + std::to_string(y + 3) + "\" width=\"" + fixed(rw, 1) +
             "\" height=\"18\" fill=\"#d1495b\"><title>rejected " + with_commas(r) + "</title></rect>";
      out += "<text x=\"" + fixed(label_w + kw + rw + 6, 1) + "\" y=\"" + std::to_string(y + 16) + "\">" + html_escape(note) + "</text>";
    };
    bar(0, "read", read - std::min(read, errors), std::min(read, errors),
        with_commas(read) + (errors ? " (" + with_commas(errors) + " unreadable)" : ""));
    for (size_t i = 0; i < stages.size(); ++i) {
      const auto& s = stages[i];
      bar(static_cast<int>(i) + 1, s.name + " (" + s.op + ")", s.kept, s.rejected,
          with_commas(s.in) + " → " + with_commas(s.kept) + (s.rejected ? ", −" + with_commas(s.rejected) : "") +
              (s.emitted ? ", +" + with_commas(s.emitted) + " emitted" : ""));
    }
    bar(static_cast<int>(stages.size()) + 1, "kept (all sinks' input)", kept, 0, with_commas(kept));
    const int ly = rows * row_h + 8;
    out += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(ly) + "\" width=\"12\" height=\"12\" fill=\"#3a7ca5\"/>"
           "<text x=\"" + std::to_string(label_w + 16) + "\" y=\"" + std::to_string(ly + 10) + "\">kept</text>"
           "<rect x=\"" + std::to_string(label_w + 60) + "\" y=\"" + std::to_string(ly) + "\" width=\"12\" height=\"12\" fill=\"#d1495b\"/>"
           "<text x=\"" + std::to_string(label_w + 76) + "\" y=\"" + std::to_string(ly + 10) + "\">rejected</text></svg>";

    out += "<table id=\"funnel-table\"><tr><th>stage</th><th>op</th><th class=\"r\">in</th><th class=\"r\">kept</th>"
           "<th class=\"r\">rejected</th><th class=\"r\">emitted</th><th class=\"r\">seconds</th><th class=\"r\">time share</th></tr>";
    for (size_t i = 0; i < stages.size(); ++i) {
      const auto& s = stages[i];
      const std::string id = "stage-" + std::to_string(i);
      out += "<tr data-stage=\"" + html_escape(s.name) + "\"><td><a href=\"#" + id + "\">";
      pg.text(s.name);
      out += "</a></td><td>";
      pg.text(s.op);
      out += "</td><td class=\"r\">";
      pg.number(id + "-in", s.in);
      out += "</td><td class=\"r\">";
      pg.number(id + "-kept", s.kept);
      out += "</td><td class=\"r\">";
      pg.number(id + "-rejected", s.rejected);
      out += "</td><td class=\"r\">";
      pg.number(id + "-emitted", s.emitted);
      out += "</td><td class=\"r\">" + fixed(s.seconds, 4) + "</td><td class=\"r\">" + fixed(100 * s.share, 1) + "%</td></tr>";
    }
    out += "</table></section>\n";
  }

  // ---- the graph: one row per layer (longest path from the sources), top to bottom ----
  {
    std::map<std::string, int> layer;
    for (const auto& s : sources) layer[s.name] = 0;
    // Stages in report order are in execution order: every input comes before its stage.
    int max_layer = 0;
    for (auto& s : stages) {
      int l = 1;
      for (const auto& in : s.inputs)
        if (auto it = layer.find(in); it != layer.end()) l = std::max(l, it->second + 1);
      s.layer = l;
      layer[s.name] = l;
      max_layer = std::max(max_layer, l);
    }
    struct Node {
      std::string name, kind, line1, line2, tooltip;
      int layer = 0;
      double x = 0, y = 0;
    };
    std::vector<Node> nodes;
    std::map<std::string, size_t> index;
    for (const auto& s : sources) {
      index[s.name] = nodes.size();
      nodes.push_back({s.name, "source", "source " + s.name, with_commas(s.records) + " records", {}, 0});
    }
    for (const auto& s : stages) {
      std::string tip = s.name + " (" + s.op + ")";
      if (s.params.empty()) tip += "\n(no parameters known)";
      for (const auto& [k, v] : s.params) tip += "\n" + k + ": " + clip(v, 200);
      index[s.name] = nodes.size();
      nodes.push_back({s.name, "stage", s.name + " · " + s.op,
                       with_commas(s.in) + " → " + with_commas(s.kept) + (s.rejected ? "  (−" + with_commas(s.rejected) + ")" : ""),
                       tip, s.layer});
    }
    for (const auto& s : sinks) {
      nodes.push_back({s.name, "sink", "sink " + s.name, s.kind + " · " + with_commas(s.lines) + " lines", s.path, max_layer + 1});
    }
    // Rows of at most kPerRow boxes; a layer with more (sinks, wide fan-outs) takes several rows.
    constexpr int kPerRow = 4;
    const int box_w = 250, box_h = 40, gap_x = 24, gap_y = 34;
    std::vector<int> per_layer(static_cast<size_t>(max_layer) + 2, 0);
    for (const auto& n : nodes) ++per_layer[static_cast<size_t>(n.layer)];
    std::vector<int> first_row(per_layer.size() + 1, 0);
    for (size_t l = 0; l < per_layer.size(); ++l) first_row[l + 1] = first_row[l] + std::max(1, (per_layer[l] + kPerRow - 1) / kPerRow);
    std::vector<int> placed(per_layer.size(), 0);
    for (auto& n : nodes) {
      const int k = placed[static_cast<size_t>(n.layer)]++;
      n.x = 10 + (k % kPerRow) * (box_w + gap_x);
      n.y = 10 + (first_row[static_cast<size_t>(n.layer)] + k / kPerRow) * (box_h + gap_y);
    }
    // A stage alone in its layer (a chain) has its parameters written beside it.
    const bool beside = std::any_of(stages.begin(), stages.end(), [&](const StageInfo& st) {
      return per_layer[static_cast<size_t>(st.layer)] == 1 && !st.params.empty();
    });
    const int widest = std::min(kPerRow, *std::max_element(per_layer.begin(), per_layer.end()));
    const int w = std::max(20 + widest * (box_w + gap_x), beside ? box_w + 700 : 0);
    const int h = 20 + first_row.back() * (box_h + gap_y);
    out += "<section id=\"graph\"><h2>Pipeline graph</h2><p class=\"dim\">";
    if (pt.read) {
      out += "Inputs and parameters from ";
      pg.text(options.pipeline_origin.empty() ? "the pipeline file" : options.pipeline_origin);
      out += " (as it is now; <code>--set</code> overrides of the run are not known). ";
    } else if (!pt.problem.empty()) {
      out += "The pipeline file could not be read (";
      pg.text(pt.problem);
      out += "); stages drawn as a chain. ";
    } else if (!graph_known) {
      out += "The report names no stage inputs and no pipeline file was given: stages drawn as a chain in execution order. ";
    }
    out += "Hover a stage for its parameters.</p>";
    out += "<svg id=\"graph-chart\" role=\"img\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) +
           "\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(h) +
           "\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
           "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#7a828c\"/></marker></defs>";
    auto edge = [&](const Node& a, const Node& b) {
      const double x1 = a.x + box_w / 2.0, y1 = a.y + box_h, x2 = b.x + box_w / 2.0, y2 = b.y;
      const double my = (y1 + y2) / 2;
      out += "<path d=\"M" + fixed(x1, 1) + "," + fixed(y1, 1) + " C" + fixed(x1, 1) + "," + fixed(my, 1) + " " + fixed(x2, 1) +
             "," + fixed(my, 1) + " " + fixed(x2, 1) + "," + fixed(y2 - 1, 1) +
             "\" fill=\"none\" stroke=\"#7a828c\" stroke-width=\"1.4\" marker-end=\"url(#arrow)\"/>";
    };
    for (const auto& s : stages)
      for (const auto& in : s.inputs)
        if (auto it = index.find(in); it != index.end()) edge(nodes[it->second], nodes[index[s.name]]);
    for (size_t i = 0; i < sinks.size(); ++i)
      for (const auto& in : sinks[i].inputs)
        if (auto it = index.find(in); it != index.end()) edge(nodes[it->second], nodes[sources.size() + stages.size() + i]);
    for (size_t i = 0; i < nodes.size(); ++i) {
      const Node& n = nodes[i];
      const char* fill = n.kind == "source" ? "#e3f2e6" : n.kind == "sink" ? "#f3e8f7" : "#e6eef7";
      const char* stroke = n.kind == "source" ? "#4f9a5e" : n.kind == "sink" ? "#8d5aa8" : "#3a7ca5";
      out += "<g class=\"node\"" + std::string(n.kind == "stage" ? " data-stage=\"" + html_escape(n.name) + "\"" : "") + ">";
      if (!n.tooltip.empty()) out += "<title>" + html_escape(n.tooltip) + "</title>";
      out += "<rect x=\"" + fixed(n.x, 1) + "\" y=\"" + fixed(n.y, 1) + "\" width=\"" + std::to_string(box_w) + "\" height=\"" +
             std::to_string(box_h) + "\" rx=\"6\" fill=\"" + fill + "\" stroke=\"" + stroke + "\"/>";
      out += "<text x=\"" + fixed(n.x + 8, 1) + "\" y=\"" + fixed(n.y + 16, 1) + "\" font-weight=\"600\">" + html_escape(clip(n.line1, 38)) +
             "</text><text x=\"" + fixed(n.x + 8, 1) + "\" y=\"" + fixed(n.y + 32, 1) + "\">" + html_escape(clip(n.line2, 40)) + "</text>";
      if (n.kind == "stage" && per_layer[static_cast<size_t>(n.layer)] == 1) {
        const auto& st = stages[i - sources.size()];
        std::string line[2];
        int k = 0;  // the line being filled: the first until it would pass 100 bytes, then the second
        for (const auto& [name, v] : st.params) {
          const std::string piece = name + ": " + clip(v, 60);
          if (k == 0 && !line[0].empty() && line[0].size() + piece.size() > 100) k = 1;
          line[k] += (line[k].empty() ? "" : " · ") + piece;
        }
        for (int l = 0; l < 2; ++l)
          if (!line[l].empty())
            out += "<text class=\"param\" x=\"" + fixed(n.x + box_w + 12, 1) + "\" y=\"" + fixed(n.y + 16 + 16 * l, 1) + "\">" +
                   html_escape(clip(line[l], 130)) + "</text>";
      }
      out += "</g>";
    }
    out += "</svg></section>\n";
  }

  // ---- distributions (engine/distributions.hpp) ----
  if (object dist; !root["distributions"].get_object().get(dist)) {
    auto rows_of = [](const array& bins) {
      std::vector<std::tuple<std::string, uint64_t, uint64_t>> rows;
      for (auto b : bins) {
        object bo;
        if (b.get_object().get(bo)) continue;
        rows.emplace_back(get_string(bo, "label"), get_u64(bo, "kept"), get_u64(bo, "rejected"));
      }
      return rows;
    };
    out += "<section id=\"distributions\"><h2>Distributions</h2><p class=\"dim\">Over the records at the end of the run, "
           "kept (blue) and rejected (red); a fan-out's copies each count.</p><div class=\"stage-grid\">";
    size_t charts = 0;
    if (array bytes; !dist["record_bytes"].get_array().get(bytes) && bytes.size() > 0) {
      out += "<div><h3>record size, bytes</h3>" + stacked_chart(rows_of(bytes), "dist-record-bytes", options.max_rows) + "</div>";
      ++charts;
    }
    std::vector<std::string> undrawn;
    if (array keys; !dist["annotations"].get_array().get(keys)) {
      for (auto k : keys) {
        object ko;
        array bins;
        if (k.get_object().get(ko) || ko["bins"].get_array().get(bins)) continue;
        const std::string key = get_string(ko, "key");
        if (bins.size() == 0) {
          undrawn.push_back(key);
          continue;
        }
        if (charts++ == options.max_rows) {
          undrawn.push_back(key);
          continue;
        }
        out += "<div><h3>";
        pg.text(key);
        out += "</h3>" + stacked_chart(rows_of(bins), "dist-" + std::to_string(charts), options.max_rows) + "</div>";
      }
    }
    out += "</div>";
    if (!undrawn.empty()) {
      out += "<p class=\"dim\">Not drawn (more than 40 distinct values, such as ids and answers, or past 40 charts): ";
      for (size_t i = 0; i < undrawn.size() && i < options.max_rows; ++i) {
        if (i) out += ", ";
        pg.text(undrawn[i]);
      }
      out += "</p>";
      pg.left_out(undrawn.size() > options.max_rows ? undrawn.size() - options.max_rows : 0, "keys");
    }
    out += "</section>\n";
  }

  // ---- time per stage ----
  if (!stages.empty()) {
    std::vector<std::pair<std::string, double>> rows;
    std::vector<std::string> shown;
    for (const auto& s : stages) {
      rows.emplace_back(s.name, s.seconds);
      shown.push_back(fixed(s.seconds, 4) + " s (" + fixed(100 * s.share, 1) + "%)");
    }
    out += "<section id=\"time\"><h2>Time per stage</h2>" + bar_chart(rows, shown, "#6a8caf", "time-chart") +
           "<p class=\"dim\">Seconds of work in each stage (summed over threads); the share is of all stages' work.</p></section>\n";
  }

  // ---- each stage ----
  for (size_t i = 0; i < stages.size(); ++i) {
    const auto& s = stages[i];
    const std::string id = "stage-" + std::to_string(i);
    out += "<section class=\"stage\" id=\"" + id + "\" data-stage=\"" + html_escape(s.name) + "\"><h3>";
    pg.text(s.name);
    out += " <span class=\"dim\">(";
    pg.text(s.op);
    out += ")</span></h3><p>in " + with_commas(s.in) + " · kept " + with_commas(s.kept) + " · rejected " + with_commas(s.rejected);
    if (s.emitted) out += " · emitted " + with_commas(s.emitted);
    out += " · " + fixed(s.seconds, 4) + " s (" + fixed(100 * s.share, 1) + "% of the stages' time)";
    if (s.serial_seconds >= 0) out += ", of which " + fixed(s.serial_seconds, 4) + " s in its ordered part";
    if (!s.inputs.empty()) {
      out += " · inputs: ";
      for (size_t k = 0; k < s.inputs.size(); ++k) {
        if (k) out += ", ";
        pg.text(s.inputs[k]);
      }
    }
    out += "</p><div class=\"stage-grid\">";
    if (!s.reasons.empty()) {
      out += "<div><h3>Rejected, by reason</h3>";
      std::vector<std::pair<std::string, double>> rows;
      std::vector<std::string> shown;
      for (size_t k = 0; k < s.reasons.size() && k < options.max_rows; ++k) {
        rows.emplace_back(s.reasons[k].name, static_cast<double>(s.reasons[k].count));
        shown.push_back(with_commas(s.reasons[k].count));
      }
      out += bar_chart(rows, shown, "#d1495b", id + "-reasons-chart");
      out += "<table><tr><th>reason</th><th class=\"r\">records</th></tr>";
      for (size_t k = 0; k < s.reasons.size() && k < options.max_rows; ++k) {
        out += "<tr data-reason=\"" + html_escape(s.reasons[k].name) + "\"><td>";
        pg.text(s.reasons[k].name);
        out += "</td><td class=\"r\">";
        pg.number(id + "-reason-" + std::to_string(k), s.reasons[k].count);
        out += "</td></tr>";
      }
      out += "</table>";
      pg.left_out(s.reasons.size() > options.max_rows ? s.reasons.size() - options.max_rows : 0, "reasons");
      out += "</div>";
    }
    if (!s.counters.empty()) {
      out += "<div><h3>Counters</h3><table>";
      for (size_t k = 0; k < s.counters.size() && k < options.max_rows; ++k) {
        out += "<tr><th>";
        pg.text(s.counters[k].first);
        out += "</th><td class=\"r\">" + with_commas(s.counters[k].second) + "</td></tr>";
      }
      out += "</table>";
      pg.left_out(s.counters.size() > options.max_rows ? s.counters.size() - options.max_rows : 0, "counters");
      out += "</div>";
    }
    if (!s.params.empty()) {
      out += "<div><h3>Parameters</h3><table class=\"kv\">";
      for (size_t k = 0; k < s.params.size() && k < options.max_rows; ++k) {
        out += "<tr><th>";
        pg.text(s.params[k].first);
        out += "</th><td><code>";
        pg.text(s.params[k].second);
        out += "</code></td></tr>";
      }
      out += "</table>";
      pg.left_out(s.params.size() > options.max_rows ? s.params.size() - options.max_rows : 0, "parameters");
      out += "</div>";
    }
    out += "</div>";
    if (s.has_samples) {
      // Samples of the stage's decisions with their evidence: per reason (in the order of the chart),
      // then the records it let through.
      object so;
      if (!s.samples.get_object().get(so)) {
        object by_reason;
        if (!so["rejected"].get_object().get(by_reason)) {
          for (const Reason& reason : s.reasons) {
            array list;
            if (by_reason[reason.name].get_array().get(list) || list.size() == 0) continue;
            out += "<details class=\"samples\"" + std::string(&reason == &s.reasons.front() ? " open" : "") + "><summary>";
            pg.text(reason.name);
            out += ": " + with_commas(list.size()) + " of " + with_commas(reason.count) + " rejected records, sampled</summary>";
            out += sample_table(pg, list, s.name, reason.name, options);
            out += "</details>";
          }
        }
        array kept_list;
        if (!so["kept"].get_array().get(kept_list) && kept_list.size() > 0) {
          out += "<details class=\"samples\"><summary>kept: " + with_commas(kept_list.size()) + " of " + with_commas(s.kept) +
                 " records, sampled, with their annotations</summary>";
          out += sample_table(pg, kept_list, s.name, "", options);
          out += "</details>";
        }
      }
    }
    if (s.has_report) {
      // Decontamination: the hits per benchmark with their evidence, the record's matched words beside
      // the benchmark item, the words they share marked.
      object r;
      array benchmarks;
      if (!s.report.get_object().get(r) && !r["benchmarks"].get_array().get(benchmarks)) {
        for (auto b : benchmarks) {
          object bo;
          array hits;
          if (b.get_object().get(bo) || bo["hits"].get_array().get(hits) || hits.size() == 0) continue;
          out += "<h3>Contamination evidence: ";
          pg.text(get_string(bo, "benchmark"));
          out += " (" + with_commas(get_u64(bo, "records_matched")) + " records matched " + with_commas(get_u64(bo, "items_hit")) +
                 " of " + with_commas(get_u64(bo, "items")) + " items)</h3>";
          size_t shown = 0;
          for (auto h : hits) {
            if (shown++ == options.max_rows) break;
            object ho, ex, ev;
            if (h.get_object().get(ho)) continue;
            out += "<p class=\"hit\">item <code>";
            element item;
            if (!ho["item"].get(item)) pg.text(simdjson::minify(item));
            out += "</code>: " + with_commas(get_u64(ho, "records")) + " record(s)";
            if (!ho["example"].get_object().get(ex) && !ex["evidence"].get_object().get(ev)) {
              out += "; example record <code>";
              pg.text(get_string(ex, "record"));
              out += "</code>, by ";
              pg.text(get_string(ev, "method"));
              out += ", score " + fixed(get_double(ev, "score"), 3);
              if (has(ev, "shared_ngrams"))
                out += ", " + with_commas(get_u64(ev, "shared_ngrams")) + " of " + with_commas(get_u64(ev, "item_ngrams")) + " n-grams shared";
              if (has(ev, "edits"))
                out += ", " + with_commas(get_u64(ev, "edits")) + " word edits of " + with_commas(get_u64(ev, "item_words"));
              out += "</p><div class=\"evidence\"><div><b>record (matched words)</b>\n";
              const std::string span = clip(get_string(ev, "span"), options.max_text_bytes);
              const std::string item_text = clip(get_string(ev, "item_text"), options.max_text_bytes);
              out += highlight_shared(span, item_text) + "</div><div><b>benchmark item</b>\n" + highlight_shared(item_text, span) +
                     "</div></div>";
            } else {
              out += "</p>";
            }
          }
          pg.left_out(hits.size() > options.max_rows ? hits.size() - options.max_rows : 0, "items hit");
        }
      }
      // Duplicate groups by size (dedup.exact, dedup.minhash: "cluster_sizes"), as bars.
      array sizes;
      if (!r["cluster_sizes"].get_array().get(sizes) && sizes.size() > 0) {
        std::vector<std::pair<std::string, double>> rows;
        std::vector<std::string> shown;
        for (auto e : sizes) {
          object so;
          if (e.get_object().get(so) || rows.size() == options.max_rows) continue;
          rows.emplace_back(get_string(so, "size") + " records", static_cast<double>(get_u64(so, "clusters")));
          shown.push_back(with_commas(get_u64(so, "clusters")));
        }
        out += "<h3>Groups of duplicates, by size</h3>" + bar_chart(rows, shown, "#8d6a9f", id + "-cluster-sizes");
      }
      out += "<details open><summary>The op's report</summary>";
      pg.value(s.report, 0);
      out += "</details>";
    }
    out += "</section>\n";
  }

  // ---- inputs and sinks ----
  out += "<section id=\"inputs\"><h2>Inputs</h2><table><tr><th>source</th><th>files</th><th class=\"r\">lines</th>"
         "<th class=\"r\">records</th><th class=\"r\">errors</th><th class=\"r\">bytes</th></tr>";
  for (size_t i = 0; i < sources.size() && i < options.max_rows; ++i) {
    const auto& s = sources[i];
    out += "<tr><td>";
    pg.text(s.name);
    out += "</td><td>";
    for (size_t f = 0; f < s.files.size() && f < 10; ++f) {
      if (f) out += "<br>";
      pg.text(s.files[f]);
    }
    if (s.files.size() > 10) out += "<br><span class=\"more\">… " + with_commas(s.files.size() - 10) + " more files</span>";
    out += "</td><td class=\"r\">" + with_commas(s.lines) + "</td><td class=\"r\">" + with_commas(s.records) + "</td><td class=\"r\">" +
           with_commas(s.errors) + "</td><td class=\"r\">" + with_commas(s.bytes) + "</td></tr>";
  }
  out += "</table>";
  pg.left_out(sources.size() > options.max_rows ? sources.size() - options.max_rows : 0, "sources");
  out += "</section>\n<section id=\"sinks\"><h2>Outputs</h2><table><tr><th>sink</th><th>kind</th><th>path</th>"
         "<th class=\"r\">lines</th><th class=\"r\">bytes</th></tr>";
  for (size_t i = 0; i < sinks.size() && i < options.max_rows; ++i) {
    const auto& s = sinks[i];
    out += "<tr><td>";
    pg.text(s.name);
    out += "</td><td>";
    pg.text(s.kind);
    out += "</td><td>";
    pg.text(s.path);
    out += "</td><td class=\"r\">";
    pg.number("sink-" + std::to_string(i) + "-lines", s.lines);
    out += "</td><td class=\"r\">" + with_commas(s.bytes) + "</td></tr>";
  }
  out += "</table>";
  pg.left_out(sinks.size() > options.max_rows ? sinks.size() - options.max_rows : 0, "sinks");
  out += "</section>\n<footer><p class=\"dim\">Made by <code>tamis report</code> from report.json. Samples of each decision "
         "with its evidence and histograms of record fields need what report.json does not hold yet (see docs/review.md).</p>"
         "</footer>\n</main></body></html>\n";
  return out;
}

}  // namespace tamis::review
