// Publish -> commit latency at a fixed offered rate, seen from outside the
// service (latency.hpp's poller): (b) `customeriq ingest -` fed on stdin,
// (c)/(d) `customeriq serve` fed by a publisher.
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <stdexcept>
#include <thread>

#include "db_facts.hpp"
#include "event_generator.hpp"
#include "modes.hpp"
#include "serve_harness.hpp"

namespace customeriq::bench {
namespace {

// Feeds the lines at the offered rate through `send`, watches the DB with
// the poller, and fills the row's latency.
void paced_latency(Row& row, const Bench& bench, const std::vector<std::string>& lines,
                   const std::function<void(std::size_t)>& send, const std::function<void()>& after_send,
                   CommitPoller& poller) {
  const auto sent = send_paced(lines.size(), bench.options.latency_rate, send);
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
  auto bounds = [](const Percentiles& p) { return Json{{"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"max", p.max}}; };
  row.extra["latency_upper_ms"] = bounds(latency.upper);
  row.extra["latency_lower_ms"] = bounds(latency.lower);
  row.extra["not_seen"] = latency.missing;
  row.extra["poll_max_interval_ms"] = poller.max_interval_ms();
  row.extra["offered_rate_achieved"] = row.events_per_second;
  if (latency.missing) row.notes.push_back(std::to_string(latency.missing) + " events never committed");
}

void write_all(int fd, const std::string& buffer) {
  const char* p = buffer.data();
  std::size_t left = buffer.size();
  while (left) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("write to ingest stdin failed");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

void run_ingest_latency(Bench& bench, bool tuned) {
  Row row;
  row.key = tuned ? "blat_tuned" : "blat";
  row.label = "(b) ingest - (stdin), " + fmt("%.0f", bench.options.latency_rate) + " ev/s offered" +
              Bench::tuned_suffix(tuned);
  const auto db_path = bench.db(row.key);
  remove_db(db_path);
  const auto lines = bench.first_lines(bench.latency_events());
  auto args = bench.pipeline_args(tuned);
  args.insert(args.end(), {"--db", db_path.string(), "ingest", "--quiet", "-"});
  ProcessOptions options = bench.customeriq_options(row.key + "-ingest");
  options.stdin_pipe = true;
  ChildProcess child(bench.options.customeriq, args, options);
  RssSampler rss(child.pid());
  CommitPoller poller(db_path, lines.size());
  poller.start();
  if (!poller.wait_ready(std::chrono::seconds(20))) throw std::runtime_error("ingest - did not create its database");
  std::string buffer;
  paced_latency(
      row, bench, lines,
      [&](std::size_t i) {
        buffer = lines[i];
        buffer += '\n';
        write_all(child.stdin_fd(), buffer);
      },
      [&] { child.close_stdin(); }, poller);
  const ProcessExit exit = child.wait_or_kill(std::chrono::minutes(5));
  rss.stop();
  if (!exit.ok()) row.notes.push_back("ingest ended with " + exit.describe());
  row.ran = true;
  row.peak_rss_mib = rss.peak_mib();
  Bench::rss_from_samples(row, rss.samples());
  bench.report.rows.push_back(std::move(row));
}

void run_serve_latency(Bench& bench, bool jetstream, bool tuned) {
  const std::string key = std::string(jetstream ? "dlat" : "clat") + (tuned ? "_tuned" : "");
  Row row;
  row.key = key;
  row.label = std::string(jetstream ? "(d) serve JetStream, " : "(c) serve core NATS, ") +
              fmt("%.0f", bench.options.latency_rate) + " ev/s offered" + Bench::tuned_suffix(tuned);
  ServeHarness harness(bench, key, jetstream, tuned, /*send_asap=*/true);
  const auto lines = bench.first_lines(bench.latency_events());
  CommitPoller poller(harness.db(), lines.size());
  poller.start();
  poller.wait_ready(std::chrono::seconds(10));
  // Each publish goes to the socket at once (SendAsap). The JetStream
  // publish is asynchronous: the bench does not wait for the stream's ack.
  Publisher& publisher = harness.publisher();
  paced_latency(
      row, bench, lines,
      [&](std::size_t i) {
        publisher.publish(subject_of(lines[i]), lines[i], std::string(json_string_field(lines[i], "event_id")));
      },
      [&] { publisher.finish(); }, poller);
  const ProcessExit exit = harness.finish();
  if (!exit.ok()) row.notes.push_back("serve ended with " + exit.describe());
  row.ran = true;
  row.peak_rss_mib = harness.rss().peak_mib();
  Bench::rss_from_samples(row, harness.rss().samples());
  bench.report.rows.push_back(std::move(row));
}

}  // namespace customeriq::bench
