// Pipeline: decode → route by event_type → handler plugin → WriteItem.
// Built from a PipelineConfig; holds the loaded plugins.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/pipeline_config.hpp"
#include "plugin_host/plugin_context.hpp"
#include "plugin_host/plugin_loader.hpp"
#include "work_item.hpp"

namespace customeriq {

class Pipeline {
 public:
  struct Route {
    std::shared_ptr<LoadedPlugin> plugin;
    std::vector<std::string> event_types;  // "*" = every type no other route takes
    HandlerPtr handler;
    std::unique_ptr<PluginContext> context;
  };

  // Loads every plugin the config names and builds the routes. ConfigError
  // with the YAML location for a missing .so, a plugin of the wrong kind, a
  // bad config block or two handlers for one type. threshold_override
  // (NATS_SUMMARIZE_THRESHOLD) replaces the YAML's summarizer threshold.
  explicit Pipeline(PipelineConfig config, std::optional<std::size_t> threshold_override = {});

  // Never throws: returns the handled event, or a dead letter that says why.
  // Safe to call from several threads at once.
  WriteItem process(RawMessage message) const;

  const PipelineConfig& config() const { return config_; }
  const std::vector<Route>& routes() const { return routes_; }
  const std::shared_ptr<LoadedPlugin>& summarizer_plugin() const { return summarizer_plugin_; }
  std::size_t summarize_threshold() const { return threshold_; }

 private:
  PipelineConfig config_;
  std::size_t threshold_ = 500;
  std::shared_ptr<LoadedPlugin> summarizer_plugin_;
  SummarizerPtr summarizer_;
  std::vector<Route> routes_;
  std::unordered_map<std::string, const Route*> route_by_type_;
  const Route* fallback_ = nullptr;
};

// The JSON text of each mutation's JSON fields, for HandledEvent::json_text
// (made on a pipeline thread, so the writer only binds it).
std::vector<MutationJsonText> json_text_of(const std::vector<sdk::Mutation>& mutations);

// The .so for name: a path (contains '/' or ends in ".so") as given, else
// "<name>.so" in each folder of plugin_path, then in the bundled plugin
// folder. ConfigError listing the folders searched when not found.
std::filesystem::path find_plugin_file(const std::string& name,
                                       const std::vector<std::filesystem::path>& plugin_path);

}  // namespace customeriq
