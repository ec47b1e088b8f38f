// The SDK's helpers for plugin code: reading declared config, bounds, the
// first string of several fields, and case-insensitive lists.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "plugins/plugin_test_support.hpp"

using namespace customeriq::test;

TEST_CASE("config_value reads a declared key as its type", "[sdk]") {
  const Json config = {{"name", "EUR"}, {"limit", 7}, {"on", true}, {"ratio", 0.5}, {"list", {"a", "B"}}};
  CHECK(sdk::config_value<std::string>(config, "name") == "EUR");
  CHECK(sdk::config_value<int>(config, "limit") == 7);
  CHECK(sdk::config_value<std::int64_t>(config, "limit") == 7);
  CHECK(sdk::config_value<bool>(config, "on"));
  CHECK(sdk::config_value<double>(config, "ratio") == 0.5);
  CHECK(sdk::config_value<std::vector<std::string>>(config, "list") == std::vector<std::string>{"a", "B"});
}

TEST_CASE("config_value of a key not in the config or of another type is a mistake naming the key", "[sdk]") {
  const Json config = {{"limit", 7}};
  CHECK_THROWS_MATCHES(sdk::config_value<int>(config, "limt"), std::logic_error,
                       Catch::Message("config key 'limt' is not in the resolved config: declare it in the "
                                      "plugin's ConfigKey list"));
  CHECK_THROWS_AS(sdk::config_value<std::string>(config, "limit"), std::logic_error);
  CHECK_THROWS_WITH(sdk::config_value<std::string>(config, "limit"),
                    Catch::StartsWith("config key 'limit' cannot be read as the type asked for ("));
  CHECK_THROWS_AS(sdk::config_value<int>(Json(), "limit"), std::logic_error);
}

TEST_CASE("bounds_text says the declared bounds", "[sdk]") {
  using sdk::ConfigType;
  CHECK(sdk::bounds_text({"k", ConfigType::integer, "5", "d", 1, 10}) == "from 1 to 10");
  CHECK(sdk::bounds_text({"k", ConfigType::integer, "5", "d", 0}) == ">= 0");
  CHECK(sdk::bounds_text({"k", ConfigType::number, "1", "d", -1e300, 2.5}) == "from -1e+300 to 2.5");
  CHECK(sdk::bounds_text({"k", ConfigType::number, "1", "d", -std::numeric_limits<double>::infinity(), 2.5}) ==
        "<= 2.5");
  CHECK(sdk::bounds_text({"k", ConfigType::number, "1", "d"}) == "");
  CHECK_FALSE(sdk::has_bounds({"k", ConfigType::number, "1", "d"}));
  CHECK(sdk::has_bounds({"k", ConfigType::number, "1", "d", 0}));
}

