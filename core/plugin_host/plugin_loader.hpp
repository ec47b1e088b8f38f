// Loading plugin libraries with Boost.DLL: ABI check first, then the
// descriptor, config validation and object creation.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <customeriq/sdk/handler.hpp>
#include <customeriq/sdk/plugin.hpp>
#include <customeriq/sdk/summarizer.hpp>

namespace customeriq {

using Json = nlohmann::json;

class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Objects made by a plugin. Each keeps its library loaded until it is
// destroyed, and is destroyed by the library that made it.
using HandlerPtr = std::shared_ptr<const sdk::EventHandler>;
using SummarizerPtr = std::shared_ptr<const sdk::Summarizer>;

// One loaded plugin library.
class LoadedPlugin : public std::enable_shared_from_this<LoadedPlugin> {
 public:
  struct Library;  // the Boost.DLL handle, kept out of this header

  LoadedPlugin(std::filesystem::path path, std::shared_ptr<Library> library,
               const sdk::PluginDescriptor* descriptor);

  const sdk::PluginDescriptor& descriptor() const { return *descriptor_; }
  const std::filesystem::path& path() const { return path_; }
  std::string id() const { return descriptor_->id; }

  // given (a JSON object, possibly empty) checked against the declared keys
  // (names, types, bounds), with defaults filled in. PluginError names the
  // plugin, the key and the value.
  Json resolve_config(const Json& given) const;

  // Creates the plugin's object from a resolved config. PluginError when the
  // plugin is of the other kind or its factory throws.
  HandlerPtr create_handler(const Json& resolved_config) const;
  SummarizerPtr create_summarizer(const Json& resolved_config) const;

 private:
  std::filesystem::path path_;
  std::shared_ptr<Library> library_;
  const sdk::PluginDescriptor* descriptor_;
};

// Loads file, checks the SDK ABI and JSON library versions before reading
// anything else of the descriptor, and checks that the descriptor's id
// matches the file name. PluginError names the file and both versions.
std::shared_ptr<LoadedPlugin> load_plugin(const std::filesystem::path& file);

const char* to_string(sdk::ConfigType type);
const char* to_string(sdk::PluginKind kind);

}  // namespace customeriq
