// The change log: one change per effect of an applied event, written in the
// event's transaction, with the row as the profile shows it; retention and
// what a resuming reader is told. Real SQLite files, real plugins.
#include <catch2/catch.hpp>

#include <ctime>
#include <map>
#include <set>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "pipeline/event_decoder.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/writer_thread.hpp"
#include "store/store_error.hpp"
#include "store/store_reader.hpp"
#include "store/store_writer.hpp"
#include "support/store_fixture.hpp"
#include "support/test_support.hpp"

using namespace customeriq;
using customeriq::test::rows_as_text;
using customeriq::test::TempDir;
using customeriq::test::write_item;

namespace {

std::string event_json(const std::string& id, const std::string& customer = "cust_1") {
  return R"({"event_id":")" + id + R"(","customer_id":")" + customer +
         R"(","event_type":"t","timestamp":1000,"data":{"customer_name":"Ann Lee","email":"ann@example.com"}})";
}

sdk::AppendTimelineEvent timeline_row(const std::string& title) {
  sdk::AppendTimelineEvent row;
  row.event_type = "t";
  row.title = title;
  return row;
}

std::vector<std::string> kinds(const std::vector<Change>& changes) {
  std::vector<std::string> result;
  for (const Change& change : changes) result.push_back(change.kind);
  return result;
}

std::vector<Change> all_changes(const std::filesystem::path& db) {
  return StoreReader(db).changes_after(0, std::nullopt, 100000);
}

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Makes the changes up to seq look written `age` ago.
void age_changes(StoreWriter& writer, std::int64_t through_seq, std::chrono::seconds age) {
  writer.database().exec("UPDATE changes SET committed_at = committed_at - " + std::to_string(age.count()) +
                         " WHERE seq <= " + std::to_string(through_seq));
}

RawMessage message(const std::string& json) {
  RawMessage raw;
  raw.bytes = json;
  raw.subject = "test";
  return raw;
}

}  // namespace

TEST_CASE("each effect of an event is one change - its customer once, last", "[change_log]") {
  TempDir dir;
  const std::int64_t before = unix_now();
  {
    StoreWriter writer(dir / "db.sqlite", {});
    sdk::UpdateCustomer update;
    update.company = "Acme";
    sdk::UpsertPurchase purchase;
    purchase.purchase_id = "ord_1";
    purchase.total = 20;
    sdk::UpsertWorkOrder order;
    order.work_order_id = "WO-1";
    sdk::AddKnowledge knowledge;
    knowledge.content = "Prefers email";
    REQUIRE(writer.apply_batch({write_item(event_json("e1"), {update, timeline_row("first"), purchase, order,
                                                        knowledge, sdk::AdjustLifetimeValue{5}})}) ==
            std::vector{Outcome::applied});
  }
  const auto changes = all_changes(dir / "db.sqlite");
  CHECK(kinds(changes) == std::vector<std::string>{"timeline.appended", "purchase.upserted", "work_order.upserted",
                                                   "knowledge.added", "customer.updated"});
  for (std::size_t i = 0; i < changes.size(); ++i) {
    CHECK(changes[i].seq == static_cast<std::int64_t>(i + 1));
    CHECK(changes[i].customer_id == "cust_1");
    CHECK(changes[i].committed_at >= before);
    CHECK(changes[i].committed_at <= unix_now());
  }
  // The customer as the event left it, after all of its mutations.
  CHECK(changes.back().row["company"] == "Acme");
  CHECK(changes.back().row["lifetime_value"] == 25.0);
}

TEST_CASE("an event that leaves its customer row as it was records no customer.updated", "[change_log]") {
  TempDir dir;
  StoreWriter writer(dir / "db.sqlite", {});
  writer.apply_batch({write_item(event_json("e1"), {})});
  writer.apply_batch({write_item(event_json("e2"), {timeline_row("later")})});
  CHECK(kinds(all_changes(dir / "db.sqlite")) == std::vector<std::string>{"customer.updated", "timeline.appended"});
}

