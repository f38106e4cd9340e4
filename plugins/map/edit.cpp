#include "edit.hpp"

namespace tamis::map {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Whether a member key as written (escapes kept) is `key`.
bool key_is(std::string_view raw, std::string_view key) {
  return raw.find('\\') == std::string_view::npos ? raw == key : json::unescape(raw) == key;
}

// The first byte of a member's value.
size_t value_start(std::string_view obj, const json::Member& m) {
  size_t i = m.key_end;
  while (i < obj.size() && (is_ws(obj[i]) || obj[i] == ':')) ++i;
  return i;
}

// `{"k1":{"k2":...value}}` for keys[from..]: the members a set creates where none exist.
std::string nested_member(const std::vector<std::string>& keys, size_t from, std::string_view value_json) {
  std::string out;
  for (size_t k = from; k < keys.size(); ++k) {
    if (k > from) out += '{';
    json::append_quoted(out, keys[k]);
    out += ':';
  }
  out.append(value_json);
  out.append(keys.size() - from - 1, '}');
  return out;
}

SetResult set_at(std::string_view obj, const std::vector<std::string>& keys, size_t depth, std::string_view value_json,
                 bool overwrite, std::string& out, std::string& conflict_key) {
  const std::vector<json::Member> ms = json::members(obj);
  const bool last = depth + 1 == keys.size();
  std::string result;
  size_t copied = 0;  // bytes of obj already in result
  bool found = false;
  bool changed = false;
  for (const auto& m : ms) {
    if (!key_is(m.key, keys[depth])) continue;
    found = true;
    const size_t vs = value_start(obj, m);
    const std::string_view value = obj.substr(vs, m.value_end - vs);
    std::string replacement;
    if (last) {
      if (!overwrite) return SetResult::unchanged;
      if (value == value_json) continue;
      replacement.assign(value_json);
    } else {
      if (value.empty() || value.front() != '{') {
        conflict_key.clear();
        for (size_t k = 0; k <= depth; ++k) conflict_key += (k ? "." : "") + keys[k];
        return SetResult::conflict;
      }
      const SetResult inner = set_at(value, keys, depth + 1, value_json, overwrite, replacement, conflict_key);
      if (inner == SetResult::conflict) return inner;
      if (inner == SetResult::unchanged) continue;
    }
    result.append(obj.substr(copied, vs - copied));
    result.append(replacement);
    copied = m.value_end;
    changed = true;
  }
  if (found) {
    if (!changed) return SetResult::unchanged;
    result.append(obj.substr(copied));
    out = std::move(result);
    return SetResult::changed;
  }
  // Append after the last member (or just after the opening brace of an empty object).
  const size_t at = ms.empty() ? obj.find('{') + 1 : ms.back().value_end;
  out.assign(obj.substr(0, at));
  if (!ms.empty()) out += ',';
  out += nested_member(keys, depth, value_json);
  out.append(obj.substr(at));
  return SetResult::changed;
}

}  // namespace

std::optional<std::string> field_text(const Record& r, std::string_view path, std::string* why) {
  const auto raw = r.raw_field(path);
  auto fail = [&](std::string_view what) -> std::optional<std::string> {
    if (why) *why = "field '" + std::string(path) + "' " + std::string(what);
    return std::nullopt;
  };
  if (!raw || raw->empty() || *raw == "null") return fail("is missing or null");
  switch (raw->front()) {
    case '"': return json::unescape(raw->substr(1, raw->size() - 2));
    case '[': return fail("is an array, not text");
    case '{': return fail("is an object, not text");
    default: return std::string(*raw);  // a number as written, true or false
  }
}

// ---- TextTemplate ----

TextTemplate TextTemplate::parse(std::string_view text, std::string_view what) {
  TextTemplate t;
  t.parts_ = parse_text_template(text, what);
  return t;
}

std::optional<std::string> TextTemplate::render(const Record& r, Missing& missing) const {
  std::string out;
  for (const auto& part : parts_) {
    if (!part.field) {
      out += part.text;
      continue;
    }
    std::string why;
    auto v = field_text(r, part.text, &why);
    if (!v) {
      missing = {part.text, why};
      return std::nullopt;
    }
    out += *v;
  }
  return out;
}

