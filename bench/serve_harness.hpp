// For (c), (d) and their latency phases: a fresh database, a nats-server of
// its own, `customeriq serve` on it (its RSS sampled), and a publisher,
// ready once serve has taken an event.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "bench.hpp"
#include "children.hpp"
#include "nats_bench.hpp"

namespace customeriq::bench {

class ServeHarness {
 public:
  // key names the database, the logs and the nats-server folder; tuned runs
  // serve with the tuned pipeline; send_asap as for Publisher. Throws when
  // serve exits or does not take a probe event within 30 s.
  ServeHarness(const Bench& bench, const std::string& key, bool jetstream, bool tuned, bool send_asap);

  const std::filesystem::path& db() const { return db_; }
  ChildProcess& serve() { return *serve_; }
  Publisher& publisher() { return *publisher_; }
  const RssSampler& rss() const { return *rss_; }

  // SIGTERM to serve (60 s to commit what it has, then SIGKILL), then
  // nats-server; serve's exit.
  ProcessExit finish();

 private:
  ProcessOptions serve_options(const Bench& bench, const std::string& key, bool jetstream) const;
  void wait_until_ready(const Bench& bench);

  std::filesystem::path db_;
  std::unique_ptr<NatsServer> server_;
  std::unique_ptr<ChildProcess> serve_;
  std::unique_ptr<RssSampler> rss_;
  std::unique_ptr<Publisher> publisher_;
};

// customer.events.<customer_id>.<event_type> of a generated event line.
std::string subject_of(const std::string& line);

}  // namespace customeriq::bench
