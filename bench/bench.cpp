#include "bench.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "db_facts.hpp"
#include "log_files.hpp"
#include "config/paths.hpp"

namespace customeriq::bench {
namespace {

namespace fs = std::filesystem;

std::string self_exe() { return fs::canonical("/proc/self/exe").string(); }

}  // namespace

void Bench::make_tuned_pipeline() {
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

std::vector<std::string> Bench::pipeline_args(bool tuned) const {
  if (tuned && tuned_pipeline) return {"--pipeline", tuned_pipeline->string()};
  return {};
}

std::size_t Bench::latency_events() const {
  const auto wanted = static_cast<std::uint64_t>(options.latency_rate * options.latency_seconds);
  return static_cast<std::size_t>(std::max<std::uint64_t>(1, std::min(wanted, options.events)));
}

std::vector<std::string> Bench::first_lines(std::size_t count) const {
  std::vector<std::string> lines;
  std::ifstream in(events_file, std::ios::binary);
  std::string line;
  while (lines.size() < count && std::getline(in, line)) lines.push_back(line);
  return lines;
}

ProcessOptions Bench::customeriq_options(const std::string& log_name) const {
  ProcessOptions child = child_options(log(log_name + ".out"), log(log_name + ".log"));
  child.working_directory = options.work_dir;  // no stray .env
  child.unset_env = {"CUSTOMERIQ_PIPELINE", "CUSTOMERIQ_PLUGIN_DIR", "NATS_SUMMARIZE_THRESHOLD",
                     "NATS_AUTO_CREATE_CUSTOMER", "CUSTOMERIQ_LOG_LEVEL"};
  return child;
}

ProcessExit Bench::run_internal_child(const InternalArgs& args, const std::string& log_name, double* peak_mib) const {
  ProcessOptions child_opts = child_options(log(log_name + ".out"), log(log_name + ".log"));
  child_opts.working_directory = options.work_dir;
  ChildProcess child(self_exe(), internal_argv(args), child_opts);
  RssSampler rss(child.pid(), std::chrono::milliseconds(50));
  const ProcessExit exit = child.wait_or_kill(std::chrono::hours(2));
  rss.stop();
  if (peak_mib) *peak_mib = rss.peak_mib();
  if (!exit.ok())
    throw std::runtime_error(args.mode + " child failed (" + exit.describe() + "): " +
                             last_lines(log(log_name + ".log"), 5));
  return exit;
}

void Bench::finish_db_row(Row& row, const fs::path& db_path) {
  const auto bytes = checkpointed_size(db_path);
  row.bytes_per_event = row.events ? static_cast<double>(bytes) / static_cast<double>(row.events) : 0;
  row.extra["db_bytes"] = bytes;
  report.facts_by_mode[row.key] = table_facts(db_path);
}

void Bench::rss_from_samples(Row& row, const std::vector<double>& samples) {
  if (samples.empty()) return;
  std::vector<double> tail(samples.begin() + static_cast<long>(samples.size() / 2), samples.end());
  std::sort(tail.begin(), tail.end());
  row.steady_rss_mib = tail[tail.size() / 2];
  row.extra["rss_samples_mib"] = {{"count", samples.size()},
                                  {"max", *std::max_element(samples.begin(), samples.end())},
                                  {"first", samples.front()},
                                  {"last", samples.back()}};
}

}  // namespace customeriq::bench
