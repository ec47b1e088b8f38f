// Bad input through the real binary: each case is dead-lettered with a clear
// reason and one log line, and the good event after it is still applied.
#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

using namespace customeriq::test;

namespace {

const std::string kGoodEvent =
    R"({"event_id":"good-1","customer_id":"cust_ok","event_type":"contact","timestamp":1734134400,"data":{"subject":"Hello"}})";

// The default pipeline plus a plugin that throws, and a 4 KiB size limit.
std::string test_pipeline() {
  return "plugin_path: [" + test_plugin_dir().string() + "]\n" + R"(
summarizer: {plugin: truncate, threshold: 500}
handlers:
  - plugin: purchase
  - plugin: contact
  - plugin: throwing
limits:
  max_event_bytes: 4096
)";
}

struct Outcome {
  ProcessResult result;
  std::string reason;
  std::string raw;
  std::string subject;
  int good_events = 0;
};

Outcome ingest_bad_line(const std::string& bad_line) {
  TempDir dir;
  write_file(dir / "pipeline.yaml", test_pipeline());
  write_file(dir / "events.jsonl", bad_line + "\n" + kGoodEvent + "\n");
  Outcome outcome;
  outcome.result = run_customeriq({"--db", (dir / "db.sqlite").string(), "--pipeline", (dir / "pipeline.yaml").string(),
                                   "ingest", (dir / "events.jsonl").string()});
  SQLite::Database db((dir / "db.sqlite").string(), SQLite::OPEN_READONLY);
  SQLite::Statement letters(db, "SELECT reason, CAST(raw AS TEXT), subject FROM dead_letters");
  if (letters.executeStep()) {
    outcome.reason = letters.getColumn(0).getString();
    outcome.raw = letters.getColumn(1).getString();
    outcome.subject = letters.getColumn(2).getString();
  }
  CHECK_FALSE(letters.executeStep());  // exactly one dead letter
  outcome.good_events = db.execAndGet("SELECT count(*) FROM customer_events WHERE customer_id = 'cust_ok'").getInt();
  return outcome;
}

void check_kept(const Outcome& outcome, const std::string& bad_line, const std::string& reason) {
  INFO(outcome.result.err);
  CHECK(outcome.result.exit_code == 0);
  CHECK_THAT(outcome.result.out, Catch::Contains("2 events: 1 applied, 0 duplicates, 1 dead-lettered"));
  CHECK(outcome.reason == reason);
  CHECK(outcome.raw == bad_line);
  CHECK_THAT(outcome.subject, Catch::EndsWith("events.jsonl:1"));
  CHECK(outcome.good_events == 1);
  // One clear log line that carries the reason.
  CHECK_THAT(outcome.result.err, Catch::Contains("Dead letter from") && Catch::Contains(reason));
}

}  // namespace

TEST_CASE("not JSON is dead-lettered", "[bad-input]") {
  const std::string bad = R"({"customer_id": "c1", "event_type": )";
  auto outcome = ingest_bad_line(bad);
  CHECK_THAT(outcome.reason, Catch::StartsWith("not valid JSON: ") && Catch::Contains("parse error"));
  check_kept(outcome, bad, outcome.reason);
}

TEST_CASE("JSON that is not an object is dead-lettered", "[bad-input]") {
  const std::string bad = R"(["purchase"])";
  check_kept(ingest_bad_line(bad), bad, "event must be a JSON object, got array");
}

TEST_CASE("an event without event_type is dead-lettered", "[bad-input]") {
  const std::string bad = R"({"customer_id":"c1","data":{}})";
  check_kept(ingest_bad_line(bad), bad, "event_type is required");
}

TEST_CASE("envelope fields of the wrong type are dead-lettered", "[bad-input]") {
  const std::string bad = R"({"customer_id":42,"event_type":"contact"})";
  check_kept(ingest_bad_line(bad), bad, "customer_id must be a string, got number 42");
}

TEST_CASE("a data field of the wrong type (total \"abc\") is dead-lettered", "[bad-input]") {
  const std::string bad =
      R"({"customer_id":"c1","event_type":"purchase","data":{"purchase_id":"o1","total":"abc"}})";
  check_kept(ingest_bad_line(bad), bad,
             "invalid purchase event (plugin purchase): data.total must be a number, got string \"abc\"");
}

