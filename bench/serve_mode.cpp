// (c) serve with core NATS and (d) serve with JetStream: the bench publishes
// the whole event file as fast as it can, and times until the last row
// commits (or nothing more comes).
#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "db_facts.hpp"
#include "event_generator.hpp"
#include "log_files.hpp"
#include "modes.hpp"
#include "serve_harness.hpp"

namespace customeriq::bench {
namespace {

// serve's own summary, "... N dropped, ...", and the slow-consumer lines.
void note_drops(Row& row) {
  const std::string summary = row.extra["serve_summary"].get<std::string>();
  const auto at = summary.find(" dropped");
  if (at == std::string::npos) return;
  const auto start = summary.rfind(' ', at - 1);
  row.notes.push_back("serve reported " + summary.substr(start + 1, at - start - 1) + " dropped, " +
                      std::to_string(row.extra["slow_consumer_log_lines"].get<std::uint64_t>()) +
                      " slow-consumer log lines");
}

}  // namespace

void run_serve(Bench& bench, bool jetstream) {
  const std::string key = jetstream ? "d" : "c";
  Row row;
  row.key = key;
  row.label = jetstream ? "(d) serve, JetStream, full-speed publisher" : "(c) serve, core NATS, full-speed publisher";
  const std::uint64_t events = bench.options.events;
  ServeHarness harness(bench, key, jetstream, /*tuned=*/false, /*send_asap=*/false);
  Publisher& publisher = harness.publisher();

  std::atomic<bool> publishing{true};
  std::atomic<std::uint64_t> published{0};
  double publish_seconds = 0;
  const std::int64_t start = now_ns();
  std::thread feeder([&] {
    std::ifstream in(bench.events_file, std::ios::binary);
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
      wait_for_rows(harness.db(), static_cast<std::int64_t>(events), std::chrono::seconds(jetstream ? 15 : 5),
                    [&] { return publishing.load() && harness.serve().running(); });
  feeder.join();
  const ProcessExit exit = harness.finish();

  row.ran = true;
  row.events = static_cast<std::uint64_t>(scalar(harness.db(), "SELECT count(*) FROM processed_events"));
  row.seconds = static_cast<double>(progress.reached_ns - start) / 1e9;
  row.events_per_second = row.seconds > 0 ? static_cast<double>(row.events) / row.seconds : 0;
  row.peak_rss_mib = harness.rss().peak_mib();
  Bench::rss_from_samples(row, harness.rss().samples());
  const std::uint64_t lost = events - std::min<std::uint64_t>(events, row.events);
  row.extra["published"] = published.load();
  row.extra["publish_seconds"] = publish_seconds;
  row.extra["publish_errors"] = publisher.errors();
  row.extra["not_committed"] = lost;
  row.extra["serve_exit"] = exit.describe();
  row.extra["cpu_seconds"] = exit.cpu_seconds();
  row.extra["events_per_cpu_second"] = static_cast<double>(row.events) / std::max(1e-9, exit.cpu_seconds());
  row.notes.push_back("serve used " + fmt("%.1f", exit.cpu_seconds()) + " s of CPU: " +
                      fmt("%.0f", row.extra["events_per_cpu_second"].get<double>()) + " events per CPU-second");
  row.extra["serve_summary"] = last_lines(bench.log(key + "-serve.out"), 3) + last_lines(bench.log(key + "-serve.log"), 3);
  row.extra["slow_consumer_log_lines"] = count_matching_lines(bench.log(key + "-serve.log"), "low consumer");
  note_drops(row);
  row.notes.push_back("publisher done in " + fmt("%.1f", publish_seconds) + " s (" +
                      fmt("%.0f", static_cast<double>(published.load()) / std::max(1e-9, publish_seconds)) + " ev/s)");
  if (lost)
    row.notes.push_back(std::to_string(lost) + " of " + std::to_string(events) + " events not committed (" +
                        (jetstream ? "LOST: JetStream must lose nothing"
                                   : "LOST: dropped before they reached the spool, or beyond NATS_SPOOL_MAX_BYTES") +
                        ")");
  else
    row.notes.push_back("nothing lost");
  if (!exit.ok()) row.notes.push_back("serve ended with " + exit.describe());
  // Neither mode may lose a burst: JetStream keeps it in the stream, core
  // NATS in the spool.
  if (lost) bench.report.failures.push_back("(" + key + ") " + (jetstream ? "JetStream" : "core NATS") + " lost " +
                                            std::to_string(lost) + " events");
  row.bytes_per_event = -1;
  if (row.events) row.bytes_per_event = static_cast<double>(checkpointed_size(harness.db())) / static_cast<double>(row.events);
  bench.report.rows.push_back(std::move(row));
}

}  // namespace customeriq::bench
