// The built-in plugins, loaded from their real .so files through the core's
// loader: events in, mutations out, plus the two summarizers.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <customeriq/sdk/sdk.hpp>

#include "plugin_host/plugin_context.hpp"
#include "plugin_host/plugin_loader.hpp"

namespace sdk = customeriq::sdk;
using customeriq::Json;

namespace {

std::shared_ptr<customeriq::LoadedPlugin> load(const std::string& id) {
  return customeriq::load_plugin(std::filesystem::path(CUSTOMERIQ_PLUGIN_DIR) / (id + ".so"));
}

customeriq::SummarizerPtr make_summarizer(const std::string& id, const Json& config = Json::object()) {
  auto plugin = load(id);
  return plugin->create_summarizer(plugin->resolve_config(config));
}

// A handler plugin, created from config, with the context the core would lend it.
struct Handler {
  explicit Handler(const std::string& id, const Json& given_config = Json::object(),
                   customeriq::SummarizerPtr summarizer = nullptr, std::size_t threshold = 500)
      : plugin(load(id)),
        config(plugin->resolve_config(given_config)),
        handler(plugin->create_handler(config)),
        context(id, config, std::move(summarizer), threshold) {}

  std::vector<sdk::Mutation> handle(const sdk::Event& event) const {
    return handler->handle(event, context);
  }

  std::shared_ptr<customeriq::LoadedPlugin> plugin;
  Json config;
  customeriq::HandlerPtr handler;
  customeriq::PluginContext context;
};

sdk::Event make_event(const std::string& type, Json data, Json metadata = Json::object()) {
  sdk::Event event;
  event.customer_id = "cust_001";
  event.event_type = type;
  event.timestamp = 1700000000;
  event.source_service = "crm";
  event.data = std::move(data);
  event.metadata = std::move(metadata);
  event.raw = "{}";
  event.subject = "customer.events." + type;
  event.idempotency_key = "evt_0001";
  return event;
}

template <class T>
const T& mutation(const std::vector<sdk::Mutation>& mutations, std::size_t index) {
  REQUIRE(index < mutations.size());
  const T* value = std::get_if<T>(&mutations[index]);
  REQUIRE(value != nullptr);
  return *value;
}

// True when text is well-formed UTF-8 (no cut code point anywhere).
bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3
                               : (lead >> 3) == 0x1E                ? 4
                                                                    : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    i += length;
  }
  return true;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

const std::string kEllipsis = "\u2026";

}  // namespace

// ---------------------------------------------------------------- descriptors

TEST_CASE("every built-in plugin loads and declares its kind, types and config keys", "[plugins]") {
  struct Expected {
    const char* id;
    sdk::PluginKind kind;
    std::vector<std::string> types;
    Json defaults;
  };
  const std::vector<Expected> plugins = {
      {"purchase", sdk::PluginKind::event_handler, {"purchase"}, {{"require_purchase_id", true}}},
      {"support_ticket", sdk::PluginKind::event_handler, {"support_ticket"},
       {{"knowledge_priorities", Json::array()}}},
      {"repair", sdk::PluginKind::event_handler, {"repair", "work_order"},
       {{"completed_statuses", {"completed", "closed", "resolved", "done"}}}},
      {"contact", sdk::PluginKind::event_handler, {"contact"}, Json::object()},
      {"profile_update", sdk::PluginKind::event_handler, {"profile_update"}, Json::object()},
      {"note", sdk::PluginKind::event_handler, {"note", "observation"},
       {{"default_category", "general"}, {"default_importance", 5}}},
      {"generic", sdk::PluginKind::event_handler, {}, {{"keep_data_as_metadata", true}}},
      {"truncate", sdk::PluginKind::summarizer, {}, {{"ellipsis", "\u2026"}}},
      {"extractive", sdk::PluginKind::summarizer, {}, {{"min_sentence_chars", 12}}},
  };
  for (const auto& expected : plugins) {
    INFO(expected.id);
    auto plugin = load(expected.id);
    const auto& descriptor = plugin->descriptor();
    CHECK(plugin->id() == expected.id);
    CHECK(descriptor.kind == expected.kind);
    CHECK(std::string(descriptor.version) == "1.0.0");
    CHECK(std::string(descriptor.description).size() > 10);
    std::vector<std::string> types(descriptor.event_types,
                                   descriptor.event_types + descriptor.event_type_count);
    CHECK(types == expected.types);
    CHECK(plugin->resolve_config(Json::object()) == expected.defaults);
    for (std::size_t i = 0; i < descriptor.config_key_count; ++i)
      CHECK(std::string(descriptor.config_keys[i].description).size() > 10);
    CHECK_THROWS_AS(plugin->resolve_config({{"no_such_key", 1}}), customeriq::PluginError);
  }
}

// ------------------------------------------------------------------- purchase

