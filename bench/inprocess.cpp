#include "inprocess.hpp"

#include <sqlite3.h>

#include <fstream>
#include <mutex>
#include <stdexcept>

#include <SQLiteCpp/Database.h>
#include <spdlog/spdlog.h>

#include "ceiling.hpp"
#include "latency.hpp"
#include "config/paths.hpp"
#include "pipeline/pipeline.hpp"
#include "config/pipeline_config.hpp"
#include "store/store_schema.hpp"
#include "store/store_writer.hpp"
#include "pipeline/writer_thread.hpp"

namespace customeriq::bench {
namespace {

using Json = nlohmann::json;

// Lines from the input file, or from the generator.
class LineSource {
 public:
  explicit LineSource(const InternalArgs& args) : name_(args.input.string()) {
    if (args.generate) {
      generator_.emplace(*args.generate);
    } else {
      file_.open(args.input, std::ios::binary);
      if (!file_) throw std::runtime_error("cannot open " + args.input.string());
    }
  }
  bool next(std::string& line) {
    if (generator_) {
      if (!generator_->next(event_)) return false;
      line = std::move(event_.json);
      ++number_;
      return true;
    }
    while (std::getline(file_, line)) {
      ++number_;
      if (!line.empty()) return true;
    }
    return false;
  }
  // As `customeriq ingest` names it.
  std::string subject() const { return "file:" + name_ + ":" + std::to_string(number_); }

