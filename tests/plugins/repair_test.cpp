// The repair plugin, from its real .so, through the SDK test kit.
#include <catch2/catch.hpp>

#include "plugins/plugin_test_support.hpp"

using namespace customeriq::test;

TEST_CASE("repair: the seed work order is opened", "[plugins]") {
  const auto [order, timeline] = exactly<sdk::UpsertWorkOrder, sdk::AppendTimelineEvent>(handled(
      "repair", event("repair", {{"work_order_id", "WO-9999"},
                                 {"order_type", "repair"},
                                 {"issue_description", "Bluetooth module needs replacement"},
                                 {"status", "open"},
                                 {"priority", "medium"},
                                 {"assigned_to", "technician_05"},
                                 {"product_id", "WHP-2000"}})));
  CHECK(order.work_order_id == "WO-9999");
  CHECK(order.order_type == "repair");
  CHECK(order.issue_description == "Bluetooth module needs replacement");
  CHECK(order.status == "open");
  CHECK(order.priority == "medium");
  CHECK(order.assigned_to == "technician_05");
  CHECK_FALSE(order.created_date.has_value());
  CHECK_FALSE(order.completed_date.has_value());
  CHECK_FALSE(order.resolution.has_value());
  CHECK_FALSE(order.cost.has_value());
  CHECK(order.metadata == Json{{"product_id", "WHP-2000"}});

  CHECK(timeline.event_type == "repair");
  CHECK(timeline.title == "Work order WO-9999 open");
  CHECK(timeline.description == "Bluetooth module needs replacement");
  CHECK_FALSE(timeline.amount.has_value());
  CHECK(timeline.status == "open");
  CHECK(timeline.metadata == Json{{"work_order_id", "WO-9999"},
                                  {"order_type", "repair"},
                                  {"priority", "medium"},
                                  {"assigned_to", "technician_05"},
                                  {"product_id", "WHP-2000"}});
}

TEST_CASE("repair: a completion sets completed_date, resolution and cost", "[plugins]") {
  TestHandler repair(builtin("repair"));
  SECTION("completed_date defaults to the event's timestamp; status in any case") {
    const auto mutations = repair.handle(event(
        "work_order", {{"work_order_id", "WO-9999"},
                       {"status", "Completed"},
                       {"resolution", "Replaced the bluetooth module"},
                       {"cost", 49.5}}));
    const auto& order = mutation<sdk::UpsertWorkOrder>(mutations, 0);
    CHECK_FALSE(order.order_type.has_value());  // the store keeps the opening's type
    CHECK(order.completed_date == 1700000000);
    CHECK(order.resolution == "Replaced the bluetooth module");
    CHECK(order.cost == 49.5);
    CHECK_FALSE(order.issue_description.has_value());
    CHECK_FALSE(order.metadata.has_value());
    const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 1);
    CHECK(timeline.event_type == "work_order");
    CHECK(timeline.title == "Work order WO-9999 Completed");
    CHECK(timeline.description == "Replaced the bluetooth module");
    CHECK(timeline.amount == 49.5);
    CHECK(timeline.metadata == Json{{"work_order_id", "WO-9999"}});
  }
  SECTION("explicit dates") {
    const auto mutations = repair.handle(event(
        "repair", {{"work_order_id", "WO-1"},
                   {"status", "closed"},
                   {"created_date", 1690000000},
                   {"completed_date", 1695000000}}));
    const auto& order = mutation<sdk::UpsertWorkOrder>(mutations, 0);
    CHECK(order.created_date == 1690000000);
    CHECK(order.completed_date == 1695000000);
    CHECK_FALSE(order.resolution.has_value());
  }
  SECTION("a status that does not complete leaves completion fields alone") {
    const auto mutations = repair.handle(event(
        "repair", {{"work_order_id", "WO-2"},
                   {"status", "in_progress"},
                   {"issue_description", "Cracked hinge"},
                   {"resolution", "not yet"},
                   {"cost", 10},
                   {"completed_date", 1695000000}}));
    const auto& order = mutation<sdk::UpsertWorkOrder>(mutations, 0);
    CHECK_FALSE(order.completed_date.has_value());
    CHECK_FALSE(order.resolution.has_value());
    CHECK_FALSE(order.cost.has_value());
    const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 1);
    CHECK(timeline.description == "Cracked hinge");
    CHECK(timeline.amount == 10.0);
  }
}

TEST_CASE("repair: no status, event metadata merged under data.product_id", "[plugins]") {
  TestHandler repair(builtin("repair"));
  const auto mutations = repair.handle(event(
      "repair", {{"work_order_id", "WO-3"}, {"product_id", "P-1"}},
      {{"technician_app", "v2"}, {"product_id", "stale"}}));
  const auto& order = mutation<sdk::UpsertWorkOrder>(mutations, 0);
  CHECK_FALSE(order.order_type.has_value());
  CHECK_FALSE(order.status.has_value());
  CHECK(order.metadata == Json{{"technician_app", "v2"}, {"product_id", "P-1"}});
  const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 1);
  CHECK(timeline.title == "Work order WO-3");
  CHECK_FALSE(timeline.status.has_value());
  CHECK_FALSE(timeline.description.has_value());
}

TEST_CASE("repair: completed_statuses decides what completes", "[plugins]") {
  TestHandler repair(builtin("repair"), {{"completed_statuses", {"Shipped"}}});
  const auto shipped =
      repair.handle(event("repair", {{"work_order_id", "WO-4"}, {"status", "shipped"}}));
  CHECK(mutation<sdk::UpsertWorkOrder>(shipped, 0).completed_date == 1700000000);
  const auto completed =
      repair.handle(event("repair", {{"work_order_id", "WO-4"}, {"status", "completed"}}));
  CHECK_FALSE(mutation<sdk::UpsertWorkOrder>(completed, 0).completed_date.has_value());
}

TEST_CASE("repair: long issue descriptions and resolutions are summarized", "[plugins]") {
  TestHandler repair(builtin("repair"), Json::object(), nullptr, 10);
  const auto opened = repair.handle(event(
      "repair", {{"work_order_id", "WO-5"}, {"issue_description", "0123456789abcdef"}}));
  CHECK(mutation<sdk::UpsertWorkOrder>(opened, 0).issue_description == "0123456789");
  CHECK(mutation<sdk::AppendTimelineEvent>(opened, 1).description == "0123456789");
  const auto done = repair.handle(event(
      "repair", {{"work_order_id", "WO-5"}, {"status", "done"}, {"resolution", "abcdefghijklmnop"}}));
  // The stored resolution is whole; only the timeline text is shortened.
  CHECK(mutation<sdk::UpsertWorkOrder>(done, 0).resolution == "abcdefghijklmnop");
  CHECK(mutation<sdk::AppendTimelineEvent>(done, 1).description == "abcdefghij");
}

