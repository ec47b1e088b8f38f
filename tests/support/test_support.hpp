// Shared by the tests: temporary folders and running the real binary.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace SQLite {
class Database;
}

namespace customeriq::test {

// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::map<std::string, std::string> env;  // set on top of the test's environment
  std::vector<std::string> unset_env;      // removed from the child's environment
  std::optional<std::filesystem::path> working_directory;
  std::optional<std::string> stdin_text;
};

// The test's environment with options.env set and options.unset_env removed,
// as NAME=value strings for execve.
std::vector<std::string> child_environment(const ProcessOptions& options);

// The rows of sql, columns joined by '|', rows by newlines, NULL for null
// and REAL as SQLite prints it.
std::string rows_as_text(SQLite::Database& db, const std::string& sql);

// Runs program with args, waits, and returns its exit code and output.
ProcessResult run_process(const std::filesystem::path& program, const std::vector<std::string>& args,
                          const ProcessOptions& options = {});

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
