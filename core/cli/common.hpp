// What several commands share: settings, the pipeline, writer options.
#pragma once

#include <memory>

#include "pipeline/pipeline.hpp"
#include "config/settings.hpp"
#include "store/store_error.hpp"
#include "store/store_reader.hpp"
#include "pipeline/writer_thread.hpp"
#include "commands.hpp"

namespace customeriq::cli {

// Opens the database for reading. Whatever keeps it from opening (no such
// file, not a database, another schema version) is a StoreError: exit 3.
inline StoreReader open_reader(const std::filesystem::path& database) {
  try {
    return StoreReader(database);
  } catch (const StoreError&) {
    throw;
  } catch (const std::exception& error) {
    throw StoreError(error.what());
  }
}

inline Settings settings_for(const GlobalOptions& global) {
  return read_settings(global.database, global.pipeline);
}

inline std::unique_ptr<Pipeline> load_pipeline(const Settings& settings) {
  return std::make_unique<Pipeline>(load_pipeline_config(settings.pipeline),
                                    settings.summarize_threshold);
}

// How the store applies events: the settings' auto-create, the pipeline's
// identity.auto_merge.
inline WriterOptions store_options(const Settings& settings, const PipelineConfig& config) {
  WriterOptions options;
  options.auto_create_customers = settings.auto_create_customers;
  options.auto_merge = config.auto_merge;
  return options;
}

inline WriterThreadOptions writer_options(const PipelineConfig& config) {
  WriterThreadOptions options;
  options.batch_max_events = config.batch_max_events;
  options.batch_max_delay = std::chrono::milliseconds(config.batch_max_delay_ms);
  options.queue_capacity = config.queue_capacity;
  options.pipeline_threads = config.pipeline_threads;
  return options;
}

}  // namespace customeriq::cli
