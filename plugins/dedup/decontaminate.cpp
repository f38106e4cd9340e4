// decontaminate: reject records that copy benchmark items, with the evidence (docs/dedup.md#decontamination).
#define XXH_INLINE_ALL  // the per-token and per-n-gram hashes inline (same values as the library's)
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <tamis/json.hpp>

#include "fields.hpp"
#include "decontaminate.hpp"
#include "ops.hpp"

namespace tamis::dedup {

namespace {

constexpr size_t kFilterWords = size_t{1} << 17;  // 2^23 bits, 1 MiB
// Token hashes: 61 bits of XXH3 and three flag bits.
constexpr uint64_t kNumberBit = uint64_t{1} << 63;  // a number
constexpr uint64_t kSymbolBit = uint64_t{1} << 62;  // a number or a one-letter word: must match in copies mode
constexpr uint64_t kFlexBit = uint64_t{1} << 61;    // a flexible word (kFlexible): editable in copies mode
constexpr uint64_t kHashBits = kFlexBit - 1;
constexpr size_t kExcerptBytes = 240, kSpanBytes = 240, kDetailSpanBytes = 100;
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

NormalizeOptions token_options() {
  NormalizeOptions o;
  o.whitespace = false;  // the tokenizer splits on every non-letter, non-digit byte
  return o;              // NFKC subset, LaTeX, lowercase
}

NormalizeOptions strip_options() {
  NormalizeOptions o;
  o.punctuation = true;
  o.digits = true;
  return o;
}

const NormalizeOptions kTokenOptions = token_options(), kStripOptions = strip_options();

constexpr bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
constexpr bool is_letter(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; }

// The tokenizer's byte classes: 1 a digit, 2 a letter, 0 a separator.
constexpr std::array<uint8_t, 256> kByteClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = is_digit(static_cast<unsigned char>(c)) ? 1 : is_letter(static_cast<unsigned char>(c)) ? 2 : 0;
  return t;
}();

// Words a rewording may change in a short item (copies mode): instruction and function words.
constexpr std::string_view kFlexible[] = {
    "a", "an", "and", "answer", "are", "as", "be", "calculate", "can", "compute", "determine", "do", "does",
    "evaluate", "exact", "exactly", "express", "find", "following", "for", "form", "give", "given", "how", "if",
    "in", "is", "it", "let", "much", "number", "of", "please", "problem", "question", "show", "simplest", "so",
    "solve", "suppose", "that", "the", "then", "this", "to", "value", "was", "what", "which", "will", "your"};

// The flexible words' hashes, sorted (a binary search per token instead of string compares).
const std::vector<uint64_t> kFlexHashes = [] {
  std::vector<uint64_t> v;
  for (std::string_view w : kFlexible) v.push_back(XXH3_64bits(w.data(), w.size()) & kHashBits);
  std::sort(v.begin(), v.end());
  return v;
}();
// A 1024-bit filter over those hashes (bits 0-9): most other words skip the binary search.
const std::array<uint64_t, 16> kFlexFilter = [] {
  std::array<uint64_t, 16> f{};
  for (uint64_t h : kFlexHashes) f[(h >> 6) & 15] |= uint64_t{1} << (h & 63);
  return f;
}();

// LaTeX command spellings that mean the same thing.
std::string_view canonical(std::string_view tok) {
  switch (tok.size()) {  // the lengths of the spellings below
    case 3:
      if (tok == "leq") return "le";
      if (tok == "geq") return "ge";
      if (tok == "neq") return "ne";
      break;
    case 5:
      if (tok == "ldots" || tok == "cdots") return "dots";
      if (tok == "dfrac" || tok == "tfrac") return "frac";
      break;
    case 8:
      if (tok == "leqslant") return "le";
      if (tok == "geqslant") return "ge";
      break;
    default: break;
  }
  return tok;
}

// The hash of one token. Numbers carry kNumberBit (with `mask`, every number has the same hash); the
// flexible words kFlexBit; symbols (numbers and one-letter words but "a" and "i") kSymbolBit.
uint64_t token_hash(std::string_view tok, bool mask) {
  if (is_digit(static_cast<unsigned char>(tok[0])))
    return kSymbolBit | kNumberBit | (mask ? 0x5bd1e995u : (XXH3_64bits(tok.data(), tok.size()) & kHashBits));
  tok = canonical(tok);
  uint64_t h = XXH3_64bits(tok.data(), tok.size()) & kHashBits;
  if (tok.size() == 1 && tok[0] != 'a' && tok[0] != 'i') h |= kSymbolBit;
  else if (tok.size() <= 9 && ((kFlexFilter[(h >> 6) & 15] >> (h & 63)) & 1) &&
           std::binary_search(kFlexHashes.begin(), kFlexHashes.end(), h))
    h |= kFlexBit;
  return h;
}

// A prefix of at most `max` bytes, cut at a UTF-8 boundary, with "..." when cut.
std::string excerpt(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end)) + "...";
}

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// One record's tokens, reused per thread.
struct Tokens {
  std::string norm;
  std::vector<std::pair<uint32_t, uint32_t>> spans;
  std::vector<uint64_t> hashes;     // per token (numbers masked in siblings mode)
  std::vector<uint64_t> positional; // per position, the n-gram hash (ngrams())
  std::array<uint64_t, 2> bloom{};
  void build(std::string_view text, bool mask) {
    word_tokens(text, norm, spans);
    hashes.clear();
    positional.clear();
    hashes.reserve(spans.size());
    bloom = {0, 0};
    for (const auto& [start, len] : spans) {
      const uint64_t h = token_hash(std::string_view(norm.data() + start, len), mask);
      hashes.push_back(h);
      bloom[(h >> 7) & 1] |= uint64_t{1} << (h & 63);
    }
  }
  // The n-gram hash at each position (as word_ngram_hashes computes them, unsorted, with repeats).
  void ngrams(size_t n) {
    positional.clear();
    for (size_t w = 0; w + n <= hashes.size(); ++w)
      positional.push_back(XXH3_64bits(hashes.data() + w, n * sizeof(uint64_t)));
  }
  // The sorted symbols (kSymbolBit) and other rigid words (neither symbols nor flexible) of tokens [from, to).
  void rigid(size_t from, size_t to, std::vector<uint64_t>& symbols, std::vector<uint64_t>& words) const {
    symbols.clear();
    words.clear();
    for (size_t i = from; i < to; ++i) {
      if (hashes[i] & kSymbolBit) symbols.push_back(hashes[i]);
      else if (!(hashes[i] & kFlexBit)) words.push_back(hashes[i]);
    }
    std::sort(symbols.begin(), symbols.end());
    std::sort(words.begin(), words.end());
  }
};

