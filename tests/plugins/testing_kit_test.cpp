// The SDK's test kit (customeriq/sdk/testing.hpp), with handlers and
// summarizers defined right here: nothing is loaded.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "plugins/plugin_test_support.hpp"

using namespace customeriq::test;

namespace {

// Echoes its config and the event into a timeline row, logging as it goes.
class EchoHandler final : public sdk::EventHandler {
 public:
  explicit EchoHandler(const sdk::Json& config) : limit_(sdk::config_value<int>(config, "limit")) {}
  std::vector<sdk::Mutation> handle(const sdk::Event& event, const sdk::HandlerContext& context) const override {
    context.log(sdk::LogLevel::info, "handling " + event.idempotency_key);
    context.log(sdk::LogLevel::warn, "limit " + std::to_string(limit_));
    sdk::AppendTimelineEvent timeline;
    timeline.event_type = event.event_type;
    timeline.description = context.summarize(sdk::optional_string(event.data, "text").value_or(""));
    timeline.metadata = context.config();
    return {timeline, sdk::AdjustLifetimeValue{1}};
  }

 private:
  int limit_;
};

class RefusingHandler final : public sdk::EventHandler {
 public:
  explicit RefusingHandler(const sdk::Json&) { throw std::invalid_argument("refused"); }
  std::vector<sdk::Mutation> handle(const sdk::Event&, const sdk::HandlerContext&) const override { return {}; }
};

// Returns more than it is allowed to: the context must still keep to the limit.
class Overshooting final : public sdk::Summarizer {
 public:
  explicit Overshooting(const sdk::Json&) {}
  std::string summarize(std::string_view text, std::size_t) const override { return "\u00e9" + std::string(text); }
};

// A handler with no config and no state, as a function.
std::vector<sdk::Mutation> count_one(const sdk::Event& event, const sdk::HandlerContext&) {
  return {sdk::AdjustLifetimeValue{event.data.value("value", 1.0)}};
}

constexpr sdk::ConfigKey kEchoKeys[] = {{"limit", sdk::ConfigType::integer, "3", "how many", 1, 5},
                                        {"label", sdk::ConfigType::string, "\"x\"", "a label"}};
constexpr const char* kEchoTypes[] = {"echo"};
const auto kEcho = sdk::handler_descriptor<EchoHandler>("echo", "1.0.0", "Echo", kEchoTypes, kEchoKeys);

}  // namespace

TEST_CASE("a TestHandler is made by the plugin's factory with the resolved config", "[kit]") {
  TestHandler echo(kEcho, {{"limit", 4}});
  CHECK(echo.config() == Json{{"limit", 4}, {"label", "x"}});
  const auto mutations = echo.handle(event("echo", {{"text", "hello"}}));
  CHECK(kinds(mutations) == std::vector<std::string>{"AppendTimelineEvent", "AdjustLifetimeValue"});
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 0).metadata == Json{{"limit", 4}, {"label", "x"}});
  CHECK(mutation<sdk::AdjustLifetimeValue>(mutations, 1).delta == 1.0);

  CHECK_THROWS_WITH(TestHandler(kEcho, {{"limit", 6}}),
                    "plugin echo: config key 'limit' must be an integer from 1 to 5, got 6");
  CHECK_THROWS_WITH(TestHandler(kEcho, {{"limits", 2}}),
                    "plugin echo: unknown config key 'limits' (accepted: limit, label)");
  CHECK_THROWS_WITH(TestHandler(kEcho, Json::array()), "plugin echo: config must be a mapping");

  static constexpr const char* types[] = {"x"};
  const auto refusing = sdk::handler_descriptor<RefusingHandler>("refusing", "1.0.0", "Refuses", types);
  CHECK_THROWS_MATCHES(TestHandler(refusing), std::invalid_argument, Catch::Message("refused"));
  CHECK_THROWS_WITH(sdk::testing::make_summarizer(kEcho), "plugin echo is not a summarizer");
}

