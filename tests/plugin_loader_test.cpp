// Loading real plugin .so files through Boost.DLL.
#include <catch2/catch.hpp>

#include "plugin_host/plugin_context.hpp"
#include "plugin_host/plugin_loader.hpp"
#include "support/test_support.hpp"

using namespace customeriq;
using customeriq::test::TempDir;

TEST_CASE("every bundled plugin loads with the current ABI and its own id", "[loader]") {
  for (const char* id : {"purchase", "support_ticket", "repair", "contact", "profile_update", "note", "generic",
                         "truncate", "extractive"}) {
    INFO(id);
    auto plugin = load_plugin(test::plugin_dir() / (std::string(id) + ".so"));
    CHECK(plugin->id() == id);
    CHECK(plugin->descriptor().abi_version == sdk::kAbiVersion);
    CHECK(std::string(plugin->descriptor().version).size() > 0);
  }
}

TEST_CASE("a plugin built for another ABI is refused with both versions and the file", "[loader]") {
  // Built against ABI 1, the layout before ConfigKey had bounds.
  REQUIRE(sdk::kAbiVersion != 1);
  const auto file = test::test_plugin_dir() / "abi_mismatch.so";
  CHECK_THROWS_WITH(load_plugin(file),
                    file.string() + ": plugin built for SDK ABI version 1, this customeriq has version " +
                        std::to_string(sdk::kAbiVersion) + "; rebuild the plugin against this SDK");
}

TEST_CASE("a shared object that is not a plugin is refused", "[loader]") {
  const auto file = test::test_plugin_dir() / "not_a_plugin.so";
  CHECK_THROWS_WITH(load_plugin(file), Catch::Contains("not a CustomerIQ plugin"));
}

TEST_CASE("a plugin renamed away from its id is refused", "[loader]") {
  TempDir dir;
  std::filesystem::copy_file(test::plugin_dir() / "purchase.so", dir / "shopping.so");
  CHECK_THROWS_WITH(load_plugin(dir / "shopping.so"), Catch::Contains("plugin id 'purchase' does not match its file name 'shopping'"));
}

TEST_CASE("a missing or broken file is a clear error", "[loader]") {
  TempDir dir;
  CHECK_THROWS_WITH(load_plugin(dir / "nope.so"), Catch::Contains("no such plugin file"));
  test::write_file(dir / "junk.so", "not an ELF file");
  CHECK_THROWS_WITH(load_plugin(dir / "junk.so"), Catch::Contains("cannot load plugin"));
}

TEST_CASE("config defaults are filled in and checked against declared types", "[loader]") {
  auto note = load_plugin(test::plugin_dir() / "note.so");
  CHECK(note->resolve_config(Json::object()) == Json{{"default_category", "general"}, {"default_importance", 5}});
  CHECK(note->resolve_config(Json{{"default_importance", 9}})["default_importance"] == 9);
  CHECK_THROWS_WITH(note->resolve_config(Json{{"default_importance", "9"}}), Catch::Contains("must be an integer"));
}

TEST_CASE("config numbers outside a key's declared bounds are refused with the key, bounds and value", "[loader]") {
  auto note = load_plugin(test::plugin_dir() / "note.so");
  CHECK(note->resolve_config(Json{{"default_importance", 1}})["default_importance"] == 1);
  CHECK(note->resolve_config(Json{{"default_importance", 10}})["default_importance"] == 10);
  CHECK_THROWS_WITH(note->resolve_config(Json{{"default_importance", 11}}),
                    "plugin note: config key 'default_importance' must be an integer from 1 to 10, got 11");
  CHECK_THROWS_WITH(note->resolve_config(Json{{"default_importance", -2}}),
                    "plugin note: config key 'default_importance' must be an integer from 1 to 10, got -2");
  auto extractive = load_plugin(test::plugin_dir() / "extractive.so");
  CHECK_THROWS_WITH(extractive->resolve_config(Json{{"min_sentence_chars", -1}}),
                    "plugin extractive: config key 'min_sentence_chars' must be an integer >= 0, got -1");
}

TEST_CASE("a handler keeps its library loaded after the plugin object is gone", "[loader]") {
  HandlerPtr handler;
  {
    auto plugin = load_plugin(test::plugin_dir() / "generic.so");
    handler = plugin->create_handler(plugin->resolve_config(Json::object()));
  }
  // The library would be unmapped here if the handler did not hold it.
  sdk::Event event;
  event.event_type = "anything";
  event.data = Json{{"title", "still here"}};
  PluginContext context("generic", Json{{"keep_data_as_metadata", true}}, nullptr, 500);
  auto mutations = handler->handle(event, context);
  REQUIRE(mutations.size() == 1);
  CHECK(std::get<sdk::AppendTimelineEvent>(mutations[0]).title == "still here");
  handler.reset();  // destroyed by the library that made it, which then unloads
}

TEST_CASE("an out-of-bounds config value in a pipeline is an error at its YAML entry", "[loader]") {
  TempDir dir;
  const auto file = dir / "p.yaml";
  test::write_file(file, "handlers:\n  - plugin: note\n    config: {default_importance: 11}\n");
  auto handler = test::run_customeriq({"validate", file.string()});
  CHECK(handler.exit_code == 2);
  CHECK(handler.err == "customeriq: " + file.string() +
                           ":2:5: plugin note: config key 'default_importance' must be an integer from 1 to 10, "
                           "got 11\n");
  test::write_file(file,
                   "summarizer: {plugin: extractive, config: {min_sentence_chars: -1}}\n"
                   "handlers: [{plugin: generic, event_types: ['*']}]\n");
  auto summarizer = test::run_customeriq({"validate", file.string()});
  CHECK(summarizer.exit_code == 2);
  CHECK_THAT(summarizer.err, Catch::Contains(file.string() + ":1:13: plugin extractive: config key "
                                                             "'min_sentence_chars' must be an integer >= 0, got -1"));
}

TEST_CASE("customeriq plugins shows the bounds of a config key", "[loader]") {
  auto text = test::run_customeriq({"plugins"});
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("  config default_importance (integer from 1 to 10, default 5): "));
  CHECK_THAT(text.out, Catch::Contains("  config min_sentence_chars (integer >= 0, default 12): "));
  CHECK_THAT(text.out, Catch::Contains("  config default_category (string, default \"general\"): "));
  Json keys = Json::object();
  for (const auto& plugin : Json::parse(test::run_customeriq({"plugins", "--json"}).out))
    for (const auto& key : plugin["config_keys"]) keys[key["name"].get<std::string>()] = key;
  CHECK(keys["default_importance"]["min"] == 1);
  CHECK(keys["default_importance"]["max"] == 10);
  CHECK(keys["default_importance"]["bounds"] == "from 1 to 10");
  CHECK(keys["min_sentence_chars"]["min"] == 0);
  CHECK(keys["min_sentence_chars"]["bounds"] == ">= 0");
  CHECK_FALSE(keys["min_sentence_chars"].contains("max"));
  CHECK(keys["default_category"]["type"] == "string");
  CHECK_FALSE(keys["default_category"].contains("bounds"));
}
