// The customer data lifecycle through the real binary, the default
// pipeline's real plugins and real database files: merge and unmerge,
// erasure and suppression, the audit trail, rebuild and --check.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <SQLiteCpp/Database.h>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

using namespace customeriq::test;
using Json = nlohmann::json;

namespace {

const char* const kJaneEvents = R"(
{"event_id":"j1","event_type":"support_ticket","timestamp":1734300000,"source_service":"desk","data":{"email":"jane@example.com","ticket_id":"T-1","title":"Screen flickers","description":"The screen flickers on boot","customer_name":"Jane Doe"}}
{"event_id":"j2","customer_id":"cust_123","event_type":"purchase","timestamp":1734200000,"source_service":"shop","data":{"purchase_id":"ord_9","product_name":"Laptop","quantity":1,"price":1200,"total":1200,"customer_name":"Jane D."}}
{"event_id":"j3","event_type":"profile_update","timestamp":1734300500,"data":{"email":"jane@example.com","phone":"+1 555 0100"}}
{"event_id":"o1","customer_id":"cust_other","event_type":"note","timestamp":1734300600,"data":{"email":"other@example.com","content":"Prefers phone calls"}}
)";
const char* const kFromId = "cust_84609f278fcda008";  // derived from jane@example.com

struct Store {
  TempDir dir;
  std::filesystem::path db = dir / "db.sqlite";

  ProcessResult run(std::vector<std::string> args, std::optional<std::string> input = std::nullopt) {
    args.insert(args.begin(), {"--db", db.string()});
    ProcessOptions options;
    options.stdin_text = std::move(input);
    return run_customeriq(args, options);
  }
  Json run_json(std::vector<std::string> args) {
    auto result = run(std::move(args));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return Json::parse(result.out);
  }
  void ingest(const std::string& events) {
    auto result = run({"ingest", "-", "--quiet"}, events);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
  }
  std::string rows(const std::string& sql) {
    SQLite::Database connection(db.string(), SQLite::OPEN_READONLY);
    return rows_as_text(connection, sql);
  }
  // Every profile row, in key order: what a merge and its undo must keep.
  std::string profile_tables() {
    return rows("SELECT id, name, email, phone, company, status, customer_since, lifetime_value, tags, custom_fields, "
                "created_at, updated_at, search_rowid FROM customers ORDER BY id") +
           "\n--\n" + rows("SELECT * FROM customer_events ORDER BY id") + "\n--\n" +
           rows("SELECT * FROM purchases ORDER BY id") + "\n--\n" + rows("SELECT * FROM work_orders ORDER BY id") +
           "\n--\n" + rows("SELECT * FROM customer_knowledge ORDER BY id") + "\n--\n" +
           rows("SELECT * FROM processed_events ORDER BY idempotency_key") + "\n--\n" +
           rows("SELECT * FROM customer_aliases ORDER BY kind, alias") + "\n--\n" +
           rows("SELECT rowid, name, email, company FROM customers_fts ORDER BY rowid");
  }
  std::string search_hits(const std::string& words, const std::string& customer) {
    auto result = run({"search", words, "--customer", customer});
    REQUIRE(result.exit_code == 0);
    std::string ids;
    for (const auto& hit : Json::parse(result.out)) ids += hit["customer_id"].get<std::string>() + ";";
    return ids;
  }
};

std::string file_bytes(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return "";
  return read_file(path);
}

}  // namespace

