#include "config/settings.hpp"

#include <string>

#include "config/environment.hpp"
#include "config/paths.hpp"

namespace customeriq {

Settings read_settings(const std::optional<std::filesystem::path>& database_flag,
                       const std::optional<std::filesystem::path>& pipeline_flag) {
  // An empty path is refused, never taken for "the default": SQLite would
  // open a temporary database for "" and what was written would be gone.
  const auto path = [](const std::optional<std::filesystem::path>& flag, const char* option,
                       const char* variable, const char* fallback) -> std::optional<std::filesystem::path> {
    if (flag) {
      if (flag->empty())
        throw ConfigError(std::string(option) + " is empty: give a file, or leave " + option +
                          " out to use " + variable + " or " + fallback);
      return *flag;
    }
    if (auto value = env(variable)) {
      if (value->empty())
        throw ConfigError(std::string(variable) + " is set but empty (in the environment or .env): " +
                          "set it to a file, or unset it to use " + fallback);
      return std::filesystem::path(*value);
    }
    return std::nullopt;
  };
  Settings settings;
  auto database = path(database_flag, "--db", "CUSTOMERIQ_DB", "~/.customeriq/customeriq.db");
  settings.database = database ? *database : default_database_file();
  auto pipeline = path(pipeline_flag, "--pipeline", "CUSTOMERIQ_PIPELINE", "the bundled default.yaml");
  settings.pipeline = pipeline ? *pipeline : default_pipeline_file();

  settings.auto_create_customers = env_bool("NATS_AUTO_CREATE_CUSTOMER").value_or(true);
  if (auto threshold = env_integer("NATS_SUMMARIZE_THRESHOLD", 1, 1 << 20))
    settings.summarize_threshold = static_cast<std::size_t>(*threshold);
  return settings;
}

}  // namespace customeriq
