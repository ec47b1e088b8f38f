// Opening and migrating the store: the seed service's databases adopted,
// migrations all or nothing, foreign schemas refused untouched, files
// owner-only, errors that name the path. Real files, the real binary.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "store/store_error.hpp"
#include "store/store_reader.hpp"
#include "store/store_schema.hpp"
#include "store/store_writer.hpp"
#include "support/nats_fixture.hpp"
#include "support/store_fixture.hpp"
#include "support/test_support.hpp"

using namespace customeriq;
using namespace customeriq::test;
namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = source_dir() / "tests/fixtures/seed_service";

// A database file made with plain SQLite from fixture files and SQL.
void make_database(const fs::path& path, const std::vector<fs::path>& fixtures, const std::string& sql = "") {
  SQLite::Database db(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  for (const auto& fixture : fixtures) db.exec(read_file(fixture));
  if (!sql.empty()) db.exec(sql);
}

std::string schema_of(const fs::path& path) {
  SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
  return rows_as_text(db, "SELECT type, name, sql FROM sqlite_schema ORDER BY type, name") + "\nuser_version " +
         rows_as_text(db, "PRAGMA user_version");
}

std::string error_of_open(const fs::path& path) {
  try {
    open_store_for_writing(path);
  } catch (const StoreError& error) {
    return error.what();
  }
  return "(opened)";
}

// A folder of its own with the path of a seed database file in it, made by the test.
struct SeedFile {
  TempDir dir;
  const fs::path path = dir / "seed.db";
};

unsigned mode_of(const fs::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return 0;
  return status.st_mode & 07777;
}

}  // namespace

TEST_CASE_METHOD(SeedFile, "the seed service's knowledge importance becomes 1..10", "[schema][seed]") {
  make_database(path, {kFixtures / "seed.sql"}, R"sql(
    DELETE FROM customer_knowledge;
    INSERT INTO customer_knowledge(id, customer_id, content, importance) VALUES
      ('k01', 'cust_001', 'a', 'low'), ('k02', 'cust_001', 'b', ' Medium '), ('k03', 'cust_001', 'c', 'HIGH'),
      ('k04', 'cust_001', 'd', 'urgent'), ('k05', 'cust_001', 'e', 'critical'), ('k06', 'cust_001', 'f', '1'),
      ('k07', 'cust_001', 'g', '10'), ('k08', 'cust_001', 'h', 9), ('k09', 'cust_001', 'i', '3.6'),
      ('k10', 'cust_001', 'j', '15'), ('k11', 'cust_001', 'k', '0'), ('k12', 'cust_001', 'l', '-2'),
      ('k13', 'cust_001', 'm', ''), ('k14', 'cust_001', 'n', 'important'), ('k15', 'cust_001', 'o', NULL);)sql");
  auto db = open_store_for_writing(path);
  CHECK(rows_as_text(*db, "SELECT group_concat(original_id || '=' || importance, ' ') FROM "
                          "(SELECT original_id, importance FROM customer_knowledge ORDER BY id)") ==
        "k01=3 k02=5 k03=8 k04=10 k05=10 k06=1 k07=10 k08=9 k09=4 k10=10 k11=1 k12=1 k13=5 k14=5 k15=5");
  CHECK(rows_as_text(*db, "SELECT DISTINCT typeof(importance) FROM customer_knowledge") == "integer");
}

TEST_CASE_METHOD(SeedFile, "the seed's own tables under names we use are renamed aside with their rows", "[schema][seed]") {
  // seed_dead_letters is taken too: the next free name is used.
  make_database(path, {kFixtures / "seed.sql"}, R"sql(
    CREATE TABLE processed_events (event_id TEXT PRIMARY KEY, processed_at INTEGER);
    INSERT INTO processed_events VALUES ('evt_001', 1734134400), ('evt_002', 1734220800);
    CREATE TABLE seed_dead_letters (note TEXT);
    INSERT INTO seed_dead_letters VALUES ('made by someone else');)sql");
  {
    auto db = open_store_for_writing(path);
    CHECK(rows_as_text(*db, "SELECT event_id FROM seed_processed_events ORDER BY 1") == "evt_001\nevt_002");
    CHECK(rows_as_text(*db, "SELECT payload, error FROM seed_dead_letters_2") ==
          "{\"event_type\":|Expecting value: line 1 column 15 (char 14)");
    CHECK(rows_as_text(*db, "SELECT note FROM seed_dead_letters") == "made by someone else");
    CHECK(rows_as_text(*db, "SELECT count(*) FROM seed_customer_search WHERE seed_customer_search MATCH 'acme'") == "1");
    // Ours, empty, in their place: the writer uses them.
    CHECK(rows_as_text(*db, "SELECT (SELECT count(*) FROM processed_events), (SELECT count(*) FROM dead_letters)") == "0|0");
  }
  StoreWriter writer(path, {});
  WriteItem bad;
  bad.content = DeadLetter{"not valid JSON", "{oops", "s", {}, "", ""};
  writer.apply_batch({bad});
  CHECK(rows_as_text(writer.database(), "SELECT reason FROM dead_letters") == "not valid JSON");
}

