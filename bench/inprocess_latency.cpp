// (b') in-process: the parent side. The child (`--internal inproc`,
// inprocess.cpp) feeds Pipeline + StoreWriter + WriterThread at the offered
// rate and times each event exactly with the CommitObserver, beside the DB
// poller the other latency phases use.
#include <fstream>

#include "db_facts.hpp"
#include "modes.hpp"

namespace customeriq::bench {

void run_inproc_latency(Bench& bench, int delay_ms) {
  const double rate = bench.options.latency_rate;
  Row row;
  row.key = delay_ms < 0 ? "inproc" : "inproc_d" + std::to_string(delay_ms);
  row.label = "(b') in-process WriterThread, " + fmt("%.0f", rate) + " ev/s" +
              (delay_ms < 0 ? std::string(", default config") : ", batch_max_delay_ms=" + std::to_string(delay_ms));
  const auto db_path = bench.db(row.key);
  remove_db(db_path);
  InternalArgs args;
  args.mode = "inproc";
  args.input = bench.events_file;
  args.db = db_path;
  args.result = bench.log(row.key + ".result.json");
  args.limit = bench.latency_events();
  args.rate = rate;
  args.delay_ms = delay_ms;
  double peak = -1;
  bench.run_internal_child(args, row.key, &peak);
  const Json result = Json::parse(std::ifstream(args.result));
  row.ran = true;
  row.events = result["events"];
  row.events_per_second = rate;
  row.latency = percentiles_from_json(result["exact_ms"]);
  row.latency_how = "exact (CommitObserver: received -> after COMMIT)";
  row.peak_rss_mib = peak;
  auto ms = [&](const char* name, const char* p) { return fmt("%.1f", result[name][p].get<double>()); };
  row.notes.push_back("RSS includes the bench's copy of the events it feeds");
  row.notes.push_back("DB poller on the same run: p50 " + ms("polled_upper_ms", "p50") + " / p99 " +
                      ms("polled_upper_ms", "p99") + " ms (upper), " + ms("polled_lower_ms", "p50") + " / " +
                      ms("polled_lower_ms", "p99") + " ms (lower)");
  row.notes.push_back("batch size p50 " + fmt("%.0f", result["batch_size"]["p50"].get<double>()));
  row.extra["child"] = result;
  bench.report.rows.push_back(std::move(row));
}

}  // namespace customeriq::bench
