// The context document: within its budget whatever the customer holds, the
// important sections first, every fact with its row's id, the same text for
// the same database. Events go through the real pipeline and plugins into a
// real SQLite file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <regex>

#include "context/context_document.hpp"
#include "pipeline/pipeline.hpp"
#include "store/store_reader.hpp"
#include "store/store_writer.hpp"
#include "support/store_fixture.hpp"
#include "support/test_support.hpp"
#include "text.hpp"

using namespace customeriq;
using customeriq::test::PipelineLoader;
using customeriq::test::TempDir;
using customeriq::test::write_item;

namespace {

constexpr std::int64_t kNow = 1734400000;  // 2024-12-17T01:46:40Z
constexpr std::int64_t kDay = 86400;

std::size_t code_points_of(const std::string& text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

Json event(const std::string& customer, const std::string& id, const std::string& type, std::int64_t timestamp,
           Json data) {
  return {{"customer_id", customer}, {"event_id", id}, {"event_type", type}, {"timestamp", timestamp},
          {"data", std::move(data)}};
}

// n events of every kind, with multi-byte text: purchases, tickets (some
// kept as knowledge), work orders (some open), contacts, notes and runs of
// the same login.
void add_history(PipelineLoader& loader, const std::string& customer, int n) {
  for (int i = 0; i < n; ++i) {
    const std::string id = customer + "-" + std::to_string(i);
    const std::int64_t at = kNow - (n - i) * 3600;
    const std::string unicode = "Ünïcödé 🚀 #" + std::to_string(i);
    switch (i % 7) {
      case 0:
        loader.add(event(customer, id, "purchase", at,
                         {{"purchase_id", "ord_" + id}, {"product_name", "Headphones " + unicode},
                          {"product_sku", "WHP-" + std::to_string(i)}, {"quantity", 1 + i % 3}, {"price", 19.5},
                          {"warranty_expires", at + 365 * kDay}, {"customer_name", "Zoë Ünïcödé 🚀"},
                          {"email", customer + "@example.com"}}));
        break;
      case 1:
        loader.add(event(customer, id, "support_ticket", at,
                         {{"ticket_id", "TKT-" + id}, {"title", "Ticket " + unicode},
                          {"description", "Pairing fails\nagain — 🚀 " + std::string(300, 'x')}, {"status", "open"},
                          {"priority", i % 3 == 0 ? "high" : "low"}, {"important", i % 2 == 1}}));
        break;
      case 2:
        loader.add(event(customer, id, "repair", at,
                         {{"work_order_id", "WO-" + id}, {"issue_description", "Broken " + unicode},
                          {"status", i % 4 == 0 ? "completed" : "open"}, {"priority", "medium"},
                          {"assigned_to", "tech_" + std::to_string(i % 5)}, {"product_id", "WHP-" + std::to_string(i)}}));
        break;
      case 3:
        loader.add(event(customer, id, "contact", at, {{"channel", "phone"}, {"subject", "Call about " + unicode}}));
        break;
      case 4:
        loader.add(event(customer, id, "note", at, {{"content", "Likes 🚀 " + unicode}, {"importance", 1 + i % 10}}));
        break;
      default:
        loader.add(event(customer, id, "login", at, {{"title", "Logged in"}}));
    }
  }
}

// A customer with no events at all: only its row.
void add_customer_without_events(StoreWriter& store, const std::string& customer) {
  sdk::UpdateCustomer update;
  update.name = "Nobody Yet";
  store.apply_batch({write_item(R"({"event_id":"only-row","customer_id":")" + customer + R"(","event_type":"t"})",
                                {update})});
}

std::string section_of(const std::string& text, const std::string& heading) {
  const auto start = text.find("\n## " + heading);
  if (start == std::string::npos) return "";
  const auto end = text.find("\n\n", start + 1);
  return text.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
}

// Events the timeline section shows: one per line, N for a line "×N".
std::size_t events_shown(const std::string& text) {
  const std::string timeline = section_of(text, "Timeline (");
  std::size_t shown = 0;
  std::istringstream lines(timeline);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("- [event ")) continue;
    std::smatch run;
    shown += std::regex_search(line, run, std::regex(" ×(\\d+) \\(oldest")) ? std::stoul(run[1]) : 1;
  }
  return shown;
}

ContextDocument build(StoreReader& reader, const std::string& customer, std::size_t max_chars) {
  auto document = build_context_document(reader, customer, {.max_chars = max_chars, .now = kNow});
  REQUIRE(document);
  return *document;
}

