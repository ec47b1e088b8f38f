// The reader's single-row, per-customer and paged reads: rows as the profile
// shows them, keyset pages that yield every row once, opaque cursors that
// refuse to be tampered with. Real SQLite files, real plugins.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <SQLiteCpp/Database.h>

#include "pipeline/event_decoder.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/writer_thread.hpp"
#include "store/page_cursor.hpp"
#include "store/store_reader.hpp"
#include "store/store_writer.hpp"
#include "store/work_order_sql.hpp"
#include "support/store_fixture.hpp"
#include "support/test_support.hpp"

using namespace customeriq;
using customeriq::test::TempDir;
using customeriq::test::write_item;

namespace {

std::string event_json(const std::string& id, const std::string& customer, std::int64_t timestamp = 1000) {
  return R"({"event_id":")" + id + R"(","customer_id":")" + customer + R"(","event_type":"t","timestamp":)" +
         std::to_string(timestamp) + "}";
}

sdk::AppendTimelineEvent timeline_row(const std::string& type, std::int64_t date) {
  sdk::AppendTimelineEvent row;
  row.event_type = type;
  row.title = type + " at " + std::to_string(date);
  row.event_date = date;
  return row;
}

RawMessage note(const std::string& id, std::int64_t timestamp) {
  RawMessage raw;
  raw.bytes = R"({"event_id":")" + id + R"(","customer_id":"cust_1","event_type":"note","timestamp":)" +
              std::to_string(timestamp) + R"(,"data":{"content":"note )" + id + R"("}})";
  raw.subject = "test";
  return raw;
}

// Every page's items, following next_cursor until it is null.
template <typename ReadPage>
std::vector<Json> all_pages(ReadPage read_page, std::size_t limit) {
  std::vector<Json> items;
  std::string cursor;
  for (int pages = 0;; ++pages) {
    REQUIRE(pages < 1000);
    const Json page = read_page(cursor);
    CHECK(page["items"].size() <= limit);
    for (const Json& row : page["items"]) items.push_back(row);
    if (page["next_cursor"].is_null()) return items;
    CHECK(page["items"].size() == limit);
    cursor = page["next_cursor"].get<std::string>();
  }
}

std::vector<std::int64_t> ids_of(const std::vector<Json>& rows) {
  std::vector<std::int64_t> ids;
  for (const Json& row : rows) ids.push_back(row["id"].get<std::int64_t>());
  return ids;
}

// 40 events of cust_1 on 8 dates (ties on every date), four types.
void write_history(const std::filesystem::path& db) {
  StoreWriter writer(db, {});
  std::vector<WriteItem> batch;
  const char* types[] = {"call", "email", "visit", "chat"};
  for (int i = 0; i < 40; ++i)
    batch.push_back(write_item(event_json("e" + std::to_string(i), "cust_1"),
                         {timeline_row(types[i % 4], 1000 + (i * 7) % 8)}));
  batch.push_back(write_item(event_json("other", "cust_2"), {timeline_row("call", 1003)}));
  writer.apply_batch(batch);
}

std::string bad_cursor_error(StoreReader& reader, const std::string& cursor) {
  try {
    reader.timeline("cust_1", {.limit = 5, .cursor = cursor});
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("customer() is the profile's customer row, nullopt when unknown", "[paging]") {
  TempDir dir;
  {
    StoreWriter writer(dir / "db.sqlite", {});
    sdk::UpdateCustomer update;
    update.tags = sdk::Json::array({"vip"});
    update.custom_fields = sdk::Json{{"tier", "gold"}};
    writer.apply_batch({write_item(event_json("e1", "cust_1"), {update})});
  }
  StoreReader reader(dir / "db.sqlite");
  const auto customer = reader.customer("cust_1");
  REQUIRE(customer);
  CHECK(*customer == reader.profile("cust_1")->at("customer"));
  CHECK((*customer)["tags"] == Json::array({"vip"}));
  CHECK((*customer)["custom_fields"]["tier"] == "gold");
  CHECK_FALSE(reader.customer("nobody"));
}

TEST_CASE("customers_by_email matches case-insensitively, oldest customer first", "[paging]") {
  TempDir dir;
  {
    StoreWriter writer(dir / "db.sqlite", {});
    sdk::UpdateCustomer mixed_case, same_email;
    mixed_case.email = "Ann@Example.COM";
    same_email.email = "ann@example.com";
    writer.apply_batch({write_item(event_json("e1", "cust_b", 2000), {mixed_case}),
                        write_item(event_json("e2", "cust_a", 1000), {same_email}),
                        write_item(event_json("e3", "cust_c", 500))});
  }
  StoreReader reader(dir / "db.sqlite");
  const Json found = reader.customers_by_email("ANN@example.com");
  REQUIRE(found.size() == 2);
  CHECK(found[0]["id"] == "cust_a");
  CHECK(found[1]["id"] == "cust_b");
  CHECK(found[1] == *reader.customer("cust_b"));
  CHECK(reader.customers_by_email("nobody@example.com") == Json::array());
}

TEST_CASE("find_customers finds by id, email, phone, name as typed and activity, best first", "[paging]") {
  TempDir dir;
  {
    StoreWriter writer(dir / "db.sqlite", {});
    sdk::UpdateCustomer john, joan, other;
    john.name = "John Smith";
    john.email = "john.smith@example.com";
    john.phone = "+1 (555) 010-2000";
    joan.name = "Joan Smithers";
    joan.company = "Smith & Co";
    other.name = "Ann Other";
    sdk::AppendTimelineEvent repair;
    repair.event_type = "repair";
    repair.title = "Headphones flickerbolt fault";
    writer.apply_batch({write_item(event_json("e1", "cust_001", 1000), {john}),
                        write_item(event_json("e2", "cust_002", 2000), {joan}),
                        write_item(event_json("e3", "cust_003", 3000), {other, repair})});
  }
  StoreReader reader(dir / "db.sqlite");
  auto ids = [&](const std::string& text, std::size_t limit = 10) {
    std::vector<std::string> found;
    for (const Json& row : reader.find_customers(text, limit))
      found.push_back(row["id"].get<std::string>() + ":" + row["matched"].get<std::string>());
    return found;
  };
  CHECK(ids("cust_002") == std::vector<std::string>{"cust_002:id"});
  CHECK(ids("  JOHN.SMITH@example.com ") == std::vector<std::string>{"cust_001:email"});
  CHECK(ids("555 010 2000") == std::vector<std::string>{"cust_001:phone"});
  CHECK(ids("+1-555-010-2000") == std::vector<std::string>{"cust_001:phone"});
  // The last word is a prefix: "smi" finds both as it is typed.
  const auto smi = ids("smi");
  CHECK(smi.size() == 2);
  CHECK(std::count(smi.begin(), smi.end(), "cust_001:name") == 1);
  CHECK(std::count(smi.begin(), smi.end(), "cust_002:name") == 1);
  CHECK(ids("joan smi") == std::vector<std::string>{"cust_002:name"});
  CHECK(ids("flickerbolt") == std::vector<std::string>{"cust_003:activity"});
  CHECK(ids("smi", 1).size() == 1);
  CHECK(ids("   ").empty());
  CHECK(ids("*").empty());
  CHECK(ids("\"unbalanced").empty());
  const Json row = reader.find_customers("cust_001", 1)[0];
  CHECK(row["name"] == "John Smith");
  CHECK(row["phone"] == "+1 (555) 010-2000");
}

TEST_CASE("customers_updated_since pages ascending and yields each customer once", "[paging]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    StoreWriter writer(db, {});
    std::vector<WriteItem> batch;
    for (int i = 0; i < 24; ++i) batch.push_back(write_item(event_json("e" + std::to_string(i), "c" + std::to_string(i))));
    writer.apply_batch(batch);
    // Six update times, four customers at each: ties are ordered by id.
    writer.database().exec("UPDATE customers SET updated_at = 100 + CAST(substr(id, 2) AS INTEGER) % 6");
  }
  StoreReader reader(db);
  for (std::size_t limit : {1u, 4u, 5u, 24u, 100u}) {
    INFO("limit " << limit);
    const auto rows = all_pages([&](const std::string& cursor) { return reader.customers_updated_since(102, limit, cursor); },
                                limit);
    REQUIRE(rows.size() == 16);
    std::set<std::string> ids;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ids.insert(rows[i]["id"].get<std::string>());
      CHECK(rows[i]["updated_at"] >= 102);
      if (i > 0) {
        const auto previous = std::pair(rows[i - 1]["updated_at"].get<std::int64_t>(), rows[i - 1]["id"].get<std::string>());
        CHECK(previous < std::pair(rows[i]["updated_at"].get<std::int64_t>(), rows[i]["id"].get<std::string>()));
      }
    }
    CHECK(ids.size() == 16);
  }
  CHECK(reader.customers_updated_since(106, 10, "")["items"].empty());
  CHECK(reader.customers_updated_since(106, 10, "")["next_cursor"].is_null());
  CHECK(reader.customers_updated_since(0, 1, "")["items"][0] == *reader.customer("c0"));
}

TEST_CASE("a customer updated between pages is not missed and shows up at its new place", "[paging]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  StoreWriter writer(db, {});
  std::vector<WriteItem> batch;
  for (int i = 0; i < 6; ++i) batch.push_back(write_item(event_json("e" + std::to_string(i), "c" + std::to_string(i))));
  writer.apply_batch(batch);
  writer.database().exec("UPDATE customers SET updated_at = 100 + CAST(substr(id, 2) AS INTEGER)");
  StoreReader reader(db);
  const Json first = reader.customers_updated_since(0, 3, "");
  // c1 (already read) and c4 (not yet) change now.
  writer.apply_batch({write_item(event_json("u1", "c1"), {sdk::AdjustLifetimeValue{1}}),
                      write_item(event_json("u4", "c4"), {sdk::AdjustLifetimeValue{1}})});
  const Json second = reader.customers_updated_since(0, 10, first["next_cursor"].get<std::string>());
  std::vector<std::string> ids;
  for (const Json& page : {first, second})
    for (const Json& row : page["items"]) ids.push_back(row["id"].get<std::string>());
  CHECK(ids == std::vector<std::string>{"c0", "c1", "c2", "c3", "c5", "c1", "c4"});
}

TEST_CASE("timeline pages are newest first and yield every event once", "[paging]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  write_history(db);
  StoreReader reader(db);
  const Json everything = reader.profile("cust_1", {.timeline_limit = 1000})->at("timeline");
  REQUIRE(everything.size() == 40);
  for (std::size_t limit : {1u, 3u, 8u, 40u, 41u}) {
    INFO("limit " << limit);
    const auto rows = all_pages([&](const std::string& cursor) {
      return *reader.timeline("cust_1", {.limit = limit, .cursor = cursor});
    }, limit);
    CHECK(Json(rows) == everything);  // the profile's rows, in its order
  }
  // Ordered by (event_date DESC, id DESC).
  for (std::size_t i = 1; i < everything.size(); ++i) {
    const Json& a = everything[i - 1];
    const Json& b = everything[i];
    CHECK((a["event_date"] > b["event_date"] || (a["event_date"] == b["event_date"] && a["id"] > b["id"])));
  }
}

TEST_CASE("timeline filters by type and by an inclusive date range, across pages", "[paging]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  write_history(db);
  StoreReader reader(db);
  const Json everything = reader.profile("cust_1", {.timeline_limit = 1000})->at("timeline");
  auto expected = [&](auto keep) {
    std::vector<Json> rows;
    for (const Json& row : everything)
      if (keep(row)) rows.push_back(row);
    return rows;
  };
  auto paged = [&](TimelineQuery query) {
    return all_pages([&](const std::string& cursor) {
      query.cursor = cursor;
      return *reader.timeline("cust_1", query);
    }, query.limit);
  };
  const auto typed = paged({.limit = 3, .types = {"call", "visit"}});
  CHECK(typed.size() == 20);
  CHECK(typed == expected([](const Json& row) { return row["event_type"] == "call" || row["event_type"] == "visit"; }));

  const auto dated = paged({.limit = 4, .since = 1002, .until = 1004});
  CHECK(dated.size() == 15);
  CHECK(dated == expected([](const Json& row) { return row["event_date"] >= 1002 && row["event_date"] <= 1004; }));

  const auto both = paged({.limit = 2, .types = {"email"}, .since = 1005});
  CHECK(both == expected([](const Json& row) { return row["event_type"] == "email" && row["event_date"] >= 1005; }));
  CHECK_FALSE(both.empty());

  CHECK(reader.timeline("cust_1", {.limit = 5, .types = {"fax"}})->at("items").empty());
  CHECK(reader.timeline("cust_1", {.limit = 5, .since = 1008})->at("next_cursor").is_null());
}

TEST_CASE("timeline paging yields every event once while new events commit between pages", "[paging]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  Pipeline pipeline(load_pipeline_config(test::source_dir() / "pipelines/default.yaml"));
  StoreWriter store(db, {});
  WriterThread writer(pipeline, store, {});
  for (int i = 0; i < 30; ++i) writer.submit(note("old" + std::to_string(i), 1000 + i % 10));
  writer.flush();

  StoreReader reader(db);
  const auto existing = ids_of(reader.profile("cust_1", {.timeline_limit = 1000})->at("timeline"));
  REQUIRE(existing.size() == 30);
  std::vector<std::int64_t> seen;
  std::string cursor;
  for (int page = 0;; ++page) {
    const Json result = *reader.timeline("cust_1", {.limit = 4, .cursor = cursor});
    for (const auto id : ids_of(result["items"])) seen.push_back(id);
    if (result["next_cursor"].is_null()) break;
    cursor = result["next_cursor"].get<std::string>();
    // Newer, older and same-date events than the page's last row.
    for (const std::int64_t timestamp : {2000 + page, 500 + page, 1000 + page % 10})
      writer.submit(note("new" + std::to_string(page) + "_" + std::to_string(timestamp), timestamp));
    writer.flush();
  }
  std::vector<std::int64_t> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());  // none twice
  for (const auto id : existing) CHECK(std::count(seen.begin(), seen.end(), id) == 1);
  // The events older than every page read so far are all reached as well.
  CHECK(seen.size() > existing.size());
}

