// The progress line drawn on a terminal during `tamis run`: records, records/s, MB/s, the stage that has
// taken the most time so far (and its share of the stages' time), elapsed, ETA.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace tamis {

class Progress {
 public:
  Progress();
  ~Progress();
  // Redraws at most four times a second. `file_bytes`/`total_file_bytes` (compressed sizes for
  // compressed files) give the ETA.
  // `slowest`: the stage with the most time so far, e.g. "near 41%" ("" when none).
  void update(uint64_t records, uint64_t bytes, uint64_t file_bytes, uint64_t total_file_bytes, const std::string& slowest);
  // Clears the line.
  void finish();

 private:
  std::chrono::steady_clock::time_point start_, last_;
  bool drawn_ = false;
};

}  // namespace tamis
