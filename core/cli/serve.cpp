// customeriq serve: NATS (core or JetStream) -> the pipeline -> the store,
// until SIGTERM/SIGINT.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include "config/setting_docs.hpp"
#include "sources/nats/nats_config.hpp"
#include "sources/nats/jetstream_source.hpp"
#include "sources/nats/nats_source.hpp"
#include "common.hpp"

namespace customeriq::cli {
namespace {

constexpr int kExitStoreError = 3;  // the database cannot be written

// SIGINT and SIGTERM are blocked in every thread (the mask is set before
// any thread starts and threads inherit it); this one thread takes them
// with sigwait, so nothing runs in signal-handler context. The first asks
// the service to stop; the second exits at once.
void watch_signals(std::shared_ptr<StopFlag> stop, sigset_t signals) {
  std::thread([stop = std::move(stop), signals] {
    for (int received = 0;;) {
      int signal_number = 0;
      if (sigwait(&signals, &signal_number) != 0) continue;
      if (++received == 1) {
        spdlog::info("[NATS] {} received: shutting down (send it again to exit at once)",
                     sigabbrev_np(signal_number) ? std::string("SIG") + sigabbrev_np(signal_number)
                                                 : std::string("signal"));
        stop->request(0);
      } else {
        spdlog::warn("[NATS] Second signal: exiting at once; events not committed yet are not "
                     "acknowledged (JetStream redelivers them; core NATS loses them)");
        spdlog::default_logger()->flush();
        _exit(128 + signal_number);
      }
    }
  }).detach();
}

void log_summary(const NatsConfig& config, const NatsStats& stats, const WriterCounters& counters) {
  spdlog::info("[NATS] Stopped: {} received, {} applied, {} duplicates, {} dead-lettered, {} dropped, "
               "{} not committed; {} disconnects, {} reconnects",
               stats.received, counters.applied.load(), counters.duplicates.load(),
               counters.dead_lettered.load(), stats.dropped, counters.failed.load(),
               stats.disconnects, stats.reconnects);
  if (config.jetstream) {
    spdlog::info("[NATS] JetStream: {} acked, {} terminated (dead-lettered), {} nak'ed for "
                 "redelivery, {} ack errors, {} skipped (outside NATS_SUBJECTS)",
                 stats.acked, stats.terminated, stats.nak, stats.ack_errors, stats.skipped);
  }
}

int run_serve(Args& args, const GlobalOptions& global) {
  args.positionals(0);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  auto stop = std::make_shared<StopFlag>();
  watch_signals(stop, signals);

  Settings settings;
  PipelineConfig pipeline_config;
  NatsConfig config;
  try {
    settings = settings_for(global);
    pipeline_config = load_pipeline_config(settings.pipeline);
    config = read_nats_config(pipeline_config.source, pipeline_config.source_location);
  } catch (const ConfigError& error) {
    std::cerr << "customeriq: " << error.what() << "\n";
    return 2;
  }
  if (!config.enabled) {
    std::cerr << "customeriq: the NATS service is disabled: set NATS_ENABLED=true (environment or "
                 ".env), or `enabled: true` in the pipeline's source: block, to run it\n";
    return 2;
  }
  for (const auto& name : unknown_nats_variables())
    spdlog::warn("[NATS] {} is set but customeriq does not read it", name);

  spdlog::info("[NATS] Starting NATS subscriber service...");
  std::unique_ptr<Pipeline> pipeline;
  try {
    pipeline = std::make_unique<Pipeline>(std::move(pipeline_config), settings.summarize_threshold);
  } catch (const ConfigError& error) {
    std::cerr << "customeriq: " << error.what() << "\n";
    return 2;
  }
  // JetStream forgets an event once it is acked: its commit must survive power loss.
  StoreWriter store(settings.database,
                    WriterOptions{settings.auto_create_customers, /*durable_commits=*/config.jetstream});
  WriterThreadOptions options = writer_options(pipeline->config());
  // Core NATS does not redeliver: a batch the store cannot take yet (busy,
  // disk full) is retried for about five minutes (50 attempts, 6.4 s apart
  // at most) before it is counted as not committed. JetStream naks it after
  // the default few attempts and redelivers it later.
  if (!config.jetstream) options.transient_retries = 50;
  WriterThread writer(*pipeline, store, options);
  writer.set_fatal_handler([stop](const std::string&) { stop->request(kExitStoreError); });
  spdlog::info("[NATS] Mode: {}; database {}",
               config.jetstream ? "JetStream (durable consumer " + config.durable + " on stream " +
                                      config.stream + ", ack after commit)"
                                : "core NATS (queue group " + config.queue_group +
                                      "; events published while no instance runs are not kept)",
               settings.database.string());

  int exit_code = 0;
  std::unique_ptr<EventSource> source;
  try {
    if (config.jetstream) source = std::make_unique<JetStreamSource>(config, writer, *stop);
    else source = std::make_unique<NatsSource>(config, writer, *stop);
    if (source->start()) {
      spdlog::info("[NATS] Service started successfully");
      source->run();
    }
  } catch (const NatsError& error) {
    spdlog::error("[NATS] {}", error.what());
    exit_code = 1;
  } catch (const ConfigError& error) {
    spdlog::error("[NATS] {}", error.what());
    exit_code = 2;
  }

  // Stop taking messages, commit everything taken, acknowledge it, close.
  // No batch is retried from here on: the first signal always ends the
  // process; what cannot commit now is nak'ed (JetStream) or counted.
  writer.begin_shutdown();
  if (source) source->stop_taking();
  writer.flush();
  if (source) source->close();
  writer.stop();
  log_summary(config, source ? source->stats() : NatsStats{}, writer.counters());
  if (auto fatal = writer.fatal_error()) {
    spdlog::error("[NATS] Stopped because the database cannot be written: {}", *fatal);
    return kExitStoreError;
  }
  if (!config.jetstream && writer.counters().failed) exit_code = std::max(exit_code, 1);
  return std::max(exit_code, stop->exit_code());
}

}  // namespace

const Command kServeCommand{
    "serve", "Take events from NATS (core or JetStream) into the profiles until stopped",
    std::string(R"(usage: customeriq serve

Subscribes to NATS and runs every event through the pipeline into the
database, until SIGTERM or SIGINT: then it stops taking messages, commits
and acknowledges everything received, prints a summary and exits 0. A
second signal exits at once. A lost connection is never fatal: it
reconnects forever with backoff; with no server reachable at start it
keeps trying. Passwords and tokens are never logged (URLs show ***).

Core NATS (the default): a queue subscription per subject. Events
published while no instance runs, or dropped as a slow consumer, are LOST.
JetStream (NATS_JETSTREAM=true): a durable pull consumer on a stream; each
event is acked only after the transaction holding it has committed, so
nothing is lost across crashes and restarts.

)") + settings_help_text() + R"(
exit codes: 0 stopped by SIGTERM or SIGINT, everything received committed,
1 the server rejected the credentials (or another NATS error retrying
cannot fix, such as JetStream not enabled), or core NATS events that could
not be committed, 2 configuration error (or NATS_ENABLED not true), 3 the
database cannot be opened or used, 128 + N after a second signal N

See docs/NATS.md.
)",
    run_serve};

}  // namespace customeriq::cli
