// The store: every mutation, identity, idempotency, dead letters and FTS,
// on real SQLite files (opening and migrations: store_schema_test.cpp).
#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "store/store_reader.hpp"
#include "store/store_schema.hpp"
#include "support/store_fixture.hpp"

using namespace customeriq;
using customeriq::test::FreshStore;
using customeriq::test::TempDir;
using customeriq::test::write_item;

namespace {

const std::string kEvent = R"({"event_id":"e1","customer_id":"cust_1","event_type":"t","timestamp":1000,"source_service":"svc","data":{"customer_name":"Ann Lee","email":"Ann@Example.com"}})";

}  // namespace

TEST_CASE_METHOD(FreshStore, "a new customer is created from the event's identity fields", "[store]") {
  REQUIRE(writer.apply_batch({write_item(kEvent)}) == std::vector{Outcome::applied});
  CHECK(rows("SELECT id, name, email, status, customer_since, lifetime_value, tags, custom_fields FROM customers") ==
        "cust_1|Ann Lee|ann@example.com|active|1000|0.0|[]|{}");
}

TEST_CASE_METHOD(FreshStore, "customer_since is the earliest event and blanks are filled, not overwritten", "[store]") {
  writer.apply_batch({write_item(R"({"event_id":"a","customer_id":"c","event_type":"t","timestamp":500,"data":{}})")});
  writer.apply_batch({write_item(R"({"event_id":"b","customer_id":"c","event_type":"t","timestamp":300,"data":{"email":"x@y.z"}})")});
  writer.apply_batch({write_item(R"({"event_id":"c","customer_id":"c","event_type":"t","timestamp":900,"data":{"email":"other@y.z","customer_name":"Real Name"}})")});
  CHECK(rows("SELECT name, email, customer_since FROM customers") == "Real Name|x@y.z|300");
}

TEST_CASE_METHOD(FreshStore, "UpdateCustomer sets present fields only and merges custom_fields", "[store]") {
  const sdk::UpdateCustomer first{.phone = "+1 555", .company = "Acme", .tags = sdk::Json::array({"vip"}),
                                  .custom_fields = sdk::Json{{"tier", "gold"}, {"region", "eu"}}};
  const sdk::UpdateCustomer second{.status = "churned", .custom_fields = sdk::Json{{"region", nullptr}, {"seats", 5}}};
  writer.apply_batch({write_item(kEvent, {first}),
                      write_item(R"({"event_id":"e2","customer_id":"cust_1","event_type":"t","timestamp":1001})", {second})});
  CHECK(rows("SELECT name, phone, company, status, tags, custom_fields FROM customers") ==
        R"(Ann Lee|+1 555|Acme|churned|["vip"]|{"tier":"gold","seats":5})");
}

TEST_CASE_METHOD(FreshStore, "AppendTimelineEvent writes a timeline row with source and raw event", "[store]") {
  const sdk::AppendTimelineEvent event{.event_type = "call", .title = "Called", .description = "About billing",
                                       .amount = 12.5, .status = "done", .agent_notes = "friendly",
                                       .metadata = {{"k", 1}}};
  writer.apply_batch({write_item(kEvent, {event})});
  CHECK(rows("SELECT customer_id, event_type, event_date, title, description, amount, status, metadata, "
             "agent_notes, source_service, raw_event_data = '" + kEvent + "' FROM customer_events") ==
        R"(cust_1|call|1000|Called|About billing|12.5|done|{"k":1}|friendly|svc|1)");
}

TEST_CASE_METHOD(FreshStore, "UpsertPurchase inserts, replaces, and keeps lifetime_value equal to the totals", "[store]") {
  sdk::UpsertPurchase purchase{.purchase_id = "ord_1", .product_name = "Widget", .product_sku = "W-1", .quantity = 2,
                               .price = 10, .total = 20, .warranty_expires = 5000, .metadata = {{"m", true}}};
  writer.apply_batch({write_item(kEvent, {purchase})});
  CHECK(rows("SELECT id, customer_id, product_name, product_sku, quantity, price, total, purchase_date, warranty_expires, metadata FROM purchases") ==
        R"(ord_1|cust_1|Widget|W-1|2|10.0|20.0|1000|5000|{"m":true})");
  CHECK(rows("SELECT lifetime_value FROM customers") == "20.0");

  // The same order sent again with a corrected total: counted once, at the new total.
  purchase.total = 15;
  writer.apply_batch({write_item(R"({"event_id":"e2","customer_id":"cust_1","event_type":"t","timestamp":1001})", {purchase})});
  CHECK(rows("SELECT count(*), sum(total) FROM purchases") == "1|15.0");
  CHECK(rows("SELECT lifetime_value FROM customers") == "15.0");
}