TEST_CASE("merge then unmerge gives back the exact rows - dry-run changes nothing", "[lifecycle][merge]") {
  Store store;
  store.ingest(kJaneEvents);
  const std::string before = store.profile_tables();

  const Json dry = store.run_json({"merge", kFromId, "cust_123", "--dry-run"});
  CHECK(dry["dry_run"] == true);
  CHECK(dry["merge_id"].is_null());
  CHECK(dry["moved"]["customer_events"] == 2);
  CHECK(dry["moved"]["processed_events"] == 2);
  CHECK(dry["filled"] == Json{"email", "phone"});
  CHECK(dry["conflicts"]["name"] == Json{{"from", "Jane Doe"}, {"into", "Jane D."}});
  CHECK(store.profile_tables() == before);
  CHECK(store.rows("SELECT count(*) FROM merges") == "0");

  const Json merged = store.run_json({"merge", kFromId, "cust_123"});
  CHECK(merged["merge_id"] == 1);
  CHECK(merged["moved"] == dry["moved"]);
  CHECK(store.rows("SELECT email, phone, lifetime_value, customer_since FROM customers WHERE id = 'cust_123'") ==
        "jane@example.com|+1 555 0100|1200.0|1734200000");
  CHECK(store.rows("SELECT count(*) FROM customers WHERE id = '" + std::string(kFromId) + "'") == "0");
  CHECK(store.rows("SELECT DISTINCT customer_id FROM customer_events WHERE id IN (SELECT timeline_id FROM audit_log WHERE idempotency_key IN ('j1','j3'))") == "cust_123");
  const Json alias = store.run_json({"profile", kFromId});
  CHECK(alias == Json{{"id", kFromId}, {"merged_into", "cust_123"}});
  CHECK(store.rows("SELECT kind FROM changes WHERE kind LIKE 'customer.merged'") == "customer.merged");
  // A second merge of the same customer is refused.
  auto again = store.run({"merge", kFromId, "cust_123"});
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.err, Catch::Contains("already merged into 'cust_123'"));

  const Json undone = store.run_json({"unmerge", "1"});
  CHECK(undone["moved_back"] == merged["moved"]);
  CHECK(store.profile_tables() == before);
  CHECK(store.run({"unmerge", "1"}).exit_code == 1);
  CHECK(store.run({"unmerge", "7"}).exit_code == 1);
  CHECK(store.run({"unmerge", "x"}).exit_code == 2);
}

TEST_CASE("a merge moves the search hits, and the unmerge moves them back", "[lifecycle][merge]") {
  Store store;
  store.ingest(kJaneEvents);
  CHECK(store.search_hits("flickers", "cust_123").empty());
  CHECK(store.search_hits("flickers", kFromId) == std::string(kFromId) + ";");
  store.run_json({"merge", kFromId, "cust_123"});
  CHECK(store.search_hits("flickers", "cust_123") == "cust_123;");
  store.run_json({"unmerge", "1"});
  CHECK(store.search_hits("flickers", "cust_123").empty());
  CHECK(store.search_hits("flickers", kFromId) == std::string(kFromId) + ";");
}

TEST_CASE("events for a merged id or email land on the survivor and go back with the unmerge", "[lifecycle][merge]") {
  Store store;
  store.ingest(kJaneEvents);
  store.run_json({"merge", kFromId, "cust_123"});
  store.ingest(std::string(R"({"event_id":"a1","customer_id":")") + kFromId +
               R"(","event_type":"purchase","timestamp":1734400000,"data":{"purchase_id":"ord_10","product_name":"Mouse","total":25}})" "\n"
               R"({"event_id":"a2","event_type":"note","timestamp":1734400100,"data":{"email":"JANE@example.com","content":"Prefers email contact"}})" "\n"
               R"({"event_id":"a3","customer_id":"cust_123","event_type":"note","timestamp":1734400200,"data":{"content":"Asked for an invoice"}})" "\n");
  CHECK(store.rows("SELECT customer_id FROM purchases WHERE id = 'ord_10'") == "cust_123");
  CHECK(store.rows("SELECT lifetime_value FROM customers WHERE id = 'cust_123'") == "1225.0");
  CHECK(store.rows("SELECT count(*) FROM customer_knowledge WHERE customer_id = 'cust_123'") == "2");

  store.run_json({"unmerge", "1"});
  CHECK(store.rows("SELECT customer_id FROM purchases WHERE id = 'ord_10'") == kFromId);
  CHECK(store.rows("SELECT content FROM customer_knowledge WHERE customer_id = '" + std::string(kFromId) + "'") ==
        "Prefers email contact");
  CHECK(store.rows("SELECT content FROM customer_knowledge WHERE customer_id = 'cust_123'") == "Asked for an invoice");
  CHECK(store.rows("SELECT id, lifetime_value FROM customers WHERE id IN ('cust_123', '" + std::string(kFromId) +
                   "') ORDER BY id") ==
        std::string("cust_123|1200.0\n") + kFromId + "|25.0");
  CHECK(store.rows("SELECT count(*) FROM customer_aliases") == "0");
  CHECK(store.rows("SELECT customer_id FROM processed_events WHERE idempotency_key IN ('a1', 'a2') GROUP BY customer_id") == kFromId);
}

