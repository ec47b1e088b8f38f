// The contact plugin, from its real .so, through the SDK test kit.
#include <catch2/catch.hpp>

#include "plugins/plugin_test_support.hpp"

using namespace customeriq::test;

TEST_CASE("contact: subject, message and status - the rest of data is metadata", "[plugins]") {
  const auto [timeline] = exactly<sdk::AppendTimelineEvent>(handled(
      "contact", event("contact", {{"subject", "Question about warranty"},
                                   {"message", "Does the warranty cover water damage?"},
                                   {"status", "answered"},
                                   {"channel", "email"},
                                   {"duration_s", 0}})));
  CHECK(timeline.event_type == "contact");
  CHECK(timeline.title == "Question about warranty");
  CHECK(timeline.description == "Does the warranty cover water damage?");
  CHECK(timeline.status == "answered");
  CHECK_FALSE(timeline.amount.has_value());
  CHECK(timeline.metadata == Json{{"channel", "email"}, {"duration_s", 0}});
}

TEST_CASE("contact: title and description fall back in order", "[plugins]") {
  TestHandler contact(builtin("contact"));
  auto timeline_of = [&](Json data, Json metadata = Json::object()) {
    const auto [timeline] =
        exactly<sdk::AppendTimelineEvent>(contact.handle(event("contact", std::move(data), std::move(metadata))));
    return timeline;
  };
  const auto titled = timeline_of({{"title", "Callback"}, {"description", "Wants a call"}, {"notes", "n"}});
  CHECK(titled.title == "Callback");
  CHECK(titled.description == "Wants a call");
  CHECK(titled.metadata == Json{{"notes", "n"}});

  const auto by_channel = timeline_of({{"channel", "phone"}, {"notes", "Left a voicemail"}});
  CHECK(by_channel.title == "Contact via phone");
  CHECK(by_channel.description == "Left a voicemail");
  CHECK_FALSE(by_channel.status.has_value());
  CHECK(by_channel.metadata == Json{{"channel", "phone"}});

  CHECK(timeline_of(Json::object(), {{"channel", "chat"}}).title == "Contact via chat");
  const auto bare = timeline_of(Json::object());
  CHECK(bare.title == "Customer contact");
  CHECK_FALSE(bare.description.has_value());
  CHECK(bare.metadata == Json::object());

  // An empty subject is still the field used: it is the title and leaves the metadata.
  const auto empty_subject = timeline_of({{"subject", ""}, {"title", "T"}, {"message", ""}, {"notes", "n"}});
  CHECK(empty_subject.title == "");
  CHECK(empty_subject.description == "");
  CHECK(empty_subject.metadata == Json{{"title", "T"}, {"notes", "n"}});
}

TEST_CASE("contact: long messages are summarized", "[plugins]") {
  TestHandler contact(builtin("contact"), Json::object(), summarizer("truncate"), 12);
  const auto mutations = contact.handle(event("contact", {{"message", "Please call me back tomorrow"}}));
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 0).description == "Please call" + kEllipsis);
}

