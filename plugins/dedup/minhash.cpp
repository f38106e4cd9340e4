#include <unistd.h>
// Inlined: most hashed inputs here are single words, where a library call costs more than the hash.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <algorithm>
#include <cmath>

#include <immintrin.h>

#include <tamis/files.hpp>
#include "answers.hpp"
#include "clusters.hpp"
#include "fields.hpp"
#include "ops.hpp"
#include "survivor.hpp"

namespace tamis::dedup {

namespace {
const char* const kShingleChoices[] = {"words", "chars", nullptr};
const char* const kVerifyChoices[] = {"jaccard", "signature", nullptr};
const char* const kAnswerChoices[] = {"ignore", "distinct", nullptr};

// Per-thread scratch space. It is reached through one call that the compiler cannot see into: in a
// shared object each use of a thread_local otherwise calls __tls_get_addr, and GCC repeats the call
// at every use, even through a reference (about 1,900 instructions per record in all).
struct Scratch {
  std::string text, t;
  std::vector<uint32_t> sh, sig, nodes;
  std::vector<uint64_t> w;
  std::vector<std::pair<uint32_t, uint32_t>> cands;
  std::vector<std::string> nums;
};
__attribute__((noinline)) Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// The numbers of a normalised text, sorted and space-separated: runs of digits with a decimal part
// (`2.5`) and thousands groups (`1,000` = `1000`) read as one number. Two texts whose numbers differ are
// the same template with other data: `numbers: distinct` keeps both. Asymptote drawing code
// (`[asy]...[/asy]`) is skipped: its coordinates and sizes change between copies of one problem.
void numbers_of(std::string_view t, std::string& out) {
  std::vector<std::string>& nums = scratch().nums;
  nums.clear();
  auto digit = [&](size_t k) { return k < t.size() && t[k] >= '0' && t[k] <= '9'; };
  for (size_t i = 0; i < t.size();) {
    if (t[i] == '[' && t.substr(i, 5) == "[asy]") {
      const size_t end = t.find("[/asy]", i + 5);
      i = end == std::string_view::npos ? t.size() : end + 6;
      continue;
    }
    if (!digit(i)) {
      ++i;
      continue;
    }
    std::string n;
    size_t j = i;
    while (digit(j)) n += t[j++];
    while (j < t.size() && t[j] == ',' && digit(j + 1) && digit(j + 2) && digit(j + 3) && !digit(j + 4)) {
      n.append(t.data() + j + 1, 3);
      j += 4;
    }
    if (j + 1 < t.size() && t[j] == '.' && digit(j + 1)) {
      n += '.';
      ++j;
      while (digit(j)) n += t[j++];
    }
    nums.push_back(std::move(n));
    i = j;
  }
  std::sort(nums.begin(), nums.end());
  out.clear();
  for (const auto& n : nums) {
    if (!out.empty()) out += ' ';
    out += n;
  }
}

// splitmix64: the permutation seeds.
uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Probability that a pair of Jaccard s becomes a candidate with b bands of r rows, from s^r.
double candidate_probability(double s_to_r, int b) { return 1.0 - std::pow(1.0 - s_to_r, b); }

constexpr int kSteps = 200;  // integrate()'s midpoints
// f(i, s) at the midpoints s of kSteps equal steps of [lo, hi], i the step: sum of f * h.
double integrate(double lo, double hi, auto f) {
  const double h = (hi - lo) / kSteps;
  double sum = 0;
  for (int i = 0; i < kSteps; ++i) sum += f(i, lo + (i + 0.5) * h) * h;
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
double jaccard_at_least(const uint32_t* a, size_t na, const uint32_t* b, size_t nb, double t) {
  if (na == 0 && nb == 0) return 1.0;
  const double total = static_cast<double>(na + nb);
  size_t i = 0, j = 0, both = 0;
  while (i < na && j < nb) {
    if (((i + j) & 7) == 0) {
      const auto most = static_cast<double>(both + std::min(na - i, nb - j));
      if (most / (total - most) < t) return most / (total - most);
    }
    const uint32_t x = a[i], y = b[j];
    i += x <= y;
    j += y <= x;
    both += x == y;
  }
  return static_cast<double>(both) / (total - static_cast<double>(both));
}

// The signature: per hash function i, the minimum over shingles x of (a_i * x + b_i) mod 2^64 >> 32
// (multiply-add-shift of the 32-bit shingle hash). Computed from the 32-bit halves of a_i and b_i,
// which gives the same bits with 32x32->64 and 32-bit multiplies (vpmuludq, vpmulld) instead of 64-bit
// ones:
//   a x + b = (a_hi x + b_hi) 2^32 + a_lo x + b_lo, and a_lo x + b_lo < 2^64, so
//   (a x + b) >> 32 = (a_lo x + b_lo) >> 32 + a_hi x + b_hi   (mod 2^32).
// Cloned per ISA (GCC target_clones, chosen at load time: AVX2 or the x86-64 baseline) and vectorised
// over the hash functions. No AVX-512 clone: on the AMD EPYC (Zen 4) of our machines, an avx512f clone
// (512-bit vpmulld, vpermt2d) took a larger share of a perf profile (12.6%) than the AVX2 one (9.7%).
__attribute__((target_clones("avx2", "default"), optimize("tree-vectorize")))
void signature_of(const uint32_t* sh, size_t n, const uint32_t* alo, const uint32_t* ahi, const uint32_t* blo,
                  const uint32_t* bhi, uint32_t* sig, size_t perms) {
  for (size_t i = 0; i < perms; ++i) sig[i] = UINT32_MAX;
  for (size_t k = 0; k < n; ++k) {
    const uint32_t x = sh[k];
    for (size_t i = 0; i < perms; ++i) {
      const uint64_t low = uint64_t{alo[i]} * x + blo[i];
      const uint32_t v = static_cast<uint32_t>(low >> 32) + ahi[i] * x + bhi[i];
      sig[i] = v < sig[i] ? v : sig[i];
    }
  }
}

// The same signature with AVX2 intrinsics, 8 hash functions per step, without the lane shuffles that
// the vectorised loop above spends on widening (24 instructions per 8 functions and shingle there, 10 here): the
// 32x32->64 products of the even lanes (vpmuludq) and of the odd lanes (shifted down) each get their
// b_lo widened in place, and a blend takes the high halves of both. Bit-identical to signature_of.
__attribute__((target("avx2")))
void signature_avx2(const uint32_t* sh, size_t n, const uint32_t* alo, const uint32_t* ahi, const uint32_t* blo,
                    const uint32_t* bhi, uint32_t* sig, size_t perms) {
  const size_t vec = perms & ~size_t{7};
  // Per 8 hash functions, every shingle: the constants and the running minimum stay in registers.
  for (size_t i = 0; i < vec; i += 8) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(alo + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blo + i));
    const __m256i a_odd = _mm256_srli_epi64(a, 32);
    const __m256i b_even = _mm256_and_si256(b, _mm256_set1_epi64x(0xFFFFFFFF)), b_odd = _mm256_srli_epi64(b, 32);
    const __m256i a_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ahi + i));
    const __m256i b_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bhi + i));
    __m256i m = _mm256_set1_epi32(-1);
    for (size_t k = 0; k < n; ++k) {
      const __m256i vx = _mm256_set1_epi32(static_cast<int>(sh[k]));
      const __m256i even = _mm256_add_epi64(_mm256_mul_epu32(a, vx), b_even);
      const __m256i odd = _mm256_add_epi64(_mm256_mul_epu32(a_odd, vx), b_odd);
      const __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
      m = _mm256_min_epu32(m, _mm256_add_epi32(_mm256_add_epi32(high, _mm256_mullo_epi32(a_hi, vx)), b_hi));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(sig + i), m);
  }
  for (size_t i = vec; i < perms; ++i) {
    sig[i] = UINT32_MAX;
    for (size_t k = 0; k < n; ++k) {
      const uint32_t x = sh[k];
      const uint64_t low = uint64_t{alo[i]} * x + blo[i];
      const uint32_t v = static_cast<uint32_t>(low >> 32) + ahi[i] * x + bhi[i];
      sig[i] = v < sig[i] ? v : sig[i];
    }
  }
}