TEST_CASE("purchase: the seed order becomes a purchase row and a timeline row", "[plugins]") {
  Handler purchase("purchase");
  const auto mutations = purchase.handle(make_event(
      "purchase",
      {{"purchase_id", "ord_12345"},
       {"product_name", "Wireless Headphones Pro"},
       {"product_sku", "WHP-2000"},
       {"quantity", 1},
       {"price", 299.99},
       {"total", 299.99},
       {"warranty_expires", 1765670400}},
      {{"session_id", "sess_abc123"}, {"payment_method", "credit_card"}}));
  REQUIRE(mutations.size() == 2);

  const auto& row = mutation<sdk::UpsertPurchase>(mutations, 0);
  CHECK(row.purchase_id == "ord_12345");
  CHECK(row.product_name == "Wireless Headphones Pro");
  CHECK(row.product_sku == "WHP-2000");
  CHECK(row.quantity == 1);
  CHECK(row.price == 299.99);
  CHECK(row.total == 299.99);
  CHECK_FALSE(row.purchase_date.has_value());
  CHECK(row.warranty_expires == 1765670400);
  CHECK(row.metadata == Json{{"session_id", "sess_abc123"}, {"payment_method", "credit_card"}});

  const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 1);
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
  Handler purchase("purchase");
  SECTION("no total, no name") {
    const auto mutations = purchase.handle(make_event(
        "purchase", {{"purchase_id", "ord_2"}, {"quantity", 3}, {"price", 2.5}, {"status", "pending"}}));
    REQUIRE(mutations.size() == 2);
    const auto& row = mutation<sdk::UpsertPurchase>(mutations, 0);
    CHECK(row.quantity == 3);
    CHECK(row.total == 7.5);
    CHECK_FALSE(row.product_name.has_value());
    CHECK_FALSE(row.product_sku.has_value());
    CHECK_FALSE(row.warranty_expires.has_value());
    CHECK(row.metadata == Json::object());
    const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 1);
    CHECK(timeline.title == "Purchase ord_2");
    CHECK(timeline.description == "Order ord_2: 3 items");
    CHECK(timeline.amount == 7.5);
    CHECK(timeline.status == "pending");
    CHECK(timeline.metadata == Json{{"purchase_id", "ord_2"}, {"quantity", 3}});
  }
  SECTION("quantity defaults to 1; a sku without a name; an explicit total wins over price") {
    const auto mutations = purchase.handle(make_event(
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
        purchase.handle(make_event("purchase", {{"purchase_id", "ord_4"}, {"total", -20.0}}));
    CHECK(mutation<sdk::UpsertPurchase>(mutations, 0).total == -20.0);
    CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 1).amount == -20.0);
  }
  SECTION("no AdjustLifetimeValue: the store moves lifetime value with the purchase") {
    const auto mutations =
        purchase.handle(make_event("purchase", {{"purchase_id", "ord_5"}, {"total", 1}}));
    for (const auto& m : mutations) CHECK_FALSE(std::holds_alternative<sdk::AdjustLifetimeValue>(m));
  }
}

TEST_CASE("purchase: require_purchase_id", "[plugins]") {
  const auto event = make_event("purchase", {{"product_name", "Cable"}, {"total", 5}});
  SECTION("true (default): a purchase without an id is invalid") {
    Handler purchase("purchase");
    CHECK_THROWS_MATCHES(purchase.handle(event), sdk::InvalidEvent,
                         Catch::Message("data.purchase_id is required"));
  }
  SECTION("false: the event's idempotency key becomes the id") {
    Handler purchase("purchase", {{"require_purchase_id", false}});
    const auto mutations = purchase.handle(event);
    CHECK(mutation<sdk::UpsertPurchase>(mutations, 0).purchase_id == "evt_0001");
    CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 1).metadata["purchase_id"] == "evt_0001");
    // A given id still wins.
    auto with_id = event;
    with_id.data["purchase_id"] = "ord_9";
    CHECK(mutation<sdk::UpsertPurchase>(purchase.handle(with_id), 0).purchase_id == "ord_9");
  }
}

TEST_CASE("purchase: invalid fields are rejected with the field named", "[plugins]") {
  Handler purchase("purchase");
  auto invalid = [&](Json data) { return purchase.handle(make_event("purchase", std::move(data))); };
  CHECK_THROWS_MATCHES(invalid({{"purchase_id", "o"}, {"total", "abc"}}), sdk::InvalidEvent,
                       Catch::Message("data.total must be a number, got string \"abc\""));
  CHECK_THROWS_MATCHES(invalid({{"purchase_id", "o"}, {"total", "12"}}), sdk::InvalidEvent,
                       Catch::Message("data.total must be a number, got string \"12\""));
  CHECK_THROWS_MATCHES(invalid({{"purchase_id", "o"}, {"price", true}}), sdk::InvalidEvent,
                       Catch::Message("data.price must be a number, got boolean true"));
  CHECK_THROWS_MATCHES(invalid({{"purchase_id", "o"}}), sdk::InvalidEvent,
                       Catch::Message("data.total is required"));
  CHECK_THROWS_MATCHES(invalid({{"purchase_id", 12345}, {"total", 1}}), sdk::InvalidEvent,
                       Catch::Message("data.purchase_id must be a string, got number 12345"));
  CHECK_THROWS_MATCHES(invalid({{"purchase_id", ""}, {"total", 1}}), sdk::InvalidEvent,
                       Catch::Message("data.purchase_id is required"));
  CHECK_THROWS_MATCHES(invalid({{"purchase_id", "o"}, {"total", 1}, {"quantity", 0}}),
                       sdk::InvalidEvent, Catch::Message("data.quantity must be from 1 to 1000000000, got 0"));
  CHECK_THROWS_MATCHES(invalid({{"purchase_id", "o"}, {"total", 1}, {"quantity", 1.5}}),
                       sdk::InvalidEvent, Catch::Message("data.quantity must be an integer, got number 1.5"));
  CHECK_THROWS_MATCHES(invalid({{"purchase_id", "o"}, {"total", 1}, {"product_name", 7}}),
                       sdk::InvalidEvent, Catch::Message("data.product_name must be a string, got number 7"));
  CHECK_THROWS_MATCHES(invalid({{"purchase_id", "o"}, {"total", 1}, {"warranty_expires", "2025"}}),
                       sdk::InvalidEvent,
                       Catch::Message("data.warranty_expires must be an integer, got string \"2025\""));
  CHECK_THROWS_MATCHES(invalid({{"purchase_id", "o"}, {"total", 1}, {"status", 1}}),
                       sdk::InvalidEvent, Catch::Message("data.status must be a string, got number 1"));
}

