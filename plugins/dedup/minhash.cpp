#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <algorithm>
#include <cmath>

#include <tamis/files.hpp>
#include "fields.hpp"
#include "ops.hpp"

namespace tamis::dedup {

namespace {
const char* const kShingleChoices[] = {"words", "chars", nullptr};
const char* const kVerifyChoices[] = {"jaccard", "signature", nullptr};
const char* const kPreferChoices[] = {"answer", "source", "longer", nullptr};

// splitmix64: the permutation seeds.
uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Probability that a pair of Jaccard s becomes a candidate with b bands of r rows.
double candidate_probability(double s, int b, int r) { return 1.0 - std::pow(1.0 - std::pow(s, r), b); }

double integrate(double lo, double hi, auto f) {
  constexpr int steps = 200;
  const double h = (hi - lo) / steps;
  double sum = 0;
  for (int i = 0; i < steps; ++i) sum += f(lo + (i + 0.5) * h) * h;
  return sum;
}

// A word n-gram's hash from its words' hashes: order-sensitive (multiply-xorshift chain), then the
// splitmix64 finaliser.
uint64_t combine_words(const uint64_t* w, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ULL * (n + 1);
  for (size_t j = 0; j < n; ++j) {
    h = (h ^ w[j]) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
  }
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
  return h ^ (h >> 31);
}

// Exact Jaccard of two sorted, distinct hash sets when it is at least t; otherwise some value below t.
// The merge stops as soon as even matching every remaining element could not reach t: x / (na + nb - x)
// grows with x, so the bound is computed exactly as the final value would be.
double jaccard_at_least(const uint64_t* a, size_t na, const uint64_t* b, size_t nb, double t) {
  if (na == 0 && nb == 0) return 1.0;
  const double total = static_cast<double>(na + nb);
  size_t i = 0, j = 0, both = 0;
  while (i < na && j < nb) {
    if (((i + j) & 7) == 0) {
      const auto most = static_cast<double>(both + std::min(na - i, nb - j));
      if (most / (total - most) < t) return most / (total - most);
    }
    if (a[i] < b[j]) ++i;
    else if (b[j] < a[i]) ++j;
    else { ++both; ++i; ++j; }
  }
  return static_cast<double>(both) / (total - static_cast<double>(both));
}

// The signature: per hash function i, the minimum over shingles x of (mul[i] * x + add[i]) >> 32.
// Cloned per ISA (GCC target_clones, chosen at load time) and vectorised: with AVX-512 the 64-bit
// multiplies run 8 at a time; a portable -O2 build alone runs this loop about 3x slower.
__attribute__((target_clones("arch=icelake-server", "avx2", "default"), optimize("tree-vectorize")))
void signature_of(const uint64_t* sh, size_t n, const uint64_t* mul, const uint64_t* add, uint32_t* sig, size_t perms) {
  for (size_t i = 0; i < perms; ++i) sig[i] = UINT32_MAX;
  for (size_t k = 0; k < n; ++k) {
    const uint64_t x = sh[k];
    for (size_t i = 0; i < perms; ++i) {
      const auto v = static_cast<uint32_t>((mul[i] * x + add[i]) >> 32);
      sig[i] = v < sig[i] ? v : sig[i];
    }
  }
}
}  // namespace

std::pair<int, int> minhash_bands(int num_perm, double threshold) {
  // Minimise the false positive area (below the threshold) plus the false negative area (above it) over
  // every bands x rows <= num_perm, weighted 0.05 / 0.95: candidates are confirmed by Jaccard, so a
  // false positive costs a comparison while a false negative loses a duplicate. At 128 permutations
  // and threshold 0.8 this gives 16 x 8: a pair at Jaccard 0.85 becomes a candidate with p = 0.994.
  double best = 1e300;
  std::pair<int, int> out{1, num_perm};
  for (int b = 1; b <= num_perm; ++b) {
    for (int r = 1; b * r <= num_perm; ++r) {
      const double fp = integrate(0.0, threshold, [&](double s) { return candidate_probability(s, b, r); });
      const double fn = integrate(threshold, 1.0, [&](double s) { return 1.0 - candidate_probability(s, b, r); });
      if (0.05 * fp + 0.95 * fn < best) {
        best = 0.05 * fp + 0.95 * fn;
        out = {b, r};
      }
    }
  }
  return out;
}

const ParamTable MinHash::params = [] {
  ParamTable t = {
      {.name = "field", .type = ParamType::string, .default_json = "\"problem\"", .help = "the text field"},
      {.name = "shingle", .type = ParamType::string, .default_json = "\"words\"",
       .help = "shingles: word n-grams or character n-grams (of the normalised text)", .choices = kShingleChoices},
      {.name = "ngram", .type = ParamType::integer, .default_json = "5", .help = "shingle length, in words or characters"},
      {.name = "num_perm", .type = ParamType::integer, .default_json = "128", .help = "signature length (hash functions)"},
      {.name = "threshold", .type = ParamType::number, .default_json = "0.8",
       .help = "Jaccard similarity at or above which a record is a near duplicate"},
      {.name = "bands", .type = ParamType::integer, .default_json = "0",
       .help = "LSH bands; 0: chosen with rows to minimise false positives + false negatives at the threshold"},
      {.name = "rows", .type = ParamType::integer, .default_json = "0", .help = "LSH rows per band (with bands; 0: chosen)"},
      {.name = "verify", .type = ParamType::string, .default_json = "\"jaccard\"",
       .help = "how candidates are confirmed: exact Jaccard of the shingle sets, or the signature estimate",
       .choices = kVerifyChoices},
      {.name = "prefer", .type = ParamType::string_list, .default_json = "[]",
       .help = "survivor policy: criteria, most important first: `answer` (a non-empty answer_field), `source` "
               "(earlier in source_rank), `longer` (longer text); ties and [] (default): the first in input order. "
               "Not empty: a first pass over the input (see docs/dedup.md)",
       .choices = kPreferChoices},
      {.name = "answer_field", .type = ParamType::string, .default_json = "\"answer\"",
       .help = "the answer field for `prefer: [answer]`"},
      {.name = "source_rank", .type = ParamType::string_list, .default_json = "[]",
       .help = "source names, preferred first, for `prefer: [source]` (unlisted sources come after them)"},
      {.name = "max_candidates", .type = ParamType::integer, .default_json = "256",
       .help = "verify at most this many candidates per record, those sharing the most bands (0: all); records "
               "over it are counted as `capped` in the report (see docs/dedup.md)"},
      {.name = "seed", .type = ParamType::integer, .default_json = "1", .help = "seed of the hash functions"},
      {.name = "load_index", .type = ParamType::path,
       .help = "an index saved by an earlier run (same settings): its survivors count as earlier records"},
      {.name = "save_index", .type = ParamType::path,
       .help = "write the index (loaded and new survivors) here at the end, atomically"},
      {.name = "clusters", .type = ParamType::path,
       .help = "optional: write every cluster with near duplicates here at the end (JSONL: survivor, members, similarities)"},
  };
  add_normalize_params(t);
  return t;
}();

void MinHash::check(const Params& p) {
  if (p.get_int("ngram") < 1) throw Error("ngram must be at least 1");
  if (p.get_int("max_candidates") < 0) throw Error("max_candidates must be 0 (no limit) or more");
  const auto prefer = p.get_strings("prefer");
  if (prefer.size() > 3) throw Error("prefer lists each criterion at most once");
  for (size_t i = 0; i < prefer.size(); ++i)
    for (size_t j = i + 1; j < prefer.size(); ++j)
      if (prefer[i] == prefer[j]) throw Error("prefer lists '" + prefer[i] + "' twice");
  if (!prefer.empty() && (p.has("save_index") || p.has("load_index")))
    throw Error("save_index and load_index work with the input-order survivor only (prefer: [])");
  if (std::find(prefer.begin(), prefer.end(), "source") != prefer.end() && p.get_strings("source_rank").empty())
    throw Error("prefer: [source] needs source_rank (source names, preferred first)");
  const int64_t n = p.get_int("num_perm");
  if (n < 1 || n > 1024) throw Error("num_perm must be within [1, 1024]");
  const double t = p.get_double("threshold");
  if (!(t > 0.0 && t <= 1.0)) throw Error("threshold must be within (0, 1]");
  const int64_t b = p.get_int("bands"), r = p.get_int("rows");
  if ((b == 0) != (r == 0)) throw Error("give both bands and rows, or neither");
  if (b < 0 || r < 0 || b * r > n) throw Error("bands x rows must be at most num_perm");
}

MinHash::MinHash(const Params& p, Stage& stage)
    : field_(p.get_string("field")), norm_(read_normalize_params(p)), words_(p.get_string("shingle") == "words"),
      ngram_(static_cast<size_t>(p.get_int("ngram"))), threshold_(p.get_double("threshold")),
      verify_exact_(p.get_string("verify") == "jaccard"), max_candidates_(static_cast<size_t>(p.get_int("max_candidates"))) {
  const int num_perm = static_cast<int>(p.get_int("num_perm"));
  if (p.get_int("bands") > 0) {
    bands_ = static_cast<int>(p.get_int("bands"));
    rows_ = static_cast<int>(p.get_int("rows"));
  } else {
    std::tie(bands_, rows_) = minhash_bands(num_perm, threshold_);
  }
  for (const auto& c : p.get_strings("prefer"))
    prefer_.push_back(c == "answer" ? Prefer::answer : c == "source" ? Prefer::source : Prefer::longer);
  answer_field_ = p.get_string("answer_field");
  source_rank_ = p.get_strings("source_rank");
  seed_ = p.get_int("seed");
  uint64_t s = static_cast<uint64_t>(seed_);
  for (int i = 0; i < num_perm; ++i) {
    mul_.push_back(splitmix(s) | 1);
    add_.push_back(splitmix(s));
  }
  slots_.resize(1 << 16);
  if (p.has("clusters")) clusters_path_ = p.get_string("clusters");
  if (p.has("save_index")) save_path_ = p.get_string("save_index");
  if (p.has("load_index")) {
    load(p.get_string("load_index"));
    stage.info("loaded " + std::to_string(ids_.size()) + " survivors from " + p.get_string("load_index"));
  }
  stage.info("num_perm " + std::to_string(num_perm) + ", " + std::to_string(bands_) + " bands x " + std::to_string(rows_) +
             " rows at threshold " + json::number(threshold_));
}

int64_t MinHash::preference(const Record& r, Prefer what, std::string_view text) const {
  switch (what) {
    case Prefer::answer: {
      thread_local std::string answer;
      if (read_string_field(r, answer_field_, answer) != FieldKind::string) return 0;
      return answer.find_first_not_of(" \t\r\n") != std::string::npos ? 1 : 0;
    }
    case Prefer::source: {
      const auto it = std::find(source_rank_.begin(), source_rank_.end(), r.source());
      return -static_cast<int64_t>(it - source_rank_.begin());  // unlisted sources: after every listed one
    }
    case Prefer::longer:
      return static_cast<int64_t>(text.size());
  }
  return 0;
}

MinHash::Prepared MinHash::prepare(Record& r) const {
  Prepared out;
  thread_local std::string text, t;
  switch (read_string_field(r, field_, text)) {
    case FieldKind::string: break;
    default:
      r.reject("missing_field", "no string field '" + field_ + "'");
      return out;
  }
  for (size_t i = 0; i < prefer_.size(); ++i) out.score[i] = preference(r, prefer_[i], text);
  t.clear();
  normalize_append(text, norm_, t);
  // Shingles: word n-grams (a text with fewer words is one shingle) or character n-grams, hashed.
  std::vector<uint64_t>& sh = out.shingles;
  if (words_) {
    // Each word is hashed once; an n-gram's hash combines its words' hashes (order matters), so a
    // word is not re-hashed for each of the n shingles it belongs to.
    thread_local std::vector<uint64_t> w;
    w.clear();
    for (size_t i = 0; i < t.size();) {
      while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\t')) ++i;
      const size_t b = i;
      while (i < t.size() && !(t[i] == ' ' || t[i] == '\n' || t[i] == '\t')) ++i;
      if (i > b) w.push_back(XXH3_64bits(t.data() + b, i - b));
    }
    if (!w.empty()) {
      const size_t n = std::min(ngram_, w.size());
      sh.reserve(w.size() - n + 1);
      for (size_t k = 0; k + n <= w.size(); ++k) sh.push_back(combine_words(w.data() + k, n));
    }
  } else {
    const size_t n = std::min(ngram_, t.size());
    if (n > 0)
      for (size_t k = 0; k + n <= t.size(); ++k) sh.push_back(XXH3_64bits(t.data() + k, n));
  }
  std::sort(sh.begin(), sh.end());
  sh.erase(std::unique(sh.begin(), sh.end()), sh.end());
  // Signature, then the band keys (both pure functions of the text: computed here, in parallel).
  const size_t perms = mul_.size();
  thread_local std::vector<uint32_t> sig;
  sig.resize(perms);
  signature_of(sh.data(), sh.size(), mul_.data(), add_.data(), sig.data(), perms);
  const auto bands = static_cast<size_t>(bands_), rows = static_cast<size_t>(rows_);
  out.band_keys.resize(bands);
  for (size_t b = 0; b < bands; ++b)  // the band number is mixed in, so one table serves every band
    out.band_keys[b] = XXH3_64bits_withSeed(sig.data() + b * rows, sizeof(uint32_t) * rows, b);
  if (!verify_exact_) {  // the signature decides: the shingles are not needed any more
    out.signature.assign(sig.begin(), sig.end());
    sh = {};
  }
  return out;
}

// A band key's slot: the table is positioned and matched by the key's high 32 bits, which is all a
// slot keeps (8 bytes instead of 16). Two band keys with the same high half share a chain; that only
// adds candidates, which verification then rejects, with a chance of about (distinct keys) / 2^32 per
// lookup.
MinHash::Slot& MinHash::slot(uint32_t fp) {
  const size_t mask = slots_.size() - 1;
  for (size_t i = fp & mask;; i = (i + 1) & mask) {
    Slot& sl = slots_[i];
    if (sl.head == npos || sl.fp == fp) return sl;
  }
}

void MinHash::grow() {
  if (slots_.size() >= (size_t{1} << 31)) throw Error("dedup.minhash: band table full");
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  for (const Slot& sl : old)
    if (sl.head != npos) slot(sl.fp) = sl;
}

uint32_t MinHash::find_match(const Prepared& p, double& best_sim) {
  // Candidates: survivors sharing at least one band, each once, checked in input order, so that the
  // earliest survivor at or above the threshold is the match. On a large index every step here is a
  // cache miss (a slot, a chain node, a survivor's shingles), so the independent ones are issued
  // together: the bands' chains are walked side by side, one node of each per round, and the
  // candidates' shingle sets are prefetched a few candidates ahead.
  const auto bands = static_cast<size_t>(bands_);
  cursors_.resize(bands);
  for (size_t b = 0; b < bands; ++b) __builtin_prefetch(&slots_[fingerprint(p.band_keys[b]) & (slots_.size() - 1)]);
  candidates_.clear();
  for (size_t b = 0; b < bands; ++b) {
    const uint32_t head = slot(fingerprint(p.band_keys[b])).head;
    cursors_[b] = npos;
    if (head == npos) continue;
    if (head & kSingle) candidates_.push_back(head & ~kSingle);
    else cursors_[b] = head;
  }
  for (bool any = true; any;) {
    any = false;
    for (size_t b = 0; b < bands; ++b) {
      if (cursors_[b] == npos) continue;
      any = true;
      const Block& blk = blocks_[cursors_[b]];
      candidates_.insert(candidates_.end(), blk.item, blk.item + blk.count);
      cursors_[b] = blk.next;
    }
  }
  nodes_total_ += static_cast<int64_t>(candidates_.size());
  std::sort(candidates_.begin(), candidates_.end());
  if (max_candidates_ > 0 && candidates_.size() > max_candidates_) {
    // Count the bands each candidate shares (its repeats in the sorted list); if there are still more
    // than max_candidates distinct ones, keep those sharing the most bands (then the earliest): a pair
    // at Jaccard s shares Binomial(bands, s^rows) bands, so a near duplicate shares more of them than
    // the crowd of template relatives that a hot bucket brings.
    shared_.clear();
    for (size_t i = 0; i < candidates_.size();) {
      size_t j = i;
      while (j < candidates_.size() && candidates_[j] == candidates_[i]) ++j;
      shared_.push_back({static_cast<uint32_t>(j - i), candidates_[i]});
      i = j;
    }
    candidates_total_ += static_cast<int64_t>(shared_.size());
    candidates_.clear();
    if (shared_.size() > max_candidates_) {
      ++capped_;
      auto more = [](const std::pair<uint32_t, uint32_t>& x, const std::pair<uint32_t, uint32_t>& y) {
        return x.first != y.first ? x.first > y.first : x.second < y.second;
      };
      std::nth_element(shared_.begin(), shared_.begin() + static_cast<std::ptrdiff_t>(max_candidates_), shared_.end(), more);
      shared_.resize(max_candidates_);
    }
    for (const auto& [n, c] : shared_) candidates_.push_back(c);
    std::sort(candidates_.begin(), candidates_.end());
  } else {
    candidates_.erase(std::unique(candidates_.begin(), candidates_.end()), candidates_.end());
    candidates_total_ += static_cast<int64_t>(candidates_.size());
  }
  uint32_t best = npos;
  best_sim = 0;
  const size_t na = verify_exact_ ? p.shingles.size() : 0;
  const size_t m = candidates_.size();
  constexpr size_t kAhead = 8;  // candidates whose offsets are in flight; half as many for their sets
  if (verify_exact_)
    for (size_t k = 0; k < std::min(m, kAhead); ++k) __builtin_prefetch(&shingle_end_[candidates_[k]]);
  for (size_t k = 0; k < m; ++k) {
    const uint32_t c = candidates_[k];
    double sim;
    if (verify_exact_) {
      if (k + kAhead < m) __builtin_prefetch(&shingle_end_[candidates_[k + kAhead]]);
      if (k + kAhead / 2 < m) {
        const uint32_t f = candidates_[k + kAhead / 2];
        __builtin_prefetch(shingles_.data() + (f == 0 ? 0 : shingle_end_[f - 1]));
      }
      const size_t from = c == 0 ? 0 : shingle_end_[c - 1];
      const size_t nb = shingle_end_[c] - from;
      // |A n B| <= min(|A|, |B|): a pair whose sizes alone keep it below the threshold is not merged.
      if (static_cast<double>(std::min(na, nb)) < threshold_ * static_cast<double>(std::max(na, nb)) - 1e-9) continue;
      ++verified_;
      sim = jaccard_at_least(p.shingles.data(), na, shingles_.data() + from, nb, threshold_);
    } else {
      size_t eq = 0;
      const uint32_t* sig = signatures_.data() + static_cast<size_t>(c) * p.signature.size();
      for (size_t i = 0; i < p.signature.size(); ++i) eq += p.signature[i] == sig[i];
      sim = static_cast<double>(eq) / static_cast<double>(p.signature.size());
    }
    if (sim >= threshold_) {
      best = c;
      best_sim = sim;
      break;
    }
  }
  return best;
}

double MinHash::similarity(const Prepared& a, const Prepared& b) const {
  if (verify_exact_) return jaccard_at_least(a.shingles.data(), a.shingles.size(), b.shingles.data(), b.shingles.size(), 0.0);
  size_t eq = 0;
  for (size_t i = 0; i < a.signature.size(); ++i) eq += a.signature[i] == b.signature[i];
  return static_cast<double>(eq) / static_cast<double>(a.signature.size());
}

double MinHash::similarity_to_survivor(const Prepared& a, uint32_t c) const {
  if (verify_exact_) {
    const size_t from = c == 0 ? 0 : shingle_end_[c - 1];
    return jaccard_at_least(a.shingles.data(), a.shingles.size(), shingles_.data() + from, shingle_end_[c] - from, 0.0);
  }
  size_t eq = 0;
  const uint32_t* sig = signatures_.data() + static_cast<size_t>(c) * a.signature.size();
  for (size_t i = 0; i < a.signature.size(); ++i) eq += a.signature[i] == sig[i];
  return static_cast<double>(eq) / static_cast<double>(a.signature.size());
}

void MinHash::reject_duplicate(Record& r, uint32_t cluster, const std::string& id, double sim) {
  ++duplicates_;
  r.annotate("dup_of", id);
  r.annotate("similarity", std::round(sim * 1e4) / 1e4);
  r.annotate("cluster", id);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", sim);
  if (!clusters_path_.empty()) members_.push_back({cluster, std::string(r.id()), sim});
  r.reject("near_duplicate", "near duplicate of " + id + " (similarity " + buf + ")");
}

void MinHash::ordered(Record& r, Prepared& p) {
  if (!prefer_.empty()) {  // the first pass chose each cluster's member to keep
    const uint64_t k = passed_++;
    if (k >= cluster_of_.size()) throw Error("dedup.minhash: the real pass has more records than the first pass");
    const uint32_t cl = cluster_of_[k];
    const Chosen& c = chosen_[cl];
    if (c.ordinal == k) return;  // kept
    const bool own = c.own != npos;
    const double sim = own ? similarity(p, owned_[c.own].prepared) : similarity_to_survivor(p, cl);
    if (sim < threshold_) ++below_threshold_;
    return reject_duplicate(r, cl, own ? owned_[c.own].id : ids_[cl], sim);
  }
  double sim = 0;
  const uint32_t best = find_match(p, sim);
  if (best != npos) return reject_duplicate(r, best, ids_[best], sim);
  add_survivor(r.id(), p.band_keys.data(), p.shingles.data(), p.shingles.size(), p.signature.data());
}

void MinHash::observe(const Record& r, Prepared& p) {
  // The clustering of the streaming rule (the first member of each cluster is its survivor in the
  // index); each cluster remembers its best member by the `prefer` criteria, then input order.
  const auto k = static_cast<uint64_t>(cluster_of_.size());
  double sim = 0;
  uint32_t cl = find_match(p, sim);
  if (cl == npos) {
    cl = static_cast<uint32_t>(ids_.size());
    add_survivor(r.id(), p.band_keys.data(), p.shingles.data(), p.shingles.size(), p.signature.data());
    chosen_.push_back({p.score, k, npos});  // the survivor itself: its id and set are in the index
  } else if (Chosen& c = chosen_[cl]; p.score > c.score) {
    Owned o{std::string(r.id()), Prepared{p.shingles, p.signature, {}, p.score}};
    if (c.own == npos) {
      c.own = static_cast<uint32_t>(owned_.size());
      owned_.push_back(std::move(o));
    } else {
      owned_[c.own] = std::move(o);
    }
    c.score = p.score;
    c.ordinal = k;
  }
  cluster_of_.push_back(cl);
}

void MinHash::add_survivor(std::string_view id, const uint64_t* band_keys, const uint64_t* shingles, size_t n_shingles,
                           const uint32_t* signature) {
  const auto bands = static_cast<size_t>(bands_);
  const auto n = static_cast<uint32_t>(ids_.size());
  if (n >= kSingle - 1) throw Error("dedup.minhash: too many survivors for one stage (2^31)");
  ids_.emplace_back(id);
  if (verify_exact_) {
    shingles_.insert(shingles_.end(), shingles, shingles + n_shingles);
    shingle_end_.push_back(shingles_.size());
  } else {
    signatures_.insert(signatures_.end(), signature, signature + mul_.size());
  }
  if (!save_path_.empty()) band_keys_.insert(band_keys_.end(), band_keys, band_keys + bands);
  for (size_t b = 0; b < bands; ++b) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    const uint32_t fp = fingerprint(band_keys[b]);
    Slot& sl = slot(fp);
    if (sl.head == npos) {  // most band keys have one survivor: kept in the slot itself
      sl = {fp, n | kSingle};
      ++used_;
      continue;
    }
    if (sl.head & kSingle) {  // a second one: both move to a block
      blocks_.push_back(Block{npos, 1, {sl.head & ~kSingle}});
      sl.head = static_cast<uint32_t>(blocks_.size() - 1);
    }
    Block* blk = &blocks_[sl.head];
    if (blk->count == std::size(blk->item)) {  // full: a new block in front
      blocks_.push_back(Block{sl.head, 0, {}});
      sl.head = static_cast<uint32_t>(blocks_.size() - 1);
      blk = &blocks_.back();
    }
    blk->item[blk->count++] = n;
  }
  if (blocks_.size() >= kSingle) throw Error("dedup.minhash: too many band chains for one stage");
}

