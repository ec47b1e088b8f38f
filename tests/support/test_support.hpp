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
