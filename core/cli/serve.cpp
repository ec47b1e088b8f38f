// customeriq serve: NATS (core or JetStream) -> the pipeline -> the store,
// until SIGTERM/SIGINT.
#include <pthread.h>
#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include "config/setting_docs.hpp"
#include "http/api.hpp"
#include "http/http_config.hpp"
#include "http/http_service.hpp"
#include "metrics/metrics.hpp"
#include "sources/nats/nats_config.hpp"
#include "sources/nats/jetstream_source.hpp"
#include "sources/nats/nats_source.hpp"
#include "sources/receive_spool.hpp"
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

void log_summary(const NatsConfig& config, NatsStats stats, const WriterCounters& counters,
                 const ReceiveSpool* spool) {
  const SpoolStats spooled = spool ? spool->stats() : SpoolStats{};
  stats.dropped += spooled.dropped;
  spdlog::info("[NATS] Stopped: {} received, {} applied, {} duplicates, {} dead-lettered, {} suppressed, "
               "{} dropped, {} not committed; {} disconnects, {} reconnects",
               stats.received, counters.applied.load(), counters.duplicates.load(),
               counters.dead_lettered.load(), counters.suppressed.load(), stats.dropped, counters.failed.load(),
               stats.disconnects, stats.reconnects);
  if (config.jetstream) {
    spdlog::info("[NATS] JetStream: {} acked, {} terminated (dead-lettered), {} nak'ed for "
                 "redelivery, {} ack errors, {} skipped (outside NATS_SUBJECTS)",
                 stats.acked, stats.terminated, stats.nak, stats.ack_errors, stats.skipped);
  }
  if (spooled.pending > 0)
    spdlog::warn("[Spool] {} events received are not applied yet: they stay in the spool and are applied at "
                 "the next start",
                 spooled.pending);
}

// Writer, NATS and process metrics; the HTTP routes add their own.
void register_metrics(MetricsRegistry& metrics, const WriterThread& writer, const EventSource* source,
                      const std::atomic<bool>& source_started) {
  const WriterCounters& counters = writer.counters();
  metrics.gauge("customeriq_build_info", "The running version", [] { return 1.0; },
                {{"version", CUSTOMERIQ_VERSION}});
  metrics.counter_from("customeriq_events_received_total", "Events taken from every source (NATS and HTTP)",
                       [&counters] {
                         return static_cast<double>(counters.applied + counters.duplicates + counters.dead_lettered +
                                                    counters.suppressed + counters.failed);
                       });
  metrics.counter_from("customeriq_events_applied_total", "Events whose effects were committed",
                       [&counters] { return static_cast<double>(counters.applied.load()); });
  metrics.counter_from("customeriq_events_duplicate_total", "Events already applied before (idempotency key)",
                       [&counters] { return static_cast<double>(counters.duplicates.load()); });
  metrics.counter_from("customeriq_dead_letters_total", "Events committed to dead_letters",
                       [&counters] { return static_cast<double>(counters.dead_lettered.load()); });
  metrics.counter_from("customeriq_events_suppressed_total",
                       "Events for an erased customer, not stored (see customeriq unsuppress)",
                       [&counters] { return static_cast<double>(counters.suppressed.load()); });
  metrics.counter_from("customeriq_events_not_committed_total",
                       "Events the store could not take after every retry",
                       [&counters] { return static_cast<double>(counters.failed.load()); });
  metrics.counter_from("customeriq_commits_total", "Transactions committed by the writer",
                       [&counters] { return static_cast<double>(counters.batches.load()); });
  metrics.gauge("customeriq_writer_queue_depth", "Events waiting for the writer",
                [&writer] { return static_cast<double>(writer.queued()); });
  metrics.gauge("customeriq_nats_connected", "1 while connected to a NATS server (0 when NATS is disabled)",
                [source] { return source && source->connected() ? 1.0 : 0.0; });
  auto nats = [source, &source_started](std::uint64_t NatsStats::*field) {
    return [source, &source_started, field] {
      return source && source_started ? static_cast<double>(source->stats().*field) : 0.0;
    };
  };
  metrics.counter_from("customeriq_nats_messages_received_total", "Messages taken from NATS", nats(&NatsStats::received));
  metrics.counter_from("customeriq_nats_dropped_total", "Core NATS messages dropped by the client (slow consumer)",
                       nats(&NatsStats::dropped));
  metrics.counter_from("customeriq_nats_disconnects_total", "Connections to NATS lost", nats(&NatsStats::disconnects));
  metrics.counter_from("customeriq_nats_reconnects_total", "Connections to NATS made again", nats(&NatsStats::reconnects));
  metrics.counter_from("customeriq_jetstream_acked_total", "JetStream messages acknowledged", nats(&NatsStats::acked));
  metrics.counter_from("customeriq_jetstream_nak_total", "JetStream messages handed back for redelivery",
                       nats(&NatsStats::nak));
}

