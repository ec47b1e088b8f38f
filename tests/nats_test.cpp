// `customeriq serve` and `customeriq publish` against a real nats-server on
// a free loopback port: core NATS and JetStream, reconnection, shutdown,
// several instances, .env and YAML configuration, authentication.
#include <catch2/catch.hpp>

#include <signal.h>

#include <set>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <nlohmann/json.hpp>

#include "sources/nats/nats_config.hpp"
#include "support/nats_fixture.hpp"

using namespace customeriq::test;
using customeriq::ConfigError;
using customeriq::read_nats_config;
using Json = nlohmann::json;

namespace {

using Env = std::map<std::string, std::string>;

Env serve_env(const NatsServer& server, const std::filesystem::path& database, Env extra = {}) {
  Env env{{"NATS_ENABLED", "true"}, {"NATS_SERVERS", server.url()}, {"CUSTOMERIQ_DB", database.string()}};
  for (auto& [name, value] : extra) env[name] = value;
  return env;
}

// `customeriq serve` in the background, its stderr in dir/<name>.err.
struct Service {
  Service(const TempDir& dir, Env env, const std::string& name = "serve")
      : process(CUSTOMERIQ_BINARY, {"serve"}, customeriq_env(dir, std::move(env)), dir / name) {}

  void require_started() {
    const bool started = process.wait_for_log("[NATS] Service started successfully", 30s);
    INFO(process.err());
    REQUIRE(started);
  }

  // SIGTERM, wait for a clean exit (the drain of what was received), and the
  // summary it logged.
  ServeSummary stop() {
    process.signal(SIGTERM);
    const auto code = process.wait_for(30s * sanitizer_slowdown);
    INFO(process.err());
    REQUIRE(code.has_value());
    CHECK(*code == 0);
    const auto summary = parse_summary(process.err());
    REQUIRE(summary.has_value());
    return *summary;
  }

  ChildProcess process;
};

ProcessResult publish(const TempDir& dir, const NatsServer& server, std::vector<std::string> args,
                      Env env = {}) {
  args.insert(args.begin(), "publish");
  args.insert(args.end(), {"--servers", server.url()});
  auto result = run_process(CUSTOMERIQ_BINARY, args, customeriq_env(dir, std::move(env)));
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return result;
}

// A publisher running while the test watches the service.
std::unique_ptr<ChildProcess> publish_in_background(const TempDir& dir, const NatsServer& server,
                                                    std::vector<std::string> args) {
  args.insert(args.begin(), "publish");
  args.insert(args.end(), {"--servers", server.url()});
  return std::make_unique<ChildProcess>(CUSTOMERIQ_BINARY, args, customeriq_env(dir, {}),
                                        dir / "publisher");
}

NatsServer::Options without_jetstream() { return {.jetstream = false}; }

// Core NATS only, with user/password authentication.
NatsServer::Options with_password(std::string user, std::string password) {
  return {.jetstream = false, .user = std::move(user), .password = std::move(password)};
}

// A folder of its own, a nats-server with JetStream or with core NATS only,
// and the database serve writes in the folder.
template <bool kJetStream>
struct WithServer {
  TempDir dir;
  NatsServer server{NatsServer::Options{.jetstream = kJetStream}};
  const std::filesystem::path database = dir / "db.sqlite";
};
using WithJetStream = WithServer<true>;
using WithCoreNats = WithServer<false>;

std::int64_t purchases(const std::filesystem::path& database) {
  return query_count(database, "SELECT count(*) FROM purchases");
}

}  // namespace

