// The MCP server without a transport: JSON-RPC framing and errors, version
// negotiation, the tools' answers and their caps, over a real SQLite file
// filled through the real pipeline and plugins. tests/node/mcp.test.mjs
// drives the same server with the official client over stdio and HTTP.
#include <catch2/catch.hpp>

#include <set>

#include "context/context_document.hpp"
#include "context/fact_text.hpp"
#include "mcp/mcp_server.hpp"
#include "mcp/mcp_tools.hpp"
#include "store/store_reader.hpp"
#include "support/store_fixture.hpp"
#include "support/test_support.hpp"

using namespace customeriq;
using customeriq::test::PipelineLoader;
using customeriq::test::TempDir;

namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kStart = 1734000000;

const char* kSeed[] = {
    R"({"customer_id":"cust_001","event_type":"purchase","timestamp":1734134400,"source_service":"e-commerce-service","data":{"purchase_id":"ord_12345","product_name":"Wireless Headphones Pro","product_sku":"WHP-2000","quantity":1,"price":299.99,"total":299.99,"warranty_expires":1765670400,"customer_name":"John Smith","email":"john.smith@example.com"}})",
    R"({"customer_id":"cust_001","event_type":"support_ticket","timestamp":1734220800,"source_service":"support-system","data":{"ticket_id":"TKT-5678","title":"Product not working","description":"Bluetooth pairing is inconsistent...","status":"open","priority":"high","category":"technical","important":true,"save_as_memory":true}})",
    R"({"customer_id":"cust_001","event_type":"repair","timestamp":1734307200,"source_service":"repair-service","data":{"work_order_id":"WO-9999","order_type":"repair","issue_description":"Bluetooth module needs replacement","status":"open","priority":"medium","assigned_to":"technician_05","product_id":"WHP-2000"}})",
};

Json ticket(const std::string& customer, int n, std::size_t description_chars) {
  return {{"customer_id", customer},
          {"event_id", customer + "-t" + std::to_string(n)},
          {"event_type", "support_ticket"},
          {"timestamp", kStart + n * 60},
          {"data",
           {{"ticket_id", "TKT-" + customer + "-" + std::to_string(n)},
            {"title", "Pairing trouble " + std::to_string(n)},
            {"description", "headset " + std::string(description_chars, 'x')},
            {"status", "open"}}}};
}

Json repair(const std::string& customer, int n, const std::string& priority, const std::string& status) {
  return {{"customer_id", customer},
          {"event_id", customer + "-r" + std::to_string(n)},
          {"event_type", "repair"},
          {"timestamp", kStart + n * kDay},
          {"data",
           {{"work_order_id", "WO-" + customer + "-" + std::to_string(n)},
            {"order_type", "repair"},
            {"issue_description", "Hinge " + std::to_string(n) + " " + std::string(600, 'h')},
            {"status", status},
            {"priority", priority},
            {"assigned_to", "technician_0" + std::to_string(n % 9)}}}};
}

// The seed's three events, a customer with 300 long tickets, and 90 work
// orders over three customers (a third of them completed).
struct McpFixture {
  TempDir dir;
  std::filesystem::path db = dir / "customers.db";
  std::unique_ptr<StoreReader> reader;
  mcp::McpServer server;
  int next_id = 1;

  McpFixture() {
    PipelineLoader loader(db);
    for (const char* event : kSeed) loader.add(Json::parse(event));
    for (int n = 0; n < 300; ++n) loader.add(ticket("cust_busy", n, 900));
    const char* priorities[] = {"low", "critical", "high", "medium"};
    for (int n = 0; n < 90; ++n)
      loader.add(repair("cust_r" + std::to_string(n % 3), n, priorities[n % 4], n % 3 == 0 ? "completed" : "open"));
    loader.flush();
    reader = std::make_unique<StoreReader>(db);
  }

  Json request(const std::string& method, Json params = Json::object()) {
    auto answer = server.handle({{"jsonrpc", "2.0"}, {"id", next_id++}, {"method", method}, {"params", params}}, *reader);
    REQUIRE(answer);
    return *answer;
  }
  // tools/call's result; the test fails on a protocol error.
  Json call(const std::string& tool, Json arguments) {
    const Json answer = request("tools/call", {{"name", tool}, {"arguments", std::move(arguments)}});
    INFO(answer.dump());
    REQUIRE(answer.contains("result"));
    return answer["result"];
  }
  std::string text_of(const Json& result) { return result["content"][0]["text"].get<std::string>(); }
};

void require_within_caps(const Json& result) {
  CHECK(result["content"][0]["text"].get<std::string>().size() <= mcp::kMaxAnswerChars);
  CHECK(result["structuredContent"].dump().size() <= mcp::kMaxAnswerChars);
}

}  // namespace

