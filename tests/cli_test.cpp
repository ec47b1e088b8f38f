// The customeriq command line, run as a user would.
#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

using namespace customeriq::test;
using Json = nlohmann::json;

namespace {

const std::string kSeed = read_file(source_dir() / "examples/events/seed.jsonl");

std::vector<std::string> with_db(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"--db", (dir / "db.sqlite").string()});
  return args;
}

}  // namespace

TEST_CASE("--help works for the program and every command", "[cli]") {
  auto help = run_customeriq({"--help"});
  CHECK(help.exit_code == 0);
  for (const char* command :
       {"ingest", "profile", "context", "search", "validate", "plugins", "dead-letters", "reindex"}) {
    INFO(command);
    CHECK_THAT(help.out, Catch::Contains(std::string("  ") + command));
    auto command_help = run_customeriq({command, "--help"});
    CHECK(command_help.exit_code == 0);
    CHECK_THAT(command_help.out, Catch::StartsWith(std::string("usage: customeriq ") + command));
  }
}

TEST_CASE("usage errors exit 2 with a message", "[cli]") {
  CHECK(run_customeriq({"frobnicate"}).err == "customeriq: unknown command 'frobnicate' (see customeriq --help)\n");
  CHECK(run_customeriq({"frobnicate"}).exit_code == 2);
  auto unknown_option = run_customeriq({"profile", "--colour", "x"});
  CHECK(unknown_option.exit_code == 2);
  CHECK(unknown_option.err == "customeriq: unknown option --colour\n");
  CHECK(run_customeriq({"search"}).exit_code == 2);
}

TEST_CASE("ingest from stdin, then profile and search read it back", "[cli]") {
  TempDir dir;
  ProcessOptions options;
  options.stdin_text = kSeed;
  auto ingest = run_customeriq(with_db(dir, {"ingest", "-"}), options);
  INFO(ingest.err);
  REQUIRE(ingest.exit_code == 0);
  CHECK_THAT(ingest.out, Catch::StartsWith("ingested 3 events: 3 applied, 0 duplicates, 0 dead-lettered"));

  auto profile = run_customeriq(with_db(dir, {"profile", "cust_001"}));
  REQUIRE(profile.exit_code == 0);
  const Json json = Json::parse(profile.out);
  CHECK(json["customer"]["lifetime_value"] == 299.99);
  CHECK(json["timeline"].size() == 3);
  CHECK(json["timeline"][0]["event_type"] == "repair");  // newest first
  CHECK(json["purchases"][0]["id"] == "ord_12345");
  CHECK(json["work_orders"][0]["id"] == "WO-9999");
  CHECK(json["knowledge"][0]["importance"] == 8);
  CHECK_FALSE(json["timeline"][0].contains("raw_event_data"));
  CHECK(Json::parse(run_customeriq(with_db(dir, {"profile", "cust_001", "--raw"})).out)["timeline"][0].contains("raw_event_data"));

  auto search = run_customeriq(with_db(dir, {"search", "bluetooth", "--limit", "2"}));
  REQUIRE(search.exit_code == 0);
  const Json hits = Json::parse(search.out);
  CHECK(hits.size() == 2);
  CHECK(hits[0]["customer_id"] == "cust_001");
  CHECK_THAT(hits[0]["snippet"].get<std::string>(), Catch::Contains("[Bluetooth]"));
  CHECK(Json::parse(run_customeriq(with_db(dir, {"search", "WHP-2000"})).out).size() >= 1);
}

TEST_CASE("ingesting the same file twice applies nothing the second time", "[cli]") {
  TempDir dir;
  write_file(dir / "seed.jsonl", kSeed);
  run_customeriq(with_db(dir, {"ingest", (dir / "seed.jsonl").string()}));
  auto again = run_customeriq(with_db(dir, {"ingest", (dir / "seed.jsonl").string()}));
  CHECK_THAT(again.out, Catch::StartsWith("ingested 3 events: 0 applied, 3 duplicates, 0 dead-lettered"));
}