TEST_CASE("NATS config: defaults and environment over YAML and errors that name the variable", "[nats]") {
  const auto lookup = [](Env env) {
    return [env = std::move(env)](const char* name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
  };
  const auto defaults = read_nats_config(Json::object(), "p.yaml:3:1", lookup({}));
  CHECK_FALSE(defaults.enabled);
  CHECK(defaults.servers == std::vector<std::string>{"nats://localhost:4222"});
  CHECK(defaults.subjects == std::vector<std::string>{"customer.events.>"});
  CHECK(defaults.queue_group == "customeriq-service");
  CHECK_FALSE(defaults.jetstream);
  CHECK(defaults.stream == "CUSTOMER_EVENTS");
  CHECK(defaults.stream_create);
  CHECK(defaults.durable == "customeriq");
  CHECK(defaults.max_deliver == 10);
  CHECK(defaults.ack_wait_seconds == 30);
  CHECK(defaults.fetch_batch == 256);

  const Json yaml = {{"enabled", true},
                     {"servers", Json::array({"nats://a:4222", "nats://b:4223"})},
                     {"subjects", Json::array({"x.>", "y.*.z"})},
                     {"queue_group", "from-yaml"},
                     {"jetstream", "yes"},
                     {"max_deliver", 3}};
  const auto mixed = read_nats_config(
      yaml, "p.yaml:3:1", lookup({{"NATS_QUEUE_GROUP", "from-env"}, {"NATS_SERVERS", "nats://c:1, tls://d:2"}}));
  CHECK(mixed.enabled);
  CHECK(mixed.servers == std::vector<std::string>{"nats://c:1", "tls://d:2"});
  CHECK(mixed.subjects == std::vector<std::string>{"x.>", "y.*.z"});
  CHECK(mixed.queue_group == "from-env");
  CHECK(mixed.jetstream);
  CHECK(mixed.max_deliver == 3);
  CHECK(mixed.tls());
  // An option given in place of a variable (publish --servers) wins over it.
  const auto overridden = read_nats_config(Json::object(), "p.yaml:3:1", lookup({{"NATS_SERVERS", "nats://a:1"}}),
                                           {{"NATS_SERVERS", "--servers", "nats://b:2"}});
  CHECK(overridden.servers == std::vector<std::string>{"nats://b:2"});

  const auto error_of = [&](const Json& source, Env env) -> std::string {
    try {
      read_nats_config(source, "p.yaml:3:1", lookup(std::move(env)));
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "no error";
  };
  CHECK(error_of(Json::object(), {{"NATS_ENABLED", "maybe"}}) ==
        "NATS_ENABLED=maybe is not a boolean (use true/false, 1/0, yes/no, on/off)");
  CHECK(error_of(Json::object(), {{"NATS_MAX_DELIVER", "ten"}}) ==
        "NATS_MAX_DELIVER=ten is not an integer from 1 to 1000000");
  CHECK_THAT(error_of(Json::object(), {{"NATS_SUBJECTS", "a..b"}}),
             Catch::StartsWith("NATS_SUBJECTS=a..b has an invalid subject 'a..b'"));
  CHECK_THAT(error_of(Json::object(), {{"NATS_SUBJECTS", "a.>.b"}}), Catch::Contains("'>'"));
  CHECK_THAT(error_of(Json::object(), {{"NATS_SERVERS", "http://x:4222"}}), Catch::Contains("unknown scheme"));
  CHECK_THAT(error_of(Json::object(), {{"NATS_SERVERS", "nats://x:99999"}}), Catch::Contains("bad port"));
  CHECK_THAT(error_of(Json::object(), {{"NATS_DURABLE", "a.b"}}), Catch::StartsWith("NATS_DURABLE=a.b"));
  CHECK_THAT(error_of(Json::object(), {{"NATS_USER", "u"}}), Catch::Contains("NATS_PASSWORD"));
  CHECK_THAT(error_of(Json::object(), {{"NATS_CREDS", "/no/such/file"}}), Catch::StartsWith("NATS_CREDS="));
  CHECK(error_of(Json::object(), {{"NATS_PENDING_BYTES", "1023"}}) ==
        "NATS_PENDING_BYTES=1023 is not an integer from 1024 to 2147483647");
  CHECK(error_of({{"max_deliver", "lots"}}, {}) ==
        "p.yaml:3:1: source.max_deliver is not an integer from 1 to 1000000, got \"lots\"");
  CHECK_THAT(error_of({{"subject", "x"}}, {}),
             Catch::StartsWith("p.yaml:3:1: unknown key 'source.subject' (expected one of:"));

  CHECK(customeriq::subject_matches("customer.events.>", "customer.events.c1.purchase"));
  CHECK(customeriq::subject_matches("customer.*.c1.purchase", "customer.events.c1.purchase"));
  CHECK_FALSE(customeriq::subject_matches("customer.events.>", "customer.events"));
  CHECK_FALSE(customeriq::subject_matches("customer.events.*", "customer.events.c1.purchase"));
  CHECK_FALSE(customeriq::subject_matches("other.>", "customer.events.c1"));
  CHECK(customeriq::redact_url("nats://bob:secret@h:4222") == "nats://bob:***@h:4222");
  CHECK(customeriq::redact_url("nats://t0ken@h:4222") == "nats://***@h:4222");
}

TEST_CASE("serve refuses to start with neither NATS nor HTTP and names malformed variables", "[nats]") {
  TempDir dir;
  auto disabled = run_process(CUSTOMERIQ_BINARY, {"serve"},
                              customeriq_env(dir, {{"CUSTOMERIQ_DB", (dir / "db").string()},
                                                   {"CUSTOMERIQ_HTTP_ADDR", ""}}));
  CHECK(disabled.exit_code == 2);
  CHECK_THAT(disabled.err, Catch::Contains("set NATS_ENABLED=true"));

  auto malformed = run_process(
      CUSTOMERIQ_BINARY, {"serve"},
      customeriq_env(dir, {{"NATS_ENABLED", "true"}, {"NATS_ACK_WAIT_SECONDS", "-5"},
                           {"CUSTOMERIQ_DB", (dir / "db").string()}}));
  CHECK(malformed.exit_code == 2);
  CHECK(malformed.err == "customeriq: NATS_ACK_WAIT_SECONDS=-5 is not an integer from 1 to 86400\n");

  auto help = run_process(CUSTOMERIQ_BINARY, {"serve", "--help"}, customeriq_env(dir, {}));
  CHECK(help.exit_code == 0);
  for (const char* variable : {"NATS_ENABLED", "NATS_SERVERS", "NATS_SUBJECTS", "NATS_QUEUE_GROUP",
                               "NATS_USER", "NATS_TOKEN", "NATS_CREDS", "NATS_TLS_CA", "NATS_JETSTREAM",
                               "NATS_STREAM", "NATS_DURABLE", "NATS_MAX_DELIVER", "NATS_ACK_WAIT_SECONDS",
                               "NATS_FETCH_BATCH", "NATS_PENDING_MSGS", "NATS_SUMMARIZE_THRESHOLD"})
    CHECK_THAT(help.out, Catch::Contains(variable));
}

TEST_CASE_METHOD(WithJetStream, "every event type over core NATS reaches the profile with the seed log lines", "[nats]") {
  Service service(dir, serve_env(server, database, {{"CUSTOMERIQ_LOG_LEVEL", "debug"}}));
  service.require_started();

  const auto published = publish(dir, server, {"--all"});
  CHECK_THAT(published.out, Catch::Contains("published purchase for cust_001 on customer.events.cust_001.purchase"));
  REQUIRE(eventually([&] { return query_count(database, "SELECT count(*) FROM processed_events") == 8; }, 20s));

  CHECK(query_count(database, "SELECT count(DISTINCT event_type) FROM customer_events") == 8);
  CHECK(query_count(database, "SELECT count(*) FROM purchases WHERE id = 'ord_12345'") == 1);
  CHECK(query_count(database, "SELECT count(*) FROM work_orders WHERE id = 'WO-9999'") == 1);
  CHECK(query_count(database, "SELECT count(*) FROM customer_knowledge") >= 2);
  auto profile = run_process(CUSTOMERIQ_BINARY, {"--db", database.string(), "profile", "cust_001"},
                             customeriq_env(dir, {}));
  REQUIRE(profile.exit_code == 0);
  const Json json = Json::parse(profile.out);
  CHECK(json["customer"]["company"] == "Acme Corp");
  CHECK(json["purchases"][0]["product_name"] == "Wireless Headphones Pro");
  // The seed's three payloads, byte for byte.
  SQLite::Database db(database.string(), SQLite::OPEN_READONLY);
  const std::string seed = read_file(source_dir() / "examples/events/seed.jsonl");
  for (const char* type : {"purchase", "support_ticket", "repair"}) {
    SQLite::Statement raw(db, "SELECT raw_event_data FROM customer_events WHERE event_type = ?1");
    raw.bind(1, type);
    REQUIRE(raw.executeStep());
    CHECK_THAT(seed, Catch::Contains(raw.getColumn(0).getString() + "\n"));
  }

  // The sample ids are stable: publishing them again changes nothing.
  publish(dir, server, {"--all"});
  REQUIRE(service.process.wait_for_log("[NATS] Received event on customer.events.cust_001.observation", 20s, 2));
  const auto summary = service.stop();
  CHECK(summary.received == 16);
  CHECK(summary.applied == 8);
  CHECK(summary.duplicates == 8);
  CHECK(summary.dropped == 0);
  CHECK(query_count(database, "SELECT count(*) FROM customer_events") == 8);

  const std::string log = service.process.err();
  for (const std::string& line : std::vector<std::string>{
           "[NATS] Starting NATS subscriber service...", "[NATS] Connecting to NATS server(s): " + server.url(),
        std::string("[NATS] Connected successfully"),
        std::string("[NATS] Subscribing to: customer.events.> (queue: customeriq-service)"),
        std::string("[NATS] Service started successfully"),
        std::string("[NATS] Received event on customer.events.cust_001.purchase: purchase cust_001"),
        // The key of an event without event_id is its payload's hash, whatever path brings it.
        std::string("[EventProcessor] Processed purchase for customer cust_001: fnv128:"),
        std::string("[EventProcessor] Processed repair for customer cust_001: fnv128:")}) {
    CHECK_THAT(log, Catch::Contains(line));
  }
}

TEST_CASE_METHOD(WithJetStream, "several subjects with wildcards: events outside them are not taken", "[nats]") {
  Service service(dir, serve_env(server, database,
                                 {{"NATS_SUBJECTS", "customer.events.*.purchase, vip.events.>"}}));
  service.require_started();
  const std::string log = service.process.err();
  CHECK_THAT(log, Catch::Contains("[NATS] Subscribing to: customer.events.*.purchase (queue: customeriq-service)\n"));
  CHECK_THAT(log, Catch::Contains("[NATS] Subscribing to: vip.events.> (queue: customeriq-service)\n"));

  publish(dir, server, {"--event", "repair"});                                       // not taken
  publish(dir, server, {"--event", "support_ticket", "--subject-prefix", "other.events"});  // not taken
  publish(dir, server, {"--event", "purchase"});
  publish(dir, server, {"--event", "note", "--subject-prefix", "vip.events", "--customer", "cust_002"});
  REQUIRE(eventually([&] { return query_count(database, "SELECT count(*) FROM processed_events") >= 2; }, 20s));
  // A last event that is taken: whatever was published before it has been routed.
  publish(dir, server, {"--event", "contact", "--subject-prefix", "vip.events"});
  REQUIRE(eventually([&] { return query_count(database, "SELECT count(*) FROM processed_events") >= 3; }, 20s));

  const auto summary = service.stop();
  CHECK(summary.received == 3);
  CHECK(query_count(database, "SELECT count(*) FROM processed_events") == 3);
  CHECK(query_count(database, "SELECT count(*) FROM work_orders") == 0);
  CHECK(query_count(database, "SELECT count(*) FROM customer_events WHERE event_type = 'support_ticket'") == 0);
  CHECK(query_count(database, "SELECT count(*) FROM customer_events WHERE customer_id = 'cust_002'") == 1);
}

TEST_CASE("two instances in one queue group take each event once", "[nats]") {
  TempDir dir;
  NatsServer server;
  const auto first_db = dir / "first.sqlite", second_db = dir / "second.sqlite";
  Service first(dir, serve_env(server, first_db), "serve-1");
  Service second(dir, serve_env(server, second_db), "serve-2");
  first.require_started();
  second.require_started();

  const int total = 1000;
  publish(dir, server, {"--event", "purchase", "--count", std::to_string(total), "--rate", "2000"});
  REQUIRE(eventually([&] { return purchases(first_db) + purchases(second_db) == total; }, 30s));
  const auto first_summary = first.stop();
  const auto second_summary = second.stop();
  CHECK(first_summary.received + second_summary.received == total);
  CHECK(first_summary.received > 0);
  CHECK(second_summary.received > 0);
  CHECK(purchases(first_db) + purchases(second_db) == total);
  SQLite::Database both(first_db.string(), SQLite::OPEN_READONLY);
  both.exec("ATTACH '" + second_db.string() + "' AS other");
  CHECK(both.execAndGet("SELECT count(*) FROM purchases JOIN other.purchases USING (id)").getInt64() == 0);
}

TEST_CASE("after nats-server restarts the service reconnects and goes on", "[nats]") {
  const bool jetstream = GENERATE(false, true);
  INFO((jetstream ? "JetStream" : "core NATS"));
  TempDir dir;
  NatsServer server;  // with a JetStream store that survives the restart
  const auto database = dir / "db.sqlite";
  Service service(dir, serve_env(server, database, {{"NATS_JETSTREAM", jetstream ? "true" : "false"}}));
  service.require_started();
  std::vector<std::string> args{"--all"};
  if (jetstream) args.push_back("--jetstream");
  publish(dir, server, args);
  REQUIRE(eventually([&] { return query_count(database, "SELECT count(*) FROM processed_events") == 8; }, 20s));

  server.stop();
  REQUIRE(service.process.wait_for_log("[NATS] Disconnected from NATS server " + server.url() + "; reconnecting...", 20s));
  REQUIRE(service.process.wait_for_log("[NATS] Reconnect attempt 1 to " + server.url() + " failed", 20s));
  server.start();
  REQUIRE(service.process.wait_for_log("[NATS] Reconnected to NATS server " + server.url(), 30s));
  // Sample ids are stable, so publishing again until they arrive is harmless
  // (a publish may also fail while the restarted server recovers its streams).
  args.insert(args.end(), {"--customer", "cust_after", "--servers", server.url()});
  args.insert(args.begin(), "publish");
  const bool arrived = eventually(
      [&] {
        run_process(CUSTOMERIQ_BINARY, args, customeriq_env(dir, {}));
        return eventually(
            [&] { return query_count(database, "SELECT count(*) FROM processed_events WHERE customer_id = 'cust_after'") == 8; },
            3s);
      },
      30s, 0ms);
  CHECK(arrived);
  const auto summary = service.stop();
  CHECK(summary.applied == 16);
  CHECK(summary.dead_lettered == 0);
  CHECK_THAT(service.process.err(), Catch::Contains("1 disconnects, 1 reconnects"));
}

TEST_CASE_METHOD(WithJetStream, "JetStream: an invalid event is dead-lettered once and terminated and not redelivered", "[nats]") {
  Service service(dir, serve_env(server, database, {{"NATS_JETSTREAM", "true"}, {"NATS_ACK_WAIT_SECONDS", "1"}}));
  service.require_started();
  publish_raw(server.url(), "customer.events.cust_001.purchase", "{not json", "broken-1", true);
  publish(dir, server, {"--event", "purchase", "--jetstream"});
  REQUIRE(eventually([&] { return purchases(database) == 1; }, 20s));
  REQUIRE(eventually([&] { return query_count(database, "SELECT count(*) FROM dead_letters") == 1; }, 20s));
  // Terminated, so nothing is pending or delivered again after the ack wait.
  REQUIRE(eventually([&] { return consumer_state(server.url(), "CUSTOMER_EVENTS", "customeriq").ack_pending == 0; }, 10s));
  const auto summary = service.stop();
  CHECK(summary.received == 2);
  CHECK(summary.dead_lettered == 1);
  CHECK_THAT(service.process.err(), Catch::Contains("[NATS] JetStream: 1 acked, 1 terminated (dead-lettered)"));
  CHECK(query_count(database, "SELECT attempts FROM dead_letters") == 1);
  CHECK(query_count(database, "SELECT count(*) FROM dead_letters WHERE subject = 'customer.events.cust_001.purchase'") == 1);
}

TEST_CASE("with no server reachable at start the service keeps trying and says so", "[nats]") {
  TempDir dir;
  const int port = free_port();
  const auto database = dir / "db.sqlite";
  Service service(dir, {{"NATS_ENABLED", "true"},
                        {"NATS_SERVERS", "nats://127.0.0.1:" + std::to_string(port)},
                        {"CUSTOMERIQ_DB", database.string()}});
  REQUIRE(service.process.wait_for_log("[NATS] No NATS server reachable at nats://127.0.0.1:" + std::to_string(port), 20s));
  REQUIRE(service.process.wait_for_log("(attempt 2)", 20s));
  CHECK(service.process.running());
  CHECK_THAT(service.process.err(), !Catch::Contains("Service started successfully"));
  // A SIGTERM while waiting for a server ends the service cleanly.
  const auto summary = service.stop();
  CHECK(summary.received == 0);
}

TEST_CASE("a server that comes up later is used", "[nats]") {
  TempDir dir;
  NatsServer server(without_jetstream());
  const std::string url = server.url();
  server.stop();
  const auto database = dir / "db.sqlite";
  Service service(dir, {{"NATS_ENABLED", "true"}, {"NATS_SERVERS", url}, {"CUSTOMERIQ_DB", database.string()}});
  REQUIRE(service.process.wait_for_log("yet (attempt 1)", 20s));
  server.start();
  service.require_started();
  publish(dir, server, {"--event", "purchase"});
  REQUIRE(eventually([&] { return purchases(database) == 1; }, 20s));
  service.stop();
}

TEST_CASE_METHOD(WithJetStream, "JetStream: SIGKILL in the middle of 20000 events and a restart apply each event exactly once", "[nats]") {
  const Env env = serve_env(server, database, {{"NATS_JETSTREAM", "true"}, {"NATS_ACK_WAIT_SECONDS", "3"}});
  const int total = 20000;
  std::int64_t at_kill = 0;
  {
    Service first(dir, env, "serve-1");
    first.require_started();
    CHECK_THAT(first.process.err(),
               Catch::Contains("[NATS] Subscribing to: customer.events.> (JetStream stream: CUSTOMER_EVENTS, durable consumer: customeriq)"));
    CHECK_THAT(first.process.err(), Catch::Contains("[NATS] Created JetStream stream CUSTOMER_EVENTS"));
    auto publisher = publish_in_background(dir, server, {"--event", "purchase", "--jetstream", "--count", std::to_string(total)});
    REQUIRE(eventually([&] { return purchases(database) >= 2000; }, 30s, 5ms));
    first.process.signal(SIGKILL);
    REQUIRE(first.process.wait_for(10s) == 128 + SIGKILL);
    at_kill = purchases(database);
    const auto published = publisher->wait_for(30s);
    INFO(publisher->err());
    REQUIRE(published == 0);
  }
  INFO("committed when killed: " << at_kill);
  CHECK(at_kill < total);  // killed in the middle, or the test proves nothing

  Service second(dir, env, "serve-2");
  second.require_started();
  CHECK_THAT(second.process.err(), Catch::Contains("[NATS] Using durable consumer customeriq on stream CUSTOMER_EVENTS"));
  REQUIRE(eventually([&] { return purchases(database) == total; }, 45s));
  // Redeliveries of events committed but not acked before the kill are duplicates.
  REQUIRE(eventually([&] { return consumer_state(server.url(), "CUSTOMER_EVENTS", "customeriq").ack_pending == 0; }, 20s));
  const auto summary = second.stop();
  CHECK(summary.applied == total - at_kill);
  CHECK(query_count(database, "SELECT count(*) FROM purchases") == total);
  CHECK(query_count(database, "SELECT count(*) FROM customer_events WHERE event_type = 'purchase'") == total);
  CHECK(query_count(database, "SELECT count(*) FROM processed_events") == total);
  CHECK(query_count(database, "SELECT count(*) FROM dead_letters") == 0);
}

TEST_CASE_METHOD(WithJetStream, "JetStream: SIGTERM in the middle of a burst commits and acks what it took and loses nothing", "[nats]") {
  // An ack wait long enough that nothing is redelivered while it waits in
  // the writer's queue, even in a sanitizer build on a busy machine (3 s was
  // not: the server redelivered a full queue of 1024, counted as duplicates).
  const Env env = serve_env(server, database, {{"NATS_JETSTREAM", "true"}, {"NATS_ACK_WAIT_SECONDS", "10"}});
  const int total = 10000;
  ServeSummary first_summary;
  {
    Service first(dir, env, "serve-1");
    first.require_started();
    auto publisher = publish_in_background(dir, server, {"--event", "purchase", "--jetstream", "--count", std::to_string(total)});
    REQUIRE(eventually([&] { return purchases(database) >= 1000; }, 30s, 5ms));
    first_summary = first.stop();
    REQUIRE(publisher->wait_for(30s) == 0);
  }
  // Everything it received was committed...
  CHECK(purchases(database) == first_summary.received);
  CHECK(first_summary.applied == first_summary.received);
  // ...and acknowledged: what is still pending ack was delivered after its
  // last fetch and never received (the server redelivers it).
  const auto state = consumer_state(server.url(), "CUSTOMER_EVENTS", "customeriq");
  CHECK(state.ack_pending == static_cast<std::int64_t>(state.delivered) - first_summary.received);

  Service second(dir, env, "serve-2");
  second.require_started();
  REQUIRE(eventually([&] { return purchases(database) == total; }, 45s * sanitizer_slowdown));
  const auto second_summary = second.stop();
  CHECK(second_summary.duplicates == 0);
  CHECK(first_summary.received + second_summary.received == total);
  CHECK(query_count(database, "SELECT count(*) FROM processed_events") == total);
}

TEST_CASE_METHOD(WithCoreNats, "core NATS: SIGTERM in the middle of a burst commits everything received", "[nats]") {
  Service service(dir, serve_env(server, database));
  service.require_started();
  auto publisher = publish_in_background(dir, server, {"--event", "purchase", "--count", "20000", "--rate", "10000"});
  REQUIRE(eventually([&] { return purchases(database) >= 1000; }, 30s, 5ms));
  const auto summary = service.stop();
  publisher->wait_for(30s);
  CHECK(summary.received > 0);
  CHECK(summary.dropped == 0);
  CHECK(purchases(database) == summary.received);
  CHECK(summary.applied == summary.received);
}

TEST_CASE_METHOD(WithJetStream, "JetStream: two instances on one durable consumer and one database split the work", "[nats]") {
  const Env env = serve_env(server, database, {{"NATS_JETSTREAM", "true"}, {"NATS_FETCH_BATCH", "50"}});
  Service first(dir, env, "serve-1");
  first.require_started();  // creates the stream and the consumer
  Service second(dir, env, "serve-2");
  second.require_started();
  const int total = 3000;
  publish(dir, server, {"--event", "purchase", "--jetstream", "--count", std::to_string(total), "--rate", "3000"});
  REQUIRE(eventually([&] { return purchases(database) == total; }, 45s));
  const auto first_summary = first.stop();
  const auto second_summary = second.stop();
  CHECK(first_summary.received > 0);
  CHECK(second_summary.received > 0);
  CHECK(first_summary.applied + second_summary.applied == total);
  CHECK(query_count(database, "SELECT count(*) FROM customer_events") == total);
}

TEST_CASE_METHOD(WithCoreNats, "core NATS: drops by a slow consumer are logged and counted", "[nats]") {
  // A queue of one event and a tiny pending buffer, while the test holds the
  // database's write lock: the writer retries, the callback blocks, nats.c drops.
  const auto pipeline = dir / "pipeline.yaml";
  write_file(pipeline, read_file(source_dir() / "pipelines/default.yaml") + "\n");
  std::string yaml = read_file(pipeline);
  yaml.replace(yaml.find("queue_capacity: 2000"), std::string("queue_capacity: 2000").size(), "queue_capacity: 1");
  write_file(pipeline, yaml);
  Service service(dir, serve_env(server, database,
                                 {{"CUSTOMERIQ_PIPELINE", pipeline.string()}, {"NATS_PENDING_MSGS", "5"}}));
  service.require_started();
  publish(dir, server, {"--event", "purchase"});
  REQUIRE(eventually([&] { return purchases(database) == 1; }, 20s));
  {
    SQLite::Database lock(database.string(), SQLite::OPEN_READWRITE);
    lock.setBusyTimeout(5000);
    lock.exec("BEGIN IMMEDIATE");
    publish(dir, server, {"--event", "purchase", "--count", "200"});
    REQUIRE(service.process.wait_for_log("[NATS] Slow consumer on customer.events.>", 20s));
    lock.exec("ROLLBACK");
  }
  REQUIRE(eventually([&] { return purchases(database) > 1; }, 30s));
  const auto summary = service.stop();
  CHECK(summary.dropped > 0);
  CHECK(summary.received + summary.dropped == 201);
  CHECK(purchases(database) == summary.received);
  CHECK(summary.not_committed == 0);
}

namespace {

// core NATS serve with one purchase committed, then the database locked by
// another connection (held until the object goes) and a repair published
// that the writer cannot commit.
struct ServiceWithLockedStore : WithCoreNats {
  Service service{dir, serve_env(server, database)};
  std::unique_ptr<SQLite::Database> lock;

  ServiceWithLockedStore() {
    service.require_started();
    publish(dir, server, {"--event", "purchase"});
    REQUIRE(eventually([&] { return purchases(database) == 1; }, 20s));
    lock = std::make_unique<SQLite::Database>(database.string(), SQLite::OPEN_READWRITE);
    lock->setBusyTimeout(5000);
    lock->exec("BEGIN IMMEDIATE");
    publish(dir, server, {"--event", "repair"});
  }
  ~ServiceWithLockedStore() { lock->exec("ROLLBACK"); }
};

}  // namespace

TEST_CASE("a second signal exits at once while the first one waits for the store", "[nats]") {
  ServiceWithLockedStore locked;
  auto& service = locked.service;
  service.process.signal(SIGTERM);
  REQUIRE(service.process.wait_for_log("[NATS] SIGTERM received: shutting down", 10s));
  CHECK_FALSE(service.process.wait_for(500ms).has_value());  // still committing
  service.process.signal(SIGTERM);
  const auto code = service.process.wait_for(3s);
  INFO(service.process.err());
  REQUIRE(code.has_value());
  CHECK(*code == 128 + SIGTERM);
  CHECK_THAT(service.process.err(), Catch::Contains("[NATS] Second signal: exiting at once"));
}

TEST_CASE_METHOD(WithCoreNats, ".env in the working directory is read and the real environment wins and YAML source fills the rest", "[nats]") {
  write_file(dir / ".env",
             "# the service's settings\n"
             "NATS_ENABLED=true\n"
             "NATS_SERVERS=" + server.url() + "\n"
             "NATS_SUBJECTS=dotenv.events.>\n"
             "export NATS_QUEUE_GROUP=\"from-dotenv\"\n");
  Service service(dir, {{"NATS_QUEUE_GROUP", "from-env"}, {"CUSTOMERIQ_DB", database.string()}});
  service.require_started();
  CHECK_THAT(service.process.err(), Catch::Contains("[NATS] Subscribing to: dotenv.events.> (queue: from-env)\n"));
  publish(dir, server, {"--event", "purchase", "--subject-prefix", "dotenv.events"});
  REQUIRE(eventually([&] { return purchases(database) == 1; }, 20s));
  service.stop();

  // The pipeline's source: block, for what neither the environment nor .env sets.
  TempDir yaml_dir;
  const auto pipeline = yaml_dir / "pipeline.yaml";
  write_file(pipeline, read_file(source_dir() / "pipelines/default.yaml") +
                           "\nsource:\n  enabled: true\n  servers: [" + server.url() +
                           "]\n  subjects:\n    - yaml.events.*.purchase\n  queue_group: from-yaml\n");
  Service from_yaml(yaml_dir, {{"CUSTOMERIQ_PIPELINE", pipeline.string()}, {"CUSTOMERIQ_DB", database.string()}});
  from_yaml.require_started();
  CHECK_THAT(from_yaml.process.err(), Catch::Contains("[NATS] Subscribing to: yaml.events.*.purchase (queue: from-yaml)\n"));
  from_yaml.stop();

  write_file(pipeline, read_file(source_dir() / "pipelines/default.yaml") +
                           "\nsource:\n  enabled: true\n  max_deliver: lots\n");
  auto bad = run_process(CUSTOMERIQ_BINARY, {"serve"},
                         customeriq_env(yaml_dir, {{"CUSTOMERIQ_PIPELINE", pipeline.string()},
                                                   {"CUSTOMERIQ_DB", database.string()}}));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("pipeline.yaml:"));
  CHECK_THAT(bad.err, Catch::Contains("source.max_deliver is not an integer from 1 to 1000000, got \"lots\""));
}

TEST_CASE("user/password auth: right credentials work and wrong ones exit 1 with a clear error", "[nats]") {
  TempDir dir;
  NatsServer server(with_password("alice", "s3cret"));
  const auto database = dir / "db.sqlite";

  Service wrong(dir, serve_env(server, database, {{"NATS_USER", "alice"}, {"NATS_PASSWORD", "wrong"}}), "wrong");
  const auto code = wrong.process.wait_for(20s);
  INFO(wrong.process.err());
  REQUIRE(code.has_value());
  CHECK(*code == 1);
  CHECK_THAT(wrong.process.err(), Catch::Contains("Authorization Violation"));
  CHECK_THAT(wrong.process.err(), Catch::Contains("check NATS_USER/NATS_PASSWORD"));
  CHECK_THAT(wrong.process.err(), !Catch::Contains("s3cret"));

  const Env credentials{{"NATS_USER", "alice"}, {"NATS_PASSWORD", "s3cret"}};
  Service right(dir, serve_env(server, database, credentials), "right");
  right.require_started();
  auto unauthorized = run_process(CUSTOMERIQ_BINARY, {"publish", "--event", "purchase", "--servers", server.url()},
                                  customeriq_env(dir, {}));
  CHECK(unauthorized.exit_code == 1);
  CHECK_THAT(unauthorized.err, Catch::Contains("Authorization Violation"));
  publish(dir, server, {"--event", "purchase"}, credentials);
  REQUIRE(eventually([&] { return purchases(database) == 1; }, 20s));
  right.stop();
}

namespace {

// A password (or token) that must never be shown: not in an error, not in a log.
void check_hidden(const ProcessResult& result, std::initializer_list<const char*> secrets) {
  for (const char* secret : secrets) {
    INFO("secret " << secret << "\nstdout: " << result.out << "\nstderr: " << result.err);
    CHECK(result.out.find(secret) == std::string::npos);
    CHECK(result.err.find(secret) == std::string::npos);
  }
}

ProcessResult serve_once(const TempDir& dir, Env env) {
  env.emplace("NATS_ENABLED", "true");
  env.emplace("CUSTOMERIQ_DB", (dir / "db.sqlite").string());
  return run_process(CUSTOMERIQ_BINARY, {"serve"}, customeriq_env(dir, std::move(env)));
}

}  // namespace

TEST_CASE("a password or token in NATS_SERVERS is never shown in a config error", "[nats][secrets]") {
  TempDir dir;
  const auto refused = [&](const std::string& servers, const std::string& why,
                           std::initializer_list<const char*> secrets = {"S3cretPW42"}) {
    auto result = serve_once(dir, {{"NATS_SERVERS", servers}});
    INFO(servers << " -> " << result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::StartsWith("customeriq: NATS_SERVERS") && Catch::Contains(why));
    check_hidden(result, secrets);
  };
  refused("nats://alice:S3cretPW42@127.0.0.1:99999", "'nats://alice:***@127.0.0.1:99999' with a bad port");
  refused("http://alice:S3cretPW42@127.0.0.1:4222", "'http://alice:***@127.0.0.1:4222' with an unknown scheme");
  refused("nats://S3cretPW42@127.0.0.1:99999", "'nats://***@127.0.0.1:99999' with a bad port");
  refused("nats://alice:S3cretPW42@127.0.0.1:4222,", "no empty entry");
  refused("nats://127.0.0.1:4222, nats://alice:S3cretPW42@/x", "malformed server URL 'nats://alice:***@/x'");
  // The host forgotten: what looks like a port is the password.
  refused("nats://alice:S3cretPW42", "'nats://alice:***' with a bad port");
  // A comma in the password splits the URL in two: neither half is shown.
  refused("nats://alice:S3cret,PW42@127.0.0.1:4222", "with a bad port", {"S3cret", "PW42"});
  refused("nats://alice:S3cret PW42", "malformed server URL", {"S3cret", "PW42"});
}

TEST_CASE("a password or token in the pipeline's source block is never shown in a config error", "[nats][secrets]") {
  TempDir dir;
  const auto pipeline = dir / "pipeline.yaml";
  const auto refused = [&](const std::string& source, const std::string& why) {
    write_file(pipeline, read_file(source_dir() / "pipelines/default.yaml") + "\nsource:\n" + source);
    auto result = serve_once(dir, {{"CUSTOMERIQ_PIPELINE", pipeline.string()}});
    INFO(source << " -> " << result.err);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains("pipeline.yaml:") && Catch::Contains(why));
    check_hidden(result, {"S3cretPW42"});
  };
  refused("  servers: [\"nats://alice:S3cretPW42@127.0.0.1:99999\"]\n",
          "source.servers has a server 'nats://alice:***@127.0.0.1:99999' with a bad port");
  refused("  servers: \"tls://S3cretPW42@h:4222, ftp://h\"\n", "unknown scheme");
  refused("  servers: {primary: \"nats://alice:S3cretPW42@h:4222\"}\n",
          "source.servers must be a list of strings or a comma-separated string, got a mapping");
  refused("  servers: [\"nats://alice:S3cretPW42@h:4222\", 7]\n",
          "source.servers must be a list of strings: entry 2 is a number");
  refused("  user: alice\n  password: [S3cretPW42]\n", "source.password must be a string, got a list");
  refused("  token: {value: S3cretPW42}\n", "source.token must be a string, got a mapping");
  refused("  user: alice\n  password: \"S3cretPW42${\"\n", "unterminated ${");
  refused("  user: alice\n  password: \"${S3cretPW42!}\"\n", "bad variable name");
}