TEST_CASE("identity.auto_merge merges the customers an event's id and email name", "[lifecycle][merge]") {
  Store store;
  const auto pipeline = store.dir / "auto_merge.yaml";
  std::string yaml = read_file(source_dir() / "pipelines" / "default.yaml");
  REQUIRE(yaml.find("auto_merge: false") != std::string::npos);
  yaml.replace(yaml.find("auto_merge: false"), 17, "auto_merge: true");
  write_file(pipeline, yaml);
  store.ingest(R"({"event_id":"b1","event_type":"note","timestamp":1734300000,"data":{"email":"bo@example.com","content":"Called once"}})" "\n");
  auto ingest = store.run({"--pipeline", pipeline.string(), "ingest", "-", "--quiet"},
                          R"({"event_id":"b2","customer_id":"cust_bo","event_type":"note","timestamp":1734300100,"data":{"email":"bo@example.com","content":"Has an account"}})" "\n");
  INFO(ingest.err);
  REQUIRE(ingest.exit_code == 0);
  CHECK(store.rows("SELECT id FROM customers") == "cust_bo");
  CHECK(store.rows("SELECT count(*) FROM customer_knowledge WHERE customer_id = 'cust_bo'") == "2");
  CHECK(store.rows("SELECT json_extract(detail, '$.automatic') FROM audit_log WHERE kind = 'merge'") == "1");
}

TEST_CASE("erase leaves no row, search hit or byte of the email - later events are suppressed", "[lifecycle][erase]") {
  Store store;
  store.ingest(kJaneEvents);
  store.ingest(R"({"event_id":"bad","event_type":"purchase","data":{"email":"jane@example.com","total":"a lot"}})" "\n");
  store.run_json({"merge", kFromId, "cust_123"});
  const std::string events = store.rows("SELECT count(*) FROM customer_events WHERE customer_id = 'cust_123'");
  const std::string purchases = store.rows("SELECT count(*) FROM purchases WHERE customer_id = 'cust_123'");
  REQUIRE(file_bytes(store.db).find("jane@example.com") != std::string::npos);

  const Json receipt = store.run_json({"erase", kFromId});  // an alias erases its survivor
  CHECK(receipt["erasure_id"] == 1);
  CHECK(receipt["wal_checkpointed"] == true);
  CHECK(std::to_string(receipt["removed"]["customer_events"].get<int>()) == events);
  CHECK(std::to_string(receipt["removed"]["purchases"].get<int>()) == purchases);
  CHECK(receipt["removed"]["customers"] == 1);
  CHECK(receipt["removed"]["dead_letters"] == 1);
  CHECK(receipt["removed"]["merges"] == 1);
  CHECK(receipt["identifier_hashes"].size() == 3);  // two ids, one email
  CHECK(receipt.dump().find("jane") == std::string::npos);

  for (const char* table : {"customer_events", "purchases", "work_orders", "customer_knowledge", "processed_events"})
    CHECK(store.rows(std::string("SELECT count(*) FROM ") + table + " WHERE customer_id IN ('cust_123', '" + kFromId + "')") == "0");
  CHECK(store.rows("SELECT count(*) FROM customers WHERE id IN ('cust_123', '" + std::string(kFromId) + "')") == "0");
  CHECK(store.rows("SELECT count(*) FROM customer_aliases") == "0");
  CHECK(store.rows("SELECT count(*) FROM dead_letters") == "0");
  CHECK(store.search_hits("flickers", "cust_123").empty());
  CHECK(Json::parse(store.run({"search", "flickers"}).out).empty());
  CHECK(Json::parse(store.run({"search", "jane"}).out).empty());
  CHECK(file_bytes(store.db).find("jane@example.com") == std::string::npos);
  CHECK(file_bytes(store.db.string() + "-wal").find("jane@example.com") == std::string::npos);
  // The other customer is untouched.
  CHECK(store.rows("SELECT count(*) FROM customer_knowledge WHERE customer_id = 'cust_other'") == "1");

  const Json stored = store.run_json({"--log-level", "off", "audit", "cust_123"});
  CHECK(stored["erasures"].size() == 1);
  CHECK(stored["items"].empty());

  auto suppressed = store.run({"ingest", "-"}, R"({"event_id":"s1","event_type":"note","data":{"email":"Jane@Example.com","content":"back again"}})" "\n"
                                               R"({"event_id":"s2","customer_id":"cust_123","event_type":"note","data":{"content":"still here"}})" "\n");
  CHECK(suppressed.exit_code == 0);
  CHECK_THAT(suppressed.out, Catch::Contains("0 applied") && Catch::Contains("2 suppressed"));
  CHECK_THAT(suppressed.err, Catch::Contains("its customer was erased"));
  CHECK(suppressed.err.find("jane") == std::string::npos);
  CHECK(store.rows("SELECT count(*) FROM customers") == "1");
  CHECK(store.rows("SELECT reason, length(raw) FROM dead_letters ORDER BY id") == "suppressed|0\nsuppressed|0");
  CHECK(file_bytes(store.db).find("back again") == std::string::npos);

  const Json receipt_again = Json::parse(store.run({"--log-level", "off", "audit", "cust_123"}).out)["erasures"][0];
  CHECK(receipt_again["removed"] == receipt["removed"]);
  CHECK(store.run_json({"unsuppress", "jane@example.com"}) == Json{{"unsuppressed", 1}});
  store.ingest(R"({"event_id":"s3","event_type":"note","data":{"email":"jane@example.com","content":"welcome back"}})" "\n");
  CHECK(store.rows("SELECT count(*) FROM customer_knowledge WHERE content = 'welcome back'") == "1");
  CHECK(store.run_json({"unsuppress", "--erasure", "1"}) == Json{{"unsuppressed", 2}});
  CHECK(store.run({"erase", "cust_nobody"}).exit_code == 1);
}

