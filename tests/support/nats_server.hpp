// A real nats-server, for the tests and the bench alike: on 127.0.0.1 and a
// free port, JetStream optional, stopped by its PID.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "child_process.hpp"
#include "temp_dir.hpp"

namespace customeriq::test {

// Path of nats-server; std::runtime_error saying how to install it when
// there is none.
std::filesystem::path nats_server_binary();

class NatsServer {
 public:
  struct Options {
    bool jetstream = true;
    std::optional<std::string> user, password;
    // A configuration file's text (authorization, tls blocks), passed with
    // -c; the command line's address, port and JetStream settings win.
    std::string config;
    std::filesystem::path executable;  // empty: nats_server_binary()
    // Its JetStream store (emptied first) and logs; empty: a temporary folder
    // of its own.
    std::filesystem::path work_dir;
  };
  NatsServer() : NatsServer(Options{}) {}
  // Returns once the server is ready; std::runtime_error when it is not.
  explicit NatsServer(Options options);
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  // SIGTERM and wait (SIGKILL after 5 s).
  void stop();
  // SIGKILL, as a crash would end it, and wait.
  void kill();
  // Starts again on the same port with the same store.
  void start();

 private:
  bool try_start();

  Options options_;
  std::optional<TempDir> own_dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
  int generation_ = 0;
};

}  // namespace customeriq::test