TEST_CASE("change rows are the rows the profile shows, through the real plugins", "[change_log]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    Pipeline pipeline(load_pipeline_config(test::source_dir() / "pipelines/default.yaml"));
    StoreWriter store(db, {});
    WriterThread writer(pipeline, store, {});
    for (const char* event : {
             R"({"event_id":"p1","customer_id":"cust_001","event_type":"purchase","timestamp":1734134400,"data":{"purchase_id":"ord_1","product_name":"Headphones","product_sku":"WHP-2000","quantity":1,"price":299.99,"customer_name":"John Smith","email":"john@example.com"},"metadata":{"payment_method":"card"}})",
             R"({"event_id":"t1","customer_id":"cust_001","event_type":"support_ticket","timestamp":1734220800,"data":{"ticket_id":"TKT-1","title":"Not working","description":"Pairing fails","status":"open","priority":"high","important":true}})",
             R"({"event_id":"r1","customer_id":"cust_001","event_type":"repair","timestamp":1734307200,"data":{"work_order_id":"WO-1","issue_description":"Module","status":"open","priority":"medium","product_id":"WHP-2000"}})",
             R"({"event_id":"r2","customer_id":"cust_001","event_type":"work_order","timestamp":1734393600,"data":{"work_order_id":"WO-1","status":"completed","resolution":"Replaced","cost":49.5}})",
             R"({"event_id":"n1","customer_id":"cust_001","event_type":"note","timestamp":1734400000,"data":{"content":"Prefers phone","importance":"high","tags":["contact"]}})",
             R"({"event_id":"u1","customer_id":"cust_001","event_type":"profile_update","timestamp":1734500000,"data":{"phone":"+1 555","tags":["vip"],"custom_fields":{"tier":"gold"}}})",
             R"({"event_id":"p2","customer_id":"cust_001","event_type":"purchase","timestamp":1734600000,"data":{"purchase_id":"ord_1","product_name":"Headphones","quantity":2,"price":250}})"})
      writer.submit(message(event));
    writer.flush();
    REQUIRE(writer.counters().applied == 7);
  }
  StoreReader reader(db);
  const auto profile = reader.profile("cust_001");
  REQUIRE(profile);
  const auto changes = reader.changes_after(0, std::nullopt, 1000);

  auto profile_row = [&](const char* list, const Json& id) {
    for (const Json& row : (*profile)[list])
      if (row["id"] == id) return row;
    FAIL("no " << list << " row " << id);
    return Json();
  };
  std::map<std::pair<std::string, std::string>, Json> latest;  // (kind, id) -> the newest row
  std::size_t timeline_changes = 0;
  for (const Change& change : changes) {
    INFO(change.kind << " " << change.row.dump());
    CHECK(change.customer_id == "cust_001");
    latest[{change.kind, change.row["id"].dump()}] = change.row;
    if (change.kind == "timeline.appended") {
      ++timeline_changes;
      CHECK(change.row == profile_row("timeline", change.row["id"]));  // timeline rows never change
    }
  }
  CHECK(timeline_changes == 7);
  for (const auto& [key, row] : latest) {
    INFO(key.first << " " << row.dump());
    if (key.first == "purchase.upserted") CHECK(row == profile_row("purchases", row["id"]));
    else if (key.first == "work_order.upserted") CHECK(row == profile_row("work_orders", row["id"]));
    else if (key.first == "knowledge.added") CHECK(row == profile_row("knowledge", row["id"]));
    else if (key.first == "customer.updated") CHECK(row == (*profile)["customer"]);
    else CHECK(key.first == "timeline.appended");
  }
  CHECK(latest.count({"purchase.upserted", "\"ord_1\""}) == 1);
  CHECK(latest.count({"work_order.upserted", "\"WO-1\""}) == 1);
  CHECK(latest.at({"work_order.upserted", "\"WO-1\""})["status"] == "completed");
  CHECK(latest.at({"purchase.upserted", "\"ord_1\""})["total"] == 500.0);
  // The ticket and the note each added knowledge.
  CHECK((*profile)["knowledge"].size() == 2);
  const auto change_kinds = kinds(changes);
  CHECK(std::count(change_kinds.begin(), change_kinds.end(), "knowledge.added") == 2);
}

