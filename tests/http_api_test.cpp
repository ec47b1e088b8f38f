// `customeriq serve`'s HTTP API, end to end: the real binary on a free
// loopback port, a real SQLite file, events through the real pipeline and
// plugins (POST /v1/events, or NATS), a real nats-server where NATS matters.
#include <catch2/catch.hpp>

#include <fstream>

#include <signal.h>

#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/nats_fixture.hpp"

using namespace customeriq::test;
using Json = nlohmann::json;

namespace {

using Env = std::map<std::string, std::string>;

// `customeriq serve` with its HTTP API on a free port (NATS off unless env
// turns it on); stderr in dir/<name>.err.
struct ApiService {
  explicit ApiService(const TempDir& dir, Env env = {}, const std::string& name = "serve")
      : database(dir / "customers.db") {
    env.try_emplace("CUSTOMERIQ_DB", database.string());
    env.try_emplace("CUSTOMERIQ_HTTP_ADDR", "127.0.0.1:0");
    env.try_emplace("NATS_ENABLED", "false");
    process = std::make_unique<ChildProcess>(CUSTOMERIQ_BINARY, std::vector<std::string>{"serve"},
                                             customeriq_env(dir, std::move(env)), dir / name);
    const bool listening = process->wait_for_log("[HTTP] Listening on http://127.0.0.1:", 30s);
    INFO(process->err());
    REQUIRE(listening);
    std::smatch match;
    const std::string log = process->err();
    REQUIRE(std::regex_search(log, match, std::regex(R"(\[HTTP\] Listening on http://127\.0\.0\.1:(\d+))")));
    port = static_cast<std::uint16_t>(std::stoi(match[1]));
    REQUIRE(port != 0);
  }

  HttpReply get(const std::string& target, const HttpHeaders& headers = {}) const {
    return http_request(port, "GET", target, {}, headers);
  }
  Json get_json(const std::string& target, int status = 200) const {
    const auto reply = get(target);
    INFO(target << " -> " << reply.status << " " << reply.body);
    REQUIRE(reply.status == status);
    return Json::parse(reply.body);
  }
  // POST /v1/events; the outcome JSON.
  Json post_event(const std::string& body, const HttpHeaders& headers = {}) const {
    const auto reply = http_request(port, "POST", "/v1/events", body, headers);
    INFO(body.substr(0, 200) << " -> " << reply.status << " " << reply.body);
    REQUIRE(reply.status == 200);
    return Json::parse(reply.body);
  }
  Json post_event(const Json& event) const { return post_event(event.dump()); }

  int stop() {
    process->signal(SIGTERM);
    const auto code = process->wait_for(30s);
    INFO(process->err());
    REQUIRE(code.has_value());
    return *code;
  }

  std::filesystem::path database;
  std::unique_ptr<ChildProcess> process;
  std::uint16_t port = 0;
};

Json timeline_event(const std::string& customer, int n, std::int64_t timestamp) {
  return {{"customer_id", customer},
          {"event_type", "support_ticket"},
          {"event_id", customer + "-evt-" + std::to_string(n)},
          {"timestamp", timestamp},
          {"data", {{"ticket_id", "TKT-" + std::to_string(n)}, {"title", "Ticket " + std::to_string(n)},
                    {"description", "Bluetooth pairing fails again"}, {"status", "open"}}}};
}

const char* kSeedPurchase =
    R"({"customer_id":"cust_001","event_type":"purchase","timestamp":1734134400,"source_service":"e-commerce-service","data":{"purchase_id":"ord_12345","product_name":"Wireless Headphones Pro","product_sku":"WHP-2000","quantity":1,"price":299.99,"total":299.99,"warranty_expires":1765670400,"customer_name":"John Smith","email":"john.smith@example.com"}})";
const char* kSeedTicket =
    R"({"customer_id":"cust_001","event_type":"support_ticket","timestamp":1734220800,"source_service":"support-system","data":{"ticket_id":"TKT-5678","title":"Product not working","description":"Bluetooth pairing is inconsistent...","status":"open","priority":"high","category":"technical","important":true,"save_as_memory":true}})";
const char* kSeedRepair =
    R"({"customer_id":"cust_001","event_type":"repair","timestamp":1734307200,"source_service":"repair-service","data":{"work_order_id":"WO-9999","order_type":"repair","issue_description":"Bluetooth module needs replacement","status":"open","priority":"medium","assigned_to":"technician_05","product_id":"WHP-2000"}})";

void post_seed_events(const ApiService& service) {
  for (const char* event : {kSeedPurchase, kSeedTicket, kSeedRepair})
    CHECK(service.post_event(std::string(event))["outcome"] == "applied");
}

std::string error_code_of(const HttpReply& reply) { return Json::parse(reply.body)["error"]["code"]; }

}  // namespace

