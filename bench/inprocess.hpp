// The bench's own child modes (`customeriq_bench --internal MODE ...`), run
// as separate processes so each gets a clean peak RSS from wait4:
//   ceiling  (a)  pipeline pre-pass (untimed) + CeilingWriter (timed)
//   writer   (a') pipeline pre-pass (untimed) + StoreWriter::apply_batch (timed):
//                 the project's writer on the same batches, no threads
//   inproc   (b') Pipeline + StoreWriter + WriterThread in one process, fed at a
//                 fixed rate, latency exact from the CommitObserver, and the
//                 DB poller beside it (validates the poller the other modes use)
// Each writes a JSON result file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "event_generator.hpp"

namespace customeriq::bench {

struct InternalArgs {
  std::string mode;
  std::filesystem::path input;                 // JSON-lines file
  std::optional<GeneratorOptions> generate;    // instead of input
  std::filesystem::path db, result;
  std::size_t batch = 1000;
  std::uint64_t limit = 0;                     // 0: all
  double rate = 5000;                          // inproc
  int delay_ms = -1;                           // inproc: override writer.batch_max_delay_ms
  std::string variant;                         // ceiling: schema experiment
};

// Parses argv after "--internal"; throws std::invalid_argument.
InternalArgs parse_internal_args(const std::vector<std::string>& args);
std::vector<std::string> internal_argv(const InternalArgs& args);

int run_internal(const InternalArgs& args);

// Schema experiments for the ceiling (issue 4, item 4): SQL run on the fresh
// database after open_store_for_writing. Name -> description.
std::vector<std::pair<std::string, std::string>> ceiling_variants();

}  // namespace customeriq::bench
