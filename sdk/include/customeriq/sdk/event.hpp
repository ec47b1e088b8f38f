// Event: one customer event as the core hands it to a handler plugin, and
// helpers for reading its fields with errors that name the field.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace customeriq::sdk {

using Json = nlohmann::json;

// A decoded, validated event. The core guarantees: event_type is non-empty,
// data and metadata are JSON objects (empty when absent), timestamp is unix
// seconds (the receive time when the event carried none), and the customer is
// identified either by customer_id or by customer_email.
struct Event {
  std::string customer_id;     // as sent; empty when the event named only an email
  std::string customer_email;  // data.email or data.customer_email, lower-cased; may be empty
  std::string event_type;
  std::int64_t timestamp = 0;  // unix seconds
  std::string source_service;
  Json data = Json::object();
  Json metadata = Json::object();
  std::string raw;      // the exact bytes received
  std::string subject;  // NATS subject, or "file:<name>" for ingested files
  std::vector<std::pair<std::string, std::string>> headers;
  std::string idempotency_key;  // event_id, else Nats-Msg-Id, else a hash of raw
};

// Thrown by a handler (directly or through the helpers below) when the event
// cannot be handled as sent. The core dead-letters the event with what() as
// the reason; the service goes on.
// Visible across the plugin boundary so the core's catch matches the type
// thrown by a plugin built with hidden visibility.
class __attribute__((visibility("default"))) InvalidEvent : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
inline std::string path(std::string_view where, std::string_view key) {
  return std::string(where) + "." + std::string(key);
}
// The JSON text of a value for a message, cut to about 80 bytes on a code
// point boundary: a reason quotes the bad value without echoing all of it.
inline std::string shown(const Json& value) {
  std::string text = value.dump();
  if (text.size() <= 80) return text;
  std::size_t cut = 80;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text + "…";
}
[[noreturn]] inline void wrong_type(std::string_view where, std::string_view key, const char* expected,
                                    const Json& got) {
  throw InvalidEvent(path(where, key) + " must be " + expected + ", got " + got.type_name() + " " +
                     shown(got));
}
inline const Json* find(const Json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}
// find(), where a value that is there must pass is_expected (a member of
// Json such as &Json::is_string, or a predicate): InvalidEvent saying it
// must be `expected` when it does not.
template <class Check>
const Json* find_checked(const Json& object, std::string_view key, std::string_view where, Check is_expected,
                         const char* expected) {
  const Json* value = find(object, key);
  if (value && !std::invoke(is_expected, *value)) wrong_type(where, key, expected, *value);
  return value;
}
// *value; InvalidEvent "<where>.<key> is required" when there is none.
template <class T>
T required(std::optional<T> value, std::string_view where, std::string_view key) {
  if (!value) throw InvalidEvent(path(where, key) + " is required");
  return *std::move(value);
}
}  // namespace detail

// Field readers. Each takes the object (event.data, event.metadata, …), the
// key, and the object's name for messages ("data" unless given), and throws
// InvalidEvent naming the field, e.g.
//   data.total must be a number, got string "abc"

// The string at object[key]; nullopt when absent or null.
inline std::optional<std::string> optional_string(const Json& object, std::string_view key,
                                                  std::string_view where = "data") {
  const Json* value = detail::find_checked(object, key, where, &Json::is_string, "a string");
  return value ? std::optional(value->get<std::string>()) : std::nullopt;
}

// The string at object[key]; InvalidEvent when absent, empty or not a string.
inline std::string required_string(const Json& object, std::string_view key,
                                   std::string_view where = "data") {
  auto value = optional_string(object, key, where);
  if (!value || value->empty()) throw InvalidEvent(detail::path(where, key) + " is required");
  return *value;
}

// A number at object[key]. Numeric strings are not accepted: "abc" and "12"
// are both errors, so a publisher's type bug is caught at the door.
inline std::optional<double> optional_number(const Json& object, std::string_view key,
                                             std::string_view where = "data") {
  const Json* value = detail::find_checked(object, key, where, &Json::is_number, "a number");
  return value ? std::optional(value->get<double>()) : std::nullopt;
}

inline double required_number(const Json& object, std::string_view key,
                              std::string_view where = "data") {
  return detail::required(optional_number(object, key, where), where, key);
}

// Money is bounded so that sums of it (a customer's lifetime value) stay
// finite and exact to the cent: |amount| <= 1e12.
inline constexpr double kMaxAmount = 1e12;