TEST_CASE("http api: serve runs the HTTP API alone when NATS is disabled, and refuses when both are off",
          "[http_api]") {
  TempDir dir;
  {
    ApiService service(dir);
    CHECK(service.get_json("/livez") == Json{{"status", "ok"}});
    const Json ready = service.get_json("/readyz");
    CHECK(ready["status"] == "ready");
    CHECK(ready["checks"]["nats"] == "disabled");
    CHECK(ready["checks"]["database"] == "ok");
    CHECK(ready["checks"]["writer"] == "ok");
    CHECK(service.stop() == 0);
  }
  auto neither = run_process(CUSTOMERIQ_BINARY, {"serve"},
                             customeriq_env(dir, {{"CUSTOMERIQ_DB", (dir / "db").string()},
                                                  {"CUSTOMERIQ_HTTP_ADDR", ""}}));
  CHECK(neither.exit_code == 2);
  CHECK_THAT(neither.err, Catch::Contains("NATS_ENABLED=true") && Catch::Contains("CUSTOMERIQ_HTTP_ADDR"));

  auto malformed = run_process(CUSTOMERIQ_BINARY, {"serve"},
                               customeriq_env(dir, {{"CUSTOMERIQ_DB", (dir / "db").string()},
                                                    {"CUSTOMERIQ_HTTP_ADDR", "127.0.0.1:99999"}}));
  CHECK(malformed.exit_code == 2);
  CHECK_THAT(malformed.err, Catch::Contains("CUSTOMERIQ_HTTP_ADDR=127.0.0.1:99999"));

  TakenPort taken;
  auto busy = run_process(CUSTOMERIQ_BINARY, {"serve"},
                          customeriq_env(dir, {{"CUSTOMERIQ_DB", (dir / "db").string()},
                                               {"CUSTOMERIQ_HTTP_ADDR", "127.0.0.1:" + std::to_string(taken.port())}}));
  CHECK(busy.exit_code == 2);
  CHECK_THAT(busy.err, Catch::Contains("cannot listen on 127.0.0.1:" + std::to_string(taken.port())));
}

TEST_CASE("http api: errors are JSON with the right status, every response has a Request-Id", "[http_api]") {
  TempDir dir;
  ApiService service(dir);
  const auto unknown = service.get("/v2/nothing");
  CHECK(unknown.status == 404);
  CHECK(error_code_of(unknown) == "not_found");
  CHECK_FALSE(unknown.header("request-id").empty());

  const auto wrong_method = http_request(service.port, "DELETE", "/v1/search?q=x");
  CHECK(wrong_method.status == 405);
  CHECK(error_code_of(wrong_method) == "method_not_allowed");
  CHECK(wrong_method.header("allow") == "GET");
  CHECK(http_request(service.port, "GET", "/v1/events").status == 405);

  const auto unknown_parameter = service.get("/v1/search?q=x&limt=5");
  CHECK(unknown_parameter.status == 400);
  CHECK_THAT(Json::parse(unknown_parameter.body)["error"]["message"].get<std::string>(), Catch::Contains("limt"));

  const auto no_customer = service.get("/v1/customers/nobody");
  CHECK(no_customer.status == 404);
  CHECK(error_code_of(no_customer) == "not_found");
  CHECK_FALSE(no_customer.header("request-id").empty());
}

TEST_CASE("http api: a profile is the CLI's profile, ids are percent-decoded", "[http_api]") {
  TempDir dir;
  ApiService service(dir);
  post_seed_events(service);
  Json unicode = timeline_event("jane doe.é/1", 1, 1734400000);
  CHECK(service.post_event(unicode)["outcome"] == "applied");

  const Json profile = service.get_json("/v1/customers/cust_001");
  auto cli = run_customeriq({"--db", service.database.string(), "profile", "cust_001"});
  REQUIRE(cli.exit_code == 0);
  CHECK(profile == Json::parse(cli.out));
  CHECK(profile["customer"]["name"] == "John Smith");
  CHECK(profile["purchases"].size() == 1);
  CHECK(profile["work_orders"].size() == 1);

  const Json limited = service.get_json("/v1/customers/cust_001?timeline_limit=1");
  CHECK(limited["timeline"].size() == 1);
  CHECK(service.get("/v1/customers/cust_001?timeline_limit=x").status == 400);

  const Json decoded = service.get_json("/v1/customers/jane%20doe.%C3%A9%2F1");
  CHECK(decoded["customer"]["id"] == "jane doe.é/1");
}

TEST_CASE("http api: event-types counts every type of the whole timeline, not only the newest events",
          "[http_api]") {
  TempDir dir;
  {
    std::ofstream events(dir / "events.jsonl");
    Json oldest = Json::parse(kSeedRepair);
    oldest["timestamp"] = 1000;  // older than every ticket: on no first page
    events << oldest.dump() << "\n";
    for (int i = 0; i < 210; ++i) events << timeline_event("cust_001", i, 1734400000 + i).dump() << "\n";
  }
  auto ingested = run_customeriq({"--db", (dir / "customers.db").string(), "ingest", (dir / "events.jsonl").string()});
  INFO(ingested.err);
  REQUIRE(ingested.exit_code == 0);
  ApiService service(dir);

  const Json types = service.get_json("/v1/customers/cust_001/event-types");
  CHECK(types == Json{{"items",
                       {{{"event_type", "repair"}, {"count", 1}, {"first_date", 1000}, {"last_date", 1000}},
                        {{"event_type", "support_ticket"},
                         {"count", 210},
                         {"first_date", 1734400000},
                         {"last_date", 1734400209}}}}});
  CHECK(error_code_of(service.get("/v1/customers/nobody/event-types")) == "not_found");
  CHECK(service.get("/v1/customers/cust_001/event-types?limit=3").status == 400);
}

