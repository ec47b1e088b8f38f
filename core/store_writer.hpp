// StoreWriter: the one connection that writes. Applies the mutations of
// many events in one transaction with cached prepared statements.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "store_error.hpp"
#include "work_item.hpp"

namespace SQLite {
class Database;
}

namespace customeriq {

struct WriterOptions {
  bool auto_create_customers = true;  // NATS_AUTO_CREATE_CUSTOMER
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
  // transaction; the others still apply. Throws TransientStoreError after
  // rolling everything back. Calls no ack functions.
  std::vector<Outcome> apply_batch(const std::vector<WriteItem>& items);

  SQLite::Database& database();

 private:
  struct Statements;
  std::unique_ptr<SQLite::Database> db_;  // declared before the statements that use it
  std::unique_ptr<Statements> statements_;
  WriterOptions options_;
  std::unordered_set<std::string> changed_customers_;  // in this transaction: reindex them

  struct EventNeedsIsolation {};

  std::vector<Outcome> apply_in_transaction(const std::vector<WriteItem>& items, bool isolate_events);
  void index_batch(std::int64_t last_event_id, std::int64_t last_knowledge_id);
  void rollback_if_open();
  Outcome apply_event(const HandledEvent& handled, const WriteItem& item);
  void record_dead_letter(const DeadLetter& letter, const WriteItem& item);
  std::string resolve_customer(const sdk::Event& event);
};

}  // namespace customeriq