void signature(const uint32_t* sh, size_t n, const uint32_t* alo, const uint32_t* ahi, const uint32_t* blo,
               const uint32_t* bhi, uint32_t* sig, size_t perms) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return signature_avx2(sh, n, alo, ahi, blo, bhi, sig, perms);
  signature_of(sh, n, alo, ahi, blo, bhi, sig, perms);
}
}  // namespace

std::pair<int, int> minhash_bands(int num_perm, double threshold) {
  // Minimise the false positive area (below the threshold) plus the false negative area (above it) over
  // every bands x rows <= num_perm, weighted 0.05 / 0.95: candidates are confirmed by Jaccard, so a
  // false positive costs a comparison while a false negative loses a duplicate. At 128 permutations
  // and threshold 0.8 this gives 16 x 8: a pair at Jaccard 0.85 becomes a candidate with p = 0.994.
  // s^r is the same for every b: computed once per (r, midpoint), not once per (b, r, midpoint) (half
  // of the pow calls, about 8 ms of each run's start at 128 permutations).
  double best = 1e300;
  std::pair<int, int> out{1, num_perm};
  const size_t n = static_cast<size_t>(num_perm) + 1;
  std::vector<double> below(n * kSteps, -1.0), above(n * kSteps, -1.0);  // -1: not computed yet
  auto power = [](std::vector<double>& memo, int r, int i, double s) {
    double& v = memo[static_cast<size_t>(r) * kSteps + static_cast<size_t>(i)];
    if (v < 0) v = std::pow(s, r);
    return v;
  };
  for (int b = 1; b <= num_perm; ++b) {
    for (int r = 1; b * r <= num_perm; ++r) {
      const double fp = integrate(0.0, threshold, [&](int i, double s) { return candidate_probability(power(below, r, i, s), b); });
      const double fn = integrate(threshold, 1.0, [&](int i, double s) { return 1.0 - candidate_probability(power(above, r, i, s), b); });
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
  };
  SurvivorPolicy::add_params(t, "\"answer\"");
  const ParamTable rest = {
      {.name = "answers", .type = ParamType::string, .default_json = "\"ignore\"",
       .help = "distinct: texts at or above the threshold whose reference answers (answer_field) are not equivalent by the "
               "grader are different problems: both kept, the later annotated `answer_distinct`; ignore: answers play no part "
               "(see docs/dedup.md#answer-aware-dedup)",
       .choices = kAnswerChoices},
      {.name = "numbers", .type = ParamType::string, .default_json = "\"ignore\"",
       .help = "distinct: texts at or above the threshold whose numbers differ (as multisets, `1,000` = `1000`) are different "
               "problems, the same template with other data: both kept, the later annotated `numbers_distinct`; ignore: "
               "numbers play no part beyond the shingles (see docs/dedup.md#answer-aware-dedup)",
       .choices = kAnswerChoices},
      {.name = "max_candidates", .type = ParamType::integer, .default_json = "256",
       .help = "verify at most this many candidates per record, those sharing the most bands (0: all); records "
               "over it are counted as `capped` in the report (see docs/dedup.md)"},
      {.name = "seed", .type = ParamType::integer, .default_json = "1", .help = "seed of the hash functions"},
      {.name = "load_index", .type = ParamType::path,
       .help = "an index saved by an earlier run (same settings): its survivors count as earlier records", .files = FileRole::input},
      {.name = "save_index", .type = ParamType::path,
       .help = "write the index (loaded and new survivors) here at the end, atomically", .files = FileRole::output},
      {.name = "clusters", .type = ParamType::path,
       .help = "optional: write every cluster with near duplicates here at the end (JSONL: survivor, members, similarities)", .files = FileRole::output},
  };
  t.insert(t.end(), rest.begin(), rest.end());
  add_normalize_params(t);
  return t;
}();

void MinHash::check(const Params& p) {
  if (p.get_int("ngram") < 1) throw Error("ngram must be at least 1");
  if (p.get_int("max_candidates") < 0) throw Error("max_candidates must be 0 (no limit) or more");
  SurvivorPolicy::check(p);
  if (p.get_string("answers") == "distinct" && p.get_string("answer_field").empty())
    throw Error("answers: distinct needs answer_field");
  const int64_t n = p.get_int("num_perm");
  if (n < 1 || n > 1024) throw Error("num_perm must be within [1, 1024]");
  const double t = p.get_double("threshold");
  if (!(t > 0.0 && t <= 1.0)) throw Error("threshold must be within (0, 1]");
  const int64_t b = p.get_int("bands"), r = p.get_int("rows");
  if ((b == 0) != (r == 0)) throw Error("give both bands and rows, or neither");
  if (b < 0 || r < 0 || b * r > n) throw Error("bands x rows must be at most num_perm");
}

std::pair<int, int> MinHash::shape(const Params& p) {
  if (p.get_int("bands") > 0) return {static_cast<int>(p.get_int("bands")), static_cast<int>(p.get_int("rows"))};
  return minhash_bands(static_cast<int>(p.get_int("num_perm")), p.get_double("threshold"));
}

MinHash::MinHash(const Params& p, Stage& stage, std::pair<int, int> bands_rows)
    : field_(p.get_string("field")), norm_(read_normalize_params(p)), words_(p.get_string("shingle") == "words"),
      ngram_(static_cast<size_t>(p.get_int("ngram"))), threshold_(p.get_double("threshold")),
      verify_exact_(p.get_string("verify") == "jaccard"), max_candidates_(static_cast<size_t>(p.get_int("max_candidates"))),
      bands_(bands_rows.first), rows_(bands_rows.second), index_(static_cast<size_t>(bands_rows.first)),
      distinct_(p.get_string("answers") == "distinct"), answer_field_(p.get_string("answer_field")),
      numbers_distinct_(p.get_string("numbers") == "distinct"), policy_(p) {
  const int num_perm = static_cast<int>(p.get_int("num_perm"));
  seed_ = p.get_int("seed");
  uint64_t s = static_cast<uint64_t>(seed_);
  for (int i = 0; i < num_perm; ++i) {
    const uint64_t a = splitmix(s) | 1, b = splitmix(s);
    a_lo_.push_back(static_cast<uint32_t>(a));
    a_hi_.push_back(static_cast<uint32_t>(a >> 32));
    b_lo_.push_back(static_cast<uint32_t>(b));
    b_hi_.push_back(static_cast<uint32_t>(b >> 32));
  }
  if (p.has("clusters")) clusters_path_ = p.get_string("clusters");
  if (p.has("save_index")) save_path_ = p.get_string("save_index");
  if (p.has("load_index")) {
    load(p.get_string("load_index"));
    stage.info("loaded " + std::to_string(ids_.size()) + " survivors from " + p.get_string("load_index"));
  }
  stage.info("num_perm " + std::to_string(num_perm) + ", " + std::to_string(bands_) + " bands x " + std::to_string(rows_) +
             " rows at threshold " + json::number(threshold_));
}

MinHash::Prepared MinHash::prepare(Record& r) const {
  // While the band table grows, each record of the parallel part copies a chunk of it (see LshIndex).
  index_.help_grow();
  Prepared out;
  Scratch& scratch_space = scratch();
  std::string &text = scratch_space.text, &t = scratch_space.t;
  switch (read_string_field(r, field_, text)) {
    case FieldKind::string: break;
    default:
      r.reject_missing_field(field_, "missing_field", "no string field '" + field_ + "'");
      return out;
  }
  if (!policy_.empty()) out.score = policy_.score(r, text.size());
  if (distinct_) read_answer(r, answer_field_, out.answer);
  t.clear();
  normalize_append(text, norm_, t);
  if (numbers_distinct_) numbers_of(t, out.numbers);
  // Shingles: word n-grams (a text with fewer words is one shingle) or character n-grams, hashed to 32
  // bits (two distinct shingles of one text collide with a chance of about n^2 / 2^33: 1 in 10^4 for
  // a text of 1,000 shingles, and then only merge two elements of its set).
  std::vector<uint32_t>& sh = scratch_space.sh;
  sh.clear();
  if (words_) {
    // Each word is hashed once; an n-gram's hash combines its words' hashes (order matters), so a
    // word is not re-hashed for each of the n shingles it belongs to.
    std::vector<uint64_t>& w = scratch_space.w;
    w.clear();
    if (norm_.whitespace) {  // normalised: words separated by single spaces, none at the ends
      // Words are short (5 bytes on average): a byte loop costs less than a memchr call per word.
      const char* const d = t.data();
      const size_t size = t.size();
      for (size_t i = 0; i < size;) {
        size_t e = i;
        while (e < size && d[e] != ' ') ++e;
        w.push_back(XXH3_64bits(d + i, e - i));
        i = e + 1;
      }
    } else {
      for (size_t i = 0; i < t.size();) {
        while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\t')) ++i;
        const size_t b = i;
        while (i < t.size() && !(t[i] == ' ' || t[i] == '\n' || t[i] == '\t')) ++i;
        if (i > b) w.push_back(XXH3_64bits(t.data() + b, i - b));
      }
    }
    if (!w.empty()) {
      const size_t n = std::min(ngram_, w.size());
      for (size_t k = 0; k + n <= w.size(); ++k) sh.push_back(static_cast<uint32_t>(combine_words(w.data() + k, n)));
    }
  } else {
    const size_t n = std::min(ngram_, t.size());
    if (n > 0)
      for (size_t k = 0; k + n <= t.size(); ++k) sh.push_back(static_cast<uint32_t>(XXH3_64bits(t.data() + k, n)));
  }
  std::sort(sh.begin(), sh.end());
  sh.erase(std::unique(sh.begin(), sh.end()), sh.end());
  // Signature, then the band fingerprints (both pure functions of the text: computed here, in parallel).
  const size_t perms = a_lo_.size();
  std::vector<uint32_t>& sig = scratch_space.sig;
  sig.resize(perms);
  signature(sh.data(), sh.size(), a_lo_.data(), a_hi_.data(), b_lo_.data(), b_hi_.data(), sig.data(), perms);
  const auto bands = static_cast<size_t>(bands_), rows = static_cast<size_t>(rows_);
  out.fps.resize(bands);
  for (size_t b = 0; b < bands; ++b)  // the band number is mixed in, so one table serves every band
    out.fps[b] = static_cast<uint32_t>(XXH3_64bits_withSeed(sig.data() + b * rows, sizeof(uint32_t) * rows, b) >> 32);
  if (verify_exact_) out.values.assign(sh.begin(), sh.end());
  else out.values.assign(sig.begin(), sig.end());
  // The search against the survivors published so far, here in parallel; the serial part only looks
  // at survivors added since (resolve()). With `prefer` the first pass builds the index serially and
  // the real pass does not search.
  if (policy_.empty()) {
    out.searched = index_.published();
    if (out.searched > 0) {
      std::vector<Candidate>& cands = scratch_space.cands;
      gather(out, 0, out.searched, cands);
      out.earlier = static_cast<uint32_t>(cands.size());
      if (max_candidates_ > 0 && cands.size() > max_candidates_) {
        select(cands);
        out.selected = cands;
      }
      Refusal refused;
      const size_t m = first_match(out, cands, 0, out.similarity, refused);
      if (m < cands.size()) out.match = cands[m].first;
      out.refused = refused.survivor;
      out.refused_similarity = refused.similarity;
      out.refused_for_numbers = refused.numbers;
    }
  }
  return out;
}

void MinHash::gather(const Prepared& p, uint32_t from, uint32_t to, std::vector<Candidate>& out) const {
  std::vector<uint32_t>& nodes = scratch().nodes;
  nodes.clear();
  out.clear();
  if (from >= to) return;
  index_.candidates(p.fps.data(), from, to, nodes);
  std::sort(nodes.begin(), nodes.end());
  for (size_t i = 0; i < nodes.size();) {
    size_t j = i + 1;
    while (j < nodes.size() && nodes[j] == nodes[i]) ++j;
    out.push_back({nodes[i], static_cast<uint32_t>(j - i)});
    i = j;
  }
}

void MinHash::select(std::vector<Candidate>& c) const {
  // A pair at Jaccard s shares Binomial(bands, s^rows) bands, so a near duplicate shares more of them
  // than the crowd of template relatives that a hot bucket brings.
  if (max_candidates_ == 0 || c.size() <= max_candidates_) return;
  auto more = [](const Candidate& x, const Candidate& y) { return x.second != y.second ? x.second > y.second : x.first < y.first; };
  std::nth_element(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(max_candidates_), c.end(), more);
  c.resize(max_candidates_);
  std::sort(c.begin(), c.end());
}

MinHash::Match MinHash::matches(const Prepared& p, uint32_t c, double& sim) const {
  const std::span<const uint32_t> v = index_.values(c);
  double s;
  if (verify_exact_) {
    const size_t na = p.values.size(), nb = v.size();
    // |A n B| <= min(|A|, |B|): a pair whose sizes alone keep it below the threshold is not merged.
    if (static_cast<double>(std::min(na, nb)) < threshold_ * static_cast<double>(std::max(na, nb)) - 1e-9) return Match::no;
    // Without reading c's values (a cache miss on a large index): only the record's shingles whose bit
    // is set in c's summary can be shared, and x / (na + nb - x) grows with x, so a bound below the
    // threshold is a verdict jaccard_at_least would give too (the same division, on a larger x).
    if (na + nb > 0) {
      const uint32_t bits = index_.value_bits(c);
      size_t most = 0;
      for (const uint32_t x : p.values) most += (bits >> (x & 31)) & 1;
      most = std::min(most, nb);
      const auto total = static_cast<double>(na + nb);
      if (static_cast<double>(most) / (total - static_cast<double>(most)) < threshold_) return Match::no;
    }
    s = jaccard_at_least(p.values.data(), na, v.data(), nb, threshold_);
  } else {
    s = similarity(p.values, v);
  }
  if (s < threshold_) return Match::no;
  sim = s;
  // The survivor's answer was written before it was published, so a reader that sees c sees it too.
  if (numbers_distinct_ && p.numbers != numbers_[c]) return Match::other_numbers;
  if (distinct_ && !answers_agree(p.answer, answers_[c])) return Match::other_answer;
  return Match::yes;
}

size_t MinHash::first_match(const Prepared& p, const std::vector<Candidate>& list, size_t from, double& sim,
                            Refusal& refused) const {
  // On a large index each candidate costs two cache misses (its entry, then its values): entries are
  // fetched kAhead candidates ahead, values half as far.
  constexpr size_t kAhead = 8;
  const size_t n = list.size();
  for (size_t k = from; k < std::min(n, from + kAhead); ++k) index_.prefetch_entry(list[k].first);
  for (size_t k = from; k < n; ++k) {
    if (k + kAhead < n) index_.prefetch_entry(list[k + kAhead].first);
    if (k + kAhead / 2 < n) index_.prefetch_values(list[k + kAhead / 2].first);
    double s = 0;
    const Match m = matches(p, list[k].first, s);
    switch (m) {
      case Match::yes:
        sim = s;
        return k;
      case Match::other_answer:
      case Match::other_numbers:
        refused.note(list[k].first, s, m == Match::other_numbers);
        break;
      case Match::no:
        break;
    }
  }
  return n;
}

MinHash::Refusal MinHash::earliest_refused(const Prepared& p, const std::vector<Candidate>& list, size_t end) const {
  Refusal refused;
  for (size_t k = 0; k < end && refused.survivor == npos; ++k) {
    double s = 0;
    const Match m = matches(p, list[k].first, s);
    if (m == Match::other_answer || m == Match::other_numbers) refused.note(list[k].first, s, m == Match::other_numbers);
  }
  return refused;
}

// The earliest survivor at or above the threshold among the record's candidates (all of them, or the
// max_candidates sharing the most bands). prepare() searched the survivors [0, searched) that were
// published when it ran; here, in input order, the rest [searched, size) are searched and the two
// halves combined. The verdict does not depend on where `searched` fell, which varies from run to run:
//   - candidates are disjoint between the halves and complete in each (a survivor below `searched` had
//     all its bands in place), so the total is the same, and so is whether the cap applies;
//   - uncapped, every survivor below `searched` is earlier than every one above: the parallel half's
//     earliest match, if any, is the earliest overall; if none, the serial half's earliest is;
//   - capped, the kept set is the top max_candidates of the union, which lies within the parallel
//     half's own top (`selected`) plus the serial half; the parallel half verified its top in order up
//     to its first match, so everything before that match is known not to match.
//   - with `answers: distinct`, a survivor matches when its text does and its answer agrees: still a
//     pure function of (record, survivor), so the rules above hold. When no survivor matches, the
//     earliest one refused for its answer is taken over the same candidates as the verdict: both
//     halves were searched whole when uncapped; when capped, it is recomputed over the kept list.
uint32_t MinHash::resolve(Prepared& p, double& sim, Refusal& refused) {
  gather(p, p.searched, index_.size(), fresh_);
  const size_t total = p.earlier + fresh_.size();
  candidates_total_ += static_cast<int64_t>(total);
  auto found = [](const std::vector<Candidate>& list, size_t k) { return k < list.size() ? list[k].first : npos; };
  refused = Refusal{};
  if (max_candidates_ == 0 || total <= max_candidates_) {
    if (p.match != npos) {
      sim = p.similarity;
      return p.match;
    }
    refused.survivor = p.refused;  // the parallel half's candidates all come before the serial half's
    refused.similarity = p.refused_similarity;
    refused.numbers = p.refused_for_numbers;
    Refusal later;
    const uint32_t m = found(fresh_, first_match(p, fresh_, 0, sim, later));
    if (refused.survivor == npos) refused = later;
    return m;
  }
  ++capped_;
  if (p.earlier <= max_candidates_) {
    // The parallel half kept no list (it was under the cap alone): search everything here.
    if (p.searched > 0) gather(p, 0, index_.size(), fresh_);
    select(fresh_);
    return found(fresh_, first_match(p, fresh_, 0, sim, refused));
  }
  merged_ = p.selected;
  merged_.insert(merged_.end(), fresh_.begin(), fresh_.end());
  select(merged_);
  // By number: first the kept candidates that prepare() verified without a match (all of its half if it
  // found none, else those before its match), then its match if still kept, then the unverified rest.
  size_t k = 0;
  while (k < merged_.size() && merged_[k].first < p.searched && (p.match == npos || merged_[k].first < p.match)) ++k;
  if (k < merged_.size() && merged_[k].first == p.match) {
    sim = p.similarity;
    return p.match;
  }
  // When nothing matches, the refusal over the kept list: the verified part before k is checked again
  // (prepare()'s own refusal may have come from a candidate no longer kept), up to its first refusal;
  // only then the one first_match met in the rest.
  Refusal tail;
  const uint32_t m = found(merged_, first_match(p, merged_, k, sim, tail));
  if (m == npos && (distinct_ || numbers_distinct_)) {
    refused = earliest_refused(p, merged_, k);
    if (refused.survivor == npos) refused = tail;
  }
  return m;
}

double MinHash::similarity(std::span<const uint32_t> a, std::span<const uint32_t> b) const {
  if (verify_exact_) return jaccard_at_least(a.data(), a.size(), b.data(), b.size(), 0.0);
  size_t eq = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) eq += a[i] == b[i];
  return static_cast<double>(eq) / static_cast<double>(a.size());
}

