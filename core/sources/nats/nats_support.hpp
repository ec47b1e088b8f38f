// What the NATS sources share: errors that retrying cannot fix, nats.c
// status texts, and messages turned into RawMessage.
#pragma once

#include <string>
#include <vector>

#include <nats/nats.h>

#include "sources/nats/nats_error.hpp"
#include "work_item.hpp"

namespace customeriq {

// nats.c's text for status, with the thread's last error when it says more
// ("Authorization Violation", the JetStream API's description).
std::string status_text(natsStatus status);

// Throws NatsError("what: <status text>") unless status is NATS_OK.
void check(natsStatus status, const std::string& what);

std::string join(const std::vector<std::string>& items, const char* separator = ", ");

// A message's bytes, subject and headers.
RawMessage to_raw_message(natsMsg* msg);

// A message's headers as RawMessage::headers.
Headers nats_headers(natsMsg* msg);

// Per event, at debug level: the subject, and what the payload says it is.
void log_received(const RawMessage& message);

}  // namespace customeriq