TEST_CASE("purchase: numbers out of range are named with their real value", "[plugins]") {
  Handler purchase("purchase");
  auto invalid = [&](const char* data) { return purchase.handle(make_event("purchase", Json::parse(data))); };
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
  CHECK(mutation<sdk::UpsertPurchase>(purchase.handle(make_event("purchase", Json::parse(
                                          R"({"purchase_id":"o","total":1000000000000,"quantity":1000000000})"))),
                                      0)
            .total == 1e12);
}

TEST_CASE("a wrong value is quoted short in the reason, not whole", "[plugins]") {
  Handler purchase("purchase");
  Json data = {{"purchase_id", "o"}, {"total", std::string(100000, 'x')}};
  try {
    purchase.handle(make_event("purchase", data));
    FAIL("no exception");
  } catch (const sdk::InvalidEvent& error) {
    const std::string what = error.what();
    CHECK_THAT(what, Catch::StartsWith("data.total must be a number, got string \"xxxx"));
    CHECK_THAT(what, Catch::EndsWith("…"));
    CHECK(what.size() < 200);
  }
}

TEST_CASE("purchase: one handler serves several threads at once", "[plugins]") {
  Handler purchase("purchase");
  std::vector<std::thread> threads;
  std::vector<int> correct(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string id = "ord_" + std::to_string(t) + "_" + std::to_string(i);
        const auto mutations = purchase.handle(
            make_event("purchase", {{"purchase_id", id}, {"quantity", i + 1}, {"price", 2.0}}));
        const auto* row = std::get_if<sdk::UpsertPurchase>(&mutations.at(0));
        if (row && row->purchase_id == id && row->total == 2.0 * (i + 1)) ++correct[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(correct == std::vector<int>(4, 200));
}

// -------------------------------------------------------------- support_ticket

TEST_CASE("support_ticket: the seed ticket is a timeline row and knowledge", "[plugins]") {
  Handler ticket("support_ticket");
  const auto mutations = ticket.handle(make_event(
      "support_ticket", {{"ticket_id", "TKT-5678"},
                         {"title", "Product not working"},
                         {"description", "Bluetooth pairing is inconsistent..."},
                         {"status", "open"},
                         {"priority", "high"},
                         {"category", "technical"},
                         {"agent_notes", "Asked for firmware version"},
                         {"important", true}}));
  REQUIRE(mutations.size() == 2);
  const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 0);
  CHECK(timeline.event_type == "support_ticket");
  CHECK(timeline.title == "Product not working");
  CHECK(timeline.description == "Bluetooth pairing is inconsistent...");
  CHECK(timeline.status == "open");
  CHECK(timeline.agent_notes == "Asked for firmware version");
  CHECK_FALSE(timeline.amount.has_value());
  CHECK(timeline.metadata ==
        Json{{"ticket_id", "TKT-5678"}, {"priority", "high"}, {"category", "technical"}});

  const auto& knowledge = mutation<sdk::AddKnowledge>(mutations, 1);
  CHECK(knowledge.content == "Product not working: Bluetooth pairing is inconsistent...");
  CHECK(knowledge.category == "technical");
  CHECK(knowledge.importance == 8);
  CHECK(knowledge.tags == Json{"support_ticket", "high"});
  CHECK(knowledge.source == "support_ticket:TKT-5678");
}

TEST_CASE("support_ticket: an unflagged ticket is only a timeline row", "[plugins]") {
  Handler ticket("support_ticket");
  SECTION("with an id") {
    const auto mutations = ticket.handle(
        make_event("support_ticket", {{"ticket_id", "TKT-1"}, {"priority", "urgent"}, {"important", false}}));
    REQUIRE(mutations.size() == 1);
    const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 0);
    CHECK(timeline.title == "Support ticket TKT-1");
    CHECK_FALSE(timeline.description.has_value());
    CHECK_FALSE(timeline.status.has_value());
    CHECK_FALSE(timeline.agent_notes.has_value());
    CHECK(timeline.metadata == Json{{"ticket_id", "TKT-1"}, {"priority", "urgent"}});
  }
  SECTION("without anything") {
    const auto mutations = ticket.handle(make_event("support_ticket", Json::object()));
    REQUIRE(mutations.size() == 1);
    const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 0);
    CHECK(timeline.title == "Support ticket");
    CHECK(timeline.metadata == Json::object());
  }
}

TEST_CASE("support_ticket: knowledge importance, tags, category and source", "[plugins]") {
  Handler ticket("support_ticket");
  auto knowledge_of = [&](Json data) {
    const auto mutations = ticket.handle(make_event("support_ticket", std::move(data)));
    REQUIRE(mutations.size() == 2);
    return mutation<sdk::AddKnowledge>(mutations, 1);
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
  const auto event = make_event("support_ticket", {{"ticket_id", "T-3"}, {"priority", "Urgent"}});
  CHECK(Handler("support_ticket").handle(event).size() == 1);
  Handler ticket("support_ticket", {{"knowledge_priorities", {"urgent", "critical"}}});
  const auto mutations = ticket.handle(event);
  REQUIRE(mutations.size() == 2);
  const auto& knowledge = mutation<sdk::AddKnowledge>(mutations, 1);
  CHECK(knowledge.importance == 10);
  CHECK(knowledge.tags == Json{"support_ticket", "Urgent"});
  CHECK(ticket.handle(make_event("support_ticket", {{"priority", "low"}})).size() == 1);
}

TEST_CASE("support_ticket: long descriptions are summarized, in the row and the knowledge", "[plugins]") {
  Handler ticket("support_ticket", Json::object(), make_summarizer("truncate"), 30);
  const auto mutations = ticket.handle(make_event(
      "support_ticket",
      {{"title", "Broken"},
       {"description", "Pairing fails every time. The customer tried three phones and two laptops."},
       {"important", true}}));
  REQUIRE(mutations.size() == 2);
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 0).description == "Pairing fails every time.");
  CHECK(mutation<sdk::AddKnowledge>(mutations, 1).content == "Broken: Pairing fails every time.");
}

