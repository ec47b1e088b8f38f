#include "options.hpp"

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>

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
  --mix long|seed      the events: long (free text of 50..2,000 characters,
                       ~1.5 KB per event; the default) or seed (like the
                       seed service's examples, 300-450 bytes, one ticket
                       in ten with ~800 characters); each is measured
                       against the ceiling of the same run and mix
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

}  // namespace

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
    else if (key == "--mix") {
      options.mix = value();
      if (options.mix != "long" && options.mix != "seed")
        throw std::invalid_argument("--mix must be long or seed, got '" + options.mix + "'");
    }
    else if (key == "--work-dir") options.work_dir = value();
    else if (key == "--json") options.json = std::filesystem::absolute(value());
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
    else if (key == "--customeriq") options.customeriq = std::filesystem::absolute(value());
    else if (key == "--nats-server") options.nats_server = value();
    else throw std::invalid_argument("unknown option " + key + " (see --help)");
  }
  if (options.events == 0) throw std::invalid_argument("--events must be at least 1");
  if (options.smoke) options.latency_seconds = std::min(options.latency_seconds, 0.4);
  options.work_dir = std::filesystem::absolute(options.work_dir);
  return options;
}

}  // namespace customeriq::bench
