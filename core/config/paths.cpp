#include "config/paths.hpp"

#include <cstdlib>

#ifndef CUSTOMERIQ_RELATIVE_PLUGIN_DIR
#error "CMake defines CUSTOMERIQ_RELATIVE_PLUGIN_DIR"
#endif

namespace customeriq {

std::filesystem::path executable_directory() {
  return std::filesystem::canonical("/proc/self/exe").parent_path();
}

std::filesystem::path bundled_plugin_directory() {
  return (executable_directory() / CUSTOMERIQ_RELATIVE_PLUGIN_DIR).lexically_normal();
}

std::filesystem::path default_pipeline_file() {
  return (executable_directory() / CUSTOMERIQ_RELATIVE_PIPELINE_DIR / "default.yaml").lexically_normal();
}

std::filesystem::path default_database_file() {
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".customeriq" / "customeriq.db";
}

}  // namespace customeriq
