// Decoding and validating raw bytes into an sdk::Event.
#pragma once

#include <cstddef>
#include <variant>

#include <customeriq/sdk/event.hpp>

#include "work_item.hpp"

namespace customeriq {

// The event, or the dead letter that says why the bytes are not one.
// Checks: size limit, JSON object, event_type, customer identity
// (customer_id or data.email / data.customer_email), field types of the
// envelope. Computes the idempotency key: event_id, else the Nats-Msg-Id
// header, else "fnv128:" + a hash of the raw bytes.
// Takes the message's bytes, subject and headers into the result.
std::variant<sdk::Event, DeadLetter> decode_event(RawMessage&& message, std::size_t max_event_bytes);

// Unix seconds from an event timestamp: a number of seconds (values above
// 1e11 are taken as milliseconds) or an ISO-8601 UTC/offset string.
// Throws sdk::InvalidEvent otherwise.
std::int64_t parse_timestamp(const sdk::Json& value);

}  // namespace customeriq