TEST_CASE("duplicates, dead letters and rejected events record no change", "[change_log]") {
  TempDir dir;
  StoreWriter writer(dir / "db.sqlite", {});
  sdk::UpsertWorkOrder order;
  order.work_order_id = "WO-1";
  writer.apply_batch({write_item(event_json("e1"), {order})});
  const std::string before = rows_as_text(writer.database(), "SELECT group_concat(seq || kind) FROM changes");

  WriteItem letter;
  letter.content = DeadLetter{"not valid JSON", "{oops", "subj", {}, "", ""};
  // Another customer's work order: the event's timeline row goes with it.
  const auto outcomes = writer.apply_batch(
      {write_item(event_json("e1"), {timeline_row("again")}), letter,
       write_item(event_json("e2", "intruder"), {timeline_row("intruding"), order})});
  CHECK(outcomes == std::vector{Outcome::duplicate, Outcome::dead_lettered, Outcome::dead_lettered});
  CHECK(rows_as_text(writer.database(), "SELECT group_concat(seq || kind) FROM changes") == before);
  CHECK(before == "1work_order.upserted,2customer.updated");
}

TEST_CASE("a change and its event's effects commit or roll back together", "[change_log]") {
  TempDir dir;
  StoreWriter writer(dir / "db.sqlite", {});
  writer.apply_batch({write_item(event_json("e0"), {timeline_row("first")})});
  const std::string before = rows_as_text(writer.database(), "SELECT count(*), max(seq) FROM changes");

  SECTION("a change that cannot be written dead-letters its event, the batch goes on") {
    writer.database().exec(
        "CREATE TRIGGER no_knowledge_changes BEFORE INSERT ON changes WHEN NEW.kind = 'knowledge.added' "
        "BEGIN SELECT RAISE(ABORT, 'no knowledge changes'); END");
    sdk::AddKnowledge knowledge;
    knowledge.content = "secret";
    const auto outcomes = writer.apply_batch({write_item(event_json("e1"), {timeline_row("kept")}),
                                              write_item(event_json("e2"), {timeline_row("lost"), knowledge}),
                                              write_item(event_json("e3"), {timeline_row("kept too")})});
    CHECK(outcomes == std::vector{Outcome::applied, Outcome::dead_lettered, Outcome::applied});
    CHECK(rows_as_text(writer.database(), "SELECT group_concat(title) FROM customer_events") == "first,kept,kept too");
    CHECK(rows_as_text(writer.database(), "SELECT count(*) FROM customer_knowledge") == "0");
    CHECK(rows_as_text(writer.database(), "SELECT group_concat(json_extract(row, '$.title')) FROM changes "
                                          "WHERE kind = 'timeline.appended'") == "first,kept,kept too");
  }
  SECTION("a batch rolled back leaves no change behind") {
    const int pages = writer.database().execAndGet("PRAGMA page_count").getInt();
    writer.database().exec("PRAGMA max_page_count = " + std::to_string(pages));  // the disk is full
    std::vector<WriteItem> batch;
    for (int i = 1; i <= 200; ++i)
      batch.push_back(write_item(event_json("b" + std::to_string(i)), {timeline_row(std::string(2000, 'x'))}));
    CHECK_THROWS_AS(writer.apply_batch(batch), TransientStoreError);
    CHECK(rows_as_text(writer.database(), "SELECT count(*), max(seq) FROM changes") == before);
    CHECK(StoreReader(dir / "db.sqlite").latest_change_seq() == 2);
  }
}

TEST_CASE("changes_after reads ascending from a seq, of one customer or all, up to a limit", "[change_log]") {
  TempDir dir;
  {
    StoreWriter writer(dir / "db.sqlite", {});
    for (int i = 0; i < 6; ++i)
      writer.apply_batch({write_item(event_json("e" + std::to_string(i), i % 2 ? "odd" : "even"), {timeline_row("t")})});
  }
  StoreReader reader(dir / "db.sqlite");
  // Each customer: customer.updated at its first event, then one timeline row per event.
  CHECK(reader.latest_change_seq() == 8);
  std::vector<std::int64_t> seqs;
  for (const Change& change : reader.changes_after(2, std::nullopt, 3)) seqs.push_back(change.seq);
  CHECK(seqs == std::vector<std::int64_t>{3, 4, 5});
  seqs.clear();
  for (const Change& change : reader.changes_after(0, std::string("odd"), 100)) {
    CHECK(change.customer_id == "odd");
    seqs.push_back(change.seq);
  }
  CHECK(seqs == std::vector<std::int64_t>{3, 4, 6, 8});
  CHECK(reader.changes_after(8, std::nullopt, 10).empty());
  CHECK(reader.changes_after(0, std::string("nobody"), 10).empty());
}

