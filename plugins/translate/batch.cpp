#include "batch.hpp"

#include <tamis/json.hpp>
#include <tamis/sdk.hpp>

#include <algorithm>
#include <array>

namespace tamis::translate {

namespace {

bool ident_char(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

bool known_placeholder(std::string_view name) {
  return std::find(std::begin(kPlaceholders), std::end(kPlaceholders), name) != std::end(kPlaceholders);
}

// Calls out(literal) and var(name) along the content; throws for an unknown {name}.
template <class Lit, class Var>
void walk(std::string_view s, Lit&& lit, Var&& var) {
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if ((c == '{' || c == '}') && i + 1 < s.size() && s[i + 1] == c) {
      lit(s.substr(run, i + 1 - run));  // keep one brace
      run = i + 2;
      ++i;
      continue;
    }
    if (c != '{') continue;
    size_t j = i + 1;
    while (j < s.size() && ident_char(s[j])) ++j;
    if (j == i + 1 || j >= s.size() || s[j] != '}') continue;  // not a placeholder: a literal brace
    const std::string_view name = s.substr(i + 1, j - i - 1);
    if (!known_placeholder(name))
      throw Error("unknown placeholder {" + std::string(name) +
                  "}; known: {text} {id} {source} {target} {source_name} {target_name} (write {{ and }} for literal braces)");
    lit(s.substr(run, i - run));
    var(name);
    run = j + 1;
    i = j;
  }
  lit(s.substr(run));
}

std::string_view string_at(simdjson::dom::element e, std::string_view key) {
  std::string_view s;
  if (e[key].get_string().get(s) != simdjson::SUCCESS) return {};
  return s;
}

// A JSON string literal following `"key"` somewhere in text that is not valid JSON.
std::string recover_string(std::string_view line, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\"";
  size_t i = line.find(needle);
  if (i == std::string_view::npos) return {};
  i += needle.size();
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i >= line.size() || line[i] != ':') return {};
  ++i;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i >= line.size() || line[i] != '"') return {};
  const size_t start = i + 1;
  for (size_t j = start; j < line.size(); ++j) {
    if (line[j] == '\\') { ++j; continue; }
    if (line[j] == '"') return json::unescape(line.substr(start, j - start));
  }
  return {};
}

// An id as text: a string as is, an integer as its digits.
std::string id_of(simdjson::dom::element e) {
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  int64_t i;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return std::to_string(i);
  uint64_t u;
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return std::to_string(u);
  return {};
}

Translation batch_line(simdjson::dom::element doc, std::string id) {
  Translation t;
  t.id = std::move(id);
  t.status = Translation::Status::error;
  simdjson::dom::element err;
  if (doc["error"].get(err) == simdjson::SUCCESS && !err.is_null()) {
    const std::string_view code = string_at(err, "code"), msg = string_at(err, "message");
    t.message = "the API returned an error" + (code.empty() ? std::string() : " (" + std::string(code) + ")") +
                (msg.empty() ? std::string() : ": " + std::string(msg));
    return t;
  }
  simdjson::dom::element resp;
  if (doc["response"].get(resp) != simdjson::SUCCESS || resp.is_null()) {
    t.status = Translation::Status::malformed;
    t.message = "Batch API line with neither response nor error";
    return t;
  }
  int64_t status = 0;
  if (resp["status_code"].get_int64().get(status) == simdjson::SUCCESS && status != 200) {
    simdjson::dom::element body_err;
    std::string detail;
    if (resp.at_pointer("/body/error/message").get(body_err) == simdjson::SUCCESS) {
      std::string_view m;
      if (body_err.get_string().get(m) == simdjson::SUCCESS) detail = ": " + std::string(m);
    }
    t.message = "HTTP status " + std::to_string(status) + detail;
    return t;
  }
  simdjson::dom::element choice;
  if (resp.at_pointer("/body/choices/0").get(choice) != simdjson::SUCCESS) {
    t.status = Translation::Status::malformed;
    t.message = "no response.body.choices[0]";
    return t;
  }
  simdjson::dom::element refusal;
  std::string_view refused;
  if (choice.at_pointer("/message/refusal").get(refusal) == simdjson::SUCCESS &&
      refusal.get_string().get(refused) == simdjson::SUCCESS && !refused.empty()) {
    // At most 200 bytes, cut at a UTF-8 boundary: the message becomes a rejection detail (JSON text).
    size_t cut = std::min<size_t>(refused.size(), 200);
    while (cut < refused.size() && (static_cast<unsigned char>(refused[cut]) & 0xC0) == 0x80) --cut;
    t.message = "the model refused: " + std::string(refused.substr(0, cut));
    return t;
  }
  if (string_at(choice, "finish_reason") == "length") {
    t.message = "the translation was cut at the token limit (finish_reason \"length\")";
    return t;
  }
  std::string_view content;
  if (choice.at_pointer("/message/content").get_string().get(content) != simdjson::SUCCESS) {
    t.status = Translation::Status::malformed;
    t.message = "response.body.choices[0].message.content is not a string";
    return t;
  }
  t.status = Translation::Status::ok;
  t.text = std::string(content);
  return t;
}

}  // namespace