TEST_CASE("support_ticket: invalid fields are rejected with the field named", "[plugins]") {
  Handler ticket("support_ticket");
  auto invalid = [&](Json data) { return ticket.handle(make_event("support_ticket", std::move(data))); };
  CHECK_THROWS_MATCHES(invalid({{"important", "yes"}}), sdk::InvalidEvent,
                       Catch::Message("data.important must be true or false, got string \"yes\""));
  CHECK_THROWS_MATCHES(invalid({{"save_as_memory", 1}}), sdk::InvalidEvent,
                       Catch::Message("data.save_as_memory must be true or false, got number 1"));
  CHECK_THROWS_MATCHES(invalid({{"title", 5}}), sdk::InvalidEvent,
                       Catch::Message("data.title must be a string, got number 5"));
  CHECK_THROWS_MATCHES(invalid({{"description", {"a"}}}), sdk::InvalidEvent,
                       Catch::Message("data.description must be a string, got array [\"a\"]"));
  CHECK_THROWS_MATCHES(invalid({{"priority", 3}}), sdk::InvalidEvent,
                       Catch::Message("data.priority must be a string, got number 3"));
  CHECK_THROWS_MATCHES(invalid({{"ticket_id", 5678}}), sdk::InvalidEvent,
                       Catch::Message("data.ticket_id must be a string, got number 5678"));
}

// --------------------------------------------------------------------- repair