TEST_CASE("NATS_PASSWORD and NATS_TOKEN values are never shown, from the environment or .env", "[nats][secrets]") {
  TempDir dir;
  auto both = serve_once(dir, {{"NATS_USER", "alice"}, {"NATS_PASSWORD", "S3cretPW42"}, {"NATS_TOKEN", "T0kenXY77"}});
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.err, Catch::Contains("set only one of"));
  check_hidden(both, {"S3cretPW42", "T0kenXY77"});
  auto alone = serve_once(dir, {{"NATS_PASSWORD", "S3cretPW42"}});
  CHECK(alone.exit_code == 2);
  CHECK_THAT(alone.err, Catch::Contains("NATS_PASSWORD is set but NATS_USER is not"));
  check_hidden(alone, {"S3cretPW42"});

  // A malformed .env line is named by file and line, not shown.
  write_file(dir / ".env", "NATS_ENABLED=true\nNATS_PASSWORD S3cretPW42\n");
  auto dotenv = run_process(CUSTOMERIQ_BINARY, {"serve"}, customeriq_env(dir, {}));
  CHECK(dotenv.exit_code == 2);
  CHECK_THAT(dotenv.err, Catch::StartsWith("customeriq: .env:2: expected KEY=VALUE"));
  check_hidden(dotenv, {"S3cretPW42"});
  write_file(dir / ".env", "export \"S3cretPW42\"\n");
  auto no_name = run_process(CUSTOMERIQ_BINARY, {"profile", "x"}, customeriq_env(dir, {}));
  CHECK(no_name.exit_code == 2);
  check_hidden(no_name, {"S3cretPW42"});
}

