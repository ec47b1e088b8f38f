#include "store/migrations.hpp"

#include <string>
#include <string_view>

#include <SQLiteCpp/Database.h>
#include <sqlite3.h>

#include "hash.hpp"
#include "store/work_order_sql.hpp"

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

// Migration 5: the change log, one row per effect of an applied event,
// written in the event's transaction, so a reader can follow every change
// in order (seq) and resume after the last one it saw. AUTOINCREMENT: a seq
// is never given twice, even once the rows above it are pruned.
// change_log_state keeps the highest pruned seq, so a reader can be told
// that what it asks for is gone even when the log is empty. The customers
// index serves the export of customers by update time.
constexpr const char* kMigration5 = R"sql(
CREATE TABLE changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  committed_at INTEGER NOT NULL,
  customer_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  row TEXT NOT NULL
);
CREATE INDEX changes_by_customer ON changes(customer_id, seq);
CREATE TABLE change_log_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pruned_through_seq INTEGER NOT NULL
);
INSERT INTO change_log_state(id, pruned_through_seq) VALUES (1, 0);
CREATE INDEX customers_by_update ON customers(updated_at, id);
)sql";

// Migration 6: the customer data lifecycle (docs/LIFECYCLE.md).
// audit_log: one row per event that reached the store, whatever its
// outcome, and per merge, unmerge and erasure, in commit order (id). It keeps
// what a rebuild replays: the raw event (raw, or the timeline row that holds
// it, timeline_id), its subject, headers and the time it was received.
// Merges keep FROM's customer row and the rows they moved (merge_rows) so
// an unmerge can put them back; aliases send later events for FROM's id or
// email to the survivor. Erasure receipts and suppressions hold salted
// SHA-256 hashes of identifiers, never the identifiers. Existing timeline
// rows become audit rows, so the history before this migration can be
// replayed from their raw_event_data.
constexpr const char* kMigration6 = R"sql(
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  customer_id TEXT,
  other_customer_id TEXT,
  idempotency_key TEXT,
  subject TEXT,
  headers TEXT,
  event_type TEXT,
  received_at INTEGER,
  committed_at INTEGER NOT NULL,
  reason TEXT,
  timeline_id INTEGER,
  raw BLOB,
  detail TEXT,
  source_seq INTEGER
);
CREATE INDEX audit_log_by_customer ON audit_log(customer_id, id);
CREATE INDEX audit_log_by_other_customer ON audit_log(other_customer_id, id)
  WHERE other_customer_id IS NOT NULL;
CREATE INDEX audit_log_by_source_seq ON audit_log(source_seq) WHERE source_seq IS NOT NULL;
INSERT INTO audit_log(kind, outcome, customer_id, event_type, received_at, committed_at, timeline_id)
  SELECT 'event', 'applied', customer_id, event_type, created_at, created_at, id
  FROM customer_events WHERE raw_event_data IS NOT NULL ORDER BY id;

CREATE TABLE merges (
  id INTEGER PRIMARY KEY,
  from_id TEXT NOT NULL,
  into_id TEXT NOT NULL,
  merged_at INTEGER NOT NULL,
  undone_at INTEGER,
  from_customer TEXT NOT NULL,
  into_before TEXT NOT NULL,
  into_after TEXT NOT NULL,
  moved TEXT NOT NULL,
  alias_lifetime_value REAL NOT NULL DEFAULT 0,
  alias_first_seen INTEGER
);
CREATE INDEX merges_by_into ON merges(into_id);
CREATE INDEX merges_by_from ON merges(from_id);
CREATE TABLE merge_rows (
  merge_id INTEGER NOT NULL,
  table_name TEXT NOT NULL,
  row_key NOT NULL,
  PRIMARY KEY (merge_id, table_name, row_key)
) WITHOUT ROWID;
CREATE TABLE customer_aliases (
  kind TEXT NOT NULL CHECK (kind IN ('id', 'email')),
  alias TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  merge_id INTEGER NOT NULL,
  PRIMARY KEY (kind, alias)
) WITHOUT ROWID;
CREATE INDEX customer_aliases_by_customer ON customer_aliases(customer_id);

CREATE TABLE erasures (
  id INTEGER PRIMARY KEY,
  erased_at INTEGER NOT NULL,
  identifier_hashes TEXT NOT NULL,
  removed TEXT NOT NULL,
  wal_checkpointed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE suppressions (
  identifier_hash TEXT PRIMARY KEY,
  erasure_id INTEGER,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE store_secrets (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  identifier_salt BLOB NOT NULL
);
INSERT INTO store_secrets(id, identifier_salt) VALUES (1, randomblob(16));
)sql";

// Migration 7: the open work orders of all customers, most pressing first,
// for list_open_work_orders without a customer (it scanned and sorted the
// whole table). Only open rows are in it, so closed ones cost no upkeep.
constexpr const char* kMigration7 =
    "CREATE INDEX work_orders_open ON work_orders(" CUSTOMERIQ_SQL_PRIORITY_RANK ", " CUSTOMERIQ_SQL_CREATED_KEY
    ", id) WHERE " CUSTOMERIQ_SQL_OPEN_WORK_ORDER ";";

// Append-only: a database's user_version is the count of these it has.
constexpr const char* kMigrations[] = {kMigration1, kMigration2, kMigration3, kMigration4, kMigration5,
                                       kMigration6, kMigration7};

}  // namespace

std::span<const char* const> schema_migrations() { return kMigrations; }

const char* const kRebuildSearchIndexSql = R"sql(
INSERT INTO customer_events_fts(customer_events_fts) VALUES ('rebuild');
INSERT INTO customer_knowledge_fts(customer_knowledge_fts) VALUES ('rebuild');
UPDATE customers SET search_rowid = (SELECT COALESCE(MAX(search_rowid), 0) FROM customers) + rowid
 WHERE search_rowid IS NULL;
DELETE FROM customers_fts;
INSERT INTO customers_fts(rowid, name, email, company)
  SELECT search_rowid, name, email, company FROM customers;
INSERT INTO customers_fts(customers_fts) VALUES ('optimize');
)sql";
void register_store_functions(SQLite::Database& db) {
  auto fnv128 = [](sqlite3_context* context, int, sqlite3_value** arguments) {
    const auto* bytes = static_cast<const char*>(sqlite3_value_blob(arguments[0]));
    const std::string hex = fnv1a_128_hex(
        std::string_view(bytes ? bytes : "", static_cast<std::size_t>(sqlite3_value_bytes(arguments[0]))));
    sqlite3_result_text(context, hex.c_str(), static_cast<int>(hex.size()), SQLITE_TRANSIENT);
  };
  sqlite3_create_function(db.getHandle(), "customeriq_fnv128", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                          nullptr, fnv128, nullptr, nullptr);
}

}  // namespace customeriq
