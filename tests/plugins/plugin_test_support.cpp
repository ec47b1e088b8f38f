#include "plugins/plugin_test_support.hpp"

#include <map>
#include <memory>
#include <mutex>

#include "plugin_host/plugin_loader.hpp"
#include "support/test_support.hpp"

namespace customeriq::test {

const sdk::PluginDescriptor& builtin(const std::string& id) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<LoadedPlugin>> loaded;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& plugin = loaded[id];
  if (!plugin) plugin = load_plugin(plugin_dir() / (id + ".so"));
  return plugin->descriptor();
}

std::vector<sdk::Mutation> handled(const std::string& id, const sdk::Event& event) {
  return TestHandler(builtin(id)).handle(event);
}

std::shared_ptr<const sdk::Summarizer> summarizer(const std::string& id, const Json& config) {
  return sdk::testing::make_summarizer(builtin(id), config);
}

sdk::Event event(const std::string& type, Json data, Json metadata) {
  return sdk::testing::event({{"customer_id", "cust_001"},
                              {"event_type", type},
                              {"timestamp", 1700000000},
                              {"source_service", "crm"},
                              {"event_id", "evt_0001"},
                              {"data", std::move(data)},
                              {"metadata", std::move(metadata)}});
}

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3
                               : (lead >> 3) == 0x1E                ? 4
                                                                    : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    i += length;
  }
  return true;
}

}  // namespace customeriq::test