void MinHash::reject_duplicate(Record& r, uint32_t cluster, const std::string& id, double sim) {
  ++duplicates_;
  cluster_sizes_.add_copy(cluster);
  r.annotate("dup_of", id);
  r.annotate("similarity", std::round(sim * 1e4) / 1e4);
  r.annotate("cluster", id);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", sim);
  if (!clusters_path_.empty()) members_.push_back({cluster, std::string(r.id()), sim});
  r.reject("near_duplicate", "near duplicate of " + id + " (similarity " + buf + ")");
}

void MinHash::ordered(Record& r, Prepared& p) {
  if (!policy_.empty()) {  // the first pass chose each cluster's member to keep
    const uint64_t k = passed_++;
    if (k >= cluster_of_.size()) throw Error("dedup.minhash: the real pass has more records than the first pass");
    const uint32_t cl = cluster_of_[k];
    const Chosen& c = chosen_[cl];
    if (c.ordinal == k) {  // kept
      if (const auto it = first_pass_refused_.find(cl); it != first_pass_refused_.end()) note_distinct_kept(r, p, it->second);
      return;
    }
    const bool own = c.own != npos;
    const double sim = similarity(p.values, own ? std::span<const uint32_t>(owned_[c.own].values) : index_.values(cl));
    if (sim < threshold_) ++below_threshold_;
    return reject_duplicate(r, cl, own ? owned_[c.own].id : ids_[cl], sim);
  }
  double sim = 0;
  Refusal refused;
  const uint32_t best = resolve(p, sim, refused);
  if (best != npos) return reject_duplicate(r, best, ids_[best], sim);
  note_distinct(r, p, refused);
  add_survivor(r.id(), p.fps.data(), p.values.data(), p.values.size(), &p);
}

