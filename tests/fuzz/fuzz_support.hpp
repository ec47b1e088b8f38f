// What the libFuzzer targets share: reporting a violated invariant with the
// input that caused it, telling internals apart from messages meant for a
// caller, and a real store seeded with the example events.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace customeriq {
class Pipeline;
class StoreWriter;
class WriterThread;
}  // namespace customeriq

namespace customeriq::fuzz {

// text with bytes outside printable ASCII as \xNN, cut to a readable length.
std::string printable(std::string_view text);

// Prints "==<target>== INVARIANT: <what>" with the input and aborts, which
// libFuzzer reports as a crash and saves the input for.
[[noreturn]] void violation(std::string_view target, std::string_view input, std::string_view what);

// What a message for a caller must not hold: SQL, an SQLite or C++ runtime
// internal, a source location. Returns the offending part, or "". A part
// the input itself holds is the message quoting the caller, not a leak.
std::string internal_detail(std::string_view message, std::string_view input);

// A fresh SQLite file in its own folder under $TMPDIR, migrated, with the
// example events (examples/events/seed.jsonl) written through the default
// pipeline, its real plugins and the writer. The pipeline and writer stay
// up, so a target can submit more. Built once per process, never destroyed.
struct SeededStore {
  std::filesystem::path database;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<StoreWriter> store;
  std::unique_ptr<WriterThread> writer;
};
SeededStore& seeded_store();

}  // namespace customeriq::fuzz
