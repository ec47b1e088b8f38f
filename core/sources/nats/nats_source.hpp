// NatsSource: core NATS, a queue subscription per subject, into an EventSink.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "event_sink.hpp"
#include "sources/nats/event_source.hpp"
#include "sources/nats/nats_config.hpp"
#include "sources/nats/nats_connection.hpp"
#include "sources/stop_flag.hpp"

typedef struct __natsMsg natsMsg;

namespace customeriq {

// Core NATS: a queue subscription per subject. No redelivery: what is not
// received while the service is down, or dropped as a slow consumer, is lost.
class NatsSource final : public EventSource {
 public:
  NatsSource(const NatsConfig& config, EventSink& sink, StopFlag& stop);
  ~NatsSource() override;
  bool start() override;
  void run() override;
  void stop_taking() override;
  void close() override;
  NatsStats stats() const override;
  bool connected() const override { return connection_.is_up(); }

 private:
  static void on_message(natsConnection* connection, natsSubscription* subscription, natsMsg* msg,
                         void* closure);
  void handle_async_error(natsSubscription* subscription, int status);

  NatsConfig config_;
  EventSink& sink_;
  StopFlag& stop_;
  NatsConnection connection_;
  std::vector<natsSubscription*> subscriptions_;
  std::vector<std::string> subscription_subjects_;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::chrono::steady_clock::rep> last_slow_consumer_log_{0};
};

}  // namespace customeriq
