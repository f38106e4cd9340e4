#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <glob.h>
#include <optional>
#include <map>
#include <sys/stat.h>
#include <set>
#include <simdjson.h>
#include <tamis/json.hpp>
#include <unistd.h>

#include "common/log.hpp"
#include "pipeline/pipeline.hpp"
#include "sinks/sink_kind.hpp"
#include "sources/source_kind.hpp"

#ifdef TAMIS_HAVE_PARQUET
#include "io/parquet_writer.hpp"
#endif

namespace fs = std::filesystem;

namespace tamis {
namespace {

struct Ctx {
  std::string file;  // as displayed in messages
  std::string dir;
  Diagnostics& diags;
  std::optional<SourcePos> origin;  // set for a --set value: every problem in it is reported there
  size_t* json_bytes;               // JSON made so far from the file's json-typed values (kMaxJsonBytes)
  SourcePos at(const YAML::Node& n) const {
    if (origin) return *origin;
    const auto m = n.Mark();
    if (m.is_null()) return {file, 0, 0};
    return {file, m.line + 1, m.column + 1};
  }
};

// ${VAR} and ${VAR:-default}; "$$" is a literal "$".
std::string expand_env(const std::string& s, const SourcePos& pos, Diagnostics& diags) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (s[i] != '$' || i + 1 >= s.size() || s[i + 1] != '{') {
      out += s[i];
      continue;
    }
    const size_t close = s.find('}', i + 2);
    if (close == std::string::npos) {
      diags.error(pos, "unclosed '${' in \"" + s + "\"", "write ${NAME} or ${NAME:-default}");
      return s;
    }
    const std::string body = s.substr(i + 2, close - i - 2);
    const size_t dflt = body.find(":-");
    const std::string name = body.substr(0, dflt);
    const char* value = std::getenv(name.c_str());
    if (value && *value) out += value;
    else if (dflt != std::string::npos) out += body.substr(dflt + 2);
    else if (value) out += "";
    else diags.error(pos, "environment variable " + name + " is not set", "set it, or write ${" + name + ":-default}");
    i = close;
  }
  return out;
}

std::string resolve_path(const std::string& dir, const std::string& p) {
  if (p.empty()) return p;
  fs::path path(p);
  if (p.size() >= 2 && p[0] == '~' && p[1] == '/') {
    if (const char* home = std::getenv("HOME")) path = fs::path(home) / p.substr(2);
  }
  if (path.is_relative()) path = fs::path(dir) / path;
  return path.lexically_normal().string();
}

std::string display_path(const std::string& dir, const std::string& abs) {
  const std::string prefix = dir + "/";
  if (abs.compare(0, prefix.size(), prefix) == 0) return abs.substr(prefix.size());
  return abs;
}

bool is_scalar(const YAML::Node& n) { return n.IsDefined() && n.IsScalar(); }

// A NUL byte in a path ("in.jsonl\0x" in YAML) would end the name where the system reads it, silently
// naming another file. Such a path is an error (at `pos`; `what` names it), and true is returned.
bool nul_in_path(const Ctx& c, const SourcePos& pos, const std::string& value, const std::string& what) {
  if (value.find('\0') == std::string::npos) return false;
  c.diags.error(pos, what + " holds a NUL byte (\\0), which no file name can hold", "remove the \\0 from the path");
  return true;
}

std::string scalar(const Ctx& c, const YAML::Node& n) { return expand_env(n.Scalar(), c.at(n), c.diags); }

bool parse_bool(const std::string& s, bool& out) {
  std::string l = s;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (l == "true" || l == "yes" || l == "on") return out = true, true;
  if (l == "false" || l == "no" || l == "off") return out = false, true;
  return false;
}

bool parse_int(const std::string& s, int64_t& out) {
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && p == e && b != e;
}

bool parse_float(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

// A YAML alias (*name) stands for the node it names, so a few lines of YAML can name a node a billion
// times ("billion laughs"), and the JSON of such a value repeats it each time. The JSON of all the
// json-typed values of one load (file and --set) is built up to this bound; every node adds at least
// one byte, so it also bounds the walk, however many stages repeat a large alias.
constexpr size_t kMaxJsonBytes = size_t{4} << 20;

// Appends a YAML value as JSON to `out`: scalars typed as YAML's core schema would (int, float, bool,
// null, string). False, with `out` partly written, once `out` and the JSON made before it pass
// kMaxJsonBytes, or once a scalar had an error (an aliased bad ${VAR} is reported once, not per copy).
bool append_yaml_json(const Ctx& c, const YAML::Node& n, std::string& out, size_t errors_before) {
  if (*c.json_bytes + out.size() > kMaxJsonBytes || c.diags.size() > errors_before) return false;
  if (!n.IsDefined() || n.IsNull()) {
    out += "null";
  } else if (n.IsScalar()) {
    const std::string s = scalar(c, n);
    int64_t i;
    double d;
    bool b;
    if (n.Tag() == "!") json::append_quoted(out, s);  // quoted in the file: a string
    else if (parse_int(s, i)) out += std::to_string(i);
    else if (parse_float(s, d)) out += json::number(d);
    else if (parse_bool(s, b)) out += b ? "true" : "false";
    else if (s == "null" || s == "~") out += "null";
    else json::append_quoted(out, s);
  } else if (n.IsSequence()) {
    out += '[';
    bool first = true;
    for (const auto& item : n) {
      if (!first) out += ',';
      first = false;
      if (!append_yaml_json(c, item, out, errors_before)) return false;
    }
    out += ']';
  } else {
    out += '{';
    bool first = true;
    for (const auto& kv : n) {
      if (!first) out += ',';
      first = false;
      json::append_quoted(out, kv.first.Scalar());
      out += ':';
      if (!append_yaml_json(c, kv.second, out, errors_before)) return false;
    }
    out += '}';
  }
  return *c.json_bytes + out.size() <= kMaxJsonBytes && c.diags.size() == errors_before;
}

std::string choices_text(const char* const* choices) {
  std::string out;
  for (auto p = choices; *p; ++p) out += (out.empty() ? "" : ", ") + std::string(*p);
  return out;
}

bool in_choices(const char* const* choices, const std::string& v) {
  if (!choices) return true;
  for (auto p = choices; *p; ++p)
    if (v == *p) return true;
  return false;
}

// Checks a value against its row and returns it as JSON; records a diagnostic and returns "" if bad.
std::string type_param(const Ctx& c, const SourcePos& pos, const std::string& stage, const tamis_param_desc& row,
                       const YAML::Node& n) {
  const std::string where = "stage '" + stage + "': parameter '" + std::string(row.name) + "'";
  auto bad = [&](const std::string& what) {
    const std::string help = row.help && *row.help ? std::string(": ") + row.help : std::string();
    c.diags.error(pos, where + " " + what, std::string("expected ") + param_type_name(row.type) + help);
    return std::string();
  };
  auto string_list = [&](bool paths) -> std::string {
    std::vector<YAML::Node> items;
    if (n.IsScalar()) items.push_back(n);
    else if (n.IsSequence()) for (const auto& item : n) items.push_back(item);
    else return bad("must be a list of strings");
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].IsScalar()) return bad("must be a list of strings, item " + std::to_string(i + 1) + " is not");
      std::string v = scalar(c, items[i]);
      if (!in_choices(row.choices, v)) {
        c.diags.error(c.at(items[i]), where + " has value '" + v + "'", "allowed values: " + choices_text(row.choices));
        return "";
      }
      if (paths && nul_in_path(c, c.at(items[i]), v, where + ", item " + std::to_string(i + 1) + ",")) return "";
      if (paths) v = resolve_path(c.dir, v);
      out += (i ? "," : "") + json::quote(v);
    }
    return out + "]";
  };
  switch (row.type) {
    case TAMIS_PARAM_BOOL: {
      bool b;
      if (!n.IsScalar() || !parse_bool(scalar(c, n), b)) return bad("must be true or false, got '" + (n.IsScalar() ? n.Scalar() : std::string("a collection")) + "'");
      return b ? "true" : "false";
    }
    case TAMIS_PARAM_INT: {
      int64_t i;
      if (!n.IsScalar() || !parse_int(scalar(c, n), i)) return bad("must be an integer, got '" + (n.IsScalar() ? n.Scalar() : std::string("a collection")) + "'");
      return std::to_string(i);
    }
    case TAMIS_PARAM_FLOAT: {
      double d;
      if (!n.IsScalar() || !parse_float(scalar(c, n), d)) return bad("must be a number, got '" + (n.IsScalar() ? n.Scalar() : std::string("a collection")) + "'");
      return json::number(d);
    }
    case TAMIS_PARAM_STRING:
    case TAMIS_PARAM_PATH: {
      if (!n.IsScalar()) return bad("must be a single string");
      const std::string v = scalar(c, n);
      if (!in_choices(row.choices, v)) {
        c.diags.error(pos, where + " has value '" + v + "'", "allowed values: " + choices_text(row.choices));
        return "";
      }
      if (row.type == TAMIS_PARAM_PATH && nul_in_path(c, pos, v, where)) return "";
      return json::quote(row.type == TAMIS_PARAM_PATH ? resolve_path(c.dir, v) : v);
    }
    case TAMIS_PARAM_STRING_LIST: return string_list(false);
    case TAMIS_PARAM_PATH_LIST: return string_list(true);
    case TAMIS_PARAM_STRING_MAP: {
      if (!n.IsMap()) return bad("must be a mapping of strings to strings");
      std::string out = "{";
      bool first = true;
      for (const auto& kv : n) {
        if (!kv.second.IsScalar()) return bad("must map strings to strings; '" + kv.first.Scalar() + "' does not");
        out += (first ? "" : ",") + json::quote(kv.first.Scalar()) + ":" + json::quote(scalar(c, kv.second));
        first = false;
      }
      return out + "}";
    }
    case TAMIS_PARAM_JSON: {
      std::string out;
      const size_t errors_before = c.diags.size();
      const bool ok = append_yaml_json(c, n, out, errors_before);
      *c.json_bytes += out.size();
      if (ok) return out;
      if (c.diags.size() > errors_before) return "";  // reported where it is
      c.diags.error(pos, where + ": this value expands to more than " + std::to_string(kMaxJsonBytes >> 20) +
                             " MiB of JSON (with the file's other json values)",
                    "YAML aliases (*name) repeat the node they name each time they appear; write the value out, smaller");
      return "";
    }
  }
  return bad("has an unknown type");
}