TEST_CASE("an event with no customer identity is dead-lettered", "[bad-input]") {
  const std::string bad = R"({"event_type":"contact","data":{"subject":"who am I"}})";
  check_kept(ingest_bad_line(bad), bad,
             "no customer identity: customer_id, data.email or data.customer_email is required");
}

TEST_CASE("a plugin that throws dead-letters the event, not the process", "[bad-input]") {
  const std::string bad = R"({"event_id":"x1","customer_id":"c1","event_type":"explode"})";
  check_kept(ingest_bad_line(bad), bad, "plugin throwing failed: boom while handling x1");
}

TEST_CASE("a plugin that throws a non-exception dead-letters the event", "[bad-input]") {
  const std::string bad = R"({"customer_id":"c1","event_type":"explode","data":{"throw":"int"}})";
  check_kept(ingest_bad_line(bad), bad, "plugin throwing threw a non-standard exception");
}

TEST_CASE("an event type no handler takes is dead-lettered", "[bad-input]") {
  const std::string bad = R"({"customer_id":"c1","event_type":"teleport"})";
  auto outcome = ingest_bad_line(bad);
  CHECK_THAT(outcome.reason, Catch::StartsWith("no handler for event_type 'teleport' in "));
  check_kept(outcome, bad, outcome.reason);
}

TEST_CASE("a payload over the size limit is dead-lettered whole", "[bad-input]") {
  const std::string bad = R"({"customer_id":"c1","event_type":"contact","data":{"message":")" +
                          std::string(5000, 'x') + "\"}}";
  check_kept(ingest_bad_line(bad), bad,
             "payload is " + std::to_string(bad.size()) + " bytes, over the limit of 4096 (limits.max_event_bytes)");
}

TEST_CASE("the default size limit is 1 MiB", "[bad-input]") {
  TempDir dir;
  const std::string big = R"({"customer_id":"c1","event_type":"contact","data":{"message":")" +
                          std::string(1 << 20, 'x') + "\"}}";
  write_file(dir / "events.jsonl", big + "\n");
  auto result = run_customeriq({"--db", (dir / "db.sqlite").string(), "ingest", (dir / "events.jsonl").string()});
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("1 dead-lettered"));
  CHECK_THAT(result.err, Catch::Contains("over the limit of 1048576"));
}

TEST_CASE("a number too large for a double dead-letters its event only, and ingest goes on", "[bad-input]") {
  TempDir dir;
  const std::string events =
      R"({"event_id":"a","customer_id":"c","event_type":"note","data":{"content":"x"}})" "\n"
      R"({"customer_id":"c","event_type":"purchase","data":{"purchase_id":"o","total":1e400}})" "\n"
      R"({"event_id":"b","customer_id":"c","event_type":"note","data":{"content":"y"}})" "\n";
  auto result = run_customeriq({"--db", (dir / "o.db").string(), "ingest", "-"}, {.stdin_text = events});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("ingested 3 events: 2 applied, 0 duplicates, 1 dead-lettered"));
  CHECK_THAT(result.err, Catch::Contains("Dead letter from file:stdin:2: not valid JSON: "
                                         "[json.exception.out_of_range.406] number overflow parsing '1e400'"));
}

TEST_CASE("200000 nested arrays are dead-lettered, not a stack overflow", "[bad-input]") {
  const std::size_t n = 200000;
  const std::string bad =
      R"({"customer_id":"c","event_type":"x","data":{"a":)" + std::string(n, '[') + std::string(n, ']') + "}}";
  TempDir dir;
  write_file(dir / "events.jsonl", bad + "\n" + kGoodEvent + "\n");
  auto result = run_customeriq({"--db", (dir / "db.sqlite").string(), "ingest", (dir / "events.jsonl").string()});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("2 events: 1 applied, 0 duplicates, 1 dead-lettered"));
  CHECK_THAT(result.err, Catch::Contains("JSON nests more than 64 arrays/objects deep"));
}

