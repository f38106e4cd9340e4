#include "exact_index.hpp"

#include <tamis/files.hpp>

#include <tamis/sdk.hpp>
#include <unistd.h>
#include <xxhash.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace tamis::dedup {

namespace {

// Index file layout, all integers little-endian:
//   "TAMISIDX"               8 bytes magic
//   u32 version (1)          u32 kind (1 = dedup.exact)
//   u32 settings length      settings bytes (normalisation description + ";answers=0|2")
//   u64 count                u64 total id bytes
//   count x 16 bytes key (lo, hi)
//   count x 8 bytes answer hash          (only when answers=1)
//   count x u32 id length
//   id bytes, back to back
//   u64 XXH3-64 of every byte above
constexpr char kMagic[8] = {'T', 'A', 'M', 'I', 'S', 'I', 'D', 'X'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kKindExact = 1;

static_assert(std::endian::native == std::endian::little, "index files are written little-endian");

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

struct Reader {
  const std::string& buf;
  size_t pos;
  const std::string& path;
  template <class T>
  T get() {
    if (pos + sizeof(T) > buf.size()) throw Error("index file '" + path + "' is truncated");
    T v;
    std::memcpy(&v, buf.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string_view bytes(size_t n) {
    if (n > buf.size() - pos) throw Error("index file '" + path + "' is truncated");
    std::string_view v(buf.data() + pos, n);
    pos += n;
    return v;
  }
};

std::string with_answers_setting(const std::string& settings, bool answers) {
  // answers=2: the hash of the final answer (answers.hpp: read_answer); 1 was the hash of the answer's
  // text normalisation, which older versions wrote and which is refused (rebuild the index).
  return settings + ";answers=" + (answers ? "2" : "0");
}

}  // namespace

ExactIndex::ExactIndex(bool with_answers) : with_answers_(with_answers), slots_(1024, npos), mask_(1023) {}

// While the index holds fewer than 2^24 - 1 keys, a slot stores (8-bit tag << 24) | survivor number,
// the tag taken from the key's high half (the slot position comes from the low half). A probe then
// fetches the 16-byte key, a cache miss on a large index, only when the tag matches: about once in 256
// occupied slots instead of every time. Past 2^24 - 1 keys the table is rebuilt with plain numbers.
uint32_t ExactIndex::slot_value(uint32_t n, const Key128& key) const {
  return tagged_ ? (static_cast<uint32_t>(key.hi >> 56) << 24) | n : n;
}

uint32_t ExactIndex::find(const Key128& key) const {
  const uint32_t tag = tagged_ ? static_cast<uint32_t>(key.hi >> 56) : 0;
  for (size_t i = key.lo & mask_;; i = (i + 1) & mask_) {
    const uint32_t v = slots_[i];
    if (v == npos) return npos;
    if (tagged_) {
      if ((v >> 24) != tag) continue;
      const uint32_t n = v & kTaggedMax;
      if (keys_[n] == key) return n;
    } else if (keys_[v] == key) {
      return v;
    }
  }
}

void ExactIndex::rebuild(size_t capacity) {
  std::vector<uint32_t> bigger(capacity, npos);
  const size_t mask = capacity - 1;
  for (uint32_t n = 0; n < keys_.size(); ++n) {
    size_t i = keys_[n].lo & mask;
    while (bigger[i] != npos) i = (i + 1) & mask;
    bigger[i] = slot_value(n, keys_[n]);
  }
  slots_.swap(bigger);
  mask_ = mask;
}

uint32_t ExactIndex::insert(const Key128& key, std::string_view id, uint64_t answer) {
  if (keys_.size() >= npos - 1) throw Error("dedup index full: more than 2^32 - 2 distinct keys");
  if (tagged_ && keys_.size() >= kTaggedMax) {
    tagged_ = false;
    rebuild(slots_.size());
  }
  if ((keys_.size() + 1) * 4 > slots_.size() * 3) rebuild(slots_.size() * 2);
  const auto n = static_cast<uint32_t>(keys_.size());
  size_t i = key.lo & mask_;
  while (slots_[i] != npos) i = (i + 1) & mask_;
  slots_[i] = slot_value(n, key);
  keys_.push_back(key);
  if (with_answers_) answers_.push_back(answer);
  constexpr size_t kChunk = size_t{1} << kChunkBits;
  if (id.size() > kChunk) throw Error("dedup index: an id longer than 1 MiB (" + std::to_string(id.size()) + " bytes)");
  if (chunks_.empty() || chunk_used_.back() + id.size() > kChunk) {
    chunks_.push_back(std::make_unique_for_overwrite<char[]>(kChunk));
    chunk_used_.push_back(0);
  }
  const size_t at = ((chunks_.size() - 1) << kChunkBits) + chunk_used_.back();
  if (!id.empty()) std::memcpy(chunks_.back().get() + chunk_used_.back(), id.data(), id.size());
  chunk_used_.back() += static_cast<uint32_t>(id.size());
  id_bytes_ += id.size();
  if (n % 64 == 0) id_base_.push_back(at);
  id_rel_.push_back(static_cast<uint32_t>(at - id_base_.back()));  // < 64 x 2 MiB
  return n;
}

size_t ExactIndex::id_end(uint32_t n) const {
  const size_t b = id_begin(n);
  const size_t chunk = b >> kChunkBits;
  if (n + 1 < keys_.size()) {
    const size_t next = id_begin(n + 1);
    if (next >> kChunkBits == chunk) return next;
  }
  return (chunk << kChunkBits) + chunk_used_[chunk];  // the last id of its chunk
}

std::string_view ExactIndex::id(uint32_t n) const {
  const size_t b = id_begin(n);
  return {chunks_[b >> kChunkBits].get() + (b & ((size_t{1} << kChunkBits) - 1)), id_end(n) - b};
}

size_t ExactIndex::structure_bytes() const {
  return slots_.capacity() * sizeof(uint32_t) + keys_.size() * sizeof(Key128) + answers_.size() * sizeof(uint64_t) +
         id_rel_.size() * sizeof(uint32_t) + id_base_.capacity() * sizeof(uint64_t);
}

void ExactIndex::save(const std::string& path, const std::string& settings, const Replacements& replace) const {
  const std::string s = with_answers_setting(settings, with_answers_);
  auto id_of = [&](uint32_t n) -> std::string_view {
    if (const auto it = replace.find(n); it != replace.end()) return it->second.first;
    return id(n);
  };
  uint64_t id_total = id_bytes_;
  for (const auto& [n, r] : replace) id_total = id_total - (id_end(n) - id_begin(n)) + r.first.size();
  std::string out;
  out.reserve(40 + s.size() + keys_.size() * (16 + 8 + 4) + id_total);
  out.append(kMagic, sizeof(kMagic));
  put(out, kVersion);
  put(out, kKindExact);
  put(out, static_cast<uint32_t>(s.size()));
  out += s;
  put(out, static_cast<uint64_t>(keys_.size()));
  put(out, id_total);
  for (const Key128& k : keys_) {
    put(out, k.lo);
    put(out, k.hi);
  }
  if (with_answers_)
    for (uint32_t n = 0; n < keys_.size(); ++n) {
      const auto it = replace.find(n);
      put(out, it != replace.end() ? it->second.second : answers_[n]);
    }
  for (uint32_t n = 0; n < keys_.size(); ++n) {
    const auto it = replace.find(n);
    put(out, static_cast<uint32_t>(it != replace.end() ? it->second.first.size() : id_end(n) - id_begin(n)));
  }
  for (uint32_t n = 0; n < keys_.size(); ++n) out += id_of(n);
  put(out, static_cast<uint64_t>(XXH3_64bits(out.data(), out.size())));

  write_file_atomically(path, out, "index file");
}

void ExactIndex::load(const std::string& path, const std::string& settings) {
  const std::string buf = read_file(path, "index file");
  if (buf.size() < sizeof(kMagic) || std::memcmp(buf.data(), kMagic, sizeof(kMagic)) != 0)
    throw Error("'" + path + "' is not a tamis dedup index (bad magic)");
  Reader r{buf, sizeof(kMagic), path};
  const auto version = r.get<uint32_t>();
  if (version != kVersion)
    throw Error("index file '" + path + "' has format version " + std::to_string(version) + "; this tamis reads version " +
                std::to_string(kVersion));
  const auto kind = r.get<uint32_t>();
  if (kind != kKindExact) throw Error("index file '" + path + "' is not a dedup.exact index (kind " + std::to_string(kind) + ")");
  const auto slen = r.get<uint32_t>();
  const std::string file_settings(r.bytes(slen));
  const auto count = r.get<uint64_t>();
  const auto idbytes = r.get<uint64_t>();
  const uint64_t per = 16 + 4 + (file_settings.ends_with(";answers=0") ? 0 : 8);
  const uint64_t expect = r.pos + count * per + idbytes + 8;
  if (count > UINT32_MAX - 2 || idbytes > (uint64_t{1} << 48) || buf.size() < expect)
    throw Error("index file '" + path + "' is truncated: " + std::to_string(buf.size()) + " bytes, the header announces " +
                std::to_string(expect));
  if (buf.size() != expect) throw Error("index file '" + path + "' has " + std::to_string(buf.size() - expect) + " trailing bytes");
  uint64_t stored;
  std::memcpy(&stored, buf.data() + buf.size() - 8, 8);
  if (stored != XXH3_64bits(buf.data(), buf.size() - 8)) throw Error("index file '" + path + "' is corrupt (checksum mismatch)");
  const std::string mine = with_answers_setting(settings, with_answers_);
  if (file_settings != mine)
    throw Error("index file '" + path + "' was built with other settings (" + file_settings + ") than this stage (" + mine +
                "); rebuild it or match the normalisation and answer_field parameters");

  std::vector<Key128> keys(count);
  for (auto& k : keys) {
    k.lo = r.get<uint64_t>();
    k.hi = r.get<uint64_t>();
  }
  std::vector<uint64_t> answers(with_answers_ ? count : 0);
  for (auto& a : answers) a = r.get<uint64_t>();
  std::vector<uint32_t> lens(count);
  uint64_t total = 0;
  for (auto& l : lens) total += (l = r.get<uint32_t>());
  if (total != idbytes) throw Error("index file '" + path + "' is corrupt (id lengths do not add up)");
  for (uint64_t n = 0; n < count; ++n) {
    const std::string_view id = r.bytes(lens[n]);
    if (find(keys[n]) == npos) insert(keys[n], id, with_answers_ ? answers[n] : kNoAnswer);
  }
}

}  // namespace tamis::dedup
