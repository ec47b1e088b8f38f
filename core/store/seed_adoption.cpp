#include "store/seed_adoption.hpp"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <spdlog/spdlog.h>

#include "store/migrations.hpp"
#include "store/store_error.hpp"

namespace customeriq {
namespace {

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

[[noreturn]] void refuse(const std::string& file, const std::string& reason) {
  throw StoreError("database " + file +
                   " is neither CustomerIQ's nor the seed service's, and was left as it is: " +
                   reason);
}

}  // namespace

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

namespace {

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
  scratch.exec(schema_migrations()[0]);
  SQLite::Statement query(scratch, "SELECT name, sql FROM sqlite_schema WHERE type = 'table'");
  std::map<std::string, std::string> tables;
  while (query.executeStep()) tables[query.getColumn(0).getString()] = query.getColumn(1).getString();
  return tables;
}

std::vector<SavedObject> saved_objects(SQLite::Database& db, const std::string& where) {
  SQLite::Statement query(db, "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND " + where);
  std::vector<SavedObject> objects;
  while (query.executeStep())
    objects.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(),
                       query.getColumn(2).getString()});
  return objects;
}

}  // namespace

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
  if (from_version >= 2) db.exec(kRebuildSearchIndexSql);
  for (const SavedObject& object : adoption.triggers_and_views) db.exec(object.sql);

  SQLite::Statement check(db, "PRAGMA foreign_key_check");
  if (check.executeStep()) {
    throw StoreError("cannot adopt the seed service's tables of " + db.getFilename() + ": row " +
                     check.getColumn(1).getString() + " of " + check.getColumn(0).getString() +
                     " refers to a missing row of " + check.getColumn(2).getString() +
                     " (PRAGMA foreign_key_check); nothing was changed");
  }
}


}  // namespace customeriq
