// The note plugin, from its real .so, through the SDK test kit.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "plugins/plugin_test_support.hpp"

using namespace customeriq::test;

TEST_CASE("note: a full note is knowledge and a timeline row", "[plugins]") {
  const auto [knowledge, timeline] = exactly<sdk::AddKnowledge, sdk::AppendTimelineEvent>(handled(
      "note", event("note", {{"content", "Prefers email over phone calls"},
                             {"category", "preference"},
                             {"importance", "high"},
                             {"tags", {"contact", "email"}},
                             {"source", "agent:alice"},
                             {"title", "Contact preference"}})));
  CHECK(knowledge.content == "Prefers email over phone calls");
  CHECK(knowledge.category == "preference");
  CHECK(knowledge.importance == 8);
  CHECK(knowledge.tags == Json{"contact", "email"});
  CHECK(knowledge.source == "agent:alice");
  CHECK(timeline.event_type == "note");
  CHECK(timeline.title == "Contact preference");
  CHECK(timeline.description == "Prefers email over phone calls");
  CHECK(timeline.metadata == Json{{"category", "preference"}, {"importance", 8}});
}

TEST_CASE("note: content, title and source fall back in order", "[plugins]") {
  TestHandler note(builtin("note"));
  auto rows_of = [&](const std::string& type, Json data, std::string source_service = "crm") {
    auto sent = event(type, std::move(data));
    sent.source_service = std::move(source_service);
    return exactly<sdk::AddKnowledge, sdk::AppendTimelineEvent>(note.handle(sent));
  };
  const auto [from_note, note_row] = rows_of("note", {{"note", "Has two dogs"}});
  CHECK(from_note.content == "Has two dogs");
  CHECK(from_note.category == "general");
  CHECK(from_note.importance == 5);
  CHECK(from_note.tags == Json::array());
  CHECK(from_note.source == "crm");
  CHECK(note_row.title == "Note");
  CHECK(note_row.metadata == Json{{"category", "general"}, {"importance", 5}});

  const auto [from_text, observation_row] = rows_of("observation", {{"text", "Calls on Mondays"}}, "");
  CHECK(from_text.content == "Calls on Mondays");
  CHECK(from_text.source == "observation");
  CHECK(observation_row.event_type == "observation");
  CHECK(observation_row.title == "Observation");

  const auto [first_wins, unused] = rows_of("note", {{"content", "A"}, {"note", "B"}, {"text", "C"}});
  CHECK(first_wins.content == "A");
  // An empty field is passed over: the note's content is what it says.
  const auto [skipped_empty, unused_row] = rows_of("note", {{"content", ""}, {"note", "B"}});
  CHECK(skipped_empty.content == "B");
}

TEST_CASE("note: importance as a number or a level", "[plugins]") {
  TestHandler note(builtin("note"));
  auto importance = [&](Json value) {
    return mutation<sdk::AddKnowledge>(
               note.handle(event("note", {{"content", "x"}, {"importance", std::move(value)}})), 0)
        .importance;
  };
  CHECK(importance(1) == 1);
  CHECK(importance(10) == 10);
  CHECK(importance(7.0) == 7);
  CHECK(importance("low") == 3);
  CHECK(importance("Medium") == 5);
  CHECK(importance("critical") == 10);
  CHECK(importance(nullptr) == 5);
  const std::string expected = "data.importance must be an integer 1..10 or low, medium, high, critical, got ";
  for (const auto& [bad, shown] : std::vector<std::pair<Json, std::string>>{
           {0, "number 0"}, {11, "number 11"}, {2.5, "number 2.5"}, {"huge", "string \"huge\""},
           {true, "boolean true"}, {-3, "number -3"}}) {
    CHECK_THROWS_MATCHES(importance(bad), sdk::InvalidEvent, Catch::Message(expected + shown));
  }
}

TEST_CASE("note: default_category and default_importance", "[plugins]") {
  TestHandler note(builtin("note"), {{"default_category", "personal"}, {"default_importance", 2}});
  const auto [knowledge, timeline] =
      exactly<sdk::AddKnowledge, sdk::AppendTimelineEvent>(note.handle(event("note", {{"content", "Birthday in May"}})));
  CHECK(knowledge.category == "personal");
  CHECK(knowledge.importance == 2);
  CHECK(timeline.metadata == Json{{"category", "personal"}, {"importance", 2}});

  // Out of the declared bounds: refused before the handler is made.
  CHECK_THROWS_WITH(TestHandler(builtin("note"), {{"default_importance", 11}}),
                    "plugin note: config key 'default_importance' must be an integer from 1 to 10, got 11");
  CHECK_THROWS_WITH(TestHandler(builtin("note"), {{"default_importance", 0}}),
                    "plugin note: config key 'default_importance' must be an integer from 1 to 10, got 0");
  CHECK(TestHandler(builtin("note"), {{"default_importance", 10}}).config()["default_importance"] == 10);
}

TEST_CASE("note: the timeline text is summarized, the knowledge is whole", "[plugins]") {
  TestHandler note(builtin("note"), Json::object(), nullptr, 5);
  const auto [knowledge, timeline] =
      exactly<sdk::AddKnowledge, sdk::AppendTimelineEvent>(note.handle(event("note", {{"content", "abcdefghij"}})));
  CHECK(knowledge.content == "abcdefghij");
  CHECK(timeline.description == "abcde");
}

