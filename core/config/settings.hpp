// Settings: what the environment (and .env) says, with command-line flags on top.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>

namespace customeriq {

struct Settings {
  std::filesystem::path database;          // --db, CUSTOMERIQ_DB, ~/.customeriq/customeriq.db
  std::filesystem::path pipeline;          // --pipeline, CUSTOMERIQ_PIPELINE, the bundled default.yaml
  bool auto_create_customers = true;       // NATS_AUTO_CREATE_CUSTOMER
  std::optional<std::size_t> summarize_threshold;  // NATS_SUMMARIZE_THRESHOLD
};

// Reads the variables (after .env is loaded); throws ConfigError naming a
// malformed one, or an empty --db/--pipeline or CUSTOMERIQ_DB/CUSTOMERIQ_PIPELINE.
Settings read_settings(const std::optional<std::filesystem::path>& database_flag,
                       const std::optional<std::filesystem::path>& pipeline_flag);

}  // namespace customeriq