TEST_CASE("malformed, tampered and foreign cursors are refused with a clear message", "[paging]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  write_history(db);
  StoreReader reader(db);
  const std::string good = reader.timeline("cust_1", {.limit = 5})->at("next_cursor").get<std::string>();
  CHECK(bad_cursor_error(reader, good) == "(accepted)");

  std::string changed = good;
  changed[3] = changed[3] == 'A' ? 'B' : 'A';
  const std::string customers_cursor =
      reader.customers_updated_since(0, 1, "")["next_cursor"].get<std::string>();
  for (const auto& [cursor, reason] : std::vector<std::pair<std::string, std::string>>{
           {"garbage", "not a cursor"},
           {"!!!!.0123456789ab", "not base64url"},
           {changed, "it was changed (checksum mismatch)"},
           {good.substr(0, good.size() - 1), "it was changed (checksum mismatch)"},
           {customers_cursor, "not a timeline cursor"},
           {encode_cursor("timeline", Json::array({"1000", 5})), "a timeline cursor holds [event_date, id]"},
           {encode_cursor("timeline", Json::array({1000})), "a timeline cursor holds [event_date, id]"}}) {
    INFO(cursor);
    const std::string error = bad_cursor_error(reader, cursor);
    CHECK_THAT(error, Catch::StartsWith("invalid cursor \""));
    CHECK_THAT(error, Catch::Contains(reason));
  }
  CHECK_THROWS_WITH(reader.customers_updated_since(0, 5, good), Catch::Contains("not a customers cursor"));
  CHECK_THROWS_AS(reader.customers_updated_since(0, 5, encode_cursor("customers", Json::array({1, 2}))),
                  std::invalid_argument);
  // A bad cursor is the caller's error even for a customer that does not exist.
  CHECK_THROWS_AS(reader.timeline("nobody", {.limit = 5, .cursor = "garbage"}), std::invalid_argument);
}

