// customeriq_bench's command line: the options, their defaults and --help.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#ifndef CUSTOMERIQ_BINARY
#error "CMake defines CUSTOMERIQ_BINARY"
#endif

namespace customeriq::bench {

struct Options {
  std::uint64_t events = 200'000;
  std::uint32_t customers = 10'000;
  std::uint64_t seed = 20240101;
  std::string mix = "long";  // the generator's mix: long (long text) or seed (seed-sized events)
  std::filesystem::path work_dir = "/tmp/customeriq-bench";
  std::optional<std::filesystem::path> json;
  double latency_rate = 5000;
  double latency_seconds = 10;
  std::uint64_t read_events = 1'000'000;
  std::uint32_t read_customers = 100'000;
  std::vector<std::string> skip;
  bool experiments = false;
  bool smoke = false;
  std::filesystem::path customeriq = CUSTOMERIQ_BINARY;
  std::string nats_server = "nats-server";
  bool skipped(const std::string& mode) const { return std::find(skip.begin(), skip.end(), mode) != skip.end(); }
};

// Parses argv; prints the usage and exits 0 for --help; throws
// std::invalid_argument for an unknown option or a missing value.
Options parse_options(int argc, char** argv);

}  // namespace customeriq::bench
