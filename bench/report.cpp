#include "report.hpp"

#include <sqlite3.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#ifndef BENCH_BUILD_TYPE
#define BENCH_BUILD_TYPE "unknown"
#endif

namespace customeriq::bench {

Percentiles percentiles_from_json(const Json& json) {
  Percentiles p;
  p.n = json["n"];
  p.p50 = json["p50"];
  p.p99 = json["p99"];
  p.max = json["max"];
  return p;
}

double Report::ceiling_rate() const {
  double best = 0;
  for (const auto& row : rows)
    if ((row.key == "a" || row.key == "a_2") && row.ran) best = std::max(best, row.events_per_second);
  return best;
}

const Row* Report::find(const std::string& key) const {
  for (const auto& row : rows)
    if (row.key == key) return &row;
  return nullptr;
}

void Report::check_same_rows() {
  const std::vector<std::string> keys = {"a", "a2", "b"};
  const Json* reference = nullptr;
  std::string reference_key;
  for (const auto& key : keys) {
    if (!facts_by_mode.contains(key)) continue;
    const Json& facts = facts_by_mode[key];
    if (!reference) {
      reference = &facts_by_mode[key];
      reference_key = key;
      continue;
    }
    for (auto& [table, count] : (*reference)["rows"].items()) {
      if (facts["rows"][table] != count)
        failures.push_back("rows in " + table + ": (" + reference_key + ") " + count.dump() + " vs (" + key + ") " +
                           facts["rows"][table].dump());
    }
    for (auto& [name, value] : (*reference)["fingerprint"].items()) {
      if (facts["fingerprint"][name] != value)
        failures.push_back("fingerprint " + name + ": (" + reference_key + ") " + value.dump() + " vs (" + key +
                           ") " + facts["fingerprint"][name].dump());
    }
  }
  json["same_rows_checked"] = reference ? reference_key : "";
}

std::string Report::markdown(const RunFacts& facts) const {
  std::ostringstream out;
  const Json& machine = facts.machine;
  out << "# customeriq_bench\n\n";
  out << "Machine: " << machine["nproc"] << " CPUs, " << machine.value("cpu", "?") << ", "
      << fmt("%.0f", machine["memory_gib"].get<double>()) << " GiB; " << machine.value("kernel", "") << "; SQLite "
      << machine["sqlite"].get<std::string>() << "; build " << BENCH_BUILD_TYPE << "; load average at start "
      << fmt("%.2f", machine["loadavg_at_start"][0].get<double>()) << ", at end " << fmt("%.2f", facts.load_at_end)
      << "\n";
  out << "Events: " << facts.events << " over " << facts.customers << " customers (seed " << facts.seed << ", "
      << fmt("%.0f", static_cast<double>(facts.events_file_bytes) / static_cast<double>(facts.events))
      << " bytes/event as JSON); latency phases: " << facts.latency_events << " events at "
      << fmt("%.0f", facts.latency_rate) << " ev/s\n\n";
  out << table();
  if (json.contains("same_rows_checked"))
    out << "\nSame rows in (a), (a') and (b): " << (failures.empty() ? "yes" : "NO") << "\n";
  for (const auto& failure : failures) out << "FAILURE: " << failure << "\n";
  return out.str();
}

std::string Report::table() const {
  std::ostringstream out;
  const double base = ceiling_rate();
  out << "| mode | events | events/s | vs (a) | latency p50 ms | latency p99 ms | peak RSS MiB | steady RSS MiB | DB bytes/event |\n";
  out << "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : rows) {
    if (!row.ran) {
      out << "| " << row.label << " | — | skipped: " << row.skipped << " | | | | | | |\n";
      continue;
    }
    const bool throughput = row.key == "a" || row.key == "a_2" || row.key == "a2" || row.key == "a3" || row.key == "b" ||
                            row.key == "b_tuned" || row.key == "c" || row.key == "d" || row.key.rfind("x_", 0) == 0;
    out << "| " << row.label << " | " << row.events << " | ";
    if (throughput) out << fmt("%.0f", row.events_per_second);
    else out << "(" << fmt("%.0f", row.events_per_second) << " offered)";
    out << " | " << (throughput && base > 0 ? fmt("%.0f%%", 100.0 * row.events_per_second / base) : std::string("")) << " | ";
    if (row.latency) out << fmt("%.1f", row.latency->p50) << " | " << fmt("%.1f", row.latency->p99);
    else out << " | ";
    out << " | " << (row.peak_rss_mib >= 0 ? fmt("%.1f", row.peak_rss_mib) : "") << " | "
        << (row.steady_rss_mib >= 0 ? fmt("%.1f", row.steady_rss_mib) : "") << " | "
        << (row.bytes_per_event >= 0 ? fmt("%.0f", row.bytes_per_event) : "") << " |\n";
  }
  out << "\nNotes:\n";
  for (const auto& row : rows) {
    std::string text;
    if (row.ran && !row.latency_how.empty()) text += "latency: " + row.latency_how;
    for (const auto& note : row.notes) text += (text.empty() ? "" : "; ") + note;
    if (!text.empty()) out << "- " << row.label << ": " << text << "\n";
  }
  if (json.contains("space_by_object_a")) {
    const Json& space = json["space_by_object_a"];
    const Row* a = find("a");
    if (a && a->ran && !space.contains("error")) {
      out << "\nWhere the bytes of (a) are (dbstat, after checkpoint; bytes per event):\n\n| object | MiB | bytes/event |\n|---|---:|---:|\n";
      std::vector<std::pair<std::int64_t, std::string>> sorted;
      for (auto& [name, bytes] : space.items()) sorted.emplace_back(bytes.get<std::int64_t>(), name);
      std::sort(sorted.rbegin(), sorted.rend());
      for (const auto& [bytes, name] : sorted) {
        if (bytes < 1 << 20) continue;
        out << "| " << name << " | " << fmt("%.1f", static_cast<double>(bytes) / 1048576.0) << " | "
            << fmt("%.0f", static_cast<double>(bytes) / static_cast<double>(a->events)) << " |\n";
      }
    }
  }
  if (json.contains("reads")) {
    const Json& reads = json["reads"];
    out << "\nReads (in-process StoreReader, " << reads["events"].get<std::uint64_t>() << " events over "
        << reads["customers"].get<std::uint64_t>() << " customers, " << fmt("%.0f", reads["db_bytes"].get<double>() / 1048576.0)
        << " MiB):\n\n";
    out << "| query | n | p50 ms | p99 ms | max ms | hits (mean) |\n|---|---:|---:|---:|---:|---:|\n";
    const Json& p = reads["profile_ms"];
    out << "| profile CUSTOMER_ID (timeline 100) | " << p["n"] << " | " << fmt("%.2f", p["p50"]) << " | "
        << fmt("%.2f", p["p99"]) << " | " << fmt("%.2f", p["max"]) << " | |\n";
    const Json& s = reads["search_ms"];
    out << "| search, all classes | " << s["n"] << " | " << fmt("%.2f", s["p50"]) << " | " << fmt("%.2f", s["p99"])
        << " | " << fmt("%.2f", s["max"]) << " | |\n";
    for (const auto& c : reads["search_by_class"])
      out << "| search: " << c["class"].get<std::string>() << " | " << c["n"] << " | " << fmt("%.2f", c["p50"]) << " | "
          << fmt("%.2f", c["p99"]) << " | " << fmt("%.2f", c["max"]) << " | " << fmt("%.1f", c["mean_hits"]) << " |\n";
  }
  if (json.contains("http")) {
    const Json& http = json["http"];
    out << "\nHTTP (`customeriq serve`, NATS off, on a copy of the read database; load generator on the same "
           "machine):\n\n";
    out << "| requests | connections | requests/s | p50 ms | p99 ms | max ms | errors |\n"
           "|---|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& [key, label] : {std::pair{"profile", "GET /v1/customers/{id}"},
                                     std::pair{"timeline_page", "GET /v1/customers/{id}/timeline?limit=50"},
                                     std::pair{"profile_during_ingest", "GET /v1/customers/{id}, ingest beside it"}}) {
      if (!http.contains(key)) continue;
      const Json& row = http[key];
      const Json& p = row["latency_ms"];
      out << "| " << label << " | " << row["connections"] << " | " << fmt("%.0f", row["requests_per_second"]) << " | "
          << fmt("%.2f", p["p50"]) << " | " << fmt("%.2f", p["p99"]) << " | " << fmt("%.2f", p["max"]) << " | "
          << row["errors"] << " |\n";
    }
    if (http.contains("baseline_profile_reads_per_second"))
      out << "\nBaseline: StoreReader::profile in-process on one thread, "
          << fmt("%.0f", http["baseline_profile_reads_per_second"]) << " reads/s; HTTP profile at "
          << http["profile"]["connections"] << " connections = "
          << fmt("%.2f", http["profile"]["ratio_to_baseline"]) << "x of it. Ingest beside it offered "
          << fmt("%.0f", http["profile_during_ingest"]["ingest_events_per_second_offered"]) << " events/s.\n";
    if (http.contains("fan_out")) {
      const Json& fan = http["fan_out"];
      const Json& last = fan["delay_to_last_client_ms"];
      out << "\nStream fan-out: " << fan["clients"] << " clients, " << fan["rounds"]
          << " events (POST sent to the last client's receipt): p50 " << fmt("%.1f", last["p50"]) << " ms, p99 "
          << fmt("%.1f", last["p99"]) << " ms, max " << fmt("%.1f", last["max"]) << " ms. Idle streams cost "
          << fmt("%.1f", fan["idle_streams_cost_mib"]) << " MiB of server RSS.\n";
    }
  }
  return out.str();
}

