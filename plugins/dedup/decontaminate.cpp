// decontaminate: reject records that overlap benchmark reference sets (docs/dedup.md#decontamination).
#include <xxhash.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <tamis/json.hpp>

#include "fields.hpp"
#include "decontaminate.hpp"
#include "ops.hpp"

namespace tamis::dedup {

namespace {

constexpr size_t kFilterWords = size_t{1} << 17;  // 2^23 bits, 1 MiB
const char* const kRefKeys[] = {"name", "path", "fields", "id"};

// The reference list's structure (also run by the constructor, so a bad list never half-loads).
std::vector<Decontaminate::Benchmark> parse_references(simdjson::dom::element refs) {
  simdjson::dom::array list;
  if (refs.get_array().get(list))
    throw Error("references must be a list of {name, path, fields, id} objects");
  std::vector<Decontaminate::Benchmark> out;
  std::set<std::string> names;
  size_t index = 0;
  for (simdjson::dom::element e : list) {
    const std::string where = "references[" + std::to_string(index++) + "]";
    simdjson::dom::object o;
    if (e.get_object().get(o)) throw Error(where + " must be an object {name, path, fields, id}");
    for (auto kv : o) {
      const std::string_view k = kv.key;
      if (std::find(std::begin(kRefKeys), std::end(kRefKeys), k) == std::end(kRefKeys))
        throw Error(where + ": unknown key '" + std::string(k) + "' (expected name, path, fields, id)");
    }
    Decontaminate::Benchmark b;
    std::string_view sv;
    if (o["name"].get_string().get(sv) || sv.empty())
      throw Error(where + ": 'name' (the benchmark's name) must be a non-empty string");
    b.name = std::string(sv);
    if (!names.insert(b.name).second) throw Error(where + ": benchmark name '" + b.name + "' is used twice");
    if (o["path"].get_string().get(sv) || sv.empty())
      throw Error(where + " (" + b.name + "): 'path' (a JSONL file) must be a non-empty string");
    b.path = std::string(sv);
    simdjson::dom::element f;
    if (o["fields"].get(f)) {
      b.fields = {"problem"};
    } else {
      simdjson::dom::array fa;
      if (f.get_string().get(sv) == simdjson::SUCCESS) {
        b.fields = {std::string(sv)};
      } else if (f.get_array().get(fa) == simdjson::SUCCESS) {
        for (simdjson::dom::element x : fa) {
          if (x.get_string().get(sv) || sv.empty())
            throw Error(where + " (" + b.name + "): 'fields' must hold non-empty strings");
          b.fields.emplace_back(sv);
        }
      } else {
        throw Error(where + " (" + b.name + "): 'fields' must be a field name or a list of them");
      }
      if (b.fields.empty()) throw Error(where + " (" + b.name + "): 'fields' is empty");
      for (const auto& name : b.fields)
        if (name.empty()) throw Error(where + " (" + b.name + "): 'fields' holds an empty name");
    }
    simdjson::dom::element id;
    if (o["id"].get(id)) {
      b.id_field = "id";
    } else {
      if (id.get_string().get(sv) || sv.empty())
        throw Error(where + " (" + b.name + "): 'id' (the item id field) must be a non-empty string");
      b.id_field = std::string(sv);
    }
    out.push_back(std::move(b));
  }
  if (out.empty()) throw Error("references is empty: name at least one benchmark");
  return out;
}

// A field by dotted path in a parsed reference line.
std::optional<simdjson::dom::element> ref_field(simdjson::dom::element root, const std::string& path) {
  simdjson::dom::element e;
  if (root.at_key(path).get(e) == simdjson::SUCCESS) return e;
  simdjson::dom::element cur = root;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = std::min(path.find('.', start), path.size());
    if (cur.at_key(path.substr(start, dot - start)).get(cur)) return std::nullopt;
    start = dot + 1;
  }
  return cur;
}

NormalizeOptions ngram_options() {
  NormalizeOptions o;
  o.nfkc = false;
  o.latex = false;
  return o;  // lowercase + whitespace
}

NormalizeOptions strip_options() {
  NormalizeOptions o;
  o.punctuation = true;
  o.digits = true;
  return o;
}

const NormalizeOptions kNgramOptions = ngram_options(), kStripOptions = strip_options();

}  // namespace

