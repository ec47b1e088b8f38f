// (a) ceiling, (a') StoreWriter alone, (a'') StoreWriter with
// synchronous=FULL, and the ceiling's schema experiments: one child process
// each (inprocess.cpp), which differ only in the writer it times.
#include <fstream>

#include "db_facts.hpp"
#include "modes.hpp"

namespace customeriq::bench {

void run_batch_mode(Bench& bench, const std::string& key, const std::string& mode, const std::string& label,
                    const std::string& variant) {
  Row row;
  row.key = key;
  row.label = label;
  const auto db_path = bench.db(key);
  remove_db(db_path);
  InternalArgs args;
  args.mode = mode;
  args.input = bench.events_file;
  args.db = db_path;
  args.result = bench.log(key + ".result.json");
  args.variant = variant;
  double peak = -1;
  bench.run_internal_child(args, key, &peak);
  const Json result = Json::parse(std::ifstream(args.result));
  row.ran = true;
  row.events = result["events"].get<std::uint64_t>();
  row.seconds = result["timed_seconds"].get<double>();
  row.events_per_second = result["events_per_second"].get<double>();
  row.peak_rss_mib = peak;
  row.latency_how = "per-transaction time (1,000 events), not publish->commit";
  row.latency = percentiles_from_json(result["batch_ms"]);
  row.extra["child"] = result;
  row.notes.push_back("timed: BEGIN..COMMIT only; untimed pipeline pre-pass " +
                      fmt("%.1f", result["prepass_seconds"].get<double>()) + " s (" +
                      fmt("%.0f", 1e6 * result["prepass_seconds"].get<double>() / std::max<double>(1, static_cast<double>(row.events))) +
                      " us/event)");
  if (result["not_applied"].get<std::uint64_t>())
    row.notes.push_back(std::to_string(result["not_applied"].get<std::uint64_t>()) + " events not applied");
  bench.finish_db_row(row, db_path);
  if (key == "a" && !bench.options.smoke) bench.report.json["space_by_object_a"] = space_by_object(db_path);
  bench.report.rows.push_back(std::move(row));
}

}  // namespace customeriq::bench
