// The customer data lifecycle (docs/LIFECYCLE.md): merging two profiles
// and undoing it, erasure with a receipt and suppression of later events,
// and each customer's audit trail. Writing operations take a connection
// from open_store_for_writing and run in one transaction of their own,
// unless named *_in_transaction; they may run beside a serving writer
// (another connection, even another process): the transaction waits for
// the write lock.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace SQLite {
class Database;
}

namespace customeriq {

using Json = nlohmann::json;

// A refused lifecycle operation; status is the HTTP status that says why
// (400 a bad request, 404 no such customer, merge or erasure, 409 the
// data's state forbids it now).
class LifecycleError : public std::runtime_error {
 public:
  LifecycleError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

struct MergeOptions {
  bool dry_run = false;
  bool automatic = false;                  // made by identity.auto_merge
  std::optional<std::int64_t> merge_id;    // rebuild: the source's id
  std::optional<std::int64_t> source_seq;  // rebuild: the source's audit_log id
};

// Moves every row of customer `from` to `into`, fills into's empty fields
// from from's, adds the lifetime values, keeps the earlier customer_since,
// and makes from an alias of into. Returns {merge_id, from, into, moved:
// {table: rows}, filled: [fields], conflicts: {field: {from, into}}};
// with dry_run, {dry_run: true, ...} of what it would do, changing nothing.
Json merge_customers(SQLite::Database& db, const std::string& from, const std::string& into,
                     const MergeOptions& options = {});
// The same inside the caller's transaction (the writer's auto-merge).
Json merge_in_transaction(SQLite::Database& db, const std::string& from, const std::string& into,
                          std::int64_t now, const MergeOptions& options);

// Puts back every row the merge moved, and those that events for from's id
// or email wrote since, re-creates from, and reverts into's fields that
// have not changed since the merge. Returns {merge_id, from, into,
// moved_back: {table: rows}}.
Json unmerge(SQLite::Database& db, std::int64_t merge_id, std::optional<std::int64_t> source_seq = {});

// Deletes the customer and everything about it (see docs/LIFECYCLE.md)
// with secure_delete, suppresses later events for its identifiers, and
// checkpoints the WAL. Returns the receipt: {erasure_id, erased_at,
// identifier_hashes, removed: {table: rows}, wal_checkpointed}.
Json erase_customer(SQLite::Database& db, const std::string& customer_id);

// Lifts the suppression of an identifier (a customer id, or an email when
// it holds '@'), or with erasure_id of every identifier of that erasure.
// Returns {unsuppressed: N}.
Json unsuppress(SQLite::Database& db, const std::string& identifier);
Json unsuppress_erasure(SQLite::Database& db, std::int64_t erasure_id);

// The receipt of an erasure; nullopt for an unknown id.
std::optional<Json> erasure_receipt(SQLite::Database& db, std::int64_t erasure_id);

// A customer's audit trail, newest first: its events' outcomes, merges and
// unmerges (and those of its aliases), and the receipts of erasures of that
// id. {customer_id, merged_into, items, erasures, next_before}; nullopt when
// the id has no trail at all.
std::optional<Json> customer_audit(SQLite::Database& db, const std::string& customer_id, std::size_t limit,
                                   std::optional<std::int64_t> before = std::nullopt);

// The customer an alias id stands for now (following merges of merges),
// or nullopt when id is no alias.
std::optional<std::string> merged_into(SQLite::Database& db, const std::string& id);

// Hex SHA-256 of the database's salt and "kind:value" (kind id or email):
// what receipts and suppressions keep instead of an identifier.
std::string identifier_hash(SQLite::Database& db, std::string_view kind, std::string_view value);
std::string identifier_hash_with_salt(std::string_view salt, std::string_view kind, std::string_view value);
std::string identifier_salt(SQLite::Database& db);

}  // namespace customeriq
