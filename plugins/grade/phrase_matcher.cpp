// PhraseMatcher: build the trie of the patterns, its failure links (breadth first), and from them the full
// transition table, so that scanning is one table load per byte.
#include "phrase_matcher.hpp"

#include <stdexcept>

namespace tamis::grade {

namespace {

unsigned char fold(unsigned char c, bool ignore_case) {
  return ignore_case && c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

}  // namespace

PhraseMatcher::PhraseMatcher(std::span<const std::string_view> patterns, bool ignore_ascii_case) {
  // Byte classes: each byte some pattern holds (after folding) gets its own class; all others share 0.
  for (std::string_view p : patterns) {
    if (p.empty()) throw std::invalid_argument("PhraseMatcher: an empty pattern");
    for (const char ch : p) {
      const unsigned char c = fold(static_cast<unsigned char>(ch), ignore_ascii_case);
      if (class_[c] == 0) {
        if (classes_ == 256) throw std::invalid_argument("PhraseMatcher: too many distinct bytes");
        class_[c] = static_cast<uint8_t>(classes_++);
      }
    }
  }
  if (ignore_ascii_case)
    for (unsigned c = 'A'; c <= 'Z'; ++c) class_[c] = class_[c - 'A' + 'a'];

  // The trie: goto_[state * classes_ + class] is the child state, or 0 for none (the root is never a child).
  const size_t w = classes_;
  std::vector<uint32_t> goto_(w, 0);
  std::vector<std::vector<uint32_t>> own(1);  // patterns that end exactly at each state
  for (size_t id = 0; id < patterns.size(); ++id) {
    uint32_t s = 0;
    for (const char ch : patterns[id]) {
      const uint8_t c = class_[static_cast<unsigned char>(ch)];
      if (goto_[s * w + c] == 0) {
        goto_[s * w + c] = static_cast<uint32_t>(own.size());
        own.emplace_back();
        goto_.resize(goto_.size() + w, 0);
      }
      s = goto_[s * w + c];
    }
    own[s].push_back(static_cast<uint32_t>(id));
    lengths_.push_back(static_cast<uint32_t>(patterns[id].size()));
  }
  const size_t n = own.size();
  if (n * w >= kHasOutput) throw std::invalid_argument("PhraseMatcher: too many patterns");

  // Breadth first: a state's failure link (its longest proper suffix that is also a trie state) is
  // found before it, so its transitions and outputs can be completed from the link's.
  std::vector<uint32_t> fail(n, 0), order;
  order.reserve(n);
  std::vector<uint32_t> next(n * w, 0);  // full transitions (state numbers)
  for (size_t c = 0; c < w; ++c) {
    next[c] = goto_[c];
    if (goto_[c] != 0) order.push_back(goto_[c]);
  }
  for (size_t head = 0; head < order.size(); ++head) {
    const uint32_t s = order[head];
    for (size_t c = 0; c < w; ++c) {
      const uint32_t child = goto_[s * w + c];
      if (child != 0) {
        fail[child] = next[fail[s] * w + c];
        next[s * w + c] = child;
        order.push_back(child);
      } else {
        next[s * w + c] = next[fail[s] * w + c];
      }
    }
  }

  // Outputs: a state's own patterns, then those of its failure link (shorter suffixes), computed in
  // breadth-first order so the link's list is complete first.
  std::vector<std::vector<uint32_t>> outs(n);
  outs[0] = own[0];
  for (const uint32_t s : order) {
    outs[s] = own[s];
    outs[s].insert(outs[s].end(), outs[fail[s]].begin(), outs[fail[s]].end());
  }
  out_begin_.assign(n + 1, 0);
  for (size_t s = 0; s < n; ++s) {
    out_begin_[s] = static_cast<uint32_t>(out_.size());
    out_.insert(out_.end(), outs[s].begin(), outs[s].end());
  }
  out_begin_[n] = static_cast<uint32_t>(out_.size());

  delta_.resize(n * w);
  for (size_t i = 0; i < n * w; ++i) {
    const uint32_t t = next[i];
    delta_[i] = static_cast<uint32_t>(t * w) | (outs[t].empty() ? 0u : kHasOutput);
  }
}

}  // namespace tamis::grade