TEST_CASE_METHOD(SeedFile, "the seed's indexes, views and triggers are kept across the conversion", "[schema][seed]") {
  make_database(path, {kFixtures / "seed.sql"}, R"sql(
    CREATE INDEX events_by_type ON customer_events(event_type);
    CREATE VIEW open_tickets AS SELECT e.id, c.name, e.title FROM customer_events e
      JOIN customers c ON c.id = e.customer_id WHERE e.status = 'open';
    CREATE TRIGGER phone_changed AFTER UPDATE OF phone ON customers
      BEGIN UPDATE customers SET updated_at = 42 WHERE id = new.id; END;)sql");
  auto db = open_store_for_writing(path);
  CHECK(rows_as_text(*db, "SELECT name, title FROM open_tickets") == "John Smith|Product not working");
  CHECK(rows_as_text(*db, "SELECT tbl_name FROM sqlite_schema WHERE name = 'events_by_type'") == "customer_events");
  db->exec("UPDATE customers SET phone = '+1 555 0199' WHERE id = 'cust_002'");
  CHECK(rows_as_text(*db, "SELECT updated_at FROM customers WHERE id = 'cust_002'") == "42");
  CHECK(rows_as_text(*db, "PRAGMA foreign_keys") == "1");
  CHECK(rows_as_text(*db, "PRAGMA journal_mode") == "wal");
  CHECK(rows_as_text(*db, "SELECT count(*) FROM pragma_foreign_key_check") == "0");
  CHECK(rows_as_text(*db, "PRAGMA integrity_check") == "ok");
}