// A sum of money at object[key]: a number with |value| <= kMaxAmount.
inline std::optional<double> optional_amount(const Json& object, std::string_view key,
                                             std::string_view where = "data") {
  auto value = optional_number(object, key, where);
  if (value && !(std::fabs(*value) <= kMaxAmount)) {
    throw InvalidEvent(detail::path(where, key) + " must be between -1000000000000 and 1000000000000, got " +
                       detail::shown(*detail::find(object, key)));
  }
  return value;
}

inline double required_amount(const Json& object, std::string_view key,
                              std::string_view where = "data") {
  return detail::required(optional_amount(object, key, where), where, key);
}

// An integral number at object[key] that fits in 64 bits (2.0 is accepted,
// 2.5 and 18446744073709551615 are not).
inline std::optional<std::int64_t> optional_integer(const Json& object, std::string_view key,
                                                    std::string_view where = "data") {
  const Json* value = detail::find(object, key);
  if (!value) return std::nullopt;
  const char* out_of_range = "an integer from -9223372036854775808 to 9223372036854775807";
  if (value->is_number_unsigned()) {
    if (value->get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX))
      return static_cast<std::int64_t>(value->get<std::uint64_t>());
    detail::wrong_type(where, key, out_of_range, *value);
  }
  if (value->is_number_integer()) return value->get<std::int64_t>();
  if (value->is_number_float()) {
    const double number = value->get<double>();
    if (number == std::floor(number)) {
      // Range first: casting a double outside int64 is undefined.
      if (number >= -9223372036854775808.0 && number < 9223372036854775808.0)
        return static_cast<std::int64_t>(number);
      detail::wrong_type(where, key, out_of_range, *value);
    }
  }
  detail::wrong_type(where, key, "an integer", *value);
}

// A boolean at object[key]; false when absent.
inline bool flag(const Json& object, std::string_view key, std::string_view where = "data") {
  const Json* value = detail::find_checked(object, key, where, &Json::is_boolean, "true or false");
  return value && value->get<bool>();
}

// A JSON array of strings at object[key], as given.
inline std::optional<Json> optional_string_list(const Json& object, std::string_view key,
                                                std::string_view where = "data") {
  const auto strings = [](const Json& value) {
    return value.is_array() && std::all_of(value.begin(), value.end(), [](const Json& item) { return item.is_string(); });
  };
  const Json* value = detail::find_checked(object, key, where, strings, "an array of strings");
  return value ? std::optional(*value) : std::nullopt;
}

// A JSON object at object[key], as given.
inline std::optional<Json> optional_object(const Json& object, std::string_view key,
                                           std::string_view where = "data") {
  const Json* value = detail::find_checked(object, key, where, &Json::is_object, "an object");
  return value ? std::optional(*value) : std::nullopt;
}

// Whether an empty string counts as given in first_string.
enum class EmptyString { skipped, counts };

struct NamedString {
  std::string key;  // which of the keys it came from
  std::string value;
};

// The first of keys, in order, that holds a string, with the key it was
// found at; nullopt when none does. Each key looked at is type-checked (a
// number at an earlier key is an error, not passed over). With
// EmptyString::skipped an empty string is passed over as if absent.
//   first_string(data, {"content", "note", "text"})
inline std::optional<NamedString> first_string(const Json& object, std::initializer_list<std::string_view> keys,
                                               EmptyString empty = EmptyString::skipped,
                                               std::string_view where = "data") {
  for (std::string_view key : keys) {
    auto value = optional_string(object, key, where);
    if (value && (empty == EmptyString::counts || !value->empty()))
      return NamedString{std::string(key), std::move(*value)};
  }
  return std::nullopt;
}

namespace detail {
inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace detail

// text with ASCII letters lower-cased, for matching statuses and keywords.
inline std::string ascii_lower(std::string text) {
  for (char& c : text) c = detail::ascii_lower(c);
  return text;
}

// Whether a and b are equal when ASCII letters are compared without case.
inline bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (detail::ascii_lower(a[i]) != detail::ascii_lower(b[i])) return false;
  return true;
}

// Whether text is one of list, ASCII letters compared without case: a
// configured list of statuses matches "Completed" and "DONE".
inline bool contains_ignoring_case(std::span<const std::string> list, std::string_view text) {
  for (const std::string& item : list)
    if (equals_ignoring_case(item, text)) return true;
  return false;
}

}  // namespace customeriq::sdk
