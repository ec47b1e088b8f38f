#include "db_facts.hpp"

#include <cmath>
#include <string>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace customeriq::bench {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const char* const kTables[] = {"customers", "customer_events", "purchases", "work_orders",
                               "customer_knowledge", "processed_events", "dead_letters"};

}  // namespace

void remove_db(const fs::path& db) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(db.string() + suffix);
}

std::uint64_t checkpointed_size(const fs::path& db) {
  {
    SQLite::Database connection(db.string(), SQLite::OPEN_READWRITE);
    connection.setBusyTimeout(10000);
    connection.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  std::uint64_t bytes = fs::file_size(db);
  const fs::path wal = db.string() + "-wal";
  if (fs::exists(wal)) bytes += fs::file_size(wal);
  return bytes;
}

Json table_facts(const fs::path& db_path) {
  SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
  db.setBusyTimeout(10000);
  Json facts = Json::object();
  for (const char* table : kTables)
    facts["rows"][table] = db.execAndGet(std::string("SELECT count(*) FROM ") + table).getInt64();
  auto value = [&](const char* sql) { return db.execAndGet(sql).getDouble(); };
  // The full-text indexes: one docsize row per indexed row, and a few terms.
  for (const char* fts : {"customer_events_fts", "customer_knowledge_fts", "customers_fts"})
    facts["rows"][std::string(fts) + " (indexed)"] =
        db.execAndGet(std::string("SELECT count(*) FROM ") + fts + "_docsize").getInt64();
  facts["fingerprint"] = {
      {"customers.lifetime_value_cents", std::llround(value("SELECT total(lifetime_value) FROM customers") * 100)},
      {"customers.name_email_chars", value("SELECT total(length(name) + length(email)) FROM customers")},
      {"customer_events.description_chars", value("SELECT total(length(description)) FROM customer_events")},
      {"customer_events.title_chars", value("SELECT total(length(title)) FROM customer_events")},
      {"customer_events.metadata_chars", value("SELECT total(length(metadata)) FROM customer_events")},
      {"customer_events.raw_chars", value("SELECT total(length(raw_event_data)) FROM customer_events")},
      {"work_orders.completed", value("SELECT count(*) FROM work_orders WHERE completed_date IS NOT NULL")},
      {"work_orders.text_chars", value("SELECT total(length(issue_description) + coalesce(length(resolution), 0)) FROM work_orders")},
      {"customer_knowledge.content_chars", value("SELECT total(length(content)) FROM customer_knowledge")},
      {"customer_events_fts MATCH battery", value("SELECT count(*) FROM customer_events_fts WHERE customer_events_fts MATCH 'battery'")},
      {"customer_events_fts MATCH refund AND screen", value("SELECT count(*) FROM customer_events_fts WHERE customer_events_fts MATCH 'refund screen'")},
      {"customer_knowledge_fts MATCH battery", value("SELECT count(*) FROM customer_knowledge_fts WHERE customer_knowledge_fts MATCH 'battery'")},
      {"customers_fts MATCH garcia", value("SELECT count(*) FROM customers_fts WHERE customers_fts MATCH 'garcia'")},
  };
  return facts;
}

Json space_by_object(const fs::path& db_path) {
  Json out = Json::object();
  try {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC");
    while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
  } catch (const std::exception& error) {
    out["error"] = error.what();
  }
  return out;
}

std::int64_t scalar(const fs::path& db_path, const char* sql) {
  SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
  db.setBusyTimeout(10000);
  return db.execAndGet(sql).getInt64();
}

}  // namespace customeriq::bench
