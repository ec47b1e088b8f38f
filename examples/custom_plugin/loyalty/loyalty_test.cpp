// The loyalty plugin's tests, with the SDK's test kit: the plugin's sources
// are compiled into this executable and nothing is loaded.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <customeriq/sdk/testing.hpp>

#include "loyalty.hpp"

namespace sdk = customeriq::sdk;
using sdk::Json;
using sdk::testing::kinds;
using sdk::testing::mutation;
using sdk::testing::TestHandler;

namespace {

sdk::Event points_event(Json data) {
  return sdk::testing::event({{"event_type", "loyalty_points"}, {"customer_id", "cust_9"}, {"data", std::move(data)}});
}

}  // namespace

TEST_CASE("earned points: a timeline entry, the tier and lifetime value") {
  TestHandler loyalty(*loyalty::describe(), {{"value_per_point", 0.5}});
  const auto mutations = loyalty.handle(points_event({{"points", 120}, {"reason", "Birthday bonus"}, {"tier", "gold"}}));
  REQUIRE(kinds(mutations) == std::vector<std::string>{"AppendTimelineEvent", "UpdateCustomer", "AdjustLifetimeValue"});
  const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 0);
  CHECK(timeline.event_type == "loyalty_points");
  CHECK(timeline.title == "Earned 120 points");
  CHECK(timeline.description == "Birthday bonus");
  CHECK(timeline.metadata == Json{{"points", 120}});
  CHECK(mutation<sdk::UpdateCustomer>(mutations, 1).custom_fields == Json{{"loyalty_tier", "gold"}});
  CHECK(mutation<sdk::AdjustLifetimeValue>(mutations, 2).delta == 60.0);
}

TEST_CASE("spent points, and points worth nothing by default, move no money") {
  TestHandler worth_something(*loyalty::describe(), {{"value_per_point", 0.5}});
  const auto spent = worth_something.handle(points_event({{"points", -40}}));
  REQUIRE(kinds(spent) == std::vector<std::string>{"AppendTimelineEvent"});
  CHECK(mutation<sdk::AppendTimelineEvent>(spent, 0).title == "Spent 40 points");

  TestHandler by_default(*loyalty::describe());
  CHECK(by_default.config() == Json{{"value_per_point", 0}});
  CHECK(kinds(by_default.handle(points_event({{"points", 10}}))) == std::vector<std::string>{"AppendTimelineEvent"});
}

TEST_CASE("long reasons are summarized - points are required and whole") {
  TestHandler loyalty(*loyalty::describe(), Json::object(), nullptr, 10);
  const auto mutations = loyalty.handle(points_event({{"points", 5}, {"reason", "A very long reason indeed"}}));
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 0).description == "A very lon");
  CHECK_THROWS_MATCHES(loyalty.handle(points_event(Json::object())), sdk::InvalidEvent,
                       Catch::Message("data.points is required"));
  CHECK_THROWS_MATCHES(loyalty.handle(points_event({{"points", 2.5}})), sdk::InvalidEvent,
                       Catch::Message("data.points must be an integer, got number 2.5"));
}

TEST_CASE("value_per_point may not be negative") {
  CHECK_THROWS_WITH(TestHandler(*loyalty::describe(), {{"value_per_point", -1}}),
                    "plugin loyalty: config key 'value_per_point' must be a number >= 0, got -1");
}