// YAML lets a mapping repeat a key, and readers disagree on which value wins (yaml-cpp takes the
// first, many others the last): `with: {min: 3, min: 10}` would silently run with 3. A repeated key is an
// error at its position. Each node is visited once (aliases share their node, and so its mark), so an
// alias bomb costs no more than its text. `named`: the mapping's keys are names of sources, stages or
// sinks, whose repeats claim_name reports ("source name 's' is already used").
void check_repeated_keys(const Ctx& c, const YAML::Node& n, std::set<std::pair<int, int>>& seen, bool named = false) {
  if (!n.IsMap() && !n.IsSequence()) return;
  const auto mark = n.Mark();
  if (!mark.is_null() && !seen.insert({mark.line, mark.column}).second) return;
  if (n.IsSequence()) {
    for (const auto& item : n) check_repeated_keys(c, item, seen);
    return;
  }
  std::map<std::string, SourcePos> first;
  for (const auto& kv : n) {
    if (kv.first.IsScalar() && !named) {
      const auto [it, fresh] = first.emplace(kv.first.Scalar(), c.at(kv.first));
      if (!fresh)
        c.diags.error(c.at(kv.first), "key '" + kv.first.Scalar() + "' appears twice in this mapping (first at line " +
                                          std::to_string(it->second.line) + ")",
                      "keep one: YAML readers disagree on which of the two values counts");
    }
    check_repeated_keys(c, kv.second, seen);
  }
}

// check_repeated_keys over the whole file.
void check_repeated_keys_in_file(const Ctx& c, const YAML::Node& root) {
  std::set<std::pair<int, int>> seen;
  std::map<std::string, SourcePos> first;
  for (const auto& kv : root) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    if (!key.empty() && !first.emplace(key, c.at(kv.first)).second)
      c.diags.error(c.at(kv.first), "key '" + key + "' appears twice in the pipeline file", "keep one");
    check_repeated_keys(c, kv.second, seen, key == "sources" || key == "stages" || key == "sinks");
  }
}

void check_keys(const Ctx& c, const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& what) {
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string hint = did_you_mean(key, allowed);
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      c.diags.error(c.at(kv.first), "unknown key '" + key + "' in " + what, hint.empty() ? "allowed keys: " + list : hint);
    }
  }
}

std::vector<std::string> expand_glob(const std::string& pattern) {
  std::vector<std::string> out;
  if (pattern.find_first_of("*?[") == std::string::npos) {
    std::error_code ec;
    if (fs::is_regular_file(pattern, ec)) out.push_back(pattern);
    return out;
  }
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::error_code ec;
      if (fs::is_regular_file(g.gl_pathv[i], ec)) out.emplace_back(g.gl_pathv[i]);
    }
  }
  globfree(&g);
  std::sort(out.begin(), out.end());  // byte order, whatever the locale
  return out;
}

// The strings at `segs` (keys; "*": every element or member) in `e`; a list of strings at the end
// gives each. Values of other types are skipped: the op's check() judges them.
void strings_at(simdjson::dom::element e, const std::vector<std::string>& segs, size_t i, std::vector<std::string>& out) {
  std::string_view s;
  if (i == segs.size()) {
    if (e.get_string().get(s) == simdjson::SUCCESS) out.emplace_back(s);
    else if (simdjson::dom::array a; e.get_array().get(a) == simdjson::SUCCESS)
      for (auto item : a)
        if (item.get_string().get(s) == simdjson::SUCCESS) out.emplace_back(s);
    return;
  }
  if (simdjson::dom::array a; e.get_array().get(a) == simdjson::SUCCESS) {
    if (segs[i] == "*") {
      for (auto item : a) strings_at(item, segs, i + 1, out);
    } else if (int64_t k; parse_int(segs[i], k) && k >= 0) {
      if (simdjson::dom::element item; a.at(static_cast<size_t>(k)).get(item) == simdjson::SUCCESS) strings_at(item, segs, i + 1, out);
    }
  } else if (simdjson::dom::object o; e.get_object().get(o) == simdjson::SUCCESS) {
    if (segs[i] == "*") {
      for (auto kv : o) strings_at(kv.value, segs, i + 1, out);
    } else if (simdjson::dom::element v; o.at_key(segs[i]).get(v) == simdjson::SUCCESS) {
      strings_at(v, segs, i + 1, out);
    }
  }
}

