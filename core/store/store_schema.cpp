#include "store/store_schema.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>
#include <spdlog/spdlog.h>

#include "hash.hpp"

namespace customeriq {
namespace {

// Dates are unix seconds (INTEGER); JSON columns hold JSON text.
// Migration 1 has the seed service's five tables and column names, with
// integer ids for timeline and knowledge rows, integer importance and our
// defaults; a database made by the seed service is converted to it by
// adopt_seed_tables.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE IF NOT EXISTS customers (
  id TEXT PRIMARY KEY,
  name TEXT,
  email TEXT,
  phone TEXT,
  company TEXT,
  status TEXT NOT NULL DEFAULT 'active',
  customer_since INTEGER,
  lifetime_value REAL NOT NULL DEFAULT 0,
  tags TEXT NOT NULL DEFAULT '[]',
  custom_fields TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL DEFAULT (unixepoch()),
  updated_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE TABLE IF NOT EXISTS customer_events (
  id INTEGER PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  event_type TEXT NOT NULL,
  event_date INTEGER NOT NULL,
  title TEXT,
  description TEXT,
  amount REAL,
  status TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  agent_notes TEXT,
  source_service TEXT,
  raw_event_data TEXT,
  created_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE TABLE IF NOT EXISTS purchases (
  id TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  product_name TEXT,
  product_sku TEXT,
  quantity INTEGER NOT NULL DEFAULT 1,
  price REAL,
  total REAL NOT NULL,
  purchase_date INTEGER NOT NULL,
  warranty_expires INTEGER,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE TABLE IF NOT EXISTS work_orders (
  id TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  order_type TEXT,
  issue_description TEXT,
  resolution TEXT,
  status TEXT,
  priority TEXT,
  assigned_to TEXT,
  created_date INTEGER,
  completed_date INTEGER,
  cost REAL,
  metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS customer_knowledge (
  id INTEGER PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  content TEXT NOT NULL,
  category TEXT,
  importance INTEGER,
  tags TEXT NOT NULL DEFAULT '[]',
  source TEXT,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()),
  updated_at INTEGER NOT NULL DEFAULT (unixepoch())
);
)sql";

// Migration 2: what CustomerIQ adds around the seed's tables: indexes for
// the profile reads, full-text search, idempotency keys and dead letters.
//
// The writer keeps the FTS tables in step itself, once per batch (see
// StoreWriter::index_batch), not with triggers: a trigger that writes an
// FTS5 table gives every INSERT a statement journal, and FTS5 flushes its
// pending terms to a new segment at each one — a b-tree segment per row
// instead of one per batch, which cost more than all other writes together.
// Rows written by hand are indexed by `customeriq reindex`.
//
// Event and knowledge text is indexed with external content (no second
// copy). Customers have a TEXT key, and VACUUM may renumber a table's
// implicit rowid, so their FTS rows are keyed by search_rowid, a stored
// number given at insert, and keep their own small copy of the text so a
// changed customer's old row can be deleted by that key alone.
constexpr const char* kMigration2 = R"sql(
CREATE INDEX IF NOT EXISTS customer_events_by_customer ON customer_events(customer_id, event_date);
CREATE INDEX IF NOT EXISTS purchases_by_customer ON purchases(customer_id, purchase_date);
CREATE INDEX IF NOT EXISTS work_orders_by_customer ON work_orders(customer_id, created_date);
CREATE INDEX IF NOT EXISTS customer_knowledge_by_customer ON customer_knowledge(customer_id);
CREATE INDEX IF NOT EXISTS customers_by_email ON customers(email COLLATE NOCASE);

ALTER TABLE customers ADD COLUMN search_rowid INTEGER;
UPDATE customers SET search_rowid = rowid;
CREATE UNIQUE INDEX customers_by_search_rowid ON customers(search_rowid);

CREATE VIRTUAL TABLE customer_events_fts USING fts5(
  title, description, content='customer_events', content_rowid='id');
CREATE VIRTUAL TABLE customer_knowledge_fts USING fts5(
  content, content='customer_knowledge', content_rowid='id');
CREATE VIRTUAL TABLE customers_fts USING fts5(name, email, company);

INSERT INTO customer_events_fts(customer_events_fts) VALUES ('rebuild');
INSERT INTO customer_knowledge_fts(customer_knowledge_fts) VALUES ('rebuild');
INSERT INTO customers_fts(rowid, name, email, company)
  SELECT search_rowid, name, email, company FROM customers;

CREATE TABLE processed_events (
  idempotency_key TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY,
  received_at INTEGER NOT NULL,
  subject TEXT,
  reason TEXT NOT NULL,
  raw BLOB NOT NULL,
  headers TEXT NOT NULL DEFAULT '[]',
  event_type TEXT,
  idempotency_key TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 1,
  last_attempt_at INTEGER NOT NULL
);
CREATE INDEX dead_letters_by_time ON dead_letters(received_at);
-- The same bad event received again updates its row instead of adding one.
CREATE UNIQUE INDEX dead_letters_by_key ON dead_letters(idempotency_key);
)sql";

// Migration 3: the seed service's own text ids of the timeline and
// knowledge rows it made (evt_…, kn_…), kept when adopt_seed_tables gives
// those rows integer ids. NULL for CustomerIQ's own rows.
constexpr const char* kMigration3 = R"sql(
ALTER TABLE customer_events ADD COLUMN original_id TEXT;
ALTER TABLE customer_knowledge ADD COLUMN original_id TEXT;
)sql";

// Migration 4: one dead letter per distinct payload (two different bad
// events with one idempotency key are two rows); the key stays indexed so an
// event that applies can drop the letters it supersedes.
constexpr const char* kMigration4 = R"sql(
ALTER TABLE dead_letters ADD COLUMN payload_hash TEXT;
UPDATE dead_letters SET payload_hash = customeriq_fnv128(raw);
DELETE FROM dead_letters WHERE id NOT IN (SELECT max(id) FROM dead_letters GROUP BY payload_hash);
DROP INDEX dead_letters_by_key;
CREATE INDEX dead_letters_by_key ON dead_letters(idempotency_key);
CREATE UNIQUE INDEX dead_letters_by_payload ON dead_letters(payload_hash);
)sql";