TEST_CASE_METHOD(FreshStore, "UpsertWorkOrder opens, then a completion changes only what it names", "[store]") {
  const sdk::UpsertWorkOrder open{.work_order_id = "WO-1", .order_type = "repair", .issue_description = "Broken hinge",
                                  .status = "open", .priority = "high", .assigned_to = "tech_1",
                                  .metadata = sdk::Json{{"product_id", "P-1"}}};
  const sdk::UpsertWorkOrder done{.work_order_id = "WO-1", .resolution = "Replaced hinge", .status = "completed",
                                  .completed_date = 2000, .cost = 49.5,
                                  .metadata = sdk::Json{{"technician_rating", 5}}};
  writer.apply_batch({write_item(kEvent, {open})});
  writer.apply_batch({write_item(R"({"event_id":"e2","customer_id":"cust_1","event_type":"t","timestamp":2000})", {done})});
  CHECK(rows("SELECT id, customer_id, order_type, issue_description, resolution, status, priority, assigned_to, created_date, completed_date, cost, metadata FROM work_orders") ==
        R"(WO-1|cust_1|repair|Broken hinge|Replaced hinge|completed|high|tech_1|1000|2000|49.5|{"product_id":"P-1","technician_rating":5})");
}

TEST_CASE_METHOD(FreshStore, "a work order of another customer is dead-lettered, the batch goes on", "[store]") {
  const sdk::UpsertWorkOrder order{.work_order_id = "WO-1"};
  auto outcomes = writer.apply_batch(
      {write_item(kEvent, {order}),
       write_item(R"({"event_id":"e2","customer_id":"intruder","event_type":"t","timestamp":2000})", {order}),
       write_item(R"({"event_id":"e3","customer_id":"cust_1","event_type":"t","timestamp":3000})", {sdk::AdjustLifetimeValue{7}})});
  CHECK(outcomes == std::vector{Outcome::applied, Outcome::dead_lettered, Outcome::applied});
  CHECK(rows("SELECT reason FROM dead_letters") == "work order WO-1 belongs to customer cust_1, not intruder");
  // The rejected event left nothing behind: not its customer, not its key.
  CHECK(rows("SELECT count(*) FROM customers WHERE id = 'intruder'") == "0");
  CHECK(rows("SELECT group_concat(idempotency_key) FROM processed_events") == "e1,e3");
  CHECK(rows("SELECT lifetime_value FROM customers") == "7.0");
}

TEST_CASE_METHOD(FreshStore, "a purchase id of another customer is dead-lettered and moves no value", "[store]") {
  const sdk::UpsertPurchase purchase{.purchase_id = "ord_1", .total = 20};
  auto outcomes = writer.apply_batch(
      {write_item(kEvent, {purchase}),
       write_item(R"({"event_id":"e2","customer_id":"other","event_type":"t","timestamp":2000})", {purchase})});
  CHECK(outcomes == std::vector{Outcome::applied, Outcome::dead_lettered});
  CHECK(rows("SELECT reason FROM dead_letters") == "purchase ord_1 belongs to customer cust_1, not other");
  CHECK(rows("SELECT id, lifetime_value FROM customers") == "cust_1|20.0");
  CHECK(rows("SELECT customer_id FROM purchases") == "cust_1");
}

