#include "common/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace tamis::log {
namespace {
std::atomic<Level> g_level{Level::info};
std::mutex g_mutex;
void (*g_before_write)() = nullptr;
const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warning";
    case Level::error: return "error";
    default: return "";
  }
}
}  // namespace

void set_level(Level level) { g_level = level; }
Level level() { return g_level; }
void set_before_write(void (*hook)()) { g_before_write = hook; }

void write(Level level, std::string_view who, std::string_view message) {
  if (level < g_level.load()) return;
  std::string line = "tamis: ";
  line += level_name(level);
  line += ": ";
  if (!who.empty()) {
    line += "[";
    line += who;
    line += "] ";
  }
  line += message;
  line += "\n";
  std::lock_guard lock(g_mutex);
  if (g_before_write) g_before_write();
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace tamis::log
