#include "config/setting_table.hpp"

#include <climits>
#include <stdexcept>

namespace customeriq {
namespace {

using enum SettingKind;

// Grouped by `applies`, in the order of the enum: the help and the docs
// list them in this order, under one heading per group.
constexpr Setting kSettings[] = {
    {.variable = "NATS_ENABLED", .source_key = "enabled", .kind = boolean, .default_value = "false",
     .applies = Applies::serve,
     .description = "Must be `true` for `serve` to run (else it exits 2 saying so)."},
    {.variable = "NATS_SUBJECTS", .source_key = "subjects", .kind = list, .default_value = "customer.events.>",
     .applies = Applies::serve,
     .description = "Comma-separated subjects (in YAML also a list), wildcards `*` and `>` allowed."},
    {.variable = "NATS_JETSTREAM", .source_key = "jetstream", .kind = boolean, .default_value = "false",
     .applies = Applies::serve,
     .description = "`true`: JetStream mode, a durable pull consumer that acks each event once it is "
                    "committed; `false`: core NATS subscriptions."},

    {.variable = "NATS_SERVERS", .source_key = "servers", .kind = list, .default_value = "nats://localhost:4222",
     .secrecy = Secrecy::server_urls, .applies = Applies::serve_and_publish,
     .description = "Comma-separated server URLs (`nats://` or `tls://`, optionally `user:password@`); "
                    "all are used for failover."},
    {.variable = "NATS_USER", .source_key = "user", .applies = Applies::serve_and_publish,
     .description = "User/password authentication, with `NATS_PASSWORD` (both or neither)."},
    {.variable = "NATS_PASSWORD", .source_key = "password", .secrecy = Secrecy::secret,
     .applies = Applies::serve_and_publish, .description = "The password of `NATS_USER`."},
    {.variable = "NATS_TOKEN", .source_key = "token", .secrecy = Secrecy::secret,
     .applies = Applies::serve_and_publish, .description = "Token authentication."},
    {.variable = "NATS_CREDS", .source_key = "creds", .kind = file, .applies = Applies::serve_and_publish,
     .description = "Credentials file (user JWT and NKey seed). Only one of user/password, token, "
                    "creds and NKey."},
    {.variable = "NATS_NKEY_SEED", .source_key = "nkey_seed", .kind = file, .applies = Applies::serve_and_publish,
     .description = "A user NKey seed file (the `SU…` line), for a server whose configuration lists its "
                    "public key (`nkey: U…`); the public key is derived from the seed."},
    {.variable = "NATS_TLS_CA", .source_key = "tls_ca", .kind = file, .applies = Applies::serve_and_publish,
     .description = "CA certificates (PEM); turns TLS on."},
    {.variable = "NATS_TLS_CERT", .source_key = "tls_cert", .kind = file, .applies = Applies::serve_and_publish,
     .description = "Client certificate (PEM), with `NATS_TLS_KEY` (both or neither); turns TLS on."},
    {.variable = "NATS_TLS_KEY", .source_key = "tls_key", .kind = file, .applies = Applies::serve_and_publish,
     .description = "The key of `NATS_TLS_CERT` (PEM)."},

    {.variable = "NATS_QUEUE_GROUP", .source_key = "queue_group", .default_value = "customeriq-service",
     .applies = Applies::serve_core,
     .description = "The queue group; instances in one group share the events."},
    {.variable = "NATS_PENDING_MSGS", .source_key = "pending_msgs", .kind = integer, .default_value = "65536",
     .min = 1, .max = INT_MAX, .applies = Applies::serve_core,
     .description = "Messages nats.c buffers per subscription before it drops them (a slow consumer)."},
    {.variable = "NATS_PENDING_BYTES", .source_key = "pending_bytes", .kind = integer,
     .default_value = "16777216", .min = 1024, .max = INT_MAX, .applies = Applies::serve_core,
     .description = "Bytes nats.c buffers per subscription before it drops messages; bounds memory."},
    {.variable = "NATS_SPOOL_MAX_BYTES", .source_key = "spool_max_bytes", .kind = integer,
     .default_value = "1073741824", .min = 4096, .max = 1LL << 50, .applies = Applies::serve_core,
     .description = "Bytes of received events the spool on disk (the database's path + `-spool`) keeps "
                    "until they are applied; beyond it events are dropped, counted and logged."},

    {.variable = "NATS_STREAM", .source_key = "stream", .default_value = "CUSTOMER_EVENTS",
     .applies = Applies::serve_jetstream, .description = "The stream to consume."},
    {.variable = "NATS_STREAM_CREATE", .source_key = "stream_create", .kind = boolean, .default_value = "true",
     .applies = Applies::serve_jetstream,
     .description = "Create the stream over `NATS_SUBJECTS` (file storage, limits retention) when it does "
                    "not exist; with `false` a missing stream is reported and retried."},
    {.variable = "NATS_DURABLE", .source_key = "durable", .default_value = "customeriq",
     .applies = Applies::serve_jetstream,
     .description = "The durable pull consumer; instances with the same name share it and split the work."},
    {.variable = "NATS_MAX_DELIVER", .source_key = "max_deliver", .kind = integer, .default_value = "10",
     .min = 1, .max = 1000000, .applies = Applies::serve_jetstream,
     .description = "Deliveries of one event before the server gives up on it (it stays in the stream; "
                    "an error is logged)."},
    {.variable = "NATS_ACK_WAIT_SECONDS", .source_key = "ack_wait_seconds", .kind = integer,
     .default_value = "30", .min = 1, .max = 86400, .applies = Applies::serve_jetstream,
     .description = "An event not acknowledged within this many seconds is redelivered."},
    {.variable = "NATS_FETCH_BATCH", .source_key = "fetch_batch", .kind = integer, .default_value = "256",
     .min = 1, .max = 10000, .applies = Applies::serve_jetstream, .description = "Messages per fetch."},
    {.variable = "NATS_MAX_ACK_PENDING", .source_key = "max_ack_pending", .kind = integer,
     .default_value = "20000", .min = 1, .max = 10000000, .applies = Applies::serve_jetstream,
     .description = "Unacknowledged messages the consumer allows (all instances together)."},

    {.variable = "CUSTOMERIQ_HTTP_ADDR", .default_value = "127.0.0.1:8080", .applies = Applies::serve_http,
     .description = "`HOST:PORT` the HTTP API listens on (an IP address; `[::1]:8080` for IPv6); port `0` "
                    "takes a free port, which the log line `[HTTP] Listening on` names. Empty: no HTTP "
                    "server. An address that is not loopback needs `CUSTOMERIQ_HTTP_TOKEN`."},
    {.variable = "CUSTOMERIQ_HTTP_TOKEN", .secrecy = Secrecy::secret, .applies = Applies::serve_http,
     .description = "The bearer token every route but `/livez` and `/readyz` requires "
                    "(`Authorization: Bearer TOKEN`). Unset: no authentication, allowed on a loopback "
                    "address only."},
    {.variable = "CUSTOMERIQ_HTTP_READ_THREADS", .kind = integer, .default_value = "2", .min = 1, .max = 64,
     .applies = Applies::serve_http,
     .description = "Threads, each with its own read-only database connection, that answer HTTP reads."},
    {.variable = "CUSTOMERIQ_HTTP_READ_TIMEOUT_MS", .kind = integer, .default_value = "10000", .min = 1,
     .max = 3600000, .applies = Applies::serve_http,
     .description = "A database read for an HTTP request (a profile, a search, a page, an MCP tool) that "
                    "runs longer than this many milliseconds is stopped and answered `503`, so one costly "
                    "query cannot hold a read thread."},
    {.variable = "CUSTOMERIQ_HTTP_WRITE_TIMEOUT_SECONDS", .kind = integer, .default_value = "10", .min = 1,
     .max = 3600, .applies = Applies::serve_http,
     .description = "A response or stream write that does not finish within this many seconds drops the "
                    "client: a stream reader too slow to keep up is cut off (and resumes with "
                    "`Last-Event-ID`) instead of growing memory."},
    {.variable = "CUSTOMERIQ_SSE_HEARTBEAT_SECONDS", .kind = integer, .default_value = "15", .min = 1,
     .max = 3600, .applies = Applies::serve_http,
     .description = "An idle `/v1/stream` gets a `: ping` comment this often."},
    {.variable = "CUSTOMERIQ_CHANGE_RETENTION_SECONDS", .kind = integer, .default_value = "604800", .min = 1,
     .max = 315360000, .applies = Applies::serve_http,
     .description = "How long the change log keeps a change (604800: 7 days); a stream resuming from an "
                    "older one gets `event: reset`."},

    {.variable = "NATS_AUTO_CREATE_CUSTOMER", .kind = boolean, .default_value = "true",
     .applies = Applies::writing_commands,
     .description = "Create the customer when an event names it by an email no customer has; with "
                    "`false` such an event is dead-lettered. A `customer_id` always creates its customer."},

    {.variable = "NATS_SUMMARIZE_THRESHOLD", .kind = integer,
     .computed_default = "the pipeline's `summarizer.threshold`, else 500", .min = 1, .max = 1 << 20,
     .applies = Applies::pipeline_commands,
     .description = "Descriptions longer than this many characters are summarized; overrides the "
                    "pipeline's threshold."},
    {.variable = "CUSTOMERIQ_PIPELINE", .kind = path, .computed_default = "the bundled `default.yaml`",
     .applies = Applies::pipeline_commands,
     .description = "The pipeline file; `--pipeline` overrides. Empty is an error."},
    {.variable = "CUSTOMERIQ_PLUGIN_DIR", .applies = Applies::pipeline_commands,
     .description = "An extra plugin folder, searched before the bundled plugins by a pipeline whose "
                    "`plugin_path` names it (the default one does)."},

    {.variable = "CUSTOMERIQ_DB", .kind = path, .computed_default = "`~/.customeriq/customeriq.db`",
     .applies = Applies::every_command,
     .description = "The SQLite database (its folders are created); `--db` overrides. Empty is an error."},
    {.variable = "CUSTOMERIQ_LOG_LEVEL", .default_value = "info", .applies = Applies::every_command,
     .description = "`trace`, `debug` (logs each event), `info`, `warn`, `error` or `off`; "
                    "`--log-level` overrides."},

    {.variable = "NATS_MONITOR_PORT", .kind = integer, .default_value = "8222", .min = 1, .max = 65535,
     .applies = Applies::serve_local_script,
     .description = "The HTTP monitoring port of the nats-server the script starts (on 127.0.0.1); when "
                    "it is taken the script says so and stops."},
};

}  // namespace

std::span<const Setting> setting_table() { return kSettings; }

const Setting* find_setting(std::string_view variable) {
  for (const auto& setting : kSettings)
    if (variable == setting.variable) return &setting;
  return nullptr;
}

const Setting& setting(std::string_view variable) {
  if (const Setting* found = find_setting(variable)) return *found;
  throw std::logic_error("the setting table has no " + std::string(variable));
}

const char* to_string(Applies applies) {
  switch (applies) {
    case Applies::serve: return "serve";
    case Applies::serve_and_publish: return "serve and publish";
    case Applies::serve_core: return "serve, core NATS";
    case Applies::serve_jetstream: return "serve, JetStream";
    case Applies::serve_http: return "serve, HTTP API";
    case Applies::writing_commands: return "ingest, dead-letters --replay, serve";
    case Applies::pipeline_commands: return "commands that load the pipeline";
    case Applies::every_command: return "every command";
    case Applies::serve_local_script: return "scripts/serve-local.sh";
  }
  return "?";
}

std::string without_backticks(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != '`') out += c;
  return out;
}

}  // namespace customeriq
