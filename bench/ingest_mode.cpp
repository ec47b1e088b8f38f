// (b) `customeriq ingest FILE`: the real binary on the whole event file,
// timed as a process (start-up included).
#include <algorithm>
#include <stdexcept>

#include "db_facts.hpp"
#include "log_files.hpp"
#include "modes.hpp"

namespace customeriq::bench {

void run_ingest(Bench& bench, bool tuned) {
  Row row;
  row.key = tuned ? "b_tuned" : "b";
  row.label = "(b) customeriq ingest FILE" + Bench::tuned_suffix(tuned);
  const auto db_path = bench.db(row.key);
  remove_db(db_path);
  auto args = bench.pipeline_args(tuned);
  args.insert(args.end(), {"--db", db_path.string(), "ingest", "--quiet", bench.events_file.string()});
  const std::string log_name = row.key + "-ingest";
  ChildProcess child(bench.options.customeriq, args, bench.customeriq_options(log_name));
  RssSampler rss(child.pid());
  const ProcessExit exit = child.wait_or_kill(std::chrono::hours(1));
  rss.stop();
  if (!exit.ok())
    throw std::runtime_error("customeriq ingest failed (" + exit.describe() + "): " +
                             last_lines(bench.log(log_name + ".log"), 5));
  row.ran = true;
  row.events = bench.options.events;
  row.seconds = exit.wall_seconds;
  row.events_per_second = static_cast<double>(row.events) / exit.wall_seconds;
  row.peak_rss_mib = rss.peak_mib();
  Bench::rss_from_samples(row, rss.samples());
  row.extra["cpu_seconds"] = exit.cpu_seconds();
  row.extra["summary"] = read_first_line(bench.log(log_name + ".out"), "ingested");
  row.extra["events_per_cpu_second"] = static_cast<double>(row.events) / std::max(1e-9, exit.cpu_seconds());
  row.notes.push_back("wall time of the process (start-up included); CPU " + fmt("%.1f", exit.cpu_seconds()) +
                      " s on " + fmt("%.1f", exit.wall_seconds) + " s wall: " +
                      fmt("%.0f", row.extra["events_per_cpu_second"].get<double>()) + " events per CPU-second");
  bench.finish_db_row(row, db_path);
  bench.report.rows.push_back(std::move(row));
}

}  // namespace customeriq::bench