std::string ngram_text(std::string_view text) { return normalize(text, ngram_options()); }

std::string stripped_text(std::string_view text) {
  std::string s = normalize(text, strip_options());
  std::erase(s, ' ');
  return s;
}

std::vector<uint64_t> word_ngram_hashes(std::string_view text, size_t n) {
  std::vector<size_t> starts;  // start of each word; text is single-space separated, trimmed
  if (!text.empty()) {
    starts.push_back(0);
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == ' ') starts.push_back(i + 1);
  }
  std::vector<uint64_t> out;
  if (n == 0 || starts.size() < n) return out;
  out.reserve(starts.size() - n + 1);
  for (size_t w = 0; w + n <= starts.size(); ++w) {
    const size_t end = w + n < starts.size() ? starts[w + n] - 1 : text.size();
    out.push_back(XXH3_64bits(text.data() + starts[w], end - starts[w]));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

const ParamTable Decontaminate::params = {
    {.name = "field", .type = ParamType::string, .default_json = "\"problem\"",
     .help = "the record's text field (a record without it is rejected `missing_field`)"},
    {.name = "references", .type = ParamType::json, .required = true,
     .help = "benchmark reference sets: a list of {name, path (JSONL, relative to the pipeline file), fields "
             "(default [problem]), id (item id field, default id; else the line number)}"},
    {.name = "ngram", .type = ParamType::integer, .default_json = "8",
     .help = "word n-gram length, on lowercased, whitespace-normalised text (open-r1 uses 8)"},
    {.name = "min_shared", .type = ParamType::integer, .default_json = "1",
     .help = "n-grams a record must share with one reference item to be contaminated"},
    {.name = "min_fraction", .type = ParamType::number,
     .help = "optional: also require this fraction (0-1] of the record's distinct n-grams to be shared"},
    {.name = "exact_stripped", .type = ParamType::boolean, .default_json = "true",
     .help = "also match exactly after normalising and removing digits, punctuation and whitespace "
             "(\"only the numbers changed\" copies)"},
};

void Decontaminate::check(const Params& p) {
  if (p.get_string("field").empty()) throw Error("field is empty");
  if (p.get_int("ngram") < 1) throw Error("ngram must be at least 1");
  if (p.get_int("min_shared") < 1) throw Error("min_shared must be at least 1");
  if (p.has("min_fraction")) {
    const double f = p.get_double("min_fraction");
    if (!(f > 0 && f <= 1)) throw Error("min_fraction must be in (0, 1]");
  }
  parse_references(p.get_json("references"));
}

Decontaminate::Decontaminate(const Params& p, Stage& stage)
    : field_(p.get_string("field")), ngram_(static_cast<size_t>(p.get_int("ngram"))),
      min_shared_(p.get_int("min_shared")), exact_stripped_(p.get_bool("exact_stripped")) {
  if (p.has("min_fraction")) min_fraction_ = p.get_double("min_fraction");
  benchmarks_ = parse_references(p.get_json("references"));
  simdjson::dom::parser parser;
  for (uint32_t bi = 0; bi < benchmarks_.size(); ++bi) {
    Benchmark& b = benchmarks_[bi];
    std::filesystem::path path(b.path);
    if (path.is_relative()) path = std::filesystem::path(stage.pipeline_dir()) / path;
    b.path = path.lexically_normal().string();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("benchmark '" + b.name + "': cannot open " + b.path);
    b.first_item = static_cast<uint32_t>(items_.size());
    std::string line;
    size_t line_no = 0, without_text = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      simdjson::dom::element root;
      if (parser.parse(line).get(root) || !root.is_object())
        throw Error("benchmark '" + b.name + "': " + b.path + ":" + std::to_string(line_no) + " is not a JSON object");
      Item item{bi, std::to_string(line_no)};
      if (auto id = ref_field(root, b.id_field)) {
        std::string_view sv;
        if (id->get_string().get(sv) == simdjson::SUCCESS) item.id_json = json::quote(sv);
        else item.id_json = simdjson::minify(*id);
      }
      const auto index = static_cast<uint32_t>(items_.size());
      bool any = false;
      for (const auto& f : b.fields) {
        auto v = ref_field(root, f);
        std::string_view text;
        if (!v || v->get_string().get(text)) continue;
        any = true;
        for (uint64_t h : word_ngram_hashes(ngram_text(text), ngram_)) ngrams_.emplace_back(h, index);
        if (exact_stripped_) {
          const std::string s = stripped_text(text);
          if (!s.empty()) stripped_.try_emplace(XXH3_64bits(s.data(), s.size()), index);
        }
      }
      if (!any) {
        ++without_text;
        continue;
      }
      items_.push_back(std::move(item));
    }
    b.items = static_cast<uint32_t>(items_.size()) - b.first_item;
    if (without_text > 0)
      stage.warn("benchmark '" + b.name + "': " + std::to_string(without_text) + " lines of " + b.path +
                 " have none of the text fields; skipped");
    if (b.items == 0) throw Error("benchmark '" + b.name + "': no items with a text field in " + b.path);
    stage.info("benchmark '" + b.name + "': " + std::to_string(b.items) + " items from " + b.path);
  }
  std::sort(ngrams_.begin(), ngrams_.end());
  ngrams_.erase(std::unique(ngrams_.begin(), ngrams_.end()), ngrams_.end());
  ngrams_.shrink_to_fit();
  filter_.assign(kFilterWords, 0);
  for (const auto& [h, i] : ngrams_) filter_[(h >> 6) & (kFilterWords - 1)] |= uint64_t{1} << (h & 63);
  item_hits_ = std::make_unique<std::atomic<uint32_t>[]>(items_.size());
  bench_records_ = std::make_unique<std::atomic<int64_t>[]>(benchmarks_.size());
  stage.info("index: " + std::to_string(items_.size()) + " items, " + std::to_string(ngrams_.size()) + " " +
             std::to_string(ngram_) + "-gram postings");
}

