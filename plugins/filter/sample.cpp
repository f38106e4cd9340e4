#include <xxhash.h>

#include <cmath>

#include "ops.hpp"

namespace tamis::filter {

const ParamTable Sample::params = {
    {.name = "fraction", .type = ParamType::number, .required = true, .help = "fraction of records kept, in [0, 1]"},
    {.name = "seed", .type = ParamType::integer, .default_json = "0", .help = "hash seed: another seed picks another sample"},
    {.name = "key", .type = ParamType::string, .default_json = "\"\"",
     .help = "field whose value decides (e.g. problem, to sample problems, not lines); empty: the record id"},
};

Sample::Sample(const Params& p)
    : fraction_(p.get_double("fraction")), seed_(static_cast<uint64_t>(p.get_int("seed"))), key_(p.get_string("key")) {
  // Keep when hash < fraction * 2^64; fraction 1 keeps all.
  const double scaled = std::ldexp(fraction_, 64);
  threshold_ = scaled >= 18446744073709551615.0 ? UINT64_MAX : static_cast<uint64_t>(scaled);
}

void Sample::check(const Params& p) {
  const double f = p.get_double("fraction");
  if (!(f >= 0.0 && f <= 1.0)) throw Error("fraction must be within [0, 1]");
}

void Sample::process(Record& r) const {
  std::string_view key = r.id();
  std::string raw;
  if (!key_.empty()) {
    auto e = r.field(key_);
    if (!e) return r.reject_missing_field(key_, "missing_field", "sample key field '" + key_ + "' is missing");
    std::string_view s;
    if (e->get_string().get(s) == simdjson::SUCCESS) {
      key = s;
    } else {
      raw = simdjson::minify(*e);
      key = raw;
    }
  }
  const uint64_t h = XXH3_64bits_withSeed(key.data(), key.size(), seed_);
  if (fraction_ >= 1.0 || h < threshold_) return;
  r.reject("sampled_out", "not in the " + json::number(fraction_) + " sample (seed " + std::to_string(seed_) + ")");
}

}  // namespace tamis::filter