TEST_CASE_METHOD(FreshStore, "AddKnowledge and AdjustLifetimeValue", "[store]") {
  const sdk::AddKnowledge knowledge{.content = "Prefers email", .category = "preference", .importance = 7,
                                    .tags = sdk::Json::array({"contact"}), .source = "note:1"};
  writer.apply_batch({write_item(kEvent, {knowledge, sdk::AdjustLifetimeValue{100}, sdk::AdjustLifetimeValue{-30.5}})});
  CHECK(rows("SELECT customer_id, content, category, importance, tags, source, created_at FROM customer_knowledge") ==
        R"(cust_1|Prefers email|preference|7|["contact"]|note:1|1000)");
  CHECK(rows("SELECT lifetime_value FROM customers") == "69.5");
}

TEST_CASE_METHOD(FreshStore, "an event whose idempotency key was applied changes nothing", "[store]") {
  auto outcomes = writer.apply_batch({write_item(kEvent, {sdk::AdjustLifetimeValue{10}}), write_item(kEvent, {sdk::AdjustLifetimeValue{10}})});
  CHECK(outcomes == std::vector{Outcome::applied, Outcome::duplicate});
  CHECK(writer.apply_batch({write_item(kEvent, {sdk::AdjustLifetimeValue{10}})}) == std::vector{Outcome::duplicate});
  CHECK(rows("SELECT lifetime_value FROM customers") == "10.0");
}

TEST_CASE_METHOD(FreshStore, "events without customer_id are matched by email, case-insensitively", "[store]") {
  writer.apply_batch({write_item(kEvent)});
  writer.apply_batch({write_item(R"({"event_id":"e2","event_type":"t","timestamp":2000,"data":{"customer_email":"ANN@example.com"}})", {sdk::AdjustLifetimeValue{5}})});
  CHECK(rows("SELECT id, lifetime_value FROM customers") == "cust_1|5.0");
}

TEST_CASE_METHOD(FreshStore, "an unknown email creates a customer with an id derived from the email", "[store]") {
  const std::string event = R"({"event_id":"e1","event_type":"t","timestamp":1500,"data":{"email":"new@example.com"}})";
  writer.apply_batch({write_item(event)});
  const std::string id = rows("SELECT id FROM customers");
  CHECK(id.rfind("cust_", 0) == 0);
  CHECK(id.size() == 21);
  CHECK(rows("SELECT name, email, customer_since FROM customers") == "new@example.com|new@example.com|1500");
  // Another instance (another database) derives the same id.
  StoreWriter other(dir / "other.sqlite", {});
  other.apply_batch({write_item(event)});
  CHECK(test::rows_as_text(other.database(), "SELECT id FROM customers") == id);
}

TEST_CASE("with auto-create off an unknown email is dead-lettered", "[store]") {
  TempDir dir;
  StoreWriter writer(dir / "db.sqlite", WriterOptions{.auto_create_customers = false});
  auto outcomes = writer.apply_batch({write_item(R"({"event_id":"e1","event_type":"t","data":{"email":"nobody@example.com"}})")});
  CHECK(outcomes == std::vector{Outcome::dead_lettered});
  CHECK(test::rows_as_text(writer.database(), "SELECT reason, event_type, idempotency_key FROM dead_letters") ==
        "no customer with email nobody@example.com and NATS_AUTO_CREATE_CUSTOMER is false|t|e1");
  CHECK(test::rows_as_text(writer.database(), "SELECT count(*) FROM customers") == "0");
}

TEST_CASE_METHOD(FreshStore, "the same bad event twice keeps one dead letter with two attempts", "[store]") {
  WriteItem bad;
  bad.content = DeadLetter{"not valid JSON", "{oops", "subj", {{"Nats-Msg-Id", "m1"}}, "", ""};
  writer.apply_batch({bad});
  writer.apply_batch({bad});
  CHECK(rows("SELECT reason, CAST(raw AS TEXT), subject, headers, attempts FROM dead_letters") ==
        R"(not valid JSON|{oops|subj|[["Nats-Msg-Id","m1"]]|2)");
}

