// Where things are: found relative to the running executable, so the same
// binary works in the build tree and once installed, from any directory.
#pragma once

#include <filesystem>

namespace customeriq {

std::filesystem::path executable_directory();
// <exe>/../lib/customeriq/plugins (as laid out by CMake's install dirs).
std::filesystem::path bundled_plugin_directory();
// <exe>/../share/customeriq/pipelines/default.yaml
std::filesystem::path default_pipeline_file();
// ~/.customeriq/customeriq.db
std::filesystem::path default_database_file();

}  // namespace customeriq
