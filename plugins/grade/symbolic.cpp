// Symbolic equivalence with GiNaC (optional; see symbolic.hpp). The reader below follows the grammar of
// the numeric evaluator in answer.cpp (same operators, implicit products, \frac, \sqrt, functions), but
// builds exact GiNaC expressions: decimals become exact rationals, so 0.3333333x is not x/3.
#include "symbolic.hpp"

#if TAMIS_GRADE_GINAC

#include <ginac/ginac.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "latex_cursor.hpp"

namespace tamis::grade::detail {

namespace {

constexpr size_t kMaxBytes = 300;
constexpr int kMaxDegree = 32;
constexpr size_t kMaxVariables = 4;
constexpr double kMaxTerms = 5000;
constexpr int kMaxExponent = 64;  // |p| of an exponent p/q
constexpr int kMaxRoot = 12;      // q of an exponent p/q, the n of \sqrt[n]

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// An expression and what is known about it: an upper bound of its degree in the variables (powers,
// products and quotients add up, so it also bounds the work of expanding and normalising), and whether
// it is a rational function with exact coefficients (for which normal() decides equality).
struct Term {
  GiNaC::ex e;
  int degree = 0;
  bool rational = true;
};

class Reader : private LatexCursor {
 public:
  Reader(std::string_view s, std::map<char, GiNaC::symbol>& symbols) : LatexCursor(s), symbols_(symbols) {}

  std::optional<Term> run() {
    auto t = expr();
    if (!t || failed_ || pos_ != s_.size()) return std::nullopt;
    return t;
  }

 private:
  std::map<char, GiNaC::symbol>& symbols_;

  std::optional<Term> fail() {
    failed_ = true;
    return std::nullopt;
  }
  // Keeps a degree estimate under the cap (the caller gives up past it).
  std::optional<Term> checked(Term t) {
    if (t.degree > kMaxDegree) return fail();
    return t;
  }

  const char* function_at() const {
    for (const char* f : {"\\sin", "\\cos", "\\tan", "\\sec", "\\csc", "\\cot", "\\arcsin", "\\arccos", "\\arctan", "\\sinh",
                          "\\cosh", "\\tanh", "\\ln", "\\log", "\\exp"})
      if (at_command(f)) return f;
    return nullptr;
  }
  bool starts_atom() const {
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (is_digit(c) || c == '(' || c == '{' || c == '.' || is_alpha(c)) return true;
    return at_command("\\frac") || at_command("\\sqrt") || at_command("\\pi") || function_at() != nullptr;
  }

  std::optional<Term> expr() {
    Depth guard(*this);
    if (failed_) return std::nullopt;
    auto left = term();
    while (left && !failed_ && pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
      const bool plus = s_[pos_++] == '+';
      auto right = term();
      if (!right) return std::nullopt;
      left = checked({plus ? left->e + right->e : left->e - right->e, std::max(left->degree, right->degree),
                      left->rational && right->rational});
    }
    return left;
  }

  std::optional<Term> term() {
    Depth guard(*this);
    if (failed_) return std::nullopt;
    auto left = unary();
    while (left && !failed_) {
      bool divide = false, explicit_op = true;
      if (eat('*') || (at_command("\\cdot") && (pos_ += 5)) || (at_command("\\times") && (pos_ += 6))) {
      } else if (eat('/') || (at_command("\\div") && (pos_ += 4))) {
        divide = true;
      } else if (starts_atom()) {
        explicit_op = false;  // an implicit product: 2x, 2\sqrt{3}, x(x+1)
      } else {
        break;
      }
      auto right = explicit_op ? unary() : power();
      if (!right) return std::nullopt;
      if (divide && right->e.is_zero()) return fail();
      left = checked({divide ? left->e / right->e : left->e * right->e, left->degree + right->degree,
                      left->rational && right->rational});
    }
    return left;
  }

  std::optional<Term> unary() {
    Depth guard(*this);
    if (failed_) return std::nullopt;
    if (eat('-')) {
      auto v = unary();
      if (!v) return std::nullopt;
      v->e = -v->e;
      return v;
    }
    if (eat('+')) return unary();
    return power();
  }

