// A multi-pattern matcher (Aho-Corasick, compiled to a DFA over byte classes): every occurrence of any of
// a fixed set of byte strings in one pass over a text, optionally ignoring ASCII case. Plain C++ (no SDK).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tamis::grade {

class PhraseMatcher {
 public:
  // `patterns` must be non-empty strings (duplicates allowed: each gets its own index). With
  // `ignore_ascii_case`, 'A'..'Z' match 'a'..'z' in both patterns and text (other bytes, UTF-8 included,
  // match exactly).
  explicit PhraseMatcher(std::span<const std::string_view> patterns, bool ignore_ascii_case = false);

  size_t size() const { return lengths_.size(); }
  size_t states() const { return out_begin_.size() - 1; }

  // Calls on_match(pattern index, start offset) for every occurrence of every pattern in `text`, in order
  // of end offset (for one end offset: the longest pattern first, then patterns in index order).
  template <class OnMatch>
  void scan(std::string_view text, OnMatch&& on_match) const {
    const uint32_t* delta = delta_.data();
    const uint8_t* cls = class_;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    uint32_t row = 0;
    for (size_t i = 0, n = text.size(); i < n; ++i) {
      const uint32_t next = delta[row + cls[p[i]]];
      row = next & ~kHasOutput;
      if (next & kHasOutput) [[unlikely]] {
        const uint32_t state = row / classes_;
        for (uint32_t k = out_begin_[state]; k < out_begin_[state + 1]; ++k) {
          const uint32_t id = out_[k];
          on_match(static_cast<size_t>(id), i + 1 - lengths_[id]);
        }
      }
    }
  }

 private:
  static constexpr uint32_t kHasOutput = 0x80000000u;
  uint8_t class_[256] = {};          // byte -> class (0: a byte no pattern holds)
  uint32_t classes_ = 1;             // number of classes: the width of a row of delta_
  std::vector<uint32_t> delta_;      // state * classes_ + class -> next state's row offset, | kHasOutput
  std::vector<uint32_t> out_begin_;  // state -> its first entry in out_ (states() + 1 entries)
  std::vector<uint32_t> out_;        // pattern indices ending at each state, longest first
  std::vector<uint32_t> lengths_;    // pattern index -> length
};

}  // namespace tamis::grade
