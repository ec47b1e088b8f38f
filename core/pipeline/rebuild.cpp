#include "pipeline/rebuild.hpp"

#include <chrono>
#include <map>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <spdlog/spdlog.h>

#include "store/lifecycle.hpp"
#include "store/store_schema.hpp"

namespace customeriq {
namespace {

using Json = nlohmann::json;

Headers parse_headers(const std::string& text) {
  Headers headers;
  const Json parsed = Json::parse(text, nullptr, false);
  if (!parsed.is_array()) return headers;
  for (const auto& pair : parsed)
    if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string())
      headers.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  return headers;
}

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code error;
  return std::filesystem::exists(b, error) && std::filesystem::equivalent(a, b, error);
}

// The source audit id the target replayed last; 0 for a new target.
std::int64_t replayed_through(SQLite::Database& target, const std::filesystem::path& path) {
  const std::int64_t through =
      target.execAndGet("SELECT COALESCE(MAX(source_seq), 0) FROM audit_log").getInt64();
  if (through == 0 && target.execAndGet("SELECT EXISTS (SELECT 1 FROM customers) OR EXISTS (SELECT 1 FROM audit_log)").getInt())
    throw std::runtime_error(path.string() + " holds customers or events that no rebuild wrote: rebuild into a new file");
  return through;
}

// Erasure receipts and suppressions keep what the source's history no
// longer shows; the target takes them, and the salt that made their hashes.
void copy_erasures(SQLite::Database& source, SQLite::Database& target) {
  SQLite::Transaction transaction(target, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement receipts(source, "SELECT id, erased_at, identifier_hashes, removed, wal_checkpointed FROM erasures");
  SQLite::Statement insert_receipt(target,
                                   "INSERT OR IGNORE INTO erasures(id, erased_at, identifier_hashes, removed, "
                                   "wal_checkpointed) VALUES (?1, ?2, ?3, ?4, ?5)");
  while (receipts.executeStep()) {
    insert_receipt.bind(1, receipts.getColumn(0).getInt64());
    insert_receipt.bind(2, receipts.getColumn(1).getInt64());
    insert_receipt.bind(3, receipts.getColumn(2).getString());
    insert_receipt.bind(4, receipts.getColumn(3).getString());
    insert_receipt.bind(5, receipts.getColumn(4).getInt64());
    insert_receipt.exec();
    insert_receipt.reset();
  }
  target.exec("DELETE FROM suppressions");
  SQLite::Statement suppressions(source, "SELECT identifier_hash, erasure_id, created_at FROM suppressions");
  SQLite::Statement insert(target,
                           "INSERT INTO suppressions(identifier_hash, erasure_id, created_at) VALUES (?1, ?2, ?3)");
  while (suppressions.executeStep()) {
    insert.bind(1, suppressions.getColumn(0).getString());
    if (suppressions.getColumn(1).isNull()) insert.bind(2);
    else insert.bind(2, suppressions.getColumn(1).getInt64());
    insert.bind(3, suppressions.getColumn(2).getInt64());
    insert.exec();
    insert.reset();
  }
  transaction.commit();
}

}  // namespace

Json RebuildSummary::to_json() const {
  return {{"total", total},           {"resumed_after", resumed_after}, {"events", events},
          {"applied", applied},       {"duplicates", duplicates},       {"dead_lettered", dead_lettered},
          {"suppressed", suppressed}, {"not_committed", failed},        {"merges", merges},
          {"unmerges", unmerges},     {"refused", refused},             {"without_raw", without_raw},
          {"seconds", seconds}};
}

