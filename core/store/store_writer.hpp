// StoreWriter: the one connection that writes. Applies the mutations of
// many events in one transaction with cached prepared statements, and
// records each effect in the change log (table changes) in that transaction.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "store/store_error.hpp"
#include "work_item.hpp"

namespace SQLite {
class Database;
class Statement;
}

namespace customeriq {

struct RowShape;

struct WriterOptions {
  bool auto_create_customers = true;  // NATS_AUTO_CREATE_CUSTOMER
  // synchronous=FULL: a commit survives power loss, not only a crash of the
  // process. For sources that drop an event once it is acknowledged.
  bool durable_commits = false;
  // Changes older than this are pruned from the change log, at most once
  // per change_prune_interval, inside a batch's transaction.
  std::chrono::seconds change_retention = std::chrono::days(7);
  std::chrono::seconds change_prune_interval = std::chrono::minutes(1);
  // identity.auto_merge: an event whose customer_id and data.email name two
  // different customers merges the email's customer into the id's.
  bool auto_merge = false;
};

class StoreWriter {
 public:
  StoreWriter(const std::filesystem::path& db_path, WriterOptions options);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Applies items in one transaction and returns each item's outcome, in
  // order. An item the store rejects (a constraint, an unknown customer
  // email with auto-create off) is dead-lettered inside the same
  // transaction; the others still apply. After rolling everything back,
  // throws TransientStoreError for what may pass (busy, locked, disk full,
  // I/O) and StoreError for a database that cannot be written (read-only,
  // corrupt). Calls no ack functions.
  std::vector<Outcome> apply_batch(const std::vector<WriteItem>& items);

  SQLite::Database& database();

 private:
  struct Statements;
  std::unique_ptr<SQLite::Database> db_;  // declared before the statements that use it
  std::unique_ptr<Statements> statements_;
  WriterOptions options_;
  std::unordered_set<std::string> changed_customers_;  // in this transaction: reindex them
  std::optional<std::chrono::steady_clock::time_point> last_change_prune_;
  std::string identifier_salt_;         // of suppression hashes (store_secrets)
  bool aliases_present_ = false;        // in this transaction: merged customers exist
  bool suppressions_present_ = false;   // in this transaction: erased identifiers exist

  struct EventNeedsIsolation {};

  std::vector<Outcome> apply_in_transaction(const std::vector<WriteItem>& items, bool isolate_events);
  void index_batch(std::int64_t last_event_id, std::int64_t last_knowledge_id);
  void rollback_if_open();
  Outcome apply_event(const HandledEvent& handled, const WriteItem& item);
  void record_dead_letter(const DeadLetter& letter, const WriteItem& item);
  // The customer an event is for, and the merges it reached it through
  // (an alias of a merged customer).
  std::string resolve_customer(const sdk::Event& event, std::vector<std::int64_t>& via_merges);
  std::string follow_aliases(std::string customer_id, std::vector<std::int64_t>& via_merges);
  bool is_suppressed(const sdk::Event& event);
  void record_suppressed(const sdk::Event& event, const WriteItem& item);
  std::optional<std::string> key_owner(const std::string& idempotency_key);  // customer of an applied key
  // The audit row of one item; raw only when no timeline row holds it.
  struct AuditEntry {
    Outcome outcome;
    const std::string* customer_id = nullptr;
    const std::string* idempotency_key = nullptr;
    const std::string* subject = nullptr;
    const Headers* headers = nullptr;
    const std::string* event_type = nullptr;
    const std::string* reason = nullptr;
    std::optional<std::int64_t> timeline_id;
    const std::string* raw = nullptr;
  };
  void record_audit(const AuditEntry& entry, const WriteItem& item);

  // The event being applied, its resolved customer and the write time.
  struct AppliedEvent {
    const sdk::Event& event;
    std::string customer_id;
    std::int64_t now;
    bool customer_changed = false;  // its customer row was created or written
    const MutationJsonText* json_text = nullptr;  // of the mutation being applied, when prepared
    std::vector<std::int64_t> via_merges;  // reached through aliases: these merges' rows
    std::optional<std::int64_t> first_timeline_id;  // the timeline row holding the raw event
  };
  // A row an event written through an alias wrote: it goes back with an unmerge.
  void remember_for_merges(const AppliedEvent& applying, const char* table, std::int64_t key);
  void remember_for_merges(const AppliedEvent& applying, const char* table, const std::string& key);
  void auto_merge(AppliedEvent& applying);
  // One apply per mutation type.
  void apply(const sdk::UpdateCustomer& m, AppliedEvent& applying);
  void apply(const sdk::AppendTimelineEvent& m, AppliedEvent& applying);
  void apply(const sdk::UpsertPurchase& m, AppliedEvent& applying);
  void apply(const sdk::UpsertWorkOrder& m, AppliedEvent& applying);
  void apply(const sdk::AddKnowledge& m, AppliedEvent& applying);
  void apply(const sdk::AdjustLifetimeValue& m, AppliedEvent& applying);
  // Throws EventRejected when the sum would no longer be a finite number.
  void adjust_lifetime_value(double delta, AppliedEvent& applying);

  // Creates the event's customer, or fills what an earlier event left blank.
  void ensure_customer(AppliedEvent& applying);
  // Appends to the change log the row that select_row (the shape's SELECT
  // by key, bound) finds.
  void record_change(const char* kind, const RowShape& shape, SQLite::Statement& select_row,
                     const AppliedEvent& applying);
  bool change_prune_due() const;
  void prune_changes(std::int64_t now);
};

}  // namespace customeriq