TEST_CASE("mcp: initialize negotiates the protocol version and describes the server", "[mcp]") {
  McpFixture f;
  for (const char* version : {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}) {
    const Json answer = f.request("initialize", {{"protocolVersion", version}, {"capabilities", Json::object()},
                                                 {"clientInfo", {{"name", "test"}, {"version", "1"}}}});
    CHECK(answer["result"]["protocolVersion"] == version);
  }
  const Json answer = f.request("initialize", {{"protocolVersion", "1999-01-01"}});
  const Json& result = answer["result"];
  CHECK(answer["jsonrpc"] == "2.0");
  CHECK(answer["id"] == f.next_id - 1);
  CHECK(result["protocolVersion"] == mcp::supported_protocol_versions().front());
  CHECK(result["serverInfo"]["name"] == "customeriq");
  CHECK(result["capabilities"]["tools"].is_object());
  CHECK(result["instructions"].get<std::string>().find("get_customer_context") != std::string::npos);
  CHECK(f.request("ping")["result"] == Json::object());
}

TEST_CASE("mcp: notifications get no answer, malformed messages a JSON-RPC error", "[mcp]") {
  McpFixture f;
  CHECK_FALSE(f.server.handle({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, *f.reader));
  CHECK_FALSE(f.server.handle_text(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})",
                                   *f.reader));
  CHECK_FALSE(mcp::McpServer::expects_answer({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}));
  CHECK(mcp::McpServer::expects_answer({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}}));

  const Json parse_error = Json::parse(*f.server.handle_text("{not json", *f.reader));
  CHECK(parse_error["id"].is_null());
  CHECK(parse_error["error"]["code"] == mcp::kParseError);

  // What the MCP fuzzer found: 70,000 nested arrays overflowed the stack.
  const std::string deep = R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"find_customer","arguments":{"query":)" +
                           std::string(70000, '[') + std::string(70000, ']') + "}}}";
  const Json too_deep = Json::parse(*f.server.handle_text(deep, *f.reader));
  CHECK(too_deep["id"].is_null());
  CHECK(too_deep["error"]["code"] == mcp::kInvalidRequest);
  CHECK_THAT(too_deep["error"]["message"].get<std::string>(), Catch::Contains("nests more than 64"));
  const std::string at_limit = R"({"jsonrpc":"2.0","id":2,"method":"ping","params":{"x":)" + std::string(62, '[') +
                               std::string(62, ']') + "}}";
  CHECK(Json::parse(*f.server.handle_text(at_limit, *f.reader))["result"] == Json::object());
  const Json with_nul = Json::parse(*f.server.handle_text(std::string("{\"jsonrpc\":\"2.0\",\0}", 19), *f.reader));
  CHECK(with_nul["error"]["code"] == mcp::kInvalidRequest);

  auto error_of = [&](const Json& message) {
    auto answer = f.server.handle(message, *f.reader);
    REQUIRE(answer);
    INFO(answer->dump());
    REQUIRE(answer->contains("error"));
    return (*answer)["error"];
  };
  CHECK(error_of({{"id", 1}, {"method", "ping"}})["code"] == mcp::kInvalidRequest);  // no jsonrpc
  CHECK(error_of(Json::array())["code"] == mcp::kInvalidRequest);
  CHECK(error_of(42)["code"] == mcp::kInvalidRequest);
  CHECK(error_of({{"jsonrpc", "2.0"}, {"id", Json::array()}, {"method", "ping"}})["code"] == mcp::kInvalidRequest);
  const Json unknown_method = error_of({{"jsonrpc", "2.0"}, {"id", 7}, {"method", "resources/list"}});
  CHECK(unknown_method["code"] == mcp::kMethodNotFound);
  CHECK(unknown_method["message"].get<std::string>().find("resources/list") != std::string::npos);
  const Json unknown_tool = f.request("tools/call", {{"name", "drop_tables"}, {"arguments", Json::object()}});
  CHECK(unknown_tool["error"]["code"] == mcp::kInvalidParams);
  CHECK(unknown_tool["error"]["message"].get<std::string>().find("find_customer") != std::string::npos);

  // A batch: each request answered in order, its notifications not at all.
  const auto batch = f.server.handle(Json::array({{{"jsonrpc", "2.0"}, {"id", "a"}, {"method", "ping"}},
                                                  {{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}},
                                                  {{"jsonrpc", "2.0"}, {"id", "b"}, {"method", "nope"}}}),
                                     *f.reader);
  REQUIRE(batch);
  REQUIRE(batch->size() == 2);
  CHECK((*batch)[0]["id"] == "a");
  CHECK((*batch)[1]["error"]["code"] == mcp::kMethodNotFound);
}

