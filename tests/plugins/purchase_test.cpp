// The purchase plugin, from its real .so, through the SDK test kit.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "plugins/plugin_test_support.hpp"

using namespace customeriq::test;

TEST_CASE("purchase: the seed order becomes a purchase row and a timeline row", "[plugins]") {
  const auto [row, timeline] = exactly<sdk::UpsertPurchase, sdk::AppendTimelineEvent>(handled(
      "purchase", event("purchase",
                        {{"purchase_id", "ord_12345"},
                         {"product_name", "Wireless Headphones Pro"},
                         {"product_sku", "WHP-2000"},
                         {"quantity", 1},
                         {"price", 299.99},
                         {"total", 299.99},
                         {"warranty_expires", 1765670400}},
                        {{"session_id", "sess_abc123"}, {"payment_method", "credit_card"}})));
  CHECK(row.purchase_id == "ord_12345");
  CHECK(row.product_name == "Wireless Headphones Pro");
  CHECK(row.product_sku == "WHP-2000");
  CHECK(row.quantity == 1);
  CHECK(row.price == 299.99);
  CHECK(row.total == 299.99);
  CHECK_FALSE(row.purchase_date.has_value());
  CHECK(row.warranty_expires == 1765670400);
  CHECK(row.metadata == Json{{"session_id", "sess_abc123"}, {"payment_method", "credit_card"}});

  CHECK(timeline.event_type == "purchase");
  CHECK_FALSE(timeline.event_date.has_value());
  CHECK(timeline.title == "Purchase: Wireless Headphones Pro");
  CHECK(timeline.description == "Order ord_12345: 1 x Wireless Headphones Pro (WHP-2000)");
  CHECK(timeline.amount == 299.99);
  CHECK(timeline.status == "completed");
  CHECK_FALSE(timeline.agent_notes.has_value());
  CHECK(timeline.metadata ==
        Json{{"purchase_id", "ord_12345"}, {"product_sku", "WHP-2000"}, {"quantity", 1}});
}

TEST_CASE("purchase: total defaults to price x quantity - names fall back to the id", "[plugins]") {
  TestHandler purchase(builtin("purchase"));
  SECTION("no total, no name") {
    const auto [row, timeline] = exactly<sdk::UpsertPurchase, sdk::AppendTimelineEvent>(purchase.handle(event(
        "purchase", {{"purchase_id", "ord_2"}, {"quantity", 3}, {"price", 2.5}, {"status", "pending"}})));
    CHECK(row.quantity == 3);
    CHECK(row.total == 7.5);
    CHECK_FALSE(row.product_name.has_value());
    CHECK_FALSE(row.product_sku.has_value());
    CHECK_FALSE(row.warranty_expires.has_value());
    CHECK(row.metadata == Json::object());
    CHECK(timeline.title == "Purchase ord_2");
    CHECK(timeline.description == "Order ord_2: 3 items");
    CHECK(timeline.amount == 7.5);
    CHECK(timeline.status == "pending");
    CHECK(timeline.metadata == Json{{"purchase_id", "ord_2"}, {"quantity", 3}});
  }
  SECTION("quantity defaults to 1; a sku without a name; an explicit total wins over price") {
    const auto mutations = purchase.handle(event(
        "purchase", {{"purchase_id", "ord_3"}, {"product_sku", "SKU-1"}, {"price", 10}, {"total", 8}}));
    const auto& row = mutation<sdk::UpsertPurchase>(mutations, 0);
    CHECK(row.quantity == 1);
    CHECK(row.price == 10.0);
    CHECK(row.total == 8.0);
    const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 1);
    CHECK(timeline.description == "Order ord_3: 1 x SKU-1");
  }
  SECTION("a refund: a negative total is kept as sent") {
    const auto mutations =
        purchase.handle(event("purchase", {{"purchase_id", "ord_4"}, {"total", -20.0}}));
    CHECK(mutation<sdk::UpsertPurchase>(mutations, 0).total == -20.0);
    CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 1).amount == -20.0);
  }
  SECTION("no AdjustLifetimeValue: the store moves lifetime value with the purchase") {
    const auto mutations =
        purchase.handle(event("purchase", {{"purchase_id", "ord_5"}, {"total", 1}}));
    for (const auto& m : mutations) CHECK_FALSE(std::holds_alternative<sdk::AdjustLifetimeValue>(m));
  }
}