TEST_CASE("an empty change log has latest seq 0 and keeps everything", "[change_log]") {
  TempDir dir;
  { StoreWriter writer(dir / "db.sqlite", {}); }
  StoreReader reader(dir / "db.sqlite");
  CHECK(reader.latest_change_seq() == 0);
  CHECK(reader.change_retained_after(0));
  CHECK(reader.changes_after(0, std::nullopt, 10).empty());
}

TEST_CASE("changes older than the retention are pruned and a resumer is told what it missed", "[change_log]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  using namespace std::chrono_literals;
  {
    StoreWriter writer(db, {});
    for (int i = 0; i < 4; ++i) writer.apply_batch({write_item(event_json("e" + std::to_string(i)), {timeline_row("t")})});
    // seq 1-5: the first event's timeline row and customer, three more
    // timeline rows. 1-3 are made 8 days old.
    age_changes(writer, 3, std::chrono::days(8));
  }
  {
    StoreWriter writer(db, {});  // the default: 7 days
    writer.apply_batch({write_item(event_json("e4"), {timeline_row("t")})});
  }
  StoreReader reader(db);
  std::vector<std::int64_t> seqs;
  for (const Change& change : reader.changes_after(0, std::nullopt, 100)) seqs.push_back(change.seq);
  CHECK(seqs == std::vector<std::int64_t>{4, 5, 6});
  CHECK_FALSE(reader.change_retained_after(0));
  CHECK_FALSE(reader.change_retained_after(2));
  CHECK(reader.change_retained_after(3));
  CHECK(reader.change_retained_after(6));

  SECTION("with a shorter retention, and nothing left in the log") {
    {
      StoreWriter writer(db, WriterOptions{.change_retention = 1h});
      age_changes(writer, 6, 2h);
      writer.apply_batch({write_item(event_json("e4"), {})});  // a duplicate: the commit still prunes
    }
    StoreReader after(db);
    CHECK(after.changes_after(0, std::nullopt, 100).empty());
    CHECK(after.latest_change_seq() == 6);
    CHECK(after.change_retained_after(6));
    CHECK_FALSE(after.change_retained_after(5));
  }
  SECTION("a seq is never given again once pruned") {
    {
      StoreWriter writer(db, WriterOptions{.change_retention = 1h});
      age_changes(writer, 6, 2h);
      writer.apply_batch({write_item(event_json("e5"), {timeline_row("t")})});
    }
    const auto changes = StoreReader(db).changes_after(0, std::nullopt, 100);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].seq == 7);
  }
  SECTION("changes within the retention are kept") {
    {
      StoreWriter writer(db, WriterOptions{.change_retention = 1h});
      age_changes(writer, 5, 30min);
      writer.apply_batch({write_item(event_json("e5"), {})});
    }
    CHECK(StoreReader(db).changes_after(0, std::nullopt, 100).size() == 3);
  }
}

TEST_CASE("a writer prunes at its first commit, then at most once per interval", "[change_log]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  using namespace std::chrono_literals;
  auto oldest_seq = [&](StoreWriter& writer) { return rows_as_text(writer.database(), "SELECT min(seq) FROM changes"); };

  SECTION("the default interval: one minute") {
    StoreWriter writer(db, WriterOptions{.change_retention = 1h});
    writer.apply_batch({write_item(event_json("e0"), {timeline_row("t")})});  // pruned (nothing) here
    age_changes(writer, 2, 2h);
    writer.apply_batch({write_item(event_json("e1"), {timeline_row("t")})});
    CHECK(oldest_seq(writer) == "1");
  }
  SECTION("an interval of zero: every commit") {
    StoreWriter writer(db, WriterOptions{.change_retention = 1h, .change_prune_interval = 0s});
    writer.apply_batch({write_item(event_json("e0"), {timeline_row("t")})});
    age_changes(writer, 2, 2h);
    writer.apply_batch({write_item(event_json("e1"), {timeline_row("t")})});
    CHECK(oldest_seq(writer) == "3");
  }
}

