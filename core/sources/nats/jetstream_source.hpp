// JetStreamSource: a durable JetStream pull consumer into an EventSink,
// each message acked only after the commit that holds it.
#pragma once

#include <memory>
#include <string>

#include "event_sink.hpp"
#include "sources/nats/event_source.hpp"
#include "sources/nats/nats_config.hpp"
#include "sources/nats/nats_connection.hpp"
#include "sources/stop_flag.hpp"

typedef struct __natsSubscription natsSubscription;
typedef struct __jsCtx jsCtx;

namespace customeriq {

// JetStream: a durable pull consumer on a stream over the subjects; every
// message is acked only after the transaction holding it committed.
class JetStreamSource final : public EventSource {
 public:
  JetStreamSource(const NatsConfig& config, EventSink& sink, StopFlag& stop);
  ~JetStreamSource() override;
  bool start() override;
  void run() override;
  void stop_taking() override;
  void close() override;
  NatsStats stats() const override;
  bool connected() const override { return connection_.is_up(); }

  struct Counters;  // shared with the ack functions, which may outlive a fetch

 private:
  // Ensures the stream and the consumer and binds the pull subscription.
  // Throws NatsError with what went wrong.
  void bind();
  void ensure_stream();
  void ensure_consumer();
  void unbind();

  NatsConfig config_;
  EventSink& sink_;
  StopFlag& stop_;
  NatsConnection connection_;
  jsCtx* js_ = nullptr;
  natsSubscription* subscription_ = nullptr;
  std::string filter_subject_;  // the consumer's filter ("" = the whole stream)
  std::shared_ptr<Counters> counters_;
};

}  // namespace customeriq