// Append-only: a database's user_version is the count of these it has.
constexpr const char* kMigrations[] = {kMigration1, kMigration2, kMigration3, kMigration4};

// customeriq_fnv128(blob): the payload hash the writer stores, for migrations.
void register_functions(SQLite::Database& db) {
  auto fnv128 = [](sqlite3_context* context, int, sqlite3_value** arguments) {
    const auto* bytes = static_cast<const char*>(sqlite3_value_blob(arguments[0]));
    const std::string hex = fnv1a_128_hex(
        std::string_view(bytes ? bytes : "", static_cast<std::size_t>(sqlite3_value_bytes(arguments[0]))));
    sqlite3_result_text(context, hex.c_str(), static_cast<int>(hex.size()), SQLITE_TRANSIENT);
  };
  sqlite3_create_function(db.getHandle(), "customeriq_fnv128", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                          nullptr, fnv128, nullptr, nullptr);
}

constexpr const char* kRebuildSearchIndex = R"sql(
INSERT INTO customer_events_fts(customer_events_fts) VALUES ('rebuild');
INSERT INTO customer_knowledge_fts(customer_knowledge_fts) VALUES ('rebuild');
UPDATE customers SET search_rowid = (SELECT COALESCE(MAX(search_rowid), 0) FROM customers) + rowid
 WHERE search_rowid IS NULL;
DELETE FROM customers_fts;
INSERT INTO customers_fts(rowid, name, email, company)
  SELECT search_rowid, name, email, company FROM customers;
INSERT INTO customers_fts(customers_fts) VALUES ('optimize');
)sql";

// ---------------------------------------------------------------- the seed
//
// The seed service's five tables, as its CREATE TABLE statements declare
// them. CustomerIQ's migration 1 has the same column names; the types
// differ in three places (marked), the constraints in many.
struct SeedColumn {
  const char* name;
  const char* seed_type;
  const char* our_type;
};

struct SeedTable {
  const char* name;
  std::vector<SeedColumn> columns;  // the first is the primary key, id
  // Our column -> its value from the seed's row; other columns are copied.
  std::map<std::string, std::string> conversions;
  // The seed's text id moves to original_id (the row gets an integer id).
  const char* original_id_kind = nullptr;
};

