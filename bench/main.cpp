// customeriq_bench: throughput, latency, memory and size of every way events
// reach the store, against the same-run SQLite ceiling, plus read latency on a
// 1M-event database. See docs/BENCHMARKS.md.
#include <signal.h>
#include <sqlite3.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "event_generator.hpp"
#include "hash.hpp"
#include "inprocess.hpp"
#include "latency.hpp"
#include "nats_bench.hpp"
#include "proc.hpp"
#include "store/store_reader.hpp"
#include "config/paths.hpp"
#include "store/store_schema.hpp"

#ifndef CUSTOMERIQ_BINARY
#error "CMake defines CUSTOMERIQ_BINARY"
#endif
#ifndef BENCH_BUILD_TYPE
#define BENCH_BUILD_TYPE "unknown"
#endif

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace customeriq::bench {
namespace {

constexpr const char* kUsage = R"(usage: customeriq_bench [options]

Measures, in one run and on the same N generated events:
  (a)  the ceiling: the pipeline's rows written with bare prepared statements
  (a') the project's StoreWriter alone on the same batches (no threads)
  (a'') the same with synchronous=FULL, as JetStream commits (ack after fsync)
  (b)  `customeriq ingest FILE` (the real binary, a child process)
  (c)  `customeriq serve`, core NATS, publisher at full speed
  (d)  `customeriq serve`, JetStream, publisher at full speed
and for (b), (c), (d) the publish->commit latency at a fixed offered rate,
then `profile` and `search` latency on a 1,000,000-event database.
Rows marked [tuned config] run the binary with the bundled default.yaml
changed to writer.batch_max_delay_ms: 0 and writer.queue_capacity: 2000.

options:
  --events N           events per mode (default 200000)
  --customers N        customers (default 10000)
  --seed N             generator seed (default 20240101)
  --work-dir DIR       databases, event files, logs (default /tmp/customeriq-bench)
  --json FILE          also write every figure as JSON
  --latency-rate R     offered events/s in the latency phases (default 5000)
  --latency-seconds S  length of each latency phase (default 10)
  --read-events N      events in the read database (default 1000000)
  --read-customers N   customers in it (default 100000)
  --skip LIST          comma-separated: a,a2,a3,b,c,d,blat,inproc,clat,dlat,tuned,reads
  --experiments        also run the ceiling's schema experiments
  --smoke              tiny run for the tests: small read DB, checks that
                       (a), (a') and (b) wrote exactly the same rows; exit 1 if not
  --customeriq PATH    the binary to measure (default: the one built with the bench)
  --nats-server PATH   default: nats-server on PATH
)";

struct Options {
  std::uint64_t events = 200'000;
  std::uint32_t customers = 10'000;
  std::uint64_t seed = 20240101;
  fs::path work_dir = "/tmp/customeriq-bench";
  std::optional<fs::path> json;
  double latency_rate = 5000;
  double latency_seconds = 10;
  std::uint64_t read_events = 1'000'000;
  std::uint32_t read_customers = 100'000;
  std::vector<std::string> skip;
  bool experiments = false;
  bool smoke = false;
  fs::path customeriq = CUSTOMERIQ_BINARY;
  std::string nats_server = "nats-server";
  bool skipped(const std::string& mode) const { return std::find(skip.begin(), skip.end(), mode) != skip.end(); }
};

struct Row {
  std::string key, label;
  bool ran = false;
  std::string skipped;
  std::uint64_t events = 0;
  double seconds = 0;
  double events_per_second = 0;
  std::optional<Percentiles> latency;
  std::string latency_how;
  double peak_rss_mib = -1;
  double steady_rss_mib = -1;
  double bytes_per_event = -1;
  std::vector<std::string> notes;
  Json extra = Json::object();
};

std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string self_exe() { return fs::canonical("/proc/self/exe").string(); }

std::string read_first_line(const fs::path& file, const std::string& prefix) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return line;
  return {};
}

std::string last_lines(const fs::path& file, std::size_t count) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(line);
  std::string out;
  for (std::size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i) out += lines[i] + "\n";
  return out;
}

std::uint64_t count_matching_lines(const fs::path& file, const std::string& needle) {
  std::ifstream in(file);
  std::string line;
  std::uint64_t n = 0;
  while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  return n;
}

// ---------------------------------------------------------------- database

void remove_db(const fs::path& db) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(db.string() + suffix);
}