TEST_CASE("purchases, work orders and knowledge are the profile's, nullopt for an unknown customer", "[paging]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    StoreWriter writer(db, {});
    sdk::UpsertPurchase older, newer;
    older.purchase_id = "ord_1";
    older.total = 10;
    older.purchase_date = 100;
    newer.purchase_id = "ord_2";
    newer.total = 20;
    newer.purchase_date = 200;
    newer.metadata = {{"gift", true}};
    sdk::UpsertWorkOrder open, done;
    open.work_order_id = "WO-1";
    open.status = "open";
    done.work_order_id = "WO-2";
    done.status = "completed";
    sdk::AddKnowledge low, high;
    low.content = "low";
    low.importance = 2;
    high.content = "high";
    high.importance = 9;
    high.tags = sdk::Json::array({"t"});
    writer.apply_batch({write_item(event_json("e1", "cust_1"), {older, newer, open, done, low, high}),
                        write_item(event_json("e2", "cust_empty"))});
  }
  StoreReader reader(db);
  const Json profile = *reader.profile("cust_1");
  CHECK(*reader.purchases("cust_1") == profile["purchases"]);
  CHECK(profile["purchases"][0]["id"] == "ord_2");
  CHECK(profile["purchases"][0]["metadata"]["gift"] == true);
  CHECK(*reader.work_orders("cust_1") == profile["work_orders"]);
  CHECK(profile["work_orders"].size() == 2);
  const Json completed = *reader.work_orders("cust_1", "completed");
  REQUIRE(completed.size() == 1);
  CHECK(completed[0]["id"] == "WO-2");
  CHECK(reader.work_orders("cust_1", "cancelled")->empty());
  CHECK(*reader.knowledge("cust_1") == profile["knowledge"]);
  CHECK(profile["knowledge"][0]["content"] == "high");
  CHECK(profile["knowledge"][0]["tags"] == Json::array({"t"}));

  CHECK(reader.purchases("cust_empty")->empty());
  CHECK(reader.timeline("cust_empty", {.limit = 5})->at("items").empty());
  CHECK_FALSE(reader.purchases("nobody"));
  CHECK_FALSE(reader.work_orders("nobody"));
  CHECK_FALSE(reader.work_orders("nobody", "open"));
  CHECK_FALSE(reader.knowledge("nobody"));
  CHECK_FALSE(reader.timeline("nobody", {.limit = 5}));
}

