// customeriq ingest, and dead-letters (listing and --replay).
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <spdlog/spdlog.h>

#include "store/store_reader.hpp"
#include "store/store_schema.hpp"
#include "common.hpp"

namespace customeriq::cli {
namespace {

void print_summary(const char* verb, std::uint64_t total, const WriterCounters& counters,
                   double seconds) {
  std::cout << verb << " " << total << " events: " << counters.applied << " applied, "
            << counters.duplicates << " duplicates, " << counters.dead_lettered
            << " dead-lettered";
  if (counters.suppressed) std::cout << ", " << counters.suppressed << " suppressed";
  if (counters.failed) std::cout << ", " << counters.failed << " NOT committed";
  std::cout << " (" << std::fixed << std::setprecision(2) << seconds << " s";
  if (seconds > 0) std::cout << ", " << static_cast<long long>(total / seconds) << " events/s";
  std::cout << ")\n";
}

int run_ingest(Args& args, const GlobalOptions& global) {
  const bool quiet = args.flag("--quiet");
  const auto files = args.positionals(1);
  if (files.empty()) throw UsageError("ingest needs a FILE, or - for stdin");
  const std::string& name = files[0];

  std::ifstream file_stream;
  std::istream* in = &std::cin;
  if (name != "-") {
    file_stream.open(name, std::ios::binary);
    if (!file_stream) throw std::runtime_error("cannot open " + name);
    in = &file_stream;
  }

  const Settings settings = settings_for(global);
  auto pipeline = load_pipeline(settings);
  StoreWriter store(settings.database, store_options(settings, pipeline->config()));
  WriterThread writer(*pipeline, store, writer_options(pipeline->config()));

  const auto started = std::chrono::steady_clock::now();
  auto last_progress = started;
  const std::string subject_prefix = "file:" + (name == "-" ? std::string("stdin") : name) + ":";
  std::string line;
  std::uint64_t line_number = 0, events = 0;
  while (std::getline(*in, line)) {
    // The database cannot be written: reading on would only count losses.
    if ((line_number & 0xFF) == 0 && writer.fatal_error()) break;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    RawMessage message;
    message.bytes = std::move(line);
    message.subject = subject_prefix + std::to_string(line_number);
    writer.submit(std::move(message));
    ++events;
    if (!quiet && (events & 0x3FF) == 0) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_progress >= std::chrono::seconds(2)) {
        const double seconds = std::chrono::duration<double>(now - started).count();
        spdlog::info("[Ingest] {} events read, {} committed, {:.0f} events/s", events,
                     writer.counters().applied + writer.counters().duplicates +
                         writer.counters().dead_lettered,
                     events / seconds);
        last_progress = now;
      }
    }
  }
  if (in->bad()) throw std::runtime_error("read error on " + name);
  writer.stop();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  print_summary("ingested", events, writer.counters(), seconds);
  if (auto fatal = writer.fatal_error()) {
    std::cerr << "customeriq: stopped at line " << line_number << ": " << *fatal
              << "; after fixing it, run the same ingest again: applied events are skipped\n";
    return 3;
  }
  if (writer.counters().failed) {
    std::cerr << "customeriq: " << writer.counters().failed
              << " events were not committed (see the errors above); run the same ingest again: "
                 "applied events are skipped\n";
    return 1;
  }
  return 0;
}

}  // namespace

const Command kIngestCommand{
    "ingest", "Run JSON-lines events from a file (or - for stdin) through the pipeline",
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
    run_ingest};

namespace {

int run_dead_letters(Args& args, const GlobalOptions& global) {
  const bool replay = args.flag("--replay");
  const auto limit = args.integer_option("--limit", 1, 1LL << 40).value_or(replay ? 1LL << 40 : 100);
  const auto id = args.integer_option("--id", 1, INT64_MAX);
  args.positionals(0);
  const Settings settings = settings_for(global);

  if (!replay) {
    StoreReader reader(settings.database);
    for (const auto& row : reader.dead_letters(static_cast<std::size_t>(limit), id))
      std::cout << row.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
    return 0;
  }

  auto pipeline = load_pipeline(settings);
  StoreWriter store(settings.database, store_options(settings, pipeline->config()));
  // Read the letters first, on the writer's own connection, then replay.
  std::vector<RawMessage> messages;
  {
    SQLite::Statement select(store.database(),
                             "SELECT id, subject, headers, raw FROM dead_letters "
                             "WHERE (?1 IS NULL OR id = ?1) AND reason <> 'suppressed' ORDER BY id LIMIT ?2");
    if (id) select.bind(1, static_cast<int64_t>(*id));
    else select.bind(1);
    select.bind(2, static_cast<int64_t>(limit));
    while (select.executeStep()) {
      RawMessage message;
      message.replay_of = select.getColumn(0).getInt64();
      message.subject = select.getColumn(1).getString();
      const Json headers = Json::parse(select.getColumn(2).getString(), nullptr, false);
      if (headers.is_array()) {
        for (const auto& pair : headers)
          if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string())
            message.headers.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
      }
      const SQLite::Column raw = select.getColumn(3);
      message.bytes.assign(static_cast<const char*>(raw.getBlob()), static_cast<std::size_t>(raw.getBytes()));
      messages.push_back(std::move(message));
    }
  }
  if (id && messages.empty()) {
    std::cerr << "customeriq: no dead letter with id " << *id << "\n";
    return 1;
  }
  const auto started = std::chrono::steady_clock::now();
  WriterThread writer(*pipeline, store, writer_options(pipeline->config()));
  const std::uint64_t total = messages.size();
  for (auto& message : messages) writer.submit(std::move(message));
  writer.stop();
  print_summary("replayed", total, writer.counters(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return writer.counters().failed ? 1 : 0;
}

}  // namespace

const Command kDeadLettersCommand{
    "dead-letters", "List dead-lettered events, or replay them after a fix",
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
    run_dead_letters};

namespace {

int run_reindex(Args& args, const GlobalOptions& global) {
  args.positionals(0);
  const Settings settings = settings_for(global);
  auto db = open_store_for_writing(settings.database);
  const auto started = std::chrono::steady_clock::now();
  rebuild_search_index(*db);
  std::cout << "rebuilt the search index of " << settings.database.string() << " in " << std::fixed
            << std::setprecision(2)
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
            << " s\n";
  return 0;
}

}  // namespace

const Command kReindexCommand{
    "reindex", "Rebuild the full-text search index from the tables",
    R"(usage: customeriq reindex

CustomerIQ indexes the rows it writes as it commits them. Rows inserted,
changed or deleted by hand (sqlite3) are not in the search index until
this command rebuilds it. Prints the database and how long it took.

exit codes: 0 ok, 2 usage or configuration error, 3 the database cannot be
opened or used
)",
    run_reindex};

}  // namespace customeriq::cli
