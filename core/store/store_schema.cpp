#include "store/store_schema.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <spdlog/spdlog.h>

#include "store/migrations.hpp"
#include "store/seed_adoption.hpp"

namespace customeriq {
namespace {

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

int latest_schema_version() { return static_cast<int>(schema_migrations().size()); }

void migrate(SQLite::Database& db) {
  register_store_functions(db);
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
      db.exec(schema_migrations()[static_cast<std::size_t>(version - 1)]);
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
  db.exec(kRebuildSearchIndexSql);
  transaction.commit();
}

std::unique_ptr<SQLite::Database> open_store_for_writing(const std::filesystem::path& path) {
  require_path(path);
  create_private_folders(path);
  create_private_file(path);
  try {
    // One thread uses a connection at a time (the writer's, or a reader's
    // own): SQLite's per-call mutex would only cost (perf: 4-8% of ingest).
    auto db = std::make_unique<SQLite::Database>(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX);
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
    db = std::make_unique<SQLite::Database>(path.string(), SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX);
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