// Index file (version 2, little-endian; version 1 hashed word n-grams differently): "TAMISMHX", u32 version, u32 kind (2 = dedup.minhash),
// u32 + bytes settings (normalisation, shingling, num_perm, seed, bands x rows, verify), u64 count,
// then per survivor: u32 id length, id bytes, bands x u64 band keys, and either u32 n + n x u64
// shingle hashes (verify: jaccard) or num_perm x u32 signature; then u64 XXH3-64 of all bytes above.
namespace {
constexpr char kMinHashMagic[8] = {'T', 'A', 'M', 'I', 'S', 'M', 'H', 'X'};
constexpr uint32_t kMinHashVersion = 2;
template <class T>
void put_le(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}
}  // namespace

std::string MinHash::settings() const {
  return norm_.describe() + ";shingle=" + (words_ ? "words" : "chars") + ";ngram=" + std::to_string(ngram_) +
         ";num_perm=" + std::to_string(mul_.size()) + ";seed=" + std::to_string(seed_) + ";bands=" + std::to_string(bands_) +
         ";rows=" + std::to_string(rows_) + ";verify=" + (verify_exact_ ? "jaccard" : "signature");
}

void MinHash::save(const std::string& path) const {
  const std::string st = settings();
  const auto bands = static_cast<size_t>(bands_);
  std::string out(kMinHashMagic, sizeof(kMinHashMagic));
  put_le(out, kMinHashVersion);
  put_le(out, uint32_t{2});
  put_le(out, static_cast<uint32_t>(st.size()));
  out += st;
  put_le(out, static_cast<uint64_t>(ids_.size()));
  for (size_t n = 0; n < ids_.size(); ++n) {
    put_le(out, static_cast<uint32_t>(ids_[n].size()));
    out += ids_[n];
    for (size_t b = 0; b < bands; ++b) put_le(out, band_keys_[n * bands + b]);
    if (verify_exact_) {
      const size_t from = n == 0 ? 0 : shingle_end_[n - 1];
      put_le(out, static_cast<uint32_t>(shingle_end_[n] - from));
      for (size_t k = from; k < shingle_end_[n]; ++k) put_le(out, shingles_[k]);
    } else {
      for (size_t i = 0; i < mul_.size(); ++i) put_le(out, signatures_[n * mul_.size() + i]);
    }
  }
  put_le(out, static_cast<uint64_t>(XXH3_64bits(out.data(), out.size())));
  write_file_atomically(path, out, "index file");
}

