// tamis/sdk.hpp — the C++ SDK for tamis filter plugins (header-only, over tamis/abi.h).
//
// A plugin is a few classes, each with a parameter table, and one macro:
//
//     #include <tamis/sdk.hpp>
//
//     class MinWords {
//      public:
//       static constexpr const char* name = "example.min_words";
//       static constexpr const char* summary = "Rejects records whose field has too few words.";
//       static constexpr tamis::OpKind kind = tamis::OpKind::record;
//       static inline const tamis::ParamTable params = {
//           {.name = "field", .type = tamis::ParamType::string, .required = true, .help = "field to count"},
//           {.name = "min", .type = tamis::ParamType::integer, .default_json = "3", .help = "fewest words"},
//       };
//       explicit MinWords(const tamis::Params& p) : field_(p.get_string("field")), min_(p.get_int("min")) {}
//       void process(tamis::Record& r) const {          // const: runs on many batches at once
//         auto text = r.string_field(field_);
//         if (!text) return r.reject_missing_field(field_);   // counted: tamis warns if nearly all are
//         ...
//       }
//      private:
//       std::string field_; int64_t min_;
//     };
//
//     TAMIS_PLUGIN("example", "1.0.0", MinWords)
//
// Op kinds (tamis::OpKind), checked at compile time against the members the class has:
//   record     void process(tamis::Record&) const;
//   expanding  void process(tamis::Record&) const;        may call r.emit(json, id)
//   ordered    Prepared prepare(tamis::Record&) const;    parallel part, any movable Prepared type
//              void ordered(tamis::Record&, Prepared&);  in input order, one batch at a time
// A parameter naming files the op reads says so, and `tamis validate` checks they exist:
//   {.name = "rollouts", .type = tamis::ParamType::path, .help = "...", .files = tamis::FileRole::input}
// Optional members:
//   static void check(const tamis::Params&);   throws tamis::Error for cross-parameter problems
//   void finish(tamis::Stage&);                after the last record (write index files, report)
//   void observe(const tamis::Record&, Prepared&);   ordered ops: a FIRST PASS. The host runs the
//              stage's input through prepare() and observe() (in input order) once before the real
//              pass through prepare() and ordered(), so ordered() can decide with the whole input in
//              view (e.g. keep the best member of a cluster, not the first). The real pass sees the
//              same records in the same order: count them to match the two passes.
//   bool first_pass() const;                   with observe(): whether this instance wants the first
//              pass (e.g. only when a parameter asks for it); absent: always.
//   void prefetch(const Prepared&) const;      ordered ops: called in the serial part for the record
//              kPrefetchDistance places ahead of the one passed to ordered()/observe(), so the op can
//              issue memory prefetches (__builtin_prefetch) for the index entries that record will
//              touch; on a large index each lookup is otherwise a cache miss paid in the serial part.
//              A hint only: it must not change any state (the record may be rejected before its turn).
//   static constexpr const char* former_names[] = {"old_name"};   names the op had before a rename:
//              a pipeline using one still runs, with a warning that names the new name and the release
//              that drops the old one (keep them one release). A former name may not be another op's name.
// The constructor takes (const tamis::Params&) or (const tamis::Params&, tamis::Stage&).
// Exceptions thrown by any of these become error messages at the ABI; they never cross it.
#ifndef TAMIS_SDK_HPP
#define TAMIS_SDK_HPP

#include <simdjson.h>
#include <tamis/abi.h>
#include <tamis/json.hpp>

#include <algorithm>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdio>
#include <iterator>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tamis {

// Thrown by plugin code for any failure; the SDK turns it into a tamis_error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class OpKind { record = TAMIS_OP_RECORD, ordered = TAMIS_OP_ORDERED, expanding = TAMIS_OP_EXPANDING };

enum class ParamType {
  boolean = TAMIS_PARAM_BOOL,
  integer = TAMIS_PARAM_INT,
  number = TAMIS_PARAM_FLOAT,
  string = TAMIS_PARAM_STRING,
  path = TAMIS_PARAM_PATH,
  string_list = TAMIS_PARAM_STRING_LIST,
  path_list = TAMIS_PARAM_PATH_LIST,
  string_map = TAMIS_PARAM_STRING_MAP,
  json = TAMIS_PARAM_JSON,
};

