#include "ceiling.hpp"

#include <ctime>
#include <stdexcept>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace customeriq::bench {
namespace {

// TEXT without a copy. (SQLiteCpp's pointer+size bindNoCopy would bind a
// BLOB, which never equals the TEXT keys it references.)
void bind_text(SQLite::Statement& q, int index, const std::string* text) { q.bindNoCopy(index, *text); }
void bind_opt(SQLite::Statement& q, int index, const std::optional<std::string>& value) {
  if (value) q.bindNoCopy(index, *value);
  else q.bind(index);
}
void bind_opt(SQLite::Statement& q, int index, const std::optional<double>& value) {
  if (value) q.bind(index, *value);
  else q.bind(index);
}
void bind_opt(SQLite::Statement& q, int index, const std::optional<std::int64_t>& value) {
  if (value) q.bind(index, static_cast<int64_t>(*value));
  else q.bind(index);
}
void run(SQLite::Statement& q) {
  q.exec();
  q.reset();
}

}  // namespace

struct CeilingWriter::Statements {
  Statements(SQLite::Database& db, bool fts_by_triggers)
      : begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT"),
        savepoint(db, "SAVEPOINT event"),
        release(db, "RELEASE event"),
        insert_customer(db, fts_by_triggers
                                ? "INSERT INTO customers(id, name, email, customer_since, lifetime_value, "
                                  "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)"
                                : "INSERT INTO customers(id, name, email, customer_since, lifetime_value, "
                                  "created_at, updated_at, search_rowid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)"),
        add_lifetime(db, "UPDATE customers SET lifetime_value = lifetime_value + ?2 WHERE id = ?1"),
        insert_event(db, R"sql(
INSERT INTO customer_events(customer_id, event_type, event_date, title, description, amount,
                            status, metadata, agent_notes, source_service, raw_event_data, created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12))sql"),
        insert_purchase(db, R"sql(
INSERT INTO purchases(id, customer_id, product_name, product_sku, quantity, price, total,
                      purchase_date, warranty_expires, metadata, created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11))sql"),
        insert_work_order(db, R"sql(
INSERT INTO work_orders(id, customer_id, order_type, issue_description, resolution, status,
                        priority, assigned_to, created_date, completed_date, cost, metadata)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12))sql"),
        // Same effect as the pipeline's upsert on an existing order.
        update_work_order(db, R"sql(
UPDATE work_orders SET
  order_type = COALESCE(?3, order_type),
  issue_description = COALESCE(?4, issue_description),
  resolution = COALESCE(?5, resolution),
  status = COALESCE(?6, status),
  priority = COALESCE(?7, priority),
  assigned_to = COALESCE(?8, assigned_to),
  completed_date = COALESCE(?10, completed_date),
  cost = COALESCE(?11, cost),
  metadata = CASE WHEN ?12 IS NULL THEN metadata ELSE json_patch(metadata, ?12) END
WHERE id = ?1 AND customer_id = ?2)sql"),
        insert_knowledge(db, R"sql(
INSERT INTO customer_knowledge(customer_id, content, category, importance, tags, source,
                               created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7))sql"),
        insert_key(db,
                   "INSERT INTO processed_events(idempotency_key, customer_id, applied_at) "
                   "VALUES (?1, ?2, ?3)"),
        events_fts(db, "INSERT INTO customer_events_fts(rowid, title, description) VALUES (?1, ?2, ?3)"),
        knowledge_fts(db, "INSERT INTO customer_knowledge_fts(rowid, content) VALUES (?1, ?2)"),
        customers_fts(db, "INSERT INTO customers_fts(rowid, name, email, company) VALUES (?1, ?2, ?3, NULL)") {}

  SQLite::Statement begin, commit, savepoint, release;
  SQLite::Statement insert_customer, add_lifetime, insert_event, insert_purchase;
  SQLite::Statement insert_work_order, update_work_order, insert_knowledge, insert_key;
  SQLite::Statement events_fts, knowledge_fts, customers_fts;
};

CeilingWriter::CeilingWriter(SQLite::Database& db, CeilingOptions options)
    : db_(db), options_(options), now_(static_cast<std::int64_t>(std::time(nullptr))) {
  fts_by_triggers_ =
      db_.execAndGet("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND "
                     "name IN ('customer_events_fts_insert', 'customer_knowledge_fts_insert', "
                     "'customers_fts_insert')")
          .getInt() == 3;
  last_search_rowid_ = db_.execAndGet("SELECT COALESCE(MAX(search_rowid), 0) FROM customers").getInt64();
  s_ = std::make_unique<Statements>(db_, fts_by_triggers_);
}

