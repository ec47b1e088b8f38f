// How the store meets failure: transient errors retried and recovered from,
// permanent ones failing fast — the event's fault dead-letters that event,
// the database's fault stops the writer with a clear message — and dead
// letters kept one per distinct payload.
#include <catch2/catch.hpp>

#include <chrono>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "pipeline/pipeline.hpp"
#include "pipeline/writer_thread.hpp"
#include "support/store_fixture.hpp"

using namespace customeriq;
using customeriq::test::FreshStore;
using customeriq::test::TempDir;
using customeriq::test::write_item;

namespace {

std::string event_json(int n) {
  return R"({"event_id":"e)" + std::to_string(n) + R"(","customer_id":"cust_1","event_type":"t","timestamp":1000})";
}

sdk::AppendTimelineEvent timeline_row(const std::string& title) { return {.event_type = "t", .title = title}; }

WriteItem dead_letter(std::string reason, std::string raw, std::string key) {
  WriteItem letter;
  letter.content = DeadLetter{std::move(reason), std::move(raw), "subj", {}, "", std::move(key)};
  return letter;
}

std::unique_ptr<Pipeline> default_pipeline(const TempDir& dir) {
  customeriq::test::write_file(dir / "pipeline.yaml",
                               "plugin_path: [" + customeriq::test::plugin_dir().string() + "]\n"
                               "handlers:\n  - plugin: note\n");
  return std::make_unique<Pipeline>(load_pipeline_config(dir / "pipeline.yaml"));
}

RawMessage note_message(int n, std::size_t content_bytes = 1) {
  RawMessage message;
  message.bytes = R"({"event_id":"n)" + std::to_string(n) + R"(","customer_id":"cust_1","event_type":"note","data":{"content":")" +
                  std::string(content_bytes, 'x') + R"("}})";
  message.subject = "test";
  return message;
}

}  // namespace

TEST_CASE_METHOD(FreshStore, "after a transient failure (disk full) the same writer commits the retry", "[store][errors]") {
  writer.apply_batch({write_item(event_json(0), {timeline_row("first")})});
  const int pages = writer.database().execAndGet("PRAGMA page_count").getInt();
  writer.database().exec("PRAGMA max_page_count = " + std::to_string(pages));  // the disk is full

  std::vector<WriteItem> batch;
  for (int i = 1; i <= 200; ++i) batch.push_back(write_item(event_json(i), {timeline_row(std::string(2000, 'x'))}));
  CHECK_THROWS_AS(writer.apply_batch(batch), TransientStoreError);
  CHECK_THROWS_AS(writer.apply_batch(batch), TransientStoreError);  // the same error, not "API misuse"
  try {
    writer.apply_batch(batch);
  } catch (const TransientStoreError& error) {
    CHECK_THAT(error.what(), Catch::Contains("database or disk is full"));
  }

  writer.database().exec("PRAGMA max_page_count = 1073741823");  // space again
  CHECK(writer.apply_batch(batch) == std::vector<Outcome>(200, Outcome::applied));
  CHECK(rows("SELECT count(*) FROM customer_events") == "201");
  CHECK(rows("SELECT count(*) FROM dead_letters") == "0");
}

TEST_CASE_METHOD(FreshStore, "a database that refuses writes is a StoreError naming the file, not a retry", "[store][errors]") {
  writer.database().exec("PRAGMA query_only = ON");  // as a read-only file would
  try {
    writer.apply_batch({write_item(event_json(1), {timeline_row("x")})});
    FAIL("no exception");
  } catch (const TransientStoreError&) {
    FAIL("read-only is not transient");
  } catch (const StoreError& error) {
    CHECK_THAT(error.what(), Catch::StartsWith("database " + (dir / "db.sqlite").string() + " cannot be written"));
    CHECK_THAT(error.what(), Catch::Contains("readonly"));
  }
}

TEST_CASE_METHOD(FreshStore, "a SQLite error caused by one event dead-letters it with SQLite's message, the rest apply",
          "[store][errors]") {
  writer.database().exec(
      "CREATE TRIGGER no_forbidden BEFORE INSERT ON customer_events WHEN NEW.title = 'forbidden' "
      "BEGIN SELECT RAISE(ABORT, 'forbidden title'); END");
  const auto outcomes = writer.apply_batch({write_item(event_json(1), {timeline_row("fine")}),
                                            write_item(event_json(2), {timeline_row("forbidden")}),
                                            write_item(event_json(3), {timeline_row("fine too")})});
  CHECK(outcomes == std::vector{Outcome::applied, Outcome::dead_lettered, Outcome::applied});
  CHECK(rows("SELECT idempotency_key, reason FROM dead_letters") ==
        "e2|store rejected the event: forbidden title");
  CHECK(rows("SELECT group_concat(title) FROM customer_events") == "fine,fine too");
}

TEST_CASE_METHOD(FreshStore, "a lifetime value that would overflow dead-letters the event", "[store][errors]") {
  const auto outcomes = writer.apply_batch({write_item(event_json(1), {sdk::AdjustLifetimeValue{1e308}}),
                                            write_item(event_json(2), {sdk::AdjustLifetimeValue{1e308}})});
  CHECK(outcomes == std::vector{Outcome::applied, Outcome::dead_lettered});
  CHECK(rows("SELECT reason FROM dead_letters") ==
        "lifetime_value of customer cust_1 would overflow (adding 1e+308)");
  CHECK(rows("SELECT lifetime_value FROM customers") == "1.0e+308");
}