std::optional<std::string_view> TextTemplate::single_field() const {
  if (parts_.size() == 1 && parts_.front().field) return parts_.front().text;
  return std::nullopt;
}

// ---- JsonTemplate ----

JsonTemplate JsonTemplate::compile(simdjson::dom::element value, std::string_view what) {
  JsonTemplate t;
  t.string_ = value.is_string();
  std::string_view s;
  if (t.string_ && value.get_string().get(s) == simdjson::SUCCESS) t.top_ = TextTemplate::parse(s, what);
  t.add(value, what);
  return t;
}

void JsonTemplate::literal(std::string_view json_text) {
  if (pieces_.empty() || pieces_.back().kind != Piece::Kind::literal) pieces_.push_back(Piece{});
  pieces_.back().literal.append(json_text);
}

void JsonTemplate::add(simdjson::dom::element value, std::string_view what) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::STRING: {
      std::string_view s;
      if (value.get_string().get(s) != simdjson::SUCCESS) return;
      TextTemplate text = TextTemplate::parse(s, what);
      if (const auto f = text.single_field()) {
        Piece p;
        p.kind = Piece::Kind::value;
        p.field = std::string(*f);
        pieces_.push_back(std::move(p));
      } else {
        Piece p;
        p.kind = Piece::Kind::text;
        p.text = std::move(text);
        pieces_.push_back(std::move(p));
      }
      return;
    }
    case element_type::ARRAY: {
      literal("[");
      bool first = true;
      simdjson::dom::array items;
      if (value.get_array().get(items) != simdjson::SUCCESS) return;
      for (auto item : items) {
        if (!first) literal(",");
        first = false;
        add(item, what);
      }
      literal("]");
      return;
    }
    case element_type::OBJECT: {
      literal("{");
      bool first = true;
      simdjson::dom::object fields;
      if (value.get_object().get(fields) != simdjson::SUCCESS) return;
      for (auto field : fields) {
        if (!first) literal(",");
        first = false;
        literal(json::quote(field.key));
        literal(":");
        add(field.value, what);
      }
      literal("}");
      return;
    }
    default: literal(simdjson::minify(value));
  }
}

std::optional<std::string> JsonTemplate::render(const Record& r, Missing& missing) const {
  std::string out;
  for (const auto& p : pieces_) {
    switch (p.kind) {
      case Piece::Kind::literal: out += p.literal; break;
      case Piece::Kind::text: {
        auto s = p.text.render(r, missing);
        if (!s) return std::nullopt;
        json::append_quoted(out, *s);
        break;
      }
      case Piece::Kind::value: {
        const auto raw = r.raw_field(p.field);
        if (!raw || raw->empty() || *raw == "null") {
          missing = {p.field, "field '" + p.field + "' is missing or null"};
          return std::nullopt;
        }
        out += *raw;
        break;
      }
    }
  }
  return out;
}

// ---- paths and members ----

std::vector<std::string> split_path(std::string_view path, std::string_view what) {
  const std::string w(what);
  if (path.empty()) throw Error(w + ": empty field path");
  if (path.front() == '/') throw Error(w + ": '" + std::string(path) + "': write a dotted path (a.b), not a JSON pointer");
  std::vector<std::string> keys;
  while (true) {
    const size_t dot = path.find('.');
    const std::string_view key = path.substr(0, dot);
    if (key.empty()) throw Error(w + ": '" + std::string(path) + "' has an empty key");
    keys.emplace_back(key);
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return keys;
}

SetResult set_member(std::string_view obj, const std::vector<std::string>& keys, std::string_view value_json,
                     bool overwrite, std::string& out, std::string& conflict_key) {
  return set_at(obj, keys, 0, value_json, overwrite, out, conflict_key);
}

std::optional<std::string_view> member(std::string_view obj, std::string_view key) { return json::member_value(obj, key); }

}  // namespace tamis::map
