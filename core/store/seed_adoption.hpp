// Recognising what a database holds (empty, CustomerIQ's, the seed
// service's, or foreign) and converting the seed service's tables into
// CustomerIQ's. For store/ only: migrate() runs these in its transaction.
#pragma once

#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>

namespace customeriq {

enum class SchemaKind { empty, ours, seed };

struct Schema {
  int version = 0;
  SchemaKind kind = SchemaKind::empty;
};

// What the database holds, from its user_version and the columns of its
// tables; reads only. Throws StoreError for what cannot be migrated.
Schema inspect_schema(SQLite::Database& db, int latest);

// Schema objects dropped while the tables are rebuilt and created again after.
struct SavedObject {
  std::string type, name, sql;
};

// What the adoption did, logged once it has committed.
struct Adoption {
  std::vector<std::string> notes;
  std::vector<SavedObject> triggers_and_views;
};

// The seed's tables rebuilt as CustomerIQ's at migration 1's shape, inside
// the migration's transaction with foreign keys off (see the .cpp).
Adoption adopt_seed_tables(SQLite::Database& db);

// After the migrations: original ids into their column, the search index,
// triggers and views back, foreign keys checked.
void finish_seed_adoption(SQLite::Database& db, const Adoption& adoption, int from_version);

}  // namespace customeriq
