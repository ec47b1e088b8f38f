// customeriq validate and plugins.
#include <iostream>

#include "common.hpp"

namespace customeriq::cli {
namespace {

Json describe_plugin(const LoadedPlugin& plugin, const std::vector<std::string>& event_types) {
  const auto& descriptor = plugin.descriptor();
  Json keys = Json::array();
  for (std::size_t i = 0; i < descriptor.config_key_count; ++i) {
    const auto& key = descriptor.config_keys[i];
    keys.push_back({{"name", key.name},
                    {"type", to_string(key.type)},
                    {"default", Json::parse(key.default_json ? key.default_json : "null", nullptr, false)},
                    {"description", key.description ? key.description : ""}});
    const auto bound = [&](double value) {
      return key.type == sdk::ConfigType::integer ? Json(static_cast<std::int64_t>(value)) : Json(value);
    };
    if (std::isfinite(key.min)) keys.back()["min"] = bound(key.min);
    if (std::isfinite(key.max)) keys.back()["max"] = bound(key.max);
    if (sdk::has_bounds(key)) keys.back()["bounds"] = sdk::bounds_text(key);
  }
  return {{"id", plugin.id()},
          {"kind", to_string(descriptor.kind)},
          {"version", descriptor.version ? descriptor.version : ""},
          {"description", descriptor.description ? descriptor.description : ""},
          {"file", plugin.path().string()},
          {"abi_version", descriptor.abi_version},
          {"event_types", event_types},
          {"config_keys", keys}};
}

int run_validate(Args& args, const GlobalOptions& global) {
  auto files = args.positionals(1);
  GlobalOptions options = global;
  if (!files.empty()) options.pipeline = files[0];
  try {
    auto pipeline = load_pipeline(settings_for(options));
    std::cout << "ok: " << pipeline->config().file.string() << " (" << pipeline->routes().size()
              << " handlers";
    if (pipeline->summarizer_plugin())
      std::cout << ", summarizer " << pipeline->summarizer_plugin()->id() << " at "
                << pipeline->summarize_threshold() << " characters";
    std::cout << ")\n";
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "customeriq: " << error.what() << "\n";
    return 2;
  }
}

}  // namespace

const Command kValidateCommand{
    "validate", "Check a pipeline file and load its plugins, without running",
    R"(usage: customeriq validate [PIPELINE]

Parses the pipeline YAML (default: --pipeline, CUSTOMERIQ_PIPELINE or the
bundled default.yaml), loads every plugin, checks their config blocks and
the event-type routes. Prints "ok: FILE" with the number of handlers and
the summarizer, or stops at the first error and prints it with file and
line.

exit codes: 0 ok (the pipeline is valid), 2 it is not, or a usage error
)",
    run_validate};

namespace {

int run_plugins(Args& args, const GlobalOptions& global) {
  const bool json = args.flag("--json");
  args.positionals(0);
  auto pipeline = load_pipeline(settings_for(global));
  Json list = Json::array();
  if (const auto& summarizer = pipeline->summarizer_plugin()) list.push_back(describe_plugin(*summarizer, {}));
  for (const auto& route : pipeline->routes()) list.push_back(describe_plugin(*route.plugin, route.event_types));
  if (json) {
    std::cout << list.dump(2) << "\n";
    return 0;
  }
  std::cout << "pipeline " << pipeline->config().file.string() << " (SDK ABI " << sdk::kAbiVersion << ")\n";
  for (const auto& plugin : list) {
    std::cout << "\n" << plugin["id"].get<std::string>() << " " << plugin["version"].get<std::string>()
              << " — " << plugin["kind"].get<std::string>() << ": "
              << plugin["description"].get<std::string>() << "\n  file: " << plugin["file"].get<std::string>()
              << "\n";
    if (!plugin["event_types"].empty()) {
      std::cout << "  event types:";
      for (const auto& type : plugin["event_types"]) std::cout << " " << type.get<std::string>();
      std::cout << "\n";
    }
    for (const auto& key : plugin["config_keys"]) {
      std::cout << "  config " << key["name"].get<std::string>() << " (" << key["type"].get<std::string>()
                << (key.contains("bounds") ? " " + key["bounds"].get<std::string>() : "")
                << ", default " << key["default"].dump() << "): " << key["description"].get<std::string>()
                << "\n";
    }
  }
  return 0;
}

}  // namespace

const Command kPluginsCommand{
    "plugins", "List the plugins a pipeline loads, with versions and config keys",
    R"(usage: customeriq plugins [--json]

Loads the pipeline (see --pipeline) and lists each plugin: id, kind,
version, file, the event types it handles and the config keys it accepts
(type, bounds of numbers, default, description).

  --json   print JSON instead of text

exit codes: 0 ok, 2 the pipeline or one of its plugins is invalid, or a
usage error
)",
    run_plugins};

}  // namespace customeriq::cli