TEST_CASE("http api: a read past CUSTOMERIQ_HTTP_READ_TIMEOUT_MS is stopped and answered 503, the service goes on",
          "[http_api]") {
  TempDir dir;
  {
    // A search that ranks 20,000 hits: about 5 ms on a quick machine.
    std::ofstream events(dir / "events.jsonl");
    for (int i = 0; i < 20000; ++i)
      events << timeline_event("cust_" + std::to_string(i % 500), i, 1734400000 + i).dump() << "\n";
  }
  auto ingested = run_customeriq({"--db", (dir / "customers.db").string(), "ingest", (dir / "events.jsonl").string()});
  INFO(ingested.err);
  REQUIRE(ingested.exit_code == 0);
  {
    ApiService service(dir, {{"CUSTOMERIQ_HTTP_READ_TIMEOUT_MS", "1"}});
    const auto stopped = service.get("/v1/search?q=bluetooth");
    CHECK(stopped.status == 503);
    CHECK(error_code_of(stopped) == "unavailable");
    CHECK_THAT(stopped.body, Catch::Contains("the read took longer than the 1 ms CUSTOMERIQ_HTTP_READ_TIMEOUT_MS allows"));
    // The read thread is free again, and the connection with it.
    CHECK(service.get("/livez").status == 200);
    CHECK(service.get("/v1/search?q=bluetooth").status == 503);
    CHECK(service.stop() == 0);
    CHECK_THAT(service.process->err(), Catch::Contains("[HTTP] A read was stopped after 1 ms"));
  }
  ApiService unhurried(dir, {}, "serve-default");
  const Json hits = unhurried.get_json("/v1/search?q=bluetooth");
  CHECK(!hits["items"].empty());
}

TEST_CASE("http api: event intake answers after the commit with the outcome", "[http_api]") {
  TempDir dir;
  ApiService service(dir);
  CHECK(service.post_event(std::string(kSeedPurchase)) == Json{{"outcome", "applied"}, {"reason", nullptr}});
  // The commit is done when the answer comes: the read sees it.
  CHECK(service.get_json("/v1/customers/cust_001/purchases")["items"].size() == 1);
  CHECK(service.post_event(std::string(kSeedPurchase))["outcome"] == "duplicate");

  const Json invalid = service.post_event(std::string("{not json"));
  CHECK(invalid["outcome"] == "dead_lettered");
  CHECK_THAT(invalid["reason"].get<std::string>(), Catch::Contains("JSON"));
  const Json no_identity = service.post_event(Json{{"event_type", "note"}, {"data", {{"content", "x"}}}});
  CHECK(no_identity["outcome"] == "dead_lettered");
  CHECK_THAT(no_identity["reason"].get<std::string>(), Catch::Contains("no customer identity"));
  auto letters = run_customeriq({"--db", service.database.string(), "dead-letters"});
  CHECK_THAT(letters.out, Catch::Contains("{not json"));

  // Without event_id, the Idempotency-Key header is the key.
  Json note = {{"customer_id", "cust_001"}, {"event_type", "note"}, {"data", {{"content", "Prefers email"}}}};
  CHECK(service.post_event(note.dump(), {{"Idempotency-Key", "note-1"}})["outcome"] == "applied");
  note["data"]["content"] = "Prefers email, really";
  CHECK(service.post_event(note.dump(), {{"Idempotency-Key", "note-1"}})["outcome"] == "duplicate");
  CHECK(service.post_event(note.dump(), {{"Idempotency-Key", "note-2"}})["outcome"] == "applied");

  const auto too_large = http_request(service.port, "POST", "/v1/events", std::string(2 << 20, ' '));
  CHECK(too_large.status == 413);
  CHECK(error_code_of(too_large) == "payload_too_large");
}

TEST_CASE("http api: event intake takes JSON only, so a web page cannot post events cross-site", "[http_api]") {
  TempDir dir;
  ApiService service(dir);
  const std::string event(kSeedPurchase);
  for (const std::string type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""}) {
    INFO("Content-Type: " << (type.empty() ? "(none)" : type));
    const auto refused = http_request(service.port, "POST", "/v1/events", event, {{"Content-Type", type}});
    CHECK(refused.status == 415);
    CHECK(error_code_of(refused) == "unsupported_media_type");
  }
  const auto untyped = http_request(service.port, "POST", "/v1/events", event, {{"Content-Type", ""}});
  CHECK_THAT(untyped.body, Catch::Contains("without a Content-Type"));
  CHECK(service.get_json("/v1/customers?q=cust_001")["items"].empty());  // nothing was kept

  for (const std::string type : {"application/json", "Application/JSON; charset=utf-8", "application/cloudevents+json"}) {
    INFO("Content-Type: " << type);
    CHECK(http_request(service.port, "POST", "/v1/events", event, {{"Content-Type", type}}).status == 200);
  }
}

