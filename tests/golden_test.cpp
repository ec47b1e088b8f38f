// Golden cases: plain-text files under tests/golden/, events in → rows out.
// Each line is one of these; a block (events:, query:, run:) runs to a
// blank line:
//
//   # comment                    outside blocks
//   pipeline: FILE               optional: the pipeline, relative to the .test
//                                file; the bundled default.yaml when absent
//   plugin_path: DIR             optional: a plugin folder, relative to the
//                                build folder (tests/plugins holds the
//                                test-only plugins of tests/fixtures), given as
//                                CUSTOMERIQ_PLUGIN_DIR: the bundled pipeline's
//                                plugin_path reads it, a pipeline: file must too
//   database: FILE.sql           optional, may repeat: SQL run in the fresh
//                                database first (tests/fixtures/FILE.sql)
//   env: NAME=value              optional, may repeat, for the ingest and the
//                                run: lines
//   events:                      then one JSON event per line
//   {"event_type": ...}
//   ingest: TEXT                 optional: the ingest's summary line contains
//                                TEXT ("ingested 3 events: 3 applied, …")
//   log: TEXT                    optional, may repeat: the ingest's stderr
//                                contains TEXT
//   query: SELECT ...            the SQL, on as many lines as it takes, then
//          ...                   ---- and the expected rows: columns joined by
//   ----                         |, NULL for null, REAL as SQLite prints it
//   row|row
//   run: COMMAND ARGS            customeriq COMMAND ARGS (split on spaces) on
//   ----                         the database, which must exit 0 and print
//   line                         lines containing each expected line, in
//                                this order
//
// Every file is fed through the real `customeriq ingest` with its pipeline,
// into a fresh database; queries and runs follow, in the file's order.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "support/test_support.hpp"

using namespace customeriq::test;

namespace {

// The build folder: the binary is its bin/customeriq.
std::filesystem::path build_dir() { return std::filesystem::path(CUSTOMERIQ_BINARY).parent_path().parent_path(); }

struct GoldenCheck {
  enum Kind { query, run } kind = query;
  std::string text;  // the SQL, or the command's arguments
  std::string expected;
  int line = 0;
};

struct GoldenCase {
  std::optional<std::filesystem::path> pipeline;
  std::optional<std::filesystem::path> plugin_path;
  std::vector<std::string> databases;
  std::string events;
  std::map<std::string, std::string> env;
  std::string summary;
  std::vector<std::string> logs;
  std::vector<GoldenCheck> checks;
};

std::vector<std::string> split_on_spaces(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// Each expected line is part of an output line, after the previous one's.
std::string missing_line(const std::string& output, const std::string& expected) {
  std::istringstream out(output), wanted(expected);
  std::string line, want;
  while (std::getline(wanted, want)) {
    bool found = false;
    while (!found && std::getline(out, line)) found = line.find(want) != std::string::npos;
    if (!found) return want;
  }
  return "";
}

GoldenCase parse(const std::filesystem::path& file) {
  std::ifstream in(file);
  GoldenCase golden;
  std::string line;
  int number = 0;
  enum { none, events, check_text, check_expected } state = none;
  while (std::getline(in, line)) {
    ++number;
    if (state == none && (line.empty() || line[0] == '#')) continue;
    if (line.empty()) {
      state = none;
      continue;
    }
    if (state == events) {
      golden.events += line + "\n";
    } else if (state == check_text) {
      if (line == "----") state = check_expected;
      else golden.checks.back().text += " " + line;
    } else if (state == check_expected) {
      auto& expected = golden.checks.back().expected;
      expected += (expected.empty() ? "" : "\n") + line;
    } else if (line.rfind("pipeline: ", 0) == 0) {
      golden.pipeline = file.parent_path() / line.substr(10);
    } else if (line.rfind("plugin_path: ", 0) == 0) {
      golden.plugin_path = build_dir() / line.substr(13);
    } else if (line.rfind("database: ", 0) == 0) {
      golden.databases.push_back(line.substr(10));
    } else if (line == "events:") {
      state = events;
    } else if (line.rfind("env: ", 0) == 0) {
      const auto assignment = line.substr(5);
      golden.env[assignment.substr(0, assignment.find('='))] = assignment.substr(assignment.find('=') + 1);
    } else if (line.rfind("ingest: ", 0) == 0) {
      golden.summary = line.substr(8);
    } else if (line.rfind("log: ", 0) == 0) {
      golden.logs.push_back(line.substr(5));
    } else if (line.rfind("query: ", 0) == 0) {
      golden.checks.push_back({GoldenCheck::query, line.substr(7), "", number});
      state = check_text;
    } else if (line.rfind("run: ", 0) == 0) {
      golden.checks.push_back({GoldenCheck::run, line.substr(5), "", number});
      state = check_text;
    } else {
      FAIL(file.string() << ":" << number << ": unexpected line: " << line);
    }
  }
  return golden;
}

}  // namespace

TEST_CASE("golden cases: events in, rows out", "[golden]") {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "tests/golden"))
    if (entry.path().extension() == ".test") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 5);

  for (const auto& file : files) {
    DYNAMIC_SECTION(file.filename().string()) {
      const GoldenCase golden = parse(file);
      REQUIRE_FALSE(golden.events.empty());
      REQUIRE_FALSE(golden.checks.empty());
      TempDir dir;
      const auto database = dir / "db.sqlite";
      if (!golden.databases.empty()) {
        SQLite::Database db(database.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        for (const auto& sql : golden.databases) db.exec(read_file(source_dir() / "tests/fixtures" / sql));
      }
      write_file(dir / "events.jsonl", golden.events);
      ProcessOptions options;
      options.env = golden.env;
      std::vector<std::string> common{"--db", database.string()};
      if (golden.pipeline) {
        REQUIRE(std::filesystem::exists(*golden.pipeline));
        common.insert(common.end(), {"--pipeline", golden.pipeline->string()});
      }
      if (golden.plugin_path) {
        REQUIRE(std::filesystem::is_directory(*golden.plugin_path));
        options.env["CUSTOMERIQ_PLUGIN_DIR"] = golden.plugin_path->string();
      }
      auto ingest = common;
      ingest.insert(ingest.end(), {"ingest", "--quiet", (dir / "events.jsonl").string()});
      auto result = run_customeriq(ingest, options);
      INFO(result.err);
      REQUIRE(result.exit_code == 0);
      if (!golden.summary.empty()) CHECK_THAT(result.out, Catch::Contains(golden.summary));
      for (const auto& log : golden.logs) CHECK_THAT(result.err, Catch::Contains(log));

      for (const auto& check : golden.checks) {
        INFO(file.filename().string() << ":" << check.line << ":" << check.text);
        if (check.kind == GoldenCheck::query) {
          SQLite::Database db(database.string(), SQLite::OPEN_READONLY);
          CHECK(rows_as_text(db, check.text) == check.expected);
          continue;
        }
        std::vector<std::string> args = common;
        for (auto& word : split_on_spaces(check.text)) args.push_back(std::move(word));
        const auto run = run_customeriq(args, options);
        INFO(run.out << run.err);
        CHECK(run.exit_code == 0);
        CHECK(missing_line(run.out, check.expected) == "");
      }
    }
  }
}
