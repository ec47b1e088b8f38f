// customeriq: the command-line entry point.
#include <cstdio>
#include <iostream>
#include <span>

#include <SQLiteCpp/Exception.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "../environment.hpp"
#include "../plugin_loader.hpp"
#include "../store_error.hpp"
#include "commands.hpp"

namespace customeriq::cli {
namespace {

constexpr Command kCommands[] = {
    {"ingest", "Run JSON-lines events from a file (or - for stdin) through the pipeline",
     R"(usage: customeriq ingest FILE|- [--quiet]

Reads one JSON event per line and runs each through the whole pipeline:
decode, the handler plugin for its event_type, and the store (many events
per transaction). Events already applied (same idempotency key) change
nothing; invalid ones are kept in dead_letters with the reason.
Prints a summary: applied, duplicates, dead-lettered.

  --quiet    no progress lines on stderr

exit codes: 0 ok (dead-lettered events included), 1 FILE cannot be read,
or some events could not be committed (store errors: run the same command
again, applied events are skipped), 2 usage or configuration error, 3 the
database cannot be opened or used
)",
     run_ingest},
    {"profile", "Print a customer's profile as JSON",
     R"(usage: customeriq profile CUSTOMER_ID [--timeline-limit N] [--raw]

Prints {customer, timeline (newest first), timeline_total, purchases,
work_orders, knowledge} as JSON.

  --timeline-limit N   at most N timeline events (default 100)
  --raw                include each timeline event's raw_event_data

exit codes: 0 ok, 1 no customer with that id, 2 usage or configuration
error, 3 the database cannot be opened or used
)",
     run_profile},
    {"search", "Full-text search over events, knowledge and customers",
     R"(usage: customeriq search QUERY [--customer ID] [--limit N] [--fts]

Searches event titles and descriptions, knowledge and customer
name/email/company. Prints JSON hits, best (lowest bm25 rank) first:
[{kind, id, customer_id, title, snippet, rank}]. Words are ANDed; a
trailing * matches a prefix (blue*).

  --customer ID   only this customer's rows
  --limit N       at most N hits (default 20)
  --fts           QUERY is FTS5 query syntax (OR, NEAR, "phrases", column:term)

exit codes: 0 ok (also when nothing matches), 2 usage or configuration
error (a malformed --fts query too), 3 the database cannot be opened or used
)",
     run_search},
    {"validate", "Check a pipeline file and load its plugins, without running",
     R"(usage: customeriq validate [PIPELINE]

Parses the pipeline YAML (default: --pipeline, CUSTOMERIQ_PIPELINE or the
bundled default.yaml), loads every plugin, checks their config blocks and
the event-type routes. Prints "ok: FILE" with the number of handlers and
the summarizer, or stops at the first error and prints it with file and
line.

exit codes: 0 ok (the pipeline is valid), 2 it is not, or a usage error
)",
     run_validate},
    {"plugins", "List the plugins a pipeline loads, with versions and config keys",
     R"(usage: customeriq plugins [--json]

Loads the pipeline (see --pipeline) and lists each plugin: id, kind,
version, file, the event types it handles and the config keys it accepts
(type, bounds of numbers, default, description).

  --json   print JSON instead of text

exit codes: 0 ok, 2 the pipeline or one of its plugins is invalid, or a
usage error
)",
     run_plugins},
    {"dead-letters", "List dead-lettered events, or replay them after a fix",
     R"(usage: customeriq dead-letters [--limit N] [--id N] [--replay]

Lists events that could not be applied, newest first, as JSON lines:
id, received_at, subject, reason, event_type, idempotency_key, attempts,
last_attempt_at, headers, raw.

  --limit N   at most N rows (default 100; with --replay, all)
  --id N      only dead letter N
  --replay    run the dead letters (oldest first, up to --limit) through
              the pipeline again instead of listing them, and print a
              summary; those that now apply are removed, the others keep
              their row with the new reason and attempts + 1

exit codes: 0 ok, 1 --replay --id N and there is no dead letter N, or some
replayed events could not be committed, 2 usage or configuration error, 3
the database cannot be opened or used
)",
     run_dead_letters},
    {"reindex", "Rebuild the full-text search index from the tables",
     R"(usage: customeriq reindex

CustomerIQ indexes the rows it writes as it commits them. Rows inserted,
changed or deleted by hand (sqlite3) are not in the search index until
this command rebuilds it. Prints the database and how long it took.

exit codes: 0 ok, 2 usage or configuration error, 3 the database cannot be
opened or used
)",
     run_reindex},
    {"serve", "Take events from NATS (core or JetStream) into the profiles until stopped",
     R"(usage: customeriq serve

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

Variables (environment, then .env; for NATS_ENABLED to NATS_MAX_ACK_PENDING
also the pipeline's `source:` block, with the names lower-cased without
NATS_, e.g. `queue_group:`):
  NATS_ENABLED               must be true to run (default false)
  NATS_SERVERS               comma-separated URLs, all used for failover
                             (default nats://localhost:4222)
  NATS_SUBJECTS              comma-separated subjects, wildcards allowed
                             (default customer.events.>)
  NATS_QUEUE_GROUP           core mode queue group (default customeriq-service)
  NATS_USER, NATS_PASSWORD   user/password authentication
  NATS_TOKEN                 token authentication
  NATS_CREDS                 credentials file (JWT + NKey seed)
  NATS_TLS_CA                CA certificates file (turns TLS on)
  NATS_TLS_CERT, NATS_TLS_KEY  client certificate and key (TLS)
  NATS_PENDING_MSGS          core: messages buffered per subscription before
                             drops (default 16384)
  NATS_PENDING_BYTES         core: bytes buffered likewise (default 16777216)
  NATS_JETSTREAM             true: durable JetStream consumer (default false)
  NATS_STREAM                stream name (default CUSTOMER_EVENTS)
  NATS_STREAM_CREATE         create the stream over NATS_SUBJECTS when
                             missing (default true)
  NATS_DURABLE               durable consumer name, shared by instances so
                             they split the work (default customeriq)
  NATS_MAX_DELIVER           deliveries of an event before the server gives
                             up on it (default 10)
  NATS_ACK_WAIT_SECONDS      redelivery after this long without an ack
                             (default 30)
  NATS_FETCH_BATCH           messages per fetch (default 256)
  NATS_MAX_ACK_PENDING       unacknowledged messages the consumer allows
                             (default 20000)
  NATS_SUMMARIZE_THRESHOLD   summarizer threshold override (default: the YAML's)
  NATS_AUTO_CREATE_CUSTOMER  create unknown customers (default true)
  CUSTOMERIQ_DB, CUSTOMERIQ_PIPELINE, CUSTOMERIQ_LOG_LEVEL (debug logs each event)

exit codes: 0 stopped by SIGTERM or SIGINT, everything received committed,
1 the server rejected the credentials (or another NATS error retrying
cannot fix, such as JetStream not enabled), or core NATS events that could
not be committed, 2 configuration error (or NATS_ENABLED not true), 3 the
database cannot be opened or used, 128 + N after a second signal N

See docs/NATS.md.
)",
     run_serve},
    {"publish", "Publish sample events (or many, for load) to NATS",
     R"(usage: customeriq publish (--event TYPE | --all) [--customer ID] [--servers URL]
                          [--subject-prefix P] [--jetstream] [--count N [--rate R]]

Publishes the sample event of TYPE (purchase, support_ticket, repair,
contact, note, profile_update, work_order, observation: every type the
default pipeline routes), or of every type with --all, for the customer,
on P.{customer_id}.{event_type}, with a Nats-Msg-Id header.
Sample ids are stable (customer + type): publishing them twice is
harmless. For a customer other than cust_001 the sample's record ids get
the customer as a suffix (ord_12345-cust_002), so customers do not share
a purchase or work order. Prints what was published.

  --event TYPE          one event type
  --all                 every event type
  --customer ID         customer id (default cust_001)
  --servers URL         comma-separated servers (default NATS_SERVERS, else
                        nats://localhost:4222); NATS_USER/NATS_PASSWORD,
                        NATS_TOKEN, NATS_CREDS and NATS_TLS_* apply
  --subject-prefix P    subject prefix (default customer.events)
  --jetstream           publish through JetStream: each publish is
                        acknowledged by the stream (which must exist:
                        `customeriq serve` with NATS_JETSTREAM=true creates it)
  --count N             load: N events (cycling through the types), each
                        with unique ids (Nats-Msg-Id, purchase_id, ...)
  --rate R              with --count: R events per second (default 0: as
                        fast as possible)

exit codes: 0 ok, 1 no server reachable, the credentials rejected, or a
publish failed, 2 usage or configuration error (a malformed --servers too)
)",
     run_publish},
};

