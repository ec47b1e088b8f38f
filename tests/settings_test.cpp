// The setting table (core/config/setting_table.cpp) and what it drives:
// parsing with its kinds, bounds and defaults, the errors, the variables
// of `customeriq serve --help`, docs/NATS.md's table and the warning
// about NATS_* variables nothing reads.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/paths.hpp"
#include "config/setting_docs.hpp"
#include "config/setting_reader.hpp"
#include "config/setting_table.hpp"
#include "config/settings.hpp"
#include "sources/nats/nats_config.hpp"
#include "support/test_support.hpp"

extern char** environ;

using namespace customeriq;
using namespace customeriq::test;
using Json = nlohmann::json;

namespace {

using Env = std::map<std::string, std::string>;

EnvLookup lookup(Env env) {
  return [env = std::move(env)](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

// What reading the variable does: its value as text, or the error.
std::string read_as_text(const SettingValue& value) {
  try {
    switch (value.setting().kind) {
      case SettingKind::boolean: return value.boolean() ? "true" : "false";
      case SettingKind::integer: return std::to_string(value.integer());
      case SettingKind::list: {
        std::string out;
        for (const auto& item : value.list()) out += (out.empty() ? "" : "|") + item;
        return out;
      }
      case SettingKind::path: return value.path().string();
      case SettingKind::text:
      case SettingKind::file: return value.text();
    }
  } catch (const ConfigError& error) {
    return std::string("error: ") + error.what();
  }
  return "?";
}

std::string from_env(const char* variable, const std::string& text) {
  return read_as_text(SettingReader(lookup({{variable, text}})).get(variable));
}

std::string from_yaml(const char* variable, const Json& value) {
  const Setting& setting = customeriq::setting(variable);
  return read_as_text(SettingReader(lookup({}), {}, Json{{setting.source_key, value}}, "p.yaml:3:1").get(variable));
}

std::vector<const Setting*> settings_of_kind(SettingKind kind) {
  std::vector<const Setting*> out;
  for (const auto& setting : setting_table())
    if (setting.kind == kind) out.push_back(&setting);
  return out;
}

// Every NATS_* variable of the process removed for the test's lifetime
// (the machine running the tests may set some), and put back after.
class NatsEnvironment {
 public:
  NatsEnvironment() {
    for (char** entry = environ; entry && *entry; ++entry) {
      const std::string text = *entry;
      if (text.rfind("NATS_", 0) == 0) saved_.emplace(text.substr(0, text.find('=')), text.substr(text.find('=') + 1));
    }
    for (const auto& [name, value] : saved_) ::unsetenv(name.c_str());
  }
  ~NatsEnvironment() {
    for (const auto& name : set_) ::unsetenv(name.c_str());
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
  }
  void set(const std::string& name, const std::string& value) {
    ::setenv(name.c_str(), value.c_str(), 1);
    set_.insert(name);
  }

 private:
  std::map<std::string, std::string> saved_;
  std::set<std::string> set_;
};

// The lines of text from the one starting with first up to the first that
// does not start with '|'.
std::vector<std::string> table_lines(const std::string& text, const std::string& first) {
  std::vector<std::string> lines;
  const auto start = text.find("\n" + first);
  if (start == std::string::npos) return lines;
  std::istringstream in(text.substr(start + 1));
  std::string line;
  while (std::getline(in, line) && line.rfind("|", 0) == 0) lines.push_back(line);
  return lines;
}

// The variables a Markdown row's first cell names: `NATS_X`, `NATS_Y`.
std::vector<std::string> variables_of_row(const std::string& row) {
  std::vector<std::string> out;
  const auto end = row.find(" |", 1);
  const std::string first = row.substr(0, end);
  for (std::size_t open = first.find('`'); open != std::string::npos; open = first.find('`', open)) {
    const auto close = first.find('`', open + 1);
    if (close == std::string::npos) break;
    out.push_back(first.substr(open + 1, close - open - 1));
    open = close + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("the setting table: one entry per variable, grouped, each default valid for its kind", "[settings]") {
  std::set<std::string> variables;
  std::optional<Applies> previous;
  std::set<Applies> groups_seen;
  for (const auto& setting : setting_table()) {
    INFO(setting.variable);
    CHECK(variables.insert(setting.variable).second);
    CHECK(std::string(setting.description).size() > 10);
    CHECK(std::string(setting.description).find('|') == std::string::npos);
    // One run per group, in the order of the enum: the help prints a heading per run.
    if (setting.applies != previous) {
      CHECK(groups_seen.insert(setting.applies).second);
      if (previous) CHECK(setting.applies > *previous);
      previous = setting.applies;
    }
    // The help says: the source: key is the name lower-cased without NATS_.
    if (setting.source_key) {
      std::string expected = std::string(setting.variable).substr(5);
      for (auto& c : expected) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      CHECK(std::string(setting.variable).rfind("NATS_", 0) == 0);
      CHECK(setting.source_key == expected);
    }
    if (setting.secrecy == Secrecy::secret) CHECK(std::string(setting.default_value).empty());
    if (setting.computed_default) CHECK(std::string(setting.default_value).empty());
    if (setting.kind == SettingKind::integer) CHECK(setting.min <= setting.max);
    // Nothing set: the default, read like a value from the environment.
    const SettingValue value = SettingReader(lookup({})).get(setting.variable);
    CHECK(value.is_set() == !setting.computed_default);
    if (value.is_set()) CHECK_THAT(read_as_text(value), !Catch::StartsWith("error: "));
  }
  for (const char* variable :
       {"NATS_ENABLED", "NATS_SERVERS", "NATS_SUBJECTS", "NATS_QUEUE_GROUP", "NATS_USER", "NATS_PASSWORD",
        "NATS_TOKEN", "NATS_CREDS", "NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY", "NATS_PENDING_MSGS",
        "NATS_PENDING_BYTES", "NATS_JETSTREAM", "NATS_STREAM", "NATS_STREAM_CREATE", "NATS_DURABLE",
        "NATS_MAX_DELIVER", "NATS_ACK_WAIT_SECONDS", "NATS_FETCH_BATCH", "NATS_MAX_ACK_PENDING",
        "NATS_SUMMARIZE_THRESHOLD", "NATS_AUTO_CREATE_CUSTOMER", "NATS_MONITOR_PORT", "CUSTOMERIQ_DB",
        "CUSTOMERIQ_PIPELINE", "CUSTOMERIQ_LOG_LEVEL", "CUSTOMERIQ_PLUGIN_DIR"})
    CHECK(find_setting(variable));
  CHECK_FALSE(find_setting("NATS_URL"));
  CHECK_THROWS_AS(SettingReader(lookup({})).get("NATS_URL"), std::logic_error);
}

TEST_CASE("integers: the bounds of the table hold, from the environment and from YAML", "[settings]") {
  const auto integers = settings_of_kind(SettingKind::integer);
  REQUIRE(integers.size() >= 8);
  for (const Setting* setting : integers) {
    INFO(setting->variable);
    const std::string range =
        " is not an integer from " + std::to_string(setting->min) + " to " + std::to_string(setting->max);
    const std::string name = setting->variable;
    CHECK(from_env(setting->variable, std::to_string(setting->min)) == std::to_string(setting->min));
    CHECK(from_env(setting->variable, std::to_string(setting->max)) == std::to_string(setting->max));
    for (const long long outside : {setting->min - 1, setting->max + 1})
      CHECK(from_env(setting->variable, std::to_string(outside)) ==
            "error: " + name + "=" + std::to_string(outside) + range);
    CHECK(from_env(setting->variable, "ten") == "error: " + name + "=ten" + range);
    CHECK(from_env(setting->variable, "") == "error: " + name + "=" + range);
    CHECK(from_env(setting->variable, "12abc") == "error: " + name + "=12abc" + range);
    if (!setting->source_key) continue;
    const std::string key = std::string("error: p.yaml:3:1: source.") + setting->source_key;
    CHECK(from_yaml(setting->variable, setting->max) == std::to_string(setting->max));
    CHECK(from_yaml(setting->variable, std::to_string(setting->min)) == std::to_string(setting->min));
    CHECK(from_yaml(setting->variable, setting->max + 1) == key + range + ", got " + std::to_string(setting->max + 1));
    CHECK(from_yaml(setting->variable, "lots") == key + range + ", got \"lots\"");
    CHECK(from_yaml(setting->variable, Json::array({1})) == key + " must be a string, got [1]");
  }
}

TEST_CASE("booleans: every spelling, and other values refused naming the variable", "[settings]") {
  const auto booleans = settings_of_kind(SettingKind::boolean);
  REQUIRE(booleans.size() >= 4);
  for (const Setting* setting : booleans) {
    INFO(setting->variable);
    for (const char* yes : {"true", "TRUE", "1", "yes", "On"}) CHECK(from_env(setting->variable, yes) == "true");
    for (const char* no : {"false", "0", "No", "off"}) CHECK(from_env(setting->variable, no) == "false");
    CHECK(from_env(setting->variable, "maybe") ==
          "error: " + std::string(setting->variable) +
              "=maybe is not a boolean (use true/false, 1/0, yes/no, on/off)");
    if (!setting->source_key) continue;
    CHECK(from_yaml(setting->variable, false) == "false");
    CHECK(from_yaml(setting->variable, "yes") == "true");
    CHECK(from_yaml(setting->variable, "nah") ==
          "error: p.yaml:3:1: source." + std::string(setting->source_key) +
              " is not a boolean (use true/false, 1/0, yes/no, on/off), got \"nah\"");
  }
}

TEST_CASE("lists, texts and files: trimmed, no empty entries, files that exist", "[settings]") {
  CHECK(from_env("NATS_SUBJECTS", " a.> , b.c ") == "a.>|b.c");
  CHECK(from_env("NATS_SUBJECTS", "a,,b") ==
        "error: NATS_SUBJECTS=a,,b must be a non-empty comma-separated list with no empty entry");
  CHECK(from_yaml("NATS_SUBJECTS", Json::array({"x.>", " y "})) == "x.>|y");
  CHECK(from_yaml("NATS_SUBJECTS", "x.>, y") == "x.>|y");
  CHECK(from_yaml("NATS_SUBJECTS", Json::array({"x", 3})) ==
        "error: p.yaml:3:1: source.subjects must be a list of strings: entry 2 is a number");
  CHECK(from_yaml("NATS_SUBJECTS", Json::object()) ==
        "error: p.yaml:3:1: source.subjects must be a list of strings or a comma-separated string, got {}");

  CHECK(from_env("NATS_QUEUE_GROUP", "  group \t") == "group");
  CHECK(from_yaml("NATS_STREAM", 42) == "42");
  // Secrets are taken as they are: a blank may be part of a password.
  CHECK(from_env("NATS_PASSWORD", " pass word ") == " pass word ");

  TempDir dir;
  write_file(dir / "ca.pem", "-----BEGIN CERTIFICATE-----\n");
  for (const Setting* setting : settings_of_kind(SettingKind::file)) {
    INFO(setting->variable);
    CHECK(from_env(setting->variable, "") == "");
    CHECK(from_env(setting->variable, " " + (dir / "ca.pem").string()) == (dir / "ca.pem").string());
    CHECK(from_env(setting->variable, (dir / "none.pem").string()) ==
          "error: " + std::string(setting->variable) + "=" + (dir / "none.pem").string() +
              " names a file that does not exist or is not a regular file");
    CHECK(from_env(setting->variable, dir.path().string()) ==
          "error: " + std::string(setting->variable) + "=" + dir.path().string() +
              " names a file that does not exist or is not a regular file");
  }
}

TEST_CASE("read_settings: flags over variables over computed defaults, and empty paths refused", "[settings]") {
  const auto settings = [](Env env, std::optional<std::filesystem::path> db = {},
                           std::optional<std::filesystem::path> pipeline = {}) {
    return read_settings(db, pipeline, lookup(std::move(env)));
  };
  const auto error_of = [&](Env env, std::optional<std::filesystem::path> db = {},
                            std::optional<std::filesystem::path> pipeline = {}) -> std::string {
    try {
      settings(std::move(env), std::move(db), std::move(pipeline));
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "no error";
  };
  const Settings defaults = settings({});
  CHECK(defaults.database == default_database_file());
  CHECK(defaults.pipeline == default_pipeline_file());
  CHECK(defaults.auto_create_customers);
  CHECK_FALSE(defaults.summarize_threshold);

  const Settings set = settings({{"CUSTOMERIQ_DB", "/x/a.db"}, {"CUSTOMERIQ_PIPELINE", "p.yaml"},
                                 {"NATS_AUTO_CREATE_CUSTOMER", "off"}, {"NATS_SUMMARIZE_THRESHOLD", "120"}});
  CHECK(set.database == "/x/a.db");
  CHECK(set.pipeline == "p.yaml");
  CHECK_FALSE(set.auto_create_customers);
  CHECK(set.summarize_threshold == 120u);
  CHECK(settings({{"CUSTOMERIQ_DB", "/x/a.db"}}, "/y/b.db").database == "/y/b.db");
  CHECK(settings({{"CUSTOMERIQ_PIPELINE", "a.yaml"}}, {}, "b.yaml").pipeline == "b.yaml");

  CHECK(error_of({}, "") ==
        "--db is empty: give a file, or leave --db out to use CUSTOMERIQ_DB or ~/.customeriq/customeriq.db");
  CHECK(error_of({{"CUSTOMERIQ_DB", "/x/a.db"}}, "") ==
        "--db is empty: give a file, or leave --db out to use CUSTOMERIQ_DB or ~/.customeriq/customeriq.db");
  CHECK(error_of({{"CUSTOMERIQ_DB", ""}}) ==
        "CUSTOMERIQ_DB is set but empty (in the environment or .env): set it to a file, or unset it to use "
        "~/.customeriq/customeriq.db");
  CHECK(error_of({}, {}, "") ==
        "--pipeline is empty: give a file, or leave --pipeline out to use CUSTOMERIQ_PIPELINE or the bundled "
        "default.yaml");
  CHECK(error_of({{"CUSTOMERIQ_PIPELINE", ""}}) ==
        "CUSTOMERIQ_PIPELINE is set but empty (in the environment or .env): set it to a file, or unset it to "
        "use the bundled default.yaml");
  CHECK(error_of({{"NATS_SUMMARIZE_THRESHOLD", "0"}}) ==
        "NATS_SUMMARIZE_THRESHOLD=0 is not an integer from 1 to 1048576");
  CHECK(error_of({{"NATS_AUTO_CREATE_CUSTOMER", "sometimes"}}) ==
        "NATS_AUTO_CREATE_CUSTOMER=sometimes is not a boolean (use true/false, 1/0, yes/no, on/off)");
}

TEST_CASE("read_nats_config takes every default from the table", "[settings]") {
  const NatsConfig config = read_nats_config(Json::object(), "p.yaml:3:1", lookup({}));
  const auto default_of = [](const char* variable) { return std::string(setting(variable).default_value); };
  const auto integer_of = [&](const char* variable) { return std::stoi(default_of(variable)); };
  CHECK(config.enabled == (default_of("NATS_ENABLED") == "true"));
  CHECK(config.servers == std::vector<std::string>{default_of("NATS_SERVERS")});
  CHECK(config.subjects == std::vector<std::string>{default_of("NATS_SUBJECTS")});
  CHECK(config.queue_group == default_of("NATS_QUEUE_GROUP"));
  CHECK(config.pending_msgs == integer_of("NATS_PENDING_MSGS"));
  CHECK(config.pending_bytes == integer_of("NATS_PENDING_BYTES"));
  CHECK(config.jetstream == (default_of("NATS_JETSTREAM") == "true"));
  CHECK(config.stream == default_of("NATS_STREAM"));
  CHECK(config.stream_create == (default_of("NATS_STREAM_CREATE") == "true"));
  CHECK(config.durable == default_of("NATS_DURABLE"));
  CHECK(config.max_deliver == integer_of("NATS_MAX_DELIVER"));
  CHECK(config.ack_wait_seconds == integer_of("NATS_ACK_WAIT_SECONDS"));
  CHECK(config.fetch_batch == integer_of("NATS_FETCH_BATCH"));
  CHECK(config.max_ack_pending == integer_of("NATS_MAX_ACK_PENDING"));
  CHECK(config.user.empty());
  CHECK(config.password.empty());
  CHECK(config.token.empty());
  CHECK(config.creds_file.empty());
  CHECK_FALSE(config.tls());
}

TEST_CASE("the source: block takes the table's keys and refuses others", "[settings]") {
  Json every_key = Json::object();
  std::string keys;
  for (const auto& setting : setting_table()) {
    if (!setting.source_key || setting.computed_default) continue;
    if (setting.kind == SettingKind::integer) every_key[setting.source_key] = setting.max;
    else if (*setting.default_value) every_key[setting.source_key] = setting.default_value;
    keys += (keys.empty() ? "" : ", ") + std::string(setting.source_key);
  }
  every_key["user"] = "alice";
  every_key["password"] = "pw";
  const NatsConfig config = read_nats_config(every_key, "p.yaml:3:1", lookup({}));
  CHECK(config.max_deliver == setting("NATS_MAX_DELIVER").max);
  CHECK(config.user == "alice");

  const auto error_of = [](const Json& source) -> std::string {
    try {
      read_nats_config(source, "p.yaml:3:1", lookup({}));
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "no error";
  };
  CHECK(error_of({{"subject", "x"}}) == "p.yaml:3:1: unknown key 'source.subject' (expected one of: " + keys + ")");
  CHECK(error_of({{"summarize_threshold", 5}}) ==
        "p.yaml:3:1: unknown key 'source.summarize_threshold' (expected one of: " + keys + ")");
  CHECK(error_of(Json::array({"servers"})) == "p.yaml:3:1: source must be a mapping");
}

TEST_CASE("secrets: errors never show them, from the environment, an option or YAML", "[settings][secrets]") {
  for (const auto& setting : setting_table()) {
    if (setting.secrecy != Secrecy::secret) continue;
    INFO(setting.variable);
    if (setting.source_key) {  // CUSTOMERIQ_HTTP_TOKEN is read from the environment only
      CHECK(from_yaml(setting.variable, Json::array({"S3cretPW42"})) ==
            "error: p.yaml:3:1: source." + std::string(setting.source_key) + " must be a string, got a list");
      CHECK(from_yaml(setting.variable, Json{{"v", "S3cretPW42"}}) ==
            "error: p.yaml:3:1: source." + std::string(setting.source_key) + " must be a string, got a mapping");
    }
    // What a check beyond the kind refuses is named, never shown.
    const SettingValue value = SettingReader(lookup({{setting.variable, "S3cretPW42"}})).get(setting.variable);
    try {
      value.refuse("is refused");
      FAIL("refuse() returned");
    } catch (const ConfigError& error) {
      CHECK(std::string(error.what()) == std::string(setting.variable) + " is refused");
    }
  }
  CHECK(from_env("NATS_SERVERS", "nats://alice:S3cretPW42@h:4222,") ==
        "error: NATS_SERVERS=nats://alice:***@h:4222, must be a non-empty comma-separated list with no empty entry");
  CHECK(from_yaml("NATS_SERVERS", Json{{"a", "nats://alice:S3cretPW42@h:4222"}}) ==
        "error: p.yaml:3:1: source.servers must be a list of strings or a comma-separated string, got a mapping");
  const SettingReader option(lookup({}), {{"NATS_SERVERS", "--servers", "nats://alice:S3cretPW42@h:4222,"}});
  CHECK(read_as_text(option.get("NATS_SERVERS")) ==
        "error: --servers=nats://alice:***@h:4222, must be a non-empty comma-separated list with no empty entry");
  CHECK(settings_help_text().find("S3cret") == std::string::npos);
}

TEST_CASE("unknown NATS_* variables: every NATS_* setting of the table is known, typos get a hint", "[settings]") {
  NatsEnvironment environment;
  for (const auto& setting : setting_table())
    if (std::string_view(setting.variable).rfind("NATS_", 0) == 0) environment.set(setting.variable, "x");
  CHECK(unknown_nats_variables().empty());

  environment.set("NATS_PENDING_MSG", "5");
  environment.set("NATS_MONITOR_PRT", "9222");
  environment.set("NATS_URL", "nats://h:4222");
  environment.set("NATS_SOMETHING_ELSE", "1");
  const auto unknown = unknown_nats_variables();
  const std::set<std::string> reported(unknown.begin(), unknown.end());
  CHECK(reported == std::set<std::string>{"NATS_PENDING_MSG (did you mean NATS_PENDING_MSGS?)",
                                          "NATS_MONITOR_PRT (did you mean NATS_MONITOR_PORT?)",
                                          "NATS_URL (did you mean NATS_SERVERS?)", "NATS_SOMETHING_ELSE"});
}

TEST_CASE("docs/NATS.md's table of variables is the setting table", "[settings][docs]") {
  const std::string docs = read_file(source_dir() / "docs/NATS.md");
  const auto lines = table_lines(docs, "| Variable | `source:` key |");
  REQUIRE(lines.size() > 2);
  std::map<std::string, std::string> rows;
  for (std::size_t i = 2; i < lines.size(); ++i)
    for (const auto& variable : variables_of_row(lines[i])) rows[variable] = lines[i];
  for (const auto& setting : setting_table()) {
    const std::string expected = settings_markdown_row(setting);
    const auto row = rows.find(setting.variable);
    if (row == rows.end()) {
      FAIL_CHECK("docs/NATS.md has no row for " << setting.variable << "; the table's row is:\n" << expected);
      continue;
    }
    INFO("docs/NATS.md's row for " << setting.variable << " is not the table's (default, key, description):\n"
                                   << row->second << "\nthe table's:\n" << expected);
    CHECK(row->second == expected);
  }
  for (const auto& [variable, row] : rows) {
    INFO("docs/NATS.md has a row for " << variable << ", which the setting table does not declare");
    CHECK(find_setting(variable));
  }
  std::string section;
  for (const auto& line : lines) section += line + "\n";
  INFO("the table in docs/NATS.md, in the setting table's order, is:\n" << settings_markdown_table());
  CHECK(section == settings_markdown_table());
}

TEST_CASE("README's configuration table names only settings of the table, with their defaults", "[settings][docs]") {
  const std::string readme = read_file(source_dir() / "README.md");
  const auto start = readme.find("\n## Configuration\n");
  REQUIRE(start != std::string::npos);
  const auto lines = table_lines(readme.substr(start), "| variable | default |");
  REQUIRE(lines.size() > 2);
  for (std::size_t i = 2; i < lines.size(); ++i) {
    INFO(lines[i]);
    const auto variables = variables_of_row(lines[i]);
    CHECK_FALSE(variables.empty());
    for (const auto& variable : variables) {
      INFO(variable);
      CHECK(find_setting(variable));
    }
    if (variables.size() != 1 || !find_setting(variables[0])) continue;
    const auto default_start = lines[i].find(" | ") + 3;
    const std::string cell = lines[i].substr(default_start, lines[i].find(" | ", default_start) - default_start);
    CHECK(cell == settings_markdown_default(setting(variables[0])));
  }
}

TEST_CASE("serve --help lists every setting of the table, with its default", "[settings][cli]") {
  const auto help = run_customeriq({"serve", "--help"});
  REQUIRE(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains(settings_help_text()));
  for (const auto& setting : setting_table()) {
    INFO(setting.variable);
    // A long name stands on a line of its own, its text below it.
    CHECK_THAT(help.out, Catch::Contains("\n    " + std::string(setting.variable) + " ") ||
                             Catch::Contains("\n    " + std::string(setting.variable) + "\n"));
    CHECK_THAT(help.out, Catch::Contains("\n  " + std::string(to_string(setting.applies)) + ":\n"));
  }
  // Defaults as the help says them (a line may wrap between words).
  std::string words;
  std::istringstream in(help.out);
  for (std::string word; in >> word;) words += word + " ";
  CHECK_THAT(words, Catch::Contains("redelivered. (1 to 86400, default 30) "));
  CHECK_THAT(words, Catch::Contains("allowed. (default customer.events.>) "));
  CHECK_THAT(words, Catch::Contains("error. (default: ~/.customeriq/customeriq.db) "));
  std::istringstream lines(help.out);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK(line.size() <= 79);
  }
}