TEST_CASE("context prints the customer's document, exit 1 for an unknown id and 2 for a bad budget", "[cli]") {
  TempDir dir;
  ProcessOptions options;
  options.stdin_text = kSeed;
  REQUIRE(run_customeriq(with_db(dir, {"ingest", "-"}), options).exit_code == 0);

  auto markdown = run_customeriq(with_db(dir, {"context", "cust_001"}));
  REQUIRE(markdown.exit_code == 0);
  CHECK_THAT(markdown.out, Catch::StartsWith("# Customer cust_001: John Smith\n"));
  CHECK_THAT(markdown.out, Catch::Contains("[WO-9999]") && Catch::Contains("[ord_12345]"));
  CHECK_THAT(markdown.out, Catch::EndsWith("_Nothing was left out._\n"));

  auto json = run_customeriq(with_db(dir, {"context", "cust_001", "--max-chars", "500", "--json"}));
  REQUIRE(json.exit_code == 0);
  const Json document = Json::parse(json.out);
  CHECK(document["customer_id"] == "cust_001");
  CHECK(document["truncated"].is_boolean());
  CHECK_THAT(document["text"].get<std::string>(), Catch::StartsWith("# Customer cust_001: John Smith"));

  auto unknown = run_customeriq(with_db(dir, {"context", "cust_999"}));
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err == "customeriq: no customer with id 'cust_999'\n");
  for (const char* bad : {"499", "many"}) {
    auto refused = run_customeriq(with_db(dir, {"context", "cust_001", "--max-chars", bad}));
    CHECK(refused.exit_code == 2);
    CHECK(refused.err == std::string("customeriq: --max-chars must be an integer from 500 to 1000000, got '") + bad + "'\n");
  }
  CHECK(run_customeriq(with_db(dir, {"context"})).exit_code == 2);
}

TEST_CASE("profile of an unknown id exits 1 with a message", "[cli]") {
  TempDir dir;
  write_file(dir / "seed.jsonl", kSeed);
  run_customeriq(with_db(dir, {"ingest", (dir / "seed.jsonl").string()}));
  auto result = run_customeriq(with_db(dir, {"profile", "cust_999"}));
  CHECK(result.exit_code == 1);
  CHECK(result.err == "customeriq: no customer with id 'cust_999'\n");
  CHECK(result.out.empty());
}

TEST_CASE("reading a database that does not exist says so", "[cli]") {
  TempDir dir;
  auto result = run_customeriq(with_db(dir, {"profile", "cust_001"}));
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("no CustomerIQ database at"));
}

TEST_CASE("CUSTOMERIQ_DB chooses the database - the default folder is created", "[cli]") {
  TempDir dir;
  write_file(dir / "seed.jsonl", kSeed);
  ProcessOptions options;
  options.env["CUSTOMERIQ_DB"] = (dir / "nested/folder/x.db").string();
  CHECK(run_customeriq({"ingest", (dir / "seed.jsonl").string()}, options).exit_code == 0);
  CHECK(std::filesystem::exists(dir / "nested/folder/x.db"));
  ProcessOptions home;
  home.env["HOME"] = dir.path().string();
  CHECK(run_customeriq({"ingest", (dir / "seed.jsonl").string()}, home).exit_code == 0);
  CHECK(std::filesystem::exists(dir / ".customeriq/customeriq.db"));
}

TEST_CASE("the binary finds its plugins and default pipeline from any directory", "[cli]") {
  TempDir dir;
  write_file(dir / "seed.jsonl", kSeed);
  ProcessOptions options;
  options.working_directory = dir.path();
  auto result = run_customeriq({"--db", "here.db", "ingest", "seed.jsonl"}, options);
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(std::filesystem::exists(dir / "here.db"));
}

