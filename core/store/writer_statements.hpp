// StoreWriter's prepared statements: every SQL the writer runs, prepared
// once per connection. For store/ only.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "store/store_writer.hpp"

namespace customeriq {

struct StoreWriter::Statements {
  explicit Statements(SQLite::Database& db);

  SQLite::Statement begin, commit, rollback, savepoint, release, rollback_to;
  SQLite::Statement key_applied, record_key;
  SQLite::Statement customer_by_email, ensure_customer, update_customer;
  SQLite::Statement append_timeline;
  SQLite::Statement purchase_before, upsert_purchase;
  SQLite::Statement upsert_work_order, work_order_owner;
  SQLite::Statement add_knowledge, adjust_lifetime_value;
  SQLite::Statement insert_dead_letter, update_dead_letter, delete_dead_letter, delete_dead_letters_of_key;
  SQLite::Statement last_event_id, last_knowledge_id;
  SQLite::Statement index_events, index_knowledge, unindex_customer, index_customer;
  // Rows as the reads show them, by key, for the change log (row_json.hpp).
  SQLite::Statement customer_row, timeline_row, purchase_row, work_order_row, knowledge_row;
  SQLite::Statement record_change, prune_boundary, delete_changes_through, record_pruned;
  // The lifecycle: audit rows, aliases of merged customers, suppressions.
  SQLite::Statement record_audit, any_alias, any_suppression, alias_of, suppressed;
  SQLite::Statement record_merge_row, merge_alias_value, merge_alias_seen, other_customer_with_email;

  // After a failure: no statement may stay mid-step into the next attempt.
  void reset_all();
};

}  // namespace customeriq
