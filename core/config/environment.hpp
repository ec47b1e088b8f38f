// Environment variables, the .env file, and ${VAR:-default} interpolation.
#pragma once

#include <filesystem>
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
std::optional<std::string> env(const char* name);

// Typed readers: nullopt when unset; ConfigError naming the variable and
// the accepted values when set to something else.
std::optional<bool> env_bool(const char* name);
std::optional<long long> env_integer(const char* name, long long min, long long max);

// Replaces ${VAR} and ${VAR:-default} in text. An unset ${VAR} without a
// default is a ConfigError naming VAR ("$$" writes a literal "$").
std::string interpolate(std::string_view text);

}  // namespace customeriq
