// The HandlerContext the core lends to a handler: its resolved config, the
// pipeline's summarizer and threshold, and the service log.
#pragma once

#include <cstddef>
#include <string>

#include "plugin_host/plugin_loader.hpp"

namespace customeriq {

class PluginContext final : public sdk::HandlerContext {
 public:
  // summarizer may be null: text over the threshold is then cut at a
  // character boundary.
  PluginContext(std::string plugin_id, Json resolved_config, SummarizerPtr summarizer,
                std::size_t summarize_threshold);

  const Json& config() const override { return config_; }
  std::string summarize(std::string_view text) const override;
  void log(sdk::LogLevel level, std::string_view message) const override;

 private:
  std::string plugin_id_;
  Json config_;
  SummarizerPtr summarizer_;
  std::size_t threshold_;
};

}  // namespace customeriq
