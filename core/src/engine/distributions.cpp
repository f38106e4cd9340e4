// Distributions: see distributions.hpp.
#include "engine/distributions.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <tamis/json.hpp>

#include "engine/batch.hpp"

namespace tamis {

namespace {

int log2_bin(double v) {
  if (v < 0) return -1;
  if (v == 0) return 0;
  int k = 1;
  for (double top = 2; v >= top && k < 64; top *= 2) ++k;
  return k;
}

std::string log2_label(int k) {
  if (k < 0) return "< 0";
  if (k == 0) return "0";
  auto short_number = [](double v) {
    static const char* units[] = {"", "K", "M", "G", "T"};
    int u = 0;
    while (v >= 1024 && u < 4) v /= 1024, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g%s", v, units[u]);
    return std::string(buf);
  };
  if (k == 1) return "(0, 2)";
  return "[" + short_number(std::ldexp(1.0, k - 1)) + ", " + short_number(std::ldexp(1.0, k)) + ")";
}

std::string counts_json(const std::string& label, uint64_t kept, uint64_t rejected) {
  std::string o = "{\"label\":";
  json::append_quoted(o, label);
  return o + ",\"kept\":" + std::to_string(kept) + ",\"rejected\":" + std::to_string(rejected) + "}";
}

}  // namespace

void Distributions::count(Counts& c, bool rejected) { ++(rejected ? c.second : c.first); }

Distributions::Values& Distributions::values_of(size_t position, const std::string& key) {
  if (position < recent_.size() && recent_[position].first == key) return *recent_[position].second;
  Values& v = keys_[key];
  if (position >= recent_.size()) recent_.resize(position + 1);
  recent_[position] = {key, &v};
  return v;
}

void Distributions::add(const Record& r) {
  const bool rejected = r.rejected_by >= 0;
  count(bytes_[log2_bin(static_cast<double>(r.text.size()))], rejected);
  size_t position = 0;
  for (const Annotation& a : r.annotations) {
    const std::string_view v = a.value_json;
    if (!v.empty() && v.front() == '{') {
      for (const json::Member& m : json::members(v)) {
        size_t at = m.key_end;
        while (at < v.size() && (json::detail::is_ws(v[at]) || v[at] == ':')) ++at;
        value(values_of(position++, a.key + "." + json::unescape(m.key)), v.substr(at, m.value_end - at), rejected);
      }
    } else {
      value(values_of(position++, a.key), v, rejected);
    }
  }
}

void Distributions::value(Values& k, std::string_view json, bool rejected) {
  if (json.empty() || json.front() == '[' || json.front() == '{' || json == "null") return;
  const char c = json.front();
  if (c == '-' || (c >= '0' && c <= '9')) {
    const double v = std::strtod(std::string(json).c_str(), nullptr);
    ++k.numbers;
    if (k.integers) {
      if (v == std::floor(v) && std::fabs(v) < 1e15 && (k.by_integer.size() < kMaxIntegers || k.by_integer.count(static_cast<int64_t>(v))))
        count(k.by_integer[static_cast<int64_t>(v)], rejected);
      else {
        k.integers = false;
        k.by_integer.clear();
      }
    }
    if (v < 0 || v > 1) k.all_unit = false;
    else count(k.unit[std::min<size_t>(9, static_cast<size_t>(v * 10))], rejected);
    count(k.log2[log2_bin(v)], rejected);
    return;
  }
  if (k.too_many) return count(k.other, rejected);  // an id-like key: no more names to compare
  // The name, unescaped only when it has an escape (most have none: compared in place, no copy).
  std::string_view raw = c == '"' ? json.substr(1, json.size() - 2) : json;
  std::string unescaped;
  if (c == '"' && raw.find('\\') != std::string_view::npos) raw = unescaped = json::unescape(raw);
  for (auto& [name, counts] : k.categories)
    if (name == raw) return count(counts, rejected);
  std::string label(raw);
  if (k.categories.size() < kMaxCategories) {
    k.categories.emplace_back(std::move(label), Counts{});
    count(k.categories.back().second, rejected);
  } else {
    k.too_many = true;
    count(k.other, rejected);
  }
}

void Distributions::merge(const Distributions& o) {
  auto add = [](Counts& to, const Counts& from) {
    to.first += from.first;
    to.second += from.second;
  };
  for (const auto& [bin, c] : o.bytes_) add(bytes_[bin], c);
  for (const auto& [key, theirs] : o.keys_) {
    Values& k = keys_[key];
    k.all_unit = k.all_unit && theirs.all_unit;
    k.numbers += theirs.numbers;
    if (k.integers && theirs.integers) {
      for (const auto& [v, c] : theirs.by_integer) add(k.by_integer[v], c);
      if (k.by_integer.size() > kMaxIntegers) k.integers = false;
    } else {
      k.integers = false;
    }
    if (!k.integers) k.by_integer.clear();
    for (size_t i = 0; i < 10; ++i) add(k.unit[i], theirs.unit[i]);
    for (const auto& [bin, c] : theirs.log2) add(k.log2[bin], c);
    for (const auto& [name, c] : theirs.categories) {
      bool found = false;
      for (auto& [mine, counts] : k.categories)
        if (mine == name) {
          add(counts, c);
          found = true;
          break;
        }
      if (found) continue;
      if (k.categories.size() < kMaxCategories) {
        k.categories.emplace_back(name, c);
      } else {
        k.too_many = true;
        add(k.other, c);
      }
    }
    k.too_many = k.too_many || theirs.too_many;
    add(k.other, theirs.other);
  }
}

std::string Distributions::json() const {
  std::string o = "{\"record_bytes\":[";
  bool first = true;
  for (const auto& [bin, c] : bytes_) {
    o += (first ? "" : ",") + counts_json(log2_label(bin), c.first, c.second);
    first = false;
  }
  o += "],\"annotations\":[";
  first = true;
  for (const auto& [key, k] : keys_) {
    if (!first) o.push_back(',');
    first = false;
    o += "{\"key\":";
    json::append_quoted(o, key);
    std::string bins;
    if (k.numbers > 0 && k.categories.empty() && !k.too_many) {
      o += k.integers ? ",\"kind\":\"integer\"" : k.all_unit ? ",\"kind\":\"unit\"" : ",\"kind\":\"number\"";
      if (k.integers) {
        for (const auto& [v, c] : k.by_integer) bins += (bins.empty() ? "" : ",") + counts_json(std::to_string(v), c.first, c.second);
      } else if (k.all_unit) {
        for (size_t i = 0; i < 10; ++i) {
          char label[32];
          std::snprintf(label, sizeof label, i == 9 ? "[%.1f, 1]" : "[%.1f, %.1f)", static_cast<double>(i) / 10, static_cast<double>(i + 1) / 10);
          bins += (i ? "," : "") + counts_json(label, k.unit[i].first, k.unit[i].second);
        }
      } else {
        for (const auto& [bin, c] : k.log2) bins += (bins.empty() ? "" : ",") + counts_json(log2_label(bin), c.first, c.second);
      }
    } else {
      o += ",\"kind\":\"category\"";
      auto sorted = k.categories;  // most frequent first, then by name
      std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        const uint64_t na = a.second.first + a.second.second, nb = b.second.first + b.second.second;
        return na != nb ? na > nb : a.first < b.first;
      });
      for (const auto& [name, c] : sorted) bins += (bins.empty() ? "" : ",") + counts_json(name, c.first, c.second);
      if (k.numbers > 0) o += ",\"numbers\":" + std::to_string(k.numbers);
    }
    // A key with too many distinct values (ids, answers) has no bins: the first ones seen say nothing.
    if (k.too_many) o += ",\"bins\":[],\"more_than\":" + std::to_string(kMaxCategories) + " ";
    else o += ",\"bins\":[" + bins + "]";
    o += "}";
  }
  return o + "]}";
}

}  // namespace tamis