TEST_CASE("purchase: require_purchase_id", "[plugins]") {
  const auto cable = event("purchase", {{"product_name", "Cable"}, {"total", 5}});
  SECTION("true (default): a purchase without an id is invalid") {
    TestHandler purchase(builtin("purchase"));
    CHECK_THROWS_MATCHES(purchase.handle(cable), sdk::InvalidEvent,
                         Catch::Message("data.purchase_id is required"));
  }
  SECTION("false: the event's idempotency key becomes the id") {
    TestHandler purchase(builtin("purchase"), {{"require_purchase_id", false}});
    const auto mutations = purchase.handle(cable);
    CHECK(mutation<sdk::UpsertPurchase>(mutations, 0).purchase_id == "evt_0001");
    CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 1).metadata["purchase_id"] == "evt_0001");
    // A given id still wins.
    auto with_id = cable;
    with_id.data["purchase_id"] = "ord_9";
    CHECK(mutation<sdk::UpsertPurchase>(purchase.handle(with_id), 0).purchase_id == "ord_9");
  }
}


TEST_CASE("purchase: numbers out of range are named with their real value", "[plugins]") {
  TestHandler purchase(builtin("purchase"));
  auto invalid = [&](const char* data) { return purchase.handle(event("purchase", Json::parse(data))); };
  // Read as signed, 18446744073709551615 used to be reported as "got -1".
  CHECK_THROWS_MATCHES(invalid(R"({"purchase_id":"o","total":1,"quantity":18446744073709551615})"),
                       sdk::InvalidEvent,
                       Catch::Message("data.quantity must be an integer from -9223372036854775808 to "
                                      "9223372036854775807, got number 18446744073709551615"));
  CHECK_THROWS_MATCHES(invalid(R"({"purchase_id":"o","total":1,"quantity":1e300})"), sdk::InvalidEvent,
                       Catch::Message("data.quantity must be an integer from -9223372036854775808 to "
                                      "9223372036854775807, got number 1e+300"));
  CHECK_THROWS_MATCHES(invalid(R"({"purchase_id":"o","total":1,"quantity":2000000000})"), sdk::InvalidEvent,
                       Catch::Message("data.quantity must be from 1 to 1000000000, got 2000000000"));
  // Sums of money must stay finite: two totals of 1e308 made lifetime_value inf.
  CHECK_THROWS_MATCHES(invalid(R"({"purchase_id":"o","total":1e308})"), sdk::InvalidEvent,
                       Catch::Message("data.total must be between -1000000000000 and 1000000000000, got 1e+308"));
  CHECK_THROWS_MATCHES(invalid(R"({"purchase_id":"o","price":1e9,"quantity":100000})"), sdk::InvalidEvent,
                       Catch::Message("data.price x data.quantity is over 1000000000000; send data.total"));
  CHECK(mutation<sdk::UpsertPurchase>(purchase.handle(event("purchase", Json::parse(
                                          R"({"purchase_id":"o","total":1000000000000,"quantity":1000000000})"))),
                                      0)
            .total == 1e12);
}

TEST_CASE("a wrong value is quoted short in the reason, not whole", "[plugins]") {
  TestHandler purchase(builtin("purchase"));
  Json data = {{"purchase_id", "o"}, {"total", std::string(100000, 'x')}};
  try {
    purchase.handle(event("purchase", data));
    FAIL("no exception");
  } catch (const sdk::InvalidEvent& error) {
    const std::string what = error.what();
    CHECK_THAT(what, Catch::StartsWith("data.total must be a number, got string \"xxxx"));
    CHECK_THAT(what, Catch::EndsWith("…"));
    CHECK(what.size() < 200);
  }
}

TEST_CASE("purchase: one handler serves several threads at once", "[plugins]") {
  TestHandler purchase(builtin("purchase"));
  std::vector<std::thread> threads;
  std::vector<int> correct(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string id = "ord_" + std::to_string(t) + "_" + std::to_string(i);
        const auto mutations = purchase.handle(
            event("purchase", {{"purchase_id", id}, {"quantity", i + 1}, {"price", 2.0}}));
        const auto* row = std::get_if<sdk::UpsertPurchase>(&mutations.at(0));
        if (row && row->purchase_id == id && row->total == 2.0 * (i + 1)) ++correct[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(correct == std::vector<int>(4, 200));
}