// What a path (or JSON) parameter's files are to the stage; see tamis_param_role.
enum class FileRole { none = TAMIS_ROLE_UNKNOWN, input = TAMIS_ROLE_INPUT, output = TAMIS_ROLE_OUTPUT };

// One row of a parameter table; mirrors tamis_param_desc with C++ defaults.
struct Param {
  const char* name = nullptr;
  ParamType type = ParamType::string;
  const char* default_json = nullptr;  // JSON text, or nullptr (then required or optional-absent)
  bool required = false;
  const char* help = "";
  const char* const* choices = nullptr;  // nullptr-terminated, for string and string_list
  // Files the value names: FileRole::input makes `tamis validate` check that each exists and is
  // readable before anything runs (write it for every file the op reads); FileRole::output documents
  // a file or directory it writes.
  FileRole files = FileRole::none;
  // JSON parameters with files = input: where the paths are in the value ("*.path": the `path` member
  // of every item of a list); nullptr: the value is a path or a list of paths.
  const char* paths_at = nullptr;
};
using ParamTable = std::vector<Param>;

inline std::string_view to_view(tamis_str s) { return {s.data, s.size}; }
inline tamis_str to_str(std::string_view s) { return {s.data(), s.size()}; }

namespace detail {

// The host's callback table, set when the host calls tamis_plugin_entry().
inline const tamis_host_api*& host_slot() {
  static const tamis_host_api* host = nullptr;
  return host;
}
inline const tamis_host_api& host() { return *host_slot(); }

// The stage context of the finish() hook running on this thread, or null: side files written then are
// handed to the host, which puts them in place with the run's other outputs (files.hpp).
inline void*& finishing_stage() {
  thread_local void* ctx = nullptr;
  return ctx;
}

// Set when a stage of a dry run is made (tamis_stage_info::run_flags): a dry run is the whole process's.
// Side files are then not written (files.hpp).
inline bool& dry_run_slot() {
  static bool dry = false;
  return dry;
}

// One simdjson parser per thread, reused across records (simdjson parsers are not thread-safe).
inline simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Follows a field path: "a.b.c" (object keys split on dots) or a JSON pointer "/a/b/0".
inline std::optional<simdjson::dom::element> follow_path(simdjson::dom::element root,
                                                         std::string_view path) {
  if (!path.empty() && path.front() == '/') {
    simdjson::dom::element out;
    if (root.at_pointer(path).get(out) != simdjson::SUCCESS) return std::nullopt;
    return out;
  }
  simdjson::dom::element cur = root;
  while (true) {
    const size_t dot = path.find('.');
    const std::string_view key = path.substr(0, dot);
    simdjson::dom::object obj;
    if (cur.get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
    simdjson::dom::element next;
    if (obj.at_key(key).get(next) != simdjson::SUCCESS) {
      // A key that itself contains dots ("meta.v2") is found whole before giving up.
      if (dot != std::string_view::npos && obj.at_key(path).get(next) == simdjson::SUCCESS) return next;
      return std::nullopt;
    }
    if (dot == std::string_view::npos) return next;
    cur = next;
    path.remove_prefix(dot + 1);
  }
}

// Whether a value's text (valid JSON) is a number simdjson cannot hold, which the record's DOM holds
// as a string of its digits (json::quote_big_numbers): the text paths show it the same way.
inline bool big_number_text(std::string_view v) {
  return !v.empty() && (v.front() == '-' || (v.front() >= '0' && v.front() <= '9')) && json::big_number(v);
}

// follow_path on a record's text without parsing it (the text is valid JSON): the value's text as
// written, or nothing. Same rules as follow_path, JSON pointers aside.
inline std::optional<std::string_view> follow_path_text(std::string_view obj, std::string_view path) {
  while (true) {
    const size_t dot = path.find('.');
    const auto v = json::member_value(obj, path.substr(0, dot));
    if (!v) return dot != std::string_view::npos ? json::member_value(obj, path) : std::nullopt;
    if (dot == std::string_view::npos) return v;
    obj = *v;
    path.remove_prefix(dot + 1);
  }
}

}  // namespace detail

// Typed, read-only access to a stage's parameters, as validated by the host (types checked, defaults
// filled in, paths absolute). Getters throw tamis::Error for a name the table does not have.
class Params {
 public:
  explicit Params(std::string_view json) : text_(json) {
    if (parser_.parse(text_).get(root_) != simdjson::SUCCESS) throw Error("parameters are not valid JSON");
  }
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;