TEST_CASE("validate accepts the default pipeline and reports errors with exit 2", "[cli]") {
  auto ok = run_customeriq({"validate"});
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::StartsWith("ok: ") && Catch::Contains("7 handlers, summarizer extractive at 500 characters"));

  TempDir dir;
  write_file(dir / "bad.yaml", "handlers:\n  - plugin: nonexistent\n");
  auto bad = run_customeriq({"validate", (dir / "bad.yaml").string()});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::StartsWith("customeriq: " + (dir / "bad.yaml").string() + ":2:5: no plugin 'nonexistent'"));

  ProcessOptions threshold;
  threshold.env["NATS_SUMMARIZE_THRESHOLD"] = "120";
  CHECK_THAT(run_customeriq({"validate"}, threshold).out, Catch::Contains("at 120 characters"));
  threshold.env["NATS_SUMMARIZE_THRESHOLD"] = "lots";
  auto malformed = run_customeriq({"validate"}, threshold);
  CHECK(malformed.exit_code == 2);
  CHECK_THAT(malformed.err, Catch::Contains("NATS_SUMMARIZE_THRESHOLD=lots is not an integer"));
}

TEST_CASE("plugins lists what loaded, with versions and config keys", "[cli]") {
  auto text = run_customeriq({"plugins"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("purchase 1.") && Catch::Contains("config completed_statuses"));
  auto json = Json::parse(run_customeriq({"plugins", "--json"}).out);
  REQUIRE(json.size() == 8);
  CHECK(json[0]["id"] == "extractive");
  CHECK(json[0]["kind"] == "summarizer");
  CHECK(json[1]["id"] == "purchase");
  CHECK(json[1]["event_types"] == Json::array({"purchase"}));
  CHECK(json[7]["event_types"] == Json::array({"*"}));
}

TEST_CASE("dead-letters lists bad events and --replay applies them after a fix", "[cli]") {
  TempDir dir;
  // A pipeline without the note plugin: note events are dead-lettered.
  write_file(dir / "narrow.yaml", "handlers:\n  - plugin: purchase\n");
  write_file(dir / "events.jsonl",
             R"({"event_id":"n1","customer_id":"c1","event_type":"note","data":{"content":"Likes jazz"}})" "\n");
  run_customeriq(with_db(dir, {"--pipeline", (dir / "narrow.yaml").string(), "ingest", (dir / "events.jsonl").string()}));

  auto listed = run_customeriq(with_db(dir, {"dead-letters"}));
  REQUIRE(listed.exit_code == 0);
  const Json letter = Json::parse(listed.out.substr(0, listed.out.find('\n')));
  CHECK(letter["event_type"] == "note");
  CHECK_THAT(letter["reason"].get<std::string>(), Catch::StartsWith("no handler for event_type 'note'"));

  // The fix: the default pipeline has a note handler.
  auto replay = run_customeriq(with_db(dir, {"dead-letters", "--replay"}));
  INFO(replay.err);
  CHECK(replay.exit_code == 0);
  CHECK_THAT(replay.out, Catch::StartsWith("replayed 1 events: 1 applied, 0 duplicates, 0 dead-lettered"));
  CHECK(run_customeriq(with_db(dir, {"dead-letters"})).out.empty());
  auto profile = Json::parse(run_customeriq(with_db(dir, {"profile", "c1"})).out);
  CHECK(profile["knowledge"][0]["content"] == "Likes jazz");
}

TEST_CASE("a replay that fails again keeps the letter with the new attempt", "[cli]") {
  TempDir dir;
  write_file(dir / "events.jsonl", "{broken\n");
  run_customeriq(with_db(dir, {"ingest", (dir / "events.jsonl").string()}));
  auto replay = run_customeriq(with_db(dir, {"dead-letters", "--replay", "--id", "1"}));
  CHECK_THAT(replay.out, Catch::Contains("0 applied, 0 duplicates, 1 dead-lettered"));
  CHECK(Json::parse(run_customeriq(with_db(dir, {"dead-letters"})).out)["attempts"] == 2);
  CHECK(run_customeriq(with_db(dir, {"dead-letters", "--replay", "--id", "7"})).exit_code == 1);
}

TEST_CASE("reindex makes rows written by hand searchable", "[cli]") {
  TempDir dir;
  write_file(dir / "seed.jsonl", kSeed);
  run_customeriq(with_db(dir, {"ingest", (dir / "seed.jsonl").string()}));
  auto sqlite = run_process("/usr/bin/sqlite3", {(dir / "db.sqlite").string(),
      "INSERT INTO customer_knowledge(customer_id, content) VALUES ('cust_001', 'Allergic to latex')"});
  REQUIRE(sqlite.exit_code == 0);
  CHECK(Json::parse(run_customeriq(with_db(dir, {"search", "latex"})).out).empty());
  auto reindex = run_customeriq(with_db(dir, {"reindex"}));
  CHECK(reindex.exit_code == 0);
  CHECK_THAT(reindex.out, Catch::StartsWith("rebuilt the search index of "));
  CHECK(Json::parse(run_customeriq(with_db(dir, {"search", "latex"})).out).size() == 1);
}

TEST_CASE("an empty --db or CUSTOMERIQ_DB is a usage error, not SQLite's temporary database", "[cli]") {
  TempDir dir;
  write_file(dir / "seed.jsonl", kSeed);
  const std::string seed = (dir / "seed.jsonl").string();
  ProcessOptions home;
  home.env["HOME"] = dir.path().string();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--db", "", "ingest", seed}, {"ingest", seed, "--db", ""}, {"ingest", seed, "--db="},
           {"--db", "", "profile", "cust_001"}, {"--db", "", "reindex"}}) {
    auto result = run_customeriq(args, home);
    INFO(args[0] << " " << args[1] << " " << args[2] << ": " << result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::StartsWith("customeriq: --db is empty"));
    CHECK(result.out.empty());
  }

  ProcessOptions empty_variable = home;
  empty_variable.env["CUSTOMERIQ_DB"] = "";
  auto from_env = run_customeriq({"ingest", seed}, empty_variable);
  CHECK(from_env.exit_code == 2);
  CHECK_THAT(from_env.err, Catch::StartsWith("customeriq: CUSTOMERIQ_DB is set but empty"));
  CHECK(from_env.out.empty());
  // Not the default database either.
  CHECK_FALSE(std::filesystem::exists(dir / ".customeriq"));
  // --db wins over the empty variable.
  CHECK(run_customeriq(with_db(dir, {"ingest", seed}), empty_variable).exit_code == 0);

  auto empty_pipeline = run_customeriq(with_db(dir, {"--pipeline", "", "validate"}), home);
  CHECK(empty_pipeline.exit_code == 2);
  CHECK_THAT(empty_pipeline.err, Catch::StartsWith("customeriq: --pipeline is empty"));
  ProcessOptions empty_pipeline_variable = home;
  empty_pipeline_variable.env["CUSTOMERIQ_PIPELINE"] = "";
  auto pipeline_from_env = run_customeriq(with_db(dir, {"ingest", seed}), empty_pipeline_variable);
  CHECK(pipeline_from_env.exit_code == 2);
  CHECK_THAT(pipeline_from_env.err, Catch::StartsWith("customeriq: CUSTOMERIQ_PIPELINE is set but empty"));
}

