// Settings: what the environment (and .env) says, with command-line flags
// on top, for every command; read through the setting table.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>

#include "config/environment.hpp"

namespace customeriq {

struct Settings {
  std::filesystem::path database;  // --db, CUSTOMERIQ_DB, else ~/.customeriq/customeriq.db
  std::filesystem::path pipeline;  // --pipeline, CUSTOMERIQ_PIPELINE, else the bundled default.yaml
  bool auto_create_customers = false;              // NATS_AUTO_CREATE_CUSTOMER
  std::optional<std::size_t> summarize_threshold;  // NATS_SUMMARIZE_THRESHOLD, else the pipeline's
};

// Reads the variables (after .env is loaded); throws ConfigError naming a
// malformed one, or an empty --db/--pipeline or CUSTOMERIQ_DB/CUSTOMERIQ_PIPELINE.
Settings read_settings(const std::optional<std::filesystem::path>& database_flag,
                       const std::optional<std::filesystem::path>& pipeline_flag,
                       const EnvLookup& lookup = env);

}  // namespace customeriq
