// What the steps of one run share: the options, the event file, the report
// they add their rows to, where their databases and logs go, and how they
// start the binary under test and the bench's own child modes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "children.hpp"
#include "inprocess.hpp"
#include "options.hpp"
#include "report.hpp"

namespace customeriq::bench {

struct Bench {
  Options options;
  std::filesystem::path events_file;
  Report report;
  bool serve_available = false;
  std::string nats_server_path;
  std::optional<std::filesystem::path> tuned_pipeline;  // see make_tuned_pipeline()

  std::filesystem::path run_dir() const { return options.work_dir / "run"; }
  std::filesystem::path db(const std::string& key) const { return run_dir() / (key + ".db"); }
  std::filesystem::path log(const std::string& name) const { return run_dir() / name; }

  // The bundled default.yaml with writer.batch_max_delay_ms 0 and
  // writer.queue_capacity 2000: what configuration alone changes. Leaves
  // tuned_pipeline empty when default.yaml has other writer settings.
  void make_tuned_pipeline();
  std::vector<std::string> pipeline_args(bool tuned) const;
  static std::string tuned_suffix(bool tuned) { return tuned ? " [tuned config]" : ""; }

  // Events in each latency phase: the offered rate for its length, at most --events.
  std::size_t latency_events() const;
  // The first lines of the event file.
  std::vector<std::string> first_lines(std::size_t count) const;

  // For `customeriq ARGS`: run in the work dir (no stray .env), none of the
  // bench's own CUSTOMERIQ_*/NATS_* settings, output in <log_name>.out/.log.
  ProcessOptions customeriq_options(const std::string& log_name) const;
  // Runs `customeriq_bench --internal ...` to its end; throws unless it
  // exits 0. Its peak RSS (VmHWM) in peak_mib.
  ProcessExit run_internal_child(const InternalArgs& args, const std::string& log_name,
                                 double* peak_mib = nullptr) const;

  // The row's bytes per event and the database's facts (report.facts_by_mode).
  void finish_db_row(Row& row, const std::filesystem::path& db_path);
  // Steady RSS: the median of the second half of the samples.
  static void rss_from_samples(Row& row, const std::vector<double>& samples);
};

}  // namespace customeriq::bench