// The seed's importance is free text; ours is 1 (trivia) .. 10 (critical),
// with the words the note and support_ticket plugins use. A number given as
// text is kept (rounded, within 1..10); anything else is the default, 5.
constexpr const char* kImportanceFromSeed = R"sql(CASE
  WHEN importance IS NULL THEN 5
  WHEN lower(trim(importance)) = 'low' THEN 3
  WHEN lower(trim(importance)) = 'medium' THEN 5
  WHEN lower(trim(importance)) = 'high' THEN 8
  WHEN lower(trim(importance)) IN ('urgent', 'critical') THEN 10
  WHEN (trim(importance) GLOB '[0-9]*' OR trim(importance) GLOB '-[0-9]*')
       AND substr(trim(importance), 2) NOT GLOB '*[^0-9.]*'
    THEN max(1, min(10, CAST(round(CAST(trim(importance) AS REAL)) AS INTEGER)))
  ELSE 5
END)sql";

const std::vector<SeedTable>& seed_tables() {
  static const std::vector<SeedTable> tables = {
      {"customers",
       {{"id", "TEXT", "TEXT"}, {"name", "TEXT", "TEXT"}, {"email", "TEXT", "TEXT"},
        {"phone", "TEXT", "TEXT"}, {"company", "TEXT", "TEXT"}, {"status", "TEXT", "TEXT"},
        {"customer_since", "INTEGER", "INTEGER"}, {"lifetime_value", "REAL", "REAL"},
        {"tags", "TEXT", "TEXT"}, {"custom_fields", "TEXT", "TEXT"},
        {"created_at", "INTEGER", "INTEGER"}, {"updated_at", "INTEGER", "INTEGER"}},
       {{"status", "COALESCE(status, 'active')"},
        {"lifetime_value", "COALESCE(lifetime_value, 0)"},
        {"tags", "COALESCE(tags, '[]')"},
        {"custom_fields", "COALESCE(custom_fields, '{}')"},
        {"created_at", "COALESCE(created_at, unixepoch())"},
        {"updated_at", "COALESCE(updated_at, created_at, unixepoch())"}}},
      {"customer_events",
       {{"id", "TEXT", "INTEGER"},  // differs
        {"customer_id", "TEXT", "TEXT"}, {"event_type", "TEXT", "TEXT"},
        {"event_date", "INTEGER", "INTEGER"}, {"title", "TEXT", "TEXT"},
        {"description", "TEXT", "TEXT"}, {"amount", "REAL", "REAL"}, {"status", "TEXT", "TEXT"},
        {"metadata", "TEXT", "TEXT"}, {"agent_notes", "TEXT", "TEXT"},
        {"source_service", "TEXT", "TEXT"}, {"raw_event_data", "TEXT", "TEXT"},
        {"created_at", "INTEGER", "INTEGER"}},
       {{"id", "rowid"},
        {"metadata", "COALESCE(metadata, '{}')"},
        {"created_at", "COALESCE(created_at, unixepoch())"}},
       "event"},
      {"purchases",
       {{"id", "TEXT", "TEXT"}, {"customer_id", "TEXT", "TEXT"}, {"product_name", "TEXT", "TEXT"},
        {"product_sku", "TEXT", "TEXT"}, {"quantity", "INTEGER", "INTEGER"},
        {"price", "REAL", "REAL"}, {"total", "REAL", "REAL"},
        {"purchase_date", "INTEGER", "INTEGER"}, {"warranty_expires", "INTEGER", "INTEGER"},
        {"metadata", "TEXT", "TEXT"}, {"created_at", "INTEGER", "INTEGER"}},
       {{"quantity", "COALESCE(quantity, 1)"},
        {"total", "COALESCE(total, price * COALESCE(quantity, 1), 0)"},
        {"purchase_date", "COALESCE(purchase_date, created_at, unixepoch())"},
        {"metadata", "COALESCE(metadata, '{}')"},
        {"created_at", "COALESCE(created_at, unixepoch())"}}},
      {"work_orders",
       {{"id", "TEXT", "TEXT"}, {"customer_id", "TEXT", "TEXT"}, {"order_type", "TEXT", "TEXT"},
        {"issue_description", "TEXT", "TEXT"}, {"resolution", "TEXT", "TEXT"},
        {"status", "TEXT", "TEXT"}, {"priority", "TEXT", "TEXT"}, {"assigned_to", "TEXT", "TEXT"},
        {"created_date", "INTEGER", "INTEGER"}, {"completed_date", "INTEGER", "INTEGER"},
        {"cost", "REAL", "REAL"}, {"metadata", "TEXT", "TEXT"}},
       {{"metadata", "COALESCE(metadata, '{}')"}}},
      {"customer_knowledge",
       {{"id", "TEXT", "INTEGER"},  // differs
        {"customer_id", "TEXT", "TEXT"}, {"content", "TEXT", "TEXT"},
        {"category", "TEXT", "TEXT"},
        {"importance", "TEXT", "INTEGER"},  // differs
        {"tags", "TEXT", "TEXT"}, {"source", "TEXT", "TEXT"},
        {"created_at", "INTEGER", "INTEGER"}, {"updated_at", "INTEGER", "INTEGER"}},
       {{"id", "rowid"},
        {"importance", kImportanceFromSeed},
        {"tags", "COALESCE(tags, '[]')"},
        {"created_at", "COALESCE(created_at, unixepoch())"},
        {"updated_at", "COALESCE(updated_at, created_at, unixepoch())"}},
       "knowledge"},
  };
  return tables;
}

