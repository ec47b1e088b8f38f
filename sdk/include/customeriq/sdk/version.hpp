// SDK ABI version: the first thing the core checks when it loads a plugin.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

namespace customeriq::sdk {

// Bumped whenever a type that crosses the plugin boundary changes layout or
// meaning (Event, Mutation, EventHandler, Summarizer, PluginDescriptor,
// ConfigKey). The core refuses a plugin built against any other value.
//   1  the first SDK
//   2  ConfigKey has min and max
inline constexpr std::uint32_t kAbiVersion = 2;

// Event::data and the plugin config are nlohmann::json values shared by
// reference, so core and plugin must agree on the JSON library's layout too.
inline constexpr std::uint32_t kJsonLibraryVersion =
    NLOHMANN_JSON_VERSION_MAJOR * 10000 + NLOHMANN_JSON_VERSION_MINOR * 100 +
    NLOHMANN_JSON_VERSION_PATCH;

}  // namespace customeriq::sdk