TEST_CASE("is_migrated tells whether the database is at this build's schema", "[paging]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  StoreWriter writer(db, {});
  StoreReader reader(db);
  CHECK(reader.is_migrated());
  writer.database().exec("PRAGMA user_version = 99");  // a newer customeriq migrated it
  CHECK_FALSE(reader.is_migrated());
}

TEST_CASE("open work orders of all customers page from the partial index, most pressing first, without a sort",
          "[paging]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    StoreWriter writer(db, {});
    std::vector<WriteItem> batch;
    const char* priorities[] = {"low", "High", "critical", nullptr, "medium"};
    const char* statuses[] = {"open", "Closed", "in_progress", "cancelled", "open", "done"};
    for (int i = 0; i < 30; ++i) {
      sdk::UpsertWorkOrder order;
      order.work_order_id = "WO-" + std::to_string(100 + i);
      order.status = statuses[i % 6];
      if (priorities[i % 5]) order.priority = priorities[i % 5];
      order.created_date = 1000 + (i * 7) % 30;
      batch.push_back(write_item(event_json("e" + std::to_string(i), "cust_" + std::to_string(i % 4)), {order}));
    }
    writer.apply_batch(std::move(batch));
  }

  SQLite::Database sqlite(db.string());
  auto plan = [&](bool one_customer) {
    SQLite::Statement explain(sqlite, "EXPLAIN QUERY PLAN " + open_work_orders_page_query(one_customer));
    std::string text;
    while (explain.executeStep()) text += explain.getColumn(3).getString() + "\n";
    return text;
  };
  const std::string every_customer = plan(false);
  INFO(every_customer);
  CHECK_THAT(every_customer, Catch::Contains("SEARCH work_orders USING INDEX work_orders_open"));
  CHECK_THAT(every_customer, !Catch::Contains("TEMP B-TREE"));
  CHECK_THAT(plan(true), Catch::Contains("USING INDEX work_orders_by_customer (customer_id=?)"));

  StoreReader reader(db);
  const std::map<std::string, int> rank = {{"critical", 0}, {"high", 1}, {"medium", 2}, {"low", 3}};
  std::vector<Json> orders;
  std::string cursor;
  for (int pages = 0;; ++pages) {
    REQUIRE(pages < 20);
    const Json page = *reader.open_work_orders_page(std::nullopt, 3, cursor);
    CHECK(page["total"] == 15);
    for (const Json& order : page["items"]) orders.push_back(order);
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"];
  }
  REQUIRE(orders.size() == 15);  // open and in_progress: 3 of every 6
  std::set<std::string> ids;
  auto rank_of = [&](const Json& order) {
    if (order["priority"].is_null()) return 4;
    std::string priority = order["priority"];
    std::transform(priority.begin(), priority.end(), priority.begin(), ::tolower);
    return rank.at(priority);
  };
  for (std::size_t i = 0; i < orders.size(); ++i) {
    CHECK(ids.insert(orders[i]["id"]).second);
    CHECK((orders[i]["status"] == "open" || orders[i]["status"] == "in_progress"));
    if (i > 0) {
      const auto before = std::make_tuple(rank_of(orders[i - 1]), orders[i - 1]["created_date"].get<std::int64_t>());
      const auto here = std::make_tuple(rank_of(orders[i]), orders[i]["created_date"].get<std::int64_t>());
      CHECK(before <= here);
    }
  }
  const Json one = *reader.open_work_orders_page(std::string("cust_0"), 50, "");
  CHECK(one["total"] == one["items"].size());
  for (const Json& order : one["items"]) CHECK(order["customer_id"] == "cust_0");
}