  // True when the parameter has a value (set by the stage or by a default).
  bool has(std::string_view name) const {
    auto e = lookup(name);
    return e && !e->is_null();
  }
  bool get_bool(std::string_view name) const { return as<bool>(name, "a boolean"); }
  int64_t get_int(std::string_view name) const { return as<int64_t>(name, "an integer"); }
  double get_double(std::string_view name) const {
    auto e = need(name);
    double d;
    if (e.get_double().get(d) == simdjson::SUCCESS) return d;
    int64_t i;
    if (e.get_int64().get(i) == simdjson::SUCCESS) return static_cast<double>(i);
    throw Error("parameter '" + std::string(name) + "' is not a number");
  }
  std::string get_string(std::string_view name) const {
    return std::string(as<std::string_view>(name, "a string"));
  }
  std::vector<std::string> get_strings(std::string_view name) const {
    std::vector<std::string> out;
    simdjson::dom::array arr;
    if (need(name).get_array().get(arr) != simdjson::SUCCESS)
      throw Error("parameter '" + std::string(name) + "' is not a list");
    for (auto v : arr) {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS)
        throw Error("parameter '" + std::string(name) + "' holds a non-string");
      out.emplace_back(s);
    }
    return out;
  }
  // A string map (or the "*" catch-all row), in the order written in the pipeline file.
  std::vector<std::pair<std::string, std::string>> get_map(std::string_view name) const {
    std::vector<std::pair<std::string, std::string>> out;
    simdjson::dom::object obj;
    if (need(name).get_object().get(obj) != simdjson::SUCCESS)
      throw Error("parameter '" + std::string(name) + "' is not a mapping");
    for (auto field : obj) {
      std::string_view v;
      if (field.value.get_string().get(v) != simdjson::SUCCESS)
        throw Error("parameter '" + std::string(name) + "' holds a non-string value");
      out.emplace_back(std::string(field.key), std::string(v));
    }
    return out;
  }
  // The raw value, for JSON parameters.
  simdjson::dom::element get_json(std::string_view name) const { return need(name); }
  std::string_view text() const { return text_; }

 private:
  std::optional<simdjson::dom::element> lookup(std::string_view name) const {
    simdjson::dom::element e;
    if (root_.at_key(name).get(e) != simdjson::SUCCESS) return std::nullopt;
    return e;
  }
  simdjson::dom::element need(std::string_view name) const {
    auto e = lookup(name);
    if (!e || e->is_null()) throw Error("parameter '" + std::string(name) + "' has no value");
    return *e;
  }
  template <class T>
  T as(std::string_view name, const char* what) const {
    T v;
    if (need(name).get<T>().get(v) != simdjson::SUCCESS)
      throw Error("parameter '" + std::string(name) + "' is not " + what);
    return v;
  }

  simdjson::padded_string text_;
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
};

// The stage an op instance serves: its name, counters, log and report, outside of batches.
class Stage {
 public:
  explicit Stage(const tamis_stage_info& info)
      : name_(to_view(info.stage_name)), pipeline_dir_(to_view(info.pipeline_dir)),
        threads_(info.threads), ctx_(info.stage_ctx),
        dry_run_(info.struct_size >= offsetof(tamis_stage_info, run_flags) + sizeof(info.run_flags) &&
                 (info.run_flags & TAMIS_RUN_DRY) != 0) {
    if (dry_run_) detail::dry_run_slot() = true;
  }

  const std::string& name() const { return name_; }
  const std::string& pipeline_dir() const { return pipeline_dir_; }
  uint32_t threads() const { return threads_; }
  // `tamis run --dry-run`: do no work that costs outside the process (see TAMIS_RUN_DRY); count it.
  bool dry_run() const { return dry_run_; }

