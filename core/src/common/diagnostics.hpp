// Diagnostics: the errors found while loading and validating a pipeline, each with a position, all
// collected before anything is reported (a user fixes every mistake in one round, not one per run).
#pragma once

#include <string>
#include <vector>

namespace tamis {

struct SourcePos {
  std::string file;  // empty when the message is not about a file
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
};

struct Diagnostic {
  SourcePos pos;
  std::string message;
  std::string hint;  // what to do about it; may be empty
};

class Diagnostics {
 public:
  void error(SourcePos pos, std::string message, std::string hint = {}) {
    items_.push_back({std::move(pos), std::move(message), std::move(hint)});
  }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  void append(const Diagnostics& other) { items_.insert(items_.end(), other.items_.begin(), other.items_.end()); }

  // "file:line:col: error: message\n  hint: ..." per item, in the order found.
  std::string format() const;

 private:
  std::vector<Diagnostic> items_;
};

// "did you mean 'x'?" for a misspelt name among candidates; empty when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace tamis