CeilingWriter::~CeilingWriter() = default;

PreparedBatch CeilingWriter::prepare(const std::vector<WriteItem>& items) {
  PreparedBatch batch;
  batch.ops.reserve(items.size() * 4);
  for (const auto& item : items) {
    const auto* handled = std::get_if<HandledEvent>(&item.content);
    if (!handled) {
      throw std::runtime_error("the ceiling does not model dead letters: " +
                               std::get<DeadLetter>(item.content).reason);
    }
    const sdk::Event& event = handled->event;
    if (event.customer_id.empty()) throw std::runtime_error("the ceiling needs events with a customer_id");
    const std::string* customer = &event.customer_id;
    ++batch.events;
    batch.ops.emplace_back(EventBegin{});

    // The customer row: inserted at first sight (with this event's purchase
    // total folded in), then only lifetime_value changes.
    std::size_t customer_op = batch.ops.size();
    bool customer_new = false;
    if (customers_.insert(event.customer_id).second) {
      CustomerInsert insert;
      insert.id = event.customer_id;
      auto name = event.data.find("customer_name");
      if (name != event.data.end() && name->is_string() && !name->get_ref<const std::string&>().empty())
        insert.name = name->get<std::string>();
      if (!event.customer_email.empty()) insert.email = event.customer_email;
      if (!insert.name) insert.name = insert.email;
      insert.since = event.timestamp;
      insert.search_rowid = ++last_search_rowid_;
      batch.ops.emplace_back(std::move(insert));
      customer_new = true;
    }
    auto add_value = [&](double delta) {
      if (customer_new) std::get<CustomerInsert>(batch.ops[customer_op]).lifetime_value += delta;
      else batch.ops.emplace_back(LifetimeAdd{event.customer_id, delta});
    };

    for (const sdk::Mutation& mutation : handled->mutations) {
      std::visit(
          [&](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, sdk::AppendTimelineEvent>) {
              TimelineInsert row{customer,
                                 m.event_type.empty() ? &event.event_type : &m.event_type,
                                 &event.source_service,
                                 &event.raw,
                                 m.event_date.value_or(event.timestamp),
                                 &m.title,
                                 &m.description,
                                 &m.status,
                                 &m.agent_notes,
                                 m.amount,
                                 m.metadata.dump()};
              batch.ops.emplace_back(std::move(row));
            } else if constexpr (std::is_same_v<M, sdk::UpsertPurchase>) {
              if (!purchases_.insert(m.purchase_id).second)
                throw std::runtime_error("the ceiling does not model a purchase sent twice: " + m.purchase_id);
              // The pipeline moves lifetime_value before inserting the purchase row.
              add_value(m.total);
              batch.ops.emplace_back(PurchaseInsert{&m, customer, m.purchase_date.value_or(event.timestamp),
                                                    m.metadata.dump()});
            } else if constexpr (std::is_same_v<M, sdk::UpsertWorkOrder>) {
              WorkOrderWrite row{&m, work_orders_.insert(m.work_order_id).second, customer,
                                 m.order_type ? &*m.order_type : &event.event_type,
                                 m.created_date.value_or(event.timestamp), std::nullopt};
              if (m.metadata) row.metadata = m.metadata->dump();
              batch.ops.emplace_back(std::move(row));
            } else if constexpr (std::is_same_v<M, sdk::AddKnowledge>) {
              batch.ops.emplace_back(KnowledgeInsert{&m, customer, event.timestamp, m.tags.dump()});
            } else if constexpr (std::is_same_v<M, sdk::AdjustLifetimeValue>) {
              add_value(m.delta);
            } else {
              throw std::runtime_error("the ceiling does not model UpdateCustomer");
            }
          },
          mutation);
    }
    batch.ops.emplace_back(KeyInsert{&event.idempotency_key, customer});
  }
  return batch;
}