const Template& default_template() {
  static const Template t = {
      {"system",
       "You translate mathematics problems from {source_name} into {target_name}. Translate the user's text "
       "faithfully and completely: add nothing, leave nothing out, do not solve the problem and do not answer it. "
       "Keep unchanged, character for character: every LaTeX expression ($...$, $$...$$, \\(...\\), \\[...\\], "
       "\\begin{...}...\\end{...}) except for the words inside \\text{...}; every number, written with the same digits "
       "and the same decimal point; variable names, units, code, URLs and proper names. Keep the line breaks and the "
       "Markdown formatting. Reply with the translation only: no preamble, no notes, no quotation marks."},
      {"user", "{text}"},
  };
  return t;
}

Template parse_template(std::string_view text, const std::string& where) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const simdjson::padded_string padded(text);
  if (auto err = parser.parse(padded).get(doc); err != simdjson::SUCCESS)
    throw Error("template " + where + " is not valid JSON: " + simdjson::error_message(err));
  simdjson::dom::array arr;
  if (doc.get_array().get(arr) != simdjson::SUCCESS || arr.size() == 0)
    throw Error("template " + where + " must be a JSON array of messages [{\"role\": ..., \"content\": ...}]");
  Template t;
  bool has_text = false;
  size_t k = 0;
  for (auto m : arr) {
    ++k;
    std::string_view role, content;
    if (m["role"].get_string().get(role) != simdjson::SUCCESS || m["content"].get_string().get(content) != simdjson::SUCCESS)
      throw Error("template " + where + ": message " + std::to_string(k) + " needs string fields role and content");
    try {
      walk(content, [](std::string_view) {}, [&](std::string_view name) { has_text |= name == "text"; });
    } catch (const Error& e) {
      throw Error("template " + where + ": message " + std::to_string(k) + ": " + e.what());
    }
    t.push_back({std::string(role), std::string(content)});
  }
  if (!has_text) throw Error("template " + where + " never uses {text}: the record's text would not be sent");
  return t;
}

std::vector<Message> render(const Template& t, const Vars& vars) {
  std::vector<Message> out;
  out.reserve(t.size());
  for (const Message& m : t) {
    std::string s;
    walk(m.content, [&](std::string_view lit) { s.append(lit); },
         [&](std::string_view name) {
           for (const auto& [k, v] : vars)
             if (k == name) return s.append(v), void();
         });
    out.push_back({m.role, std::move(s)});
  }
  return out;
}

std::string request_line(std::string_view custom_id, std::string_view url, std::string_view model,
                         const std::vector<Message>& messages, std::string_view extra_body) {
  std::string out = "{\"custom_id\":";
  json::append_quoted(out, custom_id);
  out += ",\"method\":\"POST\",\"url\":";
  json::append_quoted(out, url);
  out += ",\"body\":{\"model\":";
  json::append_quoted(out, model);
  out += ",\"messages\":[";
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i) out += ',';
    out += "{\"role\":";
    json::append_quoted(out, messages[i].role);
    out += ",\"content\":";
    json::append_quoted(out, messages[i].content);
    out += '}';
  }
  out += ']';
  if (!extra_body.empty()) out.append(",").append(extra_body);
  out += "}}";
  return out;
}

std::string language_name(std::string_view code) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 24> kNames = {{
      {"ar", "Arabic"},  {"cs", "Czech"},      {"de", "German"},  {"el", "Greek"},    {"en", "English"},
      {"es", "Spanish"}, {"fa", "Persian"},    {"fr", "French"},  {"he", "Hebrew"},   {"hi", "Hindi"},
      {"id", "Indonesian"}, {"it", "Italian"}, {"ja", "Japanese"}, {"ko", "Korean"},  {"nl", "Dutch"},
      {"pl", "Polish"},  {"pt", "Portuguese"}, {"ro", "Romanian"}, {"ru", "Russian"}, {"sv", "Swedish"},
      {"th", "Thai"},    {"tr", "Turkish"},    {"uk", "Ukrainian"}, {"zh", "Simplified Chinese"},
  }};
  for (const auto& [c, n] : kNames)
    if (c == code) return std::string(n);
  return std::string(code);
}

Translation parse_translation_line(simdjson::dom::parser& parser, std::string_view line) {
  simdjson::dom::element doc;
  if (auto err = parser.parse(line.data(), line.size(), true).get(doc); err != simdjson::SUCCESS) {
    Translation t;
    t.id = recover_string(line, "custom_id");
    if (t.id.empty()) t.id = recover_string(line, "id");
    t.message = std::string("not valid JSON (") + simdjson::error_message(err) + ")";
    return t;
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return {Translation::Status::malformed, "", "", "not a JSON object"};
  simdjson::dom::element custom;
  if (doc["custom_id"].get(custom) == simdjson::SUCCESS) {
    std::string id = id_of(custom);
    if (id.empty()) return {Translation::Status::malformed, "", "", "custom_id is not a string"};
    return batch_line(doc, std::move(id));
  }
  simdjson::dom::element id_el;
  Translation t;
  if (doc["id"].get(id_el) != simdjson::SUCCESS || (t.id = id_of(id_el)).empty()) {
    t.message = "neither custom_id (Batch API output) nor id (plain {id, text} line)";
    return t;
  }
  std::string_view text;
  if (doc["text"].get_string().get(text) != simdjson::SUCCESS) {
    t.message = "plain line without a string field text";
    return t;
  }
  t.status = Translation::Status::ok;
  t.text = std::string(text);
  return t;
}

}  // namespace tamis::translate