// Each HTTP client holds a file descriptor: take what the hard limit
// allows (often 1024 soft, far more hard), so a thousand streams fit.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// A batch that has been queued this long without a commit means the writer is stuck.
constexpr auto kWriterStuckAfter = std::chrono::seconds(30);

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
  HttpConfig http_config;
  try {
    settings = settings_for(global);
    pipeline_config = load_pipeline_config(settings.pipeline);
    config = read_nats_config(pipeline_config.source, pipeline_config.source_location);
    http_config = read_http_config();
  } catch (const ConfigError& error) {
    std::cerr << "customeriq: " << error.what() << "\n";
    return 2;
  }
  if (!config.enabled && !http_config.enabled) {
    std::cerr << "customeriq: nothing to serve: NATS is disabled and CUSTOMERIQ_HTTP_ADDR is empty; set "
                 "NATS_ENABLED=true (environment or .env, or `enabled: true` in the pipeline's source: "
                 "block), or an HTTP address\n";
    return 2;
  }
  if (config.enabled) {
    for (const auto& name : unknown_nats_variables())
      spdlog::warn("[NATS] {} is set but customeriq does not read it", name);
    spdlog::info("[NATS] Starting NATS subscriber service...");
  }

  std::unique_ptr<Pipeline> pipeline;
  try {
    pipeline = std::make_unique<Pipeline>(std::move(pipeline_config), settings.summarize_threshold);
  } catch (const ConfigError& error) {
    std::cerr << "customeriq: " << error.what() << "\n";
    return 2;
  }
  // JetStream forgets an event once it is acked: its commit must survive power loss.
  WriterOptions store_options = cli::store_options(settings, pipeline->config());
  store_options.durable_commits = config.enabled && config.jetstream;
  store_options.change_retention = http_config.change_retention;
  StoreWriter store(settings.database, store_options);
  WriterThreadOptions options = writer_options(pipeline->config());
  // Core NATS does not redeliver: a batch the store cannot take yet (busy,
  // disk full) is retried for about five minutes (50 attempts, 6.4 s apart
  // at most) before it is counted as not committed. JetStream naks it after
  // the default few attempts and redelivers it later.
  if (!config.jetstream) options.transient_retries = 50;
  // Core NATS drops what is not taken in time, so taking comes first: under
  // a burst the cores go to receiving into the spool, and the writer (like
  // the spool's feed) catches up after it.
  if (config.enabled && !config.jetstream) {
    options.nice = 10;
    // One pipeline thread unless the YAML asks for more: the writer is what
    // limits the rate, and a second one competes with receiving during a
    // burst (customeriq_bench --mix seed, 100k burst: 7,846 and 32,025 of
    // 100,000 dropped in two of three runs with two, none in three with one,
    // same commit rate).
    if (options.pipeline_threads == 0) options.pipeline_threads = 1;
  }
  WriterThread writer(*pipeline, store, options);
  writer.set_fatal_handler([stop](const std::string&) { stop->request(kExitStoreError); });
  if (config.enabled) {
    spdlog::info("[NATS] Mode: {}; database {}",
                 config.jetstream ? "JetStream (durable consumer " + config.durable + " on stream " +
                                        config.stream + ", ack after commit)"
                                  : "core NATS (queue group " + config.queue_group +
                                        "; received events are spooled on disk until applied; events "
                                        "published while no instance runs are not kept)",
                 settings.database.string());
  }

  // Core NATS never redelivers: what it hands us goes to disk first, so a
  // burst waits there instead of being dropped, and a crash loses nothing
  // spooled. JetStream keeps the events itself until they are acked.
  std::unique_ptr<ReceiveSpool> spool;
  if (config.enabled && !config.jetstream) {
    try {
      spool = open_receive_spool(settings.database, config.spool_max_bytes, writer);
    } catch (const StoreError& error) {
      std::cerr << "customeriq: " << error.what() << "\n";
      writer.stop();
      return kExitStoreError;
    }
  }
  std::unique_ptr<EventSource> source;
  if (config.enabled) {
    if (config.jetstream) source = std::make_unique<JetStreamSource>(config, writer, *stop);
    else source = std::make_unique<NatsSource>(config, *spool, *stop);
  }
  std::atomic<bool> source_started{false};
  MetricsRegistry metrics;
  register_metrics(metrics, writer, source.get(), source_started);
  if (spool) {
    const ReceiveSpool* spooled = spool.get();
    metrics.gauge("customeriq_spool_pending_events", "Events received into the spool and not applied yet",
                  [spooled] { return static_cast<double>(spooled->stats().pending); });
    metrics.gauge("customeriq_spool_pending_bytes", "Bytes of those events (bounded by NATS_SPOOL_MAX_BYTES)",
                  [spooled] { return static_cast<double>(spooled->stats().pending_bytes); });
    metrics.counter_from("customeriq_spool_dropped_total", "Events dropped because the spool was full",
                         [spooled] { return static_cast<double>(spooled->stats().dropped); });
  }
  Histogram& commit_seconds = metrics.histogram(
      "customeriq_commit_duration_seconds", "Time to apply and commit one writer transaction",
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
  std::atomic<std::int64_t> last_commit{std::chrono::steady_clock::now().time_since_epoch().count()};

  std::unique_ptr<http::HttpService> http_service;
  if (http_config.enabled) {
    raise_open_file_limit();
    http::HttpServiceOptions http_options{http_config, settings.database, {}, pipeline->config().max_event_bytes};
    const EventSource* nats = source.get();
    http_options.readiness = [&writer, &last_commit, nats, &http_service] {
      http::Readiness readiness;
      readiness.ready = true;
      auto check = [&](const char* name, std::string state, bool ok) {
        readiness.checks[name] = std::move(state);
        readiness.ready &= ok;
      };
      if (auto problem = http_service ? http_service->database_problem() : std::nullopt) check("database", *problem, false);
      else check("database", "ok", true);
      const auto since_commit = std::chrono::steady_clock::now() -
                                std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(last_commit.load()));
      if (auto fatal = writer.fatal_error()) check("writer", "cannot write the database: " + *fatal, false);
      else if (writer.queued() > 0 && since_commit > kWriterStuckAfter)
        check("writer", "stuck: " + std::to_string(writer.queued()) + " events queued and no commit for " +
                            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(since_commit).count()) + " s",
              false);
      else check("writer", "ok", true);
      if (!nats) check("nats", "disabled", true);
      else if (nats->connected()) check("nats", "ok", true);
      else check("nats", "not connected to a NATS server (reconnecting)", false);
      return readiness;
    };
    try {
      http_service = std::make_unique<http::HttpService>(std::move(http_options), writer, metrics);
      http_service->start();
    } catch (const std::exception& error) {
      spdlog::error("[HTTP] {}", error.what());
      writer.stop();
      return 2;
    }
    spdlog::info("[HTTP] Listening on {}{}", http_service->url(),
                 http_config.token ? " (bearer token required)" : "");
  }
  writer.set_commit_observer([&](const std::vector<WriteItem>&, const std::vector<Outcome>&) {
    commit_seconds.observe(writer.last_commit_seconds());
    last_commit = std::chrono::steady_clock::now().time_since_epoch().count();
    if (http_service) http_service->notify_commit();
  });

  int exit_code = 0;
  try {
    if (source) {
      if (source->start()) {
        source_started = true;
        spdlog::info("[NATS] Service started successfully");
        source->run();
      }
    } else {
      while (!stop->wait_for(std::chrono::milliseconds(1000))) {
      }
    }
  } catch (const NatsError& error) {
    spdlog::error("[NATS] {}", error.what());
    exit_code = 1;
  } catch (const ConfigError& error) {
    spdlog::error("[NATS] {}", error.what());
    exit_code = 2;
  }

  // Stop taking messages and requests, commit everything taken, answer and
  // acknowledge it, close. No batch is retried from here on: the first
  // signal always ends the process; what cannot commit now is nak'ed
  // (JetStream) or counted.
  writer.begin_shutdown();
  if (http_service) http_service->stop();
  if (source) source->stop_taking();
  if (spool) spool->flush();
  writer.flush();
  if (source) source->close();
  if (spool) spool->stop();
  writer.stop();
  if (source) log_summary(config, source_started ? source->stats() : NatsStats{}, writer.counters(), spool.get());
  else
    spdlog::info("[HTTP] Stopped: {} applied, {} duplicates, {} dead-lettered, {} not committed",
                 writer.counters().applied.load(), writer.counters().duplicates.load(),
                 writer.counters().dead_lettered.load(), writer.counters().failed.load());
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

Core NATS (the default): a queue subscription per subject; what arrives
goes first to a spool on disk (the database's path + -spool, bounded by
NATS_SPOOL_MAX_BYTES), applied from there in order; what is spooled
survives a crash and is applied at the next start. Events published while
no instance runs are LOST.
JetStream (NATS_JETSTREAM=true): a durable pull consumer on a stream; each
event is acked only after the transaction holding it has committed, so
nothing is lost across crashes and restarts.

Beside it, the HTTP API on CUSTOMERIQ_HTTP_ADDR (127.0.0.1:8080): profiles,
search, context, event intake, the change stream, health, metrics, the
support console at / and the MCP server at POST /mcp (docs/HTTP.md,
docs/MCP.md). With NATS_ENABLED=false it serves HTTP alone.

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
