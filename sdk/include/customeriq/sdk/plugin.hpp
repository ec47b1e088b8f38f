// How a plugin declares itself. Each plugin library exports exactly one
// function, through CUSTOMERIQ_EXPORT_PLUGIN, returning a PluginDescriptor.
//
//   constexpr sdk::ConfigKey kConfigKeys[] = {
//       {"currency", sdk::ConfigType::string, "\"EUR\"", "ISO code stored in metadata"},
//       {"max_items", sdk::ConfigType::integer, "100", "items kept per order", /*min*/ 1, /*max*/ 1000}};
//   constexpr const char* kEventTypes[] = {"purchase"};
//   const auto kDescriptor = sdk::handler_descriptor<PurchaseHandler>(
//       "purchase", "1.0.0", "Purchases and lifetime value", kEventTypes, kConfigKeys);
//   CUSTOMERIQ_EXPORT_PLUGIN(sdk::describe<kDescriptor>)
//
// Any other `const PluginDescriptor* ()` function may be exported instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <boost/dll/alias.hpp>
#include <nlohmann/json.hpp>

#include "customeriq/sdk/config.hpp"
#include "customeriq/sdk/handler.hpp"
#include "customeriq/sdk/summarizer.hpp"
#include "customeriq/sdk/version.hpp"

namespace customeriq::sdk {

enum class PluginKind : std::uint32_t { event_handler = 1, summarizer = 2 };

// What a plugin library says about itself. The core reads abi_version and
// json_library_version first and touches nothing else on a mismatch, so
// those two members stay first in every future version.
struct PluginDescriptor {
  std::uint32_t abi_version;
  std::uint32_t json_library_version;
  PluginKind kind;
  const char* id;  // equals the library's file name without ".so"
  const char* version;
  const char* description;
  const char* const* event_types;  // handlers: the types handled when the YAML names none
  std::size_t event_type_count;
  const ConfigKey* config_keys;
  std::size_t config_key_count;
  // Exactly one pair is set, matching kind. The object is created and
  // destroyed by the plugin library; the core keeps the library loaded
  // until every object it made is destroyed.
  EventHandler* (*create_handler)(const Json& config);
  void (*destroy_handler)(EventHandler*);
  Summarizer* (*create_summarizer)(const Json& config);
  void (*destroy_summarizer)(Summarizer*);
};

// The descriptor of an event-handler plugin. Handler must be constructible
// from `const Json& config`.
template <class Handler>
constexpr PluginDescriptor handler_descriptor(const char* id, const char* version,
                                              const char* description,
                                              std::span<const char* const> event_types,
                                              std::span<const ConfigKey> config_keys = {}) {
  return PluginDescriptor{
      kAbiVersion, kJsonLibraryVersion, PluginKind::event_handler, id, version, description,
      event_types.data(), event_types.size(), config_keys.data(), config_keys.size(),
      [](const Json& config) -> EventHandler* { return new Handler(config); },
      [](EventHandler* handler) { delete handler; }, nullptr, nullptr};
}

// The descriptor of a summarizer plugin. Impl must be constructible from
// `const Json& config`.
template <class Impl>
constexpr PluginDescriptor summarizer_descriptor(const char* id, const char* version,
                                                 const char* description,
                                                 std::span<const ConfigKey> config_keys = {}) {
  return PluginDescriptor{
      kAbiVersion, kJsonLibraryVersion, PluginKind::summarizer, id, version, description,
      nullptr, 0, config_keys.data(), config_keys.size(), nullptr, nullptr,
      [](const Json& config) -> Summarizer* { return new Impl(config); },
      [](Summarizer* summarizer) { delete summarizer; }};
}

// A describe function for CUSTOMERIQ_EXPORT_PLUGIN that returns descriptor,
// a descriptor kept at namespace scope.
template <const PluginDescriptor& descriptor>
const PluginDescriptor* describe() {
  return &descriptor;
}

// The one symbol the core looks up in a plugin library.
inline constexpr const char* kDescriptorSymbol = "customeriq_plugin_descriptor";
using DescribeFunction = const PluginDescriptor*();

}  // namespace customeriq::sdk

// Exports describe_function (a `const PluginDescriptor* ()`) under the name
// the core looks up. Use once per plugin library, at namespace scope.
#define CUSTOMERIQ_EXPORT_PLUGIN(describe_function) \
  BOOST_DLL_ALIAS(describe_function, customeriq_plugin_descriptor)
