// What the bench reads back from a mode's SQLite database: its size, its
// rows (to check that two modes wrote the same), where its bytes are.
#pragma once

#include <cstdint>
#include <filesystem>

#include <nlohmann/json.hpp>

namespace customeriq::bench {

// The database and its -wal, -shm and -journal files.
void remove_db(const std::filesystem::path& db);

// Checkpoints the WAL into the database (TRUNCATE), then main + wal bytes.
std::uint64_t checkpointed_size(const std::filesystem::path& db);

// Row counts per table and a few content fingerprints, to check that two
// databases hold the same rows.
nlohmann::json table_facts(const std::filesystem::path& db);

// Bytes per table/index (dbstat), when SQLite has it; else {"error": ...}.
nlohmann::json space_by_object(const std::filesystem::path& db);

// One integer from a query.
std::int64_t scalar(const std::filesystem::path& db, const char* sql);

}  // namespace customeriq::bench
