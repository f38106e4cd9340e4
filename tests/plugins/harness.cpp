#include "harness.hpp"

#include <simdjson.h>

#include <sstream>
#include <stdexcept>

namespace tamis::test {

namespace {

// A YAML single-quoted scalar.
std::string yaml_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// `with: ...` for a stage, at 4 spaces of indentation; multi-line YAML goes below, indented by 6.
std::string with_block(const std::string& with_yaml) {
  if (with_yaml.empty()) return "";
  if (with_yaml.find('\n') == std::string::npos) return "    with: " + with_yaml + "\n";
  std::string out = "    with:\n";
  std::istringstream in(with_yaml);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out += "      " + line + "\n";
  return out;
}

std::string pipeline_text(const std::string& stages_yaml, const std::string& input, const OpOptions& o) {
  std::string p = "version: 1\n";
  if (!o.annotation_field.empty()) p += "annotations: {field: " + yaml_quote(o.annotation_field) + "}\n";
  p += "sources:\n  input:\n    path: " + yaml_quote(input) + "\n";
  if (!o.id_field.empty()) p += "    id: " + yaml_quote(o.id_field) + "\n";
  p += "    on_error: " + o.on_error + "\n";
  p += "stages:\n" + stages_yaml;
  p +=
      "sinks:\n"
      "  kept:     {path: out/kept.jsonl}\n"
      "  rejected: {path: out/rejected.jsonl, rejected: true}\n"
      "  ledger:   {path: out/ledger.jsonl, ledger: true}\n"
      "  errors:   {path: out/errors.jsonl, errors: true}\n"
      "  report:   {path: out/report.json, report: true}\n";
  return p;
}

std::string stage_yaml(const std::string& op, const std::string& with_yaml, const OpOptions& o) {
  return "  " + o.stage + ":\n    uses: " + op + "\n" + with_block(with_yaml);
}

std::vector<std::string> lines_if_any(const fs::path& p) { return fs::exists(p) ? read_lines(p) : std::vector<std::string>{}; }

// Parses `json` into `doc` with `parser`; false when invalid.
bool parse(simdjson::dom::parser& parser, std::string_view json, simdjson::dom::element& doc) {
  return parser.parse(json.data(), json.size(), true).get(doc) == simdjson::SUCCESS;
}

std::optional<simdjson::dom::element> follow(simdjson::dom::element root, std::string_view path) {
  simdjson::dom::element out;
  if (!path.empty() && path.front() == '/') {
    if (root.at_pointer(path).get(out) != simdjson::SUCCESS) return std::nullopt;
    return out;
  }
  out = root;
  while (true) {
    const size_t dot = path.find('.');
    simdjson::dom::object obj;
    if (out.get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
    if (obj.at_key(path.substr(0, dot)).get(out) != simdjson::SUCCESS) return std::nullopt;
    if (dot == std::string_view::npos) return out;
    path.remove_prefix(dot + 1);
  }
}

}  // namespace

// ---- running ----

std::string op_pipeline(const std::string& op, const std::string& with_yaml, const OpOptions& options) {
  const std::string input = options.input.empty() ? "input.jsonl" : options.input.string();
  return pipeline_text(stage_yaml(op, with_yaml, options), input, options);
}

OpRun run_stages(const std::string& stages_yaml, const std::string& jsonl_text, const OpOptions& o) {
  TempDir dir;
  const std::string input = o.input.empty() ? "input.jsonl" : o.input.string();
  if (o.input.empty()) write_file(dir / "input.jsonl", jsonl_text);
  OpRun run;
  run.pipeline = pipeline_text(stages_yaml, input, o);
  run.id_field = o.id_field.empty() ? "id" : o.id_field;
  run.annotation_field = o.annotation_field.empty() ? "tamis" : o.annotation_field;
  write_file(dir / "pipeline.yaml", run.pipeline);
  std::vector<std::string> args = {"run", (dir / "pipeline.yaml").string(), "--threads", std::to_string(o.threads)};
  args.insert(args.end(), o.args.begin(), o.args.end());
  const CommandResult r = run_tamis(args, dir.path());
  run.exit_code = r.exit_code;
  run.out = r.out;
  run.err = r.err;
  run.kept = lines_if_any(dir / "out/kept.jsonl");
  run.rejected = lines_if_any(dir / "out/rejected.jsonl");
  run.ledger = lines_if_any(dir / "out/ledger.jsonl");
  run.errors = lines_if_any(dir / "out/errors.jsonl");
  run.report = fs::exists(dir / "out/report.json") ? read_file(dir / "out/report.json") : "";
  return run;
}

OpRun run_op(const std::string& op, const std::string& with_yaml, const std::string& jsonl_text, const OpOptions& o) {
  return run_stages(stage_yaml(op, with_yaml, o), jsonl_text, o);
}

OpRun run_op(const std::string& op, const std::string& with_yaml, const std::string& jsonl_text, int threads) {
  OpOptions o;
  o.threads = threads;
  return run_op(op, with_yaml, jsonl_text, o);
}

CommandResult validate_op(const std::string& op, const std::string& with_yaml, const OpOptions& o) {
  TempDir dir;
  if (o.input.empty()) write_file(dir / "input.jsonl", "");
  write_file(dir / "pipeline.yaml", op_pipeline(op, with_yaml, o));
  std::vector<std::string> args = {"validate", (dir / "pipeline.yaml").string()};
  return run_tamis(args, dir.path());
}

// ---- reading the outputs ----

static std::vector<std::string> ids_of(const std::vector<std::string>& lines, const std::string& field) {
  std::vector<std::string> out;
  out.reserve(lines.size());
  for (const auto& l : lines) {
    if (auto s = json_string(l, field)) out.push_back(*s);
    else if (auto raw = json_raw(l, field)) out.push_back(*raw);  // a numeric id
    else out.emplace_back();
  }
  return out;
}

std::vector<std::string> OpRun::kept_ids() const { return ids_of(kept, id_field); }
std::vector<std::string> OpRun::rejected_ids() const { return ids_of(rejected, id_field); }

std::vector<std::string> OpRun::ledger_ids(std::string_view fate) const {
  std::vector<std::string> out;
  for (const auto& l : ledger)
    if (json_string(l, "fate") == fate) out.push_back(json_string(l, "id").value_or(""));
  return out;
}

std::vector<Verdict> OpRun::rejections() const {
  std::vector<Verdict> out;
  const std::string a = "/" + annotation_field + "/";
  for (const auto& l : rejected) {
    Verdict v;
    v.id = json_string(l, id_field).value_or(json_raw(l, id_field).value_or(""));
    v.stage = json_string(l, a + "rejected_by").value_or("");
    v.reason = json_string(l, a + "reason").value_or("");
    v.detail = json_string(l, a + "detail").value_or("");
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<std::string> OpRun::reasons() const {
  std::vector<std::string> out;
  for (const auto& v : rejections()) out.push_back(v.reason);
  return out;
}

std::optional<std::string> OpRun::annotation_of(const std::string& id, std::string_view key) const {
  for (const auto* lines : {&kept, &rejected})
    for (const auto& line : *lines)
      if (json_string(line, "id") == id) return annotation(line, key);
  return std::nullopt;
}

std::string OpRun::reason_of(const std::string& id) const {
  for (const auto& v : rejections())
    if (v.id == id) return v.reason;
  return "";
}

std::string OpRun::detail_of(const std::string& id) const {
  for (const auto& v : rejections())
    if (v.id == id) return v.detail;
  return "";
}

std::optional<std::string> OpRun::annotation(const std::string& line, std::string_view key) const {
  return json_raw(line, "/" + annotation_field + "/" + std::string(key));
}

int64_t OpRun::total(std::string_view name) const {
  auto v = json_int(report, "/totals/" + std::string(name));
  if (!v) throw std::runtime_error("report.json has no totals." + std::string(name) + "\n" + describe());
  return *v;
}

std::string OpRun::describe() const {
  return "tamis exit code " + std::to_string(exit_code) + "\n--- stderr:\n" + err + "--- pipeline.yaml:\n" + pipeline;
}

// ---- JSON helpers ----

std::string jsonl(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string jsonl(std::initializer_list<std::string> lines) { return jsonl(std::vector<std::string>(lines)); }

std::optional<std::string> json_raw(std::string_view json, std::string_view path) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!parse(parser, json, doc)) return std::nullopt;
  auto e = follow(doc, path);
  if (!e) return std::nullopt;
  return simdjson::minify(*e);
}

std::optional<std::string> json_string(std::string_view json, std::string_view path) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!parse(parser, json, doc)) return std::nullopt;
  auto e = follow(doc, path);
  std::string_view s;
  if (!e || e->get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  return std::string(s);
}

std::optional<int64_t> json_int(std::string_view json, std::string_view path) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!parse(parser, json, doc)) return std::nullopt;
  auto e = follow(doc, path);
  int64_t i;
  if (!e || e->get_int64().get(i) != simdjson::SUCCESS) return std::nullopt;
  return i;
}

bool json_valid(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return parse(parser, json, doc);
}

std::string strip_annotation(std::string_view line, std::string_view field) {
  const std::string member = "\"" + std::string(field) + "\":{";
  const size_t at = line.rfind(member);
  if (at == std::string_view::npos || at == 0 || line.size() < 2 || line.substr(line.size() - 2) != "}}")
    return std::string(line);
  // `,"tamis":{...}}` after a member, or `{"tamis":{...}}` alone.
  const size_t cut = line[at - 1] == ',' ? at - 1 : at;
  return std::string(line.substr(0, cut)) + "}";
}

}  // namespace tamis::test