void print_help() {
  std::cout << R"(customeriq — customer profiles from customer events

usage: customeriq [--db PATH] [--pipeline FILE] [--log-level LEVEL] COMMAND [ARGS]

commands:
)";
  for (const auto& command : kCommands) std::printf("  %-14s %s\n", command.name, command.summary);
  std::cout << R"(
options:
  --db PATH          SQLite database (CUSTOMERIQ_DB; default ~/.customeriq/customeriq.db)
  --pipeline FILE    pipeline YAML (CUSTOMERIQ_PIPELINE; default: the bundled default.yaml)
  --log-level LEVEL  trace, debug, info, warn, error, off (CUSTOMERIQ_LOG_LEVEL; default info)
  -h, --help         this help; `customeriq COMMAND --help` for a command's
                     options and exit codes
  --version          print the version

A .env file in the working directory is read first; variables already in
the environment win over it. An empty --db, --pipeline, CUSTOMERIQ_DB or
CUSTOMERIQ_PIPELINE is an error.

exit codes:
  0  ok
  1  not found (no customer with that id, no dead letter with that id), or
     another failure: an input file that cannot be read, events that could
     not be committed, NATS unreachable or refusing the credentials
  2  usage or configuration error: options, variables, .env, the pipeline
     and its plugins
  3  the database cannot be opened or used: not a database, missing (for
     reading), corrupt, of a newer schema, read-only, an I/O error
)";
}