TEST_CASE("config_value_problem checks the type and, for numbers, the bounds", "[sdk]") {
  using sdk::ConfigType;
  const sdk::ConfigKey importance{"k", ConfigType::integer, "5", "d", 1, 10};
  CHECK(sdk::config_value_problem(importance, 1) == "");
  CHECK(sdk::config_value_problem(importance, 10) == "");
  CHECK(sdk::config_value_problem(importance, 11) == "must be an integer from 1 to 10, got 11");
  CHECK(sdk::config_value_problem(importance, -3) == "must be an integer from 1 to 10, got -3");
  // A wrong type is the type error alone, as for a key without bounds.
  CHECK(sdk::config_value_problem(importance, "5") == "must be an integer, got \"5\"");
  CHECK(sdk::config_value_problem(importance, 5.0) == "must be an integer, got 5.0");
  // Integers beyond what a double holds exactly are still compared exactly.
  const sdk::ConfigKey big{"k", ConfigType::integer, "0", "d", 0, 9007199254740992.0};
  CHECK(sdk::config_value_problem(big, Json(std::int64_t{9007199254740992})) == "");
  CHECK(sdk::config_value_problem(big, Json(std::int64_t{9007199254740993})) ==
        "must be an integer from 0 to 9007199254740992, got 9007199254740993");
  CHECK(sdk::config_value_problem(big, Json(std::uint64_t{18446744073709551615u})) ==
        "must be an integer from 0 to 9007199254740992, got 18446744073709551615");

  const sdk::ConfigKey ratio{"k", ConfigType::number, "1", "d", 0, 2.5};
  CHECK(sdk::config_value_problem(ratio, 2.5) == "");
  CHECK(sdk::config_value_problem(ratio, 2) == "");
  CHECK(sdk::config_value_problem(ratio, 2.51) == "must be a number from 0 to 2.5, got 2.51");
  CHECK(sdk::config_value_problem(ratio, -0.1) == "must be a number from 0 to 2.5, got -0.1");
  CHECK(sdk::config_value_problem({"k", ConfigType::number, "1", "d"}, -1e300) == "");

  CHECK(sdk::config_value_problem({"k", ConfigType::string, "\"\"", "d"}, 1) == "must be a string, got 1");
  CHECK(sdk::config_value_problem({"k", ConfigType::boolean, "true", "d"}, "yes") ==
        "must be a boolean, got \"yes\"");
  CHECK(sdk::config_value_problem({"k", ConfigType::string_list, "[]", "d"}, Json{"a", 1}) ==
        "must be a list of strings, got [\"a\",1]");
  CHECK(sdk::config_value_problem({"k", ConfigType::string_list, "[]", "d"}, Json::array()) == "");
  CHECK(sdk::config_value_problem({"k", ConfigType::object, "{}", "d"}, Json::array()) ==
        "must be a mapping, got []");
}

TEST_CASE("first_string takes the first of several fields that holds a string", "[sdk]") {
  const Json data = {{"a", ""}, {"b", "B"}, {"c", "C"}, {"n", 5}, {"z", nullptr}};
  const auto found = sdk::first_string(data, {"missing", "z", "a", "b", "c"});
  REQUIRE(found.has_value());
  CHECK(found->key == "b");
  CHECK(found->value == "B");
  // An empty string counts when asked to.
  const auto empty = sdk::first_string(data, {"missing", "a", "b"}, sdk::EmptyString::counts);
  REQUIRE(empty.has_value());
  CHECK(empty->key == "a");
  CHECK(empty->value == "");
  CHECK_FALSE(sdk::first_string(data, {"missing", "z"}).has_value());
  CHECK_FALSE(sdk::first_string(data, {"a"}).has_value());
  // Each field looked at is type-checked, in order: a wrong type before a good string is an error.
  CHECK_THROWS_MATCHES(sdk::first_string(data, {"n", "b"}), sdk::InvalidEvent,
                       Catch::Message("data.n must be a string, got number 5"));
  CHECK(sdk::first_string(data, {"b", "n"})->value == "B");
  CHECK_THROWS_MATCHES(sdk::first_string(data, {"n"}, sdk::EmptyString::skipped, "metadata"), sdk::InvalidEvent,
                       Catch::Message("metadata.n must be a string, got number 5"));
}

TEST_CASE("contains_ignoring_case compares ASCII letters without case", "[sdk]") {
  const std::vector<std::string> statuses = {"completed", "Done"};
  CHECK(sdk::contains_ignoring_case(statuses, "Completed"));
  CHECK(sdk::contains_ignoring_case(statuses, "COMPLETED"));
  CHECK(sdk::contains_ignoring_case(statuses, "done"));
  CHECK_FALSE(sdk::contains_ignoring_case(statuses, "complete"));
  CHECK_FALSE(sdk::contains_ignoring_case(statuses, "completed "));
  CHECK_FALSE(sdk::contains_ignoring_case({}, "done"));
  CHECK(sdk::equals_ignoring_case("caf\u00e9", "CAF\u00e9"));
  CHECK_FALSE(sdk::equals_ignoring_case("caf\u00e9", "CAF\u00c9"));  // only ASCII letters fold
}
