// Evidence samples: see evidence.hpp.
#include "engine/evidence.hpp"

#include <xxhash.h>

#include <tamis/json.hpp>

#include "common/utf8.hpp"
#include "engine/stage_runtime.hpp"

namespace tamis {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t seed_of(const std::string& stage, const std::string& what) {
  const std::string key = stage + '\0' + what;
  return XXH3_64bits(key.data(), key.size());
}

}  // namespace

int64_t EvidenceSampler::Reservoir::draw() {
  ++seen;
  if (seen <= kSamplesPerReason) return static_cast<int64_t>(seen - 1);
  const uint64_t j = splitmix64(state) % seen;
  return j < kSamplesPerReason ? static_cast<int64_t>(j) : -1;
}

EvidenceSampler::EvidenceSampler(const Pipeline& p)
    : p_(p), kept_(p.stages.size()), rejected_(p.stages.size()), beside_(p.stages.size()) {
  for (size_t s = 0; s < p.stages.size(); ++s) kept_[s].state = seed_of(p.stages[s].name, "");
}

EvidenceSampler::Reservoir& EvidenceSampler::reservoir(size_t stage, const std::string& reason, bool with_survivor) {
  auto [it, fresh] = (with_survivor ? beside_ : rejected_)[stage].try_emplace(reason);
  if (fresh) it->second.state = seed_of(p_.stages[stage].name, with_survivor ? reason + "\x01survivor" : reason);
  return it->second;
}

std::string EvidenceSampler::sample(const Record& r, const Batch& b, const RunNames& names, bool rejected) const {
  std::string o = "{\"id\":";
  json::append_quoted(o, r.id);
  o += ",\"source\":";
  json::append_quoted(o, names.sources[static_cast<size_t>(b.source)]);
  o += ",\"file\":";
  json::append_quoted(o, names.files[static_cast<size_t>(b.source)][static_cast<size_t>(b.file)]);
  o += ",\"line\":" + std::to_string(b.inputs[r.origin].line);
  if (rejected) {
    o += ",\"reason\":";
    json::append_quoted(o, r.reason.empty() ? std::string_view("rejected") : std::string_view(r.reason));
    o += ",\"detail\":";
    json::append_quoted(o, utf8_prefix(r.detail, kValueBytes));
  }
  o += ",\"annotations\":{";
  bool first = true;
  for (const Annotation& a : r.annotations) {
    if (!first) o.push_back(',');
    first = false;
    json::append_quoted(o, a.key);
    o.push_back(':');
    if (a.value_json.size() <= kValueBytes) {
      o += a.value_json;
    } else {  // clipped: the start of its JSON text, as a string
      json::append_quoted(o, std::string(utf8_prefix(a.value_json, kValueBytes)) + "\u2026");
    }
  }
  o += "},\"text\":";
  json::append_quoted(o, utf8_prefix(r.text, kTextBytes));
  o += ",\"text_bytes\":" + std::to_string(r.text.size()) + "}";
  return o;
}

void EvidenceSampler::Reservoir::put(int64_t slot, std::string sample) {
  if (static_cast<size_t>(slot) == items.size()) items.push_back(std::move(sample));
  else items[static_cast<size_t>(slot)] = std::move(sample);
}

void EvidenceSampler::add(const Batch& b, const RunNames& names) {
  // Watch one record in kWatchEvery (by its id, so the same ones at any thread count), for duplicates.
  for (const Record& r : b.records) {
    if (watched_.size() >= kWatchMax) break;
    if (r.id.empty() || XXH3_64bits(r.id.data(), r.id.size()) % kWatchEvery != 0 || watched_.count(r.id)) continue;
    std::string w = "{\"id\":";
    json::append_quoted(w, r.id);
    w += ",\"text\":";
    json::append_quoted(w, utf8_prefix(r.text, kTextBytes));
    w += ",\"text_bytes\":" + std::to_string(r.text.size()) + "}";
    watched_.emplace(r.id, std::move(w));
  }
  for (const Record* r : b.rejected) {
    if (r->rejected_by < 0) continue;
    const size_t stage = static_cast<size_t>(r->rejected_by);
    const std::string reason = r->reason.empty() ? "rejected" : r->reason;
    Reservoir& res = reservoir(stage, reason, false);
    if (const int64_t slot = res.draw(); slot >= 0) res.put(slot, sample(*r, b, names, true));
    for (const Annotation& a : r->annotations) {
      if (a.key != "dup_of" || a.value_json.size() < 2 || a.value_json.front() != '"') continue;
      const auto it = watched_.find(json::unescape(std::string_view(a.value_json).substr(1, a.value_json.size() - 2)));
      if (it == watched_.end()) break;
      Reservoir& near = reservoir(stage, reason, true);
      if (const int64_t slot = near.draw(); slot >= 0) {
        std::string s = sample(*r, b, names, true);
        s.pop_back();
        near.put(slot, s + ",\"survivor\":" + it->second + "}");
      }
      break;
    }
  }
  const size_t nsrc = p_.sources.size();
  for (size_t s = 0; s < p_.stages.size(); ++s) {
    if (nsrc + s >= b.node_out.size()) break;
    Reservoir& res = kept_[s];
    for (const Record* r : b.node_out[nsrc + s])
      if (const int64_t slot = res.draw(); slot >= 0) res.put(slot, sample(*r, b, names, false));
  }
}

std::string EvidenceSampler::json(size_t s) const {
  if (kept_[s].seen == 0 && rejected_[s].empty()) return "";
  auto list = [](const Reservoir& r) {
    std::string o = "[";
    for (size_t i = 0; i < r.items.size(); ++i) o += (i ? "," : "") + r.items[i];
    return o + "]";
  };
  std::string o = "{\"kept\":" + list(kept_[s]) + ",\"rejected\":{";
  bool first = true;
  for (const auto& [reason, res] : rejected_[s]) {
    if (!first) o.push_back(',');
    first = false;
    json::append_quoted(o, reason);
    // Duplicates shown beside their survivor first, then the plain sample, kSamplesPerReason in all.
    Reservoir merged;
    if (const auto it = beside_[s].find(reason); it != beside_[s].end()) merged.items = it->second.items;
    for (const auto& item : res.items) {
      if (merged.items.size() >= kSamplesPerReason) break;
      const size_t id_end = item.find(",\"source\":");  // the sample's {"id":"..." prefix names it
      bool dup = false;
      for (const auto& m : merged.items) dup = dup || m.compare(0, id_end + 1, item, 0, id_end + 1) == 0;
      if (!dup) merged.items.push_back(item);
    }
    o += ":" + list(merged);
  }
  return o + "}}";
}

}  // namespace tamis