// One thread's buffers for process().
struct Buffers {
  std::string text, stripped;
  Tokens tk;
  std::vector<uint32_t> postings;
  std::vector<uint64_t> candidates, grams, symbols, words, missing;
};

// Not inlined: in a shared library GCC would otherwise recompute a thread-local's address (a
// __tls_get_addr call) at nearly every use, even through a reference.
[[gnu::noinline]] Buffers& thread_buffers() {
  thread_local Buffers buffers;
  return buffers;
}

}  // namespace

void word_tokens(std::string_view text, std::string& norm, std::vector<std::pair<uint32_t, uint32_t>>& tokens) {
  norm.clear();
  normalize_append(text, kTokenOptions, norm);
  tokens.clear();
  const auto* s = reinterpret_cast<const unsigned char*>(norm.data());
  const size_t n = norm.size();
  for (size_t i = 0; i < n;) {
    const uint8_t cls = kByteClass[s[i]];  // a run of digits or a run of letters
    if (cls == 0) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < n && kByteClass[s[j]] == cls) ++j;
    tokens.emplace_back(static_cast<uint32_t>(i), static_cast<uint32_t>(j - i));
    i = j;
  }
}

std::vector<uint64_t> word_ngram_hashes(const std::vector<uint64_t>& token_hashes, size_t n) {
  std::vector<uint64_t> out;
  if (n == 0 || token_hashes.size() < n) return out;
  out.reserve(token_hashes.size() - n + 1);
  for (size_t w = 0; w + n <= token_hashes.size(); ++w)
    out.push_back(XXH3_64bits(token_hashes.data() + w, n * sizeof(uint64_t)));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string stripped_text(std::string_view text) {
  std::string s = normalize(text, strip_options());
  std::erase(s, ' ');
  return s;
}

bool has_prose(std::string_view text) {
  int words = 0;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!is_letter(c)) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && is_letter(static_cast<unsigned char>(text[j]))) ++j;
    if (j - i >= 2 && (i == 0 || text[i - 1] != '\\')) ++words;
    i = j;
  }
  return words >= 3;
}

