// Shared by the built-in plugin tests: each plugin's descriptor from its real
// .so in this build, and events in the shape the tests write them. The
// handlers and summarizers themselves come from the SDK's test kit.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <customeriq/sdk/sdk.hpp>
#include <customeriq/sdk/testing.hpp>

namespace customeriq::test {

namespace sdk = customeriq::sdk;
using Json = nlohmann::json;
using sdk::testing::exactly;
using sdk::testing::kinds;
using sdk::testing::mutation;
using sdk::testing::TestHandler;

// The descriptor of the bundled plugin id, loaded from plugin_dir()/<id>.so
// once and kept loaded until the tests end.
const sdk::PluginDescriptor& builtin(const std::string& id);

// What the bundled handler plugin id, made with its default config, returns
// for one event.
std::vector<sdk::Mutation> handled(const std::string& id, const sdk::Event& event);

// A summarizer plugin of this build, made through the test kit.
std::shared_ptr<const sdk::Summarizer> summarizer(const std::string& id, const Json& config = Json::object());

// An event of type from customer cust_001, sent by "crm" at 1700000000 with
// event_id evt_0001.
sdk::Event event(const std::string& type, Json data, Json metadata = Json::object());

// True when text is well-formed UTF-8 (no cut code point anywhere).
bool valid_utf8(std::string_view text);

inline const std::string kEllipsis = "\u2026";

}  // namespace customeriq::test