  void count(std::string_view counter, int64_t delta = 1) const {
    detail::host().callback_count(ctx_, to_str(counter), delta);
  }
  void log(tamis_log_level level, std::string_view message) const {
    detail::host().callback_log(ctx_, level, to_str(message));
  }
  void info(std::string_view message) const { log(TAMIS_LOG_INFO, message); }
  void warn(std::string_view message) const { log(TAMIS_LOG_WARN, message); }
  // Attach a JSON object to this stage's entry in the run report (finish() only).
  void report(std::string_view json_object) const {
    detail::host().callback_report(ctx_, to_str(json_object));
  }
  // The host's handle of this stage (tamis_stage_info::stage_ctx).
  void* context() const { return ctx_; }

 private:
  std::string name_;
  std::string pipeline_dir_;
  uint32_t threads_;
  void* ctx_;
  bool dry_run_;
};

// One record during a hook call: read its text, id, fields and annotations; give a verdict.
//
// Field access parses the record once, lazily, with this thread's simdjson parser. The elements and
// string views it returns stay valid until another record's fields are read on the same thread.
class Record {
 public:
  Record(tamis_batch* batch, size_t index) : batch_(batch), index_(index), view_(&batch->records[index]) {}

  std::string_view json() const { return replaced_ ? std::string_view(*replaced_) : to_view(view_->json); }
  std::string_view id() const { return to_view(view_->id); }
  std::string_view source() const { return to_view(view_->source); }
  std::string_view file() const { return to_view(view_->file); }
  uint64_t line() const { return view_->line; }
  size_t index() const { return index_; }