// The files a parameter with role TAMIS_ROLE_INPUT names, from its JSON value, resolved.
std::vector<std::string> input_files_of(const tamis_param_desc& row, const std::string& value_json, const std::string& dir) {
  std::vector<std::string> segs;
  if (row.paths_at && *row.paths_at) {
    std::string_view at = row.paths_at;
    for (size_t dot; (dot = at.find('.')) != std::string_view::npos; at.remove_prefix(dot + 1)) segs.emplace_back(at.substr(0, dot));
    segs.emplace_back(at);
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::vector<std::string> out;
  if (parser.parse(value_json).get(root) != simdjson::SUCCESS) return out;
  strings_at(root, segs, 0, out);
  for (auto& f : out) f = resolve_path(dir, f);
  out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
  return out;
}

// Whether two paths name one file: the same device and inode when both exist (hard and symbolic links,
// other spellings), else the same normalised path (an output not written yet).
bool same_file(const std::string& a, const std::string& b) {
  struct stat sa{}, sb{};
  if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  std::error_code ea, eb;
  return fs::weakly_canonical(a, ea) == fs::weakly_canonical(b, eb);
}

// What a file that is not a regular file is ("a directory", "a FIFO (named pipe)", ...).
std::string kind_of(fs::file_type t) {
  switch (t) {
    case fs::file_type::directory: return "a directory";
    case fs::file_type::fifo: return "a FIFO (named pipe)";
    case fs::file_type::character:
    case fs::file_type::block: return "a device";
    case fs::file_type::socket: return "a socket";
    default: return "not a regular file";
  }
}

// Why a source's pattern gives no file to read: it names something that is not a regular file (a
// directory, a FIFO, a device), or matches nothing at all.
std::string why_no_files(const std::string& pattern) {
  std::error_code ec;
  if (const auto st = fs::status(pattern, ec); fs::exists(st))
    return "'" + pattern + "' is " + kind_of(st.type()) + ", not a regular file";
  if (pattern.find_first_of("*?[") != std::string::npos) {
    glob_t g{};
    std::string first;
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0 && g.gl_pathc > 0) first = g.gl_pathv[0];
    globfree(&g);
    if (!first.empty())
      return "no regular file matches '" + pattern + "' ('" + first + "' is " + kind_of(fs::status(first, ec).type()) + ")";
  }
  return "no file matches '" + pattern + "'";
}

// Why the stage could not read input file `path`, or "" when it can. A name with glob characters that
// is not itself a file must match at least one file.
std::string unreadable(const std::string& path) {
  if (path.find('\0') != std::string::npos) return "holds a NUL byte (\\0), which no file name can hold";
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (!fs::exists(st)) {
    if (path.find_first_of("*?[") != std::string::npos) return expand_glob(path).empty() ? "no file matches" : "";
    return "does not exist";
  }
  if (::access(path.c_str(), R_OK) != 0) return "is not readable (permissions)";
  return "";
}

std::vector<InputRef> read_inputs(const Ctx& c, const YAML::Node& n, const std::string& owner) {
  std::vector<InputRef> out;
  if (!n.IsDefined()) return out;
  if (n.IsScalar()) {
    out.push_back({n.Scalar(), c.at(n), {}});
  } else if (n.IsSequence()) {
    for (const auto& item : n) {
      if (!item.IsScalar()) c.diags.error(c.at(item), owner + ": inputs must be names of sources or stages");
      else out.push_back({item.Scalar(), c.at(item), {}});
    }
  } else {
    c.diags.error(c.at(n), owner + ": inputs must be a list of source or stage names");
  }
  return out;
}

}  // namespace

bool parse_override(const std::string& text, Override& out) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos) return false;
  const std::string lhs = text.substr(0, eq);
  const size_t dot = lhs.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == lhs.size()) return false;
  out = {lhs.substr(0, dot), lhs.substr(dot + 1), text.substr(eq + 1)};
  return true;
}

// A sink writing Parquet (its path ends in .parquet): `schema:` (text, or a mapping column -> type),
// `compression:` (zstd, snappy, none) and `row_group_rows:`; refused on other sinks, and when this tamis
// has no Parquet support.
static void read_parquet_keys(const Ctx& c, const YAML::Node& body, SinkSpec& s) {
  s.parquet = s.path.size() > 8 && s.path.ends_with(".parquet");
  const char* keys[] = {"schema", "compression", "row_group_rows"};
  if (!s.parquet) {
    for (const char* k : keys)
      if (body[k].IsDefined())
        c.diags.error(c.at(body[k]), "sink '" + s.name + "': '" + k + "' is for Parquet sinks (a path ending in .parquet)");
    return;
  }
#ifndef TAMIS_HAVE_PARQUET
  c.diags.error(c.at(body["path"]), "sink '" + s.name + "': this tamis was built without Parquet support (DuckDB)",
                "run scripts/install-deps.sh and rebuild, or write .jsonl");
  return;
#else
  if (s.kind->written_at_end()) {
    c.diags.error(c.at(body["path"]), "sink '" + s.name + "': the report is JSON; give it a .json path");
    return;
  }
  if (body["level"].IsDefined()) c.diags.error(c.at(body["level"]), "sink '" + s.name + "': a Parquet sink takes compression:, not level:");
  if (const YAML::Node n = body["schema"]; n.IsDefined()) {
    std::string text;
    if (n.IsScalar()) {
      text = n.Scalar();
    } else if (n.IsMap()) {
      for (const auto& kv : n) {
        if (!kv.second.IsScalar()) {
          c.diags.error(c.at(kv.second), "sink '" + s.name + "': schema." + kv.first.Scalar() + " must be a type such as string or list<string>");
          return;
        }
        text += (text.empty() ? "" : ", ") + std::string("\"") + kv.first.Scalar() + "\": " + kv.second.Scalar();
      }
    } else {
      c.diags.error(c.at(n), "sink '" + s.name + "': schema must be a mapping column -> type, or a text 'name: type, ...'");
      return;
    }
    try {
      (void)io::parse_parquet_schema(text);
      s.parquet_schema = text;
    } catch (const std::exception& e) {
      c.diags.error(c.at(n), "sink '" + s.name + "': schema: " + e.what(),
                    "types: string, bool, int32, int64, float, double, json, list<T>, struct<name: T, ...>");
    }
  }
  if (const YAML::Node n = body["compression"]; n.IsDefined()) {
    const std::string v = n.IsScalar() ? n.Scalar() : "";
    if (v == "zstd" || v == "snappy" || v == "none") s.parquet_compression = v;
    else c.diags.error(c.at(n), "sink '" + s.name + "': compression must be zstd, snappy or none");
  }
  if (const YAML::Node n = body["row_group_rows"]; n.IsDefined()) {
    int64_t v = 0;
    if (n.IsScalar() && parse_int(n.Scalar(), v) && v >= 1 && v <= 100000000) s.row_group_rows = static_cast<uint64_t>(v);
    else c.diags.error(c.at(n), "sink '" + s.name + "': row_group_rows must be a number of rows from 1 to 100,000,000");
  }
#endif
}