void Decontaminate::process(Record& r) const {
  // Per-thread buffers; the field is read from the record text without a DOM parse (fields.hpp).
  thread_local std::string text, normalized;
  if (read_string_field(r, field_, text) != FieldKind::string)
    return r.reject("missing_field", "no string field '" + field_ + "'");
  normalized.clear();
  normalize_append(text, kNgramOptions, normalized);
  const std::vector<uint64_t> grams = word_ngram_hashes(normalized, ngram_);
  // Shared n-grams per item (items in ascending order; a record's n-grams are distinct).
  std::vector<std::pair<uint32_t, uint32_t>> shared;  // (item, count)
  {
    std::vector<uint32_t> hits;
    for (uint64_t h : grams) {
      if (!((filter_[(h >> 6) & (kFilterWords - 1)] >> (h & 63)) & 1)) continue;
      auto it = std::lower_bound(ngrams_.begin(), ngrams_.end(), std::pair<uint64_t, uint32_t>(h, 0));
      for (; it != ngrams_.end() && it->first == h; ++it) hits.push_back(it->second);
    }
    std::sort(hits.begin(), hits.end());
    for (size_t i = 0; i < hits.size();) {
      size_t j = i;
      while (j < hits.size() && hits[j] == hits[i]) ++j;
      shared.emplace_back(hits[i], static_cast<uint32_t>(j - i));
      i = j;
    }
  }
  auto shared_with = [&](uint32_t item) -> uint32_t {
    auto it = std::lower_bound(shared.begin(), shared.end(), std::pair<uint32_t, uint32_t>(item, 0));
    return it != shared.end() && it->first == item ? it->second : 0;
  };
  uint32_t item = UINT32_MAX, count = 0;
  const char* method = nullptr;
  if (exact_stripped_ && !stripped_.empty()) {
    normalized.clear();
    normalize_append(text, kStripOptions, normalized);
    std::erase(normalized, ' ');
    const std::string& s = normalized;
    if (!s.empty()) {
      if (auto it = stripped_.find(XXH3_64bits(s.data(), s.size())); it != stripped_.end()) {
        item = it->second;
        count = shared_with(item);
        method = "exact_stripped";
      }
    }
  }
  if (!method) {
    // The item sharing the most n-grams; ties go to the earliest (benchmark order, then line order).
    for (const auto& [i, c] : shared)
      if (c > count) item = i, count = c;
    const bool enough = count > 0 && static_cast<int64_t>(count) >= min_shared_ &&
                        (min_fraction_ <= 0 || static_cast<double>(count) >= min_fraction_ * grams.size());
    if (!enough) return;
    method = "ngram";
  }
  const Item& it = items_[item];
  const Benchmark& b = benchmarks_[it.benchmark];
  item_hits_[item].fetch_add(1, std::memory_order_relaxed);
  bench_records_[it.benchmark].fetch_add(1, std::memory_order_relaxed);
  (method[0] == 'n' ? by_ngram_ : by_exact_).fetch_add(1, std::memory_order_relaxed);
  r.annotate_json("contaminated_by", "{\"benchmark\":" + json::quote(b.name) + ",\"item\":" + it.id_json +
                                         ",\"shared_ngrams\":" + std::to_string(count) + ",\"method\":\"" +
                                         method + "\"}");
  std::string detail = "contaminated by " + b.name + " item " + it.id_json + " (";
  if (method[0] == 'n')
    detail += std::to_string(count) + " shared " + std::to_string(ngram_) + "-grams of " + std::to_string(grams.size()) + ")";
  else
    detail += "same text without digits, punctuation and whitespace)";
  r.reject("contaminated", detail);
}