// Tables a seed-era database may hold under names CustomerIQ uses: a build
// of the seed service made its own dead_letters(payload, error) and an FTS
// table customer_search. A table of one of these names is CustomerIQ's
// only when it has all of our_columns (none: never ours).
struct NameWeUse {
  const char* table;
  std::vector<const char*> our_columns;
};
const std::vector<NameWeUse>& names_we_use() {
  static const std::vector<NameWeUse> names = {{"dead_letters", {"idempotency_key", "raw"}},
                                               {"processed_events", {"idempotency_key"}},
                                               {"customer_search", {}}};
  return names;
}

std::string quoted(const std::string& identifier) {
  std::string text = "\"";
  for (char c : identifier) text += c == '"' ? std::string("\"\"") : std::string(1, c);
  return text + "\"";
}

struct Column {
  std::string name, type;
  bool primary_key = false;
};

std::vector<Column> columns_of(SQLite::Database& db, const std::string& table) {
  SQLite::Statement query(db, "SELECT name, upper(type), pk FROM pragma_table_info(?1)");
  query.bind(1, table);
  std::vector<Column> columns;
  while (query.executeStep())
    columns.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(),
                       query.getColumn(2).getInt() > 0});
  return columns;
}

const Column* find_column(const std::vector<Column>& columns, const std::string& name) {
  for (const Column& column : columns)
    if (column.name == name) return &column;
  return nullptr;
}

std::string describe_columns(const std::vector<Column>& columns) {
  std::string text;
  for (const Column& column : columns)
    text += (text.empty() ? "" : ", ") + column.name + (column.type.empty() ? "" : " " + column.type);
  return "(" + text + ")";
}

// Exactly the seed's columns and types. A seed-era file that an earlier
// CustomerIQ took for its own (at version 2) also has customers.search_rowid.
bool has_seed_columns(const std::vector<Column>& columns, const SeedTable& table, int version) {
  std::size_t expected = table.columns.size();
  if (version == 2 && std::string(table.name) == "customers") {
    const Column* search_rowid = find_column(columns, "search_rowid");
    if (!search_rowid || search_rowid->type != "INTEGER") return false;
    ++expected;
  }
  if (columns.size() != expected) return false;
  for (const SeedColumn& seed : table.columns) {
    const Column* column = find_column(columns, seed.name);
    if (!column || column->type != seed.seed_type) return false;
  }
  return columns.front().name == "id" && columns.front().primary_key;
}

// CustomerIQ's columns and types; later migrations add more.
bool has_our_columns(const std::vector<Column>& columns, const SeedTable& table) {
  for (const SeedColumn& ours : table.columns) {
    const Column* column = find_column(columns, ours.name);
    if (!column || column->type != ours.our_type) return false;
  }
  const Column* id = find_column(columns, "id");
  return id->primary_key;
}

enum class SchemaKind { empty, ours, seed };

struct Schema {
  int version = 0;
  SchemaKind kind = SchemaKind::empty;
};

[[noreturn]] void refuse(const std::string& file, const std::string& reason) {
  throw StoreError("database " + file +
                   " is neither CustomerIQ's nor the seed service's, and was left as it is: " +
                   reason);
}