TEST_CASE_METHOD(FreshStore, "a replayed dead letter that applies is removed - one that fails again is updated", "[store]") {
  WriteItem bad;
  bad.content = DeadLetter{"first reason", "{oops", "s", {}, "", ""};
  writer.apply_batch({bad, bad});  // one row
  WriteItem still_bad;
  still_bad.content = DeadLetter{"second reason", "{oops", "s", {}, "", ""};
  still_bad.replay_of = 1;
  writer.apply_batch({still_bad});
  CHECK(rows("SELECT id, reason, attempts FROM dead_letters") == "1|second reason|3");

  WriteItem fixed = write_item(kEvent);
  fixed.replay_of = 1;
  CHECK(writer.apply_batch({fixed}) == std::vector{Outcome::applied});
  CHECK(rows("SELECT count(*) FROM dead_letters") == "0");
}

TEST_CASE("search finds events, knowledge and customers, ranked, with snippets", "[store][search]") {
  TempDir dir;
  {
    StoreWriter writer(dir / "db.sqlite", {});
    const sdk::AppendTimelineEvent ticket{.event_type = "support_ticket", .title = "Bluetooth pairing fails",
                                          .description = "The headset drops bluetooth every few minutes"};
    const sdk::AddKnowledge knowledge{.content = "Customer is a bluetooth audio enthusiast"};
    const sdk::UpdateCustomer company{.company = "Bluetooth Labs"};
    writer.apply_batch({write_item(kEvent, {ticket, knowledge}),
                        write_item(R"({"event_id":"e2","customer_id":"cust_2","event_type":"t","data":{"customer_name":"Bo"}})", {company})});
  }
  StoreReader reader(dir / "db.sqlite");
  auto hits = reader.search("bluetooth");
  REQUIRE(hits.size() == 3);
  CHECK(hits[0]["kind"] == "event");  // the word twice in a short row ranks first
  CHECK_THAT(hits[0]["snippet"].get<std::string>(), Catch::Contains("[bluetooth]", Catch::CaseSensitive::No));
  for (std::size_t i = 1; i < hits.size(); ++i) CHECK(hits[i - 1]["rank"].get<double>() <= hits[i]["rank"].get<double>());

  CHECK(reader.search("bluetooth", {.customer_id = "cust_2"}).size() == 1);
  CHECK(reader.search("bluetooth", {.limit = 1}).size() == 1);
  CHECK(reader.search("blue*").size() == 3);
  CHECK(reader.search("ann@example.com")[0]["customer_id"] == "cust_1");
  CHECK(reader.search("nothing-like-this").empty());
  CHECK(reader.search("bluetooth OR enthusiast", {.fts_syntax = true}).size() == 3);
  CHECK_THROWS_AS(reader.search("\"unbalanced", {.fts_syntax = true}), std::invalid_argument);
}

TEST_CASE("plain words split at control bytes, so no typed text makes a bad FTS5 query", "[store][search]") {
  using namespace std::string_literals;
  CHECK(plain_words_to_fts_query("WHP-2000 blue*") == "\"WHP-2000\" \"blue\"*");
  CHECK(plain_words_to_fts_query("say \"hi\"") == "\"say\" \"\"\"hi\"\"\"");
  CHECK(plain_words_to_fts_query("\0WHP-2000 h\0\x0F" "d*"s) == "\"WHP-2000\" \"h\" \"d\"*");
  CHECK(plain_words_to_fts_query("\t\r\n\x7f").empty());

  TempDir dir;
  {
    StoreWriter writer(dir / "db.sqlite", {});
    writer.apply_batch({write_item(kEvent, {sdk::AppendTimelineEvent{.title = "WHP-2000 headset"}})});
  }
  StoreReader reader(dir / "db.sqlite");
  // What the search fuzzer found: NUL and \x0F inside the words threw.
  CHECK(reader.search("\0WHP-2000 h\0\x0F" "d*"s).empty());
  CHECK(reader.search("\0WHP-2000\x0F" "head*"s).size() == 1);
}

