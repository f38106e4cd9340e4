// normalize_bench: throughput of tamis::text::normalize_append (plugins/text) on real prompt text.
//
//   normalize_bench --in FILE [--field NAME] [--rounds N] [--all | --mask M] [--limit N]
//
// Reads every line of a JSONL file (simdjson DOM, one line at a time), keeps the string value of
// --field (default problem; lines without it are skipped), then, for each option combination, times
// normalize_append over all the strings (appending to one reused buffer, cleared per string, as the
// dedup ops do). Each combination runs --rounds times (default 3); the best round is printed:
//
//   combo=<describe()> strings=N MB=X best_s=S MBps=Y checksum=H
//
// MB = 10^6 bytes of input text. The checksum (FNV-1a over every output, with its length) lets two
// builds (bench/normalize.sh runs the committed code against an older revision) be checked for
// byte-identical output. Combinations: the default options, every single option flipped from the
// default, everything on, everything off, and each option alone; --all runs all 64, --mask M the one
// whose bits are M (1 whitespace, 2 lowercase, 4 nfkc, 8 latex, 16 punctuation, 32 digits).

#include "normalize.hpp"

#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using tamis::text::NormalizeOptions;

NormalizeOptions from_mask(int m) { return NormalizeOptions::from_bits(static_cast<unsigned>(m)); }

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "normalize_bench: %s\nusage: normalize_bench --in FILE [--field NAME] [--rounds N] [--all | --mask M] [--limit N]\n", why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string in, field = "problem";
  int rounds = 3;
  bool all = false;
  int only = -1;  // --mask M: that one combination (bit 0 whitespace, 1 lowercase, 2 nfkc, 3 latex, 4 punct, 5 digits)
  size_t limit = SIZE_MAX;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage("missing value after an option");
      return argv[++i];
    };
    if (a == "--in") in = value();
    else if (a == "--field") field = value();
    else if (a == "--rounds") rounds = std::atoi(value());
    else if (a == "--limit") limit = std::strtoull(value(), nullptr, 10);
    else if (a == "--all") all = true;
    else if (a == "--mask") only = std::atoi(value());
    else usage("unknown option");
  }
  if (in.empty()) usage("--in is required");
  if (rounds < 1) usage("--rounds must be positive");

  std::ifstream f(in);
  if (!f) {
    std::fprintf(stderr, "normalize_bench: cannot open %s\n", in.c_str());
    return 1;
  }
  std::vector<std::string> texts;
  size_t bytes = 0, bad = 0;
  simdjson::dom::parser parser;
  for (std::string line; texts.size() < limit && std::getline(f, line);) {
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc)) { ++bad; continue; }
    std::string_view v;
    if (doc[field].get_string().get(v)) continue;
    texts.emplace_back(v);
    bytes += v.size();
  }
  if (bad != 0) std::fprintf(stderr, "normalize_bench: %zu lines are not valid JSON (skipped)\n", bad);
  if (texts.empty()) {
    std::fprintf(stderr, "normalize_bench: no string field '%s' in %s\n", field.c_str(), in.c_str());
    return 1;
  }

  std::vector<int> masks;
  if (only >= 0 && only < 64) {
    masks = {only};
  } else if (all) {
    for (int m = 0; m < 64; ++m) masks.push_back(m);
  } else {
    const int def = 1 | 2 | 4 | 8;
    masks = {def, def ^ 1, def ^ 2, def ^ 4, def ^ 8, def | 16, def | 32, 63, 0, 1, 2, 4, 8, 16, 32};
  }
  std::string out;
  for (int m : masks) {
    const NormalizeOptions o = from_mask(m);
    double best = 1e300;
    for (int r = 0; r < rounds; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (const std::string& s : texts) {
        out.clear();
        tamis::text::normalize_append(s, o, out);
      }
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (sec < best) best = sec;
    }
    // One more, untimed pass for the checksum (FNV-1a over each output and its length).
    uint64_t checksum = 1469598103934665603ULL;
    for (const std::string& s : texts) {
      out.clear();
      tamis::text::normalize_append(s, o, out);
      checksum = (checksum ^ out.size()) * 1099511628211ULL;
      for (char c : out) checksum = (checksum ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    std::printf("combo=%s strings=%zu MB=%.1f best_s=%.3f MBps=%.1f checksum=%016llx\n", o.describe().c_str(),
                texts.size(), static_cast<double>(bytes) / 1e6, best, static_cast<double>(bytes) / 1e6 / best,
                static_cast<unsigned long long>(checksum));
    std::fflush(stdout);
  }
}