RebuildSummary rebuild_store(const std::filesystem::path& source_path, const std::filesystem::path& target_path,
                             const Pipeline& pipeline, const RebuildOptions& options) {
  if (same_file(source_path, target_path))
    throw std::runtime_error("rebuild --into names the database itself (" + target_path.string() + "): name a new file");
  const auto started = std::chrono::steady_clock::now();
  auto source = open_store_for_reading(source_path);
  auto lifecycle_db = open_store_for_writing(target_path);
  RebuildSummary summary;
  const std::int64_t resume_after = replayed_through(*lifecycle_db, target_path);
  summary.resumed_after = static_cast<std::uint64_t>(resume_after);
  if (resume_after == 0) {
    SQLite::Statement salt(*lifecycle_db, "UPDATE store_secrets SET identifier_salt = ?1 WHERE id = 1");
    const std::string bytes = identifier_salt(*source);
    salt.bind(1, bytes.data(), static_cast<int>(bytes.size()));
    salt.exec();
  } else {
    spdlog::info("[Rebuild] {} holds the replay up to audit row {} of {}: resuming after it", target_path.string(),
                 resume_after, source_path.string());
  }

  // Duplicates changed nothing, suppressed events were never kept, and an
  // erasure's history is gone from the source with it.
  constexpr const char* kReplayed = "a.id > ?1 AND a.outcome NOT IN ('duplicate', 'suppressed') AND a.kind <> 'erasure'";
  SQLite::Statement count(*source, std::string("SELECT count(*) FROM audit_log a WHERE ") + kReplayed);
  count.bind(1, resume_after);
  count.executeStep();
  summary.total = static_cast<std::uint64_t>(count.getColumn(0).getInt64());

  StoreWriter store(target_path, options.store);
  WriterThread writer(pipeline, store, options.writer);
  SQLite::Statement rows(*source, std::string(R"sql(
SELECT a.id, a.kind, a.subject, a.headers, a.received_at, COALESCE(a.raw, e.raw_event_data), a.detail,
       a.customer_id, a.other_customer_id
FROM audit_log a LEFT JOIN customer_events e ON e.id = a.timeline_id
WHERE )sql") + kReplayed + " ORDER BY a.id");
  rows.bind(1, resume_after);
  std::uint64_t done = 0;
  auto last_progress = started;
  while (rows.executeStep()) {
    if (writer.fatal_error()) break;
    ++done;
    const std::int64_t seq = rows.getColumn(0).getInt64();
    const std::string kind = rows.getColumn(1).getString();
    if (kind == "event") {
      const SQLite::Column raw = rows.getColumn(5);
      if (raw.isNull()) {
        ++summary.without_raw;
        continue;
      }
      RawMessage message;
      message.bytes.assign(static_cast<const char*>(raw.getBlob()), static_cast<std::size_t>(raw.getBytes()));
      message.subject = rows.getColumn(2).getString();
      message.headers = parse_headers(rows.getColumn(3).getString());
      message.received_at = rows.getColumn(4).getInt64();
      message.source_seq = seq;
      writer.submit(std::move(message));
      ++summary.events;
    } else {
      const Json detail = Json::parse(rows.getColumn(6).getString(), nullptr, false);
      // An automatic merge is made again by the event that made it, when
      // the pipeline still has identity.auto_merge.
      if (kind == "merge" && detail.is_object() && detail.value("automatic", false)) continue;
      writer.flush();
      try {
        if (kind == "merge") {
          MergeOptions merge;
          merge.merge_id = detail.value("merge_id", std::int64_t{0});
          merge.source_seq = seq;
          merge_customers(*lifecycle_db, rows.getColumn(8).getString(), rows.getColumn(7).getString(), merge);
          ++summary.merges;
        } else if (kind == "unmerge") {
          unmerge(*lifecycle_db, detail.value("merge_id", std::int64_t{0}), seq);
          ++summary.unmerges;
        }
      } catch (const LifecycleError& refusal) {
        ++summary.refused;
        spdlog::warn("[Rebuild] The {} of audit row {} is refused in the rebuilt database: {}", kind, seq,
                     refusal.what());
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (options.progress && now - last_progress >= std::chrono::seconds(2)) {
      options.progress(done, summary.total);
      last_progress = now;
    }
  }
  writer.stop();
  if (auto fatal = writer.fatal_error()) throw StoreError(*fatal);
  copy_erasures(*source, *lifecycle_db);
  const WriterCounters& counters = writer.counters();
  summary.applied = counters.applied;
  summary.duplicates = counters.duplicates;
  summary.dead_lettered = counters.dead_lettered;
  summary.suppressed = counters.suppressed;
  summary.failed = counters.failed;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (options.progress) options.progress(done, summary.total);
  return summary;
}

namespace {

// Per table, what is compared: every column but the write times and the
// numbers the store gives rows (a rebuild renumbers what an erasure left).
struct ComparedTable {
  const char* table;
  const char* columns;
};
constexpr ComparedTable kComparedTables[] = {
    {"customers", "id, name, email, phone, company, status, customer_since, lifetime_value, tags, custom_fields"},
    {"customer_events",
     "customer_id, event_type, event_date, title, description, amount, status, metadata, agent_notes, "
     "source_service, raw_event_data, original_id"},
    {"purchases",
     "id, customer_id, product_name, product_sku, quantity, price, total, purchase_date, warranty_expires, metadata"},
    {"work_orders",
     "id, customer_id, order_type, issue_description, resolution, status, priority, assigned_to, created_date, "
     "completed_date, cost, metadata"},
    {"customer_knowledge", "customer_id, content, category, importance, tags, source, created_at, updated_at, original_id"},
    {"processed_events", "idempotency_key, customer_id"},
    {"dead_letters", "subject, reason, raw, headers, event_type, idempotency_key, attempts"},
    {"customer_aliases", "kind, alias, customer_id, merge_id"},
    {"merges", "id, from_id, into_id, undone_at IS NOT NULL AS undone, moved"},
    {"suppressions", "identifier_hash, erasure_id"},
};

Json column_json(const SQLite::Column& column) {
  if (column.isNull()) return nullptr;
  if (column.isInteger()) return column.getInt64();
  if (column.isFloat()) return column.getDouble();
  return column.getString();
}

std::map<std::string, std::int64_t> row_counts(SQLite::Database& db, const ComparedTable& table) {
  std::map<std::string, std::int64_t> counts;
  SQLite::Statement query(db, std::string("SELECT ") + table.columns + " FROM " + table.table);
  while (query.executeStep()) {
    Json row = Json::object();
    for (int i = 0; i < query.getColumnCount(); ++i) row[query.getColumnName(i)] = column_json(query.getColumn(i));
    ++counts[row.dump(-1, ' ', false, Json::error_handler_t::replace)];
  }
  return counts;
}

}  // namespace

Json diff_stores(const std::filesystem::path& live_path, const std::filesystem::path& rebuilt_path,
                 const std::function<void(const Json&)>& on_difference) {
  auto live = open_store_for_reading(live_path);
  auto rebuilt = open_store_for_reading(rebuilt_path);
  Json tables = Json::object();
  std::int64_t differences = 0;
  for (const auto& table : kComparedTables) {
    auto live_rows = row_counts(*live, table);
    auto rebuilt_rows = row_counts(*rebuilt, table);
    std::int64_t live_only = 0, rebuilt_only = 0;
    auto report = [&](const std::string& row, std::int64_t times, const char* side) {
      for (std::int64_t i = 0; i < times; ++i)
        on_difference({{"table", table.table}, {"only_in", side}, {"row", Json::parse(row)}});
    };
    for (const auto& [row, count] : live_rows) {
      const auto found = rebuilt_rows.find(row);
      const std::int64_t other = found == rebuilt_rows.end() ? 0 : found->second;
      if (count > other) report(row, count - other, "live"), live_only += count - other;
    }
    for (const auto& [row, count] : rebuilt_rows) {
      const auto found = live_rows.find(row);
      const std::int64_t other = found == live_rows.end() ? 0 : found->second;
      if (count > other) report(row, count - other, "rebuilt"), rebuilt_only += count - other;
    }
    tables[table.table] = {{"live_only", live_only}, {"rebuilt_only", rebuilt_only}};
    differences += live_only + rebuilt_only;
  }
  return {{"differences", differences}, {"tables", tables}};
}

}  // namespace customeriq