TEST_CASE("every outcome leaves an audit row, and audit lists a customer's history", "[lifecycle][audit]") {
  Store store;
  store.ingest(kJaneEvents);
  store.ingest(R"({"event_id":"j2","customer_id":"cust_123","event_type":"purchase","timestamp":1734200000,"data":{"purchase_id":"ord_9","product_name":"Laptop","total":1200}})" "\n"
               R"({"event_id":"bad","customer_id":"cust_123","event_type":"purchase","data":{"total":"a lot"}})" "\n");
  store.run_json({"merge", kFromId, "cust_123"});
  store.run_json({"erase", "cust_other"});
  store.ingest(R"({"event_id":"o2","customer_id":"cust_other","event_type":"note","data":{"content":"again"}})" "\n");
  CHECK(store.rows("SELECT outcome, count(*) FROM audit_log GROUP BY outcome ORDER BY outcome") ==
        "applied|3\ndead_lettered|1\nduplicate|1\nerased|1\nmerged|1\nsuppressed|1");
  CHECK(store.rows("SELECT count(*) FROM audit_log WHERE customer_id = 'cust_other' OR raw LIKE '%other@%'") == "0");

  const Json trail = store.run_json({"audit", "cust_123"});
  std::vector<std::string> outcomes;
  for (const auto& item : trail["items"]) outcomes.push_back(item["outcome"].get<std::string>());
  // Newest first: the merge, the duplicate, then the events of both customers.
  CHECK(outcomes == std::vector<std::string>{"merged", "duplicate", "applied", "applied", "applied"});
  CHECK(trail["items"][1]["idempotency_key"] == "j2");
  CHECK(trail["items"][0]["detail"]["merge_id"] == 1);
  const Json page = store.run_json({"audit", "cust_123", "--limit", "2"});
  CHECK(page["items"].size() == 2);
  CHECK(store.run_json({"audit", "cust_123", "--before", std::to_string(page["next_before"].get<int>())})["items"].size() == 3);
  CHECK(store.run_json({"audit", kFromId})["merged_into"] == "cust_123");
  CHECK(store.run({"audit", "cust_nobody"}).exit_code == 1);
}

namespace {

// The events of a golden case file, and its environment.
struct GoldenEvents {
  std::string events;
  std::map<std::string, std::string> env;
  bool uses_database = false;
};

GoldenEvents golden_events(const std::filesystem::path& file) {
  GoldenEvents golden;
  std::istringstream in(read_file(file));
  bool in_events = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("env: ", 0) == 0) {
      const auto equals = line.find('=');
      golden.env[line.substr(5, equals - 5)] = line.substr(equals + 1);
    }
    if (line.rfind("database:", 0) == 0) golden.uses_database = true;
    if (line == "plugin_path: tests/plugins") golden.env["CUSTOMERIQ_PLUGIN_DIR"] = test_plugin_dir().string();
    if (line == "events:") in_events = true;
    else if (in_events && !line.empty() && line[0] == '{') golden.events += line + "\n";
    else if (in_events && !line.empty()) in_events = false;
  }
  return golden;
}

}  // namespace