  // The parsed record (a JSON object).
  simdjson::dom::element root() const {
    if (!parsed_) {
      auto& parser = detail::thread_parser();
      const std::string_view text = json();
      // The host pads record text; replaced text lives in a std::string and is copied to be padded.
      auto err = (replaced_ ? parser.parse(text.data(), text.size(), true)
                            : parser.parse(text.data(), text.size(), false)).get(root_);
      if (err == simdjson::NUMBER_ERROR) {
        // Numbers beyond 64 bits (valid JSON): read them as strings of their digits.
        sanitized_ = std::make_shared<std::string>();
        if (json::quote_big_numbers(text, *sanitized_)) err = parser.parse(*sanitized_).get(root_);
      }
      if (err != simdjson::SUCCESS) throw Error(std::string("record is not valid JSON: ") + simdjson::error_message(err));
      parsed_ = true;
    }
    return root_;
  }
  // A field by path ("problem", "meta.level", or a JSON pointer "/meta/level"), if present.
  std::optional<simdjson::dom::element> field(std::string_view path) const {
    return detail::follow_path(root(), path);
  }
  // A field's JSON text as written ("42", "\"text\"", "[1, 2]"), if present; read from the record text
  // without a DOM parse for key paths. Valid while this Record object lives.
  std::optional<std::string_view> raw_field(std::string_view path) const {
    if (path.empty() || path.front() == '/') {
      auto e = field(path);
      if (!e) return std::nullopt;
      unescaped_.push_back(std::make_shared<const std::string>(simdjson::minify(*e)));
      return std::string_view(*unescaped_.back());
    }
    const auto v = detail::follow_path_text(json(), path);
    if (v && detail::big_number_text(*v)) {  // a string of its digits, as root() and field() see it
      unescaped_.push_back(std::make_shared<const std::string>(json::quote(*v)));
      return std::string_view(*unescaped_.back());
    }
    return v;
  }
  // A string field, if present and a string. The view stays valid while this Record object lives.
  std::optional<std::string_view> string_field(std::string_view path) const {
    if (path.empty() || path.front() == '/') {
      auto e = field(path);
      std::string_view s;
      if (!e || e->get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
      unescaped_.push_back(std::make_shared<const std::string>(s));  // the DOM's bytes go with the next parse
      return std::string_view(*unescaped_.back());
    }
    // Read from the text, without a DOM parse: the record is valid JSON (the host checked it), and
    // one string field is the most common read (2x faster than parsing a typical prompt record).
    const auto v = detail::follow_path_text(json(), path);
    if (v && detail::big_number_text(*v)) return *v;  // its digits, as root() and field() see it
    if (!v || v->size() < 2 || v->front() != '"') return std::nullopt;
    const std::string_view body = v->substr(1, v->size() - 2);
    if (body.find('\\') == std::string_view::npos) return body;
    unescaped_.push_back(std::make_shared<const std::string>(json::unescape(body)));
    return std::string_view(*unescaped_.back());
  }

  // An annotation set by an earlier stage, as JSON text.
  std::optional<std::string_view> annotation(std::string_view key) const {
    for (size_t i = view_->annotation_count; i-- > 0;) {
      if (to_view(view_->annotations[i].key) == key) return to_view(view_->annotations[i].value_json);
    }
    return std::nullopt;
  }
  // Every annotation set by earlier stages, as (key, JSON text): each key once, where it was first set,
  // with the value annotation() reads (the latest). Views valid during the hook call.
  std::vector<std::pair<std::string_view, std::string_view>> annotations() const {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    for (size_t i = 0; i < view_->annotation_count; ++i) {
      const std::string_view key = to_view(view_->annotations[i].key);
      const std::string_view value = to_view(view_->annotations[i].value_json);
      auto it = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == key; });
      if (it == out.end()) out.emplace_back(key, value);
      else it->second = value;
    }
    return out;
  }
  // An annotation that is a JSON string, unescaped.
  // Annotation values are compact JSON written by the host: read without a parser.
  std::optional<std::string> annotation_string(std::string_view key) const {
    auto raw = annotation(key);
    if (!raw || raw->size() < 2 || raw->front() != '"' || raw->back() != '"') return std::nullopt;
    return json::unescape(raw->substr(1, raw->size() - 2));
  }
  std::optional<double> annotation_number(std::string_view key) const {
    auto raw = annotation(key);
    if (!raw || raw->empty()) return std::nullopt;
    double d = 0;
    const auto [end, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), d);
    if (ec != std::errc() || end != raw->data() + raw->size()) return std::nullopt;
    return d;
  }

  void annotate_json(std::string_view key, std::string_view value_json) {
    detail::host().callback_annotate(batch_->host_ctx, index_, to_str(key), to_str(value_json));
  }
  void annotate(std::string_view key, std::string_view text) { annotate_json(key, json::quote(text)); }
  void annotate(std::string_view key, const char* text) { annotate(key, std::string_view(text)); }
  void annotate(std::string_view key, const std::string& text) { annotate(key, std::string_view(text)); }
  void annotate(std::string_view key, bool v) { annotate_json(key, json::boolean(v)); }
  void annotate(std::string_view key, double v) { annotate_json(key, json::number(v)); }
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  void annotate(std::string_view key, T v) {
    annotate_json(key, std::to_string(v));
  }

  // Reject the record: `reason` is a short code (e.g. "too_short"), `detail` a sentence for people.
  void reject(std::string_view reason, std::string_view detail = {}) {
    rejected_ = true;
    detail::host().callback_reject(batch_->host_ctx, index_, to_str(reason), to_str(detail));
  }
  // Reject the record because `field` (as the op's parameter names it) is missing or unusable (null,
  // not a string ...). Use this rather than reject() for such records: when nearly every record of a
  // stage is rejected for a missing field, tamis warns, naming the field and the fields the records
  // have (a misspelt or misnamed field parameter would otherwise reject a whole data set silently).
  void reject_missing_field(std::string_view field, std::string_view reason = "missing_field",
                            std::string_view detail = {}) {
    rejected_ = true;
    detail::host().callback_reject_field(batch_->host_ctx, index_, to_str(field), to_str(reason), to_str(detail));
  }
  bool rejected() const { return rejected_; }

  // Replace the record's text (one JSON object). Later field reads see the new text.
  void replace(std::string json_object) {
    detail::host().callback_replace(batch_->host_ctx, index_, to_str(json_object));
    replaced_ = std::make_shared<std::string>(std::move(json_object));
    parsed_ = false;
  }
  // Expanding ops: emit a new record after this one.
  void emit(std::string_view json_object, std::string_view id) {
    detail::host().callback_emit(batch_->host_ctx, index_, to_str(json_object), to_str(id));
  }

  void count(std::string_view counter, int64_t delta = 1) const {
    detail::host().callback_count(batch_->host_ctx, to_str(counter), delta);
  }
  void log(tamis_log_level level, std::string_view message) const {
    detail::host().callback_log(batch_->host_ctx, level, to_str(message));
  }

 private:
  tamis_batch* batch_;
  size_t index_;
  const tamis_record* view_;
  std::shared_ptr<std::string> replaced_;
  mutable std::shared_ptr<std::string> sanitized_;
  mutable std::vector<std::shared_ptr<const std::string>> unescaped_;  // string_field values that needed a copy
  mutable simdjson::dom::element root_;
  mutable bool parsed_ = false;
  bool rejected_ = false;
};

