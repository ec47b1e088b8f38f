// Decoding and validating raw bytes into an sdk::Event.
#pragma once

#include <cstddef>
#include <variant>

#include <customeriq/sdk/event.hpp>

#include "work_item.hpp"

namespace customeriq {

// What the decoder refuses before it builds anything (limits: in the YAML).
struct DecodeLimits {
  std::size_t max_event_bytes = 1 << 20;  // limits.max_event_bytes
  std::size_t max_nesting_depth = 64;     // limits.max_nesting_depth: arrays/objects inside each other
};

// Bounds on the envelope's strings: an id is a key, not a document.
inline constexpr std::size_t kMaxCustomerIdBytes = 256;
inline constexpr std::size_t kMaxEventIdBytes = 256;
inline constexpr std::size_t kMaxEventTypeBytes = 64;
inline constexpr std::size_t kMaxSourceServiceBytes = 256;
inline constexpr std::size_t kMaxEmailBytes = 320;

// The event, or the dead letter that says why the bytes are not one. Never
// throws for any input: whatever the bytes hold, the worst they can do is
// dead-letter themselves.
// Checks: size limit, no NUL byte, nesting depth, a JSON object (numbers
// that overflow a double are refused), event_type (letters, digits and
// _ . : -), customer identity (customer_id or data.email /
// data.customer_email; ids without control characters or surrounding
// whitespace), field types of the envelope, the timestamp.
// Computes the idempotency key: event_id, else an Idempotency-Key header
// (HTTP intake, or a NATS header), else "fnv128:" + a hash of the payload
// (surrounding whitespace ignored), so the same event gets the same key
// whichever path (NATS, HTTP, a file) brings it.
// Redacts credentials in headers (Authorization, Cookie, *token*, *api-key*,
// *secret*, *password*) before anything can store them.
// Takes the message's bytes, subject and headers into the result.
std::variant<sdk::Event, DeadLetter> decode_event(RawMessage&& message, const DecodeLimits& limits);

// Unix seconds from an event timestamp: a number of seconds (values above
// 1e11 are taken as milliseconds) or an ISO-8601 time
// YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM), between 1970-01-01 and
// 9999-12-31. Throws sdk::InvalidEvent otherwise.
std::int64_t parse_timestamp(const sdk::Json& value);

// The idempotency key of an event without event_id.
std::string payload_key(std::string_view bytes);

// True for a header whose value is a credential (kept as "[redacted]").
bool is_sensitive_header(std::string_view name);

}  // namespace customeriq