TEST_CASE("http api: a bearer token guards every route but the health checks and the console, and never reaches the log",
          "[http_api]") {
  TempDir dir;
  const std::string token = "s3cret-token-value";
  ApiService service(dir, {{"CUSTOMERIQ_HTTP_TOKEN", token}, {"CUSTOMERIQ_LOG_LEVEL", "debug"}});
  CHECK(service.get("/livez").status == 200);
  CHECK(service.get("/readyz").status == 200);
  // The console's page holds no data; it asks for the token its /v1 calls need.
  for (const char* page : {"/", "/customers/cust_001", "/console/app.js"}) {
    INFO(page);
    CHECK(service.get(page).status == 200);
    // Uptime checkers probe with HEAD.
    const auto head = http_request(service.port, "HEAD", page);
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(head.header("content-length") == std::to_string(service.get(page).body.size()));
  }
  CHECK(http_request(service.port, "HEAD", "/livez").status == 200);
  CHECK(http_request(service.port, "HEAD", "/metrics").status == 401);
  for (const char* target : {"/v1/customers/cust_001", "/metrics", "/v1/search?q=x", "/v1/stream", "/nothing"}) {
    const auto bare = service.get(target);
    INFO(target);
    CHECK(bare.status == 401);
    CHECK(error_code_of(bare) == "unauthorized");
    CHECK_THAT(bare.header("www-authenticate"), Catch::StartsWith("Bearer"));
    CHECK(service.get(target, {{"Authorization", "Bearer wrong"}}).status == 401);
  }
  CHECK(service.get("/metrics", {{"Authorization", "Bearer " + token}}).status == 200);
  CHECK(service.get("/metrics", {{"Authorization", "bearer " + token}}).status == 200);
  CHECK(http_request(service.port, "POST", "/v1/events", kSeedPurchase, {{"Authorization", "Bearer " + token}}).status ==
        200);
  CHECK(service.stop() == 0);
  CHECK_THAT(service.process->err(), !Catch::Contains(token));

  auto exposed = run_process(CUSTOMERIQ_BINARY, {"serve"},
                             customeriq_env(dir, {{"CUSTOMERIQ_DB", (dir / "db").string()},
                                                  {"CUSTOMERIQ_HTTP_ADDR", "0.0.0.0:0"}}));
  CHECK(exposed.exit_code == 2);
  CHECK_THAT(exposed.err, Catch::Contains("CUSTOMERIQ_HTTP_TOKEN"));
}

TEST_CASE("http api: CORS is closed - no Access-Control header for any origin, and a preflight is refused",
          "[http_api]") {
  TempDir dir;
  ApiService service(dir);
  const HttpHeaders from_elsewhere{{"Origin", "https://elsewhere.example"}};
  for (const char* target : {"/v1/customers/cust_001", "/v1/search?q=x", "/metrics", "/", "/livez"}) {
    INFO(target);
    const auto reply = service.get(target, from_elsewhere);
    for (const auto& [name, value] : reply.headers) CHECK_FALSE(name.starts_with("access-control-"));
  }
  const auto preflight = http_request(service.port, "OPTIONS", "/v1/events", {},
                                      {{"Origin", "https://elsewhere.example"},
                                       {"Access-Control-Request-Method", "POST"},
                                       {"Access-Control-Request-Headers", "authorization, content-type"}});
  CHECK(preflight.status == 405);
  CHECK(error_code_of(preflight) == "method_not_allowed");
  for (const auto& [name, value] : preflight.headers) CHECK_FALSE(name.starts_with("access-control-"));
  CHECK(service.stop() == 0);
}

TEST_CASE("http api: following next_cursor yields every timeline event once while events commit between pages",
          "[http_api]") {
  TempDir dir;
  ApiService service(dir);
  const std::int64_t base = 1734000000;
  std::set<std::string> expected;
  for (int i = 0; i < 130; ++i) {
    // Several events share a timestamp: the cursor must order within it.
    service.post_event(timeline_event("pager", i, base + (i / 3) * 60));
    expected.insert("Ticket " + std::to_string(i));
  }
  std::vector<std::string> seen;
  std::string cursor;
  int page = 0, late = 1000;
  for (;;) {
    const Json body = service.get_json("/v1/customers/pager/timeline?limit=50" +
                                       (cursor.empty() ? std::string() : "&cursor=" + cursor));
    std::int64_t previous = INT64_MAX;
    for (const auto& item : body["items"]) {
      seen.push_back(item["title"]);
      CHECK(item["event_date"].get<std::int64_t>() <= previous);  // newest first
      previous = item["event_date"];
    }
    ++page;
    // New events between pages: one newer than everything, one in the middle of the history.
    service.post_event(timeline_event("pager", late++, base + 100000));
    service.post_event(timeline_event("pager", late++, base + 30 * 60));
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
    REQUIRE(page < 10);
  }
  CHECK(page == 3);
  std::set<std::string> unique(seen.begin(), seen.end());
  CHECK(unique.size() == seen.size());  // nothing twice
  for (const auto& title : expected) CHECK(unique.count(title) == 1);

  CHECK(service.get_json("/v1/customers/pager/timeline?limit=5&types=note")["items"].empty());
  CHECK(service.get_json("/v1/customers/pager/timeline?limit=500&since=" + std::to_string(base) +
                         "&until=" + std::to_string(base + 60))["items"].size() == 6);
  CHECK(service.get("/v1/customers/pager/timeline?limit=501").status == 400);
  CHECK(service.get("/v1/customers/pager/timeline?limit=0").status == 400);
  CHECK(service.get("/v1/customers/pager/timeline?cursor=garbage").status == 400);
  CHECK(service.get("/v1/customers/nobody/timeline").status == 404);
}