TEST_CASE("repair: the seed work order is opened", "[plugins]") {
  Handler repair("repair");
  const auto mutations = repair.handle(make_event(
      "repair", {{"work_order_id", "WO-9999"},
                 {"order_type", "repair"},
                 {"issue_description", "Bluetooth module needs replacement"},
                 {"status", "open"},
                 {"priority", "medium"},
                 {"assigned_to", "technician_05"},
                 {"product_id", "WHP-2000"}}));
  REQUIRE(mutations.size() == 2);
  const auto& order = mutation<sdk::UpsertWorkOrder>(mutations, 0);
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

  const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 1);
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
  Handler repair("repair");
  SECTION("completed_date defaults to the event's timestamp; status in any case") {
    const auto mutations = repair.handle(make_event(
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
    const auto mutations = repair.handle(make_event(
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
    const auto mutations = repair.handle(make_event(
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
  Handler repair("repair");
  const auto mutations = repair.handle(make_event(
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
  Handler repair("repair", {{"completed_statuses", {"Shipped"}}});
  const auto shipped =
      repair.handle(make_event("repair", {{"work_order_id", "WO-4"}, {"status", "shipped"}}));
  CHECK(mutation<sdk::UpsertWorkOrder>(shipped, 0).completed_date == 1700000000);
  const auto completed =
      repair.handle(make_event("repair", {{"work_order_id", "WO-4"}, {"status", "completed"}}));
  CHECK_FALSE(mutation<sdk::UpsertWorkOrder>(completed, 0).completed_date.has_value());
}

TEST_CASE("repair: long issue descriptions and resolutions are summarized", "[plugins]") {
  Handler repair("repair", Json::object(), nullptr, 10);
  const auto opened = repair.handle(make_event(
      "repair", {{"work_order_id", "WO-5"}, {"issue_description", "0123456789abcdef"}}));
  CHECK(mutation<sdk::UpsertWorkOrder>(opened, 0).issue_description == "0123456789");
  CHECK(mutation<sdk::AppendTimelineEvent>(opened, 1).description == "0123456789");
  const auto done = repair.handle(make_event(
      "repair", {{"work_order_id", "WO-5"}, {"status", "done"}, {"resolution", "abcdefghijklmnop"}}));
  // The stored resolution is whole; only the timeline text is shortened.
  CHECK(mutation<sdk::UpsertWorkOrder>(done, 0).resolution == "abcdefghijklmnop");
  CHECK(mutation<sdk::AppendTimelineEvent>(done, 1).description == "abcdefghij");
}

TEST_CASE("repair: invalid fields are rejected with the field named", "[plugins]") {
  Handler repair("repair");
  auto invalid = [&](Json data) { return repair.handle(make_event("repair", std::move(data))); };
  CHECK_THROWS_MATCHES(invalid({{"status", "open"}}), sdk::InvalidEvent,
                       Catch::Message("data.work_order_id is required"));
  CHECK_THROWS_MATCHES(invalid({{"work_order_id", 9999}}), sdk::InvalidEvent,
                       Catch::Message("data.work_order_id must be a string, got number 9999"));
  CHECK_THROWS_MATCHES(invalid({{"work_order_id", "W"}, {"status", "done"}, {"cost", "50"}}),
                       sdk::InvalidEvent, Catch::Message("data.cost must be a number, got string \"50\""));
  CHECK_THROWS_MATCHES(invalid({{"work_order_id", "W"}, {"created_date", "yesterday"}}),
                       sdk::InvalidEvent,
                       Catch::Message("data.created_date must be an integer, got string \"yesterday\""));
  CHECK_THROWS_MATCHES(invalid({{"work_order_id", "W"}, {"completed_date", 1.5}}), sdk::InvalidEvent,
                       Catch::Message("data.completed_date must be an integer, got number 1.5"));
  CHECK_THROWS_MATCHES(invalid({{"work_order_id", "W"}, {"priority", 1}}), sdk::InvalidEvent,
                       Catch::Message("data.priority must be a string, got number 1"));
  CHECK_THROWS_MATCHES(invalid({{"work_order_id", "W"}, {"product_id", 2000}}), sdk::InvalidEvent,
                       Catch::Message("data.product_id must be a string, got number 2000"));
}

// -------------------------------------------------------------------- contact

TEST_CASE("contact: subject, message and status - the rest of data is metadata", "[plugins]") {
  Handler contact("contact");
  const auto mutations = contact.handle(make_event(
      "contact", {{"subject", "Question about warranty"},
                  {"message", "Does the warranty cover water damage?"},
                  {"status", "answered"},
                  {"channel", "email"},
                  {"duration_s", 0}}));
  REQUIRE(mutations.size() == 1);
  const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 0);
  CHECK(timeline.event_type == "contact");
  CHECK(timeline.title == "Question about warranty");
  CHECK(timeline.description == "Does the warranty cover water damage?");
  CHECK(timeline.status == "answered");
  CHECK_FALSE(timeline.amount.has_value());
  CHECK(timeline.metadata == Json{{"channel", "email"}, {"duration_s", 0}});
}

TEST_CASE("contact: title and description fall back in order", "[plugins]") {
  Handler contact("contact");
  auto timeline_of = [&](Json data, Json metadata = Json::object()) {
    const auto mutations = contact.handle(make_event("contact", std::move(data), std::move(metadata)));
    REQUIRE(mutations.size() == 1);
    return mutation<sdk::AppendTimelineEvent>(mutations, 0);
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
}

TEST_CASE("contact: long messages are summarized", "[plugins]") {
  Handler contact("contact", Json::object(), make_summarizer("truncate"), 12);
  const auto mutations = contact.handle(make_event("contact", {{"message", "Please call me back tomorrow"}}));
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 0).description == "Please call" + kEllipsis);
}

TEST_CASE("contact: invalid fields are rejected with the field named", "[plugins]") {
  Handler contact("contact");
  CHECK_THROWS_MATCHES(contact.handle(make_event("contact", {{"subject", 5}})), sdk::InvalidEvent,
                       Catch::Message("data.subject must be a string, got number 5"));
  CHECK_THROWS_MATCHES(contact.handle(make_event("contact", {{"message", false}})), sdk::InvalidEvent,
                       Catch::Message("data.message must be a string, got boolean false"));
  CHECK_THROWS_MATCHES(contact.handle(make_event("contact", {{"status", 2}})), sdk::InvalidEvent,
                       Catch::Message("data.status must be a string, got number 2"));
  CHECK_THROWS_MATCHES(contact.handle(make_event("contact", Json::object(), {{"channel", 3}})),
                       sdk::InvalidEvent, Catch::Message("metadata.channel must be a string, got number 3"));
}

// ------------------------------------------------------------- profile_update

TEST_CASE("profile_update: every field, in the fixed order", "[plugins]") {
  Handler profile("profile_update");
  const auto mutations = profile.handle(make_event(
      "profile_update", {{"custom_fields", {{"tier", "gold"}, {"old", nullptr}}},
                         {"tags", {"vip", "audio"}},
                         {"status", "active"},
                         {"company", "Acme"},
                         {"phone", "+1-555-0100"},
                         {"email", "Jane.Doe@Example.COM"},
                         {"name", "Jane Doe"}}));
  REQUIRE(mutations.size() == 2);
  const auto& update = mutation<sdk::UpdateCustomer>(mutations, 0);
  CHECK(update.name == "Jane Doe");
  CHECK(update.email == "jane.doe@example.com");
  CHECK(update.phone == "+1-555-0100");
  CHECK(update.company == "Acme");
  CHECK(update.status == "active");
  CHECK(update.tags == Json{"vip", "audio"});
  CHECK(update.custom_fields == Json{{"tier", "gold"}, {"old", nullptr}});

  const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 1);
  CHECK(timeline.event_type == "profile_update");
  CHECK(timeline.title == "Profile updated");
  CHECK(timeline.description == "Updated: name, email, phone, company, status, tags, custom_fields");
  CHECK(timeline.metadata ==
        Json{{"fields", {"name", "email", "phone", "company", "status", "tags", "custom_fields"}}});
}

TEST_CASE("profile_update: only the fields sent - customer_name stands in for name", "[plugins]") {
  Handler profile("profile_update");
  const auto mutations = profile.handle(
      make_event("profile_update", {{"phone", "123"}, {"customer_name", "J. Doe"}, {"unrelated", 1}}));
  const auto& update = mutation<sdk::UpdateCustomer>(mutations, 0);
  CHECK(update.name == "J. Doe");
  CHECK(update.phone == "123");
  CHECK_FALSE(update.email.has_value());
  CHECK_FALSE(update.company.has_value());
  CHECK_FALSE(update.status.has_value());
  CHECK_FALSE(update.tags.has_value());
  CHECK_FALSE(update.custom_fields.has_value());
  const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 1);
  CHECK(timeline.description == "Updated: name, phone");
  CHECK(timeline.metadata == Json{{"fields", {"name", "phone"}}});
  // An empty tag list clears the tags: it is a change.
  const auto cleared = profile.handle(make_event("profile_update", {{"tags", Json::array()}}));
  CHECK(mutation<sdk::UpdateCustomer>(cleared, 0).tags == Json::array());
}

TEST_CASE("profile_update: invalid fields are rejected with the field named", "[plugins]") {
  Handler profile("profile_update");
  auto invalid = [&](Json data) { return profile.handle(make_event("profile_update", std::move(data))); };
  CHECK_THROWS_MATCHES(invalid(Json::object()), sdk::InvalidEvent,
                       Catch::Message("profile_update changes no field"));
  CHECK_THROWS_MATCHES(invalid({{"unrelated", 1}, {"name", nullptr}}), sdk::InvalidEvent,
                       Catch::Message("profile_update changes no field"));
  CHECK_THROWS_MATCHES(invalid({{"tags", "vip"}}), sdk::InvalidEvent,
                       Catch::Message("data.tags must be an array of strings, got string \"vip\""));
  CHECK_THROWS_MATCHES(invalid({{"tags", {"vip", 1}}}), sdk::InvalidEvent,
                       Catch::Message("data.tags must be an array of strings, got array [\"vip\",1]"));
  CHECK_THROWS_MATCHES(invalid({{"custom_fields", Json::array()}}), sdk::InvalidEvent,
                       Catch::Message("data.custom_fields must be an object, got array []"));
  CHECK_THROWS_MATCHES(invalid({{"phone", 5550100}}), sdk::InvalidEvent,
                       Catch::Message("data.phone must be a string, got number 5550100"));
  CHECK_THROWS_MATCHES(invalid({{"email", true}}), sdk::InvalidEvent,
                       Catch::Message("data.email must be a string, got boolean true"));
  CHECK_THROWS_MATCHES(invalid({{"customer_name", 1}}), sdk::InvalidEvent,
                       Catch::Message("data.customer_name must be a string, got number 1"));
}

// ----------------------------------------------------------------------- note

TEST_CASE("note: a full note is knowledge and a timeline row", "[plugins]") {
  Handler note("note");
  const auto mutations = note.handle(make_event(
      "note", {{"content", "Prefers email over phone calls"},
               {"category", "preference"},
               {"importance", "high"},
               {"tags", {"contact", "email"}},
               {"source", "agent:alice"},
               {"title", "Contact preference"}}));
  REQUIRE(mutations.size() == 2);
  const auto& knowledge = mutation<sdk::AddKnowledge>(mutations, 0);
  CHECK(knowledge.content == "Prefers email over phone calls");
  CHECK(knowledge.category == "preference");
  CHECK(knowledge.importance == 8);
  CHECK(knowledge.tags == Json{"contact", "email"});
  CHECK(knowledge.source == "agent:alice");
  const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 1);
  CHECK(timeline.event_type == "note");
  CHECK(timeline.title == "Contact preference");
  CHECK(timeline.description == "Prefers email over phone calls");
  CHECK(timeline.metadata == Json{{"category", "preference"}, {"importance", 8}});
}

TEST_CASE("note: content, title and source fall back in order", "[plugins]") {
  Handler note("note");
  auto handled = [&](const std::string& type, Json data, std::string source_service = "crm") {
    auto event = make_event(type, std::move(data));
    event.source_service = std::move(source_service);
    const auto mutations = note.handle(event);
    REQUIRE(mutations.size() == 2);
    return std::make_pair(mutation<sdk::AddKnowledge>(mutations, 0),
                          mutation<sdk::AppendTimelineEvent>(mutations, 1));
  };
  const auto [from_note, note_row] = handled("note", {{"note", "Has two dogs"}});
  CHECK(from_note.content == "Has two dogs");
  CHECK(from_note.category == "general");
  CHECK(from_note.importance == 5);
  CHECK(from_note.tags == Json::array());
  CHECK(from_note.source == "crm");
  CHECK(note_row.title == "Note");
  CHECK(note_row.metadata == Json{{"category", "general"}, {"importance", 5}});

  const auto [from_text, observation_row] = handled("observation", {{"text", "Calls on Mondays"}}, "");
  CHECK(from_text.content == "Calls on Mondays");
  CHECK(from_text.source == "observation");
  CHECK(observation_row.event_type == "observation");
  CHECK(observation_row.title == "Observation");

  const auto [first_wins, unused] = handled("note", {{"content", "A"}, {"note", "B"}, {"text", "C"}});
  CHECK(first_wins.content == "A");
}

TEST_CASE("note: importance as a number or a level", "[plugins]") {
  Handler note("note");
  auto importance = [&](Json value) {
    return mutation<sdk::AddKnowledge>(
               note.handle(make_event("note", {{"content", "x"}, {"importance", std::move(value)}})), 0)
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
  Handler note("note", {{"default_category", "personal"}, {"default_importance", 2}});
  const auto mutations = note.handle(make_event("note", {{"content", "Birthday in May"}}));
  const auto& knowledge = mutation<sdk::AddKnowledge>(mutations, 0);
  CHECK(knowledge.category == "personal");
  CHECK(knowledge.importance == 2);
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 1).metadata ==
        Json{{"category", "personal"}, {"importance", 2}});

  auto plugin = load("note");
  CHECK_THROWS_AS(plugin->create_handler(plugin->resolve_config({{"default_importance", 11}})),
                  customeriq::PluginError);
}

TEST_CASE("note: the timeline text is summarized, the knowledge is whole", "[plugins]") {
  Handler note("note", Json::object(), nullptr, 5);
  const auto mutations = note.handle(make_event("note", {{"content", "abcdefghij"}}));
  CHECK(mutation<sdk::AddKnowledge>(mutations, 0).content == "abcdefghij");
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 1).description == "abcde");
}

