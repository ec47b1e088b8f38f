// The support_ticket plugin, from its real .so, through the SDK test kit.
#include <catch2/catch.hpp>

#include "plugins/plugin_test_support.hpp"

using namespace customeriq::test;

TEST_CASE("support_ticket: the seed ticket is a timeline row and knowledge", "[plugins]") {
  const auto [timeline, knowledge] = exactly<sdk::AppendTimelineEvent, sdk::AddKnowledge>(handled(
      "support_ticket", event("support_ticket", {{"ticket_id", "TKT-5678"},
                                                 {"title", "Product not working"},
                                                 {"description", "Bluetooth pairing is inconsistent..."},
                                                 {"status", "open"},
                                                 {"priority", "high"},
                                                 {"category", "technical"},
                                                 {"agent_notes", "Asked for firmware version"},
                                                 {"important", true}})));
  CHECK(timeline.event_type == "support_ticket");
  CHECK(timeline.title == "Product not working");
  CHECK(timeline.description == "Bluetooth pairing is inconsistent...");
  CHECK(timeline.status == "open");
  CHECK(timeline.agent_notes == "Asked for firmware version");
  CHECK_FALSE(timeline.amount.has_value());
  CHECK(timeline.metadata ==
        Json{{"ticket_id", "TKT-5678"}, {"priority", "high"}, {"category", "technical"}});

  CHECK(knowledge.content == "Product not working: Bluetooth pairing is inconsistent...");
  CHECK(knowledge.category == "technical");
  CHECK(knowledge.importance == 8);
  CHECK(knowledge.tags == Json{"support_ticket", "high"});
  CHECK(knowledge.source == "support_ticket:TKT-5678");
}

TEST_CASE("support_ticket: an unflagged ticket is only a timeline row", "[plugins]") {
  TestHandler ticket(builtin("support_ticket"));
  SECTION("with an id") {
    const auto [timeline] = exactly<sdk::AppendTimelineEvent>(ticket.handle(
        event("support_ticket", {{"ticket_id", "TKT-1"}, {"priority", "urgent"}, {"important", false}})));
    CHECK(timeline.title == "Support ticket TKT-1");
    CHECK_FALSE(timeline.description.has_value());
    CHECK_FALSE(timeline.status.has_value());
    CHECK_FALSE(timeline.agent_notes.has_value());
    CHECK(timeline.metadata == Json{{"ticket_id", "TKT-1"}, {"priority", "urgent"}});
  }
  SECTION("without anything") {
    const auto [timeline] = exactly<sdk::AppendTimelineEvent>(ticket.handle(event("support_ticket", Json::object())));
    CHECK(timeline.title == "Support ticket");
    CHECK(timeline.metadata == Json::object());
  }
}

TEST_CASE("support_ticket: knowledge importance, tags, category and source", "[plugins]") {
  TestHandler ticket(builtin("support_ticket"));
  auto knowledge_of = [&](Json data) {
    const auto [timeline, knowledge] =
        exactly<sdk::AppendTimelineEvent, sdk::AddKnowledge>(ticket.handle(event("support_ticket", std::move(data))));
    return knowledge;
  };
  CHECK(knowledge_of({{"priority", "low"}, {"important", true}}).importance == 3);
  CHECK(knowledge_of({{"priority", "medium"}, {"important", true}}).importance == 5);
  CHECK(knowledge_of({{"priority", "HIGH"}, {"important", true}}).importance == 8);
  CHECK(knowledge_of({{"priority", "urgent"}, {"important", true}}).importance == 10);
  CHECK(knowledge_of({{"priority", "critical"}, {"important", true}}).importance == 10);
  CHECK(knowledge_of({{"priority", "whenever"}, {"important", true}}).importance == 5);

  const auto bare = knowledge_of({{"save_as_memory", true}});
  CHECK(bare.content == "Support ticket");
  CHECK(bare.category == "support");
  CHECK(bare.importance == 5);
  CHECK(bare.tags == Json{"support_ticket"});
  CHECK(bare.source == "support_ticket");

  const auto titled = knowledge_of({{"ticket_id", "T-2"}, {"save_as_memory", true}});
  CHECK(titled.content == "Support ticket T-2");
  CHECK(titled.source == "support_ticket:T-2");
}

TEST_CASE("support_ticket: knowledge_priorities saves knowledge without a flag", "[plugins]") {
  const auto urgent = event("support_ticket", {{"ticket_id", "T-3"}, {"priority", "Urgent"}});
  CHECK(TestHandler(builtin("support_ticket")).handle(urgent).size() == 1);
  TestHandler ticket(builtin("support_ticket"), {{"knowledge_priorities", {"urgent", "critical"}}});
  const auto [timeline, knowledge] = exactly<sdk::AppendTimelineEvent, sdk::AddKnowledge>(ticket.handle(urgent));
  CHECK(knowledge.importance == 10);
  CHECK(knowledge.tags == Json{"support_ticket", "Urgent"});
  CHECK(ticket.handle(event("support_ticket", {{"priority", "low"}})).size() == 1);
}

TEST_CASE("support_ticket: long descriptions are summarized, in the row and the knowledge", "[plugins]") {
  TestHandler ticket(builtin("support_ticket"), Json::object(), summarizer("truncate"), 30);
  const auto [timeline, knowledge] = exactly<sdk::AppendTimelineEvent, sdk::AddKnowledge>(ticket.handle(event(
      "support_ticket",
      {{"title", "Broken"},
       {"description", "Pairing fails every time. The customer tried three phones and two laptops."},
       {"important", true}})));
  CHECK(timeline.description == "Pairing fails every time.");
  CHECK(knowledge.content == "Broken: Pairing fails every time.");
}

