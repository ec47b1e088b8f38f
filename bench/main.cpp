// customeriq_bench: throughput, latency, memory and size of every way events
// reach the store, against the same-run SQLite ceiling, plus read latency on a
// 1M-event database. See docs/BENCHMARKS.md. This file runs the steps in
// order; modes.hpp lists them, report.hpp shows what they measured.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench.hpp"
#include "event_generator.hpp"
#include "log_files.hpp"
#include "modes.hpp"

namespace fs = std::filesystem;

namespace customeriq::bench {
namespace {

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
  const fs::path help = work_dir / "run" / "serve-help.out";
  ProcessOptions child = child_options(help, {});
  child.working_directory = work_dir;
  ChildProcess process(options.customeriq, {"serve", "--help"}, child);
  const ProcessExit& exit = process.wait_or_kill(std::chrono::seconds(20));
  return exit.ok() && !read_first_line(help, "usage: customeriq serve").empty();
}

// Runs one step: its row(s), or a row saying why it was skipped or failed.
class Steps {
 public:
  explicit Steps(Bench& bench) : bench_(bench) {}

  void run(const std::string& key, const std::string& label, const std::function<void()>& body,
           const std::string& skip_reason = "") {
    if (bench_.options.skipped(key) || !skip_reason.empty()) {
      not_run(key, label, skip_reason.empty() ? "--skip" : skip_reason);
      return;
    }
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    std::cerr << "== " << label << " (load average " << fmt("%.2f", load[0]) << ")\n";
    const std::size_t rows_before = bench_.report.rows.size();
    const auto t0 = Clock::now();
    try {
      body();
    } catch (const std::exception& error) {
      std::cerr << "   FAILED: " << error.what() << "\n";
      bench_.report.failures.push_back(label + ": " + error.what());
      std::string reason = std::string("failed: ") + error.what();
      std::replace(reason.begin(), reason.end(), '\n', ' ');
      not_run(key, label, reason);
      return;
    }
    auto& rows = bench_.report.rows;
    for (std::size_t i = rows_before; i < rows.size(); ++i) rows[i].extra["loadavg_1min_before"] = load[0];
    std::cerr << "   " << fmt("%.1f", std::chrono::duration<double>(Clock::now() - t0).count()) << " s\n";
  }