TEST_CASE("note: invalid fields are rejected with the field named", "[plugins]") {
  Handler note("note");
  auto invalid = [&](Json data) { return note.handle(make_event("note", std::move(data))); };
  CHECK_THROWS_MATCHES(invalid(Json::object()), sdk::InvalidEvent,
                       Catch::Message("data.content is required"));
  CHECK_THROWS_MATCHES(invalid({{"content", ""}}), sdk::InvalidEvent,
                       Catch::Message("data.content is required"));
  CHECK_THROWS_MATCHES(invalid({{"content", 5}}), sdk::InvalidEvent,
                       Catch::Message("data.content must be a string, got number 5"));
  CHECK_THROWS_MATCHES(invalid({{"text", {{"a", 1}}}}), sdk::InvalidEvent,
                       Catch::Message("data.text must be a string, got object {\"a\":1}"));
  CHECK_THROWS_MATCHES(invalid({{"content", "x"}, {"tags", "a,b"}}), sdk::InvalidEvent,
                       Catch::Message("data.tags must be an array of strings, got string \"a,b\""));
  CHECK_THROWS_MATCHES(invalid({{"content", "x"}, {"category", 1}}), sdk::InvalidEvent,
                       Catch::Message("data.category must be a string, got number 1"));
  CHECK_THROWS_MATCHES(invalid({{"content", "x"}, {"source", 1}}), sdk::InvalidEvent,
                       Catch::Message("data.source must be a string, got number 1"));
}