// Checkpoints the WAL into the database (TRUNCATE), then main + wal bytes.
std::uint64_t checkpointed_size(const fs::path& db) {
  {
    SQLite::Database connection(db.string(), SQLite::OPEN_READWRITE);
    connection.setBusyTimeout(10000);
    connection.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  std::uint64_t bytes = fs::file_size(db);
  const fs::path wal = db.string() + "-wal";
  if (fs::exists(wal)) bytes += fs::file_size(wal);
  return bytes;
}

const char* const kTables[] = {"customers", "customer_events", "purchases", "work_orders",
                               "customer_knowledge", "processed_events", "dead_letters"};

// Row counts per table and a few content fingerprints, to check that two
// databases hold the same rows.
Json table_facts(const fs::path& db_path) {
  SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
  db.setBusyTimeout(10000);
  Json facts = Json::object();
  for (const char* table : kTables)
    facts["rows"][table] = db.execAndGet(std::string("SELECT count(*) FROM ") + table).getInt64();
  auto value = [&](const char* sql) { return db.execAndGet(sql).getDouble(); };
  // The full-text indexes: one docsize row per indexed row, and a few terms.
  for (const char* fts : {"customer_events_fts", "customer_knowledge_fts", "customers_fts"})
    facts["rows"][std::string(fts) + " (indexed)"] =
        db.execAndGet(std::string("SELECT count(*) FROM ") + fts + "_docsize").getInt64();
  facts["fingerprint"] = {
      {"customers.lifetime_value_cents", std::llround(value("SELECT total(lifetime_value) FROM customers") * 100)},
      {"customers.name_email_chars", value("SELECT total(length(name) + length(email)) FROM customers")},
      {"customer_events.description_chars", value("SELECT total(length(description)) FROM customer_events")},
      {"customer_events.title_chars", value("SELECT total(length(title)) FROM customer_events")},
      {"customer_events.metadata_chars", value("SELECT total(length(metadata)) FROM customer_events")},
      {"customer_events.raw_chars", value("SELECT total(length(raw_event_data)) FROM customer_events")},
      {"work_orders.completed", value("SELECT count(*) FROM work_orders WHERE completed_date IS NOT NULL")},
      {"work_orders.text_chars", value("SELECT total(length(issue_description) + coalesce(length(resolution), 0)) FROM work_orders")},
      {"customer_knowledge.content_chars", value("SELECT total(length(content)) FROM customer_knowledge")},
      {"customer_events_fts MATCH battery", value("SELECT count(*) FROM customer_events_fts WHERE customer_events_fts MATCH 'battery'")},
      {"customer_events_fts MATCH refund AND screen", value("SELECT count(*) FROM customer_events_fts WHERE customer_events_fts MATCH 'refund screen'")},
      {"customer_knowledge_fts MATCH battery", value("SELECT count(*) FROM customer_knowledge_fts WHERE customer_knowledge_fts MATCH 'battery'")},
      {"customers_fts MATCH garcia", value("SELECT count(*) FROM customers_fts WHERE customers_fts MATCH 'garcia'")},
  };
  return facts;
}

// Bytes per table/index (dbstat), when SQLite has it.
Json space_by_object(const fs::path& db_path) {
  Json out = Json::object();
  try {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC");
    while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
  } catch (const std::exception& error) {
    out["error"] = error.what();
  }
  return out;
}

std::int64_t scalar(const fs::path& db_path, const char* sql) {
  SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
  db.setBusyTimeout(10000);
  return db.execAndGet(sql).getInt64();
}

// ---------------------------------------------------------------- helpers

struct Bench {
  Options options;
  fs::path events_file;
  std::vector<Row> rows;
  Json facts_by_mode = Json::object();
  Json report = Json::object();
  bool serve_available = false;
  std::string nats_server_path;
  std::vector<std::string> failures;  // smoke checks

  std::optional<fs::path> tuned_pipeline;  // default.yaml with the writer settings recommended below

  fs::path run_dir() const { return options.work_dir / "run"; }

  // The bundled default.yaml with writer.batch_max_delay_ms 0 and
  // writer.queue_capacity 2000: what configuration alone changes.
  void make_tuned_pipeline() {
    const fs::path source = default_pipeline_file();
    std::ifstream in(source);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string yaml = buffer.str();
    auto replace = [&](const std::string& from, const std::string& to) {
      const auto at = yaml.find(from);
      if (at == std::string::npos) return false;
      yaml.replace(at, from.size(), to);
      return true;
    };
    if (!replace("batch_max_delay_ms: 50", "batch_max_delay_ms: 0") ||
        !replace("queue_capacity: 10000", "queue_capacity: 2000"))
      return;  // default.yaml changed: no tuned rows
    const fs::path target = run_dir() / "tuned.yaml";
    std::ofstream(target) << yaml;
    tuned_pipeline = target;
  }

  std::vector<std::string> pipeline_args(bool tuned) const {
    if (tuned && tuned_pipeline) return {"--pipeline", tuned_pipeline->string()};
    return {};
  }
  static std::string tuned_suffix(bool tuned) { return tuned ? " [tuned config]" : ""; }
  fs::path db(const std::string& key) const { return run_dir() / (key + ".db"); }
  fs::path log(const std::string& name) const { return run_dir() / name; }

  std::size_t latency_events() const {
    const auto wanted = static_cast<std::uint64_t>(options.latency_rate * options.latency_seconds);
    return static_cast<std::size_t>(std::max<std::uint64_t>(1, std::min(wanted, options.events)));
  }

  ChildSpec customeriq_spec(std::vector<std::string> args, const std::string& log_name) const {
    ChildSpec spec;
    spec.argv = {options.customeriq.string()};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.cwd = options.work_dir;  // no stray .env
    spec.stdout_file = log(log_name + ".out");
    spec.stderr_file = log(log_name + ".log");
    spec.env_unset = {"CUSTOMERIQ_PIPELINE", "CUSTOMERIQ_PLUGIN_DIR", "NATS_SUMMARIZE_THRESHOLD",
                      "NATS_AUTO_CREATE_CUSTOMER", "CUSTOMERIQ_LOG_LEVEL"};
    return spec;
  }

  // The child's exit, and its peak RSS (VmHWM) in peak_mib.
  ChildExit run_internal_child(const InternalArgs& args, const std::string& log_name, double* peak_mib = nullptr) const {
    ChildSpec spec;
    spec.argv = {self_exe()};
    const auto extra = internal_argv(args);
    spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
    spec.cwd = options.work_dir;
    spec.stdout_file = log(log_name + ".out");
    spec.stderr_file = log(log_name + ".log");
    Child child(spec);
    child.start();
    child.start_rss_sampling(std::chrono::milliseconds(50));
    ChildExit exit = child.wait(std::chrono::hours(2));
    if (peak_mib) *peak_mib = child.peak_rss_mib();
    if (!exit.exited_ok())
      throw std::runtime_error(args.mode + " child failed (" + exit.describe() + "): " +
                               last_lines(spec.stderr_file, 5));
    return exit;
  }

  std::vector<std::string> first_lines(std::size_t count) const {
    std::vector<std::string> lines;
    std::ifstream in(events_file, std::ios::binary);
    std::string line;
    while (lines.size() < count && std::getline(in, line)) lines.push_back(line);
    return lines;
  }

  void finish_db_row(Row& row, const fs::path& db_path) {
    const auto bytes = checkpointed_size(db_path);
    row.bytes_per_event = row.events ? static_cast<double>(bytes) / static_cast<double>(row.events) : 0;
    row.extra["db_bytes"] = bytes;
    facts_by_mode[row.key] = table_facts(db_path);
  }

  static void rss_from_samples(Row& row, const std::vector<double>& samples) {
    if (samples.empty()) return;
    // Steady state: the median of the second half of the run.
    std::vector<double> tail(samples.begin() + static_cast<long>(samples.size() / 2), samples.end());
    std::sort(tail.begin(), tail.end());
    row.steady_rss_mib = tail[tail.size() / 2];
    row.extra["rss_samples_mib"] = {{"count", samples.size()},
                                    {"max", *std::max_element(samples.begin(), samples.end())},
                                    {"first", samples.front()},
                                    {"last", samples.back()}};
  }

  // ------------------------------------------------------------ (a), (a')
  void run_batch_mode(const std::string& key, const std::string& mode, const std::string& label,
                      const std::string& variant = "") {
    Row row;
    row.key = key;
    row.label = label;
    const fs::path db_path = db(key);
    remove_db(db_path);
    InternalArgs args;
    args.mode = mode;
    args.input = events_file;
    args.db = db_path;
    args.result = log(key + ".result.json");
    args.variant = variant;
    double peak = -1;
    run_internal_child(args, key, &peak);
    const Json result = Json::parse(std::ifstream(args.result));
    row.ran = true;
    row.events = result["events"].get<std::uint64_t>();
    row.seconds = result["timed_seconds"].get<double>();
    row.events_per_second = result["events_per_second"].get<double>();
    row.peak_rss_mib = peak;
    row.latency_how = "per-transaction time (1,000 events), not publish->commit";
    Percentiles batch;
    batch.n = result["batch_ms"]["n"];
    batch.p50 = result["batch_ms"]["p50"];
    batch.p99 = result["batch_ms"]["p99"];
    batch.max = result["batch_ms"]["max"];
    row.latency = batch;
    row.extra["child"] = result;
    row.notes.push_back("timed: BEGIN..COMMIT only; untimed pipeline pre-pass " +
                        fmt("%.1f", result["prepass_seconds"].get<double>()) + " s (" +
                        fmt("%.0f", 1e6 * result["prepass_seconds"].get<double>() / std::max<double>(1, static_cast<double>(row.events))) +
                        " us/event)");
    if (result["not_applied"].get<std::uint64_t>())
      row.notes.push_back(std::to_string(result["not_applied"].get<std::uint64_t>()) + " events not applied");
    finish_db_row(row, db_path);
    if (key == "a" && !options.smoke) report["space_by_object_a"] = space_by_object(db_path);
    rows.push_back(std::move(row));
  }

  // ------------------------------------------------------------ (b)
  void run_ingest(bool tuned = false) {
    Row row;
    row.key = tuned ? "b_tuned" : "b";
    row.label = "(b) customeriq ingest FILE" + tuned_suffix(tuned);
    const fs::path db_path = db(row.key);
    remove_db(db_path);
    auto args = pipeline_args(tuned);
    args.insert(args.end(), {"--db", db_path.string(), "ingest", "--quiet", events_file.string()});
    Child child(customeriq_spec(args, row.key + "-ingest"));
    child.start();
    child.start_rss_sampling();
    const ChildExit exit = child.wait(std::chrono::hours(1));
    if (!exit.exited_ok())
      throw std::runtime_error("customeriq ingest failed (" + exit.describe() + "): " + last_lines(log(row.key + "-ingest.log"), 5));
    row.ran = true;
    row.events = options.events;
    row.seconds = exit.wall_seconds;
    row.events_per_second = static_cast<double>(row.events) / exit.wall_seconds;
    row.peak_rss_mib = child.peak_rss_mib();
    rss_from_samples(row, child.rss_samples());
    row.extra["cpu_seconds"] = exit.cpu_seconds();
    row.extra["summary"] = read_first_line(log(row.key + "-ingest.out"), "ingested");
    row.notes.push_back("wall time of the process (start-up included); CPU " + fmt("%.1f", exit.cpu_seconds()) +
                        " s on " + fmt("%.1f", exit.wall_seconds) + " s wall");
    finish_db_row(row, db_path);
    rows.push_back(std::move(row));
  }

  // ------------------------------------------------------------ latency phases
  // Feeds the first K events at the offered rate through `send`, watches the
  // DB with the poller, and fills the row's latency.
  void paced_latency(Row& row, const fs::path& db_path, const std::vector<std::string>& lines,
                     const std::function<void(std::size_t)>& send, const std::function<void()>& after_send,
                     CommitPoller& poller) {
    const auto sent = send_paced(lines.size(), options.latency_rate, send);
    const double offered_seconds = static_cast<double>(sent.back() - sent.front()) / 1e9;
    after_send();
    // Until every event is seen, or nothing new for 5 s.
    std::size_t last_seen = 0;
    auto last_change = Clock::now();
    while (poller.seen() < lines.size() && Clock::now() - last_change < std::chrono::seconds(5)) {
      if (poller.seen() != last_seen) {
        last_seen = poller.seen();
        last_change = Clock::now();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    poller.stop();
    const LatencyResult latency = latency_from(sent, poller);
    row.latency = latency.upper;
    row.latency_how = "poller upper bound, resolution " + fmt("%.2f", latency.resolution_ms) + " ms";
    row.events = lines.size();
    row.events_per_second = offered_seconds > 0 ? static_cast<double>(lines.size() - 1) / offered_seconds : 0;
    row.extra["latency_upper_ms"] = {{"p50", latency.upper.p50}, {"p90", latency.upper.p90}, {"p99", latency.upper.p99}, {"max", latency.upper.max}};
    row.extra["latency_lower_ms"] = {{"p50", latency.lower.p50}, {"p90", latency.lower.p90}, {"p99", latency.lower.p99}, {"max", latency.lower.max}};
    row.extra["not_seen"] = latency.missing;
    row.extra["poll_max_interval_ms"] = poller.max_interval_ms();
    row.extra["offered_rate_achieved"] = row.events_per_second;
    if (latency.missing) row.notes.push_back(std::to_string(latency.missing) + " events never committed");
    (void)db_path;
  }

  void run_ingest_latency(bool tuned = false) {
    Row row;
    row.key = tuned ? "blat_tuned" : "blat";
    row.label = "(b) ingest - (stdin), " + fmt("%.0f", options.latency_rate) + " ev/s offered" + tuned_suffix(tuned);
    const fs::path db_path = db(row.key);
    remove_db(db_path);
    const auto lines = first_lines(latency_events());
    auto args = pipeline_args(tuned);
    args.insert(args.end(), {"--db", db_path.string(), "ingest", "--quiet", "-"});
    ChildSpec spec = customeriq_spec(args, row.key + "-ingest");
    spec.stdin_pipe = true;
    Child child(spec);
    child.start();
    child.start_rss_sampling();
    CommitPoller poller(db_path, lines.size());
    poller.start();
    if (!poller.wait_ready(std::chrono::seconds(20))) throw std::runtime_error("ingest - did not create its database");
    std::string buffer;
    paced_latency(
        row, db_path, lines,
        [&](std::size_t i) {
          buffer = lines[i];
          buffer += '\n';
          const char* p = buffer.data();
          std::size_t left = buffer.size();
          while (left) {
            const ssize_t n = ::write(child.stdin_fd(), p, left);
            if (n < 0) {
              if (errno == EINTR) continue;
              throw std::runtime_error("write to ingest stdin failed");
            }
            p += n;
            left -= static_cast<std::size_t>(n);
          }
        },
        [&] { child.close_stdin(); }, poller);
    const ChildExit exit = child.wait(std::chrono::minutes(5));
    if (!exit.exited_ok()) row.notes.push_back("ingest ended with " + exit.describe());
    row.ran = true;
    row.peak_rss_mib = child.peak_rss_mib();
    rss_from_samples(row, child.rss_samples());
    rows.push_back(std::move(row));
  }

  void run_inproc_latency(int delay_ms) {
    Row row;
    row.key = delay_ms < 0 ? "inproc" : "inproc_d" + std::to_string(delay_ms);
    row.label = "(b') in-process WriterThread, " + fmt("%.0f", options.latency_rate) + " ev/s" +
                (delay_ms < 0 ? std::string(", default config") : ", batch_max_delay_ms=" + std::to_string(delay_ms));
    const fs::path db_path = db(row.key);
    remove_db(db_path);
    InternalArgs args;
    args.mode = "inproc";
    args.input = events_file;
    args.db = db_path;
    args.result = log(row.key + ".result.json");
    args.limit = latency_events();
    args.rate = options.latency_rate;
    args.delay_ms = delay_ms;
    double peak = -1;
    run_internal_child(args, row.key, &peak);
    const Json result = Json::parse(std::ifstream(args.result));
    row.ran = true;
    row.events = result["events"];
    row.events_per_second = options.latency_rate;
    Percentiles exact;
    exact.n = result["exact_ms"]["n"];
    exact.p50 = result["exact_ms"]["p50"];
    exact.p99 = result["exact_ms"]["p99"];
    exact.max = result["exact_ms"]["max"];
    row.latency = exact;
    row.latency_how = "exact (CommitObserver: received -> after COMMIT)";
    row.peak_rss_mib = peak;
    row.notes.push_back("RSS includes the bench's copy of the events it feeds");
    row.notes.push_back("DB poller on the same run: p50 " + fmt("%.1f", result["polled_upper_ms"]["p50"].get<double>()) +
                        " / p99 " + fmt("%.1f", result["polled_upper_ms"]["p99"].get<double>()) + " ms (upper), " +
                        fmt("%.1f", result["polled_lower_ms"]["p50"].get<double>()) + " / " +
                        fmt("%.1f", result["polled_lower_ms"]["p99"].get<double>()) + " ms (lower)");
    row.notes.push_back("batch size p50 " + fmt("%.0f", result["batch_size"]["p50"].get<double>()));
    row.extra["child"] = result;
    rows.push_back(std::move(row));
  }

  // ------------------------------------------------------------ (c), (d)
  ChildSpec serve_spec(const fs::path& db_path, const std::string& url, bool jetstream, const std::string& log_name,
                       bool tuned = false) const {
    auto args = pipeline_args(tuned);
    args.push_back("serve");
    ChildSpec spec = customeriq_spec(args, log_name);
    spec.env_set = {{"NATS_ENABLED", "true"},
                    {"NATS_SERVERS", url},
                    {"CUSTOMERIQ_DB", db_path.string()},
                    {"NATS_SUBJECTS", "customer.events.>"}};
    if (jetstream) {
      spec.env_set["NATS_JETSTREAM"] = "true";
      spec.env_set["NATS_STREAM"] = "BENCH_EVENTS";
      spec.env_set["NATS_DURABLE"] = "bench";
    }
    for (const char* name : {"NATS_QUEUE_GROUP", "NATS_USER", "NATS_PASSWORD", "NATS_TOKEN", "NATS_CREDS",
                             "NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY", "NATS_PENDING_MSGS",
                             "NATS_PENDING_BYTES", "NATS_STREAM_CREATE", "NATS_MAX_DELIVER",
                             "NATS_ACK_WAIT_SECONDS", "NATS_FETCH_BATCH", "NATS_MAX_ACK_PENDING"})
      spec.env_unset.push_back(name);
    return spec;
  }

  // Publishes an invalid event (no customer identity) until serve has
  // dead-lettered one: serve is subscribed, plugins loaded, DB migrated.
  void wait_serve_ready(Publisher& publisher, Child& serve, const fs::path& db_path) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      if (serve.poll()) throw std::runtime_error("customeriq serve exited (" + serve.poll()->describe() + "), see its log in " + run_dir().string());
      publisher.publish_core("customer.events.bench_probe.probe", R"({"event_type":"bench_probe"})");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      try {
        if (fs::exists(db_path) && scalar(db_path, "SELECT count(*) FROM dead_letters") > 0) return;
      } catch (const std::exception&) {
      }
    }
    throw std::runtime_error("customeriq serve did not take a probe event within 30 s");
  }

  static std::string subject_of(const std::string& line) {
    return "customer.events." + std::string(json_string_field(line, "customer_id")) + "." +
           std::string(json_string_field(line, "event_type"));
  }

  void run_serve(bool jetstream) {
    const std::string key = jetstream ? "d" : "c";
    Row row;
    row.key = key;
    row.label = jetstream ? "(d) serve, JetStream, full-speed publisher" : "(c) serve, core NATS, full-speed publisher";
    const fs::path db_path = db(key);
    remove_db(db_path);
    NatsServer server(nats_server_path, run_dir() / ("nats-" + key), jetstream);
    server.start();
    Child serve(serve_spec(db_path, server.url(), jetstream, key + "-serve"));
    serve.start();
    serve.start_rss_sampling();
    Publisher publisher(server.url(), jetstream);
    wait_serve_ready(publisher, serve, db_path);

    std::atomic<bool> publishing{true};
    std::atomic<std::uint64_t> published{0};
    double publish_seconds = 0;
    const std::int64_t start = now_ns();
    std::thread feeder([&] {
      std::ifstream in(events_file, std::ios::binary);
      std::string line;
      while (std::getline(in, line)) {
        if (line.empty()) continue;
        publisher.publish(subject_of(line), line, std::string(json_string_field(line, "event_id")));
        ++published;
      }
      try {
        publisher.finish();
      } catch (const std::exception& error) {
        spdlog::warn("publisher: {}", error.what());
      }
      publish_seconds = static_cast<double>(now_ns() - start) / 1e9;
      publishing = false;
    });
    const ProgressResult progress =
        wait_for_rows(db_path, static_cast<std::int64_t>(options.events), std::chrono::seconds(jetstream ? 15 : 5),
                      [&] { return publishing.load() && !serve.poll(); });
    feeder.join();
    const ChildExit exit = serve.stop(std::chrono::seconds(60));
    server.stop();

    row.ran = true;
    row.events = static_cast<std::uint64_t>(scalar(db_path, "SELECT count(*) FROM processed_events"));
    row.seconds = static_cast<double>(progress.reached_ns - start) / 1e9;
    row.events_per_second = row.seconds > 0 ? static_cast<double>(row.events) / row.seconds : 0;
    row.peak_rss_mib = serve.peak_rss_mib();
    rss_from_samples(row, serve.rss_samples());
    const std::uint64_t lost = options.events - std::min<std::uint64_t>(options.events, row.events);
    row.extra["published"] = published.load();
    row.extra["publish_seconds"] = publish_seconds;
    row.extra["publish_errors"] = publisher.errors();
    row.extra["not_committed"] = lost;
    row.extra["serve_exit"] = exit.describe();
    row.extra["serve_summary"] = last_lines(log(key + "-serve.out"), 3) + last_lines(log(key + "-serve.log"), 3);
    row.extra["slow_consumer_log_lines"] = count_matching_lines(log(key + "-serve.log"), "low consumer");
    {
      // serve's own summary: "... N dropped, ..."
      const std::string summary = row.extra["serve_summary"].get<std::string>();
      const auto at = summary.find(" dropped");
      if (at != std::string::npos) {
        auto start = summary.rfind(' ', at - 1);
        row.notes.push_back("serve reported " + summary.substr(start + 1, at - start - 1) + " dropped, " +
                            std::to_string(row.extra["slow_consumer_log_lines"].get<std::uint64_t>()) +
                            " slow-consumer log lines");
      }
    }
    row.notes.push_back("publisher done in " + fmt("%.1f", publish_seconds) + " s (" +
                        fmt("%.0f", static_cast<double>(published.load()) / std::max(1e-9, publish_seconds)) + " ev/s)");
    if (lost) row.notes.push_back(std::to_string(lost) + " of " + std::to_string(options.events) + " events not committed (" +
                                  (jetstream ? "LOST: JetStream must lose nothing" : "core NATS drops as slow consumer") + ")");
    else row.notes.push_back("nothing lost");
    if (!exit.exited_ok()) row.notes.push_back("serve ended with " + exit.describe());
    if (jetstream && lost) failures.push_back("(d) JetStream lost " + std::to_string(lost) + " events");
    row.bytes_per_event = -1;
    if (row.events) {
      const auto bytes = checkpointed_size(db_path);
      row.bytes_per_event = static_cast<double>(bytes) / static_cast<double>(row.events);
    }
    rows.push_back(std::move(row));
  }

  void run_serve_latency(bool jetstream, bool tuned = false) {
    const std::string key = std::string(jetstream ? "dlat" : "clat") + (tuned ? "_tuned" : "");
    Row row;
    row.key = key;
    row.label = std::string(jetstream ? "(d) serve JetStream, " : "(c) serve core NATS, ") +
                fmt("%.0f", options.latency_rate) + " ev/s offered" + tuned_suffix(tuned);
    const fs::path db_path = db(key);
    remove_db(db_path);
    NatsServer server(nats_server_path, run_dir() / ("nats-" + key), jetstream);
    server.start();
    Child serve(serve_spec(db_path, server.url(), jetstream, key + "-serve", tuned));
    serve.start();
    serve.start_rss_sampling();
    Publisher publisher(server.url(), jetstream, /*send_asap=*/true);
    wait_serve_ready(publisher, serve, db_path);
    const auto lines = first_lines(latency_events());
    CommitPoller poller(db_path, lines.size());
    poller.start();
    poller.wait_ready(std::chrono::seconds(10));
    // Each publish goes to the socket at once (SendAsap). The JetStream
    // publish is asynchronous: the bench does not wait for the stream's ack.
    paced_latency(
        row, db_path, lines,
        [&](std::size_t i) {
          publisher.publish(subject_of(lines[i]), lines[i], std::string(json_string_field(lines[i], "event_id")));
        },
        [&] { publisher.finish(); }, poller);
    const ChildExit exit = serve.stop(std::chrono::seconds(60));
    server.stop();
    if (!exit.exited_ok()) row.notes.push_back("serve ended with " + exit.describe());
    row.ran = true;
    row.peak_rss_mib = serve.peak_rss_mib();
    rss_from_samples(row, serve.rss_samples());
    rows.push_back(std::move(row));
  }

  // ------------------------------------------------------------ reads
  // A short hash of the schema a fresh database gets, so a cached read
  // database is rebuilt whenever the schema changes (even in place).
  std::string schema_fingerprint() const {
    const fs::path probe = run_dir() / "schema-probe.db";
    remove_db(probe);
    std::string sql;
    {
      auto db = open_store_for_writing(probe);
      SQLite::Statement q(*db, "SELECT type || name || coalesce(sql, '') FROM sqlite_master ORDER BY name");
      while (q.executeStep()) sql += q.getColumn(0).getString() + "\n";
    }
    remove_db(probe);
    return fnv1a_128_hex(sql).substr(0, 10);
  }

  void run_reads() {
    const std::uint64_t n = options.smoke ? 5000 : options.read_events;
    const std::uint32_t customers = options.smoke ? 500 : options.read_customers;
    const std::uint64_t seed = options.seed + 1;
    const fs::path read_db = options.work_dir / ("read-n" + std::to_string(n) + "-c" + std::to_string(customers) +
                                                 "-s" + std::to_string(seed) + "-g" +
                                                 std::to_string(EventGenerator::kVersion) + "-schema" +
                                                 schema_fingerprint() + ".db");
    const fs::path marker = read_db.string() + ".ok";
    Json reads = Json::object();
    reads["database"] = read_db.string();
    reads["events"] = n;
    reads["customers"] = customers;
    if (!fs::exists(marker) || !fs::exists(read_db)) {
      remove_db(read_db);
      InternalArgs args;
      args.mode = "ceiling";
      args.generate = GeneratorOptions{n, customers, seed};
      args.db = read_db;
      args.result = log("read-build.result.json");
      const auto t0 = Clock::now();
      run_internal_child(args, "read-build");
      checkpointed_size(read_db);
      std::ofstream(marker) << "events=" << n << " customers=" << customers << " seed=" << seed << "\n";
      reads["built_in_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
    } else {
      reads["reused"] = true;
    }
    reads["db_bytes"] = fs::file_size(read_db);

    // Warm: a service's database lives in the page cache; after the modes
    // above wrote gigabytes, this one may not. Read it once, sequentially.
    {
      const auto t0 = Clock::now();
      std::ifstream in(read_db, std::ios::binary);
      std::vector<char> buffer(1 << 20);
      while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
      }
      reads["page_cache_warmup_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
    }

    StoreReader reader(read_db);
    Rng rng(99);
    // profile: random customers, default options (timeline of 100).
    auto customer = [&] { return EventGenerator::customer_id(static_cast<std::uint32_t>(rng.below(customers))); };
    for (int i = 0; i < (options.smoke ? 10 : 200); ++i) reader.profile(customer());
    std::vector<double> profile_ms;
    const int profiles = options.smoke ? 100 : 2000;
    for (int i = 0; i < profiles; ++i) {
      const std::string id = customer();
      const auto t0 = Clock::now();
      auto profile = reader.profile(id);
      profile_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (!profile) throw std::runtime_error("no profile for " + id);
    }
    const Percentiles profile = percentiles(profile_ms);
    reads["profile_ms"] = {{"n", profile.n}, {"p50", profile.p50}, {"p90", profile.p90}, {"p99", profile.p99}, {"max", profile.max}};

    // search: query classes by word frequency rank.
    const auto& words = EventGenerator::vocabulary();
    struct QueryClass {
      std::string name;
      std::function<std::string()> make;
    };
    auto word_in = [&](std::size_t lo, std::size_t hi) { return words[lo + rng.below(hi - lo)]; };
    std::vector<QueryClass> classes = {
        {"frequent word (rank 20-100)", [&] { return word_in(20, 100); }},
        {"mid word (rank 300-1500)", [&] { return word_in(300, 1500); }},
        {"rare word (rank 3000-6000)", [&] { return word_in(std::min<std::size_t>(3000, words.size() / 2), words.size()); }},
        {"two mid words", [&] { return word_in(300, 1500) + " " + word_in(300, 1500); }},
        {"prefix (3 letters*)", [&] {
           std::string w = word_in(100, 1500);
           return w.substr(0, std::min<std::size_t>(3, w.size())) + "*";
         }},
        {"customer last name", [&] {
           const std::string name = EventGenerator::customer_name(static_cast<std::uint32_t>(rng.below(customers)));
           return name.substr(name.find(' ') + 1);
         }},
    };
    std::vector<double> all_ms;
    Json by_class = Json::array();
    const int per_class = options.smoke ? 10 : 150;
    for (auto& query_class : classes) {
      std::vector<double> ms;
      std::uint64_t hits = 0;
      const auto class_deadline = Clock::now() + std::chrono::seconds(30);
      for (int i = 0; i < per_class && Clock::now() < class_deadline; ++i) {
        const std::string query = query_class.make();
        const auto t0 = Clock::now();
        const Json found = reader.search(query);
        const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        ms.push_back(elapsed);
        all_ms.push_back(elapsed);
        hits += found.size();
      }
      const Percentiles p = percentiles(ms);
      by_class.push_back({{"class", query_class.name}, {"n", p.n}, {"p50", p.p50}, {"p99", p.p99}, {"max", p.max},
                          {"mean_hits", p.n ? static_cast<double>(hits) / static_cast<double>(p.n) : 0}});
    }
    const Percentiles search = percentiles(all_ms);
    reads["search_ms"] = {{"n", search.n}, {"p50", search.p50}, {"p90", search.p90}, {"p99", search.p99}, {"max", search.max}};
    reads["search_by_class"] = by_class;
    report["reads"] = reads;
  }

  // ------------------------------------------------------------ output
  // The ceiling: the best of its runs (it runs first and again after the
  // service modes, so drift on a shared machine shows and the ratios are
  // taken against the higher figure).
  double ceiling_rate() const {
    double best = 0;
    for (const auto& row : rows)
      if ((row.key == "a" || row.key == "a_2") && row.ran) best = std::max(best, row.events_per_second);
    return best;
  }

  const Row* find(const std::string& key) const {
    for (const auto& row : rows)
      if (row.key == key) return &row;
    return nullptr;
  }

  void check_same_rows() {
    const std::vector<std::string> keys = {"a", "a2", "b"};
    const Json* reference = nullptr;
    std::string reference_key;
    for (const auto& key : keys) {
      if (!facts_by_mode.contains(key)) continue;
      const Json& facts = facts_by_mode[key];
      if (!reference) {
        reference = &facts_by_mode[key];
        reference_key = key;
        continue;
      }
      for (auto& [table, count] : (*reference)["rows"].items()) {
        if (facts["rows"][table] != count)
          failures.push_back("rows in " + table + ": (" + reference_key + ") " + count.dump() + " vs (" + key + ") " +
                             facts["rows"][table].dump());
      }
      for (auto& [name, value] : (*reference)["fingerprint"].items()) {
        if (facts["fingerprint"][name] != value)
          failures.push_back("fingerprint " + name + ": (" + reference_key + ") " + value.dump() + " vs (" + key +
                             ") " + facts["fingerprint"][name].dump());
      }
    }
    report["same_rows_checked"] = reference ? reference_key : "";
  }

  std::string markdown() const {
    std::ostringstream out;
    const double base = ceiling_rate();
    out << "| mode | events | events/s | vs (a) | latency p50 ms | latency p99 ms | peak RSS MiB | steady RSS MiB | DB bytes/event |\n";
    out << "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& row : rows) {
      if (!row.ran) {
        out << "| " << row.label << " | — | skipped: " << row.skipped << " | | | | | | |\n";
        continue;
      }
      const bool throughput = row.key == "a" || row.key == "a_2" || row.key == "a2" || row.key == "a3" || row.key == "b" ||
                              row.key == "b_tuned" || row.key == "c" || row.key == "d" || row.key.rfind("x_", 0) == 0;
      out << "| " << row.label << " | " << row.events << " | ";
      if (throughput) out << fmt("%.0f", row.events_per_second);
      else out << "(" << fmt("%.0f", row.events_per_second) << " offered)";
      out << " | " << (throughput && base > 0 ? fmt("%.0f%%", 100.0 * row.events_per_second / base) : std::string("")) << " | ";
      if (row.latency) out << fmt("%.1f", row.latency->p50) << " | " << fmt("%.1f", row.latency->p99);
      else out << " | ";
      out << " | " << (row.peak_rss_mib >= 0 ? fmt("%.1f", row.peak_rss_mib) : "") << " | "
          << (row.steady_rss_mib >= 0 ? fmt("%.1f", row.steady_rss_mib) : "") << " | "
          << (row.bytes_per_event >= 0 ? fmt("%.0f", row.bytes_per_event) : "") << " |\n";
    }
    out << "\nNotes:\n";
    for (const auto& row : rows) {
      std::string text;
      if (row.ran && !row.latency_how.empty()) text += "latency: " + row.latency_how;
      for (const auto& note : row.notes) text += (text.empty() ? "" : "; ") + note;
      if (!text.empty()) out << "- " << row.label << ": " << text << "\n";
    }
    if (report.contains("space_by_object_a")) {
      const Json& space = report["space_by_object_a"];
      const Row* a = find("a");
      if (a && a->ran && !space.contains("error")) {
        out << "\nWhere the bytes of (a) are (dbstat, after checkpoint; bytes per event):\n\n| object | MiB | bytes/event |\n|---|---:|---:|\n";
        std::vector<std::pair<std::int64_t, std::string>> sorted;
        for (auto& [name, bytes] : space.items()) sorted.emplace_back(bytes.get<std::int64_t>(), name);
        std::sort(sorted.rbegin(), sorted.rend());
        for (const auto& [bytes, name] : sorted) {
          if (bytes < 1 << 20) continue;
          out << "| " << name << " | " << fmt("%.1f", static_cast<double>(bytes) / 1048576.0) << " | "
              << fmt("%.0f", static_cast<double>(bytes) / static_cast<double>(a->events)) << " |\n";
        }
      }
    }
    if (report.contains("reads")) {
      const Json& reads = report["reads"];
      out << "\nReads (in-process StoreReader, " << reads["events"].get<std::uint64_t>() << " events over "
          << reads["customers"].get<std::uint64_t>() << " customers, " << fmt("%.0f", reads["db_bytes"].get<double>() / 1048576.0)
          << " MiB):\n\n";
      out << "| query | n | p50 ms | p99 ms | max ms | hits (mean) |\n|---|---:|---:|---:|---:|---:|\n";
      const Json& p = reads["profile_ms"];
      out << "| profile CUSTOMER_ID (timeline 100) | " << p["n"] << " | " << fmt("%.2f", p["p50"]) << " | "
          << fmt("%.2f", p["p99"]) << " | " << fmt("%.2f", p["max"]) << " | |\n";
      const Json& s = reads["search_ms"];
      out << "| search, all classes | " << s["n"] << " | " << fmt("%.2f", s["p50"]) << " | " << fmt("%.2f", s["p99"])
          << " | " << fmt("%.2f", s["max"]) << " | |\n";
      for (const auto& c : reads["search_by_class"])
        out << "| search: " << c["class"].get<std::string>() << " | " << c["n"] << " | " << fmt("%.2f", c["p50"]) << " | "
            << fmt("%.2f", c["p99"]) << " | " << fmt("%.2f", c["max"]) << " | " << fmt("%.1f", c["mean_hits"]) << " |\n";
    }
    return out.str();
  }

  Json rows_json() const {
    Json out = Json::array();
    for (const auto& row : rows) {
      Json r = {{"key", row.key}, {"label", row.label}, {"ran", row.ran}};
      if (!row.ran) {
        r["skipped"] = row.skipped;
      } else {
        r["events"] = row.events;
        r["seconds"] = row.seconds;
        r["events_per_second"] = row.events_per_second;
        if (row.latency)
          r["latency_ms"] = {{"p50", row.latency->p50}, {"p99", row.latency->p99}, {"max", row.latency->max}, {"how", row.latency_how}};
        r["peak_rss_mib"] = row.peak_rss_mib;
        r["steady_rss_mib"] = row.steady_rss_mib;
        r["db_bytes_per_event"] = row.bytes_per_event;
        r["notes"] = row.notes;
        r["extra"] = row.extra;
      }
      out.push_back(r);
    }
    return out;
  }
};

Json machine_facts(const Options& options) {
  Json facts;
  facts["nproc"] = sysconf(_SC_NPROCESSORS_ONLN);
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      facts["cpu"] = line.substr(line.find(':') + 2);
      break;
    }
  }
  struct utsname u {};
  if (uname(&u) == 0) facts["kernel"] = std::string(u.sysname) + " " + u.release;
  facts["sqlite"] = sqlite3_libversion();
  facts["build_type"] = BENCH_BUILD_TYPE;
  facts["compiler"] = __VERSION__;
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) facts["loadavg_at_start"] = {load[0], load[1], load[2]};
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  facts["memory_gib"] = static_cast<double>(pages) * static_cast<double>(page) / (1 << 30);
  facts["customeriq"] = options.customeriq.string();
  return facts;
}

