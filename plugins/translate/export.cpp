#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <tamis/files.hpp>

#include <tamis/temp_file.hpp>

#include "ops.hpp"

namespace tamis::translate {

namespace fs = std::filesystem;

const ParamTable Export::params = {
    {.name = "path", .type = ParamType::path, .required = true,
     .help = "the batch file to write (JSONL); with more requests than one file may hold, parts PATH-STEM.1.jsonl, .2, ...", .files = FileRole::output},
    {.name = "field", .type = ParamType::string, .default_json = "\"problem\"", .help = "the text to translate (a path)"},
    {.name = "to_field", .type = ParamType::string, .default_json = "\"translate_to\"",
     .help = "where the target language is read: annotation of that name, else the field, else tamis.NAME; records without one pass on, not exported"},
    {.name = "lang_field", .type = ParamType::string, .default_json = "\"lang\"",
     .help = "where the record's own language is read for {source} (annotation, field, tamis.NAME); `source` when absent"},
    {.name = "source", .type = ParamType::string, .default_json = "\"en\"", .help = "the source language when the record says none"},
    {.name = "model", .type = ParamType::string, .default_json = "\"gpt-4o-mini\"", .help = "body.model of every request"},
    {.name = "url", .type = ParamType::string, .default_json = "\"/v1/chat/completions\"", .help = "the request url (the Batch API endpoint)"},
    {.name = "template", .type = ParamType::path,
     .help = "a JSON file: an array of chat messages [{role, content}] with placeholders {text} {id} {source} {target} {source_name} {target_name}; default: the built-in faithful-translation prompt (pipelines/translate/template.json)", .files = FileRole::input},
    {.name = "body", .type = ParamType::json, .default_json = "{}",
     .help = "more members of every request body, e.g. {temperature: 0, max_tokens: 4096}"},
    {.name = "language_names", .type = ParamType::string_map, .default_json = "{}",
     .help = "names used for {source_name} and {target_name}, e.g. {zh: Traditional Chinese}; built in: English names of about 25 codes"},
    {.name = "max_requests", .type = ParamType::integer, .default_json = "50000",
     .help = "requests per file at most (the Batch API takes 50,000); more start another part"},
    {.name = "max_bytes", .type = ParamType::integer, .default_json = "190000000",
     .help = "bytes per file at most (the Batch API takes 200 MB); more start another part; a record whose "
             "request alone is larger is rejected (request_too_large)"},
};

namespace {
// The extra body members as text ("\"temperature\":0"), from the `body` parameter.
std::string body_members(const Params& p) {
  simdjson::dom::object obj;
  if (p.get_json("body").get_object().get(obj) != simdjson::SUCCESS) throw Error("body must be a mapping of body members");
  std::string out;
  for (auto m : obj) {
    if (m.key == "model" || m.key == "messages")
      throw Error("body may not set '" + std::string(m.key) + "': use the model parameter / the template");
    if (!out.empty()) out += ',';
    json::append_quoted(out, m.key);
    out += ':' + simdjson::minify(m.value);
  }
  return out;
}

// PATH with ".N" before its extension: out/batch.jsonl -> out/batch.2.jsonl.
std::string part_path(const std::string& path, size_t n) {
  const fs::path p(path);
  return (p.parent_path() / (p.stem().string() + "." + std::to_string(n) + p.extension().string())).string();
}
}  // namespace

void Export::check(const Params& p) {
  body_members(p);
  if (p.get_int("max_requests") < 1) throw Error("max_requests must be at least 1");
  if (p.get_int("max_bytes") < 1024) throw Error("max_bytes must be at least 1024");
  if (p.has("template")) parse_template(read_file(p.get_string("template"), "template"), "'" + p.get_string("template") + "'");
}

Export::Export(const Params& p, Stage& stage)
    : path_(p.get_string("path")), field_(p.get_string("field")), to_field_(p.get_string("to_field")),
      lang_field_(p.get_string("lang_field")), source_(p.get_string("source")), model_(p.get_string("model")),
      url_(p.get_string("url")), extra_body_(body_members(p)), names_(p.get_map("language_names")),
      max_requests_(p.get_int("max_requests")), max_bytes_(p.get_int("max_bytes")) {
  if (p.has("template")) {
    const std::string t = p.get_string("template");
    template_ = parse_template(read_file(t, "template"), "'" + t + "'");
    stage.info("template " + t + ", model " + model_);
  } else {
    template_ = default_template();
  }
  fs::create_directories(fs::path(path_).parent_path());
}

Export::~Export() {
  if (out_) std::fclose(out_);
  if (committed_) return;
  std::error_code ec;
  for (const auto& t : temps_)
    if (!t.empty()) fs::remove(t, ec);
}

void Export::open_part() {
  // Each part's temporary is made as every output's is (tamis/temp_file.hpp): a new file, never a planted
  // one or a link, never over a device. Part 1 is named after the file itself (its name when it stays
  // the only part), later parts after their part names.
  const size_t n = temps_.size() + 1;
  files::Temporary t = files::create_temporary_beside(n == 1 ? path_ : part_path(path_, n));
  if (t.fd < 0) throw Error("cannot write batch file: " + t.error);
  out_ = ::fdopen(t.fd, "wb");
  if (!out_) {
    ::close(t.fd);
    ::unlink(t.path.c_str());
    throw Error("cannot write batch file '" + t.path + "': " + std::strerror(errno));
  }
  temps_.push_back(t.path);
  part_requests_ = part_bytes_ = 0;
}

void Export::close_part() {
  if (!out_) return;
  const bool ok = std::fflush(out_) == 0 && ::fsync(::fileno(out_)) == 0;
  const bool closed = std::fclose(out_) == 0;
  out_ = nullptr;
  if (!ok || !closed) throw Error("cannot write batch file '" + temps_.back() + "' (disk full?)");
}

std::string Export::prepare(Record& r) const {
  const auto target = read_tag(r, to_field_);
  if (!target) return {};
  const auto text = r.string_field(field_);
  if (!text) {
    r.reject_missing_field(field_, "missing_field", "no string field '" + field_ + "' to translate");
    return {};
  }
  const std::string source = read_tag(r, lang_field_).value_or(source_);
  auto name = [&](const std::string& code) {
    for (const auto& [c, n] : names_)
      if (c == code) return n;
    return language_name(code);
  };
  const std::string source_name = name(source), target_name = name(*target);
  const Vars vars = {{"text", *text}, {"id", r.id()}, {"source", source}, {"target", *target},
                     {"source_name", source_name}, {"target_name", target_name}};
  std::string line = request_line(r.id(), url_, model_, render(template_, vars), extra_body_) + "\n";
  // A request over the per-file limit cannot go in any part (it would sit alone in a file the API
  // refuses, and the whole upload would fail): the record is rejected instead.
  if (static_cast<int64_t>(line.size()) > max_bytes_) {
    r.reject("request_too_large", "its Batch API request is " + std::to_string(line.size()) + " bytes, over max_bytes (" +
                                      std::to_string(max_bytes_) + "): shorten the text, or raise max_bytes if the API allows it");
    return {};
  }
  return line;
}

void Export::ordered(Record& r, std::string& line) {
  if (line.empty()) return;
  const XXH128_hash_t h = XXH3_128bits(r.id().data(), r.id().size());
  if (!ids_.insert({h.low64, h.high64}).second) {
    ++duplicates_;
    return r.reject("duplicate_id", "custom_id '" + std::string(r.id()) + "' is already in the batch file (ids must be unique)");
  }
  const auto n = static_cast<int64_t>(line.size());
  if (!out_ || part_requests_ >= max_requests_ || (part_requests_ > 0 && part_bytes_ + n > max_bytes_)) {
    close_part();
    open_part();
  }
  if (std::fwrite(line.data(), 1, line.size(), out_) != line.size())
    throw Error("cannot write batch file '" + temps_.back() + "' (disk full?)");
  ++part_requests_;
  ++requests_;
  part_bytes_ += n;
  bytes_ += n;
  if (const auto target = read_tag(r, to_field_)) ++per_target_[*target];
}

void Export::finish(Stage& stage) {
  if (temps_.empty()) open_part();  // no request: an empty file, so that the next step finds it
  close_part();
  std::vector<std::string> finals;
  if (temps_.size() == 1) finals.push_back(path_);
  else
    for (size_t i = 0; i < temps_.size(); ++i) finals.push_back(part_path(path_, i + 1));
  // Each part goes in place with the run's other outputs, or not at all (files.hpp put_in_place).
  for (size_t i = 0; i < temps_.size(); ++i) {
    const std::string temp = std::exchange(temps_[i], std::string());  // no longer ours to delete
    put_in_place(temp, finals[i], "batch file");
  }
  committed_ = true;
  stage.count("exported", requests_);
  if (duplicates_) stage.count("duplicate_id", duplicates_);
  std::string rep = "{\"requests\":" + std::to_string(requests_) + ",\"bytes\":" + std::to_string(bytes_) +
                    ",\"model\":" + json::quote(model_) + ",\"files\":[";
  for (size_t i = 0; i < finals.size(); ++i) rep += (i ? "," : "") + json::quote(finals[i]);
  rep += "],\"targets\":{";
  bool first = true;
  for (const auto& [t, n] : per_target_) {
    rep += (first ? "" : ",") + json::quote(t) + ":" + std::to_string(n);
    first = false;
  }
  stage.report(rep + "}}");
  if (requests_ == 0)
    stage.warn("no record had a target language in '" + to_field_ + "': wrote an empty batch file " + path_ +
               " (run translate.tag before translate.export)");
  else
    stage.info("wrote " + std::to_string(requests_) + " requests to " +
               (finals.size() == 1 ? finals[0] : std::to_string(finals.size()) + " files " + finals[0] + " ..."));
}

}  // namespace tamis::translate
