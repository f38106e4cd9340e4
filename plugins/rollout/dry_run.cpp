// The dry-run plan of rollout.sample: see dry_run.hpp.
#include "dry_run.hpp"

#include <tamis/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace tamis::rollout {

namespace {

// Without token counts in the cache: about 4 bytes of prompt JSON per token (English text with BPE
// tokenizers; more tokens per byte for code, CJK and LaTeX). Stated as such in the report.
constexpr double kDefaultTokensPerByte = 0.25;

}  // namespace

DryRunPlanner::DryRunPlanner(const std::string& cache_path, std::vector<std::string> models, int64_t n, int64_t max_tokens)
    : models_(std::move(models)), n_(n), max_tokens_(max_tokens), per_model_(models_.size()) {
  std::error_code ec;
  if (std::filesystem::exists(cache_path, ec)) cache_ = std::make_unique<Cache>(cache_path, Cache::Mode::read_only);
  for (size_t k = 0; cache_ && k < models_.size(); ++k) per_model_[k].usage = cache_->usage(models_[k]);
}

std::string DryRunPlanner::plan(const std::vector<Key>& keys, size_t prompt_bytes) {
  std::vector<int64_t> cached(keys.size(), 0);
  for (size_t k = 0; cache_ && k < keys.size(); ++k) cached[k] = cache_->count_cached(keys[k], n_);
  int64_t all = 0;
  {
    std::lock_guard lock(mu_);
    for (size_t k = 0; k < keys.size(); ++k) {
      PerModel& m = per_model_[k];
      ++m.records;
      m.budget += n_;
      m.cached += cached[k];
      m.prompt_bytes_to_send += (n_ - cached[k]) * static_cast<int64_t>(prompt_bytes);
      all += cached[k];
    }
  }
  const int64_t budget = n_ * static_cast<int64_t>(keys.size());
  return "dry run: would ask " + std::to_string(budget - all) + " of " + std::to_string(budget) + " samples (" +
         std::to_string(all) + " in the cache)";
}

double DryRunPlanner::tokens_per_byte(const PerModel& m) const {
  return m.usage.responses > 0 && m.usage.prompt_bytes > 0
             ? static_cast<double>(m.usage.prompt_tokens) / static_cast<double>(m.usage.prompt_bytes)
             : kDefaultTokensPerByte;
}

std::string DryRunPlanner::report_json() const {
  std::lock_guard lock(mu_);
  int64_t records = 0, budget = 0, cached = 0, prompt_est = 0, completion_max = 0, completion_est = 0;
  bool completion_known = true;
  std::string per = "{";
  for (size_t k = 0; k < models_.size(); ++k) {
    const PerModel& m = per_model_[k];
    const int64_t to_ask = m.budget - m.cached;
    const auto prompt_tokens = static_cast<int64_t>(std::llround(static_cast<double>(m.prompt_bytes_to_send) * tokens_per_byte(m)));
    const bool known = m.usage.responses > 0;
    const int64_t mean = known ? static_cast<int64_t>(std::llround(static_cast<double>(m.usage.completion_tokens) / static_cast<double>(m.usage.responses))) : 0;
    records = std::max(records, m.records);
    budget += m.budget;
    cached += m.cached;
    prompt_est += prompt_tokens;
    completion_max += to_ask * max_tokens_;
    completion_est += to_ask * mean;
    completion_known = completion_known && known;
    per += (k ? "," : "") + json::quote(models_[k]) + ":{\"samples_budget\":" + std::to_string(m.budget) +
           ",\"samples_cached\":" + std::to_string(m.cached) + ",\"requests_at_most\":" + std::to_string(to_ask) +
           ",\"prompt_tokens_estimate\":" + std::to_string(prompt_tokens) + ",\"prompt_tokens_per_byte\":" +
           json::number(tokens_per_byte(m)) + ",\"prompt_tokens_from\":" +
           (m.usage.responses > 0 ? "\"the cache's token counts\"" : "\"4 bytes per token\"") +
           ",\"completion_tokens_at_most\":" + std::to_string(to_ask * max_tokens_) + ",\"completion_tokens_estimate\":" +
           (known ? std::to_string(to_ask * mean) : "null") + ",\"cached_responses_with_usage\":" + std::to_string(m.usage.responses) + "}";
  }
  per += "}";
  return "{\"dry_run\":true,\"records\":" + std::to_string(records) + ",\"samples_budget\":" + std::to_string(budget) +
         ",\"samples_cached\":" + std::to_string(cached) + ",\"requests_at_most\":" + std::to_string(budget - cached) +
         ",\"prompt_tokens_estimate\":" + std::to_string(prompt_est) + ",\"completion_tokens_at_most\":" +
         std::to_string(completion_max) + ",\"completion_tokens_estimate\":" + (completion_known ? std::to_string(completion_est) : "null") +
         ",\"models\":" + per + "}";
}

std::string DryRunPlanner::summary() const {
  std::lock_guard lock(mu_);
  int64_t records = 0, budget = 0, cached = 0;
  for (const auto& m : per_model_) records = std::max(records, m.records), budget += m.budget, cached += m.cached;
  return "dry run: " + with_commas(records) + " records would ask at most " + with_commas(budget - cached) + " requests (" + with_commas(budget) +
         " samples, " + with_commas(cached) + " already in the cache); token estimates in the report below";
}

}  // namespace tamis::rollout