const char* const kSeedEvents[] = {
    R"({"customer_id":"cust_001","event_type":"purchase","timestamp":1734134400,"source_service":"e-commerce-service","data":{"purchase_id":"ord_12345","product_name":"Wireless Headphones Pro","product_sku":"WHP-2000","quantity":1,"price":299.99,"total":299.99,"warranty_expires":1765670400,"customer_name":"John Smith","email":"john.smith@example.com"},"metadata":{"session_id":"sess_abc123","payment_method":"credit_card"}})",
    R"({"customer_id":"cust_001","event_type":"support_ticket","timestamp":1734220800,"source_service":"support-system","data":{"ticket_id":"TKT-5678","title":"Product not working","description":"Bluetooth pairing is inconsistent...","status":"open","priority":"high","category":"technical","important":true,"save_as_memory":true},"metadata":{"channel":"email"}})",
    R"({"customer_id":"cust_001","event_type":"repair","timestamp":1734307200,"source_service":"repair-service","data":{"work_order_id":"WO-9999","order_type":"repair","issue_description":"Bluetooth module needs replacement","status":"open","priority":"medium","assigned_to":"technician_05","product_id":"WHP-2000"}})",
};

}  // namespace

TEST_CASE("the context document never exceeds its budget, whatever the customer holds", "[context]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  const std::vector<int> sizes = {1, 10, 100, 1000, 5000};
  {
    PipelineLoader loader(db);
    for (const int n : sizes) add_history(loader, "cust_" + std::to_string(n), n);
    loader.flush();
    add_customer_without_events(loader.store(), "cust_0");
  }
  StoreReader reader(db);
  for (const int n : {0, 1, 10, 100, 1000, 5000}) {
    const std::string customer = "cust_" + std::to_string(n);
    for (const std::size_t budget : {500, 501, 777, 1000, 2000, 4000, 8000, 16000, 50000}) {
      INFO(customer << " within " << budget);
      const ContextDocument document = build(reader, customer, budget);
      INFO(document.text);
      CHECK(code_points_of(document.text) <= budget);
      CHECK(is_valid_utf8(document.text));
      CHECK(document.customer_id == customer);
      CHECK_THAT(document.text, Catch::StartsWith("# Customer " + customer + ": "));
      CHECK(document.truncated == !document.omitted.empty());
      for (const auto& [section, count] : document.omitted) CHECK(count > 0);
      if (document.truncated) CHECK_THAT(document.text, Catch::Contains("\n\n_Left out: "));
      else CHECK_THAT(document.text, Catch::EndsWith("\n\n_Nothing was left out._"));
      if (n > 0) {
        const std::size_t timeline_left_out = document.omitted.count("timeline") ? document.omitted.at("timeline") : 0;
        CHECK(events_shown(document.text) + timeline_left_out == static_cast<std::size_t>(n));
      }
      // One fact, one line: no description's newline breaks a line.
      CHECK_THAT(document.text, !Catch::Contains("\nagain"));
    }
  }
  // A small customer fits whole in the default budget.
  const ContextDocument small = build(reader, "cust_10", kDefaultContextChars);
  CHECK_FALSE(small.truncated);
  CHECK(small.omitted.empty());
}