TEST_CASE("publish --servers: a password is never shown, and errors name --servers", "[nats][secrets]") {
  TempDir dir;
  const auto run = [&](const std::string& servers) {
    return run_process(CUSTOMERIQ_BINARY, {"publish", "--event", "purchase", "--servers", servers},
                       customeriq_env(dir, {}));
  };
  auto bad_port = run("nats://alice:S3cretPW42@127.0.0.1:99999");
  CHECK(bad_port.exit_code == 2);
  CHECK_THAT(bad_port.err, Catch::StartsWith("customeriq: --servers") &&
                               Catch::Contains("'nats://alice:***@127.0.0.1:99999' with a bad port"));
  check_hidden(bad_port, {"S3cretPW42"});
  auto scheme = run("http://alice:S3cretPW42@127.0.0.1:4222");
  CHECK(scheme.exit_code == 2);
  CHECK_THAT(scheme.err, Catch::Contains("unknown scheme"));
  check_hidden(scheme, {"S3cretPW42"});

  // Well-formed but nobody listens: the connection error shows the URL redacted.
  const std::string unreachable = "nats://alice:S3cretPW42@127.0.0.1:" + std::to_string(free_port());
  auto refused = run(unreachable);
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("cannot connect to NATS at nats://alice:***@127.0.0.1:"));
  check_hidden(refused, {"S3cretPW42"});
}

