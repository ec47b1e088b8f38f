// The files of the support console (core/http/console/), built into the
// binary by core/http/embed_console.cmake.
#pragma once

#include <string_view>
#include <vector>

namespace customeriq::http {

struct ConsoleFile {
  std::string_view name;  // as under core/http/console/: "app.js"
  std::string_view bytes;
};

const std::vector<ConsoleFile>& console_files();

}  // namespace customeriq::http
