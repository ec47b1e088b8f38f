#include "store/writer_statements.hpp"

#include "store/row_json.hpp"

namespace customeriq {

StoreWriter::Statements::Statements(SQLite::Database& db)
    : begin(db, "BEGIN IMMEDIATE"),
      commit(db, "COMMIT"),
      rollback(db, "ROLLBACK"),
      savepoint(db, "SAVEPOINT event"),
      release(db, "RELEASE event"),
      rollback_to(db, "ROLLBACK TO event"),
      key_applied(db, "SELECT customer_id FROM processed_events WHERE idempotency_key = ?1"),
      record_key(db,
                 "INSERT INTO processed_events(idempotency_key, customer_id, applied_at) "
                 "VALUES (?1, ?2, ?3)"),
      customer_by_email(db,
                        "SELECT id FROM customers WHERE email = ?1 COLLATE NOCASE "
                        "ORDER BY customer_since LIMIT 1"),
      // Creates the customer, or fills what an earlier event left blank.
      // A name that is only the email gives way to a real name.
      ensure_customer(db, R"sql(
INSERT INTO customers(id, name, email, customer_since, created_at, updated_at, search_rowid)
VALUES (?1, COALESCE(?2, ?3), ?3, ?4, ?5, ?5,
      (SELECT COALESCE(MAX(search_rowid), 0) + 1 FROM customers))
ON CONFLICT(id) DO UPDATE SET
name = CASE WHEN ?2 IS NOT NULL AND (name IS NULL OR name = email) THEN ?2
            ELSE COALESCE(name, ?3) END,
email = COALESCE(email, ?3),
customer_since = MIN(COALESCE(customer_since, ?4), ?4),
updated_at = ?5
WHERE (?2 IS NOT NULL AND (name IS NULL OR name = email) AND name IS NOT ?2)
 OR (email IS NULL AND ?3 IS NOT NULL)
 OR customer_since IS NULL OR customer_since > ?4)sql"),
      update_customer(db, R"sql(
UPDATE customers SET
name = COALESCE(?2, name), email = COALESCE(?3, email), phone = COALESCE(?4, phone),
company = COALESCE(?5, company), status = COALESCE(?6, status), tags = COALESCE(?7, tags),
custom_fields = CASE WHEN ?8 IS NULL THEN custom_fields
                     ELSE json_patch(COALESCE(custom_fields, '{}'), ?8) END,
updated_at = ?9
WHERE id = ?1)sql"),
      append_timeline(db, R"sql(
INSERT INTO customer_events(customer_id, event_type, event_date, title, description, amount,
                          status, metadata, agent_notes, source_service, raw_event_data, created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12))sql"),
      purchase_before(db, "SELECT customer_id, total FROM purchases WHERE id = ?1"),
      upsert_purchase(db, R"sql(
INSERT INTO purchases(id, customer_id, product_name, product_sku, quantity, price, total,
                    purchase_date, warranty_expires, metadata, created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
ON CONFLICT(id) DO UPDATE SET
product_name = excluded.product_name,
product_sku = excluded.product_sku, quantity = excluded.quantity, price = excluded.price,
total = excluded.total, purchase_date = excluded.purchase_date,
warranty_expires = excluded.warranty_expires, metadata = excluded.metadata)sql"),
      upsert_work_order(db, R"sql(
INSERT INTO work_orders(id, customer_id, order_type, issue_description, resolution, status,
                      priority, assigned_to, created_date, completed_date, cost, metadata)
VALUES (?1, ?2, COALESCE(?3, ?13), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, COALESCE(?12, '{}'))
ON CONFLICT(id) DO UPDATE SET
order_type = COALESCE(?3, order_type),
issue_description = COALESCE(?4, issue_description),
resolution = COALESCE(?5, resolution),
status = COALESCE(?6, status),
priority = COALESCE(?7, priority),
assigned_to = COALESCE(?8, assigned_to),
completed_date = COALESCE(?10, completed_date),
cost = COALESCE(?11, cost),
metadata = CASE WHEN ?12 IS NULL THEN metadata ELSE json_patch(metadata, ?12) END
WHERE customer_id = ?2)sql"),
      work_order_owner(db, "SELECT customer_id FROM work_orders WHERE id = ?1"),
      add_knowledge(db, R"sql(
INSERT INTO customer_knowledge(customer_id, content, category, importance, tags, source,
                             created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7))sql"),
      adjust_lifetime_value(db,
                            "UPDATE customers SET lifetime_value = lifetime_value + ?2, updated_at = ?3 "
                            "WHERE id = ?1 RETURNING lifetime_value"),
      // One row per distinct payload: the same bad bytes again count an attempt.
      insert_dead_letter(db, R"sql(
INSERT INTO dead_letters(received_at, subject, reason, raw, headers, event_type, idempotency_key,
                       payload_hash, attempts, last_attempt_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?1)
ON CONFLICT(payload_hash) DO UPDATE SET
reason = excluded.reason, subject = excluded.subject, attempts = attempts + 1,
last_attempt_at = excluded.last_attempt_at)sql"),
      update_dead_letter(db,
                         "UPDATE dead_letters SET reason = ?2, attempts = attempts + 1, "
                         "last_attempt_at = ?3 WHERE id = ?1"),
      delete_dead_letter(db, "DELETE FROM dead_letters WHERE id = ?1"),
      // An event that applies supersedes what was dead-lettered under its key.
      delete_dead_letters_of_key(db, "DELETE FROM dead_letters WHERE idempotency_key = ?1"),
      last_event_id(db, "SELECT COALESCE(MAX(id), 0) FROM customer_events"),
      last_knowledge_id(db, "SELECT COALESCE(MAX(id), 0) FROM customer_knowledge"),
      index_events(db,
                   "INSERT INTO customer_events_fts(rowid, title, description) "
                   "SELECT id, title, description FROM customer_events WHERE id > ?1"),
      index_knowledge(db,
                      "INSERT INTO customer_knowledge_fts(rowid, content) "
                      "SELECT id, content FROM customer_knowledge WHERE id > ?1"),
      unindex_customer(db,
                       "DELETE FROM customers_fts WHERE rowid = "
                       "(SELECT search_rowid FROM customers WHERE id = ?1)"),
      index_customer(db,
                     "INSERT INTO customers_fts(rowid, name, email, company) "
                     "SELECT search_rowid, name, email, company FROM customers WHERE id = ?1"),
      customer_row(db, select_rows(kCustomerRow, "WHERE id = ?1")),
      timeline_row(db, select_rows(kTimelineRow, "WHERE id = ?1")),
      purchase_row(db, select_rows(kPurchaseRow, "WHERE id = ?1")),
      work_order_row(db, select_rows(kWorkOrderRow, "WHERE id = ?1")),
      knowledge_row(db, select_rows(kKnowledgeRow, "WHERE id = ?1")),
      record_change(db,
                    "INSERT INTO changes(committed_at, customer_id, kind, row) VALUES (?1, ?2, ?3, ?4)"),
      // The log is pruned from its start up to the first change that is
      // recent enough: what is gone is always every seq up to one number,
      // even if the clock once stepped back. Reads only the pruned rows.
      prune_boundary(db, R"sql(
SELECT seq FROM changes
WHERE seq < COALESCE((SELECT seq FROM changes WHERE committed_at >= ?1 ORDER BY seq LIMIT 1),
                     9223372036854775807)
ORDER BY seq DESC LIMIT 1)sql"),
      delete_changes_through(db, "DELETE FROM changes WHERE seq <= ?1"),
      record_pruned(db,
                    "UPDATE change_log_state SET pruned_through_seq = max(pruned_through_seq, ?1) "
                    "WHERE id = 1"),
      record_audit(db, R"sql(
INSERT INTO audit_log(kind, outcome, customer_id, idempotency_key, subject, headers, event_type, received_at,
                      committed_at, reason, timeline_id, raw, source_seq)
VALUES ('event', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12))sql"),
      any_alias(db, "SELECT EXISTS (SELECT 1 FROM customer_aliases)"),
      any_suppression(db, "SELECT EXISTS (SELECT 1 FROM suppressions)"),
      alias_of(db, "SELECT customer_id, merge_id FROM customer_aliases WHERE kind = ?1 AND alias = ?2"),
      suppressed(db, "SELECT 1 FROM suppressions WHERE identifier_hash IN (?1, ?2)"),
      record_merge_row(db, "INSERT OR IGNORE INTO merge_rows(merge_id, table_name, row_key) VALUES (?1, ?2, ?3)"),
      merge_alias_value(db, "UPDATE merges SET alias_lifetime_value = alias_lifetime_value + ?2 WHERE id = ?1"),
      merge_alias_seen(db,
                       "UPDATE merges SET alias_first_seen = min(COALESCE(alias_first_seen, ?2), ?2) WHERE id = ?1"),
      other_customer_with_email(db,
                                "SELECT id FROM customers WHERE email = ?1 COLLATE NOCASE AND id <> ?2 "
                                "ORDER BY customer_since LIMIT 1") {}

void StoreWriter::Statements::reset_all() {
  for (SQLite::Statement* statement :
       {&begin, &commit, &rollback, &savepoint, &release, &rollback_to, &key_applied, &record_key,
        &customer_by_email, &ensure_customer, &update_customer, &append_timeline, &purchase_before,
        &upsert_purchase, &upsert_work_order, &work_order_owner, &add_knowledge,
        &adjust_lifetime_value, &insert_dead_letter, &update_dead_letter, &delete_dead_letter,
        &delete_dead_letters_of_key, &last_event_id, &last_knowledge_id, &index_events,
        &index_knowledge, &unindex_customer, &index_customer, &customer_row, &timeline_row,
        &purchase_row, &work_order_row, &knowledge_row, &record_change, &prune_boundary,
        &delete_changes_through, &record_pruned, &record_audit, &any_alias, &any_suppression, &alias_of,
        &suppressed, &record_merge_row, &merge_alias_value, &merge_alias_seen, &other_customer_with_email})
    statement->tryReset();
}

}  // namespace customeriq