std::optional<std::string> find_on_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return fs::exists(name) ? std::optional(name) : std::nullopt;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path candidate = fs::path(dir) / name;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  for (const char* dir : {"/usr/sbin", "/usr/local/bin", "/usr/local/sbin"}) {
    const fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return std::nullopt;
}

bool serve_exists(const Options& options, const fs::path& work_dir) {
  ChildSpec spec;
  spec.argv = {options.customeriq.string(), "serve", "--help"};
  spec.cwd = work_dir;
  spec.stdout_file = work_dir / "run" / "serve-help.out";
  Child child(spec);
  child.start();
  const ChildExit exit = child.wait(std::chrono::seconds(20));
  return exit.exited_ok() && !read_first_line(spec.stdout_file, "usage: customeriq serve").empty();
}

Options parse_options(int argc, char** argv) {
  Options options;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& key = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(key + " needs a value");
      return args[++i];
    };
    if (key == "-h" || key == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (key == "--events") options.events = std::stoull(value());
    else if (key == "--customers") options.customers = static_cast<std::uint32_t>(std::stoul(value()));
    else if (key == "--seed") options.seed = std::stoull(value());
    else if (key == "--work-dir") options.work_dir = value();
    else if (key == "--json") options.json = fs::absolute(value());
    else if (key == "--latency-rate") options.latency_rate = std::stod(value());
    else if (key == "--latency-seconds") options.latency_seconds = std::stod(value());
    else if (key == "--read-events") options.read_events = std::stoull(value());
    else if (key == "--read-customers") options.read_customers = static_cast<std::uint32_t>(std::stoul(value()));
    else if (key == "--skip") {
      std::stringstream list(value());
      std::string item;
      while (std::getline(list, item, ',')) options.skip.push_back(item);
    } else if (key == "--experiments") options.experiments = true;
    else if (key == "--smoke") options.smoke = true;
    else if (key == "--customeriq") options.customeriq = fs::absolute(value());
    else if (key == "--nats-server") options.nats_server = value();
    else throw std::invalid_argument("unknown option " + key + " (see --help)");
  }
  if (options.events == 0) throw std::invalid_argument("--events must be at least 1");
  if (options.smoke) options.latency_seconds = std::min(options.latency_seconds, 0.4);
  options.work_dir = fs::absolute(options.work_dir);
  return options;
}

