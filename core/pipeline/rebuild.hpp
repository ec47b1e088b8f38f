// Rebuild: every retained raw event of a database, in its original commit
// order, through a pipeline into another database, with the merges and
// unmerges at their places in that order (docs/LIFECYCLE.md). Resumable:
// the target's audit rows remember which source row each one replayed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "pipeline/pipeline.hpp"
#include "pipeline/writer_thread.hpp"
#include "store/store_writer.hpp"

namespace customeriq {

struct RebuildOptions {
  WriterOptions store;
  WriterThreadOptions writer;
  // Called about every two seconds: replayed so far, and the total.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

struct RebuildSummary {
  std::uint64_t total = 0;    // source audit rows to replay (after resuming)
  std::uint64_t resumed_after = 0;  // the source audit id the target already had
  std::uint64_t events = 0, applied = 0, duplicates = 0, dead_lettered = 0, suppressed = 0, failed = 0;
  std::uint64_t merges = 0, unmerges = 0, refused = 0;  // lifecycle steps replayed, and refused
  std::uint64_t without_raw = 0;  // events whose raw bytes are not kept (e.g. their timeline row was deleted by hand)
  double seconds = 0;
  nlohmann::json to_json() const;
};

// Throws std::runtime_error when target is the source, or holds data that
// is not a rebuild (of anything); StoreError for a database that cannot be
// opened.
RebuildSummary rebuild_store(const std::filesystem::path& source, const std::filesystem::path& target,
                             const Pipeline& pipeline, const RebuildOptions& options);

// Every difference between two databases' profile data (customers, their
// rows, applied keys, dead letters, aliases, merges, suppressions), compared
// as multisets of rows without the columns that only say when a row was
// written or which number it got. on_difference gets {table, only_in:
// "live"|"rebuilt", row}; returns {differences, tables: {table: {live_only,
// rebuilt_only}}}.
nlohmann::json diff_stores(const std::filesystem::path& live, const std::filesystem::path& rebuilt,
                           const std::function<void(const nlohmann::json&)>& on_difference);

}  // namespace customeriq
