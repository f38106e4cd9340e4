// gen_grade: deterministic inputs for the grading and difficulty benchmarks (bench/grade.sh), built from
// the real data in ../shared/data.
//
//   gen_grade gsm8k --in example_model_solutions.jsonl --repeat N --out FILE
//       one line per graded model solution, {"id","response","reference","is_correct"}: the 4 solutions of
//       each of the 1,319 problems (5,276 answers), the whole set written N times (ids carry the round).
//   gen_grade latex --in math_test.jsonl --records N [--seed S] --out FILE
//       MATH-style LaTeX answers: each line is a real MATH solution (from --in, cycled) whose last \boxed{}
//       holds the reference answer rewritten in an equivalent form (\dfrac, a decimal, "x = ", units,
//       spacing, thousands separators, ...) or a wrong one (a digit changed, another problem's answer),
//       {"id","response","answer","expect"}; expect says which kind of rewrite it was.
//   gen_grade rollouts --answers FILE[,FILE...] --problems N [--rollouts K] [--models M] [--seed S]
//                      --out-problems FILE --out-sidecar FILE
//       N problems {"id","problem","answer"} whose answers are real reference answers (the \boxed{} of a
//       MATH solution or DeepScaleR's "answer" field, cycled), and a sidecar with K rollouts per problem,
//       one line per rollout {"id","model","response"} (model m0..m{M-1}, rollout i from model i % M),
//       problems and rollouts in a shuffled order as a sampler writes them. Each problem gets a pass
//       probability (25% never solved, 15% always, the rest uniform); a correct rollout writes the
//       reference in an equivalent form, a wrong one one of 2-6 wrong answers (the first 30% of the
//       time); 5% of problems have a wrong reference (never solved, 90% of rollouts on one other
//       answer); 3% of rollouts end without a final answer.
//
// Same arguments give a byte-identical file: splitmix64-seeded xoshiro256**, no hashed containers.
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& w : s_) w = splitmix64(seed);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "gen_grade: %s\n", msg.c_str());
  std::exit(2);
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

class Writer {
 public:
  explicit Writer(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {
    if (!f_) die("cannot open " + path + " for writing");
  }
  ~Writer() {
    flush();
    std::fclose(f_);
  }
  std::string& buf() { return buf_; }
  void line_done() {
    buf_ += '\n';
    if (buf_.size() >= (1 << 20)) flush();
  }

 private:
  void flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) die("write failed");
    buf_.clear();
  }
  std::FILE* f_;
  std::string buf_;
};

// The index of the '}' closing the '{' at `open` (escaped braces skipped), or npos.
size_t match_brace(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '{' || s[i + 1] == '}')) {
      ++i;
      continue;
    }
    if (s[i] == '{') ++depth;
    else if (s[i] == '}' && --depth == 0) return i;
  }
  return std::string_view::npos;
}

// The last \boxed{...} of a solution: content start and end, or {npos, npos}.
std::pair<size_t, size_t> last_boxed(std::string_view s) {
  const size_t at = s.rfind("\\boxed{");
  if (at == std::string_view::npos) return {std::string_view::npos, std::string_view::npos};
  const size_t open = at + 6, close = match_brace(s, open);
  if (close == std::string_view::npos) return {std::string_view::npos, std::string_view::npos};
  return {open + 1, close};
}

