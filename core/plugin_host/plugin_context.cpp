#include "plugin_host/plugin_context.hpp"

#include <spdlog/spdlog.h>

namespace customeriq {

PluginContext::PluginContext(std::string plugin_id, Json resolved_config, SummarizerPtr summarizer,
                             std::size_t summarize_threshold)
    : plugin_id_(std::move(plugin_id)),
      config_(std::move(resolved_config)),
      summarizer_(std::move(summarizer)),
      threshold_(summarize_threshold) {}

std::string PluginContext::summarize(std::string_view text) const {
  if (sdk::utf8_length(text) <= threshold_) return std::string(text);
  if (summarizer_) {
    std::string summary = summarizer_->summarize(text, threshold_);
    // The promise to handlers holds even for a summarizer that overshoots.
    if (sdk::utf8_length(summary) <= threshold_) return summary;
    return summary.substr(0, sdk::utf8_prefix_bytes(summary, threshold_));
  }
  return std::string(text.substr(0, sdk::utf8_prefix_bytes(text, threshold_)));
}

void PluginContext::log(sdk::LogLevel level, std::string_view message) const {
  const auto spd_level = level == sdk::LogLevel::debug  ? spdlog::level::debug
                         : level == sdk::LogLevel::info ? spdlog::level::info
                         : level == sdk::LogLevel::warn ? spdlog::level::warn
                                                        : spdlog::level::err;
  spdlog::log(spd_level, "[{}] {}", plugin_id_, message);
}

}  // namespace customeriq
