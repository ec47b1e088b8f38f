#include "pipeline/event_decoder.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

#include "hash.hpp"
#include "text.hpp"

namespace customeriq {
namespace {

constexpr std::int64_t kMaxUnixSeconds = 253402300799;  // 9999-12-31T23:59:59Z

bool icontains(std::string_view text, std::string_view part) {
  if (part.size() > text.size()) return false;
  for (std::size_t i = 0; i + part.size() <= text.size(); ++i)
    if (sdk::equals_ignoring_case(text.substr(i, part.size()), part)) return true;
  return false;
}

std::string_view trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}


// A JSON value for an error message: its JSON text, cut short.
std::string shown(const sdk::Json& value) { return excerpt(value.dump(), 80); }

// An envelope field: absent/null → nullptr; wrong type → InvalidEvent.
sdk::Json* field(sdk::Json& object, const char* key, bool (sdk::Json::*is_type)() const noexcept,
                 const char* expected) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  if (!((*it).*is_type)()) {
    throw sdk::InvalidEvent(std::string(key) + " must be " + expected + ", got " + it->type_name() +
                            " " + shown(*it));
  }
  return &*it;
}

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
  });
}

// An identifier from the envelope: bounded, printable, no surrounding spaces.
void check_identifier(const char* name, const std::string& value, std::size_t max_bytes) {
  if (value.size() > max_bytes) {
    throw sdk::InvalidEvent(std::string(name) + " is " + std::to_string(value.size()) +
                            " bytes, over the limit of " + std::to_string(max_bytes));
  }
  if (has_control_character(value))
    throw sdk::InvalidEvent(std::string(name) + " must not contain control characters, got " + shown(value));
  if (trim(value).size() != value.size()) {
    throw sdk::InvalidEvent(std::string(name) + " must not begin or end with whitespace, got " +
                            shown(value));
  }
}

void check_event_type(const std::string& type) {
  if (type.size() > kMaxEventTypeBytes) {
    throw sdk::InvalidEvent("event_type is " + std::to_string(type.size()) + " bytes, over the limit of " +
                            std::to_string(kMaxEventTypeBytes));
  }
  const bool allowed = std::all_of(type.begin(), type.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
  });
  if (!allowed) {
    throw sdk::InvalidEvent("event_type may hold only letters, digits and _ - . :, got " +
                            shown(sdk::Json(type)));
  }
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

unsigned days_in_month(std::int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Reads exactly `digits` decimal digits at text[at]; false when they are not there.
bool read_digits(std::string_view text, std::size_t at, std::size_t digits, int& value) {
  if (at + digits > text.size()) return false;
  value = 0;
  for (std::size_t i = at; i < at + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  return true;
}

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM) with every field in range.
std::optional<std::int64_t> parse_iso8601(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || !read_digits(text, 0, 4, year) || text[4] != '-' ||
      !read_digits(text, 5, 2, month) || text[7] != '-' || !read_digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !read_digits(text, 11, 2, hour) || text[13] != ':' ||
      !read_digits(text, 14, 2, minute) || text[16] != ':' || !read_digits(text, 17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || static_cast<unsigned>(day) > days_in_month(year, month) ||
      hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest[0] == '.') {
    std::size_t digits = 1;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 1) return std::nullopt;
    rest.remove_prefix(digits);
  }
  std::int64_t offset_seconds = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int offset_hours, offset_minutes;
    if (!read_digits(rest, 1, 2, offset_hours) || !read_digits(rest, 4, 2, offset_minutes) ||
        offset_hours > 23 || offset_minutes > 59)
      return std::nullopt;
    offset_seconds = (rest[0] == '+' ? 1 : -1) * (offset_hours * 3600 + offset_minutes * 60);
  } else {
    return std::nullopt;
  }
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
         hour * 3600 + minute * 60 + second - offset_seconds;
}

[[noreturn]] void bad_timestamp(const sdk::Json& value) {
  throw sdk::InvalidEvent(
      "timestamp must be unix seconds (or milliseconds) or an ISO-8601 time like "
      "2024-12-14T00:00:00Z, between 1970 and 9999, got " +
      shown(value));
}

}  // namespace

std::int64_t parse_timestamp(const sdk::Json& value) {
  if (value.is_number()) {
    // Compared as doubles: a cast of an out-of-range double is undefined.
    double seconds = value.get<double>();
    if (!std::isfinite(seconds) || seconds < 0) bad_timestamp(value);
    if (seconds > 1e11) seconds /= 1000;
    if (seconds > static_cast<double>(kMaxUnixSeconds)) bad_timestamp(value);
    return static_cast<std::int64_t>(seconds);
  }
  if (value.is_string()) {
    const auto seconds = parse_iso8601(value.get_ref<const std::string&>());
    if (seconds && *seconds >= 0 && *seconds <= kMaxUnixSeconds) return *seconds;
  }
  bad_timestamp(value);
}

std::string payload_key(std::string_view bytes) { return "fnv128:" + fnv1a_128_hex(trim(bytes)); }

namespace {

const std::string* header_value(const Headers& headers, std::string_view name) {
  for (const auto& [header, value] : headers)
    if (sdk::equals_ignoring_case(header, name)) return &value;
  return nullptr;
}

}  // namespace

