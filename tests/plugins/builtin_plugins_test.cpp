// What every built-in plugin shares: its descriptor as the core loads it,
// config resolved the same by the core and the test kit, and event fields
// of the wrong type or missing refused with the field named.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "plugin_host/plugin_loader.hpp"
#include "plugins/plugin_test_support.hpp"
#include "support/test_support.hpp"

using namespace customeriq::test;

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
    auto plugin = customeriq::load_plugin(plugin_dir() / (std::string(expected.id) + ".so"));
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

TEST_CASE("numeric config keys declare their bounds", "[plugins]") {
  const auto key = [](const std::string& id, std::string_view name) {
    const auto& descriptor = builtin(id);
    for (std::size_t i = 0; i < descriptor.config_key_count; ++i)
      if (descriptor.config_keys[i].name == name) return descriptor.config_keys[i];
    FAIL("no config key " << name << " in " << id);
    return sdk::ConfigKey{};
  };
  CHECK(sdk::bounds_text(key("note", "default_importance")) == "from 1 to 10");
  CHECK(sdk::bounds_text(key("extractive", "min_sentence_chars")) == ">= 0");
}

TEST_CASE("the test kit resolves config as the core does", "[plugins]") {
  const std::vector<std::pair<std::string, Json>> cases = {
      {"note", Json::object()},
      {"note", {{"default_importance", 9}, {"default_category", "billing"}}},
      {"note", {{"default_importance", 11}}},
      {"note", {{"default_importance", 0}}},
      {"note", {{"default_importance", "9"}}},
      {"note", {{"default_importance", 9.5}}},
      {"note", {{"colour", "red"}}},
      {"note", Json::array({1})},
      {"note", nullptr},
      {"extractive", {{"min_sentence_chars", -1}}},
      {"extractive", {{"min_sentence_chars", 0}}},
      {"repair", {{"completed_statuses", {"Shipped"}}}},
      {"repair", {{"completed_statuses", {"Shipped", 1}}}},
      {"profile_update", {{"anything", 1}}},
      {"generic", {{"keep_data_as_metadata", "no"}}},
      {"truncate", {{"ellipsis", 3}}},
  };
  const auto outcome = [](auto resolve) -> std::string {
    try {
      return resolve().dump();
    } catch (const std::exception& error) {
      return std::string("error: ") + error.what();
    }
  };
  for (const auto& [id, given] : cases) {
    INFO(id << " " << given.dump());
    auto plugin = customeriq::load_plugin(plugin_dir() / (id + ".so"));
    const std::string core = outcome([&] { return plugin->resolve_config(given); });
    const std::string kit = outcome([&] { return sdk::testing::resolve_config(builtin(id), given); });
    CHECK(kit == core);
  }
}