bool is_integer(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  return !s.empty() && s.size() < 16 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

// \frac{p}{q} with small integers and a terminating decimal: that decimal.
bool fraction_decimal(std::string_view s, std::string& out) {
  bool neg = false;
  if (!s.empty() && s[0] == '-') neg = true, s.remove_prefix(1);
  for (std::string_view f : {"\\frac{", "\\dfrac{"}) {
    if (s.substr(0, f.size()) != f) continue;
    const size_t c1 = match_brace(s, f.size() - 1);
    if (c1 == std::string_view::npos || c1 + 1 >= s.size() || s[c1 + 1] != '{') return false;
    const size_t c2 = match_brace(s, c1 + 1);
    if (c2 != s.size() - 1) return false;
    const std::string_view p = s.substr(f.size(), c1 - f.size()), q = s.substr(c1 + 2, c2 - c1 - 2);
    if (!is_integer(p) || !is_integer(q)) return false;
    long long qq = std::atoll(std::string(q).c_str());
    const long long pp = std::atoll(std::string(p).c_str());
    if (qq <= 0) return false;
    long long t = qq;
    while (t % 2 == 0) t /= 2;
    while (t % 5 == 0) t /= 5;
    if (t != 1 || qq > 1000) return false;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%.12g", neg ? "-" : "", static_cast<double>(pp) / static_cast<double>(qq));
    out = buf;
    return true;
  }
  return false;
}

// The reference in another form a grader must accept (or the same text, a third of the time).
std::string equivalent_form(const std::string& ref, Rng& rng) {
  std::string out = ref;
  switch (rng.below(9)) {
    case 0:
    case 1: return ref;
    case 2:
      if (out.find("\\frac") != std::string::npos) replace_all(out, "\\frac", "\\dfrac");
      else if (is_integer(ref)) out = ref + ".0";
      return out;
    case 3:
      if (std::string d; fraction_decimal(ref, d)) return d;
      if (out.find("{,}") == std::string::npos) replace_all(out, ",", ", ");
      return out;
    case 4:
      if (ref.find(',') == std::string::npos && ref.find('=') == std::string::npos && ref.size() < 40) return "x = " + ref;
      return out;
    case 5:
      if (is_integer(ref)) return ref + "\\text{ units}";
      replace_all(out, "\\sqrt{2}", "\\sqrt2");
      replace_all(out, "\\sqrt{3}", "\\sqrt3");
      return out;
    case 6:
      if (is_integer(ref) && ref.size() > 3 && ref[0] != '-') {
        std::string t;
        for (size_t i = 0; i < ref.size(); ++i) {
          if (i > 0 && (ref.size() - i) % 3 == 0) t += "{,}";
          t += ref[i];
        }
        return t;
      }
      replace_all(out, "(", "\\left(");
      replace_all(out, ")", "\\right)");
      return out;
    case 7: return "\\, " + ref + " \\,";
    default:
      if (is_integer(ref)) return "$" + ref + "$";
      return ref;
  }
}

// A wrong answer: a digit changed, or another problem's answer.
std::string wrong_form(const std::string& ref, const std::vector<std::string>& pool, Rng& rng) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::string out = ref;
    if (rng.chance(0.6)) {
      std::vector<size_t> digits;
      for (size_t i = 0; i < out.size(); ++i)
        if (out[i] >= '0' && out[i] <= '9') digits.push_back(i);
      if (!digits.empty()) {
        const size_t at = digits[rng.below(digits.size())];
        out[at] = static_cast<char>('0' + (out[at] - '0' + 1 + rng.below(8)) % 10);
      }
    } else {
      out = pool[rng.below(pool.size())];
    }
    if (out != ref) return out;
  }
  return ref + "+1";
}

const char* const kOpenings[] = {
    "Let's work through this step by step. ",
    "First, we set up the problem carefully and simplify. ",
    "We start by writing down what is given and what we need to find. ",
    "Consider the conditions of the problem. Substituting the known values, ",
};
const char* const kMiddles[] = {
    "After expanding and collecting like terms we obtain a simpler expression, and checking the edge cases confirms "
    "that nothing was lost. ",
    "Using the formula for the sum and simplifying the fraction, the computation reduces to a single value. ",
    "Dividing both sides by the common factor and verifying the result against the original equation, ",
    "We can double-check by plugging the value back in: both sides agree. ",
};

std::string response_for(const std::string& answer, Rng& rng, bool no_answer) {
  std::string r = kOpenings[rng.below(4)];
  const int middles = 1 + static_cast<int>(rng.below(3));
  for (int i = 0; i < middles; ++i) r += kMiddles[rng.below(4)];
  if (no_answer) return r + "I am not able to finish this computation.";
  if (rng.chance(0.05)) return r + "The answer is " + answer + ".";
  return r + "Therefore the answer is $\\boxed{" + answer + "}$.";
}

std::string arg(int& i, int argc, char** argv) {
  if (i + 1 >= argc) die(std::string("missing value after ") + argv[i]);
  return argv[++i];
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at; (at = s.find(',', start)) != std::string::npos; start = at + 1) out.push_back(s.substr(start, at - start));
  out.push_back(s.substr(start));
  return out;
}

// Calls f(doc, line_no) for each JSON object line of a JSONL file.
template <class F>
void each_record(const std::string& path, F&& f) {
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path).get(text) != simdjson::SUCCESS) die("cannot read " + path);
  simdjson::dom::parser parser;
  const std::string_view all(text.data(), text.size());
  size_t start = 0, line_no = 0;
  while (start < all.size()) {
    size_t end = all.find('\n', start);
    if (end == std::string_view::npos) end = all.size();
    ++line_no;
    const std::string_view line = all.substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
    simdjson::dom::element doc;
    if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS || !doc.is_object())
      die(path + ":" + std::to_string(line_no) + ": not a JSON object");
    f(doc, line_no);
  }
}

