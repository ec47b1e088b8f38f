// What flows between the stages: raw messages from sources, and the
// decoded-and-handled items the writer commits.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <customeriq/sdk/event.hpp>
#include <customeriq/sdk/mutation.hpp>

namespace customeriq {

using Headers = std::vector<std::pair<std::string, std::string>>;

// How the writer settled an item; handed to the item's source after commit.
enum class Outcome {
  applied,        // effects committed
  duplicate,      // its idempotency key was applied before: nothing changed
  dead_lettered,  // committed to dead_letters with the reason
  retry_later,    // not committed (transient store error): redeliver it
  suppressed,     // its customer was erased: not stored (audit row and a payload-free dead letter)
};

const char* to_string(Outcome outcome);

// Called once per item, after the transaction holding its effects committed
// (or, for retry_later, rolled back). The JetStream source acks/naks here.
using AckFunction = std::function<void(Outcome)>;

// Bytes as a source received them.
struct RawMessage {
  std::string bytes;
  std::string subject;
  Headers headers;
  AckFunction ack;                          // may be empty
  std::optional<std::int64_t> replay_of;    // dead_letters.id being replayed
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();
  // Unix seconds it was received: the timestamp of an event without one,
  // and the audit log's received_at (a rebuild passes the original's).
  std::int64_t received_at = static_cast<std::int64_t>(std::time(nullptr));
  std::optional<std::int64_t> source_seq;  // rebuild: its audit_log id in the source database
};

struct DeadLetter {
  std::string reason;
  std::string raw;
  std::string subject;
  Headers headers;
  std::string event_type;       // when it could be read
  std::string idempotency_key;  // when it could be computed
};

// The JSON text the writer binds for one mutation's JSON fields, made on a
// pipeline thread: [0] metadata (tags for AddKnowledge and UpdateCustomer),
// [1] UpdateCustomer's custom_fields. nullopt where the field is absent.
using MutationJsonText = std::array<std::optional<std::string>, 2>;

struct HandledEvent {
  sdk::Event event;
  std::string handler_id;
  std::vector<sdk::Mutation> mutations;
  // One entry per mutation, or empty: the writer then serialises itself.
  std::vector<MutationJsonText> json_text;
};

// One unit of work for the writer.
struct WriteItem {
  std::variant<HandledEvent, DeadLetter> content;
  AckFunction ack;
  std::optional<std::int64_t> replay_of;
  std::chrono::steady_clock::time_point received;
  std::int64_t received_at = 0;  // unix seconds
  std::optional<std::int64_t> source_seq;
};

}  // namespace customeriq