TEST_CASE("http api: customers by email and the updated_since export, each customer once", "[http_api]") {
  TempDir dir;
  ApiService service(dir);
  post_seed_events(service);
  const Json by_email = service.get_json("/v1/customers?email=John.Smith%40Example.com");
  REQUIRE(by_email["items"].size() == 1);
  CHECK(by_email["items"][0]["id"] == "cust_001");
  CHECK(service.get_json("/v1/customers?email=nobody%40example.com")["items"].empty());

  const Json as_typed = service.get_json("/v1/customers?q=john%20smi");
  REQUIRE(as_typed["items"].size() == 1);
  CHECK(as_typed["items"][0]["id"] == "cust_001");
  CHECK(as_typed["items"][0]["matched"] == "name");
  CHECK(service.get_json("/v1/customers?q=cust_001")["items"][0]["matched"] == "id");
  CHECK(service.get("/v1/customers?q=%20").status == 400);
  CHECK(service.get("/v1/customers?q=john&email=a%40b.c").status == 400);
  CHECK(service.get("/v1/customers?q=john&limit=51").status == 400);

  for (int i = 0; i < 25; ++i) service.post_event(timeline_event("export-" + std::to_string(i), i, 1734000000));
  std::set<std::string> exported;
  std::string cursor;
  for (int pages = 0; pages < 20; ++pages) {
    const Json body = service.get_json("/v1/customers?updated_since=0&limit=7" +
                                       (cursor.empty() ? std::string() : "&cursor=" + cursor));
    for (const auto& customer : body["items"]) CHECK(exported.insert(customer["id"]).second);
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
  }
  CHECK(exported.size() == 26);
  CHECK(service.get("/v1/customers").status == 400);
  CHECK(service.get("/v1/customers?updated_since=abc").status == 400);
}

TEST_CASE("http api: purchases, work orders by status, knowledge, search", "[http_api]") {
  TempDir dir;
  ApiService service(dir);
  post_seed_events(service);
  const Json purchases = service.get_json("/v1/customers/cust_001/purchases");
  REQUIRE(purchases["items"].size() == 1);
  CHECK(purchases["items"][0]["id"] == "ord_12345");
  CHECK(service.get_json("/v1/customers/cust_001/work-orders?status=open")["items"].size() == 1);
  CHECK(service.get_json("/v1/customers/cust_001/work-orders?status=completed")["items"].empty());
  CHECK(service.get_json("/v1/customers/cust_001/knowledge")["items"].size() >= 1);
  CHECK(service.get("/v1/customers/nobody/purchases").status == 404);

  const Json hits = service.get_json("/v1/search?q=bluetooth&customer_id=cust_001");
  REQUIRE_FALSE(hits["items"].empty());
  for (const char* field : {"kind", "id", "customer_id", "title", "snippet", "rank"})
    CHECK(hits["items"][0].contains(field));
  const auto empty = service.get("/v1/search?q=%20");
  CHECK(empty.status == 400);
  const auto malformed = service.get("/v1/search?q=%22unclosed&fts=true");
  CHECK(malformed.status == 400);
  CHECK_THAT(Json::parse(malformed.body)["error"]["message"].get<std::string>(), !Catch::Contains("SQLITE"));
}

TEST_CASE("http api: the context document as JSON or markdown, within max_chars", "[http_api]") {
  TempDir dir;
  ApiService service(dir);
  post_seed_events(service);

  const Json document = service.get_json("/v1/customers/cust_001/context");
  CHECK(document["customer_id"] == "cust_001");
  CHECK(document["truncated"] == false);
  CHECK(document["omitted"] == Json::object());
  const std::string text = document["text"];
  for (const char* fact : {"# Customer cust_001: John Smith", "john.smith@example.com", "[WO-9999]", "[ord_12345]",
                           "Bluetooth pairing is inconsistent"})
    CHECK_THAT(text, Catch::Contains(fact));
  auto cli = run_customeriq({"--db", service.database.string(), "context", "cust_001", "--json"});
  REQUIRE(cli.exit_code == 0);
  // The same document everywhere (the as-of date aside, which is today's in both).
  CHECK(Json::parse(cli.out) == document);

  const auto markdown = service.get("/v1/customers/cust_001/context?format=markdown&max_chars=500");
  CHECK(markdown.status == 200);
  CHECK(markdown.header("content-type") == "text/markdown; charset=utf-8");
  CHECK_THAT(markdown.body, Catch::StartsWith("# Customer cust_001: John Smith\n"));
  std::size_t points = 0;
  for (const char c : markdown.body) points += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  CHECK(points <= 500);
  CHECK(service.get_json("/v1/customers/cust_001/context?format=json&max_chars=500")["text"] == markdown.body);

  const auto unknown = service.get("/v1/customers/nobody/context");
  CHECK(unknown.status == 404);
  CHECK(error_code_of(unknown) == "not_found");
  CHECK_THAT(Json::parse(unknown.body)["error"]["message"].get<std::string>(), Catch::Contains("nobody"));
  for (const auto& [target, message] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/customers/cust_001/context?max_chars=499", "max_chars must be an integer from 500 to 1000000, got '499'"},
           {"/v1/customers/cust_001/context?max_chars=lots", "max_chars must be an integer from 500 to 1000000, got 'lots'"},
           {"/v1/customers/cust_001/context?format=html", "format must be json or markdown, got 'html'"},
           {"/v1/customers/cust_001/context?max_char=900", "unknown query parameter 'max_char'"}}) {
    INFO(target);
    const auto refused = service.get(target);
    CHECK(refused.status == 400);
    CHECK(error_code_of(refused) == "bad_request");
    CHECK_THAT(Json::parse(refused.body)["error"]["message"].get<std::string>(), Catch::StartsWith(message));
  }
}

