// The pipeline YAML: parsing, interpolation, and errors that name file and line.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "pipeline/pipeline.hpp"
#include "config/pipeline_config.hpp"
#include "support/test_support.hpp"

using namespace customeriq;
using customeriq::test::TempDir;
using customeriq::test::write_file;

namespace {

PipelineConfig load(const TempDir& dir, const std::string& yaml) {
  write_file(dir / "p.yaml", yaml);
  return load_pipeline_config(dir / "p.yaml");
}

std::string error_of(const TempDir& dir, const std::string& yaml) {
  try {
    Pipeline pipeline(load(dir, yaml));
  } catch (const ConfigError& error) {
    return error.what();
  }
  FAIL("no error for:\n" << yaml);
  return {};
}

}  // namespace

TEST_CASE("the bundled default pipeline loads every handler and the summarizer", "[config]") {
  Pipeline pipeline(load_pipeline_config(test::source_dir() / "pipelines/default.yaml"));
  std::vector<std::string> ids;
  for (const auto& route : pipeline.routes()) ids.push_back(route.plugin->id());
  CHECK(ids == std::vector<std::string>{"purchase", "support_ticket", "repair", "contact", "profile_update", "note", "generic"});
  REQUIRE(pipeline.summarizer_plugin());
  CHECK(pipeline.summarizer_plugin()->id() == "extractive");
  CHECK(pipeline.summarize_threshold() == 500);
  CHECK(pipeline.config().max_event_bytes == 1048576);
}

TEST_CASE("values are typed and ${VAR:-default} is interpolated", "[config]") {
  TempDir dir;
  ::setenv("CIQ_TEST_LIMIT", "2048", 1);
  ::unsetenv("CIQ_TEST_UNSET");
  auto config = load(dir, R"(
handlers:
  - plugin: note
    config:
      default_category: ${CIQ_TEST_UNSET:-memo}
      default_importance: 7
limits:
  max_event_bytes: ${CIQ_TEST_LIMIT}
writer:
  batch_max_events: 10
  batch_max_delay_ms: 5
  queue_capacity: 20
  pipeline_threads: 3
)");
  CHECK(config.max_event_bytes == 2048);
  CHECK(config.pipeline_threads == 3);
  CHECK(config.batch_max_events == 10);
  CHECK(config.handlers[0].config == Json{{"default_category", "memo"}, {"default_importance", 7}});
  Pipeline pipeline(config);
  CHECK(pipeline.routes()[0].context->config() == Json{{"default_category", "memo"}, {"default_importance", 7}});
  CHECK_FALSE(pipeline.summarizer_plugin());
}

TEST_CASE("NATS_SUMMARIZE_THRESHOLD overrides the YAML threshold", "[config]") {
  TempDir dir;
  auto config = load(dir, "summarizer: {plugin: truncate, threshold: 80}\nhandlers: [{plugin: generic, event_types: ['*']}]\n");
  CHECK(Pipeline(config).summarize_threshold() == 80);
  CHECK(Pipeline(config, 33).summarize_threshold() == 33);
}

TEST_CASE("a relative plugin_path is taken from the pipeline's folder", "[config]") {
  TempDir dir;
  std::filesystem::create_directories(dir / "mine");
  std::filesystem::copy_file(test::test_plugin_dir() / "throwing.so", dir / "mine/throwing.so");
  Pipeline pipeline(load(dir, "plugin_path: [mine]\nhandlers: [{plugin: throwing}]\n"));
  CHECK(pipeline.routes()[0].plugin->path() == dir / "mine/throwing.so");
  CHECK(pipeline.routes()[0].event_types == std::vector<std::string>{"explode"});
}