// How many records ahead of ordered()/observe() an op's prefetch() is called (see the header comment):
// far enough for a DRAM miss to resolve while the records in between are handled.
inline constexpr size_t kPrefetchDistance = 8;

namespace detail {

template <class Op>
concept HasCheck = requires(const Params& p) { Op::check(p); };
template <class Op>
concept HasFinish = requires(Op& op, Stage& s) { op.finish(s); };
template <class Op>
concept HasObserve = requires(const Op& cop, Op& op, const Record& cr, Record& r) {
  op.observe(cr, std::declval<std::add_lvalue_reference_t<decltype(cop.prepare(r))>>());
};
template <class Op>
concept HasFirstPassSwitch = requires(const Op& op) { { op.first_pass() } -> std::convertible_to<bool>; };
template <class Op>
concept HasPrefetch = requires(const Op& cop, Record& r) {
  cop.prefetch(std::declval<std::add_lvalue_reference_t<const decltype(cop.prepare(r))>>());
};
template <class Op>
concept HasFormerNames = requires { { *std::begin(Op::former_names) } -> std::convertible_to<const char*>; };
template <class Op>
concept HasConstProcess = requires(const Op& op, Record& r) { op.process(r); };
template <class Op>
concept HasOrderedParts = requires(const Op& cop, Op& op, Record& r) {
  { cop.prepare(r) };
  op.ordered(r, std::declval<std::add_lvalue_reference_t<decltype(cop.prepare(r))>>());
};

inline void set_error(tamis_error* err, std::string_view message, int64_t index) {
  const size_t n = std::min(message.size(), sizeof(err->message) - 1);
  std::memcpy(err->message, message.data(), n);
  err->message[n] = '\0';
  err->record_index = index;
}

// Runs `body`, turning any exception into a tamis_error.
template <class F>
tamis_status guarded(tamis_error* err, const int64_t* index, F&& body) {
  try {
    body();
    return TAMIS_OK;
  } catch (const std::exception& e) {
    set_error(err, e.what(), index ? *index : -1);
  } catch (...) {
    set_error(err, "unknown exception", index ? *index : -1);
  }
  return TAMIS_FAILED;
}

template <class Op>
struct OpAdapter {
  struct State {
    Stage stage;
    std::unique_ptr<Op> op;
  };

  static_assert(Op::kind != OpKind::ordered || HasOrderedParts<Op>,
                "an ordered op needs `Prepared prepare(tamis::Record&) const` and "
                "`void ordered(tamis::Record&, Prepared&)`");
  static_assert(!HasObserve<Op> || Op::kind == OpKind::ordered, "observe() (a first pass) is for ordered ops");
  static_assert(Op::kind == OpKind::ordered || HasConstProcess<Op>,
                "a record or expanding op needs `void process(tamis::Record&) const` (const: it runs "
                "on several batches at once)");

  static tamis_status check(tamis_str params_json, tamis_error* err) {
    return guarded(err, nullptr, [&] {
      if constexpr (HasCheck<Op>) {
        Params p(to_view(params_json));
        Op::check(p);
      }
    });
  }

  static tamis_status create(const tamis_host_api*, const tamis_stage_info* info, void** state,
                             tamis_error* err) {
    return guarded(err, nullptr, [&] {
      auto s = std::make_unique<State>(State{Stage(*info), nullptr});
      Params p(to_view(info->params_json));
      if constexpr (std::is_constructible_v<Op, const Params&, Stage&>) {
        s->op = std::make_unique<Op>(p, s->stage);
      } else {
        static_assert(std::is_constructible_v<Op, const Params&>,
                      "an op's constructor takes (const tamis::Params&) or (const tamis::Params&, tamis::Stage&)");
        s->op = std::make_unique<Op>(p);
      }
      *state = s.release();
    });
  }