bool is_sensitive_header(std::string_view name) {
  for (const char* exact : {"authorization", "proxy-authorization", "cookie", "set-cookie"})
    if (sdk::equals_ignoring_case(name, exact)) return true;
  for (const char* part : {"token", "secret", "password", "passwd", "api-key", "api_key", "apikey",
                           "credential", "signature", "session"})
    if (icontains(name, part)) return true;
  return false;
}

std::variant<sdk::Event, DeadLetter> decode_event(RawMessage&& message, const DecodeLimits& limits) {
  // The subject and headers are stored as text: UTF-8 like everything else.
  if (!is_valid_utf8(message.subject)) message.subject = to_valid_utf8(message.subject);

  for (auto& [name, value] : message.headers) {
    if (!is_valid_utf8(name)) name = to_valid_utf8(name);
    if (is_sensitive_header(name)) value = "[redacted]";
    else if (!is_valid_utf8(value)) value = to_valid_utf8(value);
  }

  sdk::Event event;
  auto reject = [&](std::string reason) {
    return DeadLetter{to_valid_utf8(reason), std::move(message.bytes), std::move(message.subject),
                      std::move(message.headers), std::move(event.event_type),
                      std::move(event.idempotency_key)};
  };

  if (message.bytes.size() > limits.max_event_bytes) {
    return reject("payload is " + std::to_string(message.bytes.size()) +
                  " bytes, over the limit of " + std::to_string(limits.max_event_bytes) +
                  " (limits.max_event_bytes)");
  }
  if (std::string problem = json_structure_problem(message.bytes, limits.max_nesting_depth, "limits.max_nesting_depth"); !problem.empty())
    return reject(std::move(problem));

  try {
    sdk::Json root = sdk::Json::parse(message.bytes, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) {
      // Parse again for the message: it names the byte where parsing
      // stopped (a parse_error, or out_of_range for a number too large for
      // a double, such as 1e400).
      try {
        const sdk::Json reparsed = sdk::Json::parse(message.bytes);
        (void)reparsed;
      } catch (const sdk::Json::exception& error) {
        return reject(std::string("not valid JSON: ") + excerpt(error.what(), 200));
      }
      return reject("not valid JSON");
    }
    if (!root.is_object()) return reject(std::string("event must be a JSON object, got ") + root.type_name());

    const sdk::Json* type = field(root, "event_type", &sdk::Json::is_string, "a string");
    if (!type || type->get_ref<const std::string&>().empty())
      throw sdk::InvalidEvent("event_type is required");
    check_event_type(type->get_ref<const std::string&>());
    event.event_type = type->get<std::string>();

    if (const auto* id = field(root, "customer_id", &sdk::Json::is_string, "a string")) {
      event.customer_id = id->get<std::string>();  // "" counts as absent: identity by email
      check_identifier("customer_id", event.customer_id, kMaxCustomerIdBytes);
    }
    if (auto* data = field(root, "data", &sdk::Json::is_object, "an object"))
      event.data = std::move(*data);
    if (auto* metadata = field(root, "metadata", &sdk::Json::is_object, "an object"))
      event.metadata = std::move(*metadata);
    if (const auto* source = field(root, "source_service", &sdk::Json::is_string, "a string")) {
      event.source_service = source->get<std::string>();
      if (event.source_service.size() > kMaxSourceServiceBytes || has_control_character(event.source_service)) {
        throw sdk::InvalidEvent("source_service must be at most " + std::to_string(kMaxSourceServiceBytes) +
                                " bytes without control characters, got " + shown(*source));
      }
    }

    auto timestamp = root.find("timestamp");
    event.timestamp = (timestamp == root.end() || timestamp->is_null())
                          ? message.received_at
                          : parse_timestamp(*timestamp);

    for (const char* key : {"email", "customer_email"}) {
      if (auto email = sdk::optional_string(event.data, key); email && !trim(*email).empty()) {
        event.customer_email = ascii_lower(trim(*email));
        if (event.customer_email.size() > kMaxEmailBytes || has_control_character(event.customer_email)) {
          throw sdk::InvalidEvent("data." + std::string(key) + " must be at most " +
                                  std::to_string(kMaxEmailBytes) + " bytes without control characters, got " +
                                  shown(*email));
        }
        break;
      }
    }
    if (event.customer_id.empty() && event.customer_email.empty()) {
      throw sdk::InvalidEvent(
          "no customer identity: customer_id, data.email or data.customer_email is required");
    }

    if (const auto* id = field(root, "event_id", &sdk::Json::is_string, "a string");
        id && !id->get_ref<const std::string&>().empty()) {
      check_identifier("event_id", id->get_ref<const std::string&>(), kMaxEventIdBytes);
      event.idempotency_key = id->get<std::string>();
    } else if (const std::string* key = header_value(message.headers, "Idempotency-Key"); key && !key->empty()) {
      check_identifier("the Idempotency-Key header", *key, kMaxEventIdBytes);
      event.idempotency_key = *key;
    } else {
      event.idempotency_key = payload_key(message.bytes);
    }
  } catch (const sdk::InvalidEvent& error) {
    return reject(error.what());
  } catch (const std::exception& error) {
    // Not expected for any input; kept as a dead letter rather than lost.
    return reject(std::string("could not decode the event: ") + error.what());
  }

  event.raw = std::move(message.bytes);
  event.subject = std::move(message.subject);
  event.headers = std::move(message.headers);
  return event;
}

}  // namespace customeriq