 private:
  std::string name_;
  std::ifstream file_;
  std::optional<EventGenerator> generator_;
  GeneratedEvent event_;
  std::uint64_t number_ = 0;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Json percentiles_json(const Percentiles& p) {
  return {{"n", p.n}, {"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"max", p.max}, {"mean", p.mean}};
}

std::unique_ptr<Pipeline> make_pipeline() {
  return std::make_unique<Pipeline>(load_pipeline_config(default_pipeline_file()));
}

void apply_variant(SQLite::Database& db, const std::string& variant, bool& store_raw, CeilingOptions& ceiling) {
  if (variant.empty() || variant == "baseline") return;
  auto recreate_events_fts = [&](const std::string& options) {
    db.exec("DROP TABLE customer_events_fts");
    db.exec("CREATE VIRTUAL TABLE customer_events_fts USING fts5(title, description, "
            "content='customer_events', content_rowid='id'" + options + ")");
  };
  if (variant == "savepoint") {
    ceiling.savepoint_per_event = true;
  } else if (variant == "no_events_fts") {
    ceiling.skip_events_fts = true;
  } else if (variant == "fts_detail_column") {
    recreate_events_fts(", detail=column");
  } else if (variant == "fts_prefix3") {
    recreate_events_fts(", prefix='3'");
  } else if (variant == "no_raw") {
    store_raw = false;
  } else if (variant == "lean") {
    recreate_events_fts(", detail=column");
    store_raw = false;
  } else {
    throw std::invalid_argument("unknown ceiling variant " + variant);
  }
}

// Reads up to `batch` lines and runs them through the pipeline.
std::size_t next_batch(LineSource& source, const Pipeline& pipeline, std::size_t batch, std::uint64_t& remaining,
                       std::vector<WriteItem>& items) {
  items.clear();
  std::string line;
  while (items.size() < batch && remaining > 0 && source.next(line)) {
    RawMessage message;
    message.bytes = std::move(line);
    message.subject = source.subject();
    items.push_back(pipeline.process(std::move(message)));
    --remaining;
  }
  return items.size();
}

int run_batches(const InternalArgs& args) {
  spdlog::set_level(spdlog::level::warn);
  auto pipeline = make_pipeline();
  LineSource source(args);
  std::uint64_t remaining = args.limit ? args.limit : UINT64_MAX;

  std::unique_ptr<SQLite::Database> db;
  std::unique_ptr<CeilingWriter> ceiling;
  std::unique_ptr<StoreWriter> store;
  bool store_raw = true;
  if (args.mode == "ceiling") {
    db = open_store_for_writing(args.db);
    CeilingOptions ceiling_options;
    apply_variant(*db, args.variant, store_raw, ceiling_options);
    ceiling = std::make_unique<CeilingWriter>(*db, ceiling_options);
  } else {
    WriterOptions options;
    options.durable_commits = args.mode == "writer_durable";  // JetStream's commits
    store = std::make_unique<StoreWriter>(args.db, options);
  }

  std::vector<WriteItem> items;
  std::vector<double> batch_ms;
  double timed = 0, prepass = 0;
  std::uint64_t events = 0, not_applied = 0;
  const auto wall = Clock::now();
  for (;;) {
    const auto p0 = Clock::now();
    if (next_batch(source, *pipeline, args.batch, remaining, items) == 0) break;
    if (!store_raw) {
      for (auto& item : items)
        if (auto* handled = std::get_if<HandledEvent>(&item.content)) handled->event.raw.clear();
    }
    PreparedBatch prepared;
    if (ceiling) prepared = ceiling->prepare(items);
    prepass += seconds_since(p0);

    const auto t0 = Clock::now();
    if (ceiling) {
      ceiling->write(prepared);
    } else {
      const auto outcomes = store->apply_batch(items);
      for (auto outcome : outcomes) not_applied += outcome != Outcome::applied;
    }
    const double seconds = seconds_since(t0);
    timed += seconds;
    batch_ms.push_back(seconds * 1e3);
    events += items.size();
  }
  const double wall_seconds = seconds_since(wall);
  sqlite3_int64 current = 0, highwater = 0;
  sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &current, &highwater, 0);

  Json result = {{"mode", args.mode},
                 {"variant", args.variant},
                 {"events", events},
                 {"not_applied", not_applied},
                 {"timed_seconds", timed},
                 {"prepass_seconds", prepass},
                 {"wall_seconds", wall_seconds},
                 {"events_per_second", timed > 0 ? static_cast<double>(events) / timed : 0},
                 {"batch_ms", percentiles_json(percentiles(batch_ms))},
                 {"sqlite_memory_highwater_bytes", highwater}};
  std::ofstream(args.result) << result.dump(2) << "\n";
  return 0;
}

// (b'): the service's own writer path in one process, at a fixed rate.
int run_inproc(const InternalArgs& args) {
  spdlog::set_level(spdlog::level::warn);
  auto pipeline = make_pipeline();
  LineSource source(args);
  std::vector<std::string> lines;
  std::string line;
  while ((args.limit == 0 || lines.size() < args.limit) && source.next(line)) lines.push_back(line);

  StoreWriter store(args.db, WriterOptions{});
  WriterThreadOptions options;
  options.batch_max_events = pipeline->config().batch_max_events;
  options.batch_max_delay = std::chrono::milliseconds(args.delay_ms >= 0 ? args.delay_ms : pipeline->config().batch_max_delay_ms);
  options.queue_capacity = pipeline->config().queue_capacity;

  std::vector<std::int64_t> committed(lines.size(), 0), received(lines.size(), 0);
  std::vector<double> batch_sizes;
  std::mutex observed_mutex;
  CommitPoller poller(args.db, lines.size());
  {
    WriterThread writer(*pipeline, store, options);
    writer.set_commit_observer([&](const std::vector<WriteItem>& batch, const std::vector<Outcome>&) {
      const std::int64_t now = now_ns();
      std::lock_guard lock(observed_mutex);
      batch_sizes.push_back(static_cast<double>(batch.size()));
      for (const auto& item : batch) {
        const auto* handled = std::get_if<HandledEvent>(&item.content);
        if (!handled) continue;
        const std::int64_t seq = seq_of_event_id(handled->event.idempotency_key);
        if (seq < 0 || static_cast<std::size_t>(seq) >= committed.size()) continue;
        committed[seq] = now;
        received[seq] = std::chrono::duration_cast<std::chrono::nanoseconds>(item.received.time_since_epoch()).count();
      }
    });
    poller.start();
    poller.wait_ready(std::chrono::seconds(10));
    const auto sent = send_paced(lines.size(), args.rate, [&](std::size_t i) {
      RawMessage message;
      message.bytes = lines[i];
      message.subject = "bench:" + std::to_string(i);
      writer.submit(std::move(message));
    });
    writer.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    poller.stop();
    writer.stop();

    std::vector<double> exact, exact_from_sent;
    std::size_t missing = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (!committed[i]) {
        ++missing;
        continue;
      }
      exact.push_back(static_cast<double>(committed[i] - received[i]) / 1e6);
      exact_from_sent.push_back(static_cast<double>(committed[i] - sent[i]) / 1e6);
    }
    const LatencyResult polled = latency_from(sent, poller);
    Json result = {{"mode", "inproc"},
                   {"events", lines.size()},
                   {"rate", args.rate},
                   {"batch_max_delay_ms", options.batch_max_delay.count()},
                   {"missing", missing},
                   {"exact_ms", percentiles_json(percentiles(exact))},
                   {"exact_from_sent_ms", percentiles_json(percentiles(exact_from_sent))},
                   {"polled_upper_ms", percentiles_json(polled.upper)},
                   {"polled_lower_ms", percentiles_json(polled.lower)},
                   {"poll_resolution_ms", polled.resolution_ms},
                   {"batch_size", percentiles_json(percentiles(batch_sizes))}};
    std::ofstream(args.result) << result.dump(2) << "\n";
  }
  return 0;
}

}  // namespace

InternalArgs parse_internal_args(const std::vector<std::string>& argv) {
  InternalArgs args;
  if (argv.empty()) throw std::invalid_argument("--internal needs a mode");
  args.mode = argv[0];
  for (std::size_t i = 1; i < argv.size(); ++i) {
    auto value = [&]() -> const std::string& {
      if (i + 1 >= argv.size()) throw std::invalid_argument(argv[i] + " needs a value");
      return argv[++i];
    };
    const std::string& key = argv[i];
    if (key == "--input") args.input = value();
    else if (key == "--generate") {
      // events:customers:seed
      const std::string& spec = value();
      GeneratorOptions g;
      if (std::sscanf(spec.c_str(), "%lu:%u:%lu", &g.events, &g.customers, &g.seed) != 3)
        throw std::invalid_argument("--generate events:customers:seed");
      args.generate = g;
    } else if (key == "--db") args.db = value();
    else if (key == "--result") args.result = value();
    else if (key == "--batch") args.batch = std::stoul(value());
    else if (key == "--limit") args.limit = std::stoull(value());
    else if (key == "--rate") args.rate = std::stod(value());
    else if (key == "--delay-ms") args.delay_ms = std::stoi(value());
    else if (key == "--variant") args.variant = value();
    else throw std::invalid_argument("unknown internal option " + key);
  }
  return args;
}

std::vector<std::string> internal_argv(const InternalArgs& args) {
  std::vector<std::string> out = {"--internal", args.mode};
  if (args.generate) {
    out.insert(out.end(), {"--generate", std::to_string(args.generate->events) + ":" +
                                             std::to_string(args.generate->customers) + ":" +
                                             std::to_string(args.generate->seed)});
  } else {
    out.insert(out.end(), {"--input", args.input.string()});
  }
  out.insert(out.end(), {"--db", args.db.string(), "--result", args.result.string(), "--batch",
                         std::to_string(args.batch), "--limit", std::to_string(args.limit), "--rate",
                         std::to_string(args.rate), "--delay-ms", std::to_string(args.delay_ms)});
  if (!args.variant.empty()) out.insert(out.end(), {"--variant", args.variant});
  return out;
}

int run_internal(const InternalArgs& args) {
  if (args.mode == "ceiling" || args.mode == "writer" || args.mode == "writer_durable") return run_batches(args);
  if (args.mode == "inproc") return run_inproc(args);
  throw std::invalid_argument("unknown internal mode " + args.mode);
}

std::vector<std::pair<std::string, std::string>> ceiling_variants() {
  return {
      {"savepoint", "plus SAVEPOINT/RELEASE around each event"},
      {"no_events_fts", "no FTS5 index on customer_events"},
      {"fts_detail_column", "customer_events_fts with detail=column (no positions)"},
      {"fts_prefix3", "customer_events_fts with a 3-letter prefix index"},
      {"no_raw", "raw_event_data stored empty"},
      {"lean", "detail=column + no raw_event_data"},
  };
}

}  // namespace customeriq::bench