// The steps of load_pipeline(), in order: the file and its top level, the sources, the stages, the sinks,
// the graph (inputs resolved, stages ordered, every node feeding something, the reading order of the
// sources). Every step records its problems in `diags` and goes on, so that one run of `tamis validate`
// shows them all; a step stops only what cannot be checked without its result.
class PipelineLoader {
 public:
  PipelineLoader(const std::string& path, const Registry& registry, const LoadOptions& options, Diagnostics& diags)
      : path(path), registry(registry), options(options), diags(diags), c{path, "", diags, std::nullopt, &json_bytes} {
    p.file = path;
    std::error_code ec;
    p.dir = fs::absolute(fs::path(path), ec).parent_path().lexically_normal().string();
    c.dir = p.dir;
  }

  // The YAML file, its top-level keys, `version` and `annotations`. False when it cannot be read as a
  // mapping (nothing else can be checked).
  bool read_file() {
    try {
      root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
      diags.error({path, 0, 0}, "cannot read the pipeline file", "check the path and permissions");
      return false;
    } catch (const YAML::ParserException& e) {
      diags.error({path, e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg);
      return false;
    }
    if (!root.IsMap()) {
      diags.error({path, 1, 1}, "a pipeline file is a YAML mapping with sources, stages and sinks");
      return false;
    }
    check_keys(c, root, {"version", "sources", "stages", "sinks", "annotations"}, "the pipeline file");
    check_repeated_keys_in_file(c, root);

    if (const auto v = root["version"]; !v.IsDefined()) {
      diags.error({path, 1, 1}, "missing 'version'", "start the file with `version: 1`");
    } else if (!v.IsScalar() || v.Scalar() != "1") {
      diags.error(c.at(v), "unsupported pipeline version '" + (v.IsScalar() ? v.Scalar() : std::string("?")) + "'",
                  "this tamis reads version 1");
    }
    if (const auto a = root["annotations"]; a.IsDefined()) {
      if (!a.IsMap()) {
        diags.error(c.at(a), "'annotations' must be a mapping like {field: tamis}");
      } else {
        check_keys(c, a, {"field"}, "annotations");
        if (a["field"].IsDefined()) {
          if (!a["field"].IsScalar() || a["field"].Scalar().empty())
            diags.error(c.at(a["field"]), "annotations.field must be a field name");
          else
            p.annotation_field = scalar(c, a["field"]);
        }
      }
    }
    return true;
  }

  void read_sources() {
    const YAML::Node sources = root["sources"];
    if (!sources.IsDefined() || !sources.IsMap() || sources.size() == 0) {
      diags.error(sources.IsDefined() ? c.at(sources) : SourcePos{path, 1, 1}, "the pipeline needs at least one source",
                  "sources: { NAME: { path: data/*.jsonl } }");
    } else {
      // The files read so far, by device and inode (the same file under two names): source and path.
      std::map<std::pair<dev_t, ino_t>, std::pair<std::string, std::string>> files_read;
      for (const auto& kv : sources) {
        SourceSpec s;
        s.name = kv.first.Scalar();
        s.pos = c.at(kv.first);
        claim_name(s.name, s.pos, "source");
        YAML::Node body = kv.second;
        if (body.IsScalar()) {
          YAML::Node m;
          m["path"] = body;
          body = m;
        }
        if (!body.IsMap()) {
          diags.error(c.at(kv.second), "source '" + s.name + "' must be a path or a mapping with 'path'");
          continue;
        }
        check_keys(c, body, {"path", "format", "id", "on_error", "max_line_bytes"}, "source '" + s.name + "'");
        if (body["format"].IsDefined()) {  // else each file's kind by its name (sources/source_kinds.cpp)
          const std::string v = is_scalar(body["format"]) ? scalar(c, body["format"]) : "";
          std::vector<std::string> formats;
          for (const SourceKind* k : source_kinds()) formats.emplace_back(k->name());
          s.kind = find_source_kind(v);
          if (!s.kind) {
            std::string list;
            for (const auto& n : formats) list += (list.empty() ? "" : ", ") + n;
            const std::string hint = did_you_mean(v, formats);
            diags.error(c.at(body["format"]), "source '" + s.name + "': unknown format '" + v + "'",
                        hint.empty() ? "formats: " + list : hint);
          }
        }
        if (!is_scalar(body["path"])) {
          diags.error(s.pos, "source '" + s.name + "' has no 'path'",
                      "path: data/train.jsonl (globs and .gz/.zst allowed)");
        } else if (const std::string v = scalar(c, body["path"]);
                   !nul_in_path(c, c.at(body["path"]), v, "source '" + s.name + "': path")) {
          s.pattern = resolve_path(p.dir, v);
          if (options.check_files) {
            s.files = expand_glob(s.pattern);
            if (s.files.empty())
              diags.error(c.at(body["path"]), "source '" + s.name + "': " + why_no_files(s.pattern),
                          "check the path; relative paths are relative to the pipeline file");
            // One file under two names (a link beside its target, two sources naming it) would give its
            // records twice: within one source it is read once, under its first name in byte order; two
            // sources each read it (they may differ in id or on_error). Either way, a warning.
            std::vector<std::string> once;
            std::map<std::pair<dev_t, ino_t>, std::string> mine;  // this source's files
            for (const auto& f : s.files) {
              struct stat st {};
              if (::stat(f.c_str(), &st) != 0) {
                once.push_back(f);
                continue;
              }
              const auto [it, fresh] = files_read.try_emplace({st.st_dev, st.st_ino}, s.name, f);
              if (const auto [m, new_here] = mine.try_emplace({st.st_dev, st.st_ino}, f); !new_here) {
                log::warn("", "source '" + s.name + "' matches one file twice, as " + display_path(p.dir, m->second) +
                                  " and as " + display_path(p.dir, f) + " (a link?): it is read once, as " +
                                  display_path(p.dir, m->second));
              } else if (fresh) {
                once.push_back(f);
              } else {
                once.push_back(f);
                log::warn("", "sources '" + it->second.first + "' (" + display_path(p.dir, it->second.second) +
                                  ") and '" + s.name + "' (" + display_path(p.dir, f) +
                                  ") read the same file: its records are read twice, once by each source");
              }
            }
            s.files = std::move(once);
          }
          for (const auto& f : s.files) s.display_files.push_back(display_path(p.dir, f));
          if (!s.kind) s.kind = &source_kind_of(s.files.empty() ? s.pattern : s.files.front());
          for (const auto& f : s.files)
            if (!body["format"].IsDefined() && &source_kind_of(f) != s.kind)
              diags.error(c.at(body["path"]),
                          "source '" + s.name + "' matches files of two formats, " + std::string(s.kind->name()) +
                              " (" + display_path(p.dir, s.files.front()) + ") and " +
                              std::string(source_kind_of(f).name()) + " (" + display_path(p.dir, f) + ")",
                          "one source reads one format: split it in two sources, or set `format:`");
          if (const std::string why = s.kind->unavailable(); !why.empty())
            diags.error(c.at(body["format"].IsDefined() ? body["format"] : body["path"]),
                        "source '" + s.name + "': " + why);
        }
        if (!s.kind) s.kind = &jsonl_source_kind();
        if (body["id"].IsDefined()) {
          if (!is_scalar(body["id"]))
            diags.error(c.at(body["id"]), "source '" + s.name + "': 'id' must be a field name");
          else
            s.id_field = scalar(c, body["id"]);
        }
        if (body["on_error"].IsDefined()) {
          const std::string v = body["on_error"].IsScalar() ? scalar(c, body["on_error"]) : "";
          if (v == "fail")
            s.on_error = OnError::fail;
          else if (v == "skip")
            s.on_error = OnError::skip;
          else
            diags.error(c.at(body["on_error"]), "source '" + s.name + "': on_error must be 'fail' or 'skip'");
        }
        if (body["max_line_bytes"].IsDefined()) {
          // Bytes, or a whole number of KiB, MiB or GiB; from 1 byte to 2 GiB.
          std::string v = is_scalar(body["max_line_bytes"]) ? scalar(c, body["max_line_bytes"]) : "";
          int shift = 0;
          for (const auto& [suffix, bits] : {std::pair{"KiB", 10}, std::pair{"MiB", 20}, std::pair{"GiB", 30}}) {
            if (shift == 0 && v.size() > 3 && v.ends_with(suffix)) {
              v.resize(v.size() - 3);
              while (!v.empty() && v.back() == ' ') v.pop_back();
              shift = bits;
            }
          }
          int64_t n = 0;
          if (parse_int(v, n) && n >= 1 && n <= (int64_t{1} << (31 - shift)))
            s.max_line_bytes = static_cast<uint64_t>(n) << shift;
          else
            diags.error(c.at(body["max_line_bytes"]),
                        "source '" + s.name + "': max_line_bytes must be a number of bytes from 1 to 2 GiB",
                        "e.g. max_line_bytes: 268435456, or 256 MiB");
        }
        p.sources.push_back(std::move(s));
      }
    }
  }

  void read_stages() {
    const YAML::Node stages = root["stages"];
    if (stages.IsDefined() && !stages.IsNull() && !stages.IsMap()) {
      diags.error(c.at(stages), "'stages' must be a mapping of stage names to stages");
    } else if (stages.IsDefined() && stages.IsMap()) {
      for (const auto& kv : stages) {
        StageSpec st;
        st.name = kv.first.Scalar();
        st.pos = c.at(kv.first);
        claim_name(st.name, st.pos, "stage");
        const YAML::Node body = kv.second;
        if (!body.IsMap()) {
          diags.error(c.at(body), "stage '" + st.name + "' must be a mapping with 'uses'");
          p.stages.push_back(std::move(st));
          continue;
        }
        check_keys(c, body, {"uses", "inputs", "with"}, "stage '" + st.name + "'");
        st.inputs = read_inputs(c, body["inputs"], "stage '" + st.name + "'");
        if (!is_scalar(body["uses"])) {
          diags.error(st.pos, "stage '" + st.name + "' has no 'uses'", "uses: OP (see `tamis plugins list`)");
          p.stages.push_back(std::move(st));
          continue;
        }
        st.op_name = scalar(c, body["uses"]);
        st.op = registry.find(st.op_name);
        if (!st.op) {
          std::string hint = did_you_mean(st.op_name, registry.op_names());
          if (hint.empty()) hint = "`tamis plugins list` shows the ops found; add a directory with --plugin-path";
          diags.error(c.at(body["uses"]), "stage '" + st.name + "': unknown op '" + st.op_name + "'", hint);
          p.stages.push_back(std::move(st));
          continue;
        }
        if (st.op->name() != st.op_name) {  // a former name (registry.hpp): it runs, under the new name
          const SourcePos at = c.at(body["uses"]);
          log::warn("", at.file + ":" + std::to_string(at.line) + ": stage '" + st.name + "': " +
                            former_name_warning(st.op_name, st.op->name()));
          st.op_name = st.op->name();
        }
        // Parameters: the file's `with`, then --set overrides, checked against the op's table. The
        // file's nodes keep their marks, so each problem is reported where it is written.
        const YAML::Node with = body["with"].IsDefined() ? body["with"] : YAML::Node();
        if (with.IsDefined() && !with.IsMap() && !with.IsNull()) {
          diags.error(c.at(with), "stage '" + st.name + "': 'with' must be a mapping of parameters");
        }
        std::vector<std::pair<std::string, YAML::Node>> given;  // in file order, overrides replacing
        if (with.IsMap())
          for (const auto& wkv : with) given.emplace_back(wkv.first.Scalar(), wkv.second);
        std::set<std::string> from_set;
        for (const auto& o : options.overrides) {
          if (o.stage != st.name) continue;
          YAML::Node v;
          try {
            v = YAML::Load(o.value);
          } catch (const YAML::Exception&) {
            v = YAML::Node(o.value);
          }
          auto it = std::find_if(given.begin(), given.end(), [&](const auto& g) { return g.first == o.param; });
          if (!v.IsDefined() || v.IsNull()) {  // --set stage.param=null: back to the default
            if (it != given.end()) given.erase(it);
            continue;
          }
          if (it != given.end())
            it->second = v;
          else
            given.emplace_back(o.param, v);
          from_set.insert(o.param);
        }
        auto given_value = [&](const std::string& name) -> YAML::Node {
          for (const auto& [k, v] : given)
            if (k == name) return v;
          return YAML::Node();
        };
        // Where a value came from: its place in the file, or the --set option.
        auto pos_of = [&](const std::string& name, const YAML::Node& v) {
          return from_set.count(name) ? SourcePos{"--set " + st.name + "." + name, 0, 0} : c.at(v);
        };
        // The context its scalars are read in: a ${VAR} problem in a --set value is reported at the option.
        auto ctx_of = [&](const std::string& name) {
          Ctx vc = c;
          if (from_set.count(name)) vc.origin = pos_of(name, YAML::Node());
          return vc;
        };
        const tamis_op_desc& op = *st.op->desc;
        const tamis_param_desc* star = nullptr;
        std::vector<std::string> known;
        for (size_t i = 0; i < op.param_count; ++i) {
          if (std::string(op.params[i].name) == "*")
            star = &op.params[i];
          else
            known.push_back(op.params[i].name);
        }
        std::string pj = "{";
        auto add = [&](const std::string& name, const std::string& json, bool is_default, const std::string& origin) {
          st.params.push_back({name, json, is_default, origin});
          if (pj.size() > 1) pj += ",";
          json::append_quoted(pj, name);
          pj += ":" + json;
        };
        bool params_ok = true;
        for (size_t i = 0; i < op.param_count; ++i) {
          const tamis_param_desc& row = op.params[i];
          if (std::string(row.name) == "*") continue;
          const YAML::Node v = given_value(row.name);
          if (v.IsDefined() && !v.IsNull()) {
            const std::string j = type_param(ctx_of(row.name), pos_of(row.name, v), st.name, row, v);
            if (j.empty())
              params_ok = false;
            else
              add(row.name, j, false, from_set.count(row.name) ? "--set" : "file");
          } else if (row.default_json) {
            add(row.name, row.default_json, true, "default");
          } else if (row.required) {
            diags.error(st.pos, "stage '" + st.name + "': missing required parameter '" + std::string(row.name) + "'",
                        std::string(row.name) + " (" + param_type_name(row.type) + "): " + (row.help ? row.help : ""));
            params_ok = false;
          }
        }
        std::string star_json = "{";
        for (const auto& [key, value] : given) {
          if (std::find(known.begin(), known.end(), key) != known.end()) continue;
          if (star) {
            tamis_param_desc row = *star;  // reported under the key's own name, not "*"
            row.name = key.c_str();
            const std::string j = type_param(ctx_of(key), pos_of(key, value), st.name, row, value);
            if (j.empty())
              params_ok = false;
            else
              star_json += (star_json.size() > 1 ? "," : "") + json::quote(key) + ":" + j;
            continue;
          }
          std::string hint = did_you_mean(key, known);
          if (hint.empty()) hint = "`tamis plugins info " + st.op_name + "` lists its parameters";
          SourcePos where = pos_of(key, value);
          if (with.IsMap() && !from_set.count(key))
            for (const auto& wkv : with)
              if (wkv.first.Scalar() == key) where = c.at(wkv.first);
          diags.error(where, "stage '" + st.name + "': op '" + st.op_name + "' has no parameter '" + key + "'", hint);
          params_ok = false;
        }
        if (star) add("*", star_json + "}", false, "file");
        st.params_json = pj + "}";
        // Every file the stage will read must be there now, not when the run reaches the stage.
        const bool typed = params_ok;
        for (size_t i = 0; typed && options.check_files && i < op.param_count; ++i) {
          const tamis_param_desc& row = op.params[i];
          if (row.role != TAMIS_ROLE_INPUT) continue;
          const auto v = std::find_if(st.params.begin(), st.params.end(),
                                      [&](const ParamValue& pv) { return pv.name == row.name; });
          if (v == st.params.end()) continue;
          const YAML::Node given_node = given_value(row.name);
          const SourcePos where = v->is_default ? st.pos : pos_of(row.name, given_node);
          for (const auto& f : input_files_of(row, v->json, p.dir)) {
            if (const std::string why = unreadable(f); !why.empty()) {
              diags.error(
                  where,
                  "stage '" + st.name + "': parameter '" + std::string(row.name) + "': input file '" + f + "' " + why,
                  "the stage reads it when it starts; check the path (relative paths are relative to the pipeline "
                  "file)");
              params_ok = false;
            }
          }
        }
        // Nor may it write over the pipeline file or a source's file (files it writes: role output).
        for (size_t i = 0; typed && i < op.param_count; ++i) {
          const tamis_param_desc& row = op.params[i];
          if (row.role != TAMIS_ROLE_OUTPUT) continue;
          const auto v = std::find_if(st.params.begin(), st.params.end(),
                                      [&](const ParamValue& pv) { return pv.name == row.name; });
          if (v == st.params.end()) continue;
          const SourcePos where = v->is_default ? st.pos : pos_of(row.name, given_value(row.name));
          const std::string what =
              "stage '" + st.name + "': parameter '" + std::string(row.name) + "' would overwrite ";
          for (const auto& f : input_files_of(row, v->json, p.dir)) {
            std::vector<std::string> victims;
            if (same_file(path, f)) victims.push_back("the pipeline file " + path);
            for (const auto& src : p.sources)
              for (const auto& in : src.files)
                if (same_file(in, f)) victims.push_back(in + ", an input of source '" + src.name + "'");
            for (const auto& victim : victims) diags.error(where, what + victim, "write the stage's files elsewhere");
            if (!victims.empty()) params_ok = false;
          }
        }
        if (params_ok && op.check) {
          tamis_error err{};
          if (op.check({st.params_json.data(), st.params_json.size()}, &err) != TAMIS_OK)
            diags.error(c.at(body["with"].IsDefined() ? body["with"] : body["uses"]),
                        "stage '" + st.name + "': " + err.message);
        }
        p.stages.push_back(std::move(st));
      }
    }
    for (const auto& o : options.overrides) {
      const bool found =
          std::any_of(p.stages.begin(), p.stages.end(), [&](const StageSpec& s) { return s.name == o.stage; });
      if (!found)
        diags.error({"--set", 0, 0}, "no stage named '" + o.stage + "' (in --set " + o.stage + "." + o.param + ")");
    }
  }

  void read_sinks() {
    const YAML::Node sinks = root["sinks"];
    if (!sinks.IsDefined() || !sinks.IsMap() || sinks.size() == 0) {
      diags.error(sinks.IsDefined() ? c.at(sinks) : SourcePos{path, 1, 1}, "the pipeline needs at least one sink",
                  "sinks: { kept: { path: out/kept.jsonl } }");
    } else {
      std::map<std::string, std::string> paths;
      for (const auto& kv : sinks) {
        SinkSpec s;
        s.name = kv.first.Scalar();
        s.pos = c.at(kv.first);
        claim_name(s.name, s.pos, "sink");
        const YAML::Node body = kv.second;
        if (!body.IsMap()) {
          diags.error(c.at(body), "sink '" + s.name + "' must be a mapping with 'path'");
          continue;
        }
        // The kinds other than the default (records) are chosen by their key: `rejected: true` (sinks/sink_kinds.cpp).
        std::vector<std::string> keys{"path",   "inputs",      "level",          "discard",
                                      "schema", "compression", "row_group_rows", "annotations"},
            kind_keys;
        for (const SinkKind* k : sink_kinds())
          if (k != &default_sink_kind()) kind_keys.emplace_back(k->name());
        keys.insert(keys.end(), kind_keys.begin(), kind_keys.end());
        check_keys(c, body, keys, "sink '" + s.name + "'");
        if (body["discard"].IsDefined() &&
            (!body["discard"].IsScalar() || !parse_bool(scalar(c, body["discard"]), s.discard)))
          diags.error(c.at(body["discard"]), "sink '" + s.name + "': 'discard' must be true or false");
        if (body["annotations"].IsDefined() &&
            (!body["annotations"].IsScalar() || !parse_bool(scalar(c, body["annotations"]), s.write_annotations)))
          diags.error(c.at(body["annotations"]), "sink '" + s.name + "': 'annotations' must be true or false");
        int kinds = 0;
        s.kind = &default_sink_kind();
        for (const std::string& key : kind_keys) {
          bool b = false;
          if (body[key].IsDefined()) {
            if (!body[key].IsScalar() || !parse_bool(scalar(c, body[key]), b))
              diags.error(c.at(body[key]), "sink '" + s.name + "': '" + key + "' must be true or false");
            if (b) {
              s.kind = find_sink_kind(key);
              ++kinds;
            }
          }
        }
        std::string kind_list;
        for (size_t i = 0; i < kind_keys.size(); ++i)
          kind_list += (i == 0 ? "" : i + 1 == kind_keys.size() ? " or " : ", ") + kind_keys[i];
        if (kinds > 1) diags.error(s.pos, "sink '" + s.name + "' can be only one of " + kind_list);
        if (!s.write_annotations && s.kind != &default_sink_kind())
          diags.error(c.at(body["annotations"]), "sink '" + s.name + "': 'annotations: false' is for record sinks",
                      "rejected records carry their verdict in the annotations member; ledgers, errors and reports have none");
        if (s.discard) {  // the records end here, kept but not written (for stages that only observe)
          if (kinds > 0)
            diags.error(s.pos, "sink '" + s.name + "': discard is for record sinks, not " + kind_list + " sinks");
          if (body["path"].IsDefined() || body["level"].IsDefined())
            diags.error(c.at(body["path"].IsDefined() ? body["path"] : body["level"]),
                        "sink '" + s.name + "': a discard sink writes no file",
                        "remove 'path' (and 'level'), or remove 'discard: true' to write the records");
        } else if (!is_scalar(body["path"])) {
          diags.error(s.pos, "sink '" + s.name + "' has no 'path'");
        } else if (const std::string v = scalar(c, body["path"]);
                   !nul_in_path(c, c.at(body["path"]), v, "sink '" + s.name + "': path")) {
          s.path = resolve_path(p.dir, v);
          if (auto [it, fresh] = paths.emplace(s.path, s.name); !fresh)
            diags.error(c.at(body["path"]),
                        "sinks '" + it->second + "' and '" + s.name + "' write the same file " + s.path);
          // A sink must not replace a file the run reads (the input would be lost when it is renamed over),
          // nor the pipeline file itself.
          for (const auto& src : p.sources)
            for (const auto& f : src.files)
              if (same_file(f, s.path))
                diags.error(c.at(body["path"]),
                            "sink '" + s.name + "' would overwrite " + f + ", an input of source '" + src.name + "'",
                            "write outputs to another file");
          if (same_file(path, s.path))
            diags.error(c.at(body["path"]), "sink '" + s.name + "' would overwrite the pipeline file " + path,
                        "write outputs to another file");
        }
        if (body["level"].IsDefined()) {
          int64_t lvl;
          const bool gz = s.path.size() > 3 && s.path.compare(s.path.size() - 3, 3, ".gz") == 0;
          const int64_t top = gz ? 9 : 19;
          if (!body["level"].IsScalar() || !parse_int(scalar(c, body["level"]), lvl) || lvl < 0 || lvl > top)
            diags.error(
                c.at(body["level"]),
                "sink '" + s.name + "': level must be a compression level from 0 to " + std::to_string(top),
                "gzip (.gz) takes 0-9 (0: stored), zstd (.zst) 0-19 (0: zstd's default); plain files ignore it");
          else
            s.level = static_cast<int>(lvl);
        }
        read_parquet_keys(c, body, s);
        s.inputs = read_inputs(c, body["inputs"], "sink '" + s.name + "'");
        if (!s.inputs.empty() && s.kind->inputs() == SinkKind::Inputs::none)
          diags.error(c.at(body["inputs"]), "sink '" + s.name + "': only record and rejected sinks take inputs");
        p.sinks.push_back(std::move(s));
      }
    }
  }

  // Inputs named → nodes; default inputs. True when every name resolved (and nothing else failed so far).
  bool resolve_inputs() {
    auto lookup = [&](InputRef& in) {
      for (size_t i = 0; i < p.sources.size(); ++i)
        if (p.sources[i].name == in.name) return in.node = {NodeRef::source, static_cast<int>(i)}, true;
      for (size_t i = 0; i < p.stages.size(); ++i)
        if (p.stages[i].name == in.name) return in.node = {NodeRef::stage, static_cast<int>(i)}, true;
      return false;
    };
    std::vector<std::string> node_names;
    for (const auto& s : p.sources) node_names.push_back(s.name);
    for (const auto& s : p.stages) node_names.push_back(s.name);
    auto all_sources = [&](const SourcePos& pos) {
      std::vector<InputRef> v;
      for (size_t i = 0; i < p.sources.size(); ++i)
        v.push_back({p.sources[i].name, pos, {NodeRef::source, static_cast<int>(i)}});
      return v;
    };
    for (size_t i = 0; i < p.stages.size(); ++i) {
      auto& st = p.stages[i];
      if (st.inputs.empty()) {
        if (i == 0)
          st.inputs = all_sources(st.pos);
        else
          st.inputs.push_back({p.stages[i - 1].name, st.pos, {NodeRef::stage, static_cast<int>(i - 1)}});
        continue;
      }
      for (auto& in : st.inputs) {
        if (lookup(in)) {
          if (in.node.kind == NodeRef::stage && in.node.index == static_cast<int>(i))
            diags.error(in.pos, "stage '" + st.name + "' lists itself as an input");
          continue;
        }
        std::string hint = did_you_mean(in.name, node_names);
        diags.error(in.pos, "stage '" + st.name + "': unknown input '" + in.name + "'",
                    hint.empty() ? "inputs name sources or stages of this file" : hint);
      }
    }
    for (auto& s : p.sinks) {
      if (s.kind->inputs() == SinkKind::Inputs::nodes && s.inputs.empty()) {
        if (p.stages.empty())
          s.inputs = all_sources(s.pos);
        else
          s.inputs.push_back({p.stages.back().name, s.pos, {NodeRef::stage, static_cast<int>(p.stages.size() - 1)}});
        continue;
      }
      for (auto& in : s.inputs) {
        if (!lookup(in)) {
          std::string hint = did_you_mean(in.name, node_names);
          diags.error(in.pos, "sink '" + s.name + "': unknown input '" + in.name + "'",
                      hint.empty() ? "inputs name sources or stages of this file" : hint);
        } else if (s.kind->inputs() == SinkKind::Inputs::stages && in.node.kind != NodeRef::stage) {
          diags.error(in.pos, "sink '" + s.name + "': a rejected sink's inputs are stages (whose rejections it takes)");
        }
      }
    }

    return diags.empty();
  }

  // The execution order (Kahn's algorithm, file order on ties); false when the stages form a cycle.
  bool order_stages() {
    // Cycles, and the execution order: Kahn's algorithm, file order on ties. Inputs that did not
    // resolve are left out, so that a cycle is still reported beside other errors.
    const size_t n = p.stages.size();
    std::vector<std::vector<int>> succ(n);
    std::vector<int> indeg(n, 0);
    for (size_t i = 0; i < n; ++i)
      for (const auto& in : p.stages[i].inputs)
        if (in.node.kind == NodeRef::stage && in.node.index >= 0 &&
            in.node.index != static_cast<int>(i)) {  // self: reported above
          succ[in.node.index].push_back(static_cast<int>(i));
          ++indeg[i];
        }
    std::set<int> ready;
    for (size_t i = 0; i < n; ++i)
      if (indeg[i] == 0) ready.insert(static_cast<int>(i));
    while (!ready.empty()) {
      const int s = *ready.begin();
      ready.erase(ready.begin());
      p.stage_order.push_back(s);
      for (int t : succ[s])
        if (--indeg[t] == 0) ready.insert(t);
    }
    if (p.stage_order.size() != n) {
      // Of the stages left, those on a cycle are the ones that reach themselves (others only sit downstream).
      for (size_t i = 0; i < n; ++i) {
        if (indeg[i] == 0) continue;
        std::vector<bool> seen(n);
        std::vector<int> todo(succ[i].begin(), succ[i].end());
        bool on_cycle = false;
        while (!todo.empty() && !on_cycle) {
          const int t = todo.back();
          todo.pop_back();
          if (t == static_cast<int>(i))
            on_cycle = true;
          else if (!seen[t]) {
            seen[t] = true;
            todo.insert(todo.end(), succ[t].begin(), succ[t].end());
          }
        }
        if (on_cycle)
          diags.error(p.stages[i].pos, "stage '" + p.stages[i].name + "' is part of a cycle",
                      "stages form a directed acyclic graph: follow its inputs and break the loop");
      }
      return false;
    }
    return true;
  }

  // Every source and stage must feed something: a record that goes nowhere would be lost.
  void check_every_node_feeds() {
    const size_t n = p.stages.size();
    // Every source and stage must feed something: a record that goes nowhere would be lost.
    std::vector<bool> src_used(p.sources.size()), stage_used(n);
    auto mark = [&](const InputRef& in) {
      (in.node.kind == NodeRef::source ? src_used[in.node.index] : stage_used[in.node.index]) = true;
    };
    for (const auto& st : p.stages)
      for (const auto& in : st.inputs) mark(in);
    for (const auto& s : p.sinks)
      if (s.kind->keeps_records())
        for (const auto& in : s.inputs) mark(in);
    for (size_t i = 0; i < p.sources.size(); ++i)
      if (!src_used[i])
        diags.error(p.sources[i].pos, "source '" + p.sources[i].name + "' is read by no stage or sink",
                    "list it in some inputs, or remove it");
    for (size_t i = 0; i < n; ++i)
      if (!stage_used[i])
        diags.error(
            p.stages[i].pos, "stage '" + p.stages[i].name + "' feeds no stage or sink: its records would be lost",
            "add it to a sink's inputs: sinks: { out: { path: out.jsonl, inputs: [" + p.stages[i].name + "] } }");
  }

  // Reading order of sources: wherever an input list names A before B, sources reaching only A are read
  // before those reaching only B (so fan-in sees records in the order inputs are listed).
  void order_sources() {
    const size_t n = p.stages.size();
    // Reading order of sources: wherever an input list names A before B, sources reaching only A are read
    // before those reaching only B (so fan-in sees records in the order inputs are listed).
    const size_t ns = p.sources.size();
    std::vector<std::vector<bool>> reach(n, std::vector<bool>(ns));
    auto reach_of = [&](const InputRef& in) {
      std::vector<bool> r(ns);
      if (in.node.kind == NodeRef::source)
        r[in.node.index] = true;
      else
        r = reach[in.node.index];
      return r;
    };
    for (int s : p.stage_order)
      for (const auto& in : p.stages[s].inputs) {
        auto r = reach_of(in);
        for (size_t k = 0; k < ns; ++k)
          if (r[k]) reach[s][k] = true;
      }
    std::vector<std::set<size_t>> before(ns);  // before[b] = sources that must be read before b
    std::vector<SourcePos> constraint_pos(ns);
    auto constrain = [&](const std::vector<InputRef>& inputs) {
      for (size_t i = 0; i < inputs.size(); ++i)
        for (size_t j = i + 1; j < inputs.size(); ++j) {
          auto ri = reach_of(inputs[i]), rj = reach_of(inputs[j]);
          for (size_t a = 0; a < ns; ++a)
            for (size_t b = 0; b < ns; ++b)
              if (ri[a] && !rj[a] && rj[b] && !ri[b]) {
                before[b].insert(a);
                constraint_pos[b] = inputs[j].pos;
              }
        }
    };
    for (const auto& st : p.stages) constrain(st.inputs);
    for (const auto& s : p.sinks)
      if (s.kind->keeps_records()) constrain(s.inputs);
    std::vector<bool> placed(ns);
    while (p.source_order.size() < ns) {
      bool progress = false;
      for (size_t b = 0; b < ns; ++b) {
        if (placed[b]) continue;
        if (std::all_of(before[b].begin(), before[b].end(), [&](size_t a) { return placed[a]; })) {
          placed[b] = true;
          p.source_order.push_back(static_cast<int>(b));
          progress = true;
          break;
        }
      }
      if (!progress) {
        for (size_t b = 0; b < ns; ++b)
          if (!placed[b]) {
            diags.error(constraint_pos[b],
                        "inputs are listed in conflicting orders: source '" + p.sources[b].name +
                            "' must be read both before and after another source",
                        "list fan-in inputs in the same order everywhere");
            break;
          }
        break;
      }
    }
  }

  Pipeline take() { return std::move(p); }

 private:
  void claim_name(const std::string& name, const SourcePos& pos, const char* what) {
    if (!names.insert(name).second)
      diags.error(pos, std::string(what) + " name '" + name + "' is already used",
                  "sources, stages and sinks need distinct names");
  }

  const std::string& path;
  const Registry& registry;
  const LoadOptions& options;
  Diagnostics& diags;
  Pipeline p;
  size_t json_bytes = 0;
  Ctx c;
  YAML::Node root;
  std::set<std::string> names;
};

Pipeline load_pipeline(const std::string& path, const Registry& registry, const LoadOptions& options,
                       Diagnostics& diags) {
  PipelineLoader loader(path, registry, options, diags);
  if (!loader.read_file()) return loader.take();
  loader.read_sources();
  loader.read_stages();
  loader.read_sinks();
  const bool names_ok = loader.resolve_inputs();
  if (!loader.order_stages() || !names_ok) return loader.take();
  loader.check_every_node_feeds();
  loader.order_sources();
  return loader.take();
}

std::string describe_pipeline(const Pipeline& p) {
  std::string out = "pipeline " + p.file + "\n";
  out += "sources (reading order):\n";
  for (int i : p.source_order) {
    const auto& s = p.sources[i];
    out += "  " + s.name + ": " + std::to_string(s.files.size()) + " file(s) matching " + s.pattern;
    out += ", id: " + (s.id_field.empty() ? std::string("content (SOURCE/HASH)") : s.id_field);
    out += std::string(", on_error: ") + (s.on_error == OnError::fail ? "fail" : "skip");
    if (s.kind && s.kind != &jsonl_source_kind()) out += ", format: " + std::string(s.kind->name());
    out += "\n";
    for (const auto& f : s.display_files) out += "    " + f + "\n";
  }
  out += "stages (execution order):\n";
  for (int i : p.stage_order) {
    const auto& st = p.stages[i];
    out += "  " + st.name + " (" + st.op_name;
    if (st.op) {
      out += std::string(", ") + op_kind_name(st.op->desc->kind) + " op from " + st.op->plugin->file;
    }
    out += ")\n    inputs: ";
    for (size_t k = 0; k < st.inputs.size(); ++k) out += (k ? ", " : "") + st.inputs[k].name;
    out += "\n";
    for (const auto& prm : st.params)
      out += "    " + prm.name + " = " + prm.json + (prm.is_default ? "  (default)" : prm.origin == "--set" ? "  (--set)" : "") + "\n";
  }
  out += "sinks:\n";
  for (const auto& s : p.sinks) {
    out += "  " + s.name + " [" + (s.discard ? std::string("discard") : std::string(s.kind->name())) + "] -> " +
           (s.discard ? std::string("(nothing written)") : s.path);
    if (!s.inputs.empty()) {
      out += "  from ";
      for (size_t k = 0; k < s.inputs.size(); ++k) out += (k ? ", " : "") + s.inputs[k].name;
    }
    out += "\n";
  }
  out += "annotations field: " + p.annotation_field + "\n";
  return out;
}

}  // namespace tamis
