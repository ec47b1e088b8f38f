// EventSource: what `customeriq serve` runs (core NATS or JetStream), and
// the counts each reports.
#pragma once

#include <cstdint>

namespace customeriq {

struct NatsStats {
  std::uint64_t received = 0;     // messages handed to the pipeline
  std::uint64_t dropped = 0;      // core: dropped by nats.c (slow consumer, pending limits)
  std::uint64_t skipped = 0;      // JetStream: outside NATS_SUBJECTS, acked unprocessed
  std::uint64_t acked = 0;        // JetStream: applied or duplicate
  std::uint64_t terminated = 0;   // JetStream: dead-lettered, not to be redelivered
  std::uint64_t nak = 0;          // JetStream: not committed, redelivered later
  std::uint64_t ack_errors = 0;   // JetStream: the ack could not be sent
  std::uint64_t disconnects = 0, reconnects = 0;
};

// A source of events for `customeriq serve`.
class EventSource {
 public:
  virtual ~EventSource() = default;
  // Connects and subscribes (core) or binds the consumer (JetStream),
  // logging each step. False when stop was requested first.
  virtual bool start() = 0;
  // Takes messages until stop is requested.
  virtual void run() = 0;
  // Stops taking messages. When it returns, every message taken has been
  // submitted to the writer (core: the subscriptions are drained).
  virtual void stop_taking() = 0;
  // After WriterThread::flush(): sends the last acks and closes.
  virtual void close() = 0;
  // Safe from any thread once start() has returned.
  virtual NatsStats stats() const = 0;
  // Connected to a server now; any thread, any time.
  virtual bool connected() const = 0;
};

}  // namespace customeriq