size_t token_edit_distance(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b, size_t limit, bool rigid) {
  const size_t big = limit + 1;
  const size_t n = a.size(), m = b.size();
  if ((n > m ? n - m : m - n) > limit) return big;
  // rigid: only flexible words may be inserted, deleted or replaced (by another flexible word).
  auto indel = [&](uint64_t t) { return !rigid || (t & kFlexBit) ? size_t{1} : big; };
  thread_local std::vector<size_t> prev, cur;
  prev.assign(m + 1, 0);
  cur.assign(m + 1, 0);
  for (size_t j = 1; j <= m; ++j) prev[j] = std::min(big, prev[j - 1] + indel(b[j - 1]));
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = std::min(big, prev[0] + indel(a[i - 1]));
    size_t row_min = cur[0];
    for (size_t j = 1; j <= m; ++j) {
      const size_t sub = a[i - 1] == b[j - 1]                               ? 0
                         : !rigid || (a[i - 1] & b[j - 1] & kFlexBit) != 0 ? 1
                                                                            : big;
      size_t v = std::min({prev[j - 1] + sub, prev[j] + indel(a[i - 1]), cur[j - 1] + indel(b[j - 1])});
      cur[j] = std::min(v, big);
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > limit) return big;
    std::swap(prev, cur);
  }
  return std::min(prev[m], big);
}

const ParamTable Decontaminate::params = {
    {.name = "field", .type = ParamType::string, .default_json = "\"problem\"",
     .help = "the record's text field (a record without it is rejected `missing_field`)"},
    {.name = "references", .type = ParamType::json, .required = true,
     .help = "benchmark reference sets: a list of {name, path (JSONL, relative to the pipeline file), fields "
             "(default [problem]), id (item id field, default id; else the line number)}",
     .files = FileRole::input, .paths_at = "*.path"},
    {.name = "match", .type = ParamType::string, .default_json = "\"copies\"",
     .help = "copies: copies and rewordings of an item, with the item's numbers (the default); siblings: also "
             "template siblings, the same text with other numbers (numbers masked)"},
    {.name = "ngram", .type = ParamType::integer, .default_json = "5",
     .help = "word n-gram length (words: runs of letters or of digits, lowercased, LaTeX delimiters dropped)"},
    {.name = "min_coverage", .type = ParamType::number, .default_json = "0.5",
     .help = "share (0-1] of an item's informative n-grams that a record must hold to be its copy"},
    {.name = "boilerplate", .type = ParamType::integer, .default_json = "3",
     .help = "an n-gram found in this many items of one benchmark is boilerplate: it does not count"},
    {.name = "max_edits", .type = ParamType::integer, .default_json = "2",
     .help = "short items (up to short_words words): a record that is the item with this many word edits is a "
             "copy (at most one edit per 5 words of the item; in copies mode numbers may not be edited)"},
    {.name = "short_words", .type = ParamType::integer, .default_json = "24",
     .help = "items of at most this many words are also matched by word edit distance (max_edits)"},
    {.name = "min_shared", .type = ParamType::integer, .default_json = "1",
     .help = "informative n-grams a record must share with an item, at least (besides min_coverage)"},
    {.name = "min_fraction", .type = ParamType::number,
     .help = "optional: also require this fraction (0-1] of the record's distinct n-grams to be shared"},
    {.name = "exact_stripped", .type = ParamType::boolean, .default_json = "false",
     .help = "also match exactly after removing digits, punctuation and whitespace, for texts with at least 3 "
             "prose words (off by default: it equates template siblings; match: siblings is the better choice)"},
};