TEST_CASE_METHOD(FreshStore, "dead letters: one row per distinct payload, dropped once their key applies", "[store][errors]") {
  // Two different bad payloads under one event_id: both kept, each with its reason.
  writer.apply_batch({dead_letter("first reason", "{bad one", "k1"), dead_letter("second reason", "{bad two", "k1")});
  writer.apply_batch({dead_letter("first reason again", "{bad one", "k1")});
  CHECK(rows("SELECT CAST(raw AS TEXT), reason, attempts FROM dead_letters ORDER BY id") ==
        "{bad one|first reason again|2\n{bad two|second reason|1");

  // The valid event with that key supersedes them.
  CHECK(writer.apply_batch({write_item(R"({"event_id":"k1","customer_id":"c","event_type":"t"})")}) ==
        std::vector{Outcome::applied});
  CHECK(rows("SELECT count(*) FROM dead_letters") == "0");

  // A letter left from before (key applied since) is dropped by its replay, not dead-lettered again.
  writer.database().exec(
      "INSERT INTO dead_letters(received_at, reason, raw, idempotency_key, payload_hash, last_attempt_at) "
      "VALUES (1, 'old', '{stale', 'k1', 'h', 1)");
  WriteItem replay = dead_letter("still invalid", "{stale", "k1");
  replay.replay_of = writer.database().execAndGet("SELECT id FROM dead_letters").getInt64();
  CHECK(writer.apply_batch({replay}) == std::vector{Outcome::dead_lettered});
  CHECK(rows("SELECT count(*) FROM dead_letters") == "0");
}

TEST_CASE("durable commits set synchronous=FULL, the default is NORMAL", "[store][errors]") {
  TempDir dir;
  StoreWriter normal(dir / "a.sqlite", {});
  CHECK(normal.database().execAndGet("PRAGMA synchronous").getInt() == 1);
  WriterOptions durable;
  durable.durable_commits = true;
  StoreWriter full(dir / "b.sqlite", durable);
  CHECK(full.database().execAndGet("PRAGMA synchronous").getInt() == 2);
}

TEST_CASE("writer thread: a database fault stops writing at once and tells the handler once", "[store][errors]") {
  TempDir dir;
  auto pipeline = default_pipeline(dir);
  StoreWriter store(dir / "db.sqlite", {});
  store.database().exec("PRAGMA query_only = ON");
  WriterThreadOptions options;
  options.transient_retries = 1000;  // a fault of the database is not retried at all
  WriterThread writer(*pipeline, store, options);
  int fatal_calls = 0;
  std::string fatal_message;
  writer.set_fatal_handler([&](const std::string& message) {
    ++fatal_calls;
    fatal_message = message;
  });
  std::vector<Outcome> acked;
  std::mutex acked_mutex;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    RawMessage message = note_message(i);
    message.ack = [&](Outcome outcome) {
      std::lock_guard lock(acked_mutex);
      acked.push_back(outcome);
    };
    writer.submit(std::move(message));
    writer.flush();
  }
  writer.stop();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  CHECK(fatal_calls == 1);
  CHECK_THAT(fatal_message, Catch::Contains("cannot be written"));
  REQUIRE(writer.fatal_error().has_value());
  CHECK(acked == std::vector<Outcome>(10, Outcome::retry_later));
  CHECK(writer.counters().failed == 10);
}

TEST_CASE("writer thread: after begin_shutdown a failing batch is not retried", "[store][errors]") {
  TempDir dir;
  auto pipeline = default_pipeline(dir);
  StoreWriter store(dir / "db.sqlite", {});
  const int pages = store.database().execAndGet("PRAGMA page_count").getInt();
  store.database().exec("PRAGMA max_page_count = " + std::to_string(pages));  // full: transient
  WriterThreadOptions options;
  options.transient_retries = 1000;  // ~100 minutes of retries, were they not cut short
  WriterThread writer(*pipeline, store, options);
  std::atomic<int> retry_later{0};
  RawMessage message = note_message(1, 200000);
  message.ack = [&](Outcome outcome) { retry_later += outcome == Outcome::retry_later; };
  writer.submit(std::move(message));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // in its backoff by now
  const auto started = std::chrono::steady_clock::now();
  writer.begin_shutdown();
  writer.stop();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
  CHECK(retry_later == 1);
  CHECK_FALSE(writer.fatal_error().has_value());
}

TEST_CASE_METHOD(FreshStore, "a dead letter whose headers are not UTF-8 is stored, not an exception", "[store][errors]") {
  WriteItem letter;
  letter.content = DeadLetter{"bad", "{bad", "subj", {{"X-Bad", "\xff\xfe"}}, "", ""};
  CHECK(writer.apply_batch({letter}) == std::vector{Outcome::dead_lettered});
  CHECK(rows("SELECT count(*) FROM dead_letters") == "1");
}
