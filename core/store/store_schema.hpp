// The SQLite schema, its migrations and how every connection is opened.
#pragma once

#include <filesystem>
#include <memory>

#include <SQLiteCpp/Database.h>

#include "store/store_error.hpp"

namespace customeriq {

// The newest schema this build knows. PRAGMA user_version holds the
// version a database is at; opening for writing migrates it forward.
int latest_schema_version();

// Both open connections in SQLite's multi-thread mode (no per-call mutex):
// a connection must be used by one thread at a time.
//
// Opens the database for the one writer, creating what is missing: folders
// mode 0700 and the file mode 0600 (SQLite gives -wal, -shm and -journal
// the file's mode), so only the owner can read customers' data. Migrates it
// to the latest schema (see migrate), then WAL, synchronous=NORMAL, foreign
// keys, busy timeout. Throws StoreError, naming the path, for an empty
// path, a folder or file that cannot be created or opened, a file that is
// not a database or is corrupt, and every refusal of migrate.
std::unique_ptr<SQLite::Database> open_store_for_writing(const std::filesystem::path& path);

// Opens an existing database read-only for a reader. Throws
// std::runtime_error when the file does not exist, StoreError (naming the
// path) when it cannot be opened, is not a database or is not at the
// latest schema.
std::unique_ptr<SQLite::Database> open_store_for_reading(const std::filesystem::path& path);

// Rebuilds the full-text indexes from the tables, for rows written or
// changed by hand (the writer indexes its own rows as it commits them).
void rebuild_search_index(SQLite::Database& db);

// Brings the database to the latest schema in ONE transaction: the
// adoption of the seed service's tables when it has them, then every
// pending migration, then the user_version. A failure rolls all of it back
// and leaves the file as it was. Throws StoreError for a schema newer than
// this build, a schema that is neither empty, CustomerIQ's nor the seed
// service's (refused before anything is written), and a failed migration.
// Turns foreign keys off while it runs (they cannot change inside a
// transaction) and restores them.
void migrate(SQLite::Database& db);

}  // namespace customeriq