std::string_view str(const simdjson::dom::element& doc, const char* key) {
  std::string_view v;
  if (doc[key].get_string().get(v) != simdjson::SUCCESS) return {};
  return v;
}

int gsm8k(int argc, char** argv) {
  std::string in, out;
  long repeat = 1;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--in") in = arg(i, argc, argv);
    else if (a == "--out") out = arg(i, argc, argv);
    else if (a == "--repeat") repeat = std::atol(arg(i, argc, argv).c_str());
    else die("unknown argument " + a);
  }
  if (in.empty() || out.empty() || repeat < 1) die("gsm8k needs --in, --out and --repeat >= 1");
  struct Row {
    std::string tail;  // everything after the id
  };
  std::vector<Row> rows;
  const char* const models[] = {"6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"};
  each_record(in, [&](const simdjson::dom::element& doc, size_t line_no) {
    for (const char* m : models) {
      simdjson::dom::element sol;
      if (doc[m].get(sol) != simdjson::SUCCESS) die(in + ":" + std::to_string(line_no) + ": no " + m);
      bool correct = false;
      if (sol["is_correct"].get_bool().get(correct) != simdjson::SUCCESS) die(in + ": no is_correct");
      Row r;
      r.tail = ",\"response\":";
      append_json_string(r.tail, str(sol, "solution"));
      r.tail += ",\"reference\":";
      append_json_string(r.tail, str(doc, "ground_truth"));
      r.tail += correct ? ",\"is_correct\":true}" : ",\"is_correct\":false}";
      rows.push_back(std::move(r));
    }
  });
  Writer w(out);
  for (long round = 0; round < repeat; ++round)
    for (size_t i = 0; i < rows.size(); ++i) {
      w.buf() += "{\"id\":\"g" + std::to_string(round) + "-" + std::to_string(i) + "\"";
      w.buf() += rows[i].tail;
      w.line_done();
    }
  return 0;
}

// Reference answers and the solutions they come from (solution empty for answer-only sources).
struct Ref {
  std::string answer, solution;
};

std::vector<Ref> load_refs(const std::vector<std::string>& files) {
  std::vector<Ref> refs;
  for (const auto& f : files)
    each_record(f, [&](const simdjson::dom::element& doc, size_t) {
      const std::string_view sol = str(doc, "solution"), ans = str(doc, "answer");
      if (!sol.empty()) {
        const auto [b, e] = last_boxed(sol);
        if (b != std::string_view::npos && e > b && e - b <= 200) refs.push_back({std::string(sol.substr(b, e - b)), std::string(sol)});
      } else if (!ans.empty() && ans.size() <= 200) {
        refs.push_back({std::string(ans), ""});
      }
    });
  if (refs.empty()) die("no reference answers found");
  return refs;
}

int latex(int argc, char** argv) {
  std::string in, out;
  long records = 0;
  std::uint64_t seed = 42;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--in") in = arg(i, argc, argv);
    else if (a == "--out") out = arg(i, argc, argv);
    else if (a == "--records") records = std::atol(arg(i, argc, argv).c_str());
    else if (a == "--seed") seed = std::strtoull(arg(i, argc, argv).c_str(), nullptr, 10);
    else die("unknown argument " + a);
  }
  if (in.empty() || out.empty() || records < 1) die("latex needs --in, --out and --records >= 1");
  std::vector<Ref> refs;
  for (auto& r : load_refs(split_commas(in)))
    if (!r.solution.empty()) refs.push_back(std::move(r));
  if (refs.empty()) die("no solutions with a \\boxed{} answer in " + in);
  std::vector<std::string> pool;
  for (const auto& r : refs) pool.push_back(r.answer);
  Rng rng(seed);
  Writer w(out);
  for (long i = 0; i < records; ++i) {
    const Ref& r = refs[static_cast<size_t>(i) % refs.size()];
    const bool same = rng.chance(0.7);
    const std::string ans = same ? equivalent_form(r.answer, rng) : wrong_form(r.answer, pool, rng);
    const auto [b, e] = last_boxed(r.solution);
    const std::string response = r.solution.substr(0, b) + ans + r.solution.substr(e);
    std::string& o = w.buf();
    o += "{\"id\":\"l" + std::to_string(i) + "\",\"response\":";
    append_json_string(o, response);
    o += ",\"answer\":";
    append_json_string(o, r.answer);
    o += same ? ",\"expect\":true}" : ",\"expect\":false}";
    w.line_done();
  }
  return 0;
}

