// Content ids: see content_ids.hpp.
#include "engine/content_ids.hpp"

#include <xxhash.h>

namespace tamis {

void append_content_id(std::string& out, std::string_view source, const ContentId& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.append(source);
  out.push_back('/');
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(id.hash >> shift) & 0xF]);
  if (id.repeat > 1) out.append(".").append(std::to_string(id.repeat));
}

void ContentIdCounter::assign(const io::LineChunk& chunk, std::vector<ContentId>& out) {
  out.resize(chunk.lines.size());
  for (size_t i = 0; i < chunk.lines.size(); ++i) {
    const std::string_view text = chunk.text(chunk.lines[i]);
    out[i].hash = XXH3_64bits(text.data(), text.size());
    out[i].repeat = count(out[i].hash);
  }
}

void ContentIdCounter::clear() {
  slots_ = {};
  used_ = 0;
  repeats_ = {};
}

uint32_t ContentIdCounter::count(uint64_t hash) {
  const uint64_t key = hash ? hash : 1;
  if ((used_ + 1) * 2 > slots_.size()) grow();
  const size_t mask = slots_.size() - 1;
  for (size_t i = static_cast<size_t>(key) & mask;; i = (i + 1) & mask) {
    if (slots_[i] == key) return ++repeats_.try_emplace(key, 1).first->second;
    if (slots_[i] == 0) {
      slots_[i] = key;
      ++used_;
      return 1;
    }
  }
}

void ContentIdCounter::grow() {
  std::vector<uint64_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
  const size_t mask = slots_.size() - 1;
  for (uint64_t key : old) {
    if (!key) continue;
    size_t i = static_cast<size_t>(key) & mask;
    while (slots_[i]) i = (i + 1) & mask;
    slots_[i] = key;
  }
}

}  // namespace tamis
