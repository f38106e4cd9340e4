#include "engine/progress.hpp"

#include <cstdio>
#include <string>

#include "common/log.hpp"

namespace tamis {
namespace {
bool g_line_visible = false;
void clear_line() {
  if (g_line_visible) std::fputs("\r\033[K", stderr);
  g_line_visible = false;
}
std::string clock_text(double s) {
  const auto t = static_cast<long>(s);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}
}  // namespace

Progress::Progress() : start_(std::chrono::steady_clock::now()), last_(start_) { log::set_before_write(&clear_line); }

Progress::~Progress() {
  finish();
  log::set_before_write(nullptr);
}

void Progress::update(uint64_t records, uint64_t bytes, uint64_t file_bytes, uint64_t total_file_bytes,
                      const std::string& slowest) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double mbps = elapsed > 0 ? static_cast<double>(bytes) / 1e6 / elapsed : 0;
  std::string eta = "?";
  if (total_file_bytes > 0 && file_bytes > 0 && file_bytes <= total_file_bytes) {
    eta = clock_text(elapsed * static_cast<double>(total_file_bytes - file_bytes) / static_cast<double>(file_bytes));
  }
  const double rate = elapsed > 0 ? static_cast<double>(records) / elapsed : 0;
  std::fprintf(stderr, "\r\033[K  %llu records | %.0f records/s | %.1f MB/s | slowest: %s | %s elapsed | ETA %s",
               static_cast<unsigned long long>(records), rate, mbps, slowest.empty() ? "-" : slowest.c_str(),
               clock_text(elapsed).c_str(), eta.c_str());
  std::fflush(stderr);
  g_line_visible = true;
  drawn_ = true;
}

void Progress::finish() {
  if (drawn_) clear_line();
  drawn_ = false;
}

}  // namespace tamis