// What the database holds, from its user_version and the columns of its
// tables; reads only. Throws StoreError for what cannot be migrated.
Schema inspect_schema(SQLite::Database& db, int latest) {
  const std::string file = db.getFilename();
  Schema schema;
  schema.version = db.execAndGet("PRAGMA user_version").getInt();
  if (schema.version > latest) {
    throw StoreError("database " + file + " is at schema version " + std::to_string(schema.version) +
                     ", newer than this customeriq (" + std::to_string(latest) +
                     "); upgrade customeriq");
  }
  std::vector<std::string> tables;
  {
    SQLite::Statement query(db,
                            "SELECT name FROM sqlite_schema WHERE type = 'table' "
                            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
    while (query.executeStep()) tables.push_back(query.getColumn(0).getString());
  }
  if (tables.empty()) {
    if (schema.version == 0) return schema;
    refuse(file, "it is at schema version " + std::to_string(schema.version) + " but has no tables");
  }

  std::vector<std::vector<Column>> columns;
  std::vector<std::string> missing;
  for (const SeedTable& table : seed_tables()) {
    columns.push_back(columns_of(db, table.name));
    if (columns.back().empty()) missing.push_back(table.name);
  }
  if (missing.size() == seed_tables().size()) {
    std::string names;
    for (std::size_t i = 0; i < tables.size() && i < 10; ++i) names += (i ? ", " : "") + tables[i];
    if (tables.size() > 10) names += ", …";
    refuse(file, "it has tables " + names +
                     " and none of customers, customer_events, purchases, work_orders, "
                     "customer_knowledge");
  }

  bool all_seed = missing.empty(), all_ours = true;
  for (std::size_t i = 0; i < seed_tables().size(); ++i) {
    if (columns[i].empty()) continue;
    all_seed = all_seed && has_seed_columns(columns[i], seed_tables()[i], schema.version);
    all_ours = all_ours && has_our_columns(columns[i], seed_tables()[i]);
  }
  // An earlier CustomerIQ left the seed's tables as they were at version 1
  // (its migration 2 then failed) or 2 (it did not): adopt them now.
  if (all_seed && schema.version <= 2) {
    schema.kind = SchemaKind::seed;
    return schema;
  }
  // By hand from docs/SCHEMA.md, some tables may be there at version 0.
  if (all_ours && (schema.version == 0 || missing.empty())) {
    schema.kind = SchemaKind::ours;
    return schema;
  }
  if (all_ours) {
    std::string names;
    for (const auto& name : missing) names += (names.empty() ? "" : ", ") + name;
    refuse(file, "it is at schema version " + std::to_string(schema.version) + " but has no table " + names);
  }
  for (std::size_t i = 0; i < seed_tables().size(); ++i) {
    const SeedTable& table = seed_tables()[i];
    if (columns[i].empty() || has_our_columns(columns[i], table)) continue;
    if (has_seed_columns(columns[i], table, schema.version)) {
      std::string names;
      for (const auto& name : missing) names += (names.empty() ? "" : ", ") + name;
      refuse(file, "its table " + std::string(table.name) + " is the seed service's but " +
                       (names.empty() ? "others are not" : "it has no table " + names));
    }
    refuse(file, "its table " + std::string(table.name) + " " + describe_columns(columns[i]) +
                     " has neither CustomerIQ's columns nor the seed service's");
  }
  refuse(file, "its tables mix CustomerIQ's and the seed service's columns");
}

std::string free_table_name(SQLite::Database& db, const std::string& wanted) {
  std::string name = wanted;
  for (int n = 2; db.tableExists(name); ++n) name = wanted + "_" + std::to_string(n);
  return name;
}

std::int64_t count_rows(SQLite::Database& db, const std::string& table) {
  return db.execAndGet("SELECT count(*) FROM " + quoted(table)).getInt64();
}

// The CREATE TABLE of each table as migration 1 makes it: kMigration1 is
// the one definition, read back from a scratch database.
std::map<std::string, std::string> migration1_tables() {
  SQLite::Database scratch(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  scratch.exec(kMigration1);
  SQLite::Statement query(scratch, "SELECT name, sql FROM sqlite_schema WHERE type = 'table'");
  std::map<std::string, std::string> tables;
  while (query.executeStep()) tables[query.getColumn(0).getString()] = query.getColumn(1).getString();
  return tables;
}

// Schema objects dropped while the tables are rebuilt and created again after.
struct SavedObject {
  std::string type, name, sql;
};

std::vector<SavedObject> saved_objects(SQLite::Database& db, const std::string& where) {
  SQLite::Statement query(db, "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND " + where);
  std::vector<SavedObject> objects;
  while (query.executeStep())
    objects.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(),
                       query.getColumn(2).getString()});
  return objects;
}

