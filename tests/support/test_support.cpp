#include "test_support.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace customeriq::test {

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
