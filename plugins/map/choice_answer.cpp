#include <cctype>

#include "ops.hpp"

namespace tamis::map {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// A marker of option `letter` starting at `i` ("(A)", "A)", "A. ", "A: "), at the start of the text or
// after whitespace: the offset just past it, or npos.
size_t marker_at(std::string_view t, size_t i, char letter) {
  if (i > 0 && !is_space(t[i - 1])) return std::string_view::npos;
  if (t[i] == '(') return i + 2 < t.size() && t[i + 1] == letter && t[i + 2] == ')' ? i + 3 : std::string_view::npos;
  if (t[i] != letter || i + 1 >= t.size()) return std::string_view::npos;
  const char c = t[i + 1];
  if (c == ')') return i + 2;
  if ((c == '.' || c == ':') && (i + 2 == t.size() || is_space(t[i + 2]))) return i + 2;
  return std::string_view::npos;
}

// The first marker of `letter` at or after `from`: (start, end), or start == npos.
std::pair<size_t, size_t> next_marker(std::string_view t, size_t from, char letter) {
  for (size_t i = from; i < t.size(); ++i) {
    if (t[i] != letter && t[i] != '(') continue;
    const size_t end = marker_at(t, i, letter);
    if (end != std::string_view::npos) return {i, end};
  }
  return {std::string_view::npos, std::string_view::npos};
}

// An option's text: up to the end of its line, trimmed.
std::string option_text(std::string_view s) {
  const size_t nl = s.find('\n');
  return std::string(trim(s.substr(0, nl)));
}

// A list item's own letter prefix ("A)21", "(B) 4", "C. x", "D: y") when it is `letter`, removed.
std::string strip_letter(std::string_view s, char letter) {
  const std::string_view t = trim(s);
  const size_t end = t.empty() ? std::string_view::npos : marker_at(t, 0, letter);
  if (end == std::string_view::npos) return std::string(s);
  return std::string(trim(t.substr(end)));
}

std::optional<std::string> scalar(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::STRING: {
      std::string_view s;
      if (e.get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
      return std::string(s);
    }
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
    case element_type::BOOL: return simdjson::minify(e);
    default: return std::nullopt;
  }
}

using Options = std::vector<std::pair<std::string, std::string>>;  // (label, text)

std::string letter(size_t i) { return i < 26 ? std::string(1, static_cast<char>('A' + i)) : std::to_string(i); }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string labels_of(const Options& o) {
  std::string out;
  for (size_t i = 0; i < o.size() && i < 8; ++i) out += (i ? ", " : "") + o[i].first;
  if (o.size() > 8) out += ", ...";
  return out;
}

}  // namespace

std::vector<std::string> ChoiceAnswer::options_in_text(std::string_view text) {
  // The list starts at the last "A" marker that a "B" marker follows (an "A." earlier in the question
  // is a word, not an option); each later letter is the first marker after the previous one.
  size_t start = std::string_view::npos, a_end = 0;
  for (size_t from = 0;;) {
    const auto [s, e] = next_marker(text, from, 'A');
    if (s == std::string_view::npos) break;
    if (next_marker(text, e, 'B').first != std::string_view::npos) start = s, a_end = e;
    from = s + 1;
  }
  std::vector<std::string> out;
  if (start == std::string_view::npos) return out;
  size_t text_start = a_end;
  for (char l = 'B'; l <= 'Z'; ++l) {
    const auto [s, e] = next_marker(text, text_start, l);
    if (s == std::string_view::npos) break;
    out.push_back(option_text(text.substr(text_start, s - text_start)));
    text_start = e;
  }
  out.push_back(option_text(text.substr(text_start)));
  return out;
}

const ParamTable ChoiceAnswer::params = {
    {.name = "options", .type = ParamType::string, .default_json = "\"options\"",
     .help = "the field holding the options: a list (the first is A), an object {A: ..., B: ...}, or {label: [...], text: [...]}; "
             "when the record has no such field, the options are read from `text`"},
    {.name = "text", .type = ParamType::string, .default_json = "\"problem\"",
     .help = "the field whose text lists the options as \"A) ...\", \"(A) ...\", \"A. ...\" or \"A: ...\" (one per line or inline), "
             "used when the options field is absent; \"\": never"},
    {.name = "label", .type = ParamType::string, .default_json = "\"answer\"",
     .help = "the field holding the correct option: a letter (\"B\", \"(b)\", \"B)\") or an option's own label, or an index (an integer or digits)"},
    {.name = "index_base", .type = ParamType::integer, .default_json = "0", .help = "the index of the first option when the label is a number (0 or 1)"},
    {.name = "to", .type = ParamType::string, .default_json = "\"answer\"", .help = "the field to write the option's text to (may be the label's field)"},
    {.name = "strip_letters", .type = ParamType::boolean, .default_json = "true",
     .help = "remove an option's own letter prefix from list items (\"A)21\" → \"21\", as AQuA writes them)"},
    {.name = "overwrite", .type = ParamType::boolean, .default_json = "true",
     .help = "replace the `to` field when present (false: such records are left as they are, unless `to` is the label's field)"},
};