  static void destroy(void* state) { delete static_cast<State*>(state); }

  struct Scratch {
    using Prepared = std::remove_cvref_t<decltype(std::declval<const Op&>().prepare(std::declval<Record&>()))>;
    std::vector<std::optional<Prepared>> prepared;  // nullopt: rejected in the parallel part
  };

  // prefetch(): the first kPrefetchDistance records of a batch, then one record ahead per step.
  static void prefetch_first(const Op& op, const Scratch& scratch) {
    if constexpr (HasPrefetch<Op>) {
      const size_t n = std::min(kPrefetchDistance, scratch.prepared.size());
      for (size_t j = 0; j < n; ++j)
        if (scratch.prepared[j]) op.prefetch(*scratch.prepared[j]);
    } else {
      (void)op, (void)scratch;
    }
  }
  static void prefetch_ahead(const Op& op, const Scratch& scratch, size_t i) {
    if constexpr (HasPrefetch<Op>) {
      if (i + kPrefetchDistance < scratch.prepared.size() && scratch.prepared[i + kPrefetchDistance])
        op.prefetch(*scratch.prepared[i + kPrefetchDistance]);
    } else {
      (void)op, (void)scratch, (void)i;
    }
  }

  static tamis_status process(void* state, tamis_batch* batch, tamis_error* err) {
    auto* s = static_cast<State*>(state);
    int64_t i = 0;
    return guarded(err, &i, [&] {
      const Op& op = *s->op;
      if constexpr (Op::kind == OpKind::ordered) {
        auto scratch = std::make_unique<Scratch>();
        scratch->prepared.reserve(batch->count);
        for (; i < static_cast<int64_t>(batch->count); ++i) {
          Record r(batch, static_cast<size_t>(i));
          auto p = op.prepare(r);
          if (r.rejected()) scratch->prepared.emplace_back(std::nullopt);
          else scratch->prepared.emplace_back(std::move(p));
        }
        batch->op_scratch = scratch.release();
      } else {
        for (; i < static_cast<int64_t>(batch->count); ++i) {
          Record r(batch, static_cast<size_t>(i));
          op.process(r);
        }
      }
    });
  }

  static tamis_status process_ordered(void* state, tamis_batch* batch, tamis_error* err) {
    auto* s = static_cast<State*>(state);
    int64_t i = 0;
    return guarded(err, &i, [&] {
      if constexpr (Op::kind == OpKind::ordered) {
        auto* scratch = static_cast<Scratch*>(batch->op_scratch);
        prefetch_first(*s->op, *scratch);
        for (; i < static_cast<int64_t>(batch->count); ++i) {
          prefetch_ahead(*s->op, *scratch, static_cast<size_t>(i));
          auto& p = scratch->prepared[static_cast<size_t>(i)];
          if (!p) continue;
          Record r(batch, static_cast<size_t>(i));
          s->op->ordered(r, *p);
        }
      }
    });
  }

  static int32_t first_pass(void* state) {
    if constexpr (HasFirstPassSwitch<Op>) return static_cast<const Op&>(*static_cast<State*>(state)->op).first_pass() ? 1 : 0;
    return 1;
  }

  static tamis_status observe_ordered(void* state, tamis_batch* batch, tamis_error* err) {
    auto* s = static_cast<State*>(state);
    int64_t i = 0;
    return guarded(err, &i, [&] {
      if constexpr (HasObserve<Op>) {
        auto* scratch = static_cast<Scratch*>(batch->op_scratch);
        prefetch_first(*s->op, *scratch);
        for (; i < static_cast<int64_t>(batch->count); ++i) {
          prefetch_ahead(*s->op, *scratch, static_cast<size_t>(i));
          auto& p = scratch->prepared[static_cast<size_t>(i)];
          if (!p) continue;
          const Record r(batch, static_cast<size_t>(i));
          s->op->observe(r, *p);
        }
      }
    });
  }

  static void release_scratch(void*, void* scratch) {
    if constexpr (Op::kind == OpKind::ordered) delete static_cast<Scratch*>(scratch);
  }