TEST_CASE("with a tight budget the identity and open work orders stay, the timeline goes first", "[context]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    PipelineLoader loader(db);
    for (int i = 0; i < 3; ++i)
      loader.add(event("cust_1", "wo" + std::to_string(i), "repair", kNow - (10 - i) * kDay,
                       {{"work_order_id", "WO-" + std::to_string(i)}, {"issue_description", "Screen " + std::to_string(i)},
                        {"status", "open"}, {"priority", i == 2 ? "urgent" : "low"}, {"assigned_to", "tech_9"}}));
    for (int i = 0; i < 1000; ++i)
      loader.add(event("cust_1", "c" + std::to_string(i), "contact", kNow - kDay + i,
                       {{"subject", "Call " + std::to_string(i)}, {"message", "Ünïcödé 🚀"}}));
    loader.flush();
  }
  StoreReader reader(db);
  const ContextDocument document = build(reader, "cust_1", 1200);
  INFO(document.text);
  CHECK(code_points_of(document.text) <= 1200);
  CHECK(document.truncated);
  CHECK_THAT(document.text, Catch::StartsWith("# Customer cust_1: (no name)\n- status active · customer since "));
  // The most pressing first: urgent before the older low ones.
  const std::string orders = section_of(document.text, "Open work orders");
  CHECK_THAT(orders, Catch::StartsWith("## Open work orders (3)\n- [WO-2] urgent priority · 8 days old · assigned to tech_9 · repair: Screen 2\n- [WO-0] low priority · 10 days old"));
  for (const char* id : {"[WO-0]", "[WO-1]", "[WO-2]"}) CHECK_THAT(orders, Catch::Contains(id));
  CHECK_THAT(orders, Catch::Contains("assigned to tech_9"));
  CHECK_FALSE(document.omitted.count("work_orders"));
  // Of 1003 events, the few that fit, newest first; the rest through the cursor.
  REQUIRE(document.omitted.count("timeline"));
  const std::size_t shown = events_shown(document.text);
  CHECK(shown > 0);
  CHECK(document.omitted.at("timeline") == 1003 - shown);
  CHECK(document.omitted.at("activity") == 4);  // the total, last contact, two types: nothing fits
  CHECK_THAT(document.text, !Catch::Contains("## Activity"));
  CHECK_THAT(document.text, Catch::Contains("- [event 1003] 2024-12-16 · contact · Call 999 — Ünïcödé 🚀"));

  std::smatch closing;
  REQUIRE(std::regex_search(document.text, closing,
                            std::regex(R"(_Left out: (\d+) timeline events \(`GET /v1/customers/cust_1/timeline\?cursor=([^`]+)`, or the MCP tool `get_customer_timeline`\), 4 activity lines \(`GET /v1/customers/cust_1/timeline\?types=TYPE`\)\._$)")));
  CHECK(std::stoul(closing[1]) == document.omitted.at("timeline"));
  // The cursor goes on right after the last event shown.
  const auto rest = reader.timeline("cust_1", {.limit = 500, .cursor = closing[2]});
  REQUIRE(rest);
  const auto next_id = (*rest)["items"][0]["id"].get<std::int64_t>();
  CHECK_THAT(document.text, Catch::Contains("[event " + std::to_string(next_id + 1) + "]"));
  CHECK_THAT(document.text, !Catch::Contains("[event " + std::to_string(next_id) + "]"));

  // Activity, the lowest section, has no line while the timeline loses some.
  const ContextDocument larger = build(reader, "cust_1", 50000);
  CHECK(larger.omitted.count("timeline"));
  CHECK(larger.omitted.at("activity") == 4);
  // With room for everything, nothing is left out.
  const ContextDocument roomy = build(reader, "cust_1", 100000);
  CHECK_FALSE(roomy.truncated);
  CHECK(events_shown(roomy.text) == 1003);
}

TEST_CASE("warranty states are measured against now", "[context]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    PipelineLoader loader(db);
    auto purchase = [&](const std::string& id, std::int64_t bought, std::optional<std::int64_t> expires) {
      Json data = {{"purchase_id", id}, {"product_name", "Item " + id}, {"price", 10}};
      if (expires) data["warranty_expires"] = *expires;
      loader.add(event("cust_1", id, "purchase", bought, data));
    };
    purchase("ord_active", kNow - 1 * kDay, kNow + 100 * kDay);
    purchase("ord_soon", kNow - 2 * kDay, kNow + 10 * kDay + 3600);
    purchase("ord_expired", kNow - 3 * kDay, kNow - 5 * kDay);
    purchase("ord_none", kNow - 4 * kDay, std::nullopt);
    loader.flush();
  }
  StoreReader reader(db);
  const std::string purchases = section_of(build(reader, "cust_1", 8000).text, "Recent purchases");
  CHECK(purchases ==
        "## Recent purchases (4)\n"
        "- [ord_active] 2024-12-16 · Item ord_active · total 10.00 · warranty active until 2025-03-27\n"
        "- [ord_soon] 2024-12-15 · Item ord_soon · total 10.00 · warranty expires in 11 days (2024-12-27)\n"
        "- [ord_expired] 2024-12-14 · Item ord_expired · total 10.00 · warranty expired 2024-12-12\n"
        "- [ord_none] 2024-12-13 · Item ord_none · total 10.00 · no warranty on record");
}

TEST_CASE("runs of the same event type and title fold into one line", "[context]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    PipelineLoader loader(db);
    loader.add(event("cust_1", "first", "contact", kNow - 100, {{"subject", "Hello"}}));
    for (int i = 0; i < 5; ++i)
      loader.add(event("cust_1", "login" + std::to_string(i), "login", kNow - 50 + i, {{"title", "Logged in"}}));
    loader.add(event("cust_1", "last", "contact", kNow, {{"subject", "Hello"}}));
    loader.flush();
  }
  StoreReader reader(db);
  const ContextDocument document = build(reader, "cust_1", 8000);
  CHECK(section_of(document.text, "Timeline") ==
        "## Timeline (7 events, newest first)\n"
        "- [event 7] 2024-12-17 · contact · Hello\n"
        "- [event 6] 2024-12-17 · login · Logged in ×5 (oldest [event 2] 2024-12-17)\n"
        "- [event 1] 2024-12-17 · contact · Hello");
  CHECK_FALSE(document.truncated);
  CHECK_THAT(section_of(document.text, "Activity"), Catch::Contains("- login: 5, last 2024-12-17"));
}