  // An exponent must be a small exact rational p/q: powers stay cheap to expand and exact.
  std::optional<Term> raise(const Term& base, const Term& exponent) {
    if (exponent.degree != 0 || !GiNaC::is_a<GiNaC::numeric>(exponent.e)) return fail();
    const GiNaC::numeric n = GiNaC::ex_to<GiNaC::numeric>(exponent.e);
    if (!n.is_rational() || GiNaC::abs(n.numer()) > kMaxExponent || n.denom() > kMaxRoot) return fail();
    // 0^0 and 0^-n are refused before GiNaC: its pow() throws for them from inside the constructor
    // of the power it allocated, which is then never freed (the verdict, unknown, is the same).
    if (base.e.is_zero() && !n.is_positive()) return fail();
    const int whole = static_cast<int>(std::ceil(std::fabs(n.to_double())));
    return checked({GiNaC::pow(base.e, n), base.degree * whole, base.rational && n.is_integer()});
  }

  std::optional<Term> power() {
    Depth guard(*this);
    if (failed_) return std::nullopt;
    auto base = atom();
    if (!base) return std::nullopt;
    if (pos_ < s_.size() && s_[pos_] == '!') return fail();  // factorials: numbers only, decided before
    if (!eat('^')) return base;
    std::optional<Term> e;
    if (pos_ < s_.size() && s_[pos_] == '{') e = atom();
    else if (pos_ < s_.size() && is_digit(s_[pos_])) e = Term{GiNaC::numeric(s_[pos_++] - '0'), 0, true};
    else if (eat('-')) {
      e = atom();
      if (e) e->e = -e->e;
    } else e = atom();
    if (!e) return std::nullopt;
    return raise(*base, *e);
  }

  std::optional<Term> braced() {
    if (!eat('{')) return fail();
    auto v = expr();
    if (!v || !eat('}')) return fail();
    return v;
  }

  std::optional<Term> number() {
    GiNaC::numeric value = 0, scale = 1;
    size_t digits = 0;
    while (pos_ < s_.size() && is_digit(s_[pos_])) value = value * 10 + (s_[pos_++] - '0'), ++digits;
    if (pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
      ++pos_;
      while (pos_ < s_.size() && is_digit(s_[pos_])) value = value * 10 + (s_[pos_++] - '0'), scale *= 10, ++digits;
    }
    if (digits == 0 || digits > 40) return fail();
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t k = pos_ + 1;
      const bool neg = k < s_.size() && s_[k] == '-';
      if (k < s_.size() && (s_[k] == '-' || s_[k] == '+')) ++k;
      if (k < s_.size() && is_digit(s_[k])) {
        int exp10 = 0;
        while (k < s_.size() && is_digit(s_[k])) {
          exp10 = exp10 * 10 + (s_[k++] - '0');
          if (exp10 > 40) return fail();
        }
        pos_ = k;
        const GiNaC::numeric p = GiNaC::numeric(10).power(exp10);
        if (neg) scale *= p;
        else value *= p;
      }
    }
    return Term{value / scale, 0, true};
  }