// -------------------------------------------------------------------- generic

TEST_CASE("generic: title, description, amount, status and data as metadata", "[plugins]") {
  Handler generic("generic");
  const Json data = {{"title", "Newsletter signup"},
                     {"description", "Signed up from the footer form"},
                     {"amount", 0},
                     {"status", "confirmed"},
                     {"list", "weekly"}};
  const auto mutations = generic.handle(make_event("newsletter_signup", data));
  REQUIRE(mutations.size() == 1);
  const auto& timeline = mutation<sdk::AppendTimelineEvent>(mutations, 0);
  CHECK(timeline.event_type == "newsletter_signup");
  CHECK(timeline.title == "Newsletter signup");
  CHECK(timeline.description == "Signed up from the footer form");
  CHECK(timeline.amount == 0.0);
  CHECK(timeline.status == "confirmed");
  CHECK(timeline.metadata == data);
}

TEST_CASE("generic: fallbacks for title, description and amount", "[plugins]") {
  Handler generic("generic");
  auto timeline_of = [&](Json data) {
    return mutation<sdk::AppendTimelineEvent>(generic.handle(make_event("webinar", std::move(data))), 0);
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
}

TEST_CASE("generic: keep_data_as_metadata false leaves metadata empty", "[plugins]") {
  Handler generic("generic", {{"keep_data_as_metadata", false}});
  const auto mutations = generic.handle(make_event("webinar", {{"title", "T"}, {"seat", 12}}));
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 0).metadata == Json::object());
}

TEST_CASE("generic: long descriptions are summarized", "[plugins]") {
  Handler generic("generic", Json::object(), make_summarizer("truncate", {{"ellipsis", "..."}}), 12);
  const auto mutations = generic.handle(make_event("webinar", {{"description", "abcdefghijklmnopq"}}));
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 0).description == "abcdefghi...");
}

TEST_CASE("generic: invalid fields are rejected with the field named", "[plugins]") {
  Handler generic("generic");
  auto invalid = [&](Json data) { return generic.handle(make_event("webinar", std::move(data))); };
  CHECK_THROWS_MATCHES(invalid({{"amount", "10"}}), sdk::InvalidEvent,
                       Catch::Message("data.amount must be a number, got string \"10\""));
  CHECK_THROWS_MATCHES(invalid({{"total", "10"}}), sdk::InvalidEvent,
                       Catch::Message("data.total must be a number, got string \"10\""));
  CHECK_THROWS_MATCHES(invalid({{"title", 1}}), sdk::InvalidEvent,
                       Catch::Message("data.title must be a string, got number 1"));
  CHECK_THROWS_MATCHES(invalid({{"message", nullptr}, {"description", 2}}), sdk::InvalidEvent,
                       Catch::Message("data.description must be a string, got number 2"));
}

// ------------------------------------------------------------------- truncate

TEST_CASE("truncate: text within the limit is unchanged", "[plugins]") {
  auto truncate = make_summarizer("truncate");
  CHECK(truncate->summarize("short", 5) == "short");
  CHECK(truncate->summarize("d\u00e9j\u00e0 vu", 7) == "d\u00e9j\u00e0 vu");
}

TEST_CASE("truncate: prefers a sentence end, then a word boundary, then a character", "[plugins]") {
  auto truncate = make_summarizer("truncate");
  const std::string two = "First sentence here. Second sentence is longer than that.";
  // A sentence end keeping at least half the budget: no ellipsis.
  CHECK(truncate->summarize(two, 30) == "First sentence here.");
  CHECK(truncate->summarize("Is it broken? It stopped working yesterday evening.", 20) == "Is it broken?");
  CHECK(truncate->summarize("Wow! That was fast delivery, thanks a lot.", 8) == "Wow!");  // exactly half
  CHECK(truncate->summarize("Wow! That was fast delivery, thanks a lot.", 12) == "Wow! That" + kEllipsis);
  // The sentence end keeps less than half: the last word boundary instead.
  CHECK(truncate->summarize(two, 45) == "First sentence here. Second sentence is" + kEllipsis);
  // The only word boundary keeps less than half: a character cut.
  CHECK(truncate->summarize("Hi supercalifragilisticexpialidocious", 20) ==
        "Hi supercalifragili" + kEllipsis);
  CHECK(truncate->summarize("abcdefghijklmnopqrstuvwxyz", 10) == "abcdefghi" + kEllipsis);
  // A word that ends exactly at the budget is kept whole.
  CHECK(truncate->summarize("abcd efgh ijkl", 10) == "abcd efgh" + kEllipsis);
  // Trailing whitespace is trimmed before the ellipsis.
  CHECK(truncate->summarize("abc    defghijklmnop", 8) == "abc" + kEllipsis);
}

TEST_CASE("truncate: the ellipsis config", "[plugins]") {
  auto dots = make_summarizer("truncate", {{"ellipsis", "..."}});
  CHECK(dots->summarize("abcdefghijklmnopqrstuvwxyz", 10) == "abcdefg...");
  // No room for the ellipsis and some text: no ellipsis.
  CHECK(dots->summarize("abcdefghijklmnopqrstuvwxyz", 3) == "abc");
  CHECK(dots->summarize("abcdefghijklmnopqrstuvwxyz", 2) == "ab");
  CHECK(dots->summarize("abcdefghijklmnopqrstuvwxyz", 0) == "");
  auto none = make_summarizer("truncate", {{"ellipsis", ""}});
  CHECK(none->summarize("abcdefghijklmnopqrstuvwxyz", 10) == "abcdefghij");
  CHECK(make_summarizer("truncate")->summarize("abcdef", 1) == "a");
}

