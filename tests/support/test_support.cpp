#include "test_support.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace customeriq::test {

TempDir::TempDir() {
  std::random_device random;
  const auto base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = base / ("customeriq-test-" + std::to_string(random()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary folder");
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<std::string> child_environment(const ProcessOptions& options) {
  std::vector<std::string> environment;
  for (char** entry = environ; *entry; ++entry) {
    std::string text = *entry;
    const std::string name = text.substr(0, text.find('='));
    bool drop = options.env.count(name) > 0;
    for (const auto& unset : options.unset_env) drop |= name == unset;
    if (!drop) environment.push_back(std::move(text));
  }
  for (const auto& [name, value] : options.env) environment.push_back(name + "=" + value);
  return environment;
}

std::string rows_as_text(SQLite::Database& db, const std::string& sql) {
  SQLite::Statement statement(db, sql);
  std::string out;
  while (statement.executeStep()) {
    if (!out.empty()) out += "\n";
    for (int i = 0; i < statement.getColumnCount(); ++i) {
      if (i) out += "|";
      const SQLite::Column column = statement.getColumn(i);
      out += column.isNull() ? "NULL" : column.getString();
    }
  }
  return out;
}

ProcessResult run_process(const std::filesystem::path& program, const std::vector<std::string>& args,
                          const ProcessOptions& options) {
  TempDir io;
  const auto out_path = io / "stdout", err_path = io / "stderr", in_path = io / "stdin";
  write_file(in_path, options.stdin_text.value_or(""));

  std::vector<std::string> environment = child_environment(options);

  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int in = open(in_path.c_str(), O_RDONLY);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (options.working_directory && chdir(options.working_directory->c_str()) != 0) _exit(126);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& entry : environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
    execve(program.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

ProcessResult run_customeriq(const std::vector<std::string>& args, ProcessOptions options) {
  for (const char* name : {"CUSTOMERIQ_DB", "CUSTOMERIQ_PIPELINE", "CUSTOMERIQ_LOG_LEVEL",
                           "NATS_SUMMARIZE_THRESHOLD", "NATS_AUTO_CREATE_CUSTOMER", "CUSTOMERIQ_PLUGIN_DIR"}) {
    if (!options.env.count(name)) options.unset_env.push_back(name);
  }
  return run_process(CUSTOMERIQ_BINARY, args, options);
}

std::filesystem::path source_dir() { return CUSTOMERIQ_SOURCE_DIR; }
std::filesystem::path plugin_dir() { return CUSTOMERIQ_PLUGIN_DIR; }
std::filesystem::path test_plugin_dir() { return CUSTOMERIQ_TEST_PLUGIN_DIR; }

}  // namespace customeriq::test
