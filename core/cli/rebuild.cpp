// customeriq rebuild: replay the retained events into a new database, or
// prove that a rebuild gives the live data back (--check).
#include <stdlib.h>

#include <iostream>

#include <spdlog/spdlog.h>

#include "common.hpp"
#include "pipeline/rebuild.hpp"

namespace customeriq::cli {
namespace {

RebuildOptions rebuild_options(const Settings& settings, const Pipeline& pipeline, bool quiet) {
  RebuildOptions options;
  options.store = store_options(settings, pipeline.config());
  options.writer = writer_options(pipeline.config());
  if (!quiet) {
    options.progress = [](std::uint64_t done, std::uint64_t total) {
      spdlog::info("[Rebuild] {} of {} audit rows replayed", done, total);
    };
  }
  return options;
}

// A private folder of its own for the --check rebuild, removed afterwards.
struct ScratchFolder {
  std::filesystem::path path;
  bool keep = false;
  ScratchFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "customeriq-check-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a folder for the check's rebuild");
    path = pattern;
  }
  ~ScratchFolder() {
    std::error_code ignored;
    if (!keep) std::filesystem::remove_all(path, ignored);
  }
};

int run_rebuild(Args& args, const GlobalOptions& global) {
  const auto into = args.option("--into");
  const bool check = args.flag("--check");
  const bool keep = args.flag("--keep");
  const bool quiet = args.flag("--quiet");
  args.positionals(0);
  if (into.has_value() == check) throw UsageError("rebuild needs --into NEW.db or --check (one of them)");
  if (into && into->empty()) throw UsageError("--into needs a file name");
  if (keep && !check) throw UsageError("--keep goes with --check");

  const Settings settings = settings_for(global);
  auto pipeline = load_pipeline(settings);
  const RebuildOptions options = rebuild_options(settings, *pipeline, quiet);
  if (into) {
    const RebuildSummary summary = rebuild_store(settings.database, *into, *pipeline, options);
    std::cout << summary.to_json().dump(2) << "\n";
    return summary.failed ? 1 : 0;
  }

  ScratchFolder scratch;
  scratch.keep = keep;
  const auto rebuilt = scratch.path / "rebuilt.db";
  const RebuildSummary summary = rebuild_store(settings.database, rebuilt, *pipeline, options);
  Json report = diff_stores(settings.database, rebuilt, [](const Json& difference) {
    std::cout << difference.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  });
  report["rebuild"] = summary.to_json();
  if (keep) report["rebuilt_database"] = rebuilt.string();
  std::cout << report.dump(2) << "\n";
  return report["differences"].get<std::int64_t>() == 0 && summary.failed == 0 ? 0 : 1;
}

}  // namespace

const Command kRebuildCommand{
    "rebuild", "Replay every retained event into a new database, or --check the live one",
    R"(usage: customeriq rebuild --into NEW.db [--pipeline FILE] [--quiet]
       customeriq rebuild --check [--pipeline FILE] [--keep] [--quiet]

Runs every event the database keeps the raw bytes of (applied and
dead-lettered ones, from the audit log), in the order they were committed,
through the pipeline (the current one, or --pipeline FILE) into NEW.db, and
makes the merges and unmerges again at their places in that order. This is
how a new plugin or summarizer is applied to history. Erasure receipts and
suppressions are carried over. Logs progress; prints a JSON summary.
Resumable: run the same command again after an interruption and it goes
on after the last committed event.

--check rebuilds into a temporary file and compares it with the live
database: every row that differs is printed as a JSON line {table,
only_in: "live"|"rebuilt", row}, then a summary with the count per table.
On an unchanged pipeline a rebuild gives the live data back: zero
differences. Write times and row numbers are not compared.

  --into NEW.db     the database to rebuild into: new, or one this command
                    was building (resumes)
  --check           rebuild to a temporary file and report differences
  --keep            with --check: keep the rebuilt file and print its path
  --quiet           no progress lines on stderr

exit codes: 0 ok (--check: no difference), 1 differences found, events
that could not be committed, or NEW.db holds other data, 2 usage or
configuration error, 3 a database cannot be opened or used
)",
    run_rebuild};

}  // namespace customeriq::cli
