#include "config/settings.hpp"

#include <string>
#include <vector>

#include "config/paths.hpp"
#include "config/setting_reader.hpp"

namespace customeriq {

Settings read_settings(const std::optional<std::filesystem::path>& database_flag,
                       const std::optional<std::filesystem::path>& pipeline_flag, const EnvLookup& lookup) {
  std::vector<SettingOverride> overrides;
  if (database_flag) overrides.push_back({"CUSTOMERIQ_DB", "--db", database_flag->string()});
  if (pipeline_flag) overrides.push_back({"CUSTOMERIQ_PIPELINE", "--pipeline", pipeline_flag->string()});
  const SettingReader settings(lookup, std::move(overrides));

  Settings out;
  const auto database = settings.get("CUSTOMERIQ_DB");
  out.database = database.is_set() ? database.path() : default_database_file();
  const auto pipeline = settings.get("CUSTOMERIQ_PIPELINE");
  out.pipeline = pipeline.is_set() ? pipeline.path() : default_pipeline_file();
  out.auto_create_customers = settings.get("NATS_AUTO_CREATE_CUSTOMER").boolean();
  if (const auto threshold = settings.get("NATS_SUMMARIZE_THRESHOLD"); threshold.is_set())
    out.summarize_threshold = static_cast<std::size_t>(threshold.integer());
  return out;
}

}  // namespace customeriq