void MinHash::load(const std::string& path) {
  const std::string buf = read_file(path, "index file");
  if (buf.size() < sizeof(kMinHashMagic) || std::memcmp(buf.data(), kMinHashMagic, sizeof(kMinHashMagic)) != 0)
    throw Error("'" + path + "' is not a tamis dedup.minhash index (bad magic)");
  size_t pos = sizeof(kMinHashMagic);
  auto need = [&](size_t n) {
    if (n > buf.size() - 8 - pos || buf.size() < 8 + pos) throw Error("index file '" + path + "' is truncated");
  };
  auto get32 = [&] { need(4); uint32_t v; std::memcpy(&v, buf.data() + pos, 4); pos += 4; return v; };
  auto get64 = [&] { need(8); uint64_t v; std::memcpy(&v, buf.data() + pos, 8); pos += 8; return v; };
  const uint32_t version = get32();
  if (version != kMinHashVersion)
    throw Error("index file '" + path + "' has format version " + std::to_string(version) + "; this tamis reads version " +
                std::to_string(kMinHashVersion) + (version == 1 ? " (rebuild it: version 1 hashed word n-grams differently)" : ""));
  if (get32() != 2) throw Error("index file '" + path + "' is not a dedup.minhash index");
  uint64_t stored;
  std::memcpy(&stored, buf.data() + buf.size() - 8, 8);
  if (stored != XXH3_64bits(buf.data(), buf.size() - 8)) throw Error("index file '" + path + "' is corrupt or truncated (checksum mismatch)");
  const uint32_t slen = get32();
  need(slen);
  const std::string file_settings(buf.data() + pos, slen);
  pos += slen;
  if (file_settings != settings())
    throw Error("index file '" + path + "' was built with other settings (" + file_settings + ") than this stage (" + settings() + ")");
  const uint64_t count = get64();
  const auto bands = static_cast<size_t>(bands_);
  std::vector<uint64_t> keys(bands), sh;
  std::vector<uint32_t> sig(mul_.size());
  for (uint64_t n = 0; n < count; ++n) {
    const uint32_t idlen = get32();
    need(idlen);
    const std::string id(buf.data() + pos, idlen);
    pos += idlen;
    for (auto& k : keys) k = get64();
    if (verify_exact_) {
      sh.resize(get32());
      for (auto& x : sh) x = get64();
    } else {
      for (auto& x : sig) x = get32();
    }
    add_survivor(id, keys.data(), sh.data(), sh.size(), sig.data());
  }
  if (pos != buf.size() - 8) throw Error("index file '" + path + "' has trailing bytes");
}