TEST_CASE("a FunctionHandler hands each event to its function and takes no config", "[kit]") {
  static constexpr const char* types[] = {"count"};
  const auto counting =
      sdk::handler_descriptor<sdk::FunctionHandler<count_one>>("counting", "1.0.0", "Counts", types);
  TestHandler handler(counting);
  const auto [value] = exactly<sdk::AdjustLifetimeValue>(handler.handle(event("count", {{"value", 2.5}})));
  CHECK(value.delta == 2.5);
  CHECK_THROWS_WITH(TestHandler(counting, {{"value", 1}}),
                    "plugin counting: unknown config key 'value' (accepted: none)");
}

TEST_CASE("the kit refuses a default that does not fit its own key", "[kit]") {
  static constexpr const char* types[] = {"x"};
  const auto with = [&](const sdk::ConfigKey& key) {
    const auto descriptor =
        sdk::handler_descriptor<RefusingHandler>("bad", "1.0.0", "Bad defaults", types, std::span(&key, 1));
    return sdk::testing::resolve_config(descriptor);
  };
  CHECK_THROWS_WITH(with({"n", sdk::ConfigType::integer, "11", "d", 1, 10}),
                    "plugin bad: default of config key 'n' must be an integer from 1 to 10, got 11");
  CHECK_THROWS_WITH(with({"n", sdk::ConfigType::integer, "\"5\"", "d"}),
                    "plugin bad: default of config key 'n' must be an integer, got \"5\"");
  CHECK_THROWS_WITH(with({"n", sdk::ConfigType::integer, "five", "d"}),
                    "plugin bad: default of config key 'n' is not valid JSON");
  CHECK(with({"n", sdk::ConfigType::integer, "10", "d", 1, 10}) == Json{{"n", 10}});
}

TEST_CASE("the TestContext logs, summarizes within the threshold, and hands out the config", "[kit]") {
  SECTION("logged lines are kept in order") {
    TestHandler echo(kEcho);
    echo.handle(event("echo", Json::object()));
    const auto logged = echo.context().logged();
    REQUIRE(logged.size() == 2);
    CHECK(logged[0].level == sdk::LogLevel::info);
    CHECK(logged[0].message == "handling evt_0001");
    CHECK(logged[1].level == sdk::LogLevel::warn);
    CHECK(logged[1].message == "limit 3");
  }
  SECTION("without a summarizer long text is cut at a code point") {
    TestHandler echo(kEcho, Json::object(), nullptr, 4);
    auto description = [&](const std::string& text) {
      return mutation<sdk::AppendTimelineEvent>(echo.handle(event("echo", {{"text", text}})), 0).description;
    };
    CHECK(description("abcd") == "abcd");
    CHECK(description("abcde") == "abcd");
    CHECK(description("\u00e9\u00e9\u00e9\u00e9\u00e9") == "\u00e9\u00e9\u00e9\u00e9");
  }
  SECTION("a summarizer's overlong answer is cut to the threshold") {
    const auto plugin = sdk::summarizer_descriptor<Overshooting>("overshooting", "1.0.0", "Too long");
    TestHandler echo(kEcho, Json::object(), sdk::testing::make_summarizer(plugin), 3);
    CHECK(mutation<sdk::AppendTimelineEvent>(echo.handle(event("echo", {{"text", "abcdef"}})), 0).description ==
          "\u00e9ab");
  }
  SECTION("a real summarizer from this build") {
    TestHandler echo(kEcho, Json::object(), summarizer("truncate", {{"ellipsis", "..."}}), 12);
    CHECK(mutation<sdk::AppendTimelineEvent>(echo.handle(event("echo", {{"text", "abcdefghijklmnopq"}})), 0)
              .description == "abcdefghi...");
  }
}