TEST_CASE("ids with surrounding spaces or control characters, a NUL after the JSON, bad timestamps",
          "[bad-input]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"customer_id":"c1 ","event_type":"contact"})", "customer_id must not begin or end with whitespace, got \"c1 \""},
      {R"({"customer_id":"c\u0000d","event_type":"contact"})",
       "customer_id must not contain control characters, got \"c\\u0000d\""},
      {std::string(R"({"customer_id":"c1","event_type":"contact"})") + '\0' + "junk", "payload holds a NUL byte at offset 43"},
      {R"({"customer_id":"c1","event_type":"contact","timestamp":9.3e21})",
       "timestamp must be unix seconds (or milliseconds) or an ISO-8601 time like 2024-12-14T00:00:00Z, between "
       "1970 and 9999, got 9.3e+21"},
      {R"({"customer_id":"c1","event_type":"contact","timestamp":"2024-13-45T99:99:99Z"})",
       "timestamp must be unix seconds (or milliseconds) or an ISO-8601 time like 2024-12-14T00:00:00Z, between "
       "1970 and 9999, got \"2024-13-45T99:99:99Z\""},
  };
  for (const auto& [bad, reason] : cases) {
    INFO(bad);
    check_kept(ingest_bad_line(bad), bad, reason);
  }
}

TEST_CASE("two different bad payloads with one event_id keep a dead letter each", "[bad-input]") {
  TempDir dir;
  write_file(dir / "events.jsonl",
             R"({"event_id":"dup","customer_id":"c1","event_type":"purchase","data":{"total":"abc","purchase_id":"o"}})" "\n"
             R"({"event_id":"dup","customer_id":"c1","event_type":"purchase","data":{"total":1}})" "\n");
  auto result = run_customeriq({"--db", (dir / "db.sqlite").string(), "ingest", (dir / "events.jsonl").string()});
  CHECK_THAT(result.out, Catch::Contains("2 dead-lettered"));
  SQLite::Database db((dir / "db.sqlite").string(), SQLite::OPEN_READONLY);
  CHECK(rows_as_text(db, "SELECT reason FROM dead_letters ORDER BY id") ==
        "invalid purchase event (plugin purchase): data.total must be a number, got string \"abc\"\n"
        "invalid purchase event (plugin purchase): data.purchase_id is required");
}

TEST_CASE("dead-letters prints valid JSON for a payload that is not UTF-8", "[bad-input]") {
  TempDir dir;
  const std::string bad = "{\"customer_id\":\"c\xff\",\"event_type\":\"note\"}";
  write_file(dir / "events.jsonl", bad + "\n");
  run_customeriq({"--db", (dir / "db.sqlite").string(), "ingest", (dir / "events.jsonl").string()});
  auto listed = run_customeriq({"--db", (dir / "db.sqlite").string(), "dead-letters"});
  INFO(listed.err);
  REQUIRE(listed.exit_code == 0);
  const auto row = nlohmann::json::parse(listed.out);
  CHECK(row["raw_base64"] == "eyJjdXN0b21lcl9pZCI6ImP/IiwiZXZlbnRfdHlwZSI6Im5vdGUifQ==");
  CHECK_FALSE(row.contains("raw"));
  CHECK_THAT(row["reason"].get<std::string>(), Catch::StartsWith("not valid JSON: "));
}

TEST_CASE("search --fts with a column filter searches the kinds that have that column", "[bad-input]") {
  TempDir dir;
  auto ingested = run_customeriq({"--db", (dir / "db.sqlite").string(), "ingest",
                                  (source_dir() / "examples/events/seed.jsonl").string()});
  REQUIRE(ingested.exit_code == 0);
  auto by_title = run_customeriq({"--db", (dir / "db.sqlite").string(), "search", "--fts", "title:product"});
  INFO(by_title.err);
  REQUIRE(by_title.exit_code == 0);
  const auto hits = nlohmann::json::parse(by_title.out);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]["title"] == "Product not working");
  auto unknown = run_customeriq({"--db", (dir / "db.sqlite").string(), "search", "--fts",
                                 "nosuchcolumn:x " + std::string(5000, 'q')});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("no such column"));
  CHECK(unknown.err.size() < 400);  // the query is not echoed whole
}
