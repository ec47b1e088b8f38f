// Shared by the tests: running the real binary (child processes:
// child_process.hpp; temporary folders: temp_dir.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "temp_dir.hpp"

namespace SQLite {
class Database;
}

namespace customeriq::test {

// How many times slower this build runs than an uninstrumented one, for the
// few waits that bound a whole drain or shutdown (ThreadSanitizer runs the
// writer 5 to 15 times slower). A sanitizer build compiles the tests too.
#if defined(__SANITIZE_THREAD__)
inline constexpr int sanitizer_slowdown = 10;
#elif defined(__SANITIZE_ADDRESS__)
inline constexpr int sanitizer_slowdown = 3;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr int sanitizer_slowdown = 10;
#elif __has_feature(address_sanitizer)
inline constexpr int sanitizer_slowdown = 3;
#else
inline constexpr int sanitizer_slowdown = 1;
#endif
#else
inline constexpr int sanitizer_slowdown = 1;
#endif

// The rows of sql, columns joined by '|', rows by newlines, NULL for null
// and REAL as SQLite prints it.
std::string rows_as_text(SQLite::Database& db, const std::string& sql);

// Runs the customeriq binary built with this tree. The database and the
// pipeline come from the caller's args; CUSTOMERIQ_* variables of the
// test's own environment are not passed on.
ProcessResult run_customeriq(const std::vector<std::string>& args, ProcessOptions options = {});

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& text);

// The source tree's folders, for fixtures and pipelines.
std::filesystem::path source_dir();
std::filesystem::path plugin_dir();       // the bundled plugins of this build
std::filesystem::path test_plugin_dir();  // test-only plugins (fixtures)

}  // namespace customeriq::test