TEST_CASE("YAML errors name the file, line and what is wrong", "[config]") {
  TempDir dir;
  const std::string file = (dir / "p.yaml").string();
  ::unsetenv("CIQ_TEST_NOPE");
  struct Case {
    const char* what;
    const char* yaml;
    std::string error;  // after "<file>:"
  };
  for (const auto& [what, yaml, error] : std::vector<Case>{
           {"unknown top-level key", "handlers: [{plugin: generic}]\nhandler: x\n",
            "2:1: unknown key 'handler' in pipeline (expected one of: version, plugin_path, summarizer, handlers, "
            "limits, writer, identity, source)"},
           {"two handlers for one type", "handlers:\n  - plugin: purchase\n  - plugin: generic\n    event_types: [purchase]\n",
            "3:5: event type 'purchase' is already handled by the handler at " + file + ":2:5"},
           {"an unset variable without a default", "handlers:\n  - plugin: ${CIQ_TEST_NOPE}\n",
            "2:13: ${CIQ_TEST_NOPE} is not set and has no default (write ${CIQ_TEST_NOPE:-default})"},
           {"a config key the plugin does not declare", "handlers:\n  - plugin: note\n    config: {colour: red}\n",
            "2:5: plugin note: unknown config key 'colour' (accepted: default_category, default_importance)"},
           {"a config value of the wrong type", "handlers:\n  - plugin: note\n    config: {default_importance: high}\n",
            "2:5: plugin note: config key 'default_importance' must be an integer, got \"high\""},
           {"a summarizer used as a handler", "handlers:\n  - plugin: truncate\n    event_types: [x]\n",
            "2:5: plugin truncate is a summarizer, not an event handler"},
           {"an out-of-range number", "handlers: [{plugin: generic, event_types: ['*']}]\nwriter:\n  batch_max_events: 0\n",
            "3:21: writer.batch_max_events must be an integer from 1 to 100000, got '0'"},
           {"too many pipeline threads", "handlers: [{plugin: generic, event_types: ['*']}]\nwriter:\n  pipeline_threads: 65\n",
            "3:21: writer.pipeline_threads must be an integer from 0 to 64, got '65'"}}) {
    DYNAMIC_SECTION(what) { CHECK(error_of(dir, yaml) == file + ":" + error); }
  }
  SECTION("unknown key in a handler") {
    CHECK_THAT(error_of(dir, "handlers:\n  - plugin: generic\n    types: [a]\n"),
               Catch::StartsWith(file + ":3:5: unknown key 'types' in handler"));
  }
  SECTION("missing .so") {
    CHECK_THAT(error_of(dir, "handlers:\n  - plugin: purchse\n"),
               Catch::StartsWith(file + ":2:5: no plugin 'purchse' (purchse.so) in: ") && Catch::Contains("plugins"));
  }
  SECTION("malformed YAML") {
    CHECK_THAT(error_of(dir, "handlers:\n  - plugin: [unclosed\n"), Catch::StartsWith(file + ":") && Catch::Contains("malformed YAML"));
  }
  SECTION("a key that is not a string") {
    CHECK_THAT(error_of(dir, "? [a, b]\n: x\nhandlers: [{plugin: generic}]\n"),
               Catch::StartsWith(file + ":1:") && Catch::Contains("a key in pipeline must be a plain string"));
    CHECK_THAT(error_of(dir, "handlers:\n  - plugin: note\n    config: {? [a, b] : !custom x}\n"),
               Catch::StartsWith(file + ":3:") && Catch::Contains("a key in mapping must be a plain string"));
  }
  SECTION("a YAML document the fuzzer found: a tagged mapping with a sequence key") {
    CHECK_THAT(error_of(dir, "%YAML 1.2\n--- !!map\n? [a, b]\n: !custom x\n"),
               Catch::StartsWith(file + ":") && Catch::Contains("must be a plain string"));
  }
  SECTION("an empty plugin name, which the fuzzer found") {
    CHECK(error_of(dir, "handlers:\n  - plugin: \"\"\n") == file + ":2:13: plugin is empty");
    CHECK(error_of(dir, "handlers:\n  - plugin: !!map\n") == file + ":2:13: plugin is empty");
    CHECK(error_of(dir, "handlers:\n  - plugin: ${CUSTOMERIQ_TEST_UNSET:-}\n") == file + ":2:13: plugin is empty");
    CHECK(error_of(dir, "summarizer:\n  plugin: \"\"\nhandlers: [{plugin: note}]\n") ==
          file + ":2:11: summarizer.plugin is empty");
    CHECK(error_of(dir, "handlers:\n  - plugin: note\n    event_types: [note, \"\"]\n") ==
          file + ":3:18: event_types holds an empty name");
  }
  SECTION("no handlers") {
    CHECK_THAT(error_of(dir, "version: 1\n"), Catch::Contains("handlers must be a non-empty list"));
  }
}

TEST_CASE("a missing pipeline file is an error naming it", "[config]") {
  TempDir dir;
  CHECK_THROWS_WITH(load_pipeline_config(dir / "nope.yaml"), (dir / "nope.yaml").string() + ": pipeline file not found");
}
