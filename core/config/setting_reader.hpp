// Reading the settings of the table (setting_table.hpp): a command-line
// option given in its place, else the environment (after .env), else the
// pipeline's `source:` block, else the table's default; each read by its
// kind, integers within their bounds.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/environment.hpp"
#include "config/setting_table.hpp"

namespace customeriq {

// A command-line option given in place of a variable (publish --servers,
// --db): it wins over the environment, and errors name the option.
struct SettingOverride {
  const char* variable;  // "NATS_SERVERS"
  std::string option;    // "--servers"
  std::string value;
};

// One setting's value, with where it came from. The readers check the
// kind and bounds and throw ConfigError naming the variable (NAME=value),
// the option, or the YAML key with its file:line (never the value of a
// secret, server URLs only redacted).
class SettingValue {
 public:
  enum class Origin { unset, default_value, source_block, environment, option };

  SettingValue(const Setting& setting, Origin origin, std::string name, std::string text,
               std::optional<nlohmann::json> json);

  const Setting& setting() const { return *setting_; }
  Origin origin() const { return origin_; }
  // False only for a setting with a computed default that nothing sets.
  bool is_set() const { return origin_ != Origin::unset; }

  bool boolean() const;
  long long integer() const;
  std::string text() const;  // text and file settings
  std::vector<std::string> list() const;
  std::filesystem::path path() const;

  // For checks beyond the kind: throws ConfigError naming the value as the
  // kind checks do, e.g. refuse("must not be empty").
  [[noreturn]] void refuse(const std::string& expected) const;

 private:
  void expect_kind(SettingKind kind) const;
  std::string scalar_text() const;  // the value as text; YAML scalars only
  std::string shown() const;

  const Setting* setting_;
  Origin origin_;
  std::string name_;                   // "NATS_X", "--option" or "<location>: source.x"
  std::string text_;                   // from the environment, an option or the default
  std::optional<nlohmann::json> json_;  // from the source block
};

class SettingReader {
 public:
  // source is the pipeline's `source:` block as JSON (null: none),
  // source_location its "file:line:column". ConfigError when it is not a
  // mapping or has a key no setting declares.
  explicit SettingReader(EnvLookup lookup = env, std::vector<SettingOverride> overrides = {},
                         nlohmann::json source = nullptr, std::string source_location = {});

  // The variable's value; std::logic_error when the table lacks it.
  SettingValue get(std::string_view variable) const;

 private:
  EnvLookup lookup_;
  std::vector<SettingOverride> overrides_;
  nlohmann::json source_;
  std::string source_location_;
};

}  // namespace customeriq
