// The ceiling: the rows the pipeline writes for a batch of events, written
// with nothing but prepared INSERT/UPDATE statements, one transaction per
// batch, into a database opened with the project's own
// open_store_for_writing (same schema, indexes, FTS5 triggers, WAL,
// synchronous=NORMAL).
//
// prepare() turns handled events (the real Pipeline's output, so the values
// are exactly the pipeline's: summaries, titles, metadata JSON) into row
// operations; it runs outside the timed region and keeps in memory what an
// ideal writer would know (which customers and work orders exist), so the
// timed write() does no reads: no idempotency SELECT, no savepoints, no
// "does this customer exist" upsert on every event. The FTS5 rows (events,
// knowledge, customers) are written the cheapest way the schema allows: by
// its triggers if it has them, else one INSERT per row from memory, flushed
// by FTS5 once per transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "work_item.hpp"

namespace SQLite {
class Database;
}

namespace customeriq::bench {

struct CustomerInsert {
  std::string id;
  std::int64_t search_rowid = 0;
  std::optional<std::string> name, email;
  std::int64_t since = 0;
  double lifetime_value = 0;
};
struct LifetimeAdd {
  std::string id;
  double delta = 0;
};
struct TimelineInsert {
  const std::string *customer_id, *event_type, *source_service, *raw;
  std::int64_t event_date = 0;
  const std::optional<std::string>*title, *description, *status, *agent_notes;
  std::optional<double> amount;
  std::string metadata;
};
struct PurchaseInsert {
  const sdk::UpsertPurchase* m;
  const std::string* customer_id;
  std::int64_t purchase_date = 0;
  std::string metadata;
};
struct WorkOrderWrite {
  const sdk::UpsertWorkOrder* m;
  bool insert = true;
  const std::string *customer_id, *order_type;
  std::int64_t created_date = 0;
  std::optional<std::string> metadata;
};
struct KnowledgeInsert {
  const sdk::AddKnowledge* m;
  const std::string* customer_id;
  std::int64_t created_at = 0;
  std::string tags;
};
struct KeyInsert {
  const std::string *key, *customer_id;
};

struct EventBegin {};

using RowOp = std::variant<EventBegin, CustomerInsert, LifetimeAdd, TimelineInsert, PurchaseInsert,
                           WorkOrderWrite, KnowledgeInsert, KeyInsert>;

// Row operations of one batch. Points into the WriteItems it was prepared
// from: keep them alive until write().
struct PreparedBatch {
  std::vector<RowOp> ops;
  std::size_t events = 0;
};

struct CeilingOptions {
  // Experiment: SAVEPOINT / RELEASE around each event (what StoreWriter did
  // before it indexed FTS per batch; FTS5 flushes at every savepoint).
  bool savepoint_per_event = false;
  // Experiment: no FTS5 rows for customer_events (what that index costs).
  bool skip_events_fts = false;
};

class CeilingWriter {
 public:
  explicit CeilingWriter(SQLite::Database& db, CeilingOptions options = {});
  ~CeilingWriter();

  // Untimed: row values of the batch. Throws for what the ceiling does not
  // model (dead letters, UpdateCustomer, a purchase id seen twice).
  PreparedBatch prepare(const std::vector<WriteItem>& items);

  // Timed: BEGIN, the operations, COMMIT.
  void write(const PreparedBatch& batch);

 private:
  struct Statements;
  SQLite::Database& db_;
  std::unique_ptr<Statements> s_;
  CeilingOptions options_;
  std::unordered_set<std::string> customers_, work_orders_, purchases_;
  std::int64_t now_;
  // The schema indexes FTS with AFTER INSERT triggers (the seed's design):
  // then the triggers write the FTS rows; else the ceiling writes them
  // itself, one INSERT per row, from the values in memory.
  bool fts_by_triggers_ = false;
  std::int64_t last_search_rowid_ = 0;
};

}  // namespace customeriq::bench