TEST_CASE("the same database and options give the same text, byte for byte", "[context]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    PipelineLoader loader(db);
    add_history(loader, "cust_1", 300);
    // Ties: the same date and importance everywhere.
    for (int i = 0; i < 20; ++i)
      loader.add(event("cust_1", "tie" + std::to_string(i), "note", kNow, {{"content", "Tie " + std::to_string(i)}}));
    loader.flush();
  }
  StoreReader first(db), second(db);
  for (const std::size_t budget : {500, 3000, 50000}) {
    const ContextDocument a = build(first, "cust_1", budget);
    const ContextDocument b = build(second, "cust_1", budget);
    CHECK(a.text == b.text);
    CHECK(a.omitted == b.omitted);
    CHECK(a.to_json() == b.to_json());
  }
  // Another now, another document: ages and warranties move.
  auto later = build_context_document(first, "cust_1", {.max_chars = 8000, .now = kNow + 400 * kDay});
  CHECK(later->text != build(first, "cust_1", 8000).text);
}

TEST_CASE("an unknown customer has no document and a budget under 500 is refused", "[context]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    PipelineLoader loader(db);
    loader.add(Json::parse(kSeedEvents[0]));
    loader.flush();
  }
  StoreReader reader(db);
  CHECK_FALSE(build_context_document(reader, "nobody"));
  CHECK_THROWS_MATCHES(build_context_document(reader, "cust_001", {.max_chars = 499}), std::invalid_argument,
                       Catch::Message("max_chars must be at least 500, got 499"));
  CHECK(build_context_document(reader, "cust_001", {.max_chars = 500}));
  // now = 0 is the current time.
  const std::time_t today = std::time(nullptr);
  char date[16];
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&today));
  CHECK_THAT(build_context_document(reader, "cust_001")->text, Catch::Contains(std::string("as of ") + date + " UTC"));
}

TEST_CASE("the seed customer's document", "[context]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    PipelineLoader loader(db);
    for (const char* seed : kSeedEvents) loader.add(Json::parse(seed));
    loader.flush();
  }
  StoreReader reader(db);
  const ContextDocument document = build(reader, "cust_001", kDefaultContextChars);
  CHECK(document.text ==
        "# Customer cust_001: John Smith\n"
        "- email john.smith@example.com · status active · customer since 2024-12-14 · lifetime value 299.99 · tags none\n"
        "_[ids] cite source rows; as of 2024-12-17 UTC._\n"
        "\n"
        "## Open work orders (1)\n"
        "- [WO-9999] medium priority · 1 day old · assigned to technician_05 · repair: Bluetooth module needs "
        "replacement · device WHP-2000\n"
        "\n"
        "## Recent purchases (1)\n"
        "- [ord_12345] 2024-12-14 · Wireless Headphones Pro (WHP-2000) · total 299.99 · warranty active until "
        "2025-12-14\n"
        "\n"
        "## Knowledge (1)\n"
        "- [knowledge 1] importance 8/10 · technical · Product not working: Bluetooth pairing is inconsistent... · "
        "source support_ticket:TKT-5678\n"
        "\n"
        "## Timeline (3 events, newest first)\n"
        "- [event 3] 2024-12-16 · repair · Work order WO-9999 open — Bluetooth module needs replacement · status open\n"
        "- [event 2] 2024-12-15 · support_ticket · Product not working — Bluetooth pairing is inconsistent... · status "
        "open\n"
        "- [event 1] 2024-12-14 · purchase · Purchase: Wireless Headphones Pro — Order ord_12345: 1 x Wireless "
        "Headphones Pro (WHP-2000) · 299.99 · status completed\n"
        "\n"
        "## Activity\n"
        "- 3 events from 2024-12-14 to 2024-12-16\n"
        "- last contact: [event 2] 2024-12-15 · support_ticket · Product not working\n"
        "- purchase: 1, last 2024-12-14\n"
        "- repair: 1, last 2024-12-16\n"
        "- support_ticket: 1, last 2024-12-15\n"
        "\n"
        "_Nothing was left out._");
  CHECK(document.to_json() == Json{{"customer_id", "cust_001"}, {"text", document.text}, {"truncated", false},
                                   {"omitted", Json::object()}});

  // Within the smallest budget: the identity and the open work order, the rest named.
  const ContextDocument smallest = build(reader, "cust_001", kMinContextChars);
  CHECK(smallest.text ==
        "# Customer cust_001: John Smith\n"
        "- email john.smith@example.com · status active · customer since 2024-12-14 · lifetime value 299.99 · tags none\n"
        "_[ids] cite source rows; as of 2024-12-17 UTC._\n"
        "\n"
        "## Open work orders (1)\n"
        "- [WO-9999] medium priority · 1 day old · assigned to technician_05 · repair: Bluetooth module needs "
        "replacement · device WHP-2000\n"
        "\n"
        "_Left out: 1 purchase, 1 knowledge row, 3 timeline events, 5 activity lines "
        "(`GET /v1/customers/cust_001/{purchases,knowledge,timeline}`)._");
  CHECK(smallest.truncated);
  // docs/CONTEXT.md shows these two documents as they are.
  const std::string docs = test::read_file(test::source_dir() / "docs/CONTEXT.md");
  CHECK_THAT(docs, Catch::Contains("```markdown\n" + document.text + "\n```"));
  CHECK_THAT(docs, Catch::Contains(smallest.text.substr(smallest.text.find("## Open work orders")) + "\n```"));
  CHECK(smallest.omitted == std::map<std::string, std::size_t>{
                                {"purchases", 1}, {"knowledge", 1}, {"timeline", 3}, {"activity", 5}});
}

