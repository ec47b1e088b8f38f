// Plugin config: the keys a plugin declares, the checks the core makes on
// the values a pipeline gives them, and reading the resolved config.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace customeriq::sdk {

using Json = nlohmann::json;

enum class ConfigType : std::uint32_t { string, integer, number, boolean, string_list, object };

// One key a plugin accepts in its `config:` block. The core rejects keys a
// plugin does not declare, values of the wrong type and numbers outside
// [min, max], fills in defaults, and prints the table in `customeriq plugins`.
//
//   {"threshold", sdk::ConfigType::integer, "500", "characters kept", /*min*/ 1, /*max*/ 100000}
struct ConfigKey {
  const char* name;
  ConfigType type;
  const char* default_json;  // the default as JSON text ("500", "\"EUR\"", "[]")
  const char* description;
  // Inclusive bounds of an integer or number key; an infinite one is no bound.
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
};

// "integer", "list of strings", … as messages and `customeriq plugins` say it.
inline const char* config_type_name(ConfigType type) {
  switch (type) {
    case ConfigType::string: return "string";
    case ConfigType::integer: return "integer";
    case ConfigType::number: return "number";
    case ConfigType::boolean: return "boolean";
    case ConfigType::string_list: return "list of strings";
    case ConfigType::object: return "mapping";
  }
  return "unknown";
}

inline bool has_bounds(const ConfigKey& key) { return std::isfinite(key.min) || std::isfinite(key.max); }

namespace detail {
inline std::string bound_text(double bound) {
  // Integral bounds print as integers: "from 1 to 10", not "from 1.0 to 10.0".
  if (bound == std::floor(bound) && std::fabs(bound) < 9223372036854775808.0)
    return std::to_string(static_cast<std::int64_t>(bound));
  return Json(bound).dump();
}
}  // namespace detail

// "from 1 to 10", ">= 0" or "<= 2.5"; empty for a key without bounds.
inline std::string bounds_text(const ConfigKey& key) {
  const bool low = std::isfinite(key.min), high = std::isfinite(key.max);
  if (low && high) return "from " + detail::bound_text(key.min) + " to " + detail::bound_text(key.max);
  if (low) return ">= " + detail::bound_text(key.min);
  if (high) return "<= " + detail::bound_text(key.max);
  return "";
}

// What is wrong with value as the value of key ("must be an integer from 1
// to 10, got 11"), or empty when it has the key's type and is within its
// bounds. The core and sdk::testing say the same thing.
inline std::string config_value_problem(const ConfigKey& key, const Json& value) {
  bool typed = false;
  switch (key.type) {
    case ConfigType::string: typed = value.is_string(); break;
    case ConfigType::integer: typed = value.is_number_integer(); break;
    case ConfigType::number: typed = value.is_number(); break;
    case ConfigType::boolean: typed = value.is_boolean(); break;
    case ConfigType::object: typed = value.is_object(); break;
    case ConfigType::string_list:
      typed = value.is_array();
      for (const Json& item : value) typed = typed && item.is_string();
      break;
  }
  // long double holds every int64 and uint64 exactly, so 2^63 - 1 is not
  // rounded into a bound it is outside of.
  const bool numeric = key.type == ConfigType::integer || key.type == ConfigType::number;
  const auto number = [&]() -> long double {
    if (value.is_number_unsigned()) return static_cast<long double>(value.get<std::uint64_t>());
    if (value.is_number_integer()) return static_cast<long double>(value.get<std::int64_t>());
    return static_cast<long double>(value.get<double>());
  };
  const bool bounded = numeric && has_bounds(key);
  const bool in_bounds = !typed || !bounded || (number() >= key.min && number() <= key.max);
  if (typed && in_bounds) return "";
  const std::string type = config_type_name(key.type);
  const bool vowel = std::string_view("aeiou").find(type[0]) != std::string_view::npos;
  std::string expected = (vowel ? "an " : "a ") + type;
  // The bounds only for a value of the right type: a wrong type reads the
  // same with bounds or without ("must be an integer, got \"high\"").
  if (typed && bounded) expected += " " + bounds_text(key);
  return "must be " + expected + ", got " + value.dump();
}

// The value of a declared key in the config the core passes to a plugin's
// constructor (and HandlerContext::config()), as T. The core fills in every
// declared key's default, so the default is written once, in the ConfigKey:
//
//   explicit NoteHandler(const sdk::Json& config)
//       : category_(sdk::config_value<std::string>(config, "default_category")) {}
//
// A key that is not there was not declared, and a value that is not a T was
// declared with another type: both are mistakes in the plugin, reported as
// std::logic_error naming the key.
template <class T>
T config_value(const Json& config, std::string_view key) {
  const auto found = config.find(key);
  if (found == config.end()) {
    throw std::logic_error("config key '" + std::string(key) +
                           "' is not in the resolved config: declare it in the plugin's ConfigKey list");
  }
  try {
    return found->get<T>();
  } catch (const Json::exception& error) {
    throw std::logic_error("config key '" + std::string(key) + "' cannot be read as the type asked for (" +
                           error.what() + "); read it as its declared ConfigType");
  }
}

}  // namespace customeriq::sdk