TEST_CASE("truncate: never longer than the limit, never inside a code point", "[plugins]") {
  auto truncate = make_summarizer("truncate");
  auto dots = make_summarizer("truncate", {{"ellipsis", "[\u2192]"}});
  std::string text;
  for (int i = 0; i < 6; ++i)
    text += "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 "
            "\U0001F3A7 headphones\u2014great! \u00bfQu\u00e9 tal? Tr\u00e8s bien. ";
  text += "\U0001F3A7\U0001F3A7\U0001F3A7\u00e9\u00e9\u00e9";
  const std::size_t length = sdk::utf8_length(text);
  REQUIRE(length > 300);
  for (const auto& summarizer : {truncate, dots}) {
    for (std::size_t max = 0; max < length; ++max) {
      INFO("max_chars " << max);
      const std::string summary = summarizer->summarize(text, max);
      CHECK(sdk::utf8_length(summary) <= max);
      CHECK(valid_utf8(summary));
      // What is kept is the beginning of the text, whole code points only.
      std::string kept = summary;
      for (const std::string& ellipsis : {kEllipsis, std::string("[\u2192]")})
        if (kept.size() >= ellipsis.size() && kept.ends_with(ellipsis))
          kept.resize(kept.size() - ellipsis.size());
      CHECK(starts_with(text, kept));
      if (max >= 20) CHECK(sdk::utf8_length(summary) * 2 >= max);
    }
  }
}

// ----------------------------------------------------------------- extractive

namespace {
const std::string kReview =
    "Shipping was quick. The bluetooth headphones keep disconnecting. I like the color. "
    "Support could not fix the bluetooth headphones. Bluetooth pairing fails after every "
    "update of the headphones firmware.";
}

TEST_CASE("extractive: keeps the highest-scoring sentences that fit, in original order", "[plugins]") {
  auto extractive = make_summarizer("extractive");
  // Scores: "The bluetooth..." 3.58 > "Bluetooth pairing..." 3.48 > "Support..." 3.02 >
  // "Shipping..." 1.15 > "I like..." 1.0 (word frequency sum / sqrt(words)).
  CHECK(extractive->summarize(kReview, 115) ==
        "The bluetooth headphones keep disconnecting. Bluetooth pairing fails after every "
        "update of the headphones firmware.");
  // The second-best does not fit; the third does.
  CHECK(extractive->summarize(kReview, 92) ==
        "The bluetooth headphones keep disconnecting. Support could not fix the bluetooth headphones.");
  // A lower-scoring sentence that fits comes back in its original place, first.
  CHECK(extractive->summarize(kReview, 68) ==
        "Shipping was quick. The bluetooth headphones keep disconnecting.");
}

TEST_CASE("extractive: lines are sentences - ties go to the earlier sentence", "[plugins]") {
  auto extractive = make_summarizer("extractive");
  const std::string lines =
      "Bluetooth headphones broken\nCall back tomorrow morning\nBluetooth headphones replaced";
  CHECK(extractive->summarize(lines, 30) == "Bluetooth headphones broken");
  CHECK(extractive->summarize(lines, 57) == "Bluetooth headphones broken Bluetooth headphones replaced");
}

TEST_CASE("extractive: min_sentence_chars keeps short sentences out unless nothing else fits", "[plugins]") {
  const std::string text =
      "Bluetooth today. Bluetooth headphones arrived today. Weather is nice outside today.";
  CHECK(make_summarizer("extractive")->summarize(text, 31) == "Bluetooth today.");
  auto strict = make_summarizer("extractive", {{"min_sentence_chars", 20}});
  CHECK(strict->summarize(text, 31) == "Weather is nice outside today.");
  CHECK(strict->summarize(text, 20) == "Bluetooth today.");
}

TEST_CASE("extractive: when no sentence fits, a word-boundary cut with an ellipsis", "[plugins]") {
  auto extractive = make_summarizer("extractive");
  CHECK(extractive->summarize("Bluetooth pairing keeps failing on every device we tried at home", 20) ==
        "Bluetooth pairing" + kEllipsis);
  CHECK(extractive->summarize("abcdefghijklmnopqrstuvwxyz", 10) == "abcdefghi" + kEllipsis);
  CHECK(extractive->summarize("abcdefghijklmnopqrstuvwxyz", 1) == "a");
  CHECK(extractive->summarize("abcdefghijklmnopqrstuvwxyz", 0) == "");
}

TEST_CASE("extractive: never longer than the limit, never inside a code point", "[plugins]") {
  auto extractive = make_summarizer("extractive");
  std::string text;
  for (int i = 0; i < 5; ++i)
    text += "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e was served at table " + std::to_string(i) +
            ". \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3082\u3042\u308a\u307e\u3059\u3002\n"
            "The \U0001F3A7 headphones\u2014great sound! \u00bfQu\u00e9 tal? "
            "Tr\u00e8s bien, merci beaucoup. ";
  const std::size_t length = sdk::utf8_length(text);
  REQUIRE(length > 300);
  for (std::size_t max = 0; max < length; ++max) {
    INFO("max_chars " << max);
    const std::string summary = extractive->summarize(text, max);
    CHECK(sdk::utf8_length(summary) <= max);
    CHECK(valid_utf8(summary));
    CHECK(extractive->summarize(text, max) == summary);
    if (max >= 40) CHECK(sdk::utf8_length(summary) * 2 >= max / 2);
  }
}

TEST_CASE("extractive: as the pipeline summarizer behind a handler", "[plugins]") {
  Handler generic("generic", Json::object(), make_summarizer("extractive"), 92);
  const auto mutations = generic.handle(make_event("review", {{"description", kReview}}));
  CHECK(mutation<sdk::AppendTimelineEvent>(mutations, 0).description ==
        "The bluetooth headphones keep disconnecting. Support could not fix the bluetooth headphones.");
}
