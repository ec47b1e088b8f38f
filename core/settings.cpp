#include "settings.hpp"

#include "environment.hpp"
#include "paths.hpp"

namespace customeriq {

Settings read_settings(const std::optional<std::filesystem::path>& database_flag,
                       const std::optional<std::filesystem::path>& pipeline_flag) {
  Settings settings;
  if (database_flag) settings.database = *database_flag;
  else if (auto db = env("CUSTOMERIQ_DB"); db && !db->empty()) settings.database = *db;
  else settings.database = default_database_file();

  if (pipeline_flag) settings.pipeline = *pipeline_flag;
  else if (auto pipeline = env("CUSTOMERIQ_PIPELINE"); pipeline && !pipeline->empty())
    settings.pipeline = *pipeline;
  else settings.pipeline = default_pipeline_file();

  settings.auto_create_customers = env_bool("NATS_AUTO_CREATE_CUSTOMER").value_or(true);
  if (auto threshold = env_integer("NATS_SUMMARIZE_THRESHOLD", 1, 1 << 20))
    settings.summarize_threshold = static_cast<std::size_t>(*threshold);
  return settings;
}

}  // namespace customeriq
