// fingerprint.profile: count per group in the ordered part, analyse in finish().
//
// The parallel part (prepare) tokenises the record and reduces it to its distinct features with their
// counts, keyed by hash; the serial part (ordered) only adds those counts into the group's table, so
// most of the work scales with threads. Every output is sorted by a total order (value, then text or
// name) before it is written, so the files do not depend on hash-table order or on the thread count.
#include <glob.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unordered_set>

#include <tamis/files.hpp>

#include "analysis.hpp"
#include "ops.hpp"

namespace tamis::fingerprint {

namespace {

const char* const kMeasures[] = {"cosine", "jaccard", nullptr};
const char* const kRanks[] = {"log_ratio", "z", nullptr};
const char* const kOrderNames[] = {"words", "bigrams", "trigrams"};
constexpr uint16_t kMinLetters = 4;

// Short, stable text for a double in the JSON and tables (non-finite values become null).
std::string num(double v, const char* fmt = "%.6g") {
  if (!std::isfinite(v)) return "null";
  char buf[48];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::vector<std::string> expand(const std::string& pattern) {
  std::vector<std::string> out;
  if (pattern.find_first_of("*?[") == std::string::npos) {
    out.push_back(pattern);
    return out;
  }
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

const ParamTable Profile::params = {
    {.name = "group_by", .type = ParamType::string, .required = true,
     .help = "field whose value names a record's group (e.g. model, source); strings, numbers and booleans"},
    {.name = "field", .type = ParamType::string, .required = true, .help = "the text field to profile"},
    {.name = "dir", .type = ParamType::path, .required = true,
     .help = "output directory (created): profile.json, tree.nwk, dendrogram.txt, neighbours.md", .files = FileRole::output},
    {.name = "human", .type = ParamType::path_list, .default_json = "[]",
     .help = "human reference JSONL files (globs allowed); empty: each group is compared with all the others", .files = FileRole::input},
    {.name = "human_field", .type = ParamType::string, .default_json = "\"text\"",
     .help = "the text field of the reference records"},
    {.name = "human_dedup", .type = ParamType::boolean, .default_json = "true",
     .help = "count each distinct reference text once (a reference assembled from several files repeats texts)"},
    {.name = "drop_stopwords", .type = ParamType::boolean, .default_json = "true",
     .help = "remove English stopwords before forming words, bigrams and trigrams (as the published slop lists)"},
    {.name = "min_count", .type = ParamType::integer, .default_json = "5",
     .help = "fewest occurrences of a feature in a group for it to be ranked"},
    {.name = "min_records", .type = ParamType::integer, .default_json = "5",
     .help = "fewest distinct records of a group holding a feature (one story's character names do not count)"},
    {.name = "top_words", .type = ParamType::integer, .default_json = "100", .help = "top words kept per group"},
    {.name = "top_bigrams", .type = ParamType::integer, .default_json = "50", .help = "top bigrams kept per group"},
    {.name = "top_trigrams", .type = ParamType::integer, .default_json = "50", .help = "top trigrams kept per group"},
    {.name = "prior", .type = ParamType::number, .default_json = "0.1",
     .help = "prior weight, as a fraction of the reference size, of the pooled-corpus Dirichlet prior (smoothing)"},
    {.name = "rank", .type = ParamType::string, .default_json = "\"log_ratio\"",
     .help = "order of the top lists: log_ratio (smoothed over-representation) or z (log ratio / its standard error)",
     .choices = kRanks},
    {.name = "measure", .type = ParamType::string, .default_json = "\"cosine\"",
     .help = "distance that orders neighbours and builds the tree: cosine (weighted) or jaccard (top-feature sets)",
     .choices = kMeasures},
    {.name = "neighbours", .type = ParamType::integer, .default_json = "3",
     .help = "nearest neighbours listed per group"},
    {.name = "max_groups", .type = ParamType::integer, .default_json = "1000",
     .help = "fail beyond this many distinct groups (a group_by field like an id would exhaust memory)"},
};

void Profile::check(const Params& p) {
  for (const char* k : {"min_count", "min_records", "neighbours", "max_groups"})
    if (p.get_int(k) < 1) throw Error(std::string(k) + " must be at least 1");
  for (const char* k : {"top_words", "top_bigrams", "top_trigrams"})
    if (p.get_int(k) < 0) throw Error(std::string(k) + " must be 0 or more");
  if (p.get_int("top_words") + p.get_int("top_bigrams") + p.get_int("top_trigrams") == 0)
    throw Error("top_words, top_bigrams and top_trigrams are all 0: nothing to profile");
  if (!(p.get_double("prior") > 0)) throw Error("prior must be > 0 (0 is the raw ratio, undefined for unseen features)");
  if (p.get_string("group_by").empty() || p.get_string("field").empty())
    throw Error("group_by and field must name fields");
}

Profile::Profile(const Params& p, Stage& stage)
    : group_by_(p.get_string("group_by")), field_(p.get_string("field")), dir_(p.get_string("dir")),
      measure_(p.get_string("measure")), rank_(p.get_string("rank")), min_count_(p.get_int("min_count")), min_records_(p.get_int("min_records")),
      neighbours_(p.get_int("neighbours")), max_groups_(p.get_int("max_groups")), prior_(p.get_double("prior")) {
  tok_.drop_stopwords = p.get_bool("drop_stopwords");
  top_ = {p.get_int("top_words"), p.get_int("top_bigrams"), p.get_int("top_trigrams")};
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec || !std::filesystem::is_directory(dir_)) throw Error("cannot create output directory '" + dir_ + "'");
  const auto human = p.get_strings("human");
  if (!human.empty()) {
    read_reference(human, p.get_string("human_field"), p.get_bool("human_dedup"));
    stage.info("reference: " + std::to_string(reference_.records) + " texts, " + std::to_string(reference_.words) +
               " words from " + std::to_string(reference_files_.size()) + " file(s)" +
               (reference_duplicates_ ? ", " + std::to_string(reference_duplicates_) + " duplicate texts skipped" : ""));
    if (reference_missing_ > 0)
      stage.warn(std::to_string(reference_missing_) + " line(s) of the human reference have no string field '" +
                 p.get_string("human_field") + "' and were skipped (first: " + reference_missing_first_ +
                 "); set human_field to the field holding their text");
  }
}

void Profile::features_of(std::string_view text, Prepared& out) const {
  tokenize(text, tok_, out.tokens);
  const Tokens& t = out.tokens;
  out.features.clear();
  out.features.reserve(t.size() * 3);
  for (size_t i = 0; i < t.size(); ++i) {
    if (t.letters[i] >= kMinLetters)
      out.features.push_back({feature_hash(t.ngram(i, 1)), static_cast<uint32_t>(i), 1, 1});
    for (uint8_t n = 2; n <= 3; ++n) {
      const std::string_view g = t.ngram(i, n);
      if (!g.empty()) out.features.push_back({feature_hash(g), static_cast<uint32_t>(i), 1, n});
    }
  }
  std::sort(out.features.begin(), out.features.end(),
            [](const Feature& a, const Feature& b) { return a.hash != b.hash ? a.hash < b.hash : a.first < b.first; });
  size_t w = 0;
  for (size_t i = 0; i < out.features.size(); ++i) {
    if (w > 0 && out.features[w - 1].hash == out.features[i].hash) ++out.features[w - 1].count;
    else out.features[w++] = out.features[i];
  }
  out.features.resize(w);
}

Profile::Prepared Profile::prepare(Record& r) const {
  Prepared p;
  const auto g = r.field(group_by_);
  if (g) {
    std::string_view s;
    if (g->get_string().get(s) == simdjson::SUCCESS) p.group = std::string(s);
    else if (g->is_number() || g->is_bool()) p.group = simdjson::minify(*g);
  }
  const auto text = r.string_field(field_);
  if (p.group.empty() || !text) return p;  // counted in ordered(), in input order
  p.ok = true;
  features_of(*text, p);
  return p;
}

void Profile::merge(const Prepared& p, Corpus& corpus) {
  ++corpus.records;
  corpus.words += p.tokens.words;
  constexpr size_t kAhead = 8;
  const auto& fs = p.features;
  for (size_t i = 0; i < fs.size(); ++i) {
    if (i + kAhead < fs.size()) corpus.counts.prefetch(fs[i + kAhead].hash);
    const Feature& f = fs[i];
    corpus.total[f.order - 1] += f.count;
    bool fresh;
    FeatureCount& c = corpus.counts.get(f.hash, fresh);
    if (fresh) {
      // Features are keyed by their 64-bit hash alone: at ten million distinct features the odds that two
      // share a hash are about 3 in a million, so texts are not compared.
      c.text = static_cast<uint32_t>(corpus.text_start.size() - 1);
      corpus.texts += p.tokens.ngram(f.first, f.order);
      corpus.text_start.push_back(corpus.texts.size());
    }
    c.count += f.count;
    ++c.records;
  }
}

void Profile::ordered(Record& r, Prepared& p) {
  if (!p.ok) {
    const bool no_group = p.group.empty();
    ++(no_group ? missing_group_ : missing_text_);
    r.count(no_group ? "missing_group" : "missing_text");
    if (missing_example_.empty()) {
      std::string keys;
      simdjson::dom::object obj;
      if (r.root().get_object().get(obj) == simdjson::SUCCESS)
        for (auto kv : obj) keys += (keys.empty() ? "" : ", ") + std::string(kv.key);
      missing_example_ = std::string(r.file()) + ":" + std::to_string(r.line()) + " has no " +
                         (no_group ? "group field '" + group_by_ + "' (a non-empty string, a number or a boolean)"
                                   : "string field '" + field_ + "'") +
                         "; its fields: " + (keys.empty() ? "(none)" : keys);
    }
    return;
  }
  auto it = groups_.find(p.group);
  if (it == groups_.end()) {
    if (groups_.size() >= static_cast<size_t>(max_groups_))
      throw Error("more than " + std::to_string(max_groups_) + " distinct values of '" + group_by_ +
                  "' (group_by), the latest '" + p.group + "': is it the field naming the source or model? "
                  "(raise max_groups if it is)");
    it = groups_.emplace(p.group, Corpus{}).first;
    it->second.name = p.group;
  }
  merge(p, it->second);
}

void Profile::read_reference(const std::vector<std::string>& patterns, const std::string& field, bool dedup) {
  has_reference_ = true;
  reference_.name = "reference";
  for (const auto& pattern : patterns) {
    const auto files = expand(pattern);
    std::error_code ec;
    if (files.empty() || (files.size() == 1 && files[0] == pattern && !std::filesystem::is_regular_file(pattern, ec)))
      throw Error("human reference '" + pattern + "': " + (files.empty() ? "no file matches" : "no such file"));
    for (const auto& f : files) reference_files_.push_back(f);
  }
  std::unordered_set<uint64_t> seen;
  simdjson::dom::parser parser;
  Prepared scratch;
  for (const auto& file : reference_files_) {
    if (file.ends_with(".gz") || file.ends_with(".zst"))
      throw Error("human reference '" + file + "': compressed references are not supported; decompress it first");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error("cannot open human reference '" + file + "'");
    std::string line;
    for (uint64_t n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      simdjson::dom::element root;
      if (parser.parse(line).get(root) != simdjson::SUCCESS)
        throw Error("human reference " + file + ":" + std::to_string(n) + " is not valid JSON");
      std::string_view text;
      const auto found = detail::follow_path(root, field);
      if (!found || found->get_string().get(text) != simdjson::SUCCESS) {
        if (reference_missing_++ == 0) reference_missing_first_ = file + ":" + std::to_string(n);
        continue;
      }
      if (dedup && !seen.insert(feature_hash(text)).second) {
        ++reference_duplicates_;
        continue;
      }
      features_of(text, scratch);
      merge(scratch, reference_);
    }
  }
  if (reference_.records == 0)
    throw Error("no line of the human reference files has a string field '" + field + "' (human_field)");
}

void Profile::finish(Stage& stage) {
  if (groups_.empty()) {
    throw Error("no record had both the group field '" + group_by_ + "' and the text field '" + field_ + "'" +
                (missing_example_.empty() ? std::string(" (no records at all)") : ": " + missing_example_));
  }
  if (missing_group_ + missing_text_ > 0)
    stage.warn(std::to_string(missing_group_ + missing_text_) + " record(s) not profiled (" +
               std::to_string(missing_group_) + " without the group field, " + std::to_string(missing_text_) +
               " without the text field); first: " + missing_example_);

  if (groups_.size() == 1 && !has_reference_)
    stage.warn("one group and no human reference: nothing to compare it with, so no feature is ranked "
               "(give `human`, or profile several groups)");
  std::vector<const Corpus*> groups;
  for (const auto& [name, c] : groups_) groups.push_back(&c);
  std::sort(groups.begin(), groups.end(), [](const Corpus* a, const Corpus* b) { return a->name < b->name; });
  const size_t G = groups.size();

  // Pooled totals and, lazily, pooled counts per feature (the prior's background).
  std::array<double, 3> pooled_total{};
  for (int k = 0; k < 3; ++k) {
    pooled_total[k] = static_cast<double>(reference_.total[k]);
    for (const Corpus* g : groups) pooled_total[k] += static_cast<double>(g->total[k]);
  }
  std::unordered_map<uint64_t, double> pooled;
  auto pooled_count = [&](uint64_t h) {
    auto [it, fresh] = pooled.try_emplace(h, 0.0);
    if (fresh) {
      if (const FeatureCount* r = reference_.counts.find(h)) it->second += static_cast<double>(r->count);
      for (const Corpus* g : groups)
        if (const FeatureCount* f = g->counts.find(h)) it->second += static_cast<double>(f->count);
    }
    return it->second;
  };
  auto ref_count = [&](uint64_t h) -> double {
    const FeatureCount* r = reference_.counts.find(h);
    return r ? static_cast<double>(r->count) : 0.0;
  };
  auto order_of = [&](const Corpus& g, uint32_t t) {
    const std::string_view s = g.text(t);
    return static_cast<int>(std::count(s.begin(), s.end(), ' '));
  };
  // The smoothed comparison of feature h (order index k) in group g against the reference: the human
  // corpus, or without one, every other group pooled.
  auto compare = [&](const Corpus& g, uint64_t h, int k, double y_g) {
    const double b = pooled_count(h);
    const double y_r = has_reference_ ? ref_count(h) : b - y_g;
    const double n_g = static_cast<double>(g.total[k]);
    const double n_r = has_reference_ ? static_cast<double>(reference_.total[k]) : pooled_total[k] - n_g;
    return smooth(y_g, n_g, y_r, n_r, b, pooled_total[k], prior_);
  };

  struct Top {
    uint64_t hash;
    FeatureCount c;
    double ref;
    Smoothed s;
  };
  std::vector<std::array<std::vector<Top>, 3>> tops(G);
  for (size_t gi = 0; gi < G; ++gi) {
    const Corpus& g = *groups[gi];
    g.counts.for_each([&](uint64_t h, const FeatureCount& c) {
      if (c.count < static_cast<uint64_t>(min_count_) || c.records < static_cast<uint64_t>(min_records_)) return;
      const int k = order_of(g, c.text);
      if (top_[k] == 0) return;
      const Smoothed s = compare(g, h, k, static_cast<double>(c.count));
      if (s.log_ratio <= 0) return;
      tops[gi][k].push_back({h, c, has_reference_ ? ref_count(h) : pooled_count(h) - static_cast<double>(c.count), s});
    });
    for (int k = 0; k < 3; ++k) {
      auto& v = tops[gi][k];
      const bool by_z = rank_ == "z";
      std::sort(v.begin(), v.end(), [&](const Top& a, const Top& b) {
        const double ka = by_z ? a.s.z : a.s.log_ratio, kb = by_z ? b.s.z : b.s.log_ratio;
        if (ka != kb) return ka > kb;
        if (a.c.count != b.c.count) return a.c.count > b.c.count;  // equal ratios: more evidence first
        return g.text(a.c.text) < g.text(b.c.text);
      });
      if (v.size() > static_cast<size_t>(top_[k])) v.resize(static_cast<size_t>(top_[k]));
    }
  }

  // The union of every group's top features, by text: the coordinates of both distances.
  std::map<std::string_view, uint64_t> union_map;
  for (size_t gi = 0; gi < G; ++gi)
    for (const auto& v : tops[gi])
      for (const Top& f : v) union_map.emplace(groups[gi]->text(f.c.text), f.hash);
  std::vector<uint64_t> uni;
  std::unordered_map<uint64_t, uint32_t> uni_index;
  for (const auto& [text, h] : union_map) {
    uni_index.emplace(h, static_cast<uint32_t>(uni.size()));
    uni.push_back(h);
  }
  std::vector<std::vector<uint32_t>> sets(G);
  std::vector<std::vector<double>> vecs(G, std::vector<double>(uni.size(), 0.0));
  for (size_t gi = 0; gi < G; ++gi) {
    for (const auto& v : tops[gi])
      for (const Top& f : v) sets[gi].push_back(uni_index.at(f.hash));
    std::sort(sets[gi].begin(), sets[gi].end());
    const Corpus& g = *groups[gi];
    for (size_t u = 0; u < uni.size(); ++u) {
      const FeatureCount* found = g.counts.find(uni[u]);
      if (!found) continue;
      const FeatureCount& c = *found;
      if (c.count < static_cast<uint64_t>(min_count_) || c.records < static_cast<uint64_t>(min_records_)) continue;
      const Smoothed s = compare(g, uni[u], order_of(g, c.text), static_cast<double>(c.count));
      vecs[gi][u] = std::max(0.0, s.log_ratio);
    }
  }
  std::vector<std::vector<double>> dj(G, std::vector<double>(G, 0.0)), dc = dj;
  for (size_t a = 0; a < G; ++a)
    for (size_t b = a + 1; b < G; ++b) {
      dj[a][b] = dj[b][a] = jaccard_distance(sets[a], sets[b]);
      dc[a][b] = dc[b][a] = cosine_distance(vecs[a], vecs[b]);
    }
  const auto& dist = measure_ == "jaccard" ? dj : dc;
  std::vector<std::string> names;
  for (const Corpus* g : groups) names.push_back(g->name);
  std::vector<std::vector<size_t>> nearest(G);
  for (size_t a = 0; a < G; ++a) {
    for (size_t b = 0; b < G; ++b)
      if (b != a) nearest[a].push_back(b);
    std::sort(nearest[a].begin(), nearest[a].end(), [&](size_t x, size_t y) {
      return dist[a][x] != dist[a][y] ? dist[a][x] < dist[a][y] : names[x] < names[y];
    });
    if (nearest[a].size() > static_cast<size_t>(neighbours_)) nearest[a].resize(static_cast<size_t>(neighbours_));
  }
  const auto merges = average_linkage(dist, names);
  const std::string tree = newick(merges, names);
  const std::string dendro = text_dendrogram(merges, names);

  // ---- profile.json ----
  std::string j = "{\n\"version\": 1,\n\"settings\": {\"group_by\": " + json::quote(group_by_) +
                  ", \"field\": " + json::quote(field_) + ", \"drop_stopwords\": " + json::boolean(tok_.drop_stopwords) +
                  ", \"min_letters\": " + std::to_string(kMinLetters) + ", \"min_count\": " + std::to_string(min_count_) +
                  ", \"min_records\": " + std::to_string(min_records_) + ", \"prior\": " + num(prior_) +
                  ", \"top\": {\"words\": " + std::to_string(top_[0]) + ", \"bigrams\": " + std::to_string(top_[1]) +
                  ", \"trigrams\": " + std::to_string(top_[2]) + "}, \"measure\": " + json::quote(measure_) +
                  ", \"reference\": " + json::quote(has_reference_ ? "human" : "other groups") + "},\n";
  if (has_reference_) {
    j += "\"reference\": {\"files\": [";
    for (size_t i = 0; i < reference_files_.size(); ++i) j += (i ? ", " : "") + json::quote(reference_files_[i]);
    j += "], \"texts\": " + std::to_string(reference_.records) + ", \"duplicates_skipped\": " +
         std::to_string(reference_duplicates_) + ", \"without_field\": " + std::to_string(reference_missing_) + ", \"words\": " + std::to_string(reference_.words) + "},\n";
  } else {
    j += "\"reference\": null,\n";
  }
  j += "\"groups\": [\n";
  for (size_t gi = 0; gi < G; ++gi) {
    const Corpus& g = *groups[gi];
    j += "{\"name\": " + json::quote(g.name) + ", \"records\": " + std::to_string(g.records) + ", \"words\": " +
         std::to_string(g.words) + ", \"top\": {";
    for (int k = 0; k < 3; ++k) {
      j += std::string(k ? ",\n  " : "\n  ") + "\"" + kOrderNames[k] + "\": [";
      bool first = true;
      for (const Top& f : tops[gi][k]) {
        j += std::string(first ? "\n    " : ",\n    ") + "{\"text\": " + json::quote(g.text(f.c.text)) +
             ", \"count\": " + std::to_string(f.c.count) + ", \"records\": " + std::to_string(f.c.records) +
             ", \"ref_count\": " + num(f.ref, "%.0f") + ", \"ratio\": " + num(std::exp(f.s.log_ratio), "%.4g") +
             ", \"log_ratio\": " + num(f.s.log_ratio, "%.4f") + ", \"z\": " + num(f.s.z, "%.3f") + "}";
        first = false;
      }
      j += "]";
    }
    j += "}}" + std::string(gi + 1 < G ? "," : "") + "\n";
  }
  j += "],\n\"distances\": {\"names\": [";
  for (size_t a = 0; a < G; ++a) j += (a ? ", " : "") + json::quote(names[a]);
  for (const auto& [label, m] : {std::pair<const char*, const decltype(dc)*>{"cosine", &dc}, {"jaccard", &dj}}) {
    j += std::string("],\n  \"") + label + "\": [";
    for (size_t a = 0; a < G; ++a) {
      j += a ? ",\n    [" : "\n    [";
      for (size_t b = 0; b < G; ++b) j += (b ? ", " : "") + num((*m)[a][b], "%.4f");
      j += "]";
    }
  }
  j += "]},\n\"neighbours\": {";
  for (size_t a = 0; a < G; ++a) {
    j += std::string(a ? ",\n  " : "\n  ") + json::quote(names[a]) + ": [";
    for (size_t i = 0; i < nearest[a].size(); ++i) {
      const size_t b = nearest[a][i];
      j += (i ? ", " : "") + std::string("{\"name\": ") + json::quote(names[b]) + ", \"cosine\": " +
           num(dc[a][b], "%.4f") + ", \"jaccard\": " + num(dj[a][b], "%.4f") + "}";
    }
    j += "]";
  }
  j += "},\n\"tree\": {\"measure\": " + json::quote(measure_) + ", \"linkage\": \"average\", \"newick\": " +
       json::quote(tree) + "}\n}\n";

  // ---- neighbours.md: the table the CLI prints ----
  std::string t = "| group | records | words | nearest (" + measure_ + " distance) |\n|---|---:|---:|---|\n";
  for (size_t a = 0; a < G; ++a) {
    t += "| " + names[a] + " | " + std::to_string(groups[a]->records) + " | " + std::to_string(groups[a]->words) + " | ";
    for (size_t i = 0; i < nearest[a].size(); ++i)
      t += (i ? ", " : "") + names[nearest[a][i]] + " " + num(dist[a][nearest[a][i]], "%.3f");
    t += " |\n";
  }

  write_file_atomically(dir_ + "/profile.json", j, "profile file");
  write_file_atomically(dir_ + "/tree.nwk", tree + "\n", "Newick tree file");
  write_file_atomically(dir_ + "/dendrogram.txt",
                        "average linkage, " + measure_ + " distance (number = distance at which the two merge)\n" + dendro,
                        "dendrogram file");
  write_file_atomically(dir_ + "/neighbours.md", t, "neighbours table");

  std::string rep = "{\"groups\": " + std::to_string(G) + ", \"reference_texts\": " + std::to_string(reference_.records) +
                    ", \"features_ranked\": " + std::to_string(uni.size()) + ", \"dir\": " + json::quote(dir_) +
                    ", \"nearest\": {";
  for (size_t a = 0; a < G; ++a) {
    rep += (a ? ", " : "") + json::quote(names[a]) + ": ";
    rep += nearest[a].empty() ? std::string("null")
                              : "[" + json::quote(names[nearest[a][0]]) + ", " + num(dist[a][nearest[a][0]], "%.4f") + "]";
  }
  rep += "}, \"newick\": " + json::quote(tree) + "}";
  stage.report(rep);
  stage.info("profiled " + std::to_string(G) + " groups; wrote " + dir_ + "/profile.json, tree.nwk, dendrogram.txt, "
             "neighbours.md");
}

}  // namespace tamis::fingerprint
