#include "serve_harness.hpp"

#include <stdexcept>
#include <thread>

#include "db_facts.hpp"
#include "event_generator.hpp"
#include "latency.hpp"

namespace customeriq::bench {

ServeHarness::ServeHarness(const Bench& bench, const std::string& key, bool jetstream, bool tuned, bool send_asap)
    : db_(bench.db(key)) {
  remove_db(db_);
  server_ = std::make_unique<NatsServer>(NatsServer::Options{
      .jetstream = jetstream, .executable = bench.nats_server_path, .work_dir = bench.run_dir() / ("nats-" + key)});
  auto args = bench.pipeline_args(tuned);
  args.push_back("serve");
  serve_ = std::make_unique<ChildProcess>(bench.options.customeriq, args, serve_options(bench, key, jetstream));
  rss_ = std::make_unique<RssSampler>(serve_->pid());
  publisher_ = std::make_unique<Publisher>(server_->url(), jetstream, send_asap);
  wait_until_ready(bench);
}

ProcessOptions ServeHarness::serve_options(const Bench& bench, const std::string& key, bool jetstream) const {
  ProcessOptions options = bench.customeriq_options(key + "-serve");
  options.env = {{"NATS_ENABLED", "true"},
                 {"NATS_SERVERS", server_->url()},
                 {"CUSTOMERIQ_DB", db_.string()},
                 {"NATS_SUBJECTS", "customer.events.>"},
                 // These modes measure NATS intake: no HTTP API beside it.
                 {"CUSTOMERIQ_HTTP_ADDR", ""}};
  if (jetstream) {
    options.env["NATS_JETSTREAM"] = "true";
    options.env["NATS_STREAM"] = "BENCH_EVENTS";
    options.env["NATS_DURABLE"] = "bench";
  }
  for (const char* name : {"NATS_QUEUE_GROUP", "NATS_USER", "NATS_PASSWORD", "NATS_TOKEN", "NATS_CREDS",
                           "NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY", "NATS_PENDING_MSGS",
                           "NATS_PENDING_BYTES", "NATS_STREAM_CREATE", "NATS_MAX_DELIVER",
                           "NATS_ACK_WAIT_SECONDS", "NATS_FETCH_BATCH", "NATS_MAX_ACK_PENDING"})
    options.unset_env.push_back(name);
  return options;
}

// Publishes an invalid event (no customer identity) until serve has
// dead-lettered one: serve is subscribed, plugins loaded, DB migrated.
void ServeHarness::wait_until_ready(const Bench& bench) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    if (!serve_->running())
      throw std::runtime_error("customeriq serve exited (" + serve_->exit()->describe() + "), see its log in " +
                               bench.run_dir().string());
    publisher_->publish_core("customer.events.bench_probe.probe", R"({"event_type":"bench_probe"})");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    try {
      if (std::filesystem::exists(db_) && scalar(db_, "SELECT count(*) FROM dead_letters") > 0) return;
    } catch (const std::exception&) {
    }
  }
  throw std::runtime_error("customeriq serve did not take a probe event within 30 s");
}

ProcessExit ServeHarness::finish() {
  const ProcessExit exit = serve_->stop(std::chrono::seconds(60));
  rss_->stop();
  server_->stop();
  return exit;
}

std::string subject_of(const std::string& line) {
  return "customer.events." + std::string(json_string_field(line, "customer_id")) + "." +
         std::string(json_string_field(line, "event_type"));
}

}  // namespace customeriq::bench
