// Reads: `profile` and `search` latency through the project's StoreReader,
// in-process, on a read database built once by the (a) writer and cached in
// the work directory.
#include <fstream>
#include <functional>
#include <stdexcept>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "db_facts.hpp"
#include "event_generator.hpp"
#include "hash.hpp"
#include "modes.hpp"
#include "store/store_reader.hpp"
#include "store/store_schema.hpp"

namespace customeriq::bench {
namespace {

namespace fs = std::filesystem;

// A short hash of the schema a fresh database gets, so a cached read
// database is rebuilt whenever the schema changes (even in place).
std::string schema_fingerprint(const Bench& bench) {
  const fs::path probe = bench.run_dir() / "schema-probe.db";
  remove_db(probe);
  std::string sql;
  {
    auto db = open_store_for_writing(probe);
    SQLite::Statement q(*db, "SELECT type || name || coalesce(sql, '') FROM sqlite_master ORDER BY name");
    while (q.executeStep()) sql += q.getColumn(0).getString() + "\n";
  }
  remove_db(probe);
  return fnv1a_128_hex(sql).substr(0, 10);
}

Json percentiles_json(const Percentiles& p) {
  return {{"n", p.n}, {"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"max", p.max}};
}

}  // namespace

fs::path ensure_read_db(const Bench& bench, std::uint64_t n, std::uint32_t customers, std::uint64_t seed,
                        Json& reads) {
  const fs::path read_db = bench.options.work_dir /
                           ("read-n" + std::to_string(n) + "-c" + std::to_string(customers) + "-s" +
                            std::to_string(seed) + "-g" + std::to_string(EventGenerator::kVersion) + "-schema" +
                            schema_fingerprint(bench) + ".db");
  const fs::path marker = read_db.string() + ".ok";
  reads["database"] = read_db.string();
  reads["events"] = n;
  reads["customers"] = customers;
  if (!fs::exists(marker) || !fs::exists(read_db)) {
    remove_db(read_db);
    InternalArgs args;
    args.mode = "ceiling";
    args.generate = GeneratorOptions{n, customers, seed};
    args.db = read_db;
    args.result = bench.log("read-build.result.json");
    const auto t0 = Clock::now();
    bench.run_internal_child(args, "read-build");
    checkpointed_size(read_db);
    std::ofstream(marker) << "events=" << n << " customers=" << customers << " seed=" << seed << "\n";
    reads["built_in_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
  } else {
    reads["reused"] = true;
  }
  reads["db_bytes"] = fs::file_size(read_db);
  return read_db;
}

void run_reads(Bench& bench) {
  const bool smoke = bench.options.smoke;
  const std::uint64_t n = smoke ? 5000 : bench.options.read_events;
  const std::uint32_t customers = smoke ? 500 : bench.options.read_customers;
  Json reads = Json::object();
  const fs::path read_db = ensure_read_db(bench, n, customers, bench.options.seed + 1, reads);

  // Warm: a service's database lives in the page cache; after the modes
  // above wrote gigabytes, this one may not. Read it once, sequentially.
  {
    const auto t0 = Clock::now();
    std::ifstream in(read_db, std::ios::binary);
    std::vector<char> buffer(1 << 20);
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    }
    reads["page_cache_warmup_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
  }

  StoreReader reader(read_db);
  Rng rng(99);
  // profile: random customers, default options (timeline of 100).
  auto customer = [&] { return EventGenerator::customer_id(static_cast<std::uint32_t>(rng.below(customers))); };
  for (int i = 0; i < (smoke ? 10 : 200); ++i) reader.profile(customer());
  std::vector<double> profile_ms;
  const int profiles = smoke ? 100 : 2000;
  for (int i = 0; i < profiles; ++i) {
    const std::string id = customer();
    const auto t0 = Clock::now();
    auto profile = reader.profile(id);
    profile_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!profile) throw std::runtime_error("no profile for " + id);
  }
  reads["profile_ms"] = percentiles_json(percentiles(profile_ms));

  // search: query classes by word frequency rank.
  const auto& words = EventGenerator::vocabulary();
  struct QueryClass {
    std::string name;
    std::function<std::string()> make;
  };
  auto word_in = [&](std::size_t lo, std::size_t hi) { return words[lo + rng.below(hi - lo)]; };
  std::vector<QueryClass> classes = {
      {"frequent word (rank 20-100)", [&] { return word_in(20, 100); }},
      {"mid word (rank 300-1500)", [&] { return word_in(300, 1500); }},
      {"rare word (rank 3000-6000)", [&] { return word_in(std::min<std::size_t>(3000, words.size() / 2), words.size()); }},
      {"two mid words", [&] { return word_in(300, 1500) + " " + word_in(300, 1500); }},
      {"prefix (3 letters*)", [&] {
         std::string w = word_in(100, 1500);
         return w.substr(0, std::min<std::size_t>(3, w.size())) + "*";
       }},
      {"customer last name", [&] {
         const std::string name = EventGenerator::customer_name(static_cast<std::uint32_t>(rng.below(customers)));
         return name.substr(name.find(' ') + 1);
       }},
  };
  std::vector<double> all_ms;
  Json by_class = Json::array();
  const int per_class = smoke ? 10 : 150;
  for (auto& query_class : classes) {
    std::vector<double> ms;
    std::uint64_t hits = 0;
    const auto class_deadline = Clock::now() + std::chrono::seconds(30);
    for (int i = 0; i < per_class && Clock::now() < class_deadline; ++i) {
      const std::string query = query_class.make();
      const auto t0 = Clock::now();
      const Json found = reader.search(query);
      const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      ms.push_back(elapsed);
      all_ms.push_back(elapsed);
      hits += found.size();
    }
    const Percentiles p = percentiles(ms);
    by_class.push_back({{"class", query_class.name}, {"n", p.n}, {"p50", p.p50}, {"p99", p.p99}, {"max", p.max},
                        {"mean_hits", p.n ? static_cast<double>(hits) / static_cast<double>(p.n) : 0}});
  }
  reads["search_ms"] = percentiles_json(percentiles(all_ms));
  reads["search_by_class"] = by_class;
  bench.report.json["reads"] = reads;
}

}  // namespace customeriq::bench
