#include "config/setting_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>

#include "config/redact.hpp"
#include "text.hpp"

namespace customeriq {
namespace {

using Json = nlohmann::json;

std::string trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    items.push_back(trim(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

std::string type_of(const Json& json) {
  if (json.is_object()) return "a mapping";
  if (json.is_array()) return "a list";
  if (json.is_string()) return "a string";
  if (json.is_boolean()) return "a boolean";
  if (json.is_number()) return "a number";
  return "null";
}

// What the code uses when nothing sets the setting, as an error says it.
std::string fallback(const Setting& setting) {
  return setting.computed_default ? without_backticks(setting.computed_default) : setting.default_value;
}

}  // namespace

SettingValue::SettingValue(const Setting& setting, Origin origin, std::string name, std::string text,
                           std::optional<Json> json)
    : setting_(&setting), origin_(origin), name_(std::move(name)), text_(std::move(text)),
      json_(std::move(json)) {}

void SettingValue::expect_kind(SettingKind kind) const {
  if (setting_->kind != kind)
    throw std::logic_error(std::string(setting_->variable) + " is not read as the setting table declares it");
  if (!is_set())
    throw std::logic_error(std::string(setting_->variable) + " is not set and its default is computed");
}

std::string SettingValue::shown() const {
  const bool urls = setting_->secrecy == Secrecy::server_urls;
  if (!json_) return urls ? redact_url_list(text_) : text_;
  const Json& json = *json_;
  if (setting_->secrecy == Secrecy::secret) return type_of(json);
  if (!urls) return json.dump();
  if (json.is_string()) return Json(redact_url_list(json.get<std::string>())).dump();
  if (!json.is_array()) return type_of(json);
  Json redacted = Json::array();
  for (const auto& item : json)
    redacted.push_back(item.is_string() ? Json(redact_url(item.get<std::string>())) : Json(type_of(item)));
  return redacted.dump();
}

void SettingValue::refuse(const std::string& expected) const {
  if (json_) throw ConfigError(name_ + " " + expected + ", got " + shown());
  if (setting_->secrecy == Secrecy::secret) throw ConfigError(name_ + " " + expected);
  throw ConfigError(name_ + "=" + shown() + " " + expected);
}

std::string SettingValue::scalar_text() const {
  if (!json_) return text_;
  if (json_->is_string()) return json_->get<std::string>();
  if (json_->is_number() || json_->is_boolean()) return json_->dump();
  refuse("must be a string");
}

bool SettingValue::boolean() const {
  expect_kind(SettingKind::boolean);
  if (json_ && json_->is_boolean()) return json_->get<bool>();
  const std::string text = ascii_lower(scalar_text());
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  refuse("is not a boolean (use true/false, 1/0, yes/no, on/off)");
}

long long SettingValue::integer() const {
  expect_kind(SettingKind::integer);
  const std::string range = "is not an integer from " + std::to_string(setting_->min) + " to " +
                            std::to_string(setting_->max);
  long long number = 0;
  if (json_ && json_->is_number_integer()) {
    number = json_->get<long long>();
  } else {
    const std::string text = scalar_text();
    errno = 0;
    char* end = nullptr;
    number = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE) refuse(range);
  }
  if (number < setting_->min || number > setting_->max) refuse(range);
  return number;
}

std::string SettingValue::text() const {
  if (setting_->kind != SettingKind::file) expect_kind(SettingKind::text);
  else expect_kind(SettingKind::file);
  const std::string raw = scalar_text();
  // Secrets are taken as they are; names and files lose stray blanks.
  const std::string text = setting_->secrecy == Secrecy::secret ? raw : trim(raw);
  if (setting_->kind == SettingKind::file && !text.empty()) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(text, error))
      refuse("names a file that does not exist or is not a regular file");
  }
  return text;
}

std::vector<std::string> SettingValue::list() const {
  expect_kind(SettingKind::list);
  std::vector<std::string> items;
  if (json_ && json_->is_array()) {
    std::size_t position = 0;
    for (const auto& item : *json_) {
      ++position;
      if (!item.is_string()) {
        throw ConfigError(name_ + " must be a list of strings: entry " + std::to_string(position) + " is " +
                          type_of(item));
      }
      items.push_back(trim(item.get<std::string>()));
    }
  } else if (json_ && (json_->is_object() || json_->is_null())) {
    refuse("must be a list of strings or a comma-separated string");
  } else {
    items = split_list(scalar_text());
  }
  if (items.empty() || std::any_of(items.begin(), items.end(), [](const auto& s) { return s.empty(); }))
    refuse("must be a non-empty comma-separated list with no empty entry");
  return items;
}

// An empty path is refused, never taken for "the default": SQLite would
// open a temporary database for "" and what was written would be gone.
std::filesystem::path SettingValue::path() const {
  expect_kind(SettingKind::path);
  const std::string text = scalar_text();
  if (text.empty()) {
    const std::string variable = setting_->variable;
    if (origin_ == Origin::option)
      throw ConfigError(name_ + " is empty: give a file, or leave " + name_ + " out to use " + variable +
                        " or " + fallback(*setting_));
    if (origin_ == Origin::environment)
      throw ConfigError(variable + " is set but empty (in the environment or .env): " +
                        "set it to a file, or unset it to use " + fallback(*setting_));
    refuse("must not be empty");
  }
  return text;
}

SettingReader::SettingReader(EnvLookup lookup, std::vector<SettingOverride> overrides, Json source,
                             std::string source_location)
    : lookup_(std::move(lookup)), overrides_(std::move(overrides)), source_(std::move(source)),
      source_location_(std::move(source_location)) {
  for (const auto& override : overrides_) setting(override.variable);
  if (!source_.is_null() && !source_.is_object())
    throw ConfigError(source_location_ + ": source must be a mapping");
  // Unknown keys are refused: a typo would otherwise be silently ignored.
  if (source_.is_object()) {
    for (const auto& [key, ignored] : source_.items()) {
      const auto& table = setting_table();
      const bool known = std::any_of(table.begin(), table.end(), [&](const Setting& setting) {
        return setting.source_key && key == setting.source_key;
      });
      if (known) continue;
      std::string keys;
      for (const auto& setting : table)
        if (setting.source_key) keys += (keys.empty() ? "" : ", ") + std::string(setting.source_key);
      throw ConfigError(source_location_ + ": unknown key 'source." + key + "' (expected one of: " + keys + ")");
    }
  }
}

SettingValue SettingReader::get(std::string_view variable) const {
  const Setting& found = setting(variable);
  using Origin = SettingValue::Origin;
  for (const auto& override : overrides_)
    if (variable == override.variable) return {found, Origin::option, override.option, override.value, {}};
  if (auto text = lookup_(found.variable)) return {found, Origin::environment, found.variable, *text, {}};
  if (found.source_key && source_.is_object()) {
    if (auto it = source_.find(found.source_key); it != source_.end() && !it->is_null())
      return {found, Origin::source_block, source_location_ + ": source." + found.source_key, {}, *it};
  }
  if (found.computed_default) return {found, Origin::unset, found.variable, {}, {}};
  return {found, Origin::default_value, found.variable, found.default_value, {}};
}

}  // namespace customeriq