TEST_CASE("exit codes: 1 not found, 2 usage or configuration, 3 the database cannot be used", "[cli]") {
  TempDir dir;
  write_file(dir / "seed.jsonl", kSeed);
  const std::string seed = (dir / "seed.jsonl").string();
  REQUIRE(run_customeriq(with_db(dir, {"ingest", seed})).exit_code == 0);

  // 1: what was asked for is not there.
  CHECK(run_customeriq(with_db(dir, {"profile", "cust_999"})).exit_code == 1);
  CHECK(run_customeriq(with_db(dir, {"dead-letters", "--replay", "--id", "7"})).exit_code == 1);

  // 2: the command line or the configuration is wrong.
  CHECK(run_customeriq(with_db(dir, {"profile"})).exit_code == 2);
  ProcessOptions threshold;
  threshold.env["NATS_SUMMARIZE_THRESHOLD"] = "lots";
  auto bad_variable = run_customeriq(with_db(dir, {"profile", "cust_001"}), threshold);
  CHECK(bad_variable.exit_code == 2);
  CHECK_THAT(bad_variable.err, Catch::Contains("NATS_SUMMARIZE_THRESHOLD=lots"));
  write_file(dir / "bad.yaml", "handlers:\n  - plugin: nonexistent\n");
  CHECK(run_customeriq(with_db(dir, {"--pipeline", (dir / "bad.yaml").string(), "ingest", seed})).exit_code == 2);
  TempDir with_dotenv;
  write_file(with_dotenv / ".env", "this line is not KEY=VALUE\n");
  ProcessOptions in_folder;
  in_folder.working_directory = with_dotenv.path();
  auto bad_dotenv = run_customeriq(with_db(dir, {"profile", "cust_001"}), in_folder);
  CHECK(bad_dotenv.exit_code == 2);
  CHECK_THAT(bad_dotenv.err, Catch::StartsWith("customeriq: .env:1: expected KEY=VALUE"));

  // 3: the database cannot be opened or used, for every command that uses it.
  const std::string not_a_database = (dir / "notes.txt").string();
  write_file(not_a_database, "Meeting notes, not a database. " + std::string(4096, 'x') + "\n");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"profile", "cust_001"}, {"search", "bluetooth"}, {"ingest", seed}, {"dead-letters"},
           {"dead-letters", "--replay"}, {"reindex"}}) {
    std::vector<std::string> full{"--db", not_a_database};
    full.insert(full.end(), args.begin(), args.end());
    auto result = run_customeriq(full);
    INFO(args[0] << ": " << result.err);
    CHECK(result.exit_code == 3);
    CHECK_THAT(result.err, Catch::StartsWith("customeriq: "));
    CHECK(result.out.empty());
  }
  CHECK(read_file(not_a_database).rfind("Meeting notes, not a database.", 0) == 0);
  CHECK(run_customeriq({"--db", (dir / "missing.db").string(), "search", "x"}).exit_code == 3);
}

