#include "nats_server.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "loopback.hpp"

namespace customeriq::test {

using namespace std::chrono_literals;

std::filesystem::path nats_server_binary() {
  for (const char* candidate : {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"})
    if (access(candidate, X_OK) == 0) return candidate;
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::filesystem::path candidate = std::filesystem::path(rest.substr(0, colon)) / "nats-server";
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  throw std::runtime_error("nats-server not found: apt-get install nats-server (scripts/install-deps.sh)");
}

NatsServer::NatsServer(Options options) : options_(std::move(options)) {
  if (options_.executable.empty()) options_.executable = nats_server_binary();
  if (options_.work_dir.empty()) options_.work_dir = own_dir_.emplace().path();
  std::filesystem::create_directories(options_.work_dir);
  std::filesystem::remove_all(options_.work_dir / "jetstream");  // a store left by an earlier run
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    if (try_start()) return;
  }
  throw std::runtime_error("nats-server did not start; see " + options_.work_dir.string());
}

NatsServer::~NatsServer() { stop(); }

bool NatsServer::try_start() {
  std::vector<std::string> args{"-a", "127.0.0.1", "-p", std::to_string(port_)};
  if (options_.jetstream) args.insert(args.end(), {"-js", "-sd", (options_.work_dir / "jetstream").string()});
  if (options_.user) args.insert(args.end(), {"--user", *options_.user});
  if (options_.password) args.insert(args.end(), {"--pass", *options_.password});
  if (!options_.config.empty()) {
    const auto file = options_.work_dir / "nats-server.conf";
    std::ofstream(file, std::ios::binary | std::ios::trunc) << options_.config;
    args.insert(args.end(), {"-c", file.string()});
  }
  const auto prefix = options_.work_dir / ("nats-server-" + std::to_string(++generation_));
  ProcessOptions process_options;
  process_options.own_process_group = true;  // a ^C in the terminal reaches the parent only
  process_options.dies_with_parent = true;
  process_ = std::make_unique<ChildProcess>(options_.executable, args, process_options, prefix);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (process_->running() && process_->err().find("Server is ready") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  if (process_->running() && process_->err().find("Server is ready") != std::string::npos) return true;
  process_.reset();  // killed by pid if still running
  return false;
}

void NatsServer::stop() {
  if (!process_) return;
  process_->stop(5s);
  process_.reset();
}

void NatsServer::kill() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait();
  process_.reset();
}

void NatsServer::start() {
  if (process_) return;
  // The port was ours a moment ago; retry a little if the OS still holds it.
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (try_start()) return;
    std::this_thread::sleep_for(250ms);
  }
  throw std::runtime_error("nats-server did not start again on port " + std::to_string(port_));
}

}  // namespace customeriq::test