int run(int argc, char** argv) {
  Bench bench;
  bench.options = parse_options(argc, argv);
  const Options& options = bench.options;
  fs::create_directories(bench.run_dir());

  const Json machine = machine_facts(options);
  bench.report["machine"] = machine;
  bench.report["options"] = {{"events", options.events},           {"customers", options.customers},
                             {"seed", options.seed},               {"latency_rate", options.latency_rate},
                             {"latency_events", bench.latency_events()}, {"smoke", options.smoke},
                             {"work_dir", options.work_dir.string()}};
  std::cerr << "customeriq_bench: " << machine["nproc"] << " CPUs (" << machine.value("cpu", "?") << "), SQLite "
            << machine["sqlite"].get<std::string>() << ", " << BENCH_BUILD_TYPE << "; work dir " << options.work_dir << "\n";

  bench.events_file = options.work_dir / ("events-n" + std::to_string(options.events) + "-c" +
                                          std::to_string(options.customers) + "-s" + std::to_string(options.seed) +
                                          "-g" + std::to_string(EventGenerator::kVersion) + ".jsonl");
  if (!fs::exists(bench.events_file)) {
    std::cerr << "generating " << bench.events_file << "\n";
    write_jsonl(GeneratorOptions{options.events, options.customers, options.seed}, bench.events_file);
  }
  bench.report["events_file"] = {{"path", bench.events_file.string()}, {"bytes", fs::file_size(bench.events_file)}};

  bench.serve_available = serve_exists(options, options.work_dir);
  const auto nats = find_on_path(options.nats_server);
  if (nats) bench.nats_server_path = *nats;

  auto step = [&](const std::string& key, const std::string& label, const std::function<void()>& body,
                  const std::string& skip_reason = "") {
    if (options.skipped(key) || !skip_reason.empty()) {
      Row row;
      row.key = key;
      row.label = label;
      row.skipped = skip_reason.empty() ? "--skip" : skip_reason;
      bench.rows.push_back(row);
      return;
    }
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    std::cerr << "== " << label << " (load average " << fmt("%.2f", load[0]) << ")\n";
    const std::size_t rows_before = bench.rows.size();
    const auto t0 = Clock::now();
    try {
      body();
    } catch (const std::exception& error) {
      std::cerr << "   FAILED: " << error.what() << "\n";
      bench.failures.push_back(label + ": " + error.what());
      Row row;
      row.key = key;
      row.label = label;
      row.skipped = std::string("failed: ") + error.what();
      std::replace(row.skipped.begin(), row.skipped.end(), '\n', ' ');
      bench.rows.push_back(row);
      return;
    }
    for (std::size_t i = rows_before; i < bench.rows.size(); ++i) bench.rows[i].extra["loadavg_1min_before"] = load[0];
    std::cerr << "   " << fmt("%.1f", std::chrono::duration<double>(Clock::now() - t0).count()) << " s\n";
  };
  std::string nats_reason;
  if (!bench.serve_available) nats_reason = "`customeriq serve` not in this build";
  else if (!nats) nats_reason = "nats-server not found";

  step("a", "(a) ceiling: same rows, bare prepared statements", [&] { bench.run_batch_mode("a", "ceiling", "(a) ceiling: same rows, bare prepared statements"); });
  step("a2", "(a') StoreWriter::apply_batch alone", [&] { bench.run_batch_mode("a2", "writer", "(a') StoreWriter::apply_batch alone"); });
  step("a3", "(a'') StoreWriter alone, synchronous=FULL (JetStream)", [&] {
    bench.run_batch_mode("a3", "writer_durable", "(a'') StoreWriter alone, synchronous=FULL (JetStream)");
  });
  step("b", "(b) customeriq ingest FILE", [&] { bench.run_ingest(); });
  step("c", "(c) serve, core NATS, full-speed publisher", [&] { bench.run_serve(false); }, nats_reason);
  step("d", "(d) serve, JetStream, full-speed publisher", [&] { bench.run_serve(true); }, nats_reason);
  step("a", "(a) ceiling, run 2 (after the service modes)", [&] { bench.run_batch_mode("a_2", "ceiling", "(a) ceiling, run 2"); });
  step("blat", "(b) ingest - (stdin), latency", [&] { bench.run_ingest_latency(); });
  bench.make_tuned_pipeline();
  const std::string tuned_reason = bench.tuned_pipeline ? "" : "default.yaml has other writer settings";
  step("tuned", "(b) ingest FILE, tuned config", [&] { bench.run_ingest(true); }, tuned_reason);
  step("tuned", "(b) ingest - (stdin), latency, tuned config", [&] { bench.run_ingest_latency(true); }, tuned_reason);
  step("inproc", "(b') in-process, default config", [&] { bench.run_inproc_latency(-1); });
  step("inproc", "(b') in-process, batch_max_delay_ms=0", [&] { bench.run_inproc_latency(0); });
  step("clat", "(c) serve core NATS, latency", [&] { bench.run_serve_latency(false); }, nats_reason);
  step("dlat", "(d) serve JetStream, latency", [&] { bench.run_serve_latency(true); }, nats_reason);
  step("tuned", "(c) serve core NATS, latency, tuned config", [&] { bench.run_serve_latency(false, true); },
       nats_reason.empty() ? tuned_reason : nats_reason);
  step("tuned", "(d) serve JetStream, latency, tuned config", [&] { bench.run_serve_latency(true, true); },
       nats_reason.empty() ? tuned_reason : nats_reason);
  if (options.experiments && !options.smoke) {
    for (const auto& [variant, description] : ceiling_variants()) {
      const std::string label = "(a) ceiling, " + variant + ": " + description;
      step("x_" + variant, label, [&, variant = variant, label = label] {
        bench.run_batch_mode("x_" + variant, "ceiling", label, variant);
      });
    }
  }
  step("reads", "reads: profile and search", [&] { bench.run_reads(); });

  bench.check_same_rows();
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) bench.report["machine"]["loadavg_at_end"] = {load[0], load[1], load[2]};

  std::cout << "# customeriq_bench\n\n";
  std::cout << "Machine: " << machine["nproc"] << " CPUs, " << machine.value("cpu", "?") << ", "
            << fmt("%.0f", machine["memory_gib"].get<double>()) << " GiB; " << machine.value("kernel", "") << "; SQLite "
            << machine["sqlite"].get<std::string>() << "; build " << BENCH_BUILD_TYPE << "; load average at start "
            << fmt("%.2f", machine["loadavg_at_start"][0].get<double>()) << ", at end " << fmt("%.2f", load[0]) << "\n";
  std::cout << "Events: " << options.events << " over " << options.customers << " customers (seed " << options.seed
            << ", " << fmt("%.0f", static_cast<double>(fs::file_size(bench.events_file)) / static_cast<double>(options.events))
            << " bytes/event as JSON); latency phases: " << bench.latency_events() << " events at "
            << fmt("%.0f", options.latency_rate) << " ev/s\n\n";
  std::cout << bench.markdown();
  if (bench.report.contains("same_rows_checked")) {
    std::cout << "\nSame rows in (a), (a') and (b): " << (bench.failures.empty() ? "yes" : "NO") << "\n";
  }
  for (const auto& failure : bench.failures) std::cout << "FAILURE: " << failure << "\n";

  bench.report["rows"] = bench.rows_json();
  bench.report["table_facts"] = bench.facts_by_mode;
  bench.report["failures"] = bench.failures;
  if (options.json) std::ofstream(*options.json) << bench.report.dump(2) << "\n";
  return bench.failures.empty() ? 0 : 1;
}

}  // namespace
}  // namespace customeriq::bench

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  try {
    if (argc >= 2 && std::string(argv[1]) == "--internal") {
      const std::vector<std::string> args(argv + 2, argv + argc);
      return customeriq::bench::run_internal(customeriq::bench::parse_internal_args(args));
    }
    return customeriq::bench::run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "customeriq_bench: " << error.what() << "\n";
    return 2;
  }
}