// What the adoption did, logged once it has committed.
struct Adoption {
  std::vector<std::string> notes;
  std::vector<SavedObject> triggers_and_views;
};

// The seed's tables rebuilt as CustomerIQ's, inside the migration's
// transaction with foreign keys off: the procedure of
// https://www.sqlite.org/lang_altertable.html#otheralter (new table, copy,
// drop, rename, indexes again), table by table. Every row is kept: text
// timeline and knowledge ids move to original_id (through a temporary
// table, as that column comes with migration 3), the seed's NULLs become
// our defaults, a customer that rows refer to but that does not exist is
// created. Foreign tables under names we use are renamed aside first.
Adoption adopt_seed_tables(SQLite::Database& db) {
  Adoption adoption;
  for (const NameWeUse& name : names_we_use()) {
    if (!db.tableExists(name.table)) continue;
    const auto columns = columns_of(db, name.table);
    bool ours = !name.our_columns.empty();
    for (const char* column : name.our_columns) ours = ours && find_column(columns, column);
    if (ours) continue;
    const std::string aside = free_table_name(db, std::string("seed_") + name.table);
    const std::int64_t rows = count_rows(db, name.table);
    db.exec("ALTER TABLE " + quoted(name.table) + " RENAME TO " + quoted(aside));
    adoption.notes.push_back("renamed the seed service's table " + std::string(name.table) + " to " +
                             aside + " (rows kept: " + std::to_string(rows) + ")");
  }

  // Triggers and views may name the tables being rebuilt; they come back
  // at the end, as they were (after the renames above).
  adoption.triggers_and_views = saved_objects(db, "type IN ('trigger', 'view')");
  for (const SavedObject& object : adoption.triggers_and_views)
    db.exec("DROP " + std::string(object.type == "view" ? "VIEW " : "TRIGGER ") + quoted(object.name));

  db.exec("CREATE TEMP TABLE customeriq_original_ids(kind TEXT NOT NULL, id INTEGER NOT NULL, "
          "original_id TEXT, PRIMARY KEY (kind, id))");
  const auto ours = migration1_tables();
  std::string counts;
  for (const SeedTable& table : seed_tables()) {
    const std::string name = table.name, rebuilt = "customeriq_new_" + name;
    const auto indexes = saved_objects(db, "type = 'index' AND tbl_name = " + quoted(name));

    const std::string& create = ours.at(name);
    const std::string prefix = "CREATE TABLE " + name;
    if (create.rfind(prefix, 0) != 0) throw std::logic_error("unexpected migration 1 SQL: " + create);
    db.exec("CREATE TABLE " + quoted(rebuilt) + create.substr(prefix.size()));
    const auto old_columns = columns_of(db, name);
    for (const Column& column : old_columns) {
      if (!find_column(columns_of(db, rebuilt), column.name))
        db.exec("ALTER TABLE " + quoted(rebuilt) + " ADD COLUMN " + quoted(column.name) + " " + column.type);
    }
    std::string targets, values;
    for (const Column& column : columns_of(db, rebuilt)) {
      const auto conversion = table.conversions.find(column.name);
      targets += (targets.empty() ? "" : ", ") + quoted(column.name);
      values += (values.empty() ? "" : ", ") +
                (conversion != table.conversions.end() ? conversion->second : quoted(column.name));
    }
    if (table.original_id_kind) {
      db.exec("INSERT INTO temp.customeriq_original_ids(kind, id, original_id) SELECT '" +
              std::string(table.original_id_kind) + "', rowid, id FROM " + quoted(name));
    }
    const int rows = db.exec("INSERT INTO " + quoted(rebuilt) + "(" + targets + ") SELECT " + values +
                             " FROM " + quoted(name) + " ORDER BY rowid");
    db.exec("DROP TABLE " + quoted(name));
    db.exec("ALTER TABLE " + quoted(rebuilt) + " RENAME TO " + quoted(name));
    for (const SavedObject& index : indexes) db.exec(index.sql);
    counts += (counts.empty() ? "" : ", ") + name + " " + std::to_string(rows);
  }
  adoption.notes.push_back("converted the seed service's tables (rows: " + counts +
                           "); timeline and knowledge ids are kept in original_id");

  // Customer since their first row; the name comes with their next event.
  const int created = db.exec(R"sql(
INSERT INTO customers(id, customer_since)
SELECT customer_id, MIN(date) FROM (
  SELECT customer_id, event_date AS date FROM customer_events
  UNION ALL SELECT customer_id, purchase_date FROM purchases
  UNION ALL SELECT customer_id, created_date FROM work_orders
  UNION ALL SELECT customer_id, created_at FROM customer_knowledge) AS referred
WHERE NOT EXISTS (SELECT 1 FROM customers WHERE customers.id = referred.customer_id)
GROUP BY customer_id)sql");
  if (created > 0) {
    adoption.notes.push_back("created " + std::to_string(created) +
                             " customers that the seed's rows refer to but that did not exist");
  }
  return adoption;
}

