// A nats.c publisher for the bench (core publish or JetStream async publish,
// Nats-Msg-Id on every message); the server it publishes to is the shared
// NatsServer of tests/support/nats_server.hpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "support/nats_server.hpp"

typedef struct __natsConnection natsConnection;
typedef struct __jsCtx jsCtx;

namespace customeriq::bench {

using test::NatsServer;

class Publisher {
 public:
  // send_asap: every publish is written to the socket at once (for latency
  // phases) instead of when nats.c's buffer or flusher decides.
  Publisher(const std::string& url, bool jetstream, bool send_asap = false, int max_pending = 4096);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Core: PUB with a Nats-Msg-Id header. JetStream: async publish (the
  // stream dedups on Nats-Msg-Id); blocks while max_pending are unacked.
  void publish(const std::string& subject, std::string_view data, const std::string& msg_id);
  // A plain core publish (for probes), whatever the mode.
  void publish_core(const std::string& subject, std::string_view data);
  // Core: flush to the server. JetStream: wait for every ack.
  void finish(int timeout_ms = 120000);

  std::uint64_t errors() const { return errors_.load(); }

 private:
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
  bool jetstream_;
  std::atomic<std::uint64_t> errors_{0};
};

}  // namespace customeriq::bench
