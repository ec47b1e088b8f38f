// Golden cases: plain-text files under tests/golden/, events in → rows out.
//
//   # comment
//   events:
//   {"event_type": ...}          one JSON event per line, up to a blank line
//   env: NAME=value              optional, for the ingest run
//   ingest: applied 3, duplicates 0, dead-lettered 0    optional summary check
//   query: SELECT ...            then the expected rows, up to a blank line;
//   ----                         columns joined by |, NULL for null, REAL as
//   row|row                      SQLite prints it
//
// Every file is fed through the real `customeriq ingest` with the bundled
// default pipeline, into a fresh database.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "support/test_support.hpp"

using namespace customeriq::test;

namespace {

struct GoldenQuery {
  std::string sql;
  std::string expected;
  int line = 0;
};

struct GoldenCase {
  std::string events;
  std::map<std::string, std::string> env;
  std::string summary;
  std::vector<GoldenQuery> queries;
};

GoldenCase parse(const std::filesystem::path& file) {
  std::ifstream in(file);
  GoldenCase golden;
  std::string line;
  int number = 0;
  enum { none, events, query_sql, query_rows } state = none;
  while (std::getline(in, line)) {
    ++number;
    if (state == none && (line.empty() || line[0] == '#')) continue;
    if (line.empty()) {
      state = none;
      continue;
    }
    if (state == events) {
      golden.events += line + "\n";
    } else if (state == query_sql) {
      if (line == "----") state = query_rows;
      else golden.queries.back().sql += " " + line;
    } else if (state == query_rows) {
      auto& expected = golden.queries.back().expected;
      expected += (expected.empty() ? "" : "\n") + line;
    } else if (line == "events:") {
      state = events;
    } else if (line.rfind("env: ", 0) == 0) {
      const auto assignment = line.substr(5);
      golden.env[assignment.substr(0, assignment.find('='))] = assignment.substr(assignment.find('=') + 1);
    } else if (line.rfind("ingest: ", 0) == 0) {
      golden.summary = line.substr(8);
    } else if (line.rfind("query: ", 0) == 0) {
      golden.queries.push_back({line.substr(7), "", number});
      state = query_sql;
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
      REQUIRE_FALSE(golden.queries.empty());
      TempDir dir;
      write_file(dir / "events.jsonl", golden.events);
      ProcessOptions options;
      options.env = golden.env;
      auto result = run_customeriq({"--db", (dir / "db.sqlite").string(), "ingest", "--quiet",
                                    (dir / "events.jsonl").string()},
                                   options);
      INFO(result.err);
      REQUIRE(result.exit_code == 0);
      if (!golden.summary.empty()) CHECK_THAT(result.out, Catch::Contains(golden.summary));

      SQLite::Database db((dir / "db.sqlite").string(), SQLite::OPEN_READONLY);
      for (const auto& query : golden.queries) {
        INFO(file.filename().string() << ":" << query.line << ":" << query.sql);
        CHECK(rows_as_text(db, query.sql) == query.expected);
      }
    }
  }
}