ChoiceAnswer::ChoiceAnswer(const Params& p)
    : options_(p.get_string("options")), text_(p.get_string("text")), label_(p.get_string("label")),
      to_(p.get_string("to")), keys_(split_path(to_, "to")), index_base_(p.get_int("index_base")),
      strip_letters_(p.get_bool("strip_letters")), overwrite_(p.get_bool("overwrite")) {}

void ChoiceAnswer::check(const Params& p) {
  (void)split_path(p.get_string("to"), "to");
  const int64_t base = p.get_int("index_base");
  if (base != 0 && base != 1) throw Error("index_base must be 0 or 1");
  if (p.get_string("options").empty() || p.get_string("label").empty()) throw Error("options and label name fields: give both");
}

void ChoiceAnswer::process(Record& r) const {
  if (!overwrite_ && to_ != label_ && r.raw_field(to_)) return;
  Options opts;
  const auto e = r.field(options_);
  if (e && !e->is_null()) {
    using simdjson::dom::element_type;
    if (e->type() == element_type::ARRAY) {
      size_t i = 0;
      simdjson::dom::array items;
      if (e->get_array().get(items) != simdjson::SUCCESS) return;
      for (auto item : items) {
        auto s = scalar(item);
        if (!s) return r.reject("bad_options", "option " + std::to_string(i) + " of '" + options_ + "' is not text");
        opts.emplace_back(letter(i), strip_letters_ && i < 26 ? strip_letter(*s, static_cast<char>('A' + i)) : *s);
        ++i;
      }
    } else if (e->type() == element_type::OBJECT) {
      simdjson::dom::array labels, texts;
      if (e->at_key("label").get_array().get(labels) == simdjson::SUCCESS &&
          e->at_key("text").get_array().get(texts) == simdjson::SUCCESS) {
        if (labels.size() != texts.size())
          return r.reject("bad_options", "'" + options_ + "' has " + std::to_string(labels.size()) + " labels and " + std::to_string(texts.size()) + " texts");
        auto t = texts.begin();
        for (auto l : labels) {
          auto ls = scalar(l), ts = scalar(*t);
          if (!ls || !ts) return r.reject("bad_options", "'" + options_ + "' has a label or text that is not text");
          opts.emplace_back(*ls, *ts);
          ++t;
        }
      } else {
        simdjson::dom::object fields;
        if (e->get_object().get(fields) != simdjson::SUCCESS) return;
        for (auto field : fields) {
          auto s = scalar(field.value);
          if (!s) return r.reject("bad_options", "option '" + std::string(field.key) + "' of '" + options_ + "' is not text");
          opts.emplace_back(std::string(field.key), *s);
        }
      }
    } else {
      return r.reject("bad_options", "'" + options_ + "' is neither a list nor an object");
    }
  } else if (!text_.empty()) {
    std::string why;
    const auto text = field_text(r, text_, &why);
    if (text) {
      const auto found = options_in_text(*text);
      for (size_t i = 0; i < found.size(); ++i) opts.emplace_back(letter(i), found[i]);
    }
    if (opts.empty())
      return r.reject_missing_field(options_, "missing_field",
                                    "no options field '" + options_ + "', and " + (text ? "no A) B) options in '" + text_ + "'" : why));
  } else {
    return r.reject_missing_field(options_, "missing_field", "no options field '" + options_ + "'");
  }
  if (opts.empty()) return r.reject("bad_options", "'" + options_ + "' is empty");

  const auto raw = r.raw_field(label_);
  if (!raw || raw->empty() || *raw == "null") return r.reject_missing_field(label_, "missing_field", "field '" + label_ + "' is missing or null");
  const std::string shown = raw->front() == '"' ? json::unescape(raw->substr(1, raw->size() - 2)) : std::string(*raw);
  std::string_view key = trim(shown);
  // "(B)", "B)", "B.", "B:" name the option B.
  if (key.size() >= 2 && (key.back() == ')' || key.back() == '.' || key.back() == ':')) key.remove_suffix(1);
  if (!key.empty() && key.front() == '(' && shown.find(')') != std::string::npos) key.remove_prefix(1);
  key = trim(key);
  const std::string* chosen = nullptr;
  std::string why;
  for (const auto& [l, t] : opts)
    if (upper(l) == upper(key)) chosen = &t;
  if (!chosen && !key.empty() && key.find_first_not_of("0123456789") == std::string_view::npos && key.size() < 10) {
    const int64_t i = std::stoll(std::string(key)) - index_base_;
    if (i >= 0 && i < static_cast<int64_t>(opts.size())) chosen = &opts[static_cast<size_t>(i)].second;
    else why = "index " + std::string(key) + " is out of range: " + std::to_string(opts.size()) + " options, indices " +
               std::to_string(index_base_) + " to " + std::to_string(index_base_ + static_cast<int64_t>(opts.size()) - 1);
  }
  if (!chosen) {
    if (why.empty()) why = "'" + shown + "' names none of the " + std::to_string(opts.size()) + " options (" + labels_of(opts) + ")";
    return r.reject("label_unresolved", "label " + why);
  }
  std::string out, conflict;
  switch (set_member(r.json(), keys_, json::quote(*chosen), true, out, conflict)) {
    case SetResult::changed: r.replace(std::move(out)); break;
    case SetResult::unchanged: break;
    case SetResult::conflict:
      r.reject("path_conflict", "cannot set '" + to_ + "': '" + conflict + "' is not an object");
  }
}

}  // namespace tamis::map
