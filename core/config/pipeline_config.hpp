// PipelineConfig: the pipeline YAML file, parsed and checked. Every error
// names the file, line and column.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/environment.hpp"

namespace customeriq {

using Json = nlohmann::json;

struct PluginSpec {
  std::string plugin;                    // a plugin id, or a path to a .so
  std::vector<std::string> event_types;  // empty: the plugin's own defaults
  Json config = Json::object();          // the `config:` block, typed from YAML
  std::string location;                  // "file:line:column" of the entry, for errors
};

struct SummarizerSpec {
  std::string plugin;
  std::size_t threshold = 500;
  Json config = Json::object();
  std::string location;
};

struct PipelineConfig {
  std::filesystem::path file;
  std::vector<std::filesystem::path> plugin_path;  // absolute, in search order
  std::optional<SummarizerSpec> summarizer;        // none: long text is cut
  std::vector<PluginSpec> handlers;
  std::size_t max_event_bytes = 1 << 20;
  std::size_t max_nesting_depth = 64;
  std::size_t batch_max_events = 1000;
  int batch_max_delay_ms = 0;
  std::size_t queue_capacity = 2000;
  std::size_t pipeline_threads = 0;  // 0: one per core
  // identity.auto_merge: an event whose customer_id and data.email name two
  // different customers merges the email's customer into the id's.
  bool auto_merge = false;
  Json source = Json::object();  // the `source:` block, read by `customeriq serve`
  std::string source_location;
};

// Parses and checks file. Throws ConfigError with "file:line:column: ..."
// for malformed YAML, unknown keys, wrong types and unset ${VARS}.
PipelineConfig load_pipeline_config(const std::filesystem::path& file);

}  // namespace customeriq