 private:
  void not_run(const std::string& key, const std::string& label, const std::string& why) {
    Row row;
    row.key = key;
    row.label = label;
    row.skipped = why;
    bench_.report.rows.push_back(row);
  }
  Bench& bench_;
};

int run(int argc, char** argv) {
  Bench bench;
  bench.options = parse_options(argc, argv);
  const Options& options = bench.options;
  Report& report = bench.report;
  fs::create_directories(bench.run_dir());

  const Json machine = machine_facts(options.customeriq);
  report.json["machine"] = machine;
  report.json["options"] = {{"events", options.events},           {"customers", options.customers},
                            {"seed", options.seed}, {"mix", options.mix},               {"latency_rate", options.latency_rate},
                            {"latency_events", bench.latency_events()}, {"smoke", options.smoke},
                            {"work_dir", options.work_dir.string()}};
  std::cerr << "customeriq_bench: " << machine["nproc"] << " CPUs (" << machine.value("cpu", "?") << "), SQLite "
            << machine["sqlite"].get<std::string>() << ", " << machine["build_type"].get<std::string>()
            << "; work dir " << options.work_dir << "\n";

  const Mix mix = options.mix == "seed" ? Mix::seed_sized : Mix::long_text;
  bench.events_file = options.work_dir / ("events-n" + std::to_string(options.events) + "-c" +
                                          std::to_string(options.customers) + "-s" + std::to_string(options.seed) +
                                          "-m" + options.mix + "-g" + std::to_string(EventGenerator::kVersion) + ".jsonl");
  if (!fs::exists(bench.events_file)) {
    std::cerr << "generating " << bench.events_file << "\n";
    write_jsonl(GeneratorOptions{options.events, options.customers, options.seed, mix}, bench.events_file);
  }
  report.json["events_file"] = {{"path", bench.events_file.string()}, {"bytes", fs::file_size(bench.events_file)}};

  bench.serve_available = serve_exists(options, options.work_dir);
  const auto nats = find_on_path(options.nats_server);
  if (nats) bench.nats_server_path = *nats;
  std::string nats_reason;
  if (!bench.serve_available) nats_reason = "`customeriq serve` not in this build";
  else if (!nats) nats_reason = "nats-server not found";

  Steps steps(bench);
  auto step = [&](const std::string& key, const std::string& label, const std::function<void()>& body,
                  const std::string& skip_reason = "") { steps.run(key, label, body, skip_reason); };
  auto batch_step = [&](const std::string& key, const std::string& mode, const std::string& label) {
    step(key, label, [&] { run_batch_mode(bench, key, mode, label); });
  };
  batch_step("a", "ceiling", "(a) ceiling: same rows, bare prepared statements");
  batch_step("a2", "writer", "(a') StoreWriter::apply_batch alone");
  batch_step("a3", "writer_durable", "(a'') StoreWriter alone, synchronous=FULL (JetStream)");
  step("b", "(b) customeriq ingest FILE", [&] { run_ingest(bench); });
  step("c", "(c) serve, core NATS, full-speed publisher", [&] { run_serve(bench, false); }, nats_reason);
  step("d", "(d) serve, JetStream, full-speed publisher", [&] { run_serve(bench, true); }, nats_reason);
  step("a", "(a) ceiling, run 2 (after the service modes)",
       [&] { run_batch_mode(bench, "a_2", "ceiling", "(a) ceiling, run 2"); });
  step("blat", "(b) ingest - (stdin), latency", [&] { run_ingest_latency(bench); });
  bench.make_tuned_pipeline();
  const std::string tuned_reason = bench.tuned_pipeline ? "" : "default.yaml has other writer settings";
  const std::string tuned_serve_reason = nats_reason.empty() ? tuned_reason : nats_reason;
  step("tuned", "(b) ingest FILE, tuned config", [&] { run_ingest(bench, true); }, tuned_reason);
  step("tuned", "(b) ingest - (stdin), latency, tuned config", [&] { run_ingest_latency(bench, true); }, tuned_reason);
  step("inproc", "(b') in-process, default config", [&] { run_inproc_latency(bench, -1); });
  step("inproc", "(b') in-process, batch_max_delay_ms=0", [&] { run_inproc_latency(bench, 0); });
  step("clat", "(c) serve core NATS, latency", [&] { run_serve_latency(bench, false); }, nats_reason);
  step("dlat", "(d) serve JetStream, latency", [&] { run_serve_latency(bench, true); }, nats_reason);
  step("tuned", "(c) serve core NATS, latency, tuned config", [&] { run_serve_latency(bench, false, true); },
       tuned_serve_reason);
  step("tuned", "(d) serve JetStream, latency, tuned config", [&] { run_serve_latency(bench, true, true); },
       tuned_serve_reason);
  if (options.experiments && !options.smoke) {
    for (const auto& [variant, description] : ceiling_variants()) {
      const std::string label = "(a) ceiling, " + variant + ": " + description;
      step("x_" + variant, label, [&, variant = variant, label = label] {
        run_batch_mode(bench, "x_" + variant, "ceiling", label, variant);
      });
    }
  }
  step("reads", "reads: profile and search", [&] { run_reads(bench); });
  step("http", "HTTP: requests at 64 connections, stream fan-out", [&] { run_http(bench); },
       bench.serve_available ? "" : "`customeriq serve` not in this build");

  report.check_same_rows();
  RunFacts facts;
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) report.json["machine"]["loadavg_at_end"] = {load[0], load[1], load[2]};
  facts.machine = machine;
  facts.load_at_end = load[0];
  facts.events = options.events;
  facts.customers = options.customers;
  facts.seed = options.seed;
  facts.events_file_bytes = fs::file_size(bench.events_file);
  facts.latency_events = bench.latency_events();
  facts.latency_rate = options.latency_rate;
  std::cout << report.markdown(facts);
  if (options.json) std::ofstream(*options.json) << report.full_json().dump(2) << "\n";
  return report.failures.empty() ? 0 : 1;
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