TEST_CASE("invalid fields are rejected with the field named", "[plugins]") {
  struct Row {
    std::string plugin;
    std::string event_type;
    Json data;
    std::string message;
    Json metadata = Json::object();
  };
  const std::vector<Row> rows = {
      {"purchase", "purchase", {{"purchase_id", "o"}, {"total", "abc"}}, "data.total must be a number, got string \"abc\""},
      {"purchase", "purchase", {{"purchase_id", "o"}, {"total", "12"}}, "data.total must be a number, got string \"12\""},
      {"purchase", "purchase", {{"purchase_id", "o"}, {"price", true}}, "data.price must be a number, got boolean true"},
      {"purchase", "purchase", {{"purchase_id", "o"}}, "data.total is required"},
      {"purchase", "purchase", {{"purchase_id", 12345}, {"total", 1}}, "data.purchase_id must be a string, got number 12345"},
      {"purchase", "purchase", {{"purchase_id", ""}, {"total", 1}}, "data.purchase_id is required"},
      {"purchase", "purchase", {{"purchase_id", "o"}, {"total", 1}, {"quantity", 0}},
       "data.quantity must be from 1 to 1000000000, got 0"},
      {"purchase", "purchase", {{"purchase_id", "o"}, {"total", 1}, {"quantity", 1.5}},
       "data.quantity must be an integer, got number 1.5"},
      {"purchase", "purchase", {{"purchase_id", "o"}, {"total", 1}, {"product_name", 7}},
       "data.product_name must be a string, got number 7"},
      {"purchase", "purchase", {{"purchase_id", "o"}, {"total", 1}, {"warranty_expires", "2025"}},
       "data.warranty_expires must be an integer, got string \"2025\""},
      {"purchase", "purchase", {{"purchase_id", "o"}, {"total", 1}, {"status", 1}},
       "data.status must be a string, got number 1"},

      {"support_ticket", "support_ticket", {{"important", "yes"}}, "data.important must be true or false, got string \"yes\""},
      {"support_ticket", "support_ticket", {{"save_as_memory", 1}}, "data.save_as_memory must be true or false, got number 1"},
      {"support_ticket", "support_ticket", {{"title", 5}}, "data.title must be a string, got number 5"},
      {"support_ticket", "support_ticket", {{"description", {"a"}}}, "data.description must be a string, got array [\"a\"]"},
      {"support_ticket", "support_ticket", {{"priority", 3}}, "data.priority must be a string, got number 3"},
      {"support_ticket", "support_ticket", {{"ticket_id", 5678}}, "data.ticket_id must be a string, got number 5678"},

      {"repair", "repair", {{"status", "open"}}, "data.work_order_id is required"},
      {"repair", "repair", {{"work_order_id", 9999}}, "data.work_order_id must be a string, got number 9999"},
      {"repair", "repair", {{"work_order_id", "W"}, {"status", "done"}, {"cost", "50"}},
       "data.cost must be a number, got string \"50\""},
      {"repair", "repair", {{"work_order_id", "W"}, {"created_date", "yesterday"}},
       "data.created_date must be an integer, got string \"yesterday\""},
      {"repair", "repair", {{"work_order_id", "W"}, {"completed_date", 1.5}},
       "data.completed_date must be an integer, got number 1.5"},
      {"repair", "repair", {{"work_order_id", "W"}, {"priority", 1}}, "data.priority must be a string, got number 1"},
      {"repair", "repair", {{"work_order_id", "W"}, {"product_id", 2000}}, "data.product_id must be a string, got number 2000"},

      {"contact", "contact", {{"subject", 5}}, "data.subject must be a string, got number 5"},
      {"contact", "contact", {{"message", false}}, "data.message must be a string, got boolean false"},
      {"contact", "contact", {{"status", 2}}, "data.status must be a string, got number 2"},
      {"contact", "contact", Json::object(), "metadata.channel must be a string, got number 3", {{"channel", 3}}},

      {"profile_update", "profile_update", Json::object(), "profile_update changes no field"},
      {"profile_update", "profile_update", {{"unrelated", 1}, {"name", nullptr}}, "profile_update changes no field"},
      {"profile_update", "profile_update", {{"tags", "vip"}}, "data.tags must be an array of strings, got string \"vip\""},
      {"profile_update", "profile_update", {{"tags", {"vip", 1}}},
       "data.tags must be an array of strings, got array [\"vip\",1]"},
      {"profile_update", "profile_update", {{"custom_fields", Json::array()}},
       "data.custom_fields must be an object, got array []"},
      {"profile_update", "profile_update", {{"phone", 5550100}}, "data.phone must be a string, got number 5550100"},
      {"profile_update", "profile_update", {{"email", true}}, "data.email must be a string, got boolean true"},
      {"profile_update", "profile_update", {{"customer_name", 1}}, "data.customer_name must be a string, got number 1"},

      {"note", "note", Json::object(), "data.content is required"},
      {"note", "note", {{"content", ""}}, "data.content is required"},
      {"note", "note", {{"content", 5}}, "data.content must be a string, got number 5"},
      {"note", "note", {{"text", {{"a", 1}}}}, "data.text must be a string, got object {\"a\":1}"},
      {"note", "note", {{"content", "x"}, {"tags", "a,b"}}, "data.tags must be an array of strings, got string \"a,b\""},
      {"note", "note", {{"content", "x"}, {"category", 1}}, "data.category must be a string, got number 1"},
      {"note", "note", {{"content", "x"}, {"source", 1}}, "data.source must be a string, got number 1"},

      {"generic", "webinar", {{"amount", "10"}}, "data.amount must be a number, got string \"10\""},
      {"generic", "webinar", {{"total", "10"}}, "data.total must be a number, got string \"10\""},
      {"generic", "webinar", {{"title", 1}}, "data.title must be a string, got number 1"},
      {"generic", "webinar", {{"message", nullptr}, {"description", 2}}, "data.description must be a string, got number 2"},
  };
  REQUIRE(rows.size() == 47);
  for (const auto& row : rows) {
    INFO(row.plugin << " " << row.event_type << " data " << row.data.dump() << " metadata " << row.metadata.dump());
    TestHandler handler(builtin(row.plugin));
    CHECK_THROWS_MATCHES(handler.handle(event(row.event_type, row.data, row.metadata)), sdk::InvalidEvent,
                         Catch::Message(row.message));
  }
}
