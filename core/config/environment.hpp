// Environment variables, the .env file, and ${VAR:-default} interpolation.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace customeriq {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads KEY=VALUE lines from file (comments with #, optional `export `,
// single or double quotes) and sets each KEY that the real environment does
// not already have: the real environment wins. A missing file is not an
// error. ConfigError names the file and line of a malformed line.
void load_dotenv(const std::filesystem::path& file);

// The variable's value; nullopt when unset (an empty value counts as set).
// Settings are read through setting_reader.hpp, which knows their kinds.
std::optional<std::string> env(const char* name);

// Looks a variable up; the real reader is env(). Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;

// Replaces ${VAR} and ${VAR:-default} in text. An unset ${VAR} without a
// default is a ConfigError naming VAR ("$$" writes a literal "$").
std::string interpolate(std::string_view text);

}  // namespace customeriq