TEST_CASE("mcp: the five read-only tools, each with both schemas", "[mcp]") {
  McpFixture f;
  const Json list = f.request("tools/list")["result"]["tools"];
  std::vector<std::string> names;
  for (const Json& tool : list) {
    names.push_back(tool["name"]);
    INFO(tool["name"]);
    CHECK(tool["inputSchema"]["type"] == "object");
    CHECK(tool["inputSchema"]["additionalProperties"] == false);
    CHECK(tool["outputSchema"]["type"] == "object");
    CHECK(!tool["title"].get<std::string>().empty());
    CHECK(tool["description"].get<std::string>().size() > 40);
    CHECK(tool["annotations"]["readOnlyHint"] == true);
    CHECK(tool["annotations"]["destructiveHint"] == false);
    CHECK(tool["annotations"]["openWorldHint"] == false);
  }
  CHECK(names == std::vector<std::string>{"find_customer", "get_customer_context", "get_customer_timeline",
                                          "search_customer_data", "list_open_work_orders"});
}

TEST_CASE("mcp: find_customer then get_customer_context answers what is going on with a customer", "[mcp]") {
  McpFixture f;
  const Json found = f.call("find_customer", {{"query", "john.smith@example.com"}});
  CHECK(found["isError"] == false);
  const Json& candidates = found["structuredContent"]["candidates"];
  REQUIRE(candidates.size() == 1);
  CHECK(candidates[0]["customer_id"] == "cust_001");
  CHECK(candidates[0]["name"] == "John Smith");
  CHECK(candidates[0]["matched"] == "email");
  CHECK(f.text_of(found).find("get_customer_context {\"customer_id\":\"cust_001\"}") != std::string::npos);

  const Json context = f.call("get_customer_context", {{"customer_id", "cust_001"}});
  CHECK(context["isError"] == false);
  const std::string text = f.text_of(context);
  for (const char* fact : {"John Smith", "ord_12345", "Wireless Headphones Pro", "WO-9999", "technician_05",
                           "Bluetooth pairing is inconsistent"})
    CHECK(text.find(fact) != std::string::npos);
  const auto document = build_context_document(*f.reader, "cust_001");
  REQUIRE(document);
  CHECK(context["structuredContent"] == document->to_json());

  const Json small = f.call("get_customer_context", {{"customer_id", "cust_busy"}, {"max_chars", 600}});
  CHECK(small["structuredContent"]["truncated"] == true);
  CHECK(code_points(f.text_of(small)) <= 600);

  const Json nobody = f.call("find_customer", {{"query", "nobody-here@example.org"}});
  CHECK(nobody["structuredContent"]["candidates"].empty());
  CHECK(f.text_of(nobody).find("search_customer_data") != std::string::npos);
}

TEST_CASE("mcp: an unknown customer or a bad argument is a tool error the model can act on", "[mcp]") {
  McpFixture f;
  const Json unknown = f.call("get_customer_context", {{"customer_id", "cust_404"}});
  CHECK(unknown["isError"] == true);
  CHECK_FALSE(unknown.contains("structuredContent"));
  CHECK(f.text_of(unknown).find("cust_404") != std::string::npos);
  CHECK(f.text_of(unknown).find("find_customer") != std::string::npos);

  auto error_text = [&](const std::string& tool, const Json& arguments) {
    const Json result = f.call(tool, arguments);
    INFO(result.dump());
    CHECK(result["isError"] == true);
    return f.text_of(result);
  };
  CHECK(error_text("get_customer_context", {{"customer_id", "cust_001"}, {"max_chars", 100}}) ==
        "Invalid arguments for get_customer_context: max_chars must be an integer from 500 to 16000, got number 100");
  CHECK(error_text("get_customer_timeline", {{"customer_id", "cust_001"}, {"limit", 500}}).find("limit must be an integer from 1 to 100") !=
        std::string::npos);
  CHECK(error_text("get_customer_timeline", {{"customer_id", 17}}).find("customer_id must be a string, got number 17") !=
        std::string::npos);
  CHECK(error_text("get_customer_timeline", {{"customer_id", "cust_001"}, {"cursor", "garbage"}}).find("cursor") !=
        std::string::npos);
  CHECK(error_text("find_customer", Json::object()).find("query is required") != std::string::npos);
  CHECK(error_text("find_customer", {{"query", "   "}}).find("query must not be blank") != std::string::npos);
  CHECK(error_text("find_customer", {{"query", "x"}, {"limit", 3}}).find("unknown argument 'limit'") !=
        std::string::npos);
  CHECK(error_text("list_open_work_orders", {{"customer_id", "cust_404"}}).find("cust_404") != std::string::npos);
  CHECK(error_text("search_customer_data", {{"query", "x"}, {"customer_id", "cust_404"}}).find("cust_404") !=
        std::string::npos);
  // 20.0 is the integer 20 to JSON Schema.
  CHECK(f.call("get_customer_timeline", {{"customer_id", "cust_001"}, {"limit", 20.0}})["isError"] == false);
}