void CeilingWriter::write(const PreparedBatch& batch) {
  auto& s = *s_;
  const auto now = static_cast<int64_t>(now_);
  run(s.begin);
  try {
    for (const RowOp& op : batch.ops) {
      std::visit(
          [&](const auto& o) {
            using O = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<O, EventBegin>) {
              if (options_.savepoint_per_event) run(s.savepoint);
            } else if constexpr (std::is_same_v<O, CustomerInsert>) {
              auto& q = s.insert_customer;
              q.bindNoCopy(1, o.id);
              bind_opt(q, 2, o.name);
              bind_opt(q, 3, o.email);
              q.bind(4, static_cast<int64_t>(o.since));
              q.bind(5, o.lifetime_value);
              q.bind(6, now);
              if (!fts_by_triggers_) q.bind(7, static_cast<int64_t>(o.search_rowid));
              run(q);
              if (!fts_by_triggers_) {
                s.customers_fts.bind(1, static_cast<int64_t>(o.search_rowid));
                bind_opt(s.customers_fts, 2, o.name);
                bind_opt(s.customers_fts, 3, o.email);
                run(s.customers_fts);
              }
            } else if constexpr (std::is_same_v<O, LifetimeAdd>) {
              auto& q = s.add_lifetime;
              q.bindNoCopy(1, o.id);
              q.bind(2, o.delta);
              run(q);
            } else if constexpr (std::is_same_v<O, TimelineInsert>) {
              auto& q = s.insert_event;
              bind_text(q, 1, o.customer_id);
              bind_text(q, 2, o.event_type);
              q.bind(3, static_cast<int64_t>(o.event_date));
              bind_opt(q, 4, *o.title);
              bind_opt(q, 5, *o.description);
              bind_opt(q, 6, o.amount);
              bind_opt(q, 7, *o.status);
              q.bindNoCopy(8, o.metadata);
              bind_opt(q, 9, *o.agent_notes);
              bind_text(q, 10, o.source_service);
              bind_text(q, 11, o.raw);
              q.bind(12, now);
              run(q);
              if (!fts_by_triggers_ && !options_.skip_events_fts) {
                s.events_fts.bind(1, static_cast<int64_t>(db_.getLastInsertRowid()));
                bind_opt(s.events_fts, 2, *o.title);
                bind_opt(s.events_fts, 3, *o.description);
                run(s.events_fts);
              }
            } else if constexpr (std::is_same_v<O, PurchaseInsert>) {
              auto& q = s.insert_purchase;
              const auto& m = *o.m;
              q.bindNoCopy(1, m.purchase_id);
              bind_text(q, 2, o.customer_id);
              bind_opt(q, 3, m.product_name);
              bind_opt(q, 4, m.product_sku);
              q.bind(5, static_cast<int64_t>(m.quantity));
              bind_opt(q, 6, m.price);
              q.bind(7, m.total);
              q.bind(8, static_cast<int64_t>(o.purchase_date));
              bind_opt(q, 9, m.warranty_expires);
              q.bindNoCopy(10, o.metadata);
              q.bind(11, now);
              run(q);
            } else if constexpr (std::is_same_v<O, WorkOrderWrite>) {
              auto& q = o.insert ? s.insert_work_order : s.update_work_order;
              const auto& m = *o.m;
              q.bindNoCopy(1, m.work_order_id);
              bind_text(q, 2, o.customer_id);
              if (o.insert) bind_text(q, 3, o.order_type);
              else bind_opt(q, 3, m.order_type);
              bind_opt(q, 4, m.issue_description);
              bind_opt(q, 5, m.resolution);
              bind_opt(q, 6, m.status);
              bind_opt(q, 7, m.priority);
              bind_opt(q, 8, m.assigned_to);
              q.bind(9, static_cast<int64_t>(o.created_date));
              bind_opt(q, 10, m.completed_date);
              bind_opt(q, 11, m.cost);
              if (o.insert) {
                if (o.metadata) q.bindNoCopy(12, *o.metadata);
                else q.bind(12, "{}");
              } else {
                bind_opt(q, 12, o.metadata);
              }
              q.exec();
              q.reset();
            } else if constexpr (std::is_same_v<O, KnowledgeInsert>) {
              auto& q = s.insert_knowledge;
              const auto& m = *o.m;
              bind_text(q, 1, o.customer_id);
              q.bindNoCopy(2, m.content);
              q.bindNoCopy(3, m.category);
              q.bind(4, m.importance);
              q.bindNoCopy(5, o.tags);
              q.bindNoCopy(6, m.source);
              q.bind(7, static_cast<int64_t>(o.created_at));
              run(q);
              if (!fts_by_triggers_) {
                s.knowledge_fts.bind(1, static_cast<int64_t>(db_.getLastInsertRowid()));
                s.knowledge_fts.bindNoCopy(2, m.content);
                run(s.knowledge_fts);
              }
            } else if constexpr (std::is_same_v<O, KeyInsert>) {
              auto& q = s.insert_key;
              bind_text(q, 1, o.key);
              bind_text(q, 2, o.customer_id);
              q.bind(3, now);
              run(q);
              if (options_.savepoint_per_event) run(s.release);
            }
          },
          op);
    }
    run(s.commit);
  } catch (...) {
    db_.exec("ROLLBACK");
    throw;
  }
}

}  // namespace customeriq::bench
