// serve's HTTP API on a copy of the read database (docs/BENCHMARKS.md,
// "HTTP"): request throughput and latency at 64 connections against the
// same read in-process on one thread, the same beside an ingest at 5,000
// events/s, the fan-out delay of one change to 1,000 stream clients, and
// the memory 1,000 idle streams cost.
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

#include "db_facts.hpp"
#include "event_generator.hpp"
#include "latency.hpp"
#include "modes.hpp"
#include "rng.hpp"
#include "store/store_reader.hpp"
#include "support/http_client.hpp"

namespace customeriq::bench {
namespace {

namespace fs = std::filesystem;
using test::HttpConnection;
using test::SseClient;

double rss_mib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

Json percentiles_json(const Percentiles& p) {
  return {{"n", p.n}, {"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"max", p.max}};
}

// `connections` threads, each on its own keep-alive connection, request
// back to back for `duration`: requests/s and latency in ms.
Json load(std::uint16_t port, int connections, std::chrono::seconds duration,
          const std::function<std::string(Rng&)>& target) {
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(connections));
  std::atomic<std::uint64_t> errors{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  const auto deadline = start + duration;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      Rng rng(1000 + static_cast<std::uint64_t>(c));
      HttpConnection connection(port);
      auto& mine = latencies[static_cast<std::size_t>(c)];
      while (Clock::now() < deadline) {
        const std::string path = target(rng);
        const auto t0 = Clock::now();
        const auto reply = connection.request("GET", path);
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (reply.status != 200) ++errors;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& mine : latencies) all.insert(all.end(), mine.begin(), mine.end());
  const Percentiles p = percentiles(all);
  return {{"connections", connections},
          {"requests", all.size()},
          {"errors", errors.load()},
          {"requests_per_second", static_cast<double>(all.size()) / seconds},
          {"latency_ms", percentiles_json(p)}};
}

// `customeriq ingest -` into the same database, fed at `rate` events/s
// from the event file until stopped; how many it was sent.
class PacedIngest {
 public:
  PacedIngest(const Bench& bench, const fs::path& db, double rate) {
    auto args = bench.pipeline_args(false);
    args.insert(args.end(), {"--db", db.string(), "ingest", "--quiet", "-"});
    ProcessOptions options = bench.customeriq_options("http-ingest");
    options.stdin_pipe = true;
    child_ = std::make_unique<ChildProcess>(bench.options.customeriq, args, options);
    lines_ = bench.first_lines(static_cast<std::size_t>(rate * 120));
    feeder_ = std::thread([this, rate] { feed(rate); });
  }
  ~PacedIngest() { stop(); }

  double stop() {
    if (!feeder_.joinable()) return sent_rate_;
    stopping_ = true;
    feeder_.join();
    child_->close_stdin();
    child_->wait_or_kill(std::chrono::minutes(2));
    return sent_rate_;
  }

 private:
  void feed(double rate) {
    const auto start = Clock::now();
    std::size_t sent = 0;
    while (!stopping_ && sent < lines_.size()) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      const auto due = static_cast<std::size_t>(elapsed * rate);
      std::string chunk;
      for (; sent < due && sent < lines_.size(); ++sent) chunk += lines_[sent] + "\n";
      for (std::size_t done = 0; done < chunk.size();) {
        const ssize_t n = ::write(child_->stdin_fd(), chunk.data() + done, chunk.size() - done);
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    sent_rate_ = static_cast<double>(sent) / std::chrono::duration<double>(Clock::now() - start).count();
  }

  std::unique_ptr<ChildProcess> child_;
  std::vector<std::string> lines_;
  std::thread feeder_;
  std::atomic<bool> stopping_{false};
  double sent_rate_ = 0;
};

// Opens `count` streams, waits until the server holds them all, then
// POSTs `rounds` events and times each client's receipt of each.
Json fan_out(std::uint16_t port, pid_t server, int count, int rounds) {
  Json result = Json::object();
  const double rss_before = rss_mib(server);
  std::vector<std::unique_ptr<SseClient>> clients;
  for (int i = 0; i < count; ++i) clients.push_back(std::make_unique<SseClient>(port, "/v1/stream"));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double rss_after = rss_mib(server);
  result["clients"] = count;
  result["server_rss_mib_before"] = rss_before;
  result["server_rss_mib_with_idle_streams"] = rss_after;
  result["idle_streams_cost_mib"] = rss_after - rss_before;

  std::vector<pollfd> fds;
  for (auto& client : clients) fds.push_back(pollfd{client->native_handle(), POLLIN, 0});
  std::vector<double> last_client_ms, every_client_ms;
  for (int round = 0; round < rounds; ++round) {
    const std::string marker = "fanout-" + std::to_string(round) + "-" + std::to_string(::getpid());
    const Json event = {{"customer_id", "bench-fanout"},
                        {"event_type", "note"},
                        {"event_id", marker},
                        {"data", {{"content", marker}}}};
    std::vector<double> arrival(clients.size(), -1);
    std::size_t arrived = 0;
    const auto sent = Clock::now();
    const auto reply = test::http_request(port, "POST", "/v1/events", event.dump());
    if (reply.status != 200) throw std::runtime_error("POST /v1/events answered " + std::to_string(reply.status));
    const auto deadline = sent + std::chrono::seconds(10);
    while (arrived < clients.size() && Clock::now() < deadline) {
      if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        while (auto frame = clients[i]->next(std::chrono::milliseconds(0))) {
          if (arrival[i] < 0 && frame->data.find(marker) != std::string::npos) {
            arrival[i] = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
            every_client_ms.push_back(arrival[i]);
            ++arrived;
          }
        }
      }
    }
    if (arrived < clients.size())
      throw std::runtime_error(std::to_string(clients.size() - arrived) + " stream clients never got round " +
                               std::to_string(round));
    last_client_ms.push_back(*std::max_element(arrival.begin(), arrival.end()));
  }
  result["rounds"] = rounds;
  result["delay_to_last_client_ms"] = percentiles_json(percentiles(last_client_ms));
  result["delay_per_client_ms"] = percentiles_json(percentiles(every_client_ms));
  return result;
}

}  // namespace

void run_http(Bench& bench) {
  const bool smoke = bench.options.smoke;
  const std::uint64_t n = smoke ? 5000 : bench.options.read_events;
  const std::uint32_t customers = smoke ? 500 : bench.options.read_customers;
  Json http = Json::object();
  Json facts = Json::object();
  const fs::path read_db = ensure_read_db(bench, n, customers, bench.options.seed + 1, facts);
  http["database"] = facts;

  // serve migrates and writes its database: a copy, not the cached one.
  const fs::path db = bench.db("http");
  remove_db(db);
  fs::copy_file(read_db, db);
  raise_open_file_limit();

  Rng baseline_rng(7);
  auto random_customer = [customers](Rng& rng) {
    return EventGenerator::customer_id(static_cast<std::uint32_t>(rng.below(customers)));
  };
  {
    StoreReader reader(db);
    for (int i = 0; i < 100; ++i) reader.profile(random_customer(baseline_rng));
    const int reads = smoke ? 100 : 2000;
    const auto t0 = Clock::now();
    for (int i = 0; i < reads; ++i) reader.profile(random_customer(baseline_rng));
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    http["baseline_profile_reads_per_second"] = reads / seconds;
  }

  auto args = bench.pipeline_args(false);
  args.push_back("serve");
  ProcessOptions options = bench.customeriq_options("http-serve");
  options.env = {{"NATS_ENABLED", "false"}, {"CUSTOMERIQ_DB", db.string()}, {"CUSTOMERIQ_HTTP_ADDR", "127.0.0.1:0"}};
  options.unset_env.insert(options.unset_env.end(), {"CUSTOMERIQ_HTTP_TOKEN", "CUSTOMERIQ_HTTP_READ_THREADS"});
  ChildProcess serve(bench.options.customeriq, args, options);
  const fs::path serve_log = bench.log("http-serve.log");
  std::uint16_t port = 0;
  for (int i = 0; i < 600 && port == 0; ++i) {
    std::ifstream in(serve_log);
    const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::smatch match;
    if (std::regex_search(log, match, std::regex(R"(\[HTTP\] Listening on http://127\.0\.0\.1:(\d+))")))
      port = static_cast<std::uint16_t>(std::stoi(match[1]));
    else std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (port == 0) throw std::runtime_error("serve did not listen (see " + serve_log.string() + ")");

  const int connections = smoke ? 4 : 64;
  const auto duration = std::chrono::seconds(smoke ? 1 : 10);
  auto profile = [&](Rng& rng) { return "/v1/customers/" + random_customer(rng); };
  auto timeline = [&](Rng& rng) { return "/v1/customers/" + random_customer(rng) + "/timeline?limit=50"; };
  load(port, connections, std::chrono::seconds(1), profile);  // warm
  http["profile"] = load(port, connections, duration, profile);
  http["timeline_page"] = load(port, connections, duration, timeline);
  {
    PacedIngest ingest(bench, db, 5000);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    http["profile_during_ingest"] = load(port, connections, duration, profile);
    http["profile_during_ingest"]["ingest_events_per_second_offered"] = ingest.stop();
  }
  http["profile"]["ratio_to_baseline"] =
      http["profile"]["requests_per_second"].get<double>() / http["baseline_profile_reads_per_second"].get<double>();
  http["fan_out"] = fan_out(port, serve.pid(), smoke ? 50 : 1000, smoke ? 3 : 20);
  const ProcessExit& exit = serve.stop(std::chrono::seconds(30));
  if (!exit.ok()) throw std::runtime_error("serve ended with " + exit.describe());
  bench.report.json["http"] = http;
}

}  // namespace customeriq::bench
