#include "event_decoder.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "hash.hpp"

namespace customeriq {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

std::string lower_trimmed(std::string text) {
  const auto begin = text.find_first_not_of(" \t");
  const auto end = text.find_last_not_of(" \t");
  text = begin == std::string::npos ? std::string() : text.substr(begin, end - begin + 1);
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// An envelope field: absent/null → nullptr; wrong type → InvalidEvent.
sdk::Json* field(sdk::Json& object, const char* key, bool (sdk::Json::*is_type)() const noexcept,
                 const char* expected) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  if (!((*it).*is_type)()) {
    throw sdk::InvalidEvent(std::string(key) + " must be " + expected + ", got " + it->type_name() +
                            " " + it->dump());
  }
  return &*it;
}

}  // namespace

std::int64_t parse_timestamp(const sdk::Json& value) {
  if (value.is_number()) {
    const double seconds = value.get<double>();
    if (!std::isfinite(seconds) || seconds < 0)
      throw sdk::InvalidEvent("timestamp must be a non-negative unix time, got " + value.dump());
    return static_cast<std::int64_t>(seconds > 1e11 ? seconds / 1000 : seconds);
  }
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    std::tm tm{};
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) == 6) {
      tm.tm_year -= 1900;
      tm.tm_mon -= 1;
      std::string_view rest = std::string_view(text).substr(static_cast<std::size_t>(consumed));
      if (!rest.empty() && rest[0] == '.') {
        std::size_t digits = 1;
        while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
        rest.remove_prefix(digits);
      }
      long offset = 0;
      int hours = 0, minutes = 0;
      bool ok = rest == "Z" || rest == "z";
      if (!ok && rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') &&
          std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &hours, &minutes) == 2) {
        offset = (rest[0] == '+' ? 1 : -1) * (hours * 3600L + minutes * 60L);
        ok = true;
      }
      if (ok) return static_cast<std::int64_t>(timegm(&tm)) - offset;
    }
  }
  throw sdk::InvalidEvent(
      "timestamp must be unix seconds or an ISO-8601 time like 2024-12-14T00:00:00Z, got " +
      value.dump());
}

std::variant<sdk::Event, DeadLetter> decode_event(RawMessage&& message, std::size_t max_event_bytes) {
  sdk::Event event;
  auto reject = [&](std::string reason) {
    return DeadLetter{std::move(reason), std::move(message.bytes), std::move(message.subject),
                      std::move(message.headers), std::move(event.event_type),
                      std::move(event.idempotency_key)};
  };

  if (message.bytes.size() > max_event_bytes) {
    return reject("payload is " + std::to_string(message.bytes.size()) +
                  " bytes, over the limit of " + std::to_string(max_event_bytes) +
                  " (limits.max_event_bytes)");
  }
  sdk::Json root = sdk::Json::parse(message.bytes, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    // Parse again for the message: it names the byte where parsing stopped.
    try {
      (void)sdk::Json::parse(message.bytes);
    } catch (const sdk::Json::parse_error& error) {
      return reject(std::string("not valid JSON: ") + error.what());
    }
    return reject("not valid JSON");
  }
  if (!root.is_object()) return reject(std::string("event must be a JSON object, got ") + root.type_name());

  try {
    const sdk::Json* type = field(root, "event_type", &sdk::Json::is_string, "a string");
    if (!type || type->get_ref<const std::string&>().empty())
      throw sdk::InvalidEvent("event_type is required");
    event.event_type = type->get<std::string>();

    if (const auto* id = field(root, "customer_id", &sdk::Json::is_string, "a string"))
      event.customer_id = id->get<std::string>();
    if (auto* data = field(root, "data", &sdk::Json::is_object, "an object"))
      event.data = std::move(*data);
    if (auto* metadata = field(root, "metadata", &sdk::Json::is_object, "an object"))
      event.metadata = std::move(*metadata);
    if (const auto* source = field(root, "source_service", &sdk::Json::is_string, "a string"))
      event.source_service = source->get<std::string>();

    auto timestamp = root.find("timestamp");
    event.timestamp = (timestamp == root.end() || timestamp->is_null())
                          ? static_cast<std::int64_t>(std::time(nullptr))
                          : parse_timestamp(*timestamp);

    for (const char* key : {"email", "customer_email"}) {
      if (auto email = sdk::optional_string(event.data, key); email && !email->empty()) {
        event.customer_email = lower_trimmed(*email);
        break;
      }
    }
    if (event.customer_id.empty() && event.customer_email.empty()) {
      throw sdk::InvalidEvent(
          "no customer identity: customer_id, data.email or data.customer_email is required");
    }

    if (const auto* id = field(root, "event_id", &sdk::Json::is_string, "a string");
        id && !id->get_ref<const std::string&>().empty()) {
      event.idempotency_key = id->get<std::string>();
    } else {
      for (const auto& [name, value] : message.headers) {
        if (iequals(name, "Nats-Msg-Id") && !value.empty()) {
          event.idempotency_key = value;
          break;
        }
      }
    }
    if (event.idempotency_key.empty()) event.idempotency_key = "fnv128:" + fnv1a_128_hex(message.bytes);
  } catch (const sdk::InvalidEvent& error) {
    return reject(error.what());
  }

  event.raw = std::move(message.bytes);
  event.subject = std::move(message.subject);
  event.headers = std::move(message.headers);
  return event;
}

}  // namespace customeriq
