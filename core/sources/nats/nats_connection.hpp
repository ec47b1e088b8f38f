// NatsConnection: the nats.c connection with CustomerIQ's options.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "sources/nats/nats_config.hpp"
#include "sources/nats/nats_error.hpp"
#include "sources/stop_flag.hpp"

// nats.c types, so this header does not pull in <nats/nats.h>.
typedef struct __natsConnection natsConnection;
typedef struct __natsSubscription natsSubscription;
typedef struct __natsOptions natsOptions;

namespace customeriq {

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

  // Connected now (false while connecting, disconnected or closed).
  bool is_up() const {
    std::lock_guard lock(state_mutex_);
    return up_;
  }

  std::uint64_t disconnects() const { return disconnects_.load(); }
  std::uint64_t reconnects() const { return reconnects_.load(); }

 private:
  friend struct NatsCallbacks;  // the nats.c callbacks, in nats_source.cpp

  void configure_options();

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

}  // namespace customeriq