int rollouts(int argc, char** argv) {
  std::string answers, out_problems, out_sidecar;
  long problems = 0, k = 16, models = 1;
  std::uint64_t seed = 42;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--answers") answers = arg(i, argc, argv);
    else if (a == "--problems") problems = std::atol(arg(i, argc, argv).c_str());
    else if (a == "--rollouts") k = std::atol(arg(i, argc, argv).c_str());
    else if (a == "--models") models = std::atol(arg(i, argc, argv).c_str());
    else if (a == "--seed") seed = std::strtoull(arg(i, argc, argv).c_str(), nullptr, 10);
    else if (a == "--out-problems") out_problems = arg(i, argc, argv);
    else if (a == "--out-sidecar") out_sidecar = arg(i, argc, argv);
    else die("unknown argument " + a);
  }
  if (answers.empty() || out_problems.empty() || out_sidecar.empty() || problems < 1 || k < 1 || models < 1)
    die("rollouts needs --answers, --problems >= 1, --out-problems, --out-sidecar");
  const std::vector<Ref> refs = load_refs(split_commas(answers));
  std::vector<std::string> pool;
  for (const auto& r : refs) pool.push_back(r.answer);
  Rng rng(seed);

  // Rollout lines are written in blocks of problems, shuffled within each block: a sampler's output is
  // not sorted by problem, but it is not a global shuffle either (it works through its queue).
  constexpr long kBlock = 4096;
  Writer wp(out_problems), ws(out_sidecar);
  std::vector<std::string> lines;
  for (long base = 0; base < problems; base += kBlock) {
    lines.clear();
    for (long p = base; p < std::min(problems, base + kBlock); ++p) {
      const std::string& ref = refs[static_cast<size_t>(p) % refs.size()].answer;
      const std::string id = "p" + std::to_string(p);
      std::string& o = wp.buf();
      o += "{\"id\":";
      append_json_string(o, id);
      o += ",\"problem\":\"Problem " + std::to_string(p) + ": find the value described in the statement.\",\"answer\":";
      append_json_string(o, ref);
      o += '}';
      wp.line_done();

      // 5% of problems have a wrong reference: the rollouts agree on another answer (9 times in 10).
      const double u = rng.unit();
      const bool bad_reference = u < 0.05;
      const double pass = bad_reference || u < 0.25 ? 0.0 : u < 0.40 ? 1.0 : rng.unit();
      const double common = bad_reference ? 0.9 : 0.3;
      std::vector<std::string> wrong;
      const size_t n_wrong = 2 + rng.below(5);
      for (size_t j = 0; j < n_wrong; ++j) wrong.push_back(wrong_form(ref, pool, rng));
      for (long r = 0; r < k; ++r) {
        const bool no_answer = rng.chance(0.03);
        std::string answer;
        if (rng.chance(pass)) answer = equivalent_form(ref, rng);
        else answer = wrong[rng.chance(common) ? 0 : rng.below(wrong.size())];
        std::string line = "{\"id\":";
        append_json_string(line, id);
        line += ",\"model\":\"m" + std::to_string(r % models) + "\",\"response\":";
        append_json_string(line, response_for(answer, rng, no_answer));
        line += '}';
        lines.push_back(std::move(line));
      }
    }
    for (size_t i = lines.size(); i > 1; --i) std::swap(lines[i - 1], lines[rng.below(i)]);
    for (auto& l : lines) {
      ws.buf() += l;
      ws.line_done();
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "gsm8k") return gsm8k(argc, argv);
  if (cmd == "latex") return latex(argc, argv);
  if (cmd == "rollouts") return rollouts(argc, argv);
  std::fprintf(stderr,
               "usage: gen_grade gsm8k --in FILE --repeat N --out FILE\n"
               "       gen_grade latex --in FILE[,FILE] --records N [--seed S] --out FILE\n"
               "       gen_grade rollouts --answers FILE[,FILE] --problems N [--rollouts K] [--models M] [--seed S]\n"
               "                          --out-problems FILE --out-sidecar FILE\n");
  return 2;
}
