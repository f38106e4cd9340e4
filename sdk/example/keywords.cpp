// An example tamis plugin: `example.keywords` rejects records whose text field contains a banned
// phrase (case-insensitive for ASCII), and annotates the others with how many "watch" phrases they hold.
//
//   stages:
//     no_proofs:
//       uses: example.keywords
//       with: { field: problem, banned: ["prove that", "show that"], watch: [integral] }
#include <tamis/sdk.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

class Keywords {
 public:
  static constexpr const char* name = "example.keywords";
  static constexpr const char* summary = "Rejects records whose field contains a banned phrase; counts watched phrases.";
  static constexpr tamis::OpKind kind = tamis::OpKind::record;
  static inline const tamis::ParamTable params = {
      {.name = "field", .type = tamis::ParamType::string, .required = true, .help = "the text field to search"},
      {.name = "banned", .type = tamis::ParamType::string_list, .default_json = "[]", .help = "phrases that reject a record"},
      {.name = "watch", .type = tamis::ParamType::string_list, .default_json = "[]", .help = "phrases counted into `watch_hits`"},
  };

  explicit Keywords(const tamis::Params& p) : field_(p.get_string("field")) {
    for (const auto& b : p.get_strings("banned")) banned_.push_back(lower(b));
    for (const auto& w : p.get_strings("watch")) watch_.push_back(lower(w));
  }

  static void check(const tamis::Params& p) {
    if (p.get_strings("banned").empty() && p.get_strings("watch").empty())
      throw tamis::Error("give at least one phrase in banned or watch");
  }

  // const: tamis calls it on several batches at once.
  void process(tamis::Record& r) const {
    const auto text = r.string_field(field_);
    if (!text) return r.reject_missing_field(field_, "missing_field", "no string field '" + field_ + "'");
    const std::string t = lower(*text);
    for (const auto& b : banned_) {
      if (t.find(b) != std::string::npos) return r.reject("banned_phrase", "contains \"" + b + "\"");
    }
    if (watch_.empty()) return;
    int64_t hits = 0;
    for (const auto& w : watch_) hits += t.find(w) != std::string::npos;
    r.annotate("watch_hits", hits);
    if (hits) r.count("records_with_watch_hits");
  }

 private:
  std::string field_;
  std::vector<std::string> banned_, watch_;
};

}  // namespace

TAMIS_PLUGIN("example", "1.0.0", Keywords)
