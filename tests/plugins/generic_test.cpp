// The generic plugin, from its real .so, through the SDK test kit.
#include <catch2/catch.hpp>

#include "plugins/plugin_test_support.hpp"

using namespace customeriq::test;

TEST_CASE("generic: title, description, amount, status and data as metadata", "[plugins]") {
  const Json data = {{"title", "Newsletter signup"},
                     {"description", "Signed up from the footer form"},
                     {"amount", 0},
                     {"status", "confirmed"},
                     {"list", "weekly"}};
  const auto [timeline] = exactly<sdk::AppendTimelineEvent>(handled("generic", event("newsletter_signup", data)));
  CHECK(timeline.event_type == "newsletter_signup");
  CHECK(timeline.title == "Newsletter signup");
  CHECK(timeline.description == "Signed up from the footer form");
  CHECK(timeline.amount == 0.0);
  CHECK(timeline.status == "confirmed");
  CHECK(timeline.metadata == data);
}

TEST_CASE("generic: fallbacks for title, description and amount", "[plugins]") {
  TestHandler generic(builtin("generic"));
  auto timeline_of = [&](Json data) {
    return mutation<sdk::AppendTimelineEvent>(generic.handle(event("webinar", std::move(data))), 0);
  };
  CHECK(timeline_of({{"subject", "S"}, {"summary", "X"}}).title == "S");
  CHECK(timeline_of({{"summary", "Attended"}}).title == "Attended");
  const auto bare = timeline_of(Json::object());
  CHECK(bare.title == "webinar");
  CHECK_FALSE(bare.description.has_value());
  CHECK_FALSE(bare.amount.has_value());
  CHECK_FALSE(bare.status.has_value());
  CHECK(bare.metadata == Json::object());
  const auto messaged = timeline_of({{"message", "Asked two questions"}, {"total", 12.5}});
  CHECK(messaged.description == "Asked two questions");
  CHECK(messaged.amount == 12.5);
  CHECK(timeline_of({{"amount", 3}, {"total", 12.5}}).amount == 3.0);
  // An empty title or description is kept as sent, not taken from the next field.
  CHECK(timeline_of({{"title", ""}, {"subject", "S"}}).title == "");
  CHECK(timeline_of({{"description", ""}, {"message", "M"}}).description == "");
}

TEST_CASE("generic: keep_data_as_metadata false leaves metadata empty", "[plugins]") {
  TestHandler generic(builtin("generic"), {{"keep_data_as_metadata", false}});
  const auto mutations = generic.handle(event("webinar", {{"title", "T"}, {"seat", 12}}));
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 0).metadata == Json::object());
}

TEST_CASE("generic: long descriptions are summarized", "[plugins]") {
  TestHandler generic(builtin("generic"), Json::object(), summarizer("truncate", {{"ellipsis", "..."}}), 12);
  const auto mutations = generic.handle(event("webinar", {{"description", "abcdefghijklmnopq"}}));
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 0).description == "abcdefghi...");
}

