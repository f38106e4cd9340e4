// The file formats of the translation round trip (docs/translation.md#formats):
//  - requests: one OpenAI Batch API request per line, built from a message template;
//  - translations: OpenAI Batch API output lines (success or error) or plain {"id", "text"} lines.
//
//     const Template t = default_template();
//     std::string line = request_line("p-7#fr", "/v1/chat/completions", "gpt-4o-mini",
//                                     render(t, {{"text", problem}, {"target_name", "French"}, ...}), "");
//     Translation tr = parse_translation_line(parser, R"({"id":"p-7","text":"..."})");
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tamis::translate {

// ---- requests ----

// Chat messages whose contents hold placeholders: {text}, {id}, {source}, {target} (language codes),
// {source_name}, {target_name} (English names). {{ and }} are literal braces.
struct Message {
  std::string role;
  std::string content;
};
using Template = std::vector<Message>;
using Vars = std::vector<std::pair<std::string_view, std::string_view>>;

inline constexpr const char* kPlaceholders[] = {"text", "id", "source", "target", "source_name", "target_name"};

// The built-in template: a system message with the translation rules, the text as the user message.
const Template& default_template();
// A template from JSON text: an array of {"role": ..., "content": ...} objects (`where` names the file
// in messages). Throws tamis::Error naming the problem: not an array, a missing role or content, an
// unknown placeholder, no {text} anywhere.
Template parse_template(std::string_view json, const std::string& where);
// The messages with every placeholder replaced.
std::vector<Message> render(const Template& t, const Vars& vars);
// One Batch API request line (without newline). `extra_body` is a JSON object's members as text
// ("\"temperature\":0") appended to the body after model and messages, or empty.
std::string request_line(std::string_view custom_id, std::string_view url, std::string_view model,
                         const std::vector<Message>& messages, std::string_view extra_body);

// English name of an ISO 639-1 code ("fr" -> "French"; "zh" -> "Simplified Chinese"); the code
// itself when unknown.
std::string language_name(std::string_view code);

// ---- translations ----

struct Translation {
  enum class Status { ok, error, malformed };
  Status status = Status::malformed;
  std::string id;       // custom_id (Batch API) or id (plain); empty when none could be read
  std::string text;     // ok: the translation
  std::string message;  // error / malformed: what is wrong
};

// One line of a translations file. Batch API output lines have "custom_id" and "response" / "error";
// other objects are plain lines {"id": ..., "text": ...}. A line that is not JSON is malformed; its
// id is recovered from a literal "custom_id": "..." or "id": "..." in the text when possible.
Translation parse_translation_line(simdjson::dom::parser& parser, std::string_view line);

}  // namespace tamis::translate