void Decontaminate::finish(Stage& stage) {
  std::string out = "{\"ngram\":" + std::to_string(ngram_) + ",\"contaminated\":" +
                    std::to_string(by_ngram_.load() + by_exact_.load()) + ",\"by_method\":{\"ngram\":" +
                    std::to_string(by_ngram_.load()) + ",\"exact_stripped\":" + std::to_string(by_exact_.load()) +
                    "},\"benchmarks\":[";
  for (size_t bi = 0; bi < benchmarks_.size(); ++bi) {
    const Benchmark& b = benchmarks_[bi];
    std::string hits;
    uint32_t items_hit = 0;
    for (uint32_t i = b.first_item; i < b.first_item + b.items; ++i) {
      const uint32_t n = item_hits_[i].load();
      if (n == 0) continue;
      ++items_hit;
      if (!hits.empty()) hits += ',';
      hits += "{\"item\":" + items_[i].id_json + ",\"records\":" + std::to_string(n) + "}";
    }
    if (bi) out += ',';
    out += "{\"benchmark\":" + json::quote(b.name) + ",\"path\":" + json::quote(b.path) +
           ",\"items\":" + std::to_string(b.items) + ",\"records_matched\":" + std::to_string(bench_records_[bi].load()) +
           ",\"items_hit\":" + std::to_string(items_hit) + ",\"hits\":[" + hits + "]}";
    if (bench_records_[bi].load() > 0)
      stage.info(b.name + ": " + std::to_string(bench_records_[bi].load()) + " records matched " +
                 std::to_string(items_hit) + " of " + std::to_string(b.items) + " items");
  }
  out += "]}";
  stage.report(out);
}

}  // namespace tamis::dedup
