#include "store/store_writer.hpp"

#include <cmath>
#include <ctime>
#include <optional>
#include <string>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>
#include <spdlog/spdlog.h>

#include "pipeline/event_decoder.hpp"
#include "hash.hpp"
#include "store/lifecycle.hpp"
#include "store/row_json.hpp"
#include "store/store_schema.hpp"
#include "store/writer_statements.hpp"

namespace customeriq {
namespace {

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Whose fault a SQLite error is. The store's own (busy, locked, disk
// full, I/O) may pass: the batch is tried again. The database's (read-only,
// corrupt, not a database, permissions) will not: the service stops with the
// message. Anything else raised while applying one event is that event's
// (a constraint, a datatype mismatch, malformed JSON for json_patch, too
// big): it is dead-lettered with SQLite's message.
enum class Fault { transient, database, event };

Fault classify(int extended_code) {
  switch (extended_code & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      return Fault::transient;
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_FORMAT:
    case SQLITE_MISUSE:
    case SQLITE_INTERNAL:
    case SQLITE_NOLFS:
      return Fault::database;
    default:
      return Fault::event;
  }
}

void bind_optional(SQLite::Statement& statement, int index, const std::optional<std::string>& value) {
  if (value) statement.bind(index, *value);
  else statement.bind(index);
}
void bind_optional(SQLite::Statement& statement, int index, const std::optional<double>& value) {
  if (value) statement.bind(index, *value);
  else statement.bind(index);
}
void bind_optional(SQLite::Statement& statement, int index, const std::optional<std::int64_t>& value) {
  if (value) statement.bind(index, static_cast<int64_t>(*value));
  else statement.bind(index);
}
// Binds a mutation's JSON field: the text a pipeline thread prepared
// (slot of MutationJsonText), or the field serialised here.
void bind_json(SQLite::Statement& statement, int index, const MutationJsonText* prepared, std::size_t slot,
               const sdk::Json& value) {
  if (prepared && (*prepared)[slot]) statement.bindNoCopy(index, *(*prepared)[slot]);
  else statement.bind(index, value.dump());
}
void bind_json(SQLite::Statement& statement, int index, const MutationJsonText* prepared, std::size_t slot,
               const std::optional<sdk::Json>& value) {
  if (value) bind_json(statement, index, prepared, slot, *value);
  else statement.bind(index);
}

// Runs a write statement once and leaves it ready for the next call, also
// when it fails: a statement left unreset after an error makes every later
// use fail with "bad parameter or other API misuse", hiding the real error.
int run(SQLite::Statement& statement) {
  try {
    const int changes = statement.exec();
    statement.tryReset();
    return changes;
  } catch (...) {
    statement.tryReset();
    throw;
  }
}

// Steps a query once; the statement is reset whatever happens.
template <typename Read>
auto first_row(SQLite::Statement& query, Read read) -> std::optional<decltype(read(query))> {
  std::optional<decltype(read(query))> value;
  try {
    if (query.executeStep()) value = read(query);
  } catch (...) {
    query.tryReset();
    throw;
  }
  query.tryReset();
  return value;
}

std::optional<std::string> string_field(const sdk::Json& data, const char* key) {
  auto it = data.find(key);
  if (it == data.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    return std::nullopt;
  return it->get<std::string>();
}

std::string headers_json(const Headers& headers) {
  sdk::Json array = sdk::Json::array();
  for (const auto& [name, value] : headers) array.push_back({name, value});
  return array.dump(-1, ' ', false, sdk::Json::error_handler_t::replace);
}

// Thrown by an event the store will not take: dead-letter it, keep the batch.
class EventRejected : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::int64_t single_integer(SQLite::Statement& query) {
  return first_row(query, [](SQLite::Statement& q) { return q.getColumn(0).getInt64(); }).value_or(0);
}

}  // namespace


StoreWriter::StoreWriter(const std::filesystem::path& db_path, WriterOptions options)
    : db_(open_store_for_writing(db_path)),
      statements_(std::make_unique<Statements>(*db_)),
      options_(options) {
  // An acknowledged event must survive power loss: its source (JetStream)
  // drops it once acked, so the commit waits for the WAL to reach the disk.
  if (options_.durable_commits) db_->exec("PRAGMA synchronous = FULL");
  identifier_salt_ = identifier_salt(*db_);
}

StoreWriter::~StoreWriter() = default;

SQLite::Database& StoreWriter::database() { return *db_; }

std::vector<Outcome> StoreWriter::apply_batch(const std::vector<WriteItem>& items) {
  try {
    try {
      return apply_in_transaction(items, /*isolate_events=*/false);
    } catch (const EventNeedsIsolation&) {
      // An event failed halfway and the batch was rolled back: apply it again
      // with a savepoint around each event, so only the bad one is left out.
      return apply_in_transaction(items, /*isolate_events=*/true);
    }
  } catch (const SQLite::Exception& error) {
    rollback_if_open();
    const std::string what = "batch of " + std::to_string(items.size()) + " rolled back: " + error.what();
    if (classify(error.getExtendedErrorCode()) == Fault::transient)
      throw TransientStoreError("store error, " + what);
    throw StoreError("database " + db_->getFilename() + " cannot be written (" + what + ")");
  }
}

void StoreWriter::rollback_if_open() {
  statements_->reset_all();
  if (sqlite3_get_autocommit(db_->getHandle()) != 0) return;
  try {
    run(statements_->rollback);
  } catch (const SQLite::Exception&) {
    // The transaction is already gone (SQLite rolls back on some errors).
  }
}

// Savepoints cost a flush of every FTS table written in the transaction
// (see store_schema.cpp), so the common case runs without them and pays for
// isolation only when an event actually fails.
std::vector<Outcome> StoreWriter::apply_in_transaction(const std::vector<WriteItem>& items,
                                                       bool isolate_events) {
  auto& s = *statements_;
  std::vector<Outcome> outcomes;
  outcomes.reserve(items.size());
  std::vector<std::string> rejections;  // logged once committed, not at every attempt
  const bool prune_due = change_prune_due();
  run(s.begin);
  if (prune_due) prune_changes(unix_now());
  const std::int64_t last_event_id = single_integer(s.last_event_id);
  const std::int64_t last_knowledge_id = single_integer(s.last_knowledge_id);
  // Read in the transaction: a merge or an erasure by another connection
  // is either wholly before it or wholly after.
  aliases_present_ = single_integer(s.any_alias) != 0;
  suppressions_present_ = single_integer(s.any_suppression) != 0;
  changed_customers_.clear();

  for (const auto& item : items) {
    if (const auto* letter = std::get_if<DeadLetter>(&item.content)) {
      record_dead_letter(*letter, item);
      outcomes.push_back(Outcome::dead_lettered);
      continue;
    }
    const auto& handled = std::get<HandledEvent>(item.content);
    std::string rejection;
    if (isolate_events) run(s.savepoint);
    try {
      outcomes.push_back(apply_event(handled, item));
      if (outcomes.back() == Outcome::suppressed) {
        // Nothing of the customer in the log: not the id, not the email.
        const sdk::Event& event = handled.event;
        rejections.push_back(fmt::format("[Store] Suppressed a {} event from {} (key {}): its customer was erased; "
                                         "not stored",
                                         event.event_type, event.subject, event.idempotency_key));
      }
      if (isolate_events) run(s.release);
      continue;
    } catch (const SQLite::Exception& error) {
      if (classify(error.getExtendedErrorCode()) != Fault::event) throw;
      rejection = std::string("store rejected the event: ") + error.what();
    } catch (const EventRejected& error) {
      rejection = error.what();
    }
    if (!isolate_events) {
      rollback_if_open();
      throw EventNeedsIsolation();
    }
    s.reset_all();
    run(s.rollback_to);
    run(s.release);
    const sdk::Event& event = handled.event;
    rejections.push_back(fmt::format("[Store] Dead letter from {} ({} {}): {}", event.subject,
                                     event.event_type, event.idempotency_key, rejection));
    record_dead_letter(DeadLetter{rejection, event.raw, event.subject, event.headers,
                                  event.event_type, event.idempotency_key},
                       item);
    outcomes.push_back(Outcome::dead_lettered);
  }
  index_batch(last_event_id, last_knowledge_id);
  run(s.commit);
  if (prune_due) last_change_prune_ = std::chrono::steady_clock::now();
  for (const auto& line : rejections) spdlog::warn("{}", line);
  return outcomes;
}

// Adds this transaction's new rows to the FTS indexes: one multi-row
// statement per table, so FTS5 writes one segment per batch.
void StoreWriter::index_batch(std::int64_t last_event_id, std::int64_t last_knowledge_id) {
  auto& s = *statements_;
  s.index_events.bind(1, static_cast<int64_t>(last_event_id));
  run(s.index_events);
  s.index_knowledge.bind(1, static_cast<int64_t>(last_knowledge_id));
  run(s.index_knowledge);
  for (const std::string& customer_id : changed_customers_) {
    s.unindex_customer.bind(1, customer_id);
    run(s.unindex_customer);
    s.index_customer.bind(1, customer_id);
    run(s.index_customer);
  }
}

bool StoreWriter::change_prune_due() const {
  return !last_change_prune_ ||
         std::chrono::steady_clock::now() - *last_change_prune_ >= options_.change_prune_interval;
}

void StoreWriter::prune_changes(std::int64_t now) {
  auto& s = *statements_;
  s.prune_boundary.bind(1, static_cast<int64_t>(now - options_.change_retention.count()));
  const auto last_pruned = first_row(s.prune_boundary, [](SQLite::Statement& q) { return q.getColumn(0).getInt64(); });
  if (!last_pruned) return;
  s.delete_changes_through.bind(1, static_cast<int64_t>(*last_pruned));
  run(s.delete_changes_through);
  s.record_pruned.bind(1, static_cast<int64_t>(*last_pruned));
  run(s.record_pruned);
}

void StoreWriter::record_change(const char* kind, const RowShape& shape, SQLite::Statement& select_row,
                                const AppliedEvent& applying) {
  const auto row = first_row(select_row, [&](SQLite::Statement& q) { return row_to_json_text(q, shape); });
  if (!row) throw EventRejected(std::string("the ") + shape.table + " row of change " + kind + " is gone");
  auto& q = statements_->record_change;
  q.bind(1, static_cast<int64_t>(applying.now));
  q.bindNoCopy(2, applying.customer_id);
  q.bindNoCopy(3, kind);
  q.bindNoCopy(4, *row);
  run(q);
}

std::optional<std::string> StoreWriter::key_owner(const std::string& idempotency_key) {
  auto& s = *statements_;
  s.key_applied.bind(1, idempotency_key);
  return first_row(s.key_applied, [](SQLite::Statement& q) { return q.getColumn(0).getString(); });
}

void StoreWriter::record_audit(const AuditEntry& entry, const WriteItem& item) {
  auto& q = statements_->record_audit;
  auto bind_text = [&](int index, const std::string* text) {
    if (text && !text->empty()) q.bindNoCopy(index, *text);
    else q.bind(index);
  };
  q.bind(1, to_string(entry.outcome));
  bind_text(2, entry.customer_id);
  bind_text(3, entry.idempotency_key);
  bind_text(4, entry.subject);
  if (entry.headers && !entry.headers->empty()) q.bind(5, headers_json(*entry.headers));
  else q.bind(5);
  bind_text(6, entry.event_type);
  q.bind(7, static_cast<int64_t>(item.received_at ? item.received_at : unix_now()));
  q.bind(8, static_cast<int64_t>(unix_now()));
  bind_text(9, entry.reason);
  bind_optional(q, 10, entry.timeline_id);
  if (entry.raw) q.bindNoCopy(11, entry.raw->data(), static_cast<int>(entry.raw->size()));
  else q.bind(11);
  bind_optional(q, 12, item.source_seq);
  run(q);
}

void StoreWriter::record_dead_letter(const DeadLetter& letter, const WriteItem& item) {
  auto& s = *statements_;
  const std::int64_t now = unix_now();
  const std::string key = letter.idempotency_key.empty() ? payload_key(letter.raw) : letter.idempotency_key;
  record_audit(AuditEntry{.outcome = Outcome::dead_lettered, .idempotency_key = &key, .subject = &letter.subject,
                          .headers = &letter.headers, .event_type = &letter.event_type, .reason = &letter.reason,
                          .raw = &letter.raw},
               item);
  if (item.replay_of) {
    // A replayed letter whose event has been applied since is stale: drop it.
    if (key_owner(key)) {
      s.delete_dead_letter.bind(1, static_cast<int64_t>(*item.replay_of));
      run(s.delete_dead_letter);
      return;
    }
    s.update_dead_letter.bind(1, static_cast<int64_t>(*item.replay_of));
    s.update_dead_letter.bind(2, letter.reason);
    s.update_dead_letter.bind(3, static_cast<int64_t>(now));
    run(s.update_dead_letter);
    return;
  }
  auto& insert = s.insert_dead_letter;
  insert.bind(1, static_cast<int64_t>(now));
  insert.bind(2, letter.subject);
  insert.bind(3, letter.reason);
  insert.bind(4, letter.raw.data(), static_cast<int>(letter.raw.size()));
  insert.bind(5, headers_json(letter.headers));
  bind_optional(insert, 6, letter.event_type.empty() ? std::nullopt : std::optional(letter.event_type));
  insert.bind(7, key);
  insert.bind(8, fnv1a_128_hex(letter.raw));
  run(insert);
}

bool StoreWriter::is_suppressed(const sdk::Event& event) {
  auto& q = statements_->suppressed;
  if (!event.customer_id.empty()) q.bind(1, identifier_hash_with_salt(identifier_salt_, "id", event.customer_id));
  else q.bind(1);
  if (!event.customer_email.empty()) q.bind(2, identifier_hash_with_salt(identifier_salt_, "email", event.customer_email));
  else q.bind(2);
  return first_row(q, [](SQLite::Statement&) { return true; }).has_value();
}

// Kept as a dead letter without its payload: the count of attempts says how
// often the erased customer's events still come.
void StoreWriter::record_suppressed(const sdk::Event& event, const WriteItem& item) {
  static const std::string reason = "suppressed";
  record_audit(AuditEntry{.outcome = Outcome::suppressed, .idempotency_key = &event.idempotency_key,
                          .subject = &event.subject, .event_type = &event.event_type, .reason = &reason},
               item);
  auto& insert = statements_->insert_dead_letter;
  const std::int64_t now = unix_now();
  insert.bind(1, static_cast<int64_t>(now));
  insert.bind(2, event.subject);
  insert.bind(3, reason);
  insert.bind(4, "", 0);
  insert.bind(5, "[]");
  insert.bind(6, event.event_type);
  insert.bind(7, event.idempotency_key);
  insert.bind(8, fnv1a_128_hex("suppressed:" + event.idempotency_key));
  run(insert);
}

std::string StoreWriter::follow_aliases(std::string customer_id, std::vector<std::int64_t>& via_merges) {
  auto& q = statements_->alias_of;
  for (int hops = 0; hops < 64; ++hops) {
    q.bind(1, "id");
    q.bind(2, customer_id);
    auto target = first_row(q, [](SQLite::Statement& r) {
      return std::pair(r.getColumn(0).getString(), r.getColumn(1).getInt64());
    });
    if (!target) break;
    customer_id = std::move(target->first);
    via_merges.push_back(target->second);
  }
  return customer_id;
}

std::string StoreWriter::resolve_customer(const sdk::Event& event, std::vector<std::int64_t>& via_merges) {
  auto& s = *statements_;
  std::string customer_id = event.customer_id;
  if (!customer_id.empty() && aliases_present_) customer_id = follow_aliases(std::move(customer_id), via_merges);
  // A merged customer's email is looked up first: the survivor may have
  // taken it too, but what comes with it goes back with an unmerge.
  if (customer_id.empty() && aliases_present_) {
    auto& q = s.alias_of;
    q.bind(1, "email");
    q.bind(2, event.customer_email);
    if (auto target = first_row(q, [](SQLite::Statement& r) {
          return std::pair(r.getColumn(0).getString(), r.getColumn(1).getInt64());
        })) {
      via_merges.push_back(target->second);
      customer_id = follow_aliases(std::move(target->first), via_merges);
    }
  }
  if (customer_id.empty()) {
    s.customer_by_email.bind(1, event.customer_email);
    customer_id = first_row(s.customer_by_email, [](SQLite::Statement& q) {
                    return q.getColumn(0).getString();
                  }).value_or("");
    if (customer_id.empty()) {
      if (!options_.auto_create_customers) {
        throw EventRejected("no customer with email " + event.customer_email +
                            " and NATS_AUTO_CREATE_CUSTOMER is false");
      }
      // Derived from the email, so every instance creates the same id.
      customer_id = "cust_" + fnv1a_128_hex(event.customer_email).substr(0, 16);
    }
  }
  return customer_id;
}

void StoreWriter::ensure_customer(AppliedEvent& applying) {
  const sdk::Event& event = applying.event;
  auto& ensure = statements_->ensure_customer;
  ensure.bind(1, applying.customer_id);
  bind_optional(ensure, 2, string_field(event.data, "customer_name"));
  bind_optional(ensure, 3, event.customer_email.empty() ? std::nullopt : std::optional(event.customer_email));
  ensure.bind(4, static_cast<int64_t>(event.timestamp));
  ensure.bind(5, static_cast<int64_t>(applying.now));
  if (run(ensure) == 0) return;
  changed_customers_.insert(applying.customer_id);
  applying.customer_changed = true;
}

Outcome StoreWriter::apply_event(const HandledEvent& handled, const WriteItem& item) {
  auto& s = *statements_;
  const sdk::Event& event = handled.event;
  auto forget_dead_letters = [&] {
    s.delete_dead_letters_of_key.bind(1, event.idempotency_key);
    run(s.delete_dead_letters_of_key);
    if (item.replay_of) {
      s.delete_dead_letter.bind(1, static_cast<int64_t>(*item.replay_of));
      run(s.delete_dead_letter);
    }
  };

  if (suppressions_present_ && is_suppressed(event)) {
    record_suppressed(event, item);
    return Outcome::suppressed;
  }
  if (const auto owner = key_owner(event.idempotency_key)) {
    record_audit(AuditEntry{.outcome = Outcome::duplicate, .customer_id = &*owner,
                            .idempotency_key = &event.idempotency_key, .subject = &event.subject,
                            .headers = &event.headers, .event_type = &event.event_type},
                 item);
    forget_dead_letters();
    return Outcome::duplicate;
  }

  std::vector<std::int64_t> via_merges;
  std::string customer_id = resolve_customer(event, via_merges);
  AppliedEvent applying{event, std::move(customer_id), unix_now()};
  applying.via_merges = std::move(via_merges);
  for (const std::int64_t merge_id : applying.via_merges) {
    s.merge_alias_seen.bind(1, static_cast<int64_t>(merge_id));
    s.merge_alias_seen.bind(2, static_cast<int64_t>(event.timestamp));
    run(s.merge_alias_seen);
  }
  ensure_customer(applying);
  if (options_.auto_merge && !event.customer_id.empty() && !event.customer_email.empty()) auto_merge(applying);
  const bool prepared = handled.json_text.size() == handled.mutations.size();
  for (std::size_t i = 0; i < handled.mutations.size(); ++i) {
    applying.json_text = prepared ? &handled.json_text[i] : nullptr;
    std::visit([&](const auto& m) { apply(m, applying); }, handled.mutations[i]);
  }
  if (applying.customer_changed) {
    s.customer_row.bind(1, applying.customer_id);
    record_change("customer.updated", kCustomerRow, s.customer_row, applying);
  }

  auto& record = s.record_key;
  record.bind(1, event.idempotency_key);
  record.bind(2, applying.customer_id);
  record.bind(3, static_cast<int64_t>(applying.now));
  run(record);
  remember_for_merges(applying, "processed_events", event.idempotency_key);
  record_audit(AuditEntry{.outcome = Outcome::applied, .customer_id = &applying.customer_id,
                          .idempotency_key = &event.idempotency_key, .subject = &event.subject,
                          .headers = &event.headers, .event_type = &event.event_type,
                          .timeline_id = applying.first_timeline_id,
                          .raw = applying.first_timeline_id ? nullptr : &event.raw},
               item);
  forget_dead_letters();
  return Outcome::applied;
}

void StoreWriter::remember_for_merges(const AppliedEvent& applying, const char* table, std::int64_t key) {
  auto& q = statements_->record_merge_row;
  for (const std::int64_t merge_id : applying.via_merges) {
    q.bind(1, static_cast<int64_t>(merge_id));
    q.bindNoCopy(2, table);
    q.bind(3, static_cast<int64_t>(key));
    run(q);
  }
}

void StoreWriter::remember_for_merges(const AppliedEvent& applying, const char* table, const std::string& key) {
  auto& q = statements_->record_merge_row;
  for (const std::int64_t merge_id : applying.via_merges) {
    q.bind(1, static_cast<int64_t>(merge_id));
    q.bindNoCopy(2, table);
    q.bindNoCopy(3, key);
    run(q);
  }
}

// identity.auto_merge: the email's customer joins the id's, in this event's
// transaction. A merge the store refuses (one of them is itself merged)
// leaves both as they are; the event still applies.
void StoreWriter::auto_merge(AppliedEvent& applying) {
  auto& q = statements_->other_customer_with_email;
  q.bind(1, applying.event.customer_email);
  q.bind(2, applying.customer_id);
  const auto other = first_row(q, [](SQLite::Statement& r) { return r.getColumn(0).getString(); });
  if (!other) return;
  try {
    const Json report = merge_in_transaction(*db_, *other, applying.customer_id, applying.now,
                                             MergeOptions{.automatic = true});
    spdlog::info("[Store] Merged customer {} into {} (merge {}): event {} names both", *other,
                 applying.customer_id, report["merge_id"].dump(), applying.event.idempotency_key);
    aliases_present_ = true;
    changed_customers_.insert(applying.customer_id);
    applying.customer_changed = true;
  } catch (const LifecycleError& refusal) {
    spdlog::warn("[Store] Not merging customer {} into {}: {}", *other, applying.customer_id, refusal.what());
  }
}

void StoreWriter::apply(const sdk::UpdateCustomer& m, AppliedEvent& applying) {
  auto& q = statements_->update_customer;
  q.bind(1, applying.customer_id);
  bind_optional(q, 2, m.name);
  bind_optional(q, 3, m.email);
  bind_optional(q, 4, m.phone);
  bind_optional(q, 5, m.company);
  bind_optional(q, 6, m.status);
  bind_json(q, 7, applying.json_text, 0, m.tags);
  bind_json(q, 8, applying.json_text, 1, m.custom_fields);
  q.bind(9, static_cast<int64_t>(applying.now));
  if (run(q) > 0) applying.customer_changed = true;
  if (m.name || m.email || m.company) changed_customers_.insert(applying.customer_id);
}

void StoreWriter::apply(const sdk::AppendTimelineEvent& m, AppliedEvent& applying) {
  const sdk::Event& event = applying.event;
  auto& q = statements_->append_timeline;
  q.bind(1, applying.customer_id);
  q.bind(2, m.event_type.empty() ? event.event_type : m.event_type);
  q.bind(3, static_cast<int64_t>(m.event_date.value_or(event.timestamp)));
  bind_optional(q, 4, m.title);
  bind_optional(q, 5, m.description);
  bind_optional(q, 6, m.amount);
  bind_optional(q, 7, m.status);
  bind_json(q, 8, applying.json_text, 0, m.metadata);
  bind_optional(q, 9, m.agent_notes);
  q.bind(10, event.source_service);
  q.bindNoCopy(11, event.raw);
  q.bind(12, static_cast<int64_t>(applying.now));
  run(q);
  const std::int64_t id = db_->getLastInsertRowid();
  if (!applying.first_timeline_id) applying.first_timeline_id = id;
  remember_for_merges(applying, "customer_events", id);
  auto& row = statements_->timeline_row;
  row.bind(1, static_cast<int64_t>(id));
  record_change("timeline.appended", kTimelineRow, row, applying);
}

void StoreWriter::apply(const sdk::UpsertPurchase& m, AppliedEvent& applying) {
  auto& s = *statements_;
  const std::string& customer_id = applying.customer_id;
  // The purchase's lifetime value moves with it: take back what a previous
  // version of this purchase added, then add the new total.
  s.purchase_before.bind(1, m.purchase_id);
  const auto before = first_row(s.purchase_before, [](SQLite::Statement& q) {
    return std::pair(q.getColumn(0).getString(), q.getColumn(1).getDouble());
  });
  if (before) {
    const auto& [owner, previous_total] = *before;
    if (owner != customer_id) {
      throw EventRejected("purchase " + m.purchase_id + " belongs to customer " + owner + ", not " +
                          customer_id);
    }
    adjust_lifetime_value(-previous_total, applying);
  }
  auto& q = s.upsert_purchase;
  q.bind(1, m.purchase_id);
  q.bind(2, customer_id);
  bind_optional(q, 3, m.product_name);
  bind_optional(q, 4, m.product_sku);
  q.bind(5, static_cast<int64_t>(m.quantity));
  bind_optional(q, 6, m.price);
  q.bind(7, m.total);
  q.bind(8, static_cast<int64_t>(m.purchase_date.value_or(applying.event.timestamp)));
  bind_optional(q, 9, m.warranty_expires);
  bind_json(q, 10, applying.json_text, 0, m.metadata);
  q.bind(11, static_cast<int64_t>(applying.now));
  run(q);
  if (!before) remember_for_merges(applying, "purchases", m.purchase_id);
  adjust_lifetime_value(m.total, applying);
  s.purchase_row.bind(1, m.purchase_id);
  record_change("purchase.upserted", kPurchaseRow, s.purchase_row, applying);
}

void StoreWriter::apply(const sdk::UpsertWorkOrder& m, AppliedEvent& applying) {
  auto& s = *statements_;
  bool existed = false;
  if (!applying.via_merges.empty()) {
    s.work_order_owner.bind(1, m.work_order_id);
    existed = first_row(s.work_order_owner, [](SQLite::Statement&) { return true; }).has_value();
  }
  auto& q = s.upsert_work_order;
  q.bind(1, m.work_order_id);
  q.bind(2, applying.customer_id);
  bind_optional(q, 3, m.order_type);
  bind_optional(q, 4, m.issue_description);
  bind_optional(q, 5, m.resolution);
  bind_optional(q, 6, m.status);
  bind_optional(q, 7, m.priority);
  bind_optional(q, 8, m.assigned_to);
  q.bind(9, static_cast<int64_t>(m.created_date.value_or(applying.event.timestamp)));
  bind_optional(q, 10, m.completed_date);
  bind_optional(q, 11, m.cost);
  bind_json(q, 12, applying.json_text, 0, m.metadata);
  q.bind(13, applying.event.event_type);
  if (run(q) == 0) {
    s.work_order_owner.bind(1, m.work_order_id);
    const std::string owner =
        first_row(s.work_order_owner, [](SQLite::Statement& w) { return w.getColumn(0).getString(); })
            .value_or("");
    throw EventRejected("work order " + m.work_order_id + " belongs to customer " + owner + ", not " +
                        applying.customer_id);
  }
  if (!existed) remember_for_merges(applying, "work_orders", m.work_order_id);
  s.work_order_row.bind(1, m.work_order_id);
  record_change("work_order.upserted", kWorkOrderRow, s.work_order_row, applying);
}

void StoreWriter::apply(const sdk::AddKnowledge& m, AppliedEvent& applying) {
  auto& q = statements_->add_knowledge;
  q.bind(1, applying.customer_id);
  q.bind(2, m.content);
  q.bind(3, m.category);
  q.bind(4, m.importance);
  bind_json(q, 5, applying.json_text, 0, m.tags);
  q.bind(6, m.source);
  q.bind(7, static_cast<int64_t>(applying.event.timestamp));
  run(q);
  const std::int64_t id = db_->getLastInsertRowid();
  remember_for_merges(applying, "customer_knowledge", id);
  auto& row = statements_->knowledge_row;
  row.bind(1, static_cast<int64_t>(id));
  record_change("knowledge.added", kKnowledgeRow, row, applying);
}

void StoreWriter::apply(const sdk::AdjustLifetimeValue& m, AppliedEvent& applying) {
  adjust_lifetime_value(m.delta, applying);
}

void StoreWriter::adjust_lifetime_value(double delta, AppliedEvent& applying) {
  auto& q = statements_->adjust_lifetime_value;
  q.bind(1, applying.customer_id);
  q.bind(2, delta);
  q.bind(3, static_cast<int64_t>(applying.now));
  const auto value = first_row(q, [](SQLite::Statement& r) { return r.getColumn(0).getDouble(); });
  if (!value) return;
  if (!std::isfinite(*value)) {
    throw EventRejected("lifetime_value of customer " + applying.customer_id + " would overflow (adding " +
                        fmt::format("{}", delta) + ")");
  }
  for (const std::int64_t merge_id : applying.via_merges) {
    auto& credit = statements_->merge_alias_value;
    credit.bind(1, static_cast<int64_t>(merge_id));
    credit.bind(2, delta);
    run(credit);
  }
  applying.customer_changed = true;
}

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::applied: return "applied";
    case Outcome::duplicate: return "duplicate";
    case Outcome::dead_lettered: return "dead_lettered";
    case Outcome::retry_later: return "retry_later";
    case Outcome::suppressed: return "suppressed";
  }
  return "unknown";
}

}  // namespace customeriq