TEST_CASE("seq strictly increases across batches, writers and rolled back events", "[change_log]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  sdk::UpsertWorkOrder order;
  order.work_order_id = "WO-1";
  StoreWriter(db, {}).apply_batch({write_item(event_json("first"), {order})});
  // Each round's b event is rejected: WO-1 belongs to cust_1.
  for (int round = 0; round < 3; ++round) {
    StoreWriter writer(db, {});
    for (int i = 0; i < 5; ++i) {
      const std::string n = std::to_string(round * 10 + i);
      writer.apply_batch({write_item(event_json("a" + n), {timeline_row("t")}),
                          write_item(event_json("b" + n, "c" + n), {timeline_row("rejected"), order}),
                          write_item(event_json("c" + n), {timeline_row("t")})});
    }
  }
  const auto changes = all_changes(db);
  REQUIRE(changes.size() == 32);  // the first event's customer.updated and work order, 30 timeline rows
  for (std::size_t i = 1; i < changes.size(); ++i) CHECK(changes[i].seq > changes[i - 1].seq);
  CHECK(StoreReader(db).latest_change_seq() == changes.back().seq);
}

TEST_CASE("change rows keep escaped text, exact reals and JSON columns that do not parse", "[change_log]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    StoreWriter writer(db, {});
    writer.apply_batch({write_item(event_json("e0"), {})});
    // Rows not written by CustomerIQ may hold anything.
    writer.database().exec("UPDATE customers SET tags = 'not json', custom_fields = '{\"b\": [1, 2], \"a\": null}'");
    sdk::UpdateCustomer update;
    update.name = "Ann \"Quote\" Lee\n\ttab \\ back ünïcødé 😀";
    sdk::AppendTimelineEvent row = timeline_row(std::string("control \x01 char"));
    row.amount = 0.1 + 0.2;
    row.metadata = {{"z", 1e300}, {"a", "x\"y"}};
    writer.apply_batch({write_item(event_json("e1"), {update, row, sdk::AdjustLifetimeValue{1.0 / 3}})});
  }
  StoreReader reader(db);
  const Json profile = *reader.profile("cust_1");
  const auto changes = reader.changes_after(1, std::nullopt, 10);
  REQUIRE(kinds(changes) == std::vector<std::string>{"timeline.appended", "customer.updated"});
  CHECK(changes[0].row == profile["timeline"][0]);
  CHECK(changes[0].row["amount"].get<double>() == 0.1 + 0.2);
  CHECK(changes[1].row == profile["customer"]);
  CHECK(changes[1].row["tags"] == "not json");
  CHECK(changes[1].row["custom_fields"] == Json{{"a", nullptr}, {"b", {1, 2}}});
  CHECK(changes[1].row["name"] == "Ann \"Quote\" Lee\n\ttab \\ back ünïcødé 😀");
  CHECK(changes[1].row["lifetime_value"].get<double>() == 1.0 / 3);
}

TEST_CASE("a text column that is not UTF-8 is recorded with replacement characters", "[change_log]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    StoreWriter writer(db, {});
    writer.apply_batch({write_item(event_json("e0"), {})});
    writer.database().exec("UPDATE customers SET company = CAST(X'41FF42' AS TEXT)");
    writer.apply_batch({write_item(event_json("e1"), {sdk::AdjustLifetimeValue{1}})});
  }
  const auto changes = all_changes(db);
  REQUIRE(changes.size() == 2);
  CHECK(changes[1].row["company"] == "A\xEF\xBF\xBD" "B");
}

TEST_CASE("a database at version 4 gains an empty change log and keeps its rows", "[change_log]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    StoreWriter writer(db, {});
    writer.apply_batch({write_item(event_json("e0"), {timeline_row("before the log")})});
    // What version 4 was.
    writer.database().exec(test::kDropLifecycleTablesSql);
    writer.database().exec(R"sql(
      DROP TABLE changes;
      DROP TABLE change_log_state;
      DROP INDEX customers_by_update;
      PRAGMA user_version = 4;)sql");
  }
  {
    StoreWriter writer(db, {});
    writer.apply_batch({write_item(event_json("e1"), {timeline_row("after")})});
  }
  StoreReader reader(db);
  CHECK(reader.is_migrated());
  const auto changes = reader.changes_after(0, std::nullopt, 10);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].seq == 1);
  CHECK(changes[0].row["title"] == "after");
  CHECK(reader.change_retained_after(0));
  CHECK(rows_as_text(reader.database(), "SELECT count(*) FROM customers INDEXED BY customers_by_update") == "1");
  CHECK(rows_as_text(reader.database(), "SELECT count(*) FROM sqlite_schema WHERE name = 'work_orders_open'") == "1");
}