void configure_logging(const std::optional<std::string>& flag) {
  auto logger = spdlog::stderr_color_mt("customeriq");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  spdlog::set_default_logger(logger);
  std::string level = flag ? *flag : env("CUSTOMERIQ_LOG_LEVEL").value_or("info");
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off")
    throw UsageError("unknown log level '" + level + "' (trace, debug, info, warn, error, off)");
  spdlog::set_level(parsed);
}

// The exit codes are listed in print_help().
int fail(const std::exception& error, int exit_code) {
  std::cerr << "customeriq: " << error.what() << "\n";
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> tokens(argv + 1, argv + argc);
  try {
    load_dotenv(".env");
    // Global options come before the command name.
    GlobalOptions global;
    std::optional<std::string> log_level;
    std::size_t i = 0;
    for (; i < tokens.size() && tokens[i].starts_with("-"); ++i) {
      const std::string& token = tokens[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= tokens.size()) throw UsageError(token + " needs a value");
        return tokens[++i];
      };
      if (token == "-h" || token == "--help") {
        print_help();
        return 0;
      } else if (token == "--version") {
        std::cout << "customeriq " << CUSTOMERIQ_VERSION << "\n";
        return 0;
      } else if (token == "--db") {
        global.database = value();
      } else if (token == "--pipeline") {
        global.pipeline = value();
      } else if (token == "--log-level") {
        log_level = value();
      } else {
        throw UsageError("unknown option " + token + " (options go before the command; see --help)");
      }
    }
    configure_logging(log_level);
    if (i == tokens.size()) {
      print_help();
      return 2;
    }
    const std::string name = tokens[i];
    for (const auto& command : kCommands) {
      if (name != command.name) continue;
      Args args(std::vector<std::string>(tokens.begin() + static_cast<long>(i) + 1, tokens.end()));
      if (args.flag("--help") || args.flag("-h")) {
        std::cout << command.usage;
        return 0;
      }
      // Global options are also accepted after the command name.
      if (auto db = args.option("--db")) global.database = *db;
      if (auto pipeline = args.option("--pipeline")) global.pipeline = *pipeline;
      return command.run(args, global);
    }
    throw UsageError("unknown command '" + name + "' (see customeriq --help)");
  } catch (const UsageError& error) {
    return fail(error, 2);
  } catch (const ConfigError& error) {
    return fail(error, 2);
  } catch (const PluginError& error) {
    return fail(error, 2);
  } catch (const StoreError& error) {
    return fail(error, 3);
  } catch (const SQLite::Exception& error) {
    return fail(error, 3);
  } catch (const std::exception& error) {
    return fail(error, 1);
  }
}

}  // namespace customeriq::cli

int main(int argc, char** argv) { return customeriq::cli::main(argc, argv); }
