// What one run measured, and how it is shown: a row per mode step (the
// markdown table and its notes), the facts of each mode's database, the
// JSON report (--json), and the failures that make the bench exit 1.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "latency.hpp"

namespace customeriq::bench {

using Json = nlohmann::json;

// printf-style formatting of one number.
inline std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// n, p50, p99 and max from a child's result JSON ({"n": ..., "p50": ...}).
Percentiles percentiles_from_json(const Json& json);

struct Row {
  std::string key, label;
  bool ran = false;
  std::string skipped;
  std::uint64_t events = 0;
  double seconds = 0;
  double events_per_second = 0;
  std::optional<Percentiles> latency;
  std::string latency_how;
  double peak_rss_mib = -1;
  double steady_rss_mib = -1;
  double bytes_per_event = -1;
  std::vector<std::string> notes;
  Json extra = Json::object();
};

// The header lines above the table.
struct RunFacts {
  Json machine;  // machine_facts()
  double load_at_end = 0;
  std::uint64_t events = 0;
  std::uint32_t customers = 0;
  std::uint64_t seed = 0;
  std::uint64_t events_file_bytes = 0;
  std::size_t latency_events = 0;
  double latency_rate = 0;
};

struct Report {
  std::vector<Row> rows;
  Json facts_by_mode = Json::object();  // table_facts() per mode key
  Json json = Json::object();           // machine, options, events_file, reads, space_by_object_a, ...
  std::vector<std::string> failures;

  // The best of the ceiling's runs (it runs first and again after the
  // service modes, so drift on a shared machine shows and the ratios are
  // taken against the higher figure).
  double ceiling_rate() const;
  const Row* find(const std::string& key) const;
  // (a), (a') and (b) wrote exactly the same rows; else failures.
  void check_same_rows();
  // The whole text on stdout: header, table, notes, (a)'s bytes, reads, failures.
  std::string markdown(const RunFacts& facts) const;
  // The --json file.
  Json full_json() const;

 private:
  std::string table() const;
  Json rows_json() const;
};

// CPUs, CPU model, kernel, SQLite, build type, compiler, load average,
// memory, and the binary measured.
Json machine_facts(const std::filesystem::path& customeriq);

}  // namespace customeriq::bench