TEST_CASE("credentials in a server URL never reach the logs of serve or publish", "[nats][secrets]") {
  TempDir dir;
  NatsServer server(with_password("alice", "S3cretPW42"));
  const auto database = dir / "db.sqlite";
  const std::string with_password = "nats://alice:S3cretPW42@127.0.0.1:" + std::to_string(server.port());

  Service service(dir, {{"NATS_ENABLED", "true"}, {"NATS_SERVERS", with_password},
                        {"CUSTOMERIQ_DB", database.string()}, {"CUSTOMERIQ_LOG_LEVEL", "debug"}});
  service.require_started();
  auto published = run_process(CUSTOMERIQ_BINARY,
                               {"--log-level", "debug", "publish", "--all", "--servers", with_password},
                               customeriq_env(dir, {}));
  CHECK(published.exit_code == 0);
  check_hidden(published, {"S3cretPW42"});
  REQUIRE(eventually([&] { return purchases(database) == 1; }, 20s));
  service.stop();
  const ProcessResult serve_log{0, service.process.out(), service.process.err()};
  CHECK_THAT(serve_log.err, Catch::Contains("[NATS] Connecting to NATS server(s): nats://alice:***@127.0.0.1:"));
  check_hidden(serve_log, {"S3cretPW42"});

  const std::string wrong = "nats://alice:Wr0ngPW77@127.0.0.1:" + std::to_string(server.port());
  auto rejected = serve_once(dir, {{"NATS_SERVERS", wrong}});
  CHECK(rejected.exit_code == 1);
  CHECK_THAT(rejected.err, Catch::Contains("Authorization Violation"));
  check_hidden(rejected, {"Wr0ngPW77"});
}

