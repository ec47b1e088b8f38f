// A real nats-server for the bench (loopback, free port, optional JetStream
// in a temp dir, stopped by PID) and a nats.c publisher (core publish or
// JetStream async publish, Nats-Msg-Id on every message).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "children.hpp"

typedef struct __natsConnection natsConnection;
typedef struct __jsCtx jsCtx;

namespace customeriq::bench {

class NatsServer {
 public:
  NatsServer(std::filesystem::path executable, std::filesystem::path work_dir, bool jetstream);
  ~NatsServer();
  void start();  // throws when it does not listen within 10 s
  void stop();
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return child_ ? child_->pid() : -1; }

 private:
  std::filesystem::path executable_, work_dir_;
  bool jetstream_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> child_;
};

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