TEST_CASE("profile has the customer, newest-first timeline and every related row", "[store][profile]") {
  TempDir dir;
  {
    StoreWriter writer(dir / "db.sqlite", {});
    const sdk::AppendTimelineEvent older{.title = "older"}, newer{.event_date = 5000, .title = "newer"};
    writer.apply_batch({write_item(kEvent, {older, newer})});
  }
  StoreReader reader(dir / "db.sqlite");
  auto profile = reader.profile("cust_1");
  REQUIRE(profile);
  CHECK((*profile)["customer"]["name"] == "Ann Lee");
  CHECK((*profile)["timeline"][0]["title"] == "newer");
  CHECK((*profile)["timeline"][1]["title"] == "older");
  CHECK((*profile)["timeline_total"] == 2);
  CHECK(reader.profile("cust_1", {.timeline_limit = 1})->at("timeline").size() == 1);
  CHECK_FALSE(reader.profile("nobody"));
}

TEST_CASE_METHOD(FreshStore, "a batch of 500 events over 7 customers applies in one call", "[store]") {
  std::vector<WriteItem> batch;
  for (int i = 0; i < 500; ++i)
    batch.push_back(write_item(R"({"event_id":"k)" + std::to_string(i) + R"(","customer_id":"c)" + std::to_string(i % 7) +
                                   R"(","event_type":"t","timestamp":1})",
                               {sdk::AdjustLifetimeValue{1}}));
  auto outcomes = writer.apply_batch(batch);
  CHECK(std::count(outcomes.begin(), outcomes.end(), Outcome::applied) == 500);
  CHECK(rows("SELECT count(*), sum(lifetime_value) FROM customers") == "7|500.0");
}

TEST_CASE_METHOD(FreshStore, "a customer's search row follows later changes to name, email and company", "[store][search]") {
  writer.apply_batch({write_item(kEvent)});
  const sdk::UpdateCustomer rename{.name = "Ann Larsen", .company = "Fjordline"};
  writer.apply_batch({write_item(R"({"event_id":"e2","customer_id":"cust_1","event_type":"t"})", {rename})});
  StoreReader reader(dir / "db.sqlite");
  CHECK(reader.search("lee").empty());
  CHECK(reader.search("larsen")[0]["customer_id"] == "cust_1");
  CHECK(reader.search("fjordline").size() == 1);
}

TEST_CASE("rows written by hand are found after rebuild_search_index", "[store][search]") {
  TempDir dir;
  {
    StoreWriter writer(dir / "db.sqlite", {});
    writer.apply_batch({write_item(kEvent)});
    auto& db = writer.database();
    db.exec("INSERT INTO customers(id, name, created_at, updated_at) VALUES ('hand_1', 'Typed Byhand', 0, 0)");
    db.exec("INSERT INTO customer_events(customer_id, event_type, event_date, title) VALUES ('hand_1', 'x', 0, 'zeppelin')");
    db.exec("UPDATE customer_events SET title = 'airship' WHERE title = 'zeppelin'");
    rebuild_search_index(db);
  }
  StoreReader reader(dir / "db.sqlite");
  CHECK(reader.search("byhand")[0]["customer_id"] == "hand_1");
  CHECK(reader.search("airship").size() == 1);
  CHECK(reader.search("zeppelin").empty());
  CHECK(reader.search("ann")[0]["customer_id"] == "cust_1");
}

TEST_CASE("search ranks at most candidate_pool recent matches per kind, all of a customer's", "[store][search]") {
  TempDir dir;
  {
    StoreWriter writer(dir / "db.sqlite", {});
    std::vector<WriteItem> batch;
    for (int i = 0; i < 5; ++i) {
      const sdk::AppendTimelineEvent event{.title = "Printer jam number " + std::to_string(i)};
      batch.push_back(write_item(R"({"event_id":"p)" + std::to_string(i) + R"(","customer_id":"c)" + std::to_string(i % 2) +
                                     R"(","event_type":"t"})",
                                 {event}));
    }
    writer.apply_batch(batch);
  }
  StoreReader reader(dir / "db.sqlite");
  CHECK(reader.search("printer").size() == 5);
  const auto newest = reader.search("printer", {.candidate_pool = 2});
  REQUIRE(newest.size() == 2);
  CHECK((newest[0]["id"] == "5" || newest[0]["id"] == "4"));
  CHECK((newest[1]["id"] == "5" || newest[1]["id"] == "4"));
  CHECK(reader.search("printer", {.customer_id = "c0", .candidate_pool = 1}).size() == 3);
}