TEST_CASE("http api: the change stream sends full rows in commit order and resumes without loss or repeats",
          "[http_api]") {
  TempDir dir;
  ApiService service(dir);
  auto stream = std::make_unique<SseClient>(service.port, "/v1/stream");
  REQUIRE(stream->status() == 200);
  CHECK(stream->headers().at("content-type") == "text/event-stream");
  CHECK(stream->headers().at("x-accel-buffering") == "no");
  post_seed_events(service);

  std::vector<Json> received;
  std::set<std::string> kinds;
  while (auto event = stream->next(3s)) {
    const Json data = Json::parse(event->data);
    CHECK(event->id == std::to_string(data["seq"].get<std::int64_t>()));
    CHECK(event->event == data["kind"].get<std::string>());
    CHECK(data["customer_id"] == "cust_001");
    kinds.insert(event->event);
    if (!received.empty()) CHECK(data["seq"].get<std::int64_t>() > received.back()["seq"].get<std::int64_t>());
    received.push_back(data);
    if (kinds.count("work_order.upserted")) break;
  }
  CHECK(kinds.count("customer.updated"));
  CHECK(kinds.count("timeline.appended"));
  CHECK(kinds.count("purchase.upserted"));
  for (const auto& change : received) {
    if (change["kind"] == "purchase.upserted") {
      // The full row, as a read returns it.
      CHECK(change["row"] == service.get_json("/v1/customers/cust_001/purchases")["items"][0]);
    }
  }

  // Disconnect, miss some changes, resume from the last id seen.
  const std::string last_id = std::to_string(received.back()["seq"].get<std::int64_t>());
  stream.reset();
  for (int i = 0; i < 5; ++i) service.post_event(timeline_event("cust_001", i, 1734500000 + i));
  SseClient resumed(service.port, "/v1/stream", {{"Last-Event-ID", last_id}});
  std::vector<std::int64_t> seqs;
  int tickets = 0;
  while (auto event = resumed.next(3s)) {
    const Json data = Json::parse(event->data);
    seqs.push_back(data["seq"]);
    tickets += event->event == "timeline.appended" && data["row"]["title"].get<std::string>().rfind("Ticket ", 0) == 0;
    if (tickets == 5 && event->event == "customer.updated") break;
  }
  REQUIRE_FALSE(seqs.empty());
  CHECK(seqs.front() == std::stoll(last_id) + 1);
  for (std::size_t i = 1; i < seqs.size(); ++i) CHECK(seqs[i] == seqs[i - 1] + 1);
  CHECK(tickets == 5);

  // The same by query parameter, for one customer only.
  service.post_event(timeline_event("someone-else", 1, 1734500000));
  SseClient filtered(service.port, "/v1/stream?customer_id=someone-else&last_event_id=" + last_id);
  auto first = filtered.next(3s);
  REQUIRE(first);
  CHECK(Json::parse(first->data)["customer_id"] == "someone-else");

  // An id this log never had: reset, then live from the newest change.
  SseClient future(service.port, "/v1/stream", {{"Last-Event-ID", "999999999"}});
  auto reset = future.next(3s);
  REQUIRE(reset);
  CHECK(reset->event == "reset");
  CHECK(service.get("/v1/stream", {{"Last-Event-ID", "abc"}}).status == 400);
}

