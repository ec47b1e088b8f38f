#include "plugin_host/plugin_loader.hpp"

#include <boost/dll/shared_library.hpp>

namespace customeriq {

struct LoadedPlugin::Library {
  boost::dll::shared_library library;
};

const char* to_string(sdk::ConfigType type) { return sdk::config_type_name(type); }

const char* to_string(sdk::PluginKind kind) {
  switch (kind) {
    case sdk::PluginKind::event_handler: return "event handler";
    case sdk::PluginKind::summarizer: return "summarizer";
  }
  return "unknown";
}

LoadedPlugin::LoadedPlugin(std::filesystem::path path, std::shared_ptr<Library> library,
                           const sdk::PluginDescriptor* descriptor)
    : path_(std::move(path)), library_(std::move(library)), descriptor_(descriptor) {}

std::shared_ptr<LoadedPlugin> load_plugin(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) throw PluginError(file.string() + ": no such plugin file");
  auto library = std::make_shared<LoadedPlugin::Library>();
  try {
    library->library.load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& error) {
    throw PluginError(file.string() + ": cannot load plugin: " + error.what());
  }
  if (!library->library.has(sdk::kDescriptorSymbol)) {
    throw PluginError(file.string() + ": not a CustomerIQ plugin (no " + sdk::kDescriptorSymbol +
                      "; export one with CUSTOMERIQ_EXPORT_PLUGIN)");
  }
  auto& describe = library->library.get_alias<sdk::DescribeFunction>(sdk::kDescriptorSymbol);
  const sdk::PluginDescriptor* descriptor = describe();
  if (!descriptor) throw PluginError(file.string() + ": plugin returned no descriptor");

  // Only the two leading version fields are read before they are known good.
  if (descriptor->abi_version != sdk::kAbiVersion) {
    throw PluginError(file.string() + ": plugin built for SDK ABI version " +
                      std::to_string(descriptor->abi_version) + ", this customeriq has version " +
                      std::to_string(sdk::kAbiVersion) + "; rebuild the plugin against this SDK");
  }
  if (descriptor->json_library_version != sdk::kJsonLibraryVersion) {
    throw PluginError(file.string() + ": plugin built with nlohmann/json " +
                      std::to_string(descriptor->json_library_version) + ", this customeriq uses " +
                      std::to_string(sdk::kJsonLibraryVersion) + "; rebuild the plugin");
  }
  const std::string expected_id = file.stem().string();
  if (!descriptor->id || expected_id != descriptor->id) {
    throw PluginError(file.string() + ": plugin id '" + (descriptor->id ? descriptor->id : "") +
                      "' does not match its file name '" + expected_id + "'");
  }
  const bool handler = descriptor->kind == sdk::PluginKind::event_handler &&
                       descriptor->create_handler && descriptor->destroy_handler;
  const bool summarizer = descriptor->kind == sdk::PluginKind::summarizer &&
                          descriptor->create_summarizer && descriptor->destroy_summarizer;
  if (!handler && !summarizer)
    throw PluginError(file.string() + ": descriptor has no factory for its kind");
  return std::make_shared<LoadedPlugin>(file, std::move(library), descriptor);
}

Json LoadedPlugin::resolve_config(const Json& given) const {
  const std::string who = "plugin " + id();
  if (!given.is_null() && !given.is_object()) throw PluginError(who + ": config must be a mapping");
  Json resolved = Json::object();
  const std::span<const sdk::ConfigKey> keys(descriptor_->config_keys, descriptor_->config_key_count);
  if (given.is_object()) {
    for (const auto& [name, value] : given.items()) {
      auto key = std::find_if(keys.begin(), keys.end(),
                              [&](const sdk::ConfigKey& k) { return name == k.name; });
      if (key == keys.end()) {
        std::string accepted;
        for (const auto& k : keys) accepted += (accepted.empty() ? "" : ", ") + std::string(k.name);
        throw PluginError(who + ": unknown config key '" + name + "' (accepted: " +
                          (accepted.empty() ? "none" : accepted) + ")");
      }
      // The type, and for numbers the declared bounds.
      if (const std::string problem = sdk::config_value_problem(*key, value); !problem.empty())
        throw PluginError(who + ": config key '" + name + "' " + problem);
      resolved[name] = value;
    }
  }
  for (const auto& key : keys) {
    if (resolved.contains(key.name)) continue;
    Json fallback = Json::parse(key.default_json ? key.default_json : "null", nullptr, false);
    if (fallback.is_discarded())
      throw PluginError(who + ": default of config key '" + key.name + "' is not valid JSON");
    resolved[key.name] = std::move(fallback);
  }
  return resolved;
}

namespace {

// One kind of plugin object: how errors name it, and the descriptor's pair
// of functions that make and destroy it.
template <class Object>
struct ObjectKind {
  sdk::PluginKind kind;
  const char* with_article;  // "an event handler"
  const char* noun;          // "handler"
  Object* (*create)(const Json&);
  void (*destroy)(Object*);
};

// The kind checked, the factory's exceptions turned into PluginError, and a
// deleter that holds the library: it stays loaded while the object lives.
template <class Object>
std::shared_ptr<const Object> create(const LoadedPlugin& plugin, const ObjectKind<Object>& kind,
                                     const Json& resolved_config) {
  const std::string who = "plugin " + plugin.id();
  if (plugin.descriptor().kind != kind.kind)
    throw PluginError(who + " is a " + to_string(plugin.descriptor().kind) + ", not " + kind.with_article);
  Object* object = nullptr;
  try {
    object = kind.create(resolved_config);
  } catch (const std::exception& error) {
    throw PluginError(who + ": cannot create " + kind.noun + ": " + error.what());
  }
  if (!object) throw PluginError(who + ": factory returned no " + kind.noun);
  return std::shared_ptr<const Object>(object, [library = plugin.shared_from_this(), destroy = kind.destroy](
                                                   const Object* o) { destroy(const_cast<Object*>(o)); });
}

}  // namespace

HandlerPtr LoadedPlugin::create_handler(const Json& resolved_config) const {
  const ObjectKind<sdk::EventHandler> handler{sdk::PluginKind::event_handler, "an event handler", "handler",
                                              descriptor_->create_handler, descriptor_->destroy_handler};
  return create(*this, handler, resolved_config);
}

SummarizerPtr LoadedPlugin::create_summarizer(const Json& resolved_config) const {
  const ObjectKind<sdk::Summarizer> summarizer{sdk::PluginKind::summarizer, "a summarizer", "summarizer",
                                               descriptor_->create_summarizer, descriptor_->destroy_summarizer};
  return create(*this, summarizer, resolved_config);
}

}  // namespace customeriq