void MinHash::note_distinct(Record& r, const Prepared& p, const Refusal& refused) {
  // A kept record whose text matched an earlier survivor at or above the threshold, with an answer the
  // grader finds different or other numbers: the evidence, so that a reviewer can see both sides.
  if (refused.survivor == npos) return;
  const uint32_t c = refused.survivor;
  if (refused.numbers) return write_distinct(r, true, ids_[c], refused.similarity, p.numbers, numbers_[c]);
  write_distinct(r, false, ids_[c], refused.similarity, p.answer, answers_[c]);
}

void MinHash::note_distinct_kept(Record& r, const Prepared& p, const Refusal& founders) {
  // The clusters were kept apart by their first members; the evidence compares the two members kept.
  const uint32_t c = founders.survivor;
  const Chosen& other = chosen_[c];
  const bool own = other.own != npos;
  const std::string& id = own ? owned_[other.own].id : ids_[c];
  const double sim = similarity(p.values, own ? std::span<const uint32_t>(owned_[other.own].values) : index_.values(c));
  if (founders.numbers) return write_distinct(r, true, id, sim, p.numbers, own ? owned_[other.own].numbers : numbers_[c]);
  write_distinct(r, false, id, sim, p.answer, own ? owned_[other.own].answer : answers_[c]);
}