TEST_CASE("event() builds the Event the core would hand over", "[kit]") {
  const auto full = sdk::testing::event({{"event_type", "purchase"},
                                         {"customer_id", "c1"},
                                         {"timestamp", 1700000000},
                                         {"source_service", "shop"},
                                         {"event_id", "e1"},
                                         {"data", {{"customer_email", "Jane@Example.COM"}, {"total", 3}}},
                                         {"metadata", {{"m", 1}}}});
  CHECK(full.event_type == "purchase");
  CHECK(full.customer_id == "c1");
  CHECK(full.customer_email == "jane@example.com");
  CHECK(full.timestamp == 1700000000);
  CHECK(full.source_service == "shop");
  CHECK(full.idempotency_key == "e1");
  CHECK(full.data == Json{{"customer_email", "Jane@Example.COM"}, {"total", 3}});
  CHECK(full.metadata == Json{{"m", 1}});
  CHECK(full.subject == "test");
  CHECK(Json::parse(full.raw)["event_id"] == "e1");

  const auto bare = sdk::testing::event({{"event_type", "note"}, {"data", {{"email", "A@B.C"}, {"customer_email", "x@y.z"}}}});
  CHECK(bare.customer_id == "");
  CHECK(bare.customer_email == "a@b.c");
  CHECK(bare.timestamp == 0);
  CHECK(bare.metadata == Json::object());
  // Without an event_id the key is a hash of the envelope: the same every time, another for another event.
  CHECK_THAT(bare.idempotency_key, Catch::StartsWith("test-"));
  CHECK(sdk::testing::event({{"event_type", "note"}, {"data", {{"email", "A@B.C"}, {"customer_email", "x@y.z"}}}})
            .idempotency_key == bare.idempotency_key);
  CHECK(sdk::testing::event({{"event_type", "note"}}).idempotency_key != bare.idempotency_key);

  const std::string text = R"({"event_type":"note",  "data":{"content":"x"}})";
  const auto parsed = sdk::testing::parse_event(text);
  CHECK(parsed.raw == text);
  CHECK(parsed.data == Json{{"content", "x"}});

  CHECK_THROWS_WITH(sdk::testing::event({{"customer_id", "c1"}}), "event_type is required");
  CHECK_THROWS_WITH(sdk::testing::event({{"event_type", 5}}), "event_type must be a string, got 5");
  CHECK_THROWS_WITH(sdk::testing::event({{"event_type", "x"}, {"data", {1, 2}}}), "data must be an object, got [1,2]");
  CHECK_THROWS_WITH(sdk::testing::event({{"event_type", "x"}, {"timestamp", "2024-01-01"}}),
                    "timestamp must be unix seconds, got \"2024-01-01\"");
  CHECK_THROWS_WITH(sdk::testing::event(Json::array()), "an event must be a JSON object, got []");
}

TEST_CASE("mutation<M>() takes mutations[index] and says what is there when it is not an M", "[kit]") {
  const std::vector<sdk::Mutation> mutations = {sdk::UpsertPurchase{}, sdk::AppendTimelineEvent{}};
  CHECK(&mutation<sdk::AppendTimelineEvent>(mutations, 1) == &std::get<sdk::AppendTimelineEvent>(mutations[1]));
  CHECK_THROWS_MATCHES(mutation<sdk::AppendTimelineEvent>(mutations, 0), std::out_of_range,
                       Catch::Message("mutation 0 is not an AppendTimelineEvent; the mutations are "
                                      "[UpsertPurchase, AppendTimelineEvent]"));
  CHECK_THROWS_MATCHES(mutation<sdk::AddKnowledge>(mutations, 2), std::out_of_range,
                       Catch::Message("mutation 2 is not an AddKnowledge; the mutations are "
                                      "[UpsertPurchase, AppendTimelineEvent]"));
  CHECK(kinds({}).empty());
}

TEST_CASE("exactly<Ms...>() unpacks mutations of those types in that order, and only those", "[kit]") {
  const std::vector<sdk::Mutation> mutations = {sdk::UpsertPurchase{.purchase_id = "o1"},
                                                sdk::AppendTimelineEvent{.title = "Bought"}};
  const auto [row, timeline] = exactly<sdk::UpsertPurchase, sdk::AppendTimelineEvent>(mutations);
  CHECK(row.purchase_id == "o1");
  CHECK(timeline.title == "Bought");
  const std::string there = "the mutations are [UpsertPurchase, AppendTimelineEvent], not ";
  CHECK_THROWS_MATCHES((exactly<sdk::AppendTimelineEvent, sdk::UpsertPurchase>(mutations)), std::out_of_range,
                       Catch::Message(there + "[AppendTimelineEvent, UpsertPurchase]"));
  CHECK_THROWS_MATCHES(exactly<sdk::UpsertPurchase>(mutations), std::out_of_range,
                       Catch::Message(there + "[UpsertPurchase]"));
  CHECK_THROWS_MATCHES(exactly<sdk::UpsertPurchase>({}), std::out_of_range,
                       Catch::Message("the mutations are [], not [UpsertPurchase]"));
}