// After the migrations: original ids into their column, the search index
// over the adopted rows, triggers and views back, and the foreign keys
// checked before the commit.
void finish_seed_adoption(SQLite::Database& db, const Adoption& adoption, int from_version) {
  db.exec(R"sql(
UPDATE customer_events SET original_id = m.original_id FROM temp.customeriq_original_ids AS m
 WHERE m.kind = 'event' AND m.id = customer_events.id;
UPDATE customer_knowledge SET original_id = m.original_id FROM temp.customeriq_original_ids AS m
 WHERE m.kind = 'knowledge' AND m.id = customer_knowledge.id;
DROP TABLE temp.customeriq_original_ids;
)sql");
  // Migration 2 indexes the rows it finds; at version 2 it ran before.
  if (from_version >= 2) db.exec(kRebuildSearchIndex);
  for (const SavedObject& object : adoption.triggers_and_views) db.exec(object.sql);

  SQLite::Statement check(db, "PRAGMA foreign_key_check");
  if (check.executeStep()) {
    throw StoreError("cannot adopt the seed service's tables of " + db.getFilename() + ": row " +
                     check.getColumn(1).getString() + " of " + check.getColumn(0).getString() +
                     " refers to a missing row of " + check.getColumn(2).getString() +
                     " (PRAGMA foreign_key_check); nothing was changed");
  }
}

// PRAGMA foreign_keys is a no-op inside a transaction: off before it
// begins, back as it was after it ends.
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(SQLite::Database& db)
      : db_(db), was_on_(db.execAndGet("PRAGMA foreign_keys").getInt() != 0) {
    if (was_on_) db_.exec("PRAGMA foreign_keys = OFF");
  }
  ~ForeignKeysOff() {
    try {
      if (was_on_) db_.exec("PRAGMA foreign_keys = ON");
    } catch (const SQLite::Exception& error) {
      spdlog::error("[Store] cannot turn foreign keys back on for {}: {}", db_.getFilename(), error.what());
    }
  }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

 private:
  SQLite::Database& db_;
  bool was_on_;
};

void apply_connection_settings(SQLite::Database& db) {
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA temp_store = MEMORY");
  db.exec("PRAGMA cache_size = -16384");  // 16 MiB page cache: bounded memory
}

void require_path(const std::filesystem::path& path) {
  // SQLite would open a temporary database for "" and lose everything.
  if (path.empty()) throw StoreError("the database path is empty");
}

std::string errno_text() { return std::strerror(errno); }

// Each missing folder of the path, mode 0700 (less with a stricter umask).
void create_private_folders(const std::filesystem::path& database) {
  const std::filesystem::path folder = database.parent_path();
  std::filesystem::path prefix;
  for (const auto& part : folder) {
    prefix /= part;
    if (::mkdir(prefix.c_str(), 0700) == 0) continue;
    if (errno != EEXIST) {
      throw StoreError("cannot create the folder " + prefix.string() + " for database " +
                       database.string() + ": " + errno_text());
    }
    struct stat status {};
    if (::stat(prefix.c_str(), &status) == 0 && !S_ISDIR(status.st_mode)) {
      throw StoreError("cannot create the folder " + folder.string() + " for database " +
                       database.string() + ": " + prefix.string() + " is not a folder");
    }
  }
}

[[noreturn]] void throw_is_a_folder(const std::filesystem::path& path) {
  throw StoreError("cannot open database " + path.string() + ": it is a folder, not a file");
}