void MinHash::write_clusters() const {
  // One line per cluster, in the order of their survivors; members in input order.
  std::vector<size_t> order(members_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return members_[a].survivor < members_[b].survivor; });
  std::string text;
  std::string line;
  for (size_t i = 0; i < order.size();) {
    const uint32_t s = members_[order[i]].survivor;
    const std::string& name = prefer_.empty() || chosen_[s].own == npos ? ids_[s] : owned_[chosen_[s].own].id;
    line = "{\"cluster\":" + json::quote(name) + ",\"survivor\":" + json::quote(name) + ",\"members\":[";
    for (bool first = true; i < order.size() && members_[order[i]].survivor == s; ++i, first = false) {
      const Member& m = members_[order[i]];
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4f", m.similarity);
      line += std::string(first ? "" : ",") + "{\"id\":" + json::quote(m.id) + ",\"similarity\":" + buf + "}";
    }
    line += "]}\n";
    text += line;
  }
  write_file_atomically(clusters_path_, text, "clusters file");
}

void MinHash::finish(Stage& stage) {
  if (!clusters_path_.empty()) write_clusters();
  if (!save_path_.empty()) save(save_path_);
  stage.count("survivors", static_cast<int64_t>(ids_.size()));
  stage.count("near_duplicates", duplicates_);
  if (capped_ > 0) stage.count("capped", capped_);
  stage.report("{\"survivors\":" + std::to_string(ids_.size()) + ",\"near_duplicates\":" + std::to_string(duplicates_) +
               ",\"bands\":" + std::to_string(bands_) + ",\"rows\":" + std::to_string(rows_) +
               ",\"chain_nodes\":" + std::to_string(nodes_total_) + ",\"candidates\":" + std::to_string(candidates_total_) + ",\"verified\":" + std::to_string(verified_) +
               ",\"max_candidates\":" + std::to_string(max_candidates_) + ",\"capped\":" + std::to_string(capped_) +
               (prefer_.empty() ? std::string() : ",\"below_threshold\":" + std::to_string(below_threshold_)) +
               ",\"normalization\":" + json::quote(norm_.describe()) + "}");
}

}  // namespace tamis::dedup