void MinHash::write_distinct(Record& r, bool numbers, const std::string& of, double similarity, const std::string& mine,
                             const std::string& theirs) {
  const std::string head = "{\"of\":" + json::quote(of) + ",\"similarity\":" + json::number(std::round(similarity * 1e4) / 1e4);
  if (numbers) {
    ++numbers_distinct_count_;
    return r.annotate_json("numbers_distinct", head + ",\"numbers\":" + json::quote(mine) + ",\"other_numbers\":" +
                                                   json::quote(theirs) + "}");
  }
  ++answer_distinct_;
  r.annotate_json("answer_distinct", head + ",\"answer\":" + json::quote(mine) + ",\"other_answer\":" + json::quote(theirs) + "}");
}

void MinHash::observe(const Record& r, Prepared& p) {
  // The clustering of the streaming rule (the first member of each cluster is its survivor in the
  // index); each cluster remembers its best member by the `prefer` criteria, then input order.
  const auto k = static_cast<uint64_t>(cluster_of_.size());
  double sim = 0;
  Refusal refused;
  uint32_t cl = resolve(p, sim, refused);
  if (cl == npos) {
    cl = static_cast<uint32_t>(ids_.size());
    if (refused.survivor != npos) first_pass_refused_.emplace(cl, refused);
    add_survivor(r.id(), p.fps.data(), p.values.data(), p.values.size(), &p);
    chosen_.push_back({p.score, k, npos});  // the survivor itself: its id and values are in the index
  } else if (Chosen& c = chosen_[cl]; c.ordinal != kLoaded && p.score > c.score) {
    // (A loaded survivor stays: it is in the curated corpus already.)
    Owned o{std::string(r.id()), p.values, {}, p.answer, p.numbers};
    if (!save_path_.empty()) o.fps.assign(p.fps.data(), p.fps.data() + p.fps.size());
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

void MinHash::add_survivor(std::string_view id, const uint32_t* fps, const uint32_t* values, size_t n, const Prepared* p) {
  ids_.emplace_back(id);
  // Before index_.add publishes the survivor. Survivors from an index file (p null) have neither: they
  // agree with any answer and any numbers.
  if (distinct_) answers_.append() = p ? p->answer : std::string();
  if (numbers_distinct_) numbers_.append() = p ? p->numbers : std::string();
  if (!save_path_.empty()) fps_.insert(fps_.end(), fps, fps + bands_);
  index_.add(fps, values, n);
}

// Index file (version 3, little-endian): "TAMISMHX", u32 version, u32 kind (2 = dedup.minhash),
// u32 + bytes settings (normalisation, shingling, num_perm, seed, bands x rows, verify), u64 count,
// then per survivor: u32 id length, id bytes, bands x u32 band fingerprints, u32 n and n x u32 values
// (the 32-bit shingle hashes with verify: jaccard, the signature with verify: signature); then u64
// XXH3-64 of all bytes above. Version 1 hashed word n-grams differently, version 2 kept 64-bit band
// keys and shingle hashes.
namespace {
constexpr char kMinHashMagic[8] = {'T', 'A', 'M', 'I', 'S', 'M', 'H', 'X'};
constexpr uint32_t kMinHashVersion = 3;
template <class T>
void put_le(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}
}  // namespace

std::string MinHash::settings() const {
  return norm_.describe() + ";shingle=" + (words_ ? "words" : "chars") + ";ngram=" + std::to_string(ngram_) +
         ";num_perm=" + std::to_string(a_lo_.size()) + ";seed=" + std::to_string(seed_) + ";bands=" + std::to_string(bands_) +
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
    // With `prefer`, each cluster is saved as its kept member (which may not be its first).
    const Owned* own = !policy_.empty() && chosen_[n].own != npos ? &owned_[chosen_[n].own] : nullptr;
    const std::string& id = own ? own->id : ids_[n];
    put_le(out, static_cast<uint32_t>(id.size()));
    out += id;
    for (size_t b = 0; b < bands; ++b) put_le(out, own ? own->fps[b] : fps_[n * bands + b]);
    const std::span<const uint32_t> v = own ? std::span<const uint32_t>(own->values) : index_.values(static_cast<uint32_t>(n));
    put_le(out, static_cast<uint32_t>(v.size()));
    for (const uint32_t x : v) put_le(out, x);
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
                std::to_string(kMinHashVersion) +
                (version == 1 || version == 2 ? " (rebuild it from its data: older versions hashed shingles differently)" : ""));
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
  std::vector<uint32_t> fps(bands), values;
  for (uint64_t n = 0; n < count; ++n) {
    const uint32_t idlen = get32();
    need(idlen);
    const std::string id(buf.data() + pos, idlen);
    pos += idlen;
    for (auto& k : fps) k = get32();
    const uint32_t nv = get32();
    need(size_t{nv} * 4);
    if (!verify_exact_ && nv != a_lo_.size())
      throw Error("index file '" + path + "' holds a signature of " + std::to_string(nv) + " values for num_perm " +
                  std::to_string(a_lo_.size()));
    values.resize(nv);
    for (auto& x : values) x = get32();
    add_survivor(id, fps.data(), values.data(), values.size(), nullptr);  // index files hold no answers or numbers
    if (!policy_.empty()) chosen_.push_back({SurvivorPolicy::Score{}, kLoaded, npos});
  }
  if (pos != buf.size() - 8) throw Error("index file '" + path + "' has trailing bytes");
}

void MinHash::write_clusters() const {
  // Named after each cluster's kept member (its first, without `prefer`); similarities to 4 decimals.
  write_clusters_file(
      clusters_path_, members_,
      [&](uint32_t c) -> const std::string& { return policy_.empty() || chosen_[c].own == npos ? ids_[c] : owned_[chosen_[c].own].id; },
      [](const Member& m, std::string& out) {
        char buf[32];
        std::snprintf(buf, sizeof buf, ",\"similarity\":%.4f", m.similarity);
        out += buf;
      });
}

void MinHash::finish(Stage& stage) {
  if (!clusters_path_.empty()) write_clusters();
  if (!save_path_.empty()) save(save_path_);
  stage.count("survivors", static_cast<int64_t>(ids_.size()));
  stage.count("near_duplicates", duplicates_);
  if (capped_ > 0) stage.count("capped", capped_);
  if (distinct_) stage.count("answer_distinct", answer_distinct_);
  if (numbers_distinct_) stage.count("numbers_distinct", numbers_distinct_count_);
  stage.report("{\"survivors\":" + std::to_string(ids_.size()) + ",\"near_duplicates\":" + std::to_string(duplicates_) +
               ",\"bands\":" + std::to_string(bands_) + ",\"rows\":" + std::to_string(rows_) +
               ",\"candidates\":" + std::to_string(candidates_total_) + ",\"max_candidates\":" + std::to_string(max_candidates_) +
               ",\"capped\":" + std::to_string(capped_) + ",\"index_bytes\":" + std::to_string(index_.bytes()) +
               cluster_sizes_.json([&](uint32_t c) -> const std::string& {
                 return policy_.empty() || chosen_[c].own == npos ? ids_[c] : owned_[chosen_[c].own].id;
               }) +
               (policy_.empty() ? std::string() : ",\"below_threshold\":" + std::to_string(below_threshold_)) +
               (distinct_ ? ",\"answer_distinct\":" + std::to_string(answer_distinct_) : std::string()) +
               (numbers_distinct_ ? ",\"numbers_distinct\":" + std::to_string(numbers_distinct_count_) : std::string()) +
               ",\"normalization\":" + json::quote(norm_.describe()) + "}");
}

}  // namespace tamis::dedup
