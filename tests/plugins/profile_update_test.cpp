// The profile_update plugin, from its real .so, through the SDK test kit.
#include <catch2/catch.hpp>

#include "plugins/plugin_test_support.hpp"

using namespace customeriq::test;

TEST_CASE("profile_update: every field, in the fixed order", "[plugins]") {
  const auto [update, timeline] = exactly<sdk::UpdateCustomer, sdk::AppendTimelineEvent>(handled(
      "profile_update", event("profile_update", {{"custom_fields", {{"tier", "gold"}, {"old", nullptr}}},
                                                 {"tags", {"vip", "audio"}},
                                                 {"status", "active"},
                                                 {"company", "Acme"},
                                                 {"phone", "+1-555-0100"},
                                                 {"email", "Jane.Doe@Example.COM"},
                                                 {"name", "Jane Doe"}})));
  CHECK(update.name == "Jane Doe");
  CHECK(update.email == "jane.doe@example.com");
  CHECK(update.phone == "+1-555-0100");
  CHECK(update.company == "Acme");
  CHECK(update.status == "active");
  CHECK(update.tags == Json{"vip", "audio"});
  CHECK(update.custom_fields == Json{{"tier", "gold"}, {"old", nullptr}});

  CHECK(timeline.event_type == "profile_update");
  CHECK(timeline.title == "Profile updated");
  CHECK(timeline.description == "Updated: name, email, phone, company, status, tags, custom_fields");
  CHECK(timeline.metadata ==
        Json{{"fields", {"name", "email", "phone", "company", "status", "tags", "custom_fields"}}});
}

TEST_CASE("profile_update: only the fields sent - customer_name stands in for name", "[plugins]") {
  TestHandler profile(builtin("profile_update"));
  const auto [update, timeline] = exactly<sdk::UpdateCustomer, sdk::AppendTimelineEvent>(
      profile.handle(event("profile_update", {{"phone", "123"}, {"customer_name", "J. Doe"}, {"unrelated", 1}})));
  CHECK(update.name == "J. Doe");
  CHECK(update.phone == "123");
  CHECK_FALSE(update.email.has_value());
  CHECK_FALSE(update.company.has_value());
  CHECK_FALSE(update.status.has_value());
  CHECK_FALSE(update.tags.has_value());
  CHECK_FALSE(update.custom_fields.has_value());
  CHECK(timeline.description == "Updated: name, phone");
  CHECK(timeline.metadata == Json{{"fields", {"name", "phone"}}});
  // An empty tag list clears the tags: it is a change.
  const auto cleared = profile.handle(event("profile_update", {{"tags", Json::array()}}));
  CHECK(mutation<sdk::UpdateCustomer>(cleared, 0).tags == Json::array());
}

