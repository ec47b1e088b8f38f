// The SQLite schema, its migrations and how every connection is opened.
#pragma once

#include <filesystem>
#include <memory>

#include <SQLiteCpp/Database.h>

namespace customeriq {

// The newest schema this build knows. PRAGMA user_version holds the
// version a database is at; opening for writing migrates it forward.
int latest_schema_version();

// Opens (creating folders and file) the database for the one writer:
// WAL, synchronous=NORMAL, foreign keys, busy timeout, migrated to the
// latest schema. Throws std::runtime_error for a database from a newer
// customeriq (its version is above latest_schema_version()).
std::unique_ptr<SQLite::Database> open_store_for_writing(const std::filesystem::path& path);

// Opens an existing database read-only for a reader. Throws when the file
// does not exist or is not at the latest schema.
std::unique_ptr<SQLite::Database> open_store_for_reading(const std::filesystem::path& path);

// Rebuilds the full-text indexes from the tables, for rows written or
// changed by hand (the writer indexes its own rows as it commits them).
void rebuild_search_index(SQLite::Database& db);

// Applies the migrations above the database's user_version, each in its own
// transaction. Exposed for tests.
void migrate(SQLite::Database& db);

}  // namespace customeriq