  static tamis_status finish(void* state, tamis_error* err) {
    auto* s = static_cast<State*>(state);
    struct Finishing {  // finishing_stage() is set for the length of the call, whatever happens
      explicit Finishing(void* ctx) { finishing_stage() = ctx; }
      ~Finishing() { finishing_stage() = nullptr; }
    } finishing(s->stage.context());
    return guarded(err, nullptr, [&] {
      if constexpr (HasFinish<Op>) s->op->finish(s->stage);
    });
  }

  static const std::vector<tamis_param_desc>& param_descs() {
    static const std::vector<tamis_param_desc> descs = [] {
      std::vector<tamis_param_desc> out;
      for (const Param& p : Op::params) {
        out.push_back(tamis_param_desc{p.name, static_cast<tamis_param_type>(p.type), p.default_json,
                                       p.required ? 1 : 0, p.help, p.choices,
                                       static_cast<tamis_param_role>(p.files), p.paths_at});
      }
      return out;
    }();
    return descs;
  }

  // Op::former_names as a NULL-terminated list, or null when the op has none.
  static const char* const* former_names() {
    if constexpr (HasFormerNames<Op>) {
      static const std::vector<const char*> names = [] {
        std::vector<const char*> out;
        for (const char* n : Op::former_names) out.push_back(n);
        out.push_back(nullptr);
        return out;
      }();
      return names.data();
    } else {
      return nullptr;
    }
  }

  static tamis_op_desc describe() {
    const auto& params = param_descs();
    tamis_op_desc d{};
    d.struct_size = sizeof(tamis_op_desc);
    d.name = Op::name;
    d.summary = Op::summary;
    d.kind = static_cast<tamis_op_kind>(Op::kind);
    d.params = params.data();
    d.param_count = params.size();
    d.check = &check;
    d.create = &create;
    d.destroy = &destroy;
    d.process = &process;
    d.process_ordered = Op::kind == OpKind::ordered ? &process_ordered : nullptr;
    d.release_scratch = Op::kind == OpKind::ordered ? &release_scratch : nullptr;
    d.finish = &finish;
    if constexpr (Op::kind == OpKind::ordered && HasObserve<Op>) {
      d.first_pass = &first_pass;
      d.observe_ordered = &observe_ordered;
    }
    d.former_names = former_names();
    return d;
  }
};

template <class... Ops>
const tamis_plugin_desc* make_plugin(const char* name, const char* version, const tamis_host_api* host,
                                     const tamis_command_desc* commands = nullptr, size_t command_count = 0) {
  host_slot() = host;
  static const std::vector<tamis_op_desc> ops = {OpAdapter<Ops>::describe()...};
  static const tamis_plugin_desc desc{sizeof(tamis_plugin_desc), TAMIS_ABI_VERSION, name, version,
                                      ops.data(), ops.size(), commands, command_count};
  return &desc;
}

}  // namespace detail
}  // namespace tamis

// Declares the plugin: its name, its version and the op classes it offers.
#define TAMIS_PLUGIN(NAME, VERSION, ...)                                                             \
  extern "C" TAMIS_EXPORT uint32_t tamis_plugin_abi_version(void) { return TAMIS_ABI_VERSION; }     \
  extern "C" TAMIS_EXPORT const tamis_plugin_desc* tamis_plugin_entry(const tamis_host_api* host) { \
    return ::tamis::detail::make_plugin<__VA_ARGS__>(NAME, VERSION, host);                          \
  }

// The same, for a plugin that also offers commands (`tamis NAME COMMAND ARGS...`): COMMANDS is an array
// of tamis_command_desc (a C array or std::array) defined before this line.
#define TAMIS_PLUGIN_WITH_COMMANDS(NAME, VERSION, COMMANDS, ...)                                      \
  extern "C" TAMIS_EXPORT uint32_t tamis_plugin_abi_version(void) { return TAMIS_ABI_VERSION; }     \
  extern "C" TAMIS_EXPORT const tamis_plugin_desc* tamis_plugin_entry(const tamis_host_api* host) { \
    return ::tamis::detail::make_plugin<__VA_ARGS__>(NAME, VERSION, host, std::data(COMMANDS),      \
                                                     std::size(COMMANDS));                          \
  }

#endif  // TAMIS_SDK_HPP