// A missing database file is created mode 0600 before SQLite opens it:
// SQLite would make it 0644 whatever the umask.
void create_private_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  if (errno != EEXIST) throw StoreError("cannot create database " + path.string() + ": " + errno_text());
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) throw_is_a_folder(path);
}

}  // namespace

int latest_schema_version() { return static_cast<int>(std::size(kMigrations)); }

void migrate(SQLite::Database& db) {
  register_functions(db);
  const std::string file = db.getFilename();
  const int latest = latest_schema_version();
  Schema schema;
  try {
    schema = inspect_schema(db, latest);
  } catch (const SQLite::Exception& error) {
    throw StoreError("cannot open database " + file + ": " + error.what());
  }
  if (schema.version == latest) return;

  ForeignKeysOff foreign_keys_off(db);
  std::string step = "reading the schema";
  Adoption adoption;
  try {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    // Another writer may have migrated while we waited for the lock.
    schema = inspect_schema(db, latest);
    if (schema.version == latest) return;
    if (schema.kind == SchemaKind::seed) {
      step = "adopting the seed service's tables";
      adoption = adopt_seed_tables(db);
    }
    for (int version = schema.version + 1; version <= latest; ++version) {
      step = "migration " + std::to_string(version);
      db.exec(kMigrations[version - 1]);
    }
    if (schema.kind == SchemaKind::seed) {
      step = "adopting the seed service's tables";
      finish_seed_adoption(db, adoption, schema.version);
    }
    db.exec("PRAGMA user_version = " + std::to_string(latest));
    step = "committing";
    transaction.commit();
  } catch (const SQLite::Exception& error) {
    throw StoreError("cannot migrate database " + file + " from schema version " +
                     std::to_string(schema.version) + " to " + std::to_string(latest) + ": " + step +
                     " failed: " + error.what() + "; nothing was changed");
  }
  for (const std::string& note : adoption.notes) spdlog::info("[Store] {}: {}", file, note);
  spdlog::info("[Store] Migrated {} from schema version {} to {}", file, schema.version, latest);
}

void rebuild_search_index(SQLite::Database& db) {
  SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
  db.exec(kRebuildSearchIndex);
  transaction.commit();
}

std::unique_ptr<SQLite::Database> open_store_for_writing(const std::filesystem::path& path) {
  require_path(path);
  create_private_folders(path);
  create_private_file(path);
  try {
    auto db = std::make_unique<SQLite::Database>(path.string(), SQLite::OPEN_READWRITE);
    db->setBusyTimeout(10000);
    apply_connection_settings(*db);
    // Migrating before WAL: a refused or failed migration leaves even the
    // file's journal mode as it was.
    migrate(*db);
    db->exec("PRAGMA journal_mode = WAL");
    db->exec("PRAGMA synchronous = NORMAL");
    return db;
  } catch (const SQLite::Exception& error) {
    throw StoreError("cannot open database " + path.string() + ": " + error.what());
  }
}

std::unique_ptr<SQLite::Database> open_store_for_reading(const std::filesystem::path& path) {
  require_path(path);
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (status.type() == std::filesystem::file_type::not_found) {
    throw std::runtime_error("no CustomerIQ database at " + path.string() +
                             " (set CUSTOMERIQ_DB or --db, or ingest events first)");
  }
  if (error) throw StoreError("cannot open database " + path.string() + ": " + error.message());
  if (status.type() == std::filesystem::file_type::directory) throw_is_a_folder(path);
  int version = 0;
  std::unique_ptr<SQLite::Database> db;
  try {
    db = std::make_unique<SQLite::Database>(path.string(), SQLite::OPEN_READONLY);
    db->setBusyTimeout(10000);
    apply_connection_settings(*db);
    version = db->execAndGet("PRAGMA user_version").getInt();
  } catch (const SQLite::Exception& sqlite_error) {
    throw StoreError("cannot open database " + path.string() + ": " + sqlite_error.what());
  }
  if (version != latest_schema_version()) {
    throw StoreError("database " + path.string() + " is at schema version " + std::to_string(version) +
                     ", this customeriq reads version " + std::to_string(latest_schema_version()) +
                     (version < latest_schema_version()
                          ? " (run any writing command, e.g. ingest, to migrate it)"
                          : " (upgrade customeriq)"));
  }
  return db;
}

}  // namespace customeriq