TEST_CASE_METHOD(SeedFile, "seed databases an earlier CustomerIQ left at version 1 or 2 are adopted", "[schema][seed]") {
  std::string left;
  SECTION("version 1: its migration 2 failed on the seed's dead_letters") {
    make_database(path, {kFixtures / "seed.sql"}, "PRAGMA user_version = 1");
    left = "1";
  }
  SECTION("version 2: migration 2 ran over the seed's tables, events were dead-lettered") {
    make_database(path, {kFixtures / "seed.sql", kFixtures / "left_by_earlier_customeriq.sql"});
    left = "2";
  }
  auto result = run_customeriq({"--db", path.string(), "reindex"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.err, Catch::Contains("from schema version " + left + " to " + std::to_string(latest_schema_version())));
  {
    SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
    CHECK(rows_as_text(db, "SELECT group_concat(original_id) FROM customer_events") == "evt_001,evt_002,evt_003,evt_004");
    CHECK(rows_as_text(db, "SELECT typeof(id), typeof(importance) FROM customer_knowledge WHERE original_id = 'kn_001'") ==
          "integer|integer");
    CHECK(rows_as_text(db, "SELECT count(*) FROM customers WHERE search_rowid IS NULL") == "0");
  }
  StoreReader reader(path);
  CHECK(reader.search("pairing").size() == 1);
  CHECK(reader.search("invoices").size() == 1);
  CHECK(reader.search("garcia")[0]["customer_id"] == "cust_002");

  if (left == "2") {
    // The event dead-lettered by the earlier build applies now.
    auto replay = run_customeriq({"--db", path.string(), "dead-letters", "--replay"});
    INFO(replay.err);
    CHECK_THAT(replay.out, Catch::Contains("replayed 1 events: 1 applied"));
    SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
    CHECK(rows_as_text(db, "SELECT customer_id, content FROM customer_knowledge WHERE original_id IS NULL") ==
          "cust_002|Moved to Madrid");
  } else {
    SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
    CHECK(rows_as_text(db, "SELECT count(*) FROM seed_dead_letters") == "1");
  }
}

TEST_CASE_METHOD(SeedFile, "a failed migration leaves the file exactly as it was and fails the same way again", "[schema][migrations]") {
  // An object in the way of migration 2, after the seed's tables are converted.
  make_database(path, {kFixtures / "seed.sql"}, "CREATE TABLE customers_fts (x)");
  const std::string bytes = read_file(path), schema = schema_of(path);

  const std::string first = error_of_open(path);
  CHECK_THAT(first, Catch::Contains("cannot migrate database " + path.string() + " from schema version 0 to " +
                                    std::to_string(latest_schema_version())));
  CHECK_THAT(first, Catch::Contains("migration 2 failed: table customers_fts already exists"));
  CHECK_THAT(first, Catch::Contains("nothing was changed"));
  CHECK(schema_of(path) == schema);
  CHECK(read_file(path) == bytes);
  CHECK_FALSE(fs::exists(path.string() + "-journal"));
  CHECK_FALSE(fs::exists(path.string() + "-wal"));

  CHECK(error_of_open(path) == first);
  auto ingest = run_customeriq({"--db", path.string(), "ingest", "-"}, {.stdin_text = "{\"event_type\":\"x\"}\n"});
  CHECK(ingest.exit_code == 3);
  CHECK_THAT(ingest.err, Catch::Contains(first));
  CHECK(read_file(path) == bytes);
}

TEST_CASE("a schema neither empty, ours nor the seed's is refused before the file is touched", "[schema][migrations]") {
  TempDir dir;
  const auto path = dir / "other.db";
  std::string reason;
  SECTION("another application's tables") {
    make_database(path, {}, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES ('x')");
    reason = "it has tables notes and none of customers, customer_events, purchases, work_orders, customer_knowledge";
  }
  SECTION("the seed's names with other columns") {
    make_database(path, {kFixtures / "seed.sql"},
                  "ALTER TABLE customer_events DROP COLUMN raw_event_data; ALTER TABLE customer_events ADD COLUMN payload BLOB");
    reason = "its table customer_events (id TEXT, customer_id TEXT, event_type TEXT, event_date INTEGER, title TEXT, "
             "description TEXT, amount REAL, status TEXT, metadata TEXT, agent_notes TEXT, source_service TEXT, "
             "created_at INTEGER, payload BLOB) has neither CustomerIQ's columns nor the seed service's";
  }
  SECTION("part of the seed's tables") {
    make_database(path, {kFixtures / "seed.sql"}, "DROP TABLE work_orders");
    reason = "its table customer_events is the seed service's but it has no table work_orders";
  }
  SECTION("CustomerIQ's schema version with a table missing") {
    open_store_for_writing(path);
    make_database(path, {}, "DROP TABLE purchases");
    reason = "it is at schema version " + std::to_string(latest_schema_version()) + " but has no table purchases";
  }
  const std::string bytes = read_file(path);
  CHECK(error_of_open(path) == "database " + path.string() +
                                   " is neither CustomerIQ's nor the seed service's, and was left as it is: " + reason);
  CHECK(read_file(path) == bytes);
  CHECK_FALSE(fs::exists(path.string() + "-journal"));
}

TEST_CASE("migrating twice changes nothing - a newer schema is refused", "[schema][migrations]") {
  TempDir dir;
  const auto path = dir / "db.sqlite";
  open_store_for_writing(path);
  const std::string schema = schema_of(path);
  {
    auto db = open_store_for_writing(path);
    CHECK(db->execAndGet("PRAGMA user_version").getInt() == latest_schema_version());
    CHECK(schema_of(path) == schema);
    db->exec("PRAGMA user_version = 99");
  }
  CHECK_THROWS_AS(open_store_for_writing(path), StoreError);
  CHECK_THROWS_WITH(open_store_for_writing(path),
                    "database " + path.string() + " is at schema version 99, newer than this customeriq (" +
                        std::to_string(latest_schema_version()) + "); upgrade customeriq");
  CHECK_THROWS_AS(StoreReader(path), StoreError);
  CHECK_THROWS_WITH(StoreReader(path), Catch::Contains("schema version 99"));
}

TEST_CASE("CustomerIQ's own database at version 2 gains original_id and keeps its rows", "[schema][migrations]") {
  TempDir dir;
  const auto path = dir / "db.sqlite";
  {
    StoreWriter writer(path, {});
    sdk::AppendTimelineEvent event;
    event.title = "Called about the invoice";
    sdk::AddKnowledge knowledge;
    knowledge.content = "Pays late";
    WriteItem item;
    item.content = HandledEvent{sdk::Event{}, "test", {event, knowledge}};
    auto& handled = std::get<HandledEvent>(item.content);
    handled.event.customer_id = "c1";
    handled.event.event_type = "call";
    handled.event.idempotency_key = "k1";
    REQUIRE(writer.apply_batch({item}) == std::vector{Outcome::applied});
    WriteItem letter;
    letter.content = DeadLetter{"bad", "{bad", "s", {}, "", "k2"};
    REQUIRE(writer.apply_batch({letter}) == std::vector{Outcome::dead_lettered});
    // What version 2 was: the same tables without original_id, dead letters
    // unique by key without payload_hash, no change log.
    writer.database().exec(test::kDropLifecycleTablesSql);
    writer.database().exec(R"sql(
      DROP TABLE changes;
      DROP TABLE change_log_state;
      DROP INDEX customers_by_update;
      ALTER TABLE customer_events DROP COLUMN original_id;
      ALTER TABLE customer_knowledge DROP COLUMN original_id;
      DROP INDEX dead_letters_by_payload;
      DROP INDEX dead_letters_by_key;
      ALTER TABLE dead_letters DROP COLUMN payload_hash;
      CREATE UNIQUE INDEX dead_letters_by_key ON dead_letters(idempotency_key);
      PRAGMA user_version = 2;)sql");
  }
  auto db = open_store_for_writing(path);
  CHECK(db->execAndGet("PRAGMA user_version").getInt() == latest_schema_version());
  CHECK(rows_as_text(*db, "SELECT id, original_id, title FROM customer_events") == "1|NULL|Called about the invoice");
  CHECK(rows_as_text(*db, "SELECT id, original_id, content FROM customer_knowledge") == "1|NULL|Pays late");
  // Migration 4 hashes the payloads it finds.
  CHECK(rows_as_text(*db, "SELECT idempotency_key, payload_hash = customeriq_fnv128(raw) FROM dead_letters") == "k2|1");
}

TEST_CASE("tables made by hand from docs/SCHEMA.md, without a version, are migrated with their rows", "[schema][migrations]") {
  TempDir dir;
  const auto path = dir / "hand.sqlite";
  make_database(path, {}, R"sql(
    CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, email TEXT, phone TEXT, company TEXT,
      status TEXT NOT NULL DEFAULT 'active', customer_since INTEGER, lifetime_value REAL NOT NULL DEFAULT 0,
      tags TEXT NOT NULL DEFAULT '[]', custom_fields TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
    INSERT INTO customers(id, name, email, created_at, updated_at) VALUES ('old_1', 'Old Timer', 'old@example.com', 1, 1);)sql");
  {
    auto db = open_store_for_writing(path);
    CHECK(db->execAndGet("PRAGMA user_version").getInt() == latest_schema_version());
    CHECK(db->execAndGet("PRAGMA journal_mode").getString() == "wal");
  }
  StoreReader reader(path);
  CHECK(reader.profile("old_1")->at("customer")["name"] == "Old Timer");
  CHECK(reader.search("timer")[0]["customer_id"] == "old_1");
}

TEST_CASE("the database, -wal, -shm and ~/.customeriq are owner-only under umask 022", "[schema][permissions]") {
  TempDir dir;
  const auto home = dir / "home";
  fs::create_directory(home);
  const auto fifo = dir / "events.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  ProcessOptions options;
  options.env["HOME"] = home.string();
  options.unset_env = {"CUSTOMERIQ_DB", "CUSTOMERIQ_PIPELINE", "CUSTOMERIQ_LOG_LEVEL", "CUSTOMERIQ_PLUGIN_DIR",
                       "NATS_SUMMARIZE_THRESHOLD", "NATS_AUTO_CREATE_CUSTOMER"};

  // The child inherits the umask at fork.
  const mode_t previous_umask = ::umask(022);
  ChildProcess ingest(CUSTOMERIQ_BINARY, {"ingest", "--quiet", fifo.string()}, options, dir / "ingest");
  ::umask(previous_umask);

  // Events come through the FIFO, which stays open: the ingest keeps its
  // connection, and with it the -wal and -shm files, until it is closed.
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::seconds(20);
  int fd = -1;
  while (fd < 0 && clock::now() < deadline) {
    fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // ENXIO until the ingest opens it
    if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(fd >= 0);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  const std::string event = R"({"event_id":"p1","customer_id":"c1","event_type":"note","data":{"content":"private"}})" "\n";
  REQUIRE(::write(fd, event.data(), event.size()) == static_cast<ssize_t>(event.size()));

  const auto folder = home / ".customeriq";
  const auto database = folder / "customeriq.db";
  const fs::path wal = database.string() + "-wal", shm = database.string() + "-shm";
  while (clock::now() < deadline && !(fs::exists(wal) && fs::file_size(wal) > 0 && fs::exists(shm)))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(mode_of(folder) == 0700);
  CHECK(mode_of(database) == 0600);
  CHECK(mode_of(wal) == 0600);
  CHECK(mode_of(shm) == 0600);
  ::close(fd);
  CHECK(ingest.wait_for(std::chrono::seconds(20)) == 0);
  INFO(ingest.err());
  CHECK_THAT(ingest.out(), Catch::Contains("1 applied"));
  CHECK(mode_of(database) == 0600);
}

TEST_CASE("every folder the writer creates is 0700, folders that exist keep their mode", "[schema][permissions]") {
  TempDir dir;
  fs::create_directory(dir / "shared");
  fs::permissions(dir / "shared", fs::perms(0755));
  const mode_t previous_umask = ::umask(022);
  {
    auto db = open_store_for_writing(dir / "shared/a/b/db.sqlite");
  }
  ::umask(previous_umask);
  CHECK(mode_of(dir / "shared") == 0755);
  CHECK(mode_of(dir / "shared/a") == 0700);
  CHECK(mode_of(dir / "shared/a/b") == 0700);
  CHECK(mode_of(dir / "shared/a/b/db.sqlite") == 0600);
}

TEST_CASE("errors opening the database name its path", "[schema][paths]") {
  TempDir dir;
  write_file(dir / "file.txt", "just text\n");
  fs::path path;
  std::string writing, reading;
  SECTION("a folder that cannot be created: under a regular file") {
    path = dir / "file.txt/sub/db.sqlite";
    writing = "cannot create the folder " + (dir / "file.txt/sub").string() + " for database " + path.string() +
              ": " + (dir / "file.txt").string() + " is not a folder";
    reading = "no CustomerIQ database at " + path.string();
  }
  SECTION("a folder given as the database") {
    path = dir.path();
    writing = reading = "cannot open database " + path.string() + ": it is a folder, not a file";
  }
  SECTION("a file that is not a database") {
    path = dir / "file.txt";
    writing = reading = "cannot open database " + path.string() + ": file is not a database";
  }
  SECTION("an empty path") {
    writing = reading = "the database path is empty";
  }
  CHECK(error_of_open(path) == writing);
  if (reading.rfind("no CustomerIQ", 0) != 0) CHECK_THROWS_AS(StoreReader(path), StoreError);
  CHECK_THROWS_WITH(StoreReader(path), Catch::StartsWith(reading));

  // The command line refuses an empty --db itself (a usage error, exit 2).
  if (!path.empty()) {
    auto ingest = run_customeriq({"--db", path.string(), "ingest", "-"}, {.stdin_text = "{\"event_type\":\"x\"}\n"});
    CHECK(ingest.exit_code == 3);
    CHECK(ingest.err == "customeriq: " + writing + "\n");
    auto profile = run_customeriq({"--db", path.string(), "profile", "c1"});
    CHECK(profile.exit_code == 3);
    CHECK_THAT(profile.err, Catch::StartsWith("customeriq: " + reading));
  }
  CHECK(read_file(dir / "file.txt") == "just text\n");
}