Json Report::rows_json() const {
  Json out = Json::array();
  for (const auto& row : rows) {
    Json r = {{"key", row.key}, {"label", row.label}, {"ran", row.ran}};
    if (!row.ran) {
      r["skipped"] = row.skipped;
    } else {
      r["events"] = row.events;
      r["seconds"] = row.seconds;
      r["events_per_second"] = row.events_per_second;
      if (row.latency)
        r["latency_ms"] = {{"p50", row.latency->p50}, {"p99", row.latency->p99}, {"max", row.latency->max}, {"how", row.latency_how}};
      r["peak_rss_mib"] = row.peak_rss_mib;
      r["steady_rss_mib"] = row.steady_rss_mib;
      r["db_bytes_per_event"] = row.bytes_per_event;
      r["notes"] = row.notes;
      r["extra"] = row.extra;
    }
    out.push_back(r);
  }
  return out;
}

Json Report::full_json() const {
  Json out = json;
  out["rows"] = rows_json();
  out["table_facts"] = facts_by_mode;
  out["failures"] = failures;
  return out;
}

Json machine_facts(const std::filesystem::path& customeriq) {
  Json facts;
  facts["nproc"] = sysconf(_SC_NPROCESSORS_ONLN);
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      facts["cpu"] = line.substr(line.find(':') + 2);
      break;
    }
  }
  struct utsname u {};
  if (uname(&u) == 0) facts["kernel"] = std::string(u.sysname) + " " + u.release;
  facts["sqlite"] = sqlite3_libversion();
  facts["build_type"] = BENCH_BUILD_TYPE;
  facts["compiler"] = __VERSION__;
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) facts["loadavg_at_start"] = {load[0], load[1], load[2]};
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  facts["memory_gib"] = static_cast<double>(pages) * static_cast<double>(page) / (1 << 30);
  facts["customeriq"] = customeriq.string();
  return facts;
}

}  // namespace customeriq::bench