TEST_CASE("publish has a sample for every event type the default pipeline routes, and --all sends each", "[nats]") {
  TempDir dir;
  // The types the default pipeline's handlers take, as `plugins` reports them.
  auto plugins = run_process(CUSTOMERIQ_BINARY, {"plugins", "--json"}, customeriq_env(dir, {}));
  REQUIRE(plugins.exit_code == 0);
  std::set<std::string> routed;
  for (const auto& plugin : Json::parse(plugins.out))
    for (const auto& type : plugin["event_types"])
      if (type != "*") routed.insert(type.get<std::string>());
  REQUIRE(routed.count("work_order") == 1);
  REQUIRE(routed.count("observation") == 1);

  auto help = run_process(CUSTOMERIQ_BINARY, {"publish", "--help"}, customeriq_env(dir, {}));
  for (const auto& type : routed) CHECK_THAT(help.out, Catch::Contains(type));

  NatsServer server(without_jetstream());
  const auto database = dir / "db.sqlite";
  Service service(dir, serve_env(server, database));
  service.require_started();
  const auto all = publish(dir, server, {"--all"});
  for (const auto& type : routed)
    CHECK_THAT(all.out, Catch::Contains("published " + type + " for cust_001 on customer.events.cust_001." + type + " "));
  const auto count = static_cast<std::int64_t>(routed.size());
  REQUIRE(eventually([&] { return query_count(database, "SELECT count(*) FROM processed_events") == count; }, 20s));
  // Each sample is applied by its own handler, none is dead-lettered.
  CHECK(query_count(database, "SELECT count(*) FROM dead_letters") == 0);
  for (const auto& type : routed) {
    INFO(type);
    CHECK(query_count(database, "SELECT count(*) FROM customer_events WHERE event_type = '" + type + "'") == 1);
  }
  // The work order the repair opened, completed by the work_order sample.
  CHECK(query_count(database, "SELECT count(*) FROM work_orders WHERE id = 'WO-9999' AND status = 'completed' "
                              "AND completed_date IS NOT NULL AND resolution IS NOT NULL") == 1);
  CHECK(query_count(database, "SELECT count(*) FROM customer_knowledge WHERE category = 'behavior'") == 1);

  // One at a time, for another customer: its own ids.
  for (const char* type : {"work_order", "observation"}) {
    const auto one = publish(dir, server, {"--event", type, "--customer", "cust_002"});
    CHECK_THAT(one.out, Catch::StartsWith(std::string("published ") + type + " for cust_002"));
  }
  REQUIRE(eventually([&] { return query_count(database, "SELECT count(*) FROM processed_events") == count + 2; }, 20s));
  CHECK(query_count(database, "SELECT count(*) FROM work_orders WHERE id = 'WO-9999-cust_002' AND customer_id = 'cust_002'") == 1);
  CHECK(query_count(database, "SELECT count(*) FROM dead_letters") == 0);
  service.stop();
}