TEST_CASE("rebuild --check finds no difference on the golden cases, and finds an injected one", "[lifecycle][rebuild]") {
  int cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir() / "tests" / "golden")) {
    if (entry.path().extension() != ".test") continue;
    const GoldenEvents golden = golden_events(entry.path());
    if (golden.uses_database || golden.events.empty()) continue;  // adopted seed rows are not replayed (LIFECYCLE.md)
    INFO(entry.path().filename().string());
    Store store;
    std::vector<std::string> pipeline;
    if (auto yaml = std::filesystem::path(entry.path()).replace_extension(".yaml"); std::filesystem::exists(yaml))
      pipeline = {"--pipeline", yaml.string()};
    ProcessOptions options;
    options.env = golden.env;
    options.stdin_text = golden.events;
    auto args = pipeline;
    args.insert(args.begin(), {"--db", store.db.string()});
    auto ingest_args = args;
    ingest_args.insert(ingest_args.end(), {"ingest", "-", "--quiet"});
    REQUIRE(run_customeriq(ingest_args, options).exit_code == 0);
    options.stdin_text.reset();
    auto check_args = args;
    check_args.insert(check_args.end(), {"rebuild", "--check", "--quiet"});
    auto check = run_customeriq(check_args, options);
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
    CHECK_THAT(check.out, Catch::StartsWith("{\n  \"differences\": 0,"));
    ++cases;
  }
  CHECK(cases >= 6);

  Store store;
  store.ingest(kJaneEvents);
  store.run_json({"merge", kFromId, "cust_123"});
  store.ingest(R"({"event_id":"x1","event_type":"note","data":{"email":"jane@example.com","content":"no timestamp"}})" "\n");
  store.run_json({"unmerge", "1"});
  store.run_json({"merge", kFromId, "cust_123"});
  auto clean = store.run({"rebuild", "--check", "--quiet"});
  INFO(clean.out << clean.err);
  CHECK(clean.exit_code == 0);
  {
    SQLite::Database db(store.db.string(), SQLite::OPEN_READWRITE);
    db.exec("UPDATE purchases SET total = 1300 WHERE id = 'ord_9'");
  }
  auto check = store.run({"rebuild", "--check", "--quiet"});
  CHECK(check.exit_code == 1);
  CHECK_THAT(check.out, Catch::Contains(R"({"only_in":"live","row":{)") && Catch::Contains(R"("total":1300.0)"));
  CHECK_THAT(check.out, Catch::Contains(R"("purchases": {
      "live_only": 1,
      "rebuilt_only": 1
    })"));
}

TEST_CASE("rebuild --into replays history through a changed pipeline and resumes where it stopped", "[lifecycle][rebuild]") {
  Store store;
  store.ingest(kJaneEvents);
  store.ingest(R"({"event_id":"long","customer_id":"cust_123","event_type":"support_ticket","timestamp":1734500000,"data":{"ticket_id":"T-2","title":"Battery","description":")" +
               std::string(300, 'x') + R"( The battery drains overnight. It was replaced once."}})" "\n");
  const auto rebuilt = store.dir / "rebuilt.db";
  auto run = store.run({"rebuild", "--into", rebuilt.string(), "--quiet"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const Json summary = Json::parse(run.out);
  CHECK(summary["events"] == 5);
  CHECK(summary["applied"] == 5);
  CHECK(summary["resumed_after"] == 0);
  auto again = store.run({"rebuild", "--into", rebuilt.string(), "--quiet"});
  REQUIRE(again.exit_code == 0);
  CHECK(Json::parse(again.out)["events"] == 0);
  CHECK(Json::parse(again.out)["resumed_after"].get<int>() >= 5);
  CHECK(store.run({"rebuild", "--into", store.db.string()}).exit_code == 1);

  // A shorter summary threshold rewrites the long description.
  const auto pipeline = store.dir / "short.yaml";
  std::string yaml = read_file(source_dir() / "pipelines" / "default.yaml");
  yaml.replace(yaml.find("threshold: 500"), 14, "threshold: 100");
  write_file(pipeline, yaml);
  const auto summarized = store.dir / "summarized.db";
  REQUIRE(store.run({"rebuild", "--into", summarized.string(), "--pipeline", pipeline.string(), "--quiet"}).exit_code == 0);
  SQLite::Database db(summarized.string(), SQLite::OPEN_READONLY);
  CHECK(rows_as_text(db, "SELECT length(description) <= 100 FROM customer_events WHERE event_type = 'support_ticket' AND customer_id = 'cust_123'") == "1");
  auto differs = store.run({"rebuild", "--check", "--pipeline", pipeline.string(), "--quiet"});
  CHECK(differs.exit_code == 1);
}
