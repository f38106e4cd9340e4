#include "fields.hpp"

#include <cstring>

namespace tamis::dedup {

bool append_unescaped(std::string_view k, std::string& out) {
  size_t run = 0;
  for (size_t i = 0; i < k.size(); ++i) {
    const void* p = std::memchr(k.data() + i, '\\', k.size() - i);
    if (!p) break;
    i = static_cast<size_t>(static_cast<const char*>(p) - k.data());
    if (i + 1 >= k.size()) break;
    out.append(k.data() + run, i - run);
    const char e = k[++i];
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        uint32_t cp = json::detail::hex4(k, i + 1);
        i += 4;
        if (cp >= 0xDC00 && cp < 0xE000) return false;
        if (cp >= 0xD800 && cp < 0xDC00) {
          const uint32_t lo = i + 6 < k.size() && k[i + 1] == '\\' && k[i + 2] == 'u' ? json::detail::hex4(k, i + 3) : 0;
          if (lo < 0xDC00 || lo >= 0xE000) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        }
        json::detail::append_utf8(out, cp);
        break;
      }
      default: out.push_back(e);  // \" \\ \/
    }
    run = i + 1;
  }
  out.append(k.data() + run, k.size() - run);
  return true;
}

FieldKind read_string_field(const Record& r, std::string_view path, std::string& out) {
  if (!path.empty() && path.front() != '/') {
    const auto raw = r.raw_field(path);  // the value as written, found in the record text without a DOM parse
    if (!raw) return FieldKind::absent;
    if (raw->front() != '"') return FieldKind::other;
    out.clear();
    if (append_unescaped(raw->substr(1, raw->size() - 2), out)) return FieldKind::string;
    // A surrogate escape that is not a proper pair: let simdjson decide, as everywhere else.
  }
  const auto e = r.field(path);
  if (!e) return FieldKind::absent;
  std::string_view v;
  if (e->get_string().get(v) != simdjson::SUCCESS) return FieldKind::other;
  out.assign(v);
  return FieldKind::string;
}

}  // namespace tamis::dedup