TEST_CASE("http api: a stream resuming from a change the retention pruned gets reset, then goes live",
          "[http_api]") {
  TempDir dir;
  const Env short_retention{{"CUSTOMERIQ_CHANGE_RETENTION_SECONDS", "1"}};
  std::int64_t last_old_seq = 0;
  {
    ApiService first(dir, short_retention, "first");
    first.post_event(timeline_event("cust_retained", 1, 1734000000));
    SseClient stream(first.port, "/v1/stream", {{"Last-Event-ID", "0"}});
    while (auto event = stream.next(3s)) last_old_seq = Json::parse(event->data)["seq"];
    REQUIRE(last_old_seq > 0);
  }
  std::this_thread::sleep_for(2100ms);  // the first changes are now older than the retention
  ApiService second(dir, short_retention, "second");
  // A writer prunes at its first commit: this one.
  second.post_event(timeline_event("cust_retained", 2, 1734000100));

  SseClient resumed(second.port, "/v1/stream", {{"Last-Event-ID", "0"}});
  auto reset = resumed.next(3s);
  REQUIRE(reset);
  CHECK(reset->event == "reset");
  const std::int64_t newest = std::stoll(reset->id);
  CHECK(newest > last_old_seq);
  second.post_event(timeline_event("cust_retained", 3, 1734000200));
  auto live = resumed.next(3s);
  REQUIRE(live);
  CHECK(Json::parse(live->data)["seq"] == newest + 1);

  // A reader that had seen everything pruned misses nothing: no reset.
  SseClient caught_up(second.port, "/v1/stream", {{"Last-Event-ID", std::to_string(last_old_seq)}});
  auto next = caught_up.next(3s);
  REQUIRE(next);
  CHECK(next->event != "reset");
  CHECK(Json::parse(next->data)["seq"] == last_old_seq + 1);
}

TEST_CASE("http api: fifty stream clients at once get every change while reads stay fast", "[http_api]") {
  TempDir dir;
  ApiService service(dir, {{"CUSTOMERIQ_SSE_HEARTBEAT_SECONDS", "1"}});
  post_seed_events(service);
  std::vector<std::unique_ptr<SseClient>> clients;
  for (int i = 0; i < 50; ++i) clients.push_back(std::make_unique<SseClient>(service.port, "/v1/stream"));
  CHECK(eventually([&] {
    return service.get("/metrics").body.find("customeriq_stream_clients 50") != std::string::npos;
  }, 5s));

  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) CHECK(service.get("/v1/customers/cust_001").status == 200);
  const auto read_time = std::chrono::steady_clock::now() - started;
  CHECK(read_time < 5s);  // 20 reads; generous on a loaded machine, fails if streams hold the server

  service.post_event(timeline_event("cust_001", 77, 1734600000));
  for (auto& client : clients) {
    bool got_it = false;
    while (auto event = client->next(5s)) {
      if (event->event == "timeline.appended" && event->data.find("Ticket 77") != std::string::npos) {
        got_it = true;
        break;
      }
    }
    CHECK(got_it);
  }
  CHECK(service.stop() == 0);  // streams open: SIGTERM still ends it
}

TEST_CASE("http api: metrics in the Prometheus text format, without customer ids", "[http_api]") {
  TempDir dir;
  ApiService service(dir);
  post_seed_events(service);
  service.post_event(std::string(kSeedPurchase));  // duplicate
  service.post_event(std::string("{bad"));         // dead letter
  service.get("/v1/customers/cust_001");
  const auto reply = service.get("/metrics");
  REQUIRE(reply.status == 200);
  CHECK_THAT(reply.header("content-type"), Catch::StartsWith("text/plain; version=0.0.4"));
  const std::string& text = reply.body;
  for (const char* line : {"customeriq_events_received_total 5", "customeriq_events_applied_total 3",
                           "customeriq_events_duplicate_total 1", "customeriq_dead_letters_total 1",
                           "customeriq_writer_queue_depth 0", "customeriq_nats_connected 0",
                           "# TYPE customeriq_commit_duration_seconds histogram",
                           "customeriq_http_requests_total{route=\"/v1/customers/{id}\",code=\"200\"} 1",
                           "customeriq_http_requests_total{route=\"/v1/events\",code=\"200\"} 5",
                           "customeriq_build_info{version="}) {
    INFO(text);
    CHECK_THAT(text, Catch::Contains(line));
  }
  CHECK_THAT(text, !Catch::Contains("cust_001"));
}

TEST_CASE("http api: readyz turns 503 within seconds when nats-server goes away, and back", "[http_api][nats]") {
  TempDir dir;
  NatsServer server(NatsServer::Options{.jetstream = false});
  ApiService service(dir, {{"NATS_ENABLED", "true"}, {"NATS_SERVERS", server.url()}});
  CHECK(eventually([&] { return service.get("/readyz").status == 200; }, 15s));
  CHECK(service.get_json("/readyz")["checks"]["nats"] == "ok");
  CHECK_THAT(service.get("/metrics").body, Catch::Contains("customeriq_nats_connected 1"));

  server.stop();
  CHECK(eventually([&] { return service.get("/readyz").status == 503; }, 5s));
  const Json not_ready = service.get_json("/readyz", 503);
  CHECK(not_ready["status"] == "not_ready");
  CHECK(not_ready["checks"]["nats"] != "ok");
  CHECK(service.get("/livez").status == 200);

  server.start();
  CHECK(eventually([&] { return service.get("/readyz").status == 200; }, 20s));
  CHECK(service.stop() == 0);
}

