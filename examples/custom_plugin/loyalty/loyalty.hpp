// The loyalty plugin's descriptor. The library exports it through
// CUSTOMERIQ_EXPORT_PLUGIN; the plugin's tests compile loyalty.cpp in and
// hand it to the SDK's test kit.
#pragma once

#include <customeriq/sdk/plugin.hpp>

namespace loyalty {

const customeriq::sdk::PluginDescriptor* describe();

}  // namespace loyalty