namespace {

// scripts/serve-local.sh with this build (its install and build steps find
// nothing to do), in the background.
struct ServeLocal {
  ServeLocal(const TempDir& dir, Env env, const std::string& name = "serve-local")
      : process(source_dir() / "scripts/serve-local.sh", {}, customeriq_env(dir, with_build(std::move(env))),
                dir / name) {}
  // SIGTERM: the script stops customeriq, then its nats-server.
  ~ServeLocal() {
    if (process.running()) {
      process.signal(SIGTERM);
      process.wait_for(30s);
    }
  }

  static Env with_build(Env env) {
    env.emplace("CUSTOMERIQ_BUILD_DIR", std::filesystem::path(CUSTOMERIQ_BINARY).parent_path().parent_path().string());
    return env;
  }

  bool wait_for_out(const std::string& text, std::chrono::milliseconds timeout) {
    return eventually([&] { return process.out().find(text) != std::string::npos; }, timeout);
  }

  ChildProcess process;
};

}  // namespace

TEST_CASE("serve-local.sh starts nats-server with its monitoring port on 127.0.0.1", "[nats][serve-local]") {
  TempDir dir;
  const int monitor = free_port();
  ServeLocal local(dir, {{"NATS_MONITOR_PORT", std::to_string(monitor)},
                         {"CUSTOMERIQ_DB", (dir / "db.sqlite").string()}});
  const std::string url = "http://127.0.0.1:" + std::to_string(monitor) + "/varz";
  const bool announced = local.wait_for_out("monitoring on " + url, 120s);
  INFO(local.process.out() << local.process.err());
  REQUIRE(announced);
  REQUIRE(local.process.wait_for_log("[NATS] Service started successfully", 60s));

  const auto varz = http_get(monitor, "/varz");
  REQUIRE(varz.has_value());
  CHECK_THAT(*varz, Catch::StartsWith("HTTP/1.0 200 OK") && Catch::Contains("\"server_id\""));

  local.process.signal(SIGTERM);
  const auto code = local.process.wait_for(30s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  // The script stopped the nats-server it started.
  CHECK(eventually([&] { return !http_get(monitor, "/varz").has_value(); }, 10s));
}

TEST_CASE("serve-local.sh says so when the monitoring port is taken or malformed", "[nats][serve-local]") {
  TempDir dir;
  TakenPort taken;
  ServeLocal local(dir, {{"NATS_MONITOR_PORT", std::to_string(taken.port())}});
  const auto code = local.process.wait_for(120s);
  INFO(local.process.out() << local.process.err());
  REQUIRE(code.has_value());
  CHECK(*code == 1);
  CHECK_THAT(local.process.err(),
             Catch::Contains("serve-local: the monitoring port " + std::to_string(taken.port()) +
                             " on 127.0.0.1 is taken") &&
                 Catch::Contains("NATS_MONITOR_PORT"));
  CHECK_THAT(local.process.out(), !Catch::Contains("started nats-server"));

  ServeLocal malformed(dir, {{"NATS_MONITOR_PORT", "82x2"}}, "malformed");
  const auto malformed_code = malformed.process.wait_for(120s);
  INFO(malformed.process.err());
  REQUIRE(malformed_code.has_value());
  CHECK(*malformed_code == 2);
  CHECK_THAT(malformed.process.err(), Catch::Contains("NATS_MONITOR_PORT=82x2 is not a port"));
}

TEST_CASE("serve-local.sh never prints the password of a NATS_SERVERS it is given", "[nats][serve-local][secrets]") {
  TempDir dir;
  NatsServer server(with_password("alice", "S3cretPW42"));
  ServeLocal local(dir, {{"NATS_SERVERS", "nats://alice:S3cretPW42@127.0.0.1:" + std::to_string(server.port())},
                         {"CUSTOMERIQ_DB", (dir / "db.sqlite").string()}});
  const bool started = local.process.wait_for_log("[NATS] Service started successfully", 120s);
  INFO(local.process.out() << local.process.err());
  REQUIRE(started);
  CHECK_THAT(local.process.out(), Catch::Contains("CustomerIQ serves NATS at nats://alice:***@127.0.0.1:"));
  local.process.signal(SIGTERM);
  REQUIRE(local.process.wait_for(30s).has_value());
  check_hidden({0, local.process.out(), local.process.err()}, {"S3cretPW42"});
}

TEST_CASE_METHOD(WithJetStream, "JetStream: poison events dead-letter themselves and the events fetched beside them apply", "[nats]") {
  Service service(dir, serve_env(server, database, {{"NATS_JETSTREAM", "true"}}));
  service.require_started();
  const std::size_t depth = 100000;
  const std::vector<std::string> payloads{
      R"({"event_id":"a","customer_id":"c","event_type":"note","data":{"content":"x"}})",
      R"({"customer_id":"c","event_type":"purchase","data":{"purchase_id":"o","total":1e400}})",
      R"({"event_id":"b","customer_id":"c","event_type":"note","data":{"content":"y"}})",
      R"({"customer_id":"c","event_type":"x","data":{"a":)" + std::string(depth, '[') + std::string(depth, ']') + "}}",
      R"({"event_id":"d","customer_id":"c","event_type":"note","data":{"content":"z"}})"};
  for (std::size_t i = 0; i < payloads.size(); ++i)
    publish_raw(server.url(), "customer.events.c.test", payloads[i], "poison-" + std::to_string(i), true);
  REQUIRE(eventually([&] { return query_count(database, "SELECT count(*) FROM processed_events") == 3; }, 20s));
  REQUIRE(eventually([&] { return query_count(database, "SELECT count(*) FROM dead_letters") == 2; }, 20s));
  CHECK(service.process.running());
  const auto summary = service.stop();
  CHECK(summary.received == 5);
  CHECK(summary.applied == 3);
  CHECK(summary.dead_lettered == 2);
  CHECK_THAT(service.process.err(), Catch::Contains("[NATS] JetStream: 3 acked, 2 terminated (dead-lettered)"));
}

TEST_CASE_METHOD(WithCoreNats, "the README's steps give each seed event once: publish --all, then ingest the same file", "[nats]") {
  Service service(dir, serve_env(server, database));
  service.require_started();
  publish(dir, server, {"--all"});
  REQUIRE(eventually([&] { return query_count(database, "SELECT count(*) FROM customer_events WHERE event_type IN ('purchase','support_ticket','repair')") == 3; }, 20s));
  // Counted once serve has stopped: by then every event of --all is in.
  service.stop();
  const auto published = query_count(database, "SELECT count(*) FROM customer_events");

  auto ingested = run_process(CUSTOMERIQ_BINARY,
                              {"--db", database.string(), "ingest", (source_dir() / "examples/events/seed.jsonl").string()},
                              customeriq_env(dir, {}));
  INFO(ingested.err);
  REQUIRE(ingested.exit_code == 0);
  CHECK_THAT(ingested.out, Catch::Contains("ingested 3 events: 0 applied, 3 duplicates"));
  CHECK(query_count(database, "SELECT count(*) FROM customer_events") == published);
  CHECK(query_count(database, "SELECT count(*) FROM customer_knowledge WHERE source = 'support_ticket:TKT-5678'") == 1);
}

TEST_CASE("the first signal ends serve even while the store stays locked", "[nats]") {
  ServiceWithLockedStore locked;  // for the whole test
  auto& service = locked.service;
  REQUIRE(service.process.wait_for_log("[Writer] store error", 30s));  // busy past the timeout: retrying
  service.process.signal(SIGTERM);
  const auto code = service.process.wait_for(30s);  // at most one busy timeout (10 s) more
  INFO(service.process.err());
  REQUIRE(code.has_value());
  CHECK(*code == 1);  // core NATS: an event was not committed
  CHECK_THAT(service.process.err(), Catch::Contains("(shutting down)"));
  const auto summary = parse_summary(service.process.err());
  REQUIRE(summary.has_value());
  CHECK(summary->not_committed == 1);
  CHECK_THAT(service.process.err(), Catch::Contains("1 events received are not applied yet: they stay in the spool"));

  // It was kept: the next start applies it.
  locked.lock->exec("ROLLBACK");
  locked.lock->exec("BEGIN");  // for the fixture's ROLLBACK
  Service next(locked.dir, serve_env(locked.server, locked.database), "serve-next");
  next.require_started();
  REQUIRE(eventually([&] { return query_count(locked.database, "SELECT count(*) FROM work_orders") == 1; }, 30s));
  next.stop();
}

TEST_CASE("serve warns about the NATS_* variables the setting table does not declare, and only those", "[nats]") {
  TempDir dir;
  NatsServer server(without_jetstream());
  Service service(dir, serve_env(server, dir / "db.sqlite",
                                 {{"NATS_MONITOR_PORT", "8222"}, {"NATS_SUMMARIZE_THRESHOLD", "300"},
                                  {"NATS_AUTO_CREATE_CUSTOMER", "true"}, {"NATS_MONITOR_PRT", "9222"},
                                  {"NATS_URL", "nats://127.0.0.1:1"}}));
  service.require_started();
  service.stop();
  const std::string err = service.process.err();
  CHECK_THAT(err, Catch::Contains("NATS_MONITOR_PRT (did you mean NATS_MONITOR_PORT?) is set but customeriq does not read it"));
  CHECK_THAT(err, Catch::Contains("NATS_URL (did you mean NATS_SERVERS?) is set but customeriq does not read it"));
  for (const char* known : {"NATS_MONITOR_PORT ", "NATS_SUMMARIZE_THRESHOLD ", "NATS_AUTO_CREATE_CUSTOMER ",
                            "NATS_ENABLED ", "NATS_SERVERS "})
    CHECK_THAT(err, !Catch::Contains(std::string("[NATS] ") + known));
}

namespace {

std::filesystem::path spool_of(const std::filesystem::path& database) { return database.string() + "-spool"; }

std::int64_t spooled(const std::filesystem::path& database) {
  return query_count(spool_of(database), "SELECT count(*) FROM spool");
}

// Holds the database's write lock while it lives: the writer retries, the
// events wait in the spool.
struct WriteLock {
  explicit WriteLock(const std::filesystem::path& database) : db(database.string(), SQLite::OPEN_READWRITE) {
    db.setBusyTimeout(5000);
    db.exec("BEGIN IMMEDIATE");
  }
  void release() {
    if (held) db.exec("ROLLBACK");
    held = false;
  }
  ~WriteLock() { release(); }
  SQLite::Database db;
  bool held = true;
};

}  // namespace

TEST_CASE_METHOD(WithCoreNats, "core NATS: the spool keeps what was received across a SIGKILL, and the restart applies each event once",
                 "[nats][spool]") {
  const int total = 5000;
  std::int64_t at_kill = 0;
  {
    Service first(dir, serve_env(server, database), "serve-1");
    first.require_started();
    WriteLock lock(database);
    publish(dir, server, {"--event", "purchase", "--count", std::to_string(total)});
    REQUIRE(eventually([&] { return spooled(database) == total; }, 30s));
    CHECK(purchases(database) == 0);
    lock.release();
    // Killed once the commits have begun: some events are applied and
    // still in the spool, the rest not applied at all.
    REQUIRE(eventually([&] { return purchases(database) >= 1; }, 60s, 2ms));
    first.process.signal(SIGKILL);
    REQUIRE(first.process.wait_for(10s) == 128 + SIGKILL);
    at_kill = purchases(database);
  }
  INFO("committed when killed: " << at_kill);
  CHECK(at_kill < total);

  Service second(dir, serve_env(server, database), "serve-2");
  second.require_started();
  CHECK_THAT(second.process.err(), Catch::Contains("events received before the last stop are not applied yet"));
  REQUIRE(eventually([&] { return purchases(database) == total; }, 60s));
  REQUIRE(eventually([&] { return spooled(database) == 0; }, 10s));
  const auto summary = second.stop();
  CHECK(summary.applied == total - at_kill);
  CHECK(query_count(database, "SELECT count(*) FROM customer_events WHERE event_type = 'purchase'") == total);
  CHECK(query_count(database, "SELECT count(*) FROM processed_events") == total);
  CHECK(query_count(database, "SELECT count(*) FROM dead_letters") == 0);
  CHECK(std::filesystem::status(spool_of(database)).permissions() ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

TEST_CASE_METHOD(WithCoreNats, "core NATS: a full-speed burst larger than the client's buffers arrives whole", "[nats][spool]") {
  Service service(dir, serve_env(server, database));
  service.require_started();
  const int total = 40000;  // more than NATS_PENDING_MSGS (16384) and NATS_PENDING_BYTES
  publish(dir, server, {"--event", "purchase", "--count", std::to_string(total)});
  REQUIRE(eventually([&] { return purchases(database) == total; }, 120s));
  const auto summary = service.stop();
  CHECK(summary.received == total);
  CHECK(summary.dropped == 0);
  CHECK(summary.applied == total);
  CHECK_THAT(service.process.err(), !Catch::Contains("Slow consumer"));
}

TEST_CASE_METHOD(WithCoreNats, "core NATS: beyond NATS_SPOOL_MAX_BYTES events are dropped, counted and logged", "[nats][spool]") {
  Service service(dir, serve_env(server, database, {{"NATS_SPOOL_MAX_BYTES", "20000"}}));
  service.require_started();
  {
    WriteLock lock(database);
    publish(dir, server, {"--event", "purchase", "--count", "200"});
    REQUIRE(service.process.wait_for_log("[Spool] The spool is full", 20s));
    CHECK_THAT(service.process.err(), Catch::Contains("NATS_SPOOL_MAX_BYTES=20000"));
  }
  REQUIRE(eventually([&] { return spooled(database) == 0 && purchases(database) > 0; }, 60s));
  const auto summary = service.stop();
  CHECK(summary.received == 200);
  CHECK(summary.dropped > 0);
  CHECK(purchases(database) == 200 - summary.dropped);
}

TEST_CASE_METHOD(WithCoreNats, "core NATS: two serve of one database spool apart, and one alone applies what both left", "[nats][spool]") {
  const int total = 2000;
  {
    Service first(dir, serve_env(server, database), "serve-1");
    first.require_started();
    Service second(dir, serve_env(server, database), "serve-2");
    second.require_started();
    CHECK_THAT(second.process.err(), Catch::Contains("holds its spool: using " + spool_of(database).string() + "-2"));
    WriteLock lock(database);
    publish(dir, server, {"--event", "purchase", "--count", std::to_string(total)});
    const std::filesystem::path second_spool = spool_of(database).string() + "-2";
    REQUIRE(eventually([&] {
      return spooled(database) + query_count(second_spool, "SELECT count(*) FROM spool") == total;
    }, 30s));
    CHECK(spooled(database) > 0);
    CHECK(query_count(second_spool, "SELECT count(*) FROM spool") > 0);
    first.process.signal(SIGKILL);
    second.process.signal(SIGKILL);
    REQUIRE(first.process.wait_for(10s).has_value());
    REQUIRE(second.process.wait_for(10s).has_value());
  }
  Service alone(dir, serve_env(server, database), "serve-alone");
  alone.require_started();
  CHECK_THAT(alone.process.err(), Catch::Contains("Applied what a stopped serve left in " + spool_of(database).string() + "-2"));
  REQUIRE(eventually([&] { return purchases(database) == total; }, 60s));
  alone.stop();
  CHECK(query_count(database, "SELECT count(*) FROM processed_events") == total);
}
