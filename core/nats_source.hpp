// The NATS sources of `customeriq serve`: a core NATS queue subscription
// (NatsSource) or a durable JetStream pull consumer (JetStreamSource), each
// feeding a WriterThread. Both share NatsConnection: every server, reconnect
// forever with backoff and jitter, and a log line for every state change.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "nats_config.hpp"
#include "writer_thread.hpp"

// nats.c types, so this header does not pull in <nats/nats.h>.
typedef struct __natsConnection natsConnection;
typedef struct __natsSubscription natsSubscription;
typedef struct __natsOptions natsOptions;
typedef struct __natsMsg natsMsg;
typedef struct __jsCtx jsCtx;

namespace customeriq {

// A failure retrying cannot fix: bad credentials, TLS setup, the connection
// closed by the server for good.
class NatsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Set once, by the signal thread or by a source that cannot go on; waited
// on by the others.
class StopFlag {
 public:
  // exit_code: what the process should exit with (the first request wins).
  void request(int exit_code = 0);
  bool requested() const { return requested_.load(); }
  int exit_code() const;
  // Sleeps up to timeout; true when stop was requested.
  bool wait_for(std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::atomic<bool> requested_{false};
  int exit_code_ = 0;
};

// The nats.c connection with CustomerIQ's options: every server, reconnect
// forever with exponential backoff and jitter, auth and TLS from the config.
class NatsConnection {
 public:
  // stop may be null (customeriq publish: no retry, fail fast).
  NatsConnection(const NatsConfig& config, StopFlag* stop);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  // Connects to one of the servers. With a StopFlag: when none is reachable
  // it keeps trying (and says so) until one is, or until stop is requested
  // (returns false). Without one: throws NatsError when none is reachable.
  // Throws NatsError for errors retrying cannot fix (authorization, TLS).
  bool connect();

  natsConnection* handle() const { return connection_; }
  std::string connected_url() const;

  // Called (on a nats.c thread) for asynchronous errors such as
  // NATS_SLOW_CONSUMER; set before connect().
  std::function<void(natsSubscription*, int status)> on_async_error;

  // Sends what is buffered (acks) and closes. Idempotent.
  void close();

  std::uint64_t disconnects() const { return disconnects_.load(); }
  std::uint64_t reconnects() const { return reconnects_.load(); }

 private:
  friend struct NatsCallbacks;  // the nats.c callbacks, in nats_source.cpp

  NatsConfig config_;
  StopFlag* stop_;
  natsOptions* options_ = nullptr;
  natsConnection* connection_ = nullptr;
  std::atomic<bool> connected_once_{false}, closing_{false};
  mutable std::mutex state_mutex_;
  std::condition_variable state_changed_;
  bool up_ = false, closed_ = false;
  std::string last_url_;
  std::atomic<std::uint64_t> disconnects_{0}, reconnects_{0};
};

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
  virtual NatsStats stats() const = 0;
};

// Core NATS: a queue subscription per subject. No redelivery: what is not
// received while the service is down, or dropped as a slow consumer, is lost.
class NatsSource final : public EventSource {
 public:
  NatsSource(const NatsConfig& config, WriterThread& writer, StopFlag& stop);
  ~NatsSource() override;
  bool start() override;
  void run() override;
  void stop_taking() override;
  void close() override;
  NatsStats stats() const override;

 private:
  static void on_message(natsConnection* connection, natsSubscription* subscription, natsMsg* msg,
                         void* closure);
  void handle_async_error(natsSubscription* subscription, int status);

  NatsConfig config_;
  WriterThread& writer_;
  StopFlag& stop_;
  NatsConnection connection_;
  std::vector<natsSubscription*> subscriptions_;
  std::vector<std::string> subscription_subjects_;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::chrono::steady_clock::rep> last_slow_consumer_log_{0};
};

// JetStream: a durable pull consumer on a stream over the subjects; every
// message is acked only after the transaction holding it committed.
class JetStreamSource final : public EventSource {
 public:
  JetStreamSource(const NatsConfig& config, WriterThread& writer, StopFlag& stop);
  ~JetStreamSource() override;
  bool start() override;
  void run() override;
  void stop_taking() override;
  void close() override;
  NatsStats stats() const override;

  struct Counters;  // shared with the ack functions, which may outlive a fetch

 private:
  // Ensures the stream and the consumer and binds the pull subscription.
  // Throws NatsError with what went wrong.
  void bind();
  void ensure_stream();
  void ensure_consumer();
  void unbind();

  NatsConfig config_;
  WriterThread& writer_;
  StopFlag& stop_;
  NatsConnection connection_;
  jsCtx* js_ = nullptr;
  natsSubscription* subscription_ = nullptr;
  std::string filter_subject_;  // the consumer's filter ("" = the whole stream)
  std::shared_ptr<Counters> counters_;
};

// The source the config asks for.
std::unique_ptr<EventSource> make_event_source(const NatsConfig& config, WriterThread& writer,
                                               StopFlag& stop);

// A message's headers as RawMessage::headers.
Headers nats_headers(natsMsg* msg);

}  // namespace customeriq