TEST_CASE("mcp: a long timeline comes in capped pages, and next_call reads every event once", "[mcp]") {
  McpFixture f;
  Json arguments = {{"customer_id", "cust_busy"}, {"limit", 100}};
  std::set<std::int64_t> seen;
  int pages = 0;
  for (;; ++pages) {
    REQUIRE(pages < 100);
    const Json result = f.call("get_customer_timeline", arguments);
    REQUIRE(result["isError"] == false);
    require_within_caps(result);
    const Json& page = result["structuredContent"];
    for (const Json& event : page["events"]) CHECK(seen.insert(event["id"].get<std::int64_t>()).second);
    if (page["next_call"].is_null()) {
      CHECK(page["next_cursor"].is_null());
      break;
    }
    CHECK(page["next_call"]["name"] == "get_customer_timeline");
    CHECK(page["next_call"]["arguments"]["cursor"] == page["next_cursor"]);
    CHECK(f.text_of(result).find("call get_customer_timeline {") != std::string::npos);
    arguments = page["next_call"]["arguments"];
  }
  CHECK(seen.size() == 300);
  CHECK(pages >= 3);  // 300 events of ~900 characters do not fit a few pages

  const Json repairs = f.call("get_customer_timeline", {{"customer_id", "cust_001"}, {"types", {"repair"}}});
  REQUIRE(repairs["structuredContent"]["events"].size() == 1);
  CHECK(repairs["structuredContent"]["events"][0]["event_type"] == "repair");
  CHECK(f.text_of(repairs).find("WO-9999") != std::string::npos);
}

TEST_CASE("mcp: open work orders of every customer, most pressing first, paged without repeats", "[mcp]") {
  McpFixture f;
  Json arguments = {{"limit", 50}};
  std::vector<Json> orders;
  for (int pages = 0;; ++pages) {
    REQUIRE(pages < 20);
    const Json result = f.call("list_open_work_orders", arguments);
    require_within_caps(result);
    const Json& page = result["structuredContent"];
    CHECK(page["total"] == 61);  // and the seed's WO-9999
    for (const Json& order : page["work_orders"]) orders.push_back(order);
    if (page["next_call"].is_null()) break;
    arguments = page["next_call"]["arguments"];
  }
  REQUIRE(orders.size() == 61);
  std::set<std::string> ids;
  const std::map<std::string, int> rank = {{"critical", 0}, {"high", 1}, {"medium", 2}, {"low", 3}};
  for (std::size_t i = 0; i < orders.size(); ++i) {
    CHECK(ids.insert(orders[i]["id"]).second);
    CHECK(orders[i]["status"] == "open");
    if (i > 0) CHECK(rank.at(orders[i - 1]["priority"]) <= rank.at(orders[i]["priority"]));
  }
  const Json one = f.call("list_open_work_orders", {{"customer_id", "cust_001"}});
  REQUIRE(one["structuredContent"]["work_orders"].size() == 1);
  CHECK(one["structuredContent"]["work_orders"][0]["id"] == "WO-9999");
  CHECK(one["structuredContent"]["work_orders"][0]["assigned_to"] == "technician_05");
  CHECK(f.text_of(one).find("WO-9999") != std::string::npos);
}

TEST_CASE("mcp: search_customer_data pages by cursor, and a cursor serves only its own query", "[mcp]") {
  McpFixture f;
  const Json first = f.call("search_customer_data", {{"query", "headset"}, {"customer_id", "cust_busy"}, {"limit", 50}});
  require_within_caps(first);
  const Json& page = first["structuredContent"];
  REQUIRE(!page["hits"].empty());
  REQUIRE(page["next_call"].is_object());
  const Json second = f.call("search_customer_data", page["next_call"]["arguments"]);
  std::set<Json> ids;
  for (const Json* hits : {&page["hits"], &second["structuredContent"]["hits"]})
    for (const Json& hit : *hits) CHECK(ids.insert(hit["id"]).second);

  const Json other = f.call("search_customer_data", {{"query", "hinge"}, {"cursor", page["next_cursor"]}});
  CHECK(other["isError"] == true);
  CHECK(f.text_of(other).find("another search") != std::string::npos);

  const Json seed = f.call("search_customer_data", {{"query", "bluetooth"}});
  bool found_ticket = false;
  for (const Json& hit : seed["structuredContent"]["hits"]) found_ticket |= hit["customer_id"] == "cust_001";
  CHECK(found_ticket);
}