TEST_CASE("http api: merge, undo, erase with its receipt, and the audit trail, streamed as changes", "[http_api][lifecycle]") {
  TempDir dir;
  ApiService service(dir);
  post_seed_events(service);
  CHECK(service.post_event(Json{{"event_id", "n1"}, {"event_type", "note"},
                                {"data", {{"email", "jsmith@example.org"}, {"content", "Second account"}}}})["outcome"] ==
        "applied");
  const std::string from = service.get_json("/v1/customers?email=jsmith@example.org")["items"][0]["id"];
  SseClient stream(service.port, "/v1/stream");
  REQUIRE(stream.status() == 200);

  const auto post = [&](const std::string& target, const std::string& body) {
    return http_request(service.port, "POST", target, body, {{"Content-Type", "application/json"}});
  };
  const auto dry = post("/v1/customers/" + from + "/merge", R"({"into": "cust_001", "dry_run": true})");
  REQUIRE(dry.status == 200);
  CHECK(Json::parse(dry.body)["moved"]["customer_knowledge"] == 1);
  CHECK(service.get_json("/v1/customers/" + from)["customer"]["id"] == from);

  const auto merged = post("/v1/customers/" + from + "/merge", R"({"into": "cust_001"})");
  INFO(merged.body);
  REQUIRE(merged.status == 200);
  const std::int64_t merge_id = Json::parse(merged.body)["merge_id"];
  CHECK(service.get_json("/v1/customers/" + from) == Json{{"id", from}, {"merged_into", "cust_001"}});
  CHECK(service.get_json("/v1/customers/cust_001/knowledge")["items"].size() == 2);
  std::set<std::string> kinds;
  while (auto event = stream.next(5s)) {
    kinds.insert(event->event);
    if (event->event == "customer.merged") {
      const Json data = Json::parse(event->data);
      CHECK(data["row"]["merge_id"] == merge_id);
      CHECK(data["customer_id"] == "cust_001");
      break;
    }
  }
  CHECK(kinds.count("customer.merged"));

  CHECK(post("/v1/customers/" + from + "/merge", R"({"into": "cust_001"})").status == 409);
  CHECK(post("/v1/customers/nobody/merge", R"({"into": "cust_001"})").status == 404);
  CHECK(error_code_of(post("/v1/customers/" + from + "/merge", R"({"to": "cust_001"})")) == "bad_request");
  CHECK(error_code_of(post("/v1/customers/" + from + "/merge", "[]")) == "bad_request");
  CHECK(http_request(service.port, "POST", "/v1/customers/x/merge", R"({"into":"y"})", {{"Content-Type", "text/plain"}}).status == 415);
  CHECK(post("/v1/merges/abc/undo", "").status == 400);

  const auto undone = post("/v1/merges/" + std::to_string(merge_id) + "/undo", "");
  REQUIRE(undone.status == 200);
  CHECK(Json::parse(undone.body)["moved_back"]["customer_knowledge"] == 1);
  CHECK(post("/v1/merges/" + std::to_string(merge_id) + "/undo", "").status == 409);
  CHECK(post("/v1/merges/999/undo", "").status == 404);
  CHECK(service.get_json("/v1/customers/" + from)["customer"]["email"] == "jsmith@example.org");

  const auto outcomes_of = [&](const std::string& id) {
    std::vector<std::string> outcomes;
    const Json trail = service.get_json("/v1/customers/" + id + "/audit?limit=10");
    for (const auto& item : trail["items"]) outcomes.push_back(item["outcome"]);
    return outcomes;
  };
  CHECK(outcomes_of("cust_001") == std::vector<std::string>{"unmerged", "merged", "applied", "applied", "applied"});

  const auto put = http_request(service.port, "PUT", "/v1/customers/" + from);
  CHECK(put.status == 405);
  CHECK(put.headers.at("allow") == "GET, DELETE");
  const auto erased = http_request(service.port, "DELETE", "/v1/customers/" + from);
  INFO(erased.body);
  REQUIRE(erased.status == 200);
  const Json receipt = Json::parse(erased.body);
  CHECK(receipt["removed"]["customer_knowledge"] == 1);
  CHECK(receipt.dump().find("jsmith") == std::string::npos);
  CHECK(service.get("/v1/customers/" + from).status == 404);
  CHECK(http_request(service.port, "DELETE", "/v1/customers/" + from).status == 404);
  const Json kept = service.get_json("/v1/erasures/" + std::to_string(receipt["erasure_id"].get<std::int64_t>()));
  CHECK(kept["removed"] == receipt["removed"]);
  CHECK(kept["suppressions"] == 2);
  CHECK(service.get("/v1/erasures/77").status == 404);
  CHECK(service.get("/v1/erasures/x").status == 400);
  CHECK(service.post_event(Json{{"event_id", "n2"}, {"event_type", "note"},
                                {"data", {{"email", "jsmith@example.org"}, {"content", "Again"}}}})["outcome"] ==
        "suppressed");

  // The merge's rows named the erased customer: they went with it.
  CHECK(outcomes_of("cust_001") == std::vector<std::string>{"applied", "applied", "applied"});
  CHECK(service.get_json("/v1/customers/" + from + "/audit")["erasures"].size() == 1);
  CHECK(service.get("/v1/customers/nobody/audit").status == 404);
  CHECK(service.get("/v1/customers/cust_001/audit?limit=0").status == 400);
  CHECK(service.stop() == 0);
}
