// The schema's migrations and the SQL the store runs on the whole schema.
// For store/ only.
#pragma once

#include <span>

namespace SQLite {
class Database;
}

namespace customeriq {

// In order and append-only: a database's user_version is the number of
// these it has applied.
std::span<const char* const> schema_migrations();

// Rebuilds every FTS index from the tables (customeriq reindex, adoption).
extern const char* const kRebuildSearchIndexSql;

// SQL functions the migrations use: customeriq_fnv128(blob), the payload
// hash the writer stores for dead letters.
void register_store_functions(SQLite::Database& db);

}  // namespace customeriq
