// The reading position shared by the grader's two recursive-descent readers of normalised answers:
// the numeric evaluator (answer.cpp) and the GiNaC reader (symbolic.cpp). Both derive from it, so the
// grammar each one implements is all that differs between them.
#pragma once

#include <cstddef>
#include <string_view>

namespace tamis::grade::detail {

class LatexCursor {
 protected:
  static constexpr int kMaxDepth = 64;  // recursion bound: deeper input fails instead of overflowing the stack

  explicit LatexCursor(std::string_view s) : s_(s) {}

  static bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

  // One level of recursion while it lives; past kMaxDepth the reading has failed.
  struct Depth {
    LatexCursor& c;
    explicit Depth(LatexCursor& cursor) : c(cursor) {
      if (++c.depth_ > kMaxDepth) c.failed_ = true;
    }
    ~Depth() { --c.depth_; }
  };

  bool at(std::string_view t) const { return s_.substr(pos_, t.size()) == t; }
  // `name` (e.g. "\\pi") at the position, not followed by a letter (so "\\pi" is not "\\pitch").
  bool at_command(std::string_view name) const {
    if (!at(name)) return false;
    const size_t end = pos_ + name.size();
    return end >= s_.size() || !is_letter(s_[end]);
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
  bool failed_ = false;
};

}  // namespace tamis::grade::detail