void Decontaminate::check(const Params& p) {
  if (p.get_string("field").empty()) throw Error("field is empty");
  const std::string match = p.get_string("match");
  if (match != "copies" && match != "siblings")
    throw Error("match must be copies or siblings, not '" + match + "'");
  if (p.get_int("ngram") < 1) throw Error("ngram must be at least 1");
  if (p.get_int("min_shared") < 1) throw Error("min_shared must be at least 1");
  const double c = p.get_double("min_coverage");
  if (!(c > 0 && c <= 1)) throw Error("min_coverage must be in (0, 1]");
  if (p.get_int("boilerplate") < 2) throw Error("boilerplate must be at least 2");
  if (p.get_int("max_edits") < 0) throw Error("max_edits must be at least 0");
  if (p.get_int("short_words") < 0) throw Error("short_words must be at least 0");
  if (p.has("min_fraction")) {
    const double f = p.get_double("min_fraction");
    if (!(f > 0 && f <= 1)) throw Error("min_fraction must be in (0, 1]");
  }
  parse_references(p.get_json("references"));
}

Decontaminate::Decontaminate(const Params& p, Stage& stage)
    : field_(p.get_string("field")), ngram_(static_cast<size_t>(p.get_int("ngram"))),
      min_shared_(p.get_int("min_shared")), min_coverage_(p.get_double("min_coverage")),
      boilerplate_(p.get_int("boilerplate")), max_edits_(p.get_int("max_edits")),
      short_words_(static_cast<size_t>(p.get_int("short_words"))), siblings_(p.get_string("match") == "siblings"),
      exact_stripped_(p.get_bool("exact_stripped")) {
  if (p.has("min_fraction")) min_fraction_ = p.get_double("min_fraction");
  benchmarks_ = parse_references(p.get_json("references"));
  simdjson::dom::parser parser;
  Tokens tk;
  for (uint32_t bi = 0; bi < benchmarks_.size(); ++bi) {
    Benchmark& b = benchmarks_[bi];
    std::filesystem::path path(b.path);
    if (path.is_relative()) path = std::filesystem::path(stage.pipeline_dir()) / path;
    b.path = path.lexically_normal().string();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("benchmark '" + b.name + "': cannot open " + b.path);
    b.first_item = static_cast<uint32_t>(items_.size());
    const auto first_unit = static_cast<uint32_t>(units_.size());
    std::vector<std::pair<uint64_t, uint32_t>> grams;  // this benchmark's (n-gram, unit)
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
        tk.build(text, siblings_);
        if (tk.hashes.empty()) continue;
        Unit u;
        u.item = index;
        u.tokens = static_cast<uint32_t>(tk.hashes.size());
        std::vector<uint64_t> unit_grams = word_ngram_hashes(tk.hashes, ngram_);
        for (uint64_t h : unit_grams) grams.emplace_back(h, static_cast<uint32_t>(units_.size()));
        if (!siblings_) {
          tk.rigid(0, tk.hashes.size(), u.symbols, u.words);
          u.grams = std::move(unit_grams);
        }
        u.excerpt = excerpt(text, kExcerptBytes);
        if (u.tokens <= short_words_) {
          u.short_item = true;
          u.sequence = tk.hashes;
          u.bloom = tk.bloom;
        }
        const auto ui = static_cast<uint32_t>(units_.size());
        units_.push_back(std::move(u));
        if (exact_stripped_ && has_prose(text)) {
          const std::string s = stripped_text(text);
          if (!s.empty()) stripped_.try_emplace(XXH3_64bits(s.data(), s.size()), ui);
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
    // Boilerplate: n-grams in `boilerplate` or more items of this benchmark (an item's fields count once).
    std::sort(grams.begin(), grams.end());
    grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
    const size_t merged = ngrams_.size();  // ngrams_[0, merged) is sorted; this benchmark's postings follow, sorted
    std::vector<uint32_t> items;
    for (size_t i = 0; i < grams.size();) {
      size_t j = i;
      items.clear();
      while (j < grams.size() && grams[j].first == grams[i].first) items.push_back(units_[grams[j++].second].item);
      items.erase(std::unique(items.begin(), items.end()), items.end());
      if (static_cast<int64_t>(items.size()) >= boilerplate_) {
        ++b.boilerplate;
      } else {
        for (size_t k = i; k < j; ++k) {
          ngrams_.push_back(grams[k]);
          ++units_[grams[k].second].informative;
        }
      }
      i = j;
    }
    std::inplace_merge(ngrams_.begin(), ngrams_.begin() + static_cast<std::ptrdiff_t>(merged), ngrams_.end());
    for (uint32_t ui = first_unit; ui < units_.size(); ++ui) {
      Unit& u = units_[ui];
      // Need: min_coverage of the informative n-grams, at least min_shared; an item with fewer than 3
      // informative n-grams is matched only by edit distance (when short).
      if (u.informative >= 3)
        u.need = static_cast<uint32_t>(std::max<double>(static_cast<double>(min_shared_),
                                                        std::ceil(min_coverage_ * u.informative - 1e-9)));
      if (u.short_item) {
        if (short_by_length_.size() <= u.tokens) short_by_length_.resize(u.tokens + 1);
        short_by_length_[u.tokens].push_back(
            {ui, static_cast<uint32_t>(std::min<size_t>(static_cast<size_t>(max_edits_), u.tokens / 5)), u.bloom});
        max_short_tokens_ = std::max<size_t>(max_short_tokens_, u.tokens);
      }
    }
    stage.info("benchmark '" + b.name + "': " + std::to_string(b.items) + " items from " + b.path + ", " +
               std::to_string(b.boilerplate) + " boilerplate " + std::to_string(ngram_) + "-grams");
  }
  ngrams_.shrink_to_fit();  // sorted: merged benchmark by benchmark
  filter_.assign(kFilterWords, 0);
  for (const auto& [h, i] : ngrams_) filter_[(h >> 6) & (kFilterWords - 1)] |= uint64_t{1} << (h & 63);
  bucket_starts_.assign((size_t{1} << kBucketBits) + 1, 0);
  for (const auto& [h, i] : ngrams_) ++bucket_starts_[(h >> (64 - kBucketBits)) + 1];
  for (size_t k = 1; k < bucket_starts_.size(); ++k) bucket_starts_[k] += bucket_starts_[k - 1];
  item_hits_ = std::make_unique<std::atomic<uint32_t>[]>(items_.size());
  bench_records_ = std::make_unique<std::atomic<int64_t>[]>(benchmarks_.size());
  stage.info("index: " + std::to_string(items_.size()) + " items, " + std::to_string(ngrams_.size()) + " " +
             std::to_string(ngram_) + "-gram postings");
}

// A candidate match of one record with one unit.
struct Decontaminate::Hit {
  uint32_t unit = UINT32_MAX;
  const char* method = nullptr;  // "ngram", "edit", "exact_stripped"
  uint32_t shared = 0;           // informative n-grams shared (ngram)
  uint32_t edits = 0;            // word edits (edit)
  double score = 0;              // coverage (ngram), 1 - edits / words (edit), 1 (exact_stripped)
  size_t first = 0, last = 0;    // the record's matching words (tokens first..last)
  std::string span;              // the record's words that match
};

bool Decontaminate::better(const Hit& a, const Hit& b) const {
  if (b.unit == UINT32_MAX) return true;
  if (a.score != b.score) return a.score > b.score;
  return units_[a.unit].item < units_[b.unit].item;
}

void Decontaminate::process(Record& r) const {
  // Per-thread buffers (one thread-local lookup per record); the field is read from the record text
  // without a DOM parse (fields.hpp).
  Buffers& buf = thread_buffers();
  std::string &text = buf.text, &stripped = buf.stripped;
  Tokens& tk = buf.tk;
  std::vector<uint32_t>& postings = buf.postings;
  std::vector<uint64_t> &candidates = buf.candidates, &grams = buf.grams, &symbols = buf.symbols, &words = buf.words,
                        &missing = buf.missing;
  if (read_string_field(r, field_, text) != FieldKind::string)
    return r.reject_missing_field(field_, "missing_field", "no string field '" + field_ + "'");
  tk.build(text, siblings_);
  tk.ngrams(ngram_);
  // The record's distinct n-grams that pass the bit filter (most pass none: no sort, no search), then
  // their postings.
  candidates.clear();
  for (uint64_t h : tk.positional)
    if ((filter_[(h >> 6) & (kFilterWords - 1)] >> (h & 63)) & 1) candidates.push_back(h);
  postings.clear();
  if (!candidates.empty()) {
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (uint64_t h : candidates) {
      const uint64_t bucket = h >> (64 - kBucketBits);
      for (uint32_t k = bucket_starts_[bucket], end = bucket_starts_[bucket + 1]; k < end; ++k)
        if (ngrams_[k].first == h) postings.push_back(ngrams_[k].second);
    }
  }
  // The record's distinct n-grams, counted only for min_fraction.
  size_t distinct = SIZE_MAX;
  auto distinct_grams = [&] {
    if (distinct == SIZE_MAX) {
      grams.assign(tk.positional.begin(), tk.positional.end());
      std::sort(grams.begin(), grams.end());
      distinct = static_cast<size_t>(std::unique(grams.begin(), grams.end()) - grams.begin());
    }
    return distinct;
  };
  Hit best;
  // The n-gram path: the units whose informative n-grams the record covers.
  if (!postings.empty()) {
    std::sort(postings.begin(), postings.end());
    for (size_t i = 0; i < postings.size();) {
      size_t j = i;
      while (j < postings.size() && postings[j] == postings[i]) ++j;
      const uint32_t ui = postings[i];
      const auto count = static_cast<uint32_t>(j - i);
      i = j;
      const Unit& u = units_[ui];
      if (u.need == 0 || count < u.need) continue;
      if (min_fraction_ > 0 && static_cast<double>(count) < min_fraction_ * static_cast<double>(distinct_grams())) continue;
      Hit h;
      h.unit = ui;
      h.method = "ngram";
      h.shared = count;
      h.score = static_cast<double>(count) / u.informative;
      if (!better(h, best)) continue;
      // The window: from the first to the last record n-gram that is an informative n-gram of the unit.
      // In copies mode the window reaches the unit's boilerplate n-grams too.
      size_t first = SIZE_MAX, last = 0;
      for (size_t w = 0; w < tk.positional.size(); ++w)
        if (siblings_ ? std::binary_search(ngrams_.begin(), ngrams_.end(), std::pair<uint64_t, uint32_t>(tk.positional[w], ui))
                      : std::binary_search(u.grams.begin(), u.grams.end(), tk.positional[w])) {
          first = std::min(first, w);
          last = w;
        }
      h.first = first;
      h.last = last + ngram_ - 1;
      if (!siblings_) {
        // Copies: the window holds no symbol (number, one-letter word) that the item lacks (as multisets);
        // the window widened by n - 1 words each side (words changed at its edges break the n-grams that
        // reach them) holds all of the item's symbols, and all but one in 20 of its other words
        // (flexible words aside).
        tk.rigid(h.first, h.last + 1, symbols, words);
        if (!std::includes(u.symbols.begin(), u.symbols.end(), symbols.begin(), symbols.end())) continue;
        tk.rigid(h.first >= ngram_ - 1 ? h.first - (ngram_ - 1) : 0, std::min(tk.hashes.size(), h.last + ngram_), symbols, words);
        if (!std::includes(symbols.begin(), symbols.end(), u.symbols.begin(), u.symbols.end())) continue;
        missing.clear();
        std::set_difference(u.words.begin(), u.words.end(), words.begin(), words.end(), std::back_inserter(missing));
        if (missing.size() > u.words.size() / 20) continue;
      }
      best = std::move(h);
    }
  }
  // The edit path: a record about as long as a short item, with its tokens.
  if (max_short_tokens_ > 0 && tk.hashes.size() <= max_short_tokens_ + static_cast<size_t>(max_edits_)) {
    const size_t n = tk.hashes.size();
    const size_t lo = n > static_cast<size_t>(max_edits_) ? n - static_cast<size_t>(max_edits_) : 0;
    const size_t hi = std::min(n + static_cast<size_t>(max_edits_), short_by_length_.size() - 1);
    for (size_t len = lo; len <= hi; ++len) {
      for (const ShortUnit& su : short_by_length_[len]) {
        const size_t allowed = su.allowed;
        if ((n > len ? n - len : len - n) > allowed) continue;
        // Every token of the item missing from the record is one edit at least: so are the item's bloom
        // bits missing from the record's (counted up to allowed + 1 only: most units miss many).
        uint64_t absent0 = su.bloom[0] & ~tk.bloom[0], absent1 = su.bloom[1] & ~tk.bloom[1];
        size_t absent = 0;
        for (; absent0 != 0 && absent <= allowed; ++absent) absent0 &= absent0 - 1;
        for (; absent1 != 0 && absent <= allowed; ++absent) absent1 &= absent1 - 1;
        if (absent > allowed) continue;
        const uint32_t ui = su.unit;
        const Unit& u = units_[ui];
        const size_t d = token_edit_distance(u.sequence, tk.hashes, allowed, !siblings_);
        if (d > allowed) continue;
        Hit h;
        h.unit = ui;
        h.method = "edit";
        h.edits = static_cast<uint32_t>(d);
        h.score = 1.0 - static_cast<double>(d) / u.tokens;
        h.first = 0;
        h.last = n - 1;
        if (better(h, best)) best = std::move(h);
      }
    }
  }
  if (exact_stripped_ && !stripped_.empty() && best.score < 1) {
    stripped.clear();
    normalize_append(text, kStripOptions, stripped);
    std::erase(stripped, ' ');
    if (!stripped.empty() && has_prose(text)) {
      if (auto it = stripped_.find(XXH3_64bits(stripped.data(), stripped.size())); it != stripped_.end()) {
        Hit h;
        h.unit = it->second;
        h.method = "exact_stripped";
        h.score = 1;
        h.first = 0;
        h.last = tk.hashes.empty() ? 0 : tk.hashes.size() - 1;
        if (better(h, best)) best = std::move(h);
      }
    }
  }
  if (best.unit == UINT32_MAX) return;

  // Evidence: the record's words that match (the n-gram window, or the whole record).
  const Unit& u = units_[best.unit];
  if (!tk.spans.empty() && best.first < tk.spans.size()) {
    const size_t last = std::min(best.last, tk.spans.size() - 1);
    const size_t from = tk.spans[best.first].first, to = tk.spans[last].first + tk.spans[last].second;
    best.span = tk.norm.substr(from, to - from);
  }
  const Item& it = items_[u.item];
  const Benchmark& b = benchmarks_[it.benchmark];
  item_hits_[u.item].fetch_add(1, std::memory_order_relaxed);
  bench_records_[it.benchmark].fetch_add(1, std::memory_order_relaxed);
  (best.method[0] == 'n' ? by_ngram_ : best.method[0] == 'e' ? by_edit_ : by_exact_).fetch_add(1, std::memory_order_relaxed);
  const std::string evidence = evidence_json(best);
  r.annotate_json("contaminated_by", evidence);
  std::string detail = "contaminated by " + b.name + " item " + it.id_json + " (";
  if (best.method[0] == 'n')
    detail += std::to_string(best.shared) + " of its " + std::to_string(u.informative) + " informative " +
              std::to_string(ngram_) + "-grams, coverage " + fixed(best.score, 2);
  else if (best.method[0] == 'e')
    detail += std::to_string(best.edits) + " word edits of " + std::to_string(u.tokens);
  else
    detail += "same text without digits, punctuation and whitespace";
  detail += "): \"" + excerpt(best.span, kDetailSpanBytes) + "\"";
  r.reject("contaminated", detail);
  // The item's example: the hit with the smallest record key.
  const std::string id(r.id());
  std::string key_text = id + '\n' + std::string(r.file()) + '\n' + std::to_string(r.line());
  const uint64_t key = XXH3_64bits(key_text.data(), key_text.size());
  std::lock_guard lock(examples_mutex_);
  Example& ex = examples_[u.item];
  if (key < ex.key) ex = {key, "{\"record\":" + json::quote(id) + ",\"evidence\":" + evidence + "}"};
}

std::string Decontaminate::evidence_json(const Hit& h) const {
  const Unit& u = units_[h.unit];
  const Item& it = items_[u.item];
  std::string out = "{\"benchmark\":" + json::quote(benchmarks_[it.benchmark].name) + ",\"item\":" + it.id_json +
                    ",\"method\":\"" + h.method + "\",\"score\":" + fixed(h.score, 3);
  if (h.method[0] == 'n')
    out += ",\"shared_ngrams\":" + std::to_string(h.shared) + ",\"item_ngrams\":" + std::to_string(u.informative);
  else if (h.method[0] == 'e')
    out += ",\"edits\":" + std::to_string(h.edits) + ",\"item_words\":" + std::to_string(u.tokens);
  out += ",\"item_text\":" + json::quote(u.excerpt) + ",\"span\":" + json::quote(excerpt(h.span, kSpanBytes)) + "}";
  return out;
}

void Decontaminate::finish(Stage& stage) {
  std::string out = "{\"match\":\"" + std::string(siblings_ ? "siblings" : "copies") + "\",\"ngram\":" +
                    std::to_string(ngram_) + ",\"min_coverage\":" + fixed(min_coverage_, 3) + ",\"contaminated\":" +
                    std::to_string(by_ngram_.load() + by_edit_.load() + by_exact_.load()) +
                    ",\"by_method\":{\"ngram\":" + std::to_string(by_ngram_.load()) + ",\"edit\":" +
                    std::to_string(by_edit_.load()) + ",\"exact_stripped\":" + std::to_string(by_exact_.load()) +
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
      hits += "{\"item\":" + items_[i].id_json + ",\"records\":" + std::to_string(n);
      if (auto ex = examples_.find(i); ex != examples_.end()) hits += ",\"example\":" + ex->second.json;
      hits += "}";
    }
    if (bi) out += ',';
    out += "{\"benchmark\":" + json::quote(b.name) + ",\"path\":" + json::quote(b.path) +
           ",\"items\":" + std::to_string(b.items) + ",\"boilerplate_ngrams\":" + std::to_string(b.boilerplate) +
           ",\"records_matched\":" + std::to_string(bench_records_[bi].load()) +
           ",\"items_hit\":" + std::to_string(items_hit) + ",\"hits\":[" + hits + "]}";
    if (bench_records_[bi].load() > 0)
      stage.info(b.name + ": " + std::to_string(bench_records_[bi].load()) + " records matched " +
                 std::to_string(items_hit) + " of " + std::to_string(b.items) + " items");
  }
  out += "]}";
  stage.report(out);
}

}  // namespace tamis::dedup
