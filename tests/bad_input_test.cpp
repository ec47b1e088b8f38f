// Bad input through the real binary: each case is dead-lettered with a clear
// reason and one log line, and the good event after it is still applied.
#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

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