  std::optional<Term> atom() {
    Depth guard(*this);
    if (failed_ || pos_ >= s_.size()) return fail();
    const char c = s_[pos_];
    if (is_digit(c) || c == '.') return number();
    if (c == '(') {
      ++pos_;
      auto v = expr();
      if (!v || !eat(')')) return fail();
      return v;
    }
    if (c == '{') return braced();
    if (at_command("\\frac")) {
      pos_ += 5;
      auto a = braced();
      if (!a) return std::nullopt;
      auto b = braced();
      if (!b) return std::nullopt;
      if (b->e.is_zero()) return fail();
      return checked({a->e / b->e, a->degree + b->degree, a->rational && b->rational});
    }
    if (at_command("\\sqrt")) {
      pos_ += 5;
      GiNaC::numeric index = 2;
      if (eat('[')) {
        auto i = expr();
        if (!i || !eat(']') || !GiNaC::is_a<GiNaC::numeric>(i->e)) return fail();
        index = GiNaC::ex_to<GiNaC::numeric>(i->e);
        if (!index.is_pos_integer() || index > kMaxRoot) return fail();
      }
      auto v = braced();
      if (!v) return std::nullopt;
      return raise(*v, Term{1 / index, 0, true});
    }
    if (const char* f = function_at()) {
      const std::string_view name(f);
      pos_ += name.size();
      std::optional<Term> base;
      if (name == "\\log" && eat('_')) {
        base = pos_ < s_.size() && is_digit(s_[pos_]) ? std::optional<Term>(Term{GiNaC::numeric(s_[pos_++] - '0'), 0, true}) : atom();
        if (!base) return std::nullopt;
      }
      int fpow = 1;  // \sin^2(x)
      if (eat('^')) {
        if (pos_ < s_.size() && is_digit(s_[pos_])) fpow = s_[pos_++] - '0';
        else {
          auto e = braced();
          if (!e || !GiNaC::is_a<GiNaC::numeric>(e->e) || !GiNaC::ex_to<GiNaC::numeric>(e->e).is_pos_integer() ||
              GiNaC::ex_to<GiNaC::numeric>(e->e) > 16)
            return fail();
          fpow = GiNaC::ex_to<GiNaC::numeric>(e->e).to_int();
        }
        if (fpow < 1) return fail();
      }
      auto arg = power();
      if (!arg) return std::nullopt;
      GiNaC::ex v;
      if (name == "\\sin") v = GiNaC::sin(arg->e);
      else if (name == "\\cos") v = GiNaC::cos(arg->e);
      else if (name == "\\tan") v = GiNaC::tan(arg->e);
      else if (name == "\\sec") v = 1 / GiNaC::cos(arg->e);
      else if (name == "\\csc") v = 1 / GiNaC::sin(arg->e);
      else if (name == "\\cot") v = GiNaC::cos(arg->e) / GiNaC::sin(arg->e);
      else if (name == "\\arcsin") v = GiNaC::asin(arg->e);
      else if (name == "\\arccos") v = GiNaC::acos(arg->e);
      else if (name == "\\arctan") v = GiNaC::atan(arg->e);
      else if (name == "\\sinh") v = GiNaC::sinh(arg->e);
      else if (name == "\\cosh") v = GiNaC::cosh(arg->e);
      else if (name == "\\tanh") v = GiNaC::tanh(arg->e);
      else if (name == "\\exp") v = GiNaC::exp(arg->e);
      else if (name == "\\ln") v = GiNaC::log(arg->e);
      else v = GiNaC::log(arg->e) / GiNaC::log(base ? base->e : GiNaC::ex(10));
      if (fpow > 1) v = GiNaC::pow(v, fpow);
      return checked({v, arg->degree * fpow, false});
    }
    if (at_command("\\pi")) {
      pos_ += 3;
      return Term{GiNaC::Pi, 0, false};
    }
    if (is_alpha(c)) {
      ++pos_;
      if (c == 'e') return Term{GiNaC::exp(GiNaC::ex(1)), 0, false};
      auto it = symbols_.find(c);
      if (it == symbols_.end()) {
        if (symbols_.size() >= kMaxVariables) return fail();
        it = symbols_.emplace(c, GiNaC::symbol(std::string(1, c))).first;
      }
      return Term{it->second, 1, true};
    }
    return fail();
  }
};

// Upper bound of the number of monomials of degree <= d in v variables: C(d + v, v).
double max_terms(int degree, size_t variables) {
  double r = 1;
  for (size_t i = 1; i <= variables; ++i) r = r * static_cast<double>(degree + static_cast<int>(i)) / static_cast<double>(i);
  return r;
}

std::mutex g_ginac;  // GiNaC's reference counts and caches are not thread-safe

}  // namespace

Symbolic symbolic_compare(std::string_view a, std::string_view b) {
  if (a.size() > kMaxBytes || b.size() > kMaxBytes) return Symbolic::unknown;
  std::lock_guard<std::mutex> lock(g_ginac);
  try {
    std::map<char, GiNaC::symbol> symbols;
    const auto x = Reader(a, symbols).run();
    if (!x) return Symbolic::unknown;
    const auto y = Reader(b, symbols).run();
    if (!y || symbols.empty()) return Symbolic::unknown;  // numbers alone were decided before
    if (max_terms(x->degree + y->degree, symbols.size()) > kMaxTerms) return Symbolic::unknown;
    const GiNaC::ex diff = (x->e - y->e).normal();
    if (diff.is_zero()) return Symbolic::equal;
    return x->rational && y->rational ? Symbolic::different : Symbolic::unknown;
  } catch (const std::exception&) {  // a pole (division by an expression that is 0), overflow
    return Symbolic::unknown;
  }
}

bool symbolic_built() { return true; }

}  // namespace tamis::grade::detail

#else

namespace tamis::grade::detail {

Symbolic symbolic_compare(std::string_view, std::string_view) { return Symbolic::unknown; }
bool symbolic_built() { return false; }

}  // namespace tamis::grade::detail

#endif
