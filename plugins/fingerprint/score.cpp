// fingerprint.score: weighted slop-list hits per 1,000 words of one text field.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <tamis/files.hpp>

#include "ops.hpp"

namespace tamis::fingerprint {

namespace {

std::string fmt(double v, const char* f) {
  char buf[48];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

const char* const kListHelp =
    "expected a JSON array of entries [\"text\"] or [\"text\", weight] (the published slop-list format), or a "
    "profile.json written by fingerprint.profile";

}  // namespace

const ParamTable Score::params = {
    {.name = "field", .type = ParamType::string, .required = true, .help = "the text field to score"},
    {.name = "lists", .type = ParamType::path_list, .required = true,
     .help = "slop lists: published slop-list JSON arrays (weight 1 each unless given) and/or profile.json files of "
             "fingerprint.profile (weight = the feature's log ratio)", .files = FileRole::input},
    {.name = "group", .type = ParamType::string,
     .help = "with a profile.json: the group whose top features to use (default: every group, highest weight)"},
    {.name = "drop_stopwords", .type = ParamType::boolean, .default_json = "true",
     .help = "remove English stopwords before matching n-grams (the published lists were built that way)"},
    {.name = "max", .type = ParamType::number,
     .help = "reject records whose slop_score is above this (reason `slop`); default: annotate only"},
    {.name = "max_hits", .type = ParamType::integer, .default_json = "10",
     .help = "most hits listed in the `slop_hits` annotation (the score counts them all)"},
};

void Score::check(const Params& p) {
  if (p.get_strings("lists").empty()) throw Error("lists is empty: give at least one slop list");
  if (p.get_int("max_hits") < 0) throw Error("max_hits must be 0 or more");
  if (p.has("max") && !(p.get_double("max") >= 0)) throw Error("max must be a number >= 0 (slop hits per 1,000 words)");
}

Score::Score(const Params& p, Stage& stage) : field_(p.get_string("field")), max_hits_(p.get_int("max_hits")) {
  tok_.drop_stopwords = p.get_bool("drop_stopwords");
  has_max_ = p.has("max");
  if (has_max_) max_ = p.get_double("max");
  const std::string group = p.has("group") ? p.get_string("group") : std::string();
  for (const auto& path : p.get_strings("lists")) load(path, group);
  if (entries_.empty()) throw Error("the slop lists hold no usable entry");
  stage.info("slop list: " + std::to_string(by_order_[0]) + " words, " + std::to_string(by_order_[1]) + " bigrams, " +
             std::to_string(by_order_[2]) + " trigrams");
}

void Score::add(std::string_view raw, double weight, const std::string& where) {
  if (!std::isfinite(weight)) throw Error(where + ": weight is not a finite number");
  if (weight <= 0) return;  // a feature the profile found under-used is no slop
  Tokens t;
  tokenize(raw, tok_, t);
  if (t.size() == 0) return;  // only stopwords or punctuation: nothing to match
  if (t.size() > 3 || t.ngram(0, t.size()).empty())
    throw Error(where + ": '" + std::string(raw) + "' is " + std::to_string(t.size()) +
                " words (or spans a sentence end) after tokenising; slop lists hold words, bigrams and trigrams");
  const std::string text(t.ngram(0, t.size()));
  auto [it, fresh] = index_.try_emplace(feature_hash(text), static_cast<uint32_t>(entries_.size()));
  if (fresh) {
    entries_.push_back({text, weight});
    ++by_order_[t.size() - 1];
  } else {
    entries_[it->second].weight = std::max(entries_[it->second].weight, weight);
  }
}

void Score::load(const std::string& path, const std::string& group) {
  const simdjson::padded_string bytes(read_file(path, "slop list"));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (const auto err = parser.parse(bytes).get(root); err != simdjson::SUCCESS)
    throw Error("slop list '" + path + "' is not valid JSON (" + simdjson::error_message(err) + "); " + kListHelp);
  simdjson::dom::array arr;
  if (root.get_array().get(arr) == simdjson::SUCCESS) {
    size_t i = 0;
    for (auto e : arr) {
      const std::string where = "slop list '" + path + "', entry " + std::to_string(i++);
      std::string_view s;
      double w = 1.0;
      simdjson::dom::array inner;
      if (e.get_string().get(s) == simdjson::SUCCESS) {
      } else if (e.get_array().get(inner) == simdjson::SUCCESS && inner.size() >= 1 && inner.size() <= 2 &&
                 inner.at(0).get_string().get(s) == simdjson::SUCCESS &&
                 (inner.size() == 1 || inner.at(1).get_double().get(w) == simdjson::SUCCESS ||
                  [&] { int64_t n; return inner.at(1).get_int64().get(n) == simdjson::SUCCESS && (w = static_cast<double>(n), true); }())) {
      } else {
        throw Error(where + " is " + simdjson::minify(e).substr(0, 60) + "; " + kListHelp);
      }
      add(s, w, where);
    }
    return;
  }
  simdjson::dom::array groups;
  if (root["groups"].get_array().get(groups) != simdjson::SUCCESS)
    throw Error("slop list '" + path + "' is a JSON " +
                (root.is_object() ? std::string("object without a 'groups' array") : "scalar") + "; " + kListHelp);
  bool stop = true;
  if (root["settings"]["drop_stopwords"].get_bool().get(stop) == simdjson::SUCCESS && stop != tok_.drop_stopwords)
    throw Error("profile '" + path + "' was made with drop_stopwords: " + (stop ? "true" : "false") +
                "; set the same drop_stopwords here, or its n-grams will not match");
  std::string names;
  bool found = group.empty();
  for (auto g : groups) {
    std::string_view name;
    if (g["name"].get_string().get(name) != simdjson::SUCCESS) throw Error("profile '" + path + "': a group has no name");
    names += (names.empty() ? "" : ", ") + std::string(name);
    if (!group.empty() && name != group) continue;
    found = true;
    for (const char* order : {"words", "bigrams", "trigrams"}) {
      simdjson::dom::array feats;
      if (g["top"][order].get_array().get(feats) != simdjson::SUCCESS)
        throw Error("profile '" + path + "', group '" + std::string(name) + "': no top." + order + " list");
      for (auto f : feats) {
        std::string_view text;
        double w;
        if (f["text"].get_string().get(text) != simdjson::SUCCESS || f["log_ratio"].get_double().get(w) != simdjson::SUCCESS)
          throw Error("profile '" + path + "', group '" + std::string(name) + "': a " + order +
                      " entry lacks text or log_ratio");
        add(text, w, "profile '" + path + "'");
      }
    }
  }
  if (!found) throw Error("profile '" + path + "' has no group '" + group + "'; its groups: " + names);
}

void Score::process(Record& r) const {
  const auto text = r.string_field(field_);
  if (!text) return r.reject_missing_field(field_, "missing_field", "no string field '" + field_ + "'");
  thread_local Tokens t;
  thread_local std::vector<std::pair<uint32_t, uint32_t>> hits;  // (entry, count)
  tokenize(*text, tok_, t);
  hits.clear();
  for (size_t i = 0; i < t.size(); ++i) {
    for (size_t n = 1; n <= 3; ++n) {
      if (by_order_[n - 1] == 0) continue;
      const std::string_view g = t.ngram(i, n);
      if (g.empty()) break;
      auto it = index_.find(feature_hash(g));
      if (it == index_.end() || entries_[it->second].text != g) continue;
      hits.push_back({it->second, 1});
    }
  }
  std::sort(hits.begin(), hits.end());
  size_t w = 0;
  for (size_t i = 0; i < hits.size(); ++i) {
    if (w > 0 && hits[w - 1].first == hits[i].first) ++hits[w - 1].second;
    else hits[w++] = hits[i];
  }
  hits.resize(w);
  double sum = 0;
  for (const auto& [e, c] : hits) sum += entries_[e].weight * c;
  const double score = t.words ? std::round(1e6 * sum / static_cast<double>(t.words)) / 1e3 : 0.0;
  std::sort(hits.begin(), hits.end(), [&](const auto& a, const auto& b) {
    const double wa = entries_[a.first].weight * a.second, wb = entries_[b.first].weight * b.second;
    return wa != wb ? wa > wb : entries_[a.first].text < entries_[b.first].text;
  });
  std::string obj = "{";
  std::string brief;
  for (size_t i = 0; i < hits.size() && i < static_cast<size_t>(max_hits_); ++i) {
    if (i) obj += ",";
    json::append_quoted(obj, entries_[hits[i].first].text);
    obj += ":" + std::to_string(hits[i].second);
    if (i < 5) brief += (i ? ", " : "") + entries_[hits[i].first].text + " x" + std::to_string(hits[i].second);
  }
  obj += "}";
  r.annotate("slop_score", score);
  r.annotate("slop_words", t.words);
  r.annotate_json("slop_hits", obj);
  if (!hits.empty()) r.count("records_with_hits");
  if (has_max_ && score > max_)
    r.reject("slop", "slop score " + fmt(score, "%.3f") + " per 1,000 words > max " + fmt(max_, "%g") +
                         (brief.empty() ? "" : " (" + brief + ")"));
}

void Score::finish(Stage& stage) {
  stage.report("{\"list_words\": " + std::to_string(by_order_[0]) + ", \"list_bigrams\": " +
               std::to_string(by_order_[1]) + ", \"list_trigrams\": " + std::to_string(by_order_[2]) +
               (has_max_ ? ", \"max\": " + json::number(max_) : std::string()) + "}");
}

}  // namespace tamis::fingerprint