TEST_CASE("untrusted text stays on its line and within its length and the identity always fits", "[context]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    PipelineLoader loader(db);
    const std::string huge = "Ünïcödé 🚀 " + std::string(100000, 'y');
    loader.add(event("cust_1", "p", "profile_update", kNow,
                     {{"name", "Eve\n## Injected heading\r\n" + huge}, {"email", "eve@" + std::string(300, 'e') + ".com"},
                      {"company", huge}, {"tags", Json::array({huge, "b\u202Eevil", "c"})}}));
    loader.add(event("cust_1", "t", "support_ticket", kNow,
                     {{"ticket_id", "T\n1"}, {"title", "Line\u2028break\u0085and\ttab"}, {"description", huge}}));
    loader.flush();
  }
  StoreReader reader(db);
  for (const std::size_t budget : {500, 600, 1000, 8000}) {
    INFO(budget);
    const ContextDocument document = build(reader, "cust_1", budget);
    INFO(document.text);
    CHECK(code_points_of(document.text) <= budget);
    CHECK(is_valid_utf8(document.text));
    CHECK_THAT(document.text, !Catch::Contains("\n## Injected"));
    CHECK_THAT(document.text, !Catch::Contains("\u202E"));
    CHECK_THAT(document.text, Catch::StartsWith("# Customer cust_1: Eve ## Injected heading"));
    std::istringstream lines(document.text);
    for (std::string line; std::getline(lines, line);) CHECK(code_points_of(line) < 1200);
    if (budget == 8000) {
      CHECK_THAT(document.text, Catch::Contains("Line break and tab — Ünïcödé 🚀 yyy"));
      CHECK_FALSE(document.omitted.count("identity"));
    }
  }
  const ContextDocument tight = build(reader, "cust_1", 500);
  CHECK(tight.truncated);
  CHECK(tight.omitted.at("identity") > 0);
  CHECK_THAT(tight.text, Catch::Contains("_Left out: "));
}

TEST_CASE("building the document of a customer with 5000 events takes milliseconds", "[context]") {
  TempDir dir;
  const auto db = dir / "db.sqlite";
  {
    PipelineLoader loader(db);
    add_history(loader, "cust_big", 5000);
    add_history(loader, "cust_other", 2000);
    loader.flush();
  }
  StoreReader reader(db);
  for (const std::size_t budget : {kDefaultContextChars, std::size_t{50000}}) {
    std::vector<double> milliseconds;
    for (int run = 0; run < 7; ++run) {
      const auto start = std::chrono::steady_clock::now();
      const ContextDocument document = build(reader, "cust_big", budget);
      milliseconds.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      CHECK(code_points_of(document.text) <= budget);
    }
    std::sort(milliseconds.begin(), milliseconds.end());
    WARN("context document of 5000 events, max_chars " << budget << ": best " << milliseconds.front()
                                                       << " ms, median " << milliseconds[3] << " ms");
    CHECK(milliseconds.front() < 50 * test::sanitizer_slowdown);
  }
}