TEST_CASE("--help lists the exit codes, for the program and every command", "[cli]") {
  auto help = run_customeriq({"--help"});
  REQUIRE(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("\nexit codes:\n"));
  for (const char* code : {"\n  0  ", "\n  1  ", "\n  2  ", "\n  3  "}) CHECK_THAT(help.out, Catch::Contains(code));
  for (const char* command :
       {"ingest", "profile", "search", "validate", "plugins", "dead-letters", "reindex", "serve", "publish"}) {
    INFO(command);
    auto command_help = run_customeriq({command, "--help"});
    CHECK(command_help.exit_code == 0);
    CHECK_THAT(command_help.out, Catch::Contains("\nexit codes: 0 "));
  }
}

TEST_CASE("--help says what a command's own --help gives, in a whole sentence", "[cli]") {
  auto help = run_customeriq({"--help"});
  CHECK_THAT(help.out, Catch::Contains("`customeriq COMMAND --help` for a command's\n"
                                            "                     options and exit codes\n"));
  // validate stops at the first error; the help must not promise every error.
  auto validate = run_customeriq({"validate", "--help"});
  CHECK_THAT(validate.out, !Catch::Contains("each error"));
  CHECK_THAT(validate.out, Catch::Contains("the first error"));
}

TEST_CASE("the README documents every command of --help", "[cli]") {
  const std::string readme = read_file(source_dir() / "README.md");
  auto help = run_customeriq({"--help"});
  REQUIRE(help.exit_code == 0);
  const auto commands_start = help.out.find("commands:\n");
  const auto commands_end = help.out.find("\n\n", commands_start);
  REQUIRE(commands_start != std::string::npos);
  std::istringstream lines(help.out.substr(commands_start, commands_end - commands_start));
  std::string line;
  std::getline(lines, line);  // "commands:"
  int commands = 0;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    INFO(name);
    CHECK_THAT(readme, Catch::Contains("| `" + name));
    ++commands;
  }
  CHECK(commands == 17);
}
