#include "store_reader.hpp"

#include <sstream>
#include <stdexcept>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include "store_schema.hpp"

namespace customeriq {
namespace {

// A row as a JSON object; columns named in json_columns hold JSON text.
Json row_to_json(SQLite::Statement& statement, std::initializer_list<const char*> json_columns = {}) {
  Json row = Json::object();
  for (int i = 0; i < statement.getColumnCount(); ++i) {
    const SQLite::Column column = statement.getColumn(i);
    const std::string name = statement.getColumnName(i);
    if (column.isNull()) {
      row[name] = nullptr;
    } else if (column.isInteger()) {
      row[name] = column.getInt64();
    } else if (column.isFloat()) {
      row[name] = column.getDouble();
    } else {
      std::string text = column.getString();
      bool is_json = false;
      for (const char* json_column : json_columns) is_json |= name == json_column;
      if (is_json) {
        Json parsed = Json::parse(text, nullptr, false);
        row[name] = parsed.is_discarded() ? Json(text) : parsed;
      } else {
        row[name] = std::move(text);
      }
    }
  }
  return row;
}

Json all_rows(SQLite::Statement& statement, std::initializer_list<const char*> json_columns = {}) {
  Json rows = Json::array();
  while (statement.executeStep()) rows.push_back(row_to_json(statement, json_columns));
  return rows;
}

}  // namespace

std::string plain_words_to_fts_query(const std::string& text) {
  std::istringstream words(text);
  std::string word, query;
  while (words >> word) {
    bool prefix = word.size() > 1 && word.back() == '*';
    if (prefix) word.pop_back();
    std::string quoted = "\"";
    for (char c : word) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += "\"";
    if (prefix) quoted += "*";
    query += (query.empty() ? "" : " ") + quoted;
  }
  return query;
}

StoreReader::StoreReader(const std::filesystem::path& db_path) : db_(open_store_for_reading(db_path)) {}
StoreReader::~StoreReader() = default;
SQLite::Database& StoreReader::database() { return *db_; }

std::optional<Json> StoreReader::profile(const std::string& customer_id, const ProfileOptions& options) {
  SQLite::Statement customer(*db_,
                             "SELECT id, name, email, phone, company, status, customer_since, "
                             "lifetime_value, tags, custom_fields, created_at, updated_at "
                             "FROM customers WHERE id = ?1");
  customer.bind(1, customer_id);
  if (!customer.executeStep()) return std::nullopt;
  Json profile = Json::object();
  profile["customer"] = row_to_json(customer, {"tags", "custom_fields"});

  SQLite::Statement timeline(
      *db_, std::string("SELECT id, event_type, event_date, title, description, amount, status, "
                        "metadata, agent_notes, source_service, ") +
                (options.include_raw_event_data ? "raw_event_data, " : "") +
                "created_at FROM customer_events WHERE customer_id = ?1 "
                "ORDER BY event_date DESC, id DESC LIMIT ?2");
  timeline.bind(1, customer_id);
  timeline.bind(2, static_cast<int64_t>(options.timeline_limit));
  profile["timeline"] = all_rows(timeline, {"metadata"});

  SQLite::Statement purchases(*db_,
                              "SELECT id, product_name, product_sku, quantity, price, total, "
                              "purchase_date, warranty_expires, metadata, created_at FROM purchases "
                              "WHERE customer_id = ?1 ORDER BY purchase_date DESC, id");
  purchases.bind(1, customer_id);
  profile["purchases"] = all_rows(purchases, {"metadata"});

  SQLite::Statement work_orders(*db_,
                                "SELECT id, order_type, issue_description, resolution, status, "
                                "priority, assigned_to, created_date, completed_date, cost, metadata "
                                "FROM work_orders WHERE customer_id = ?1 ORDER BY created_date DESC, id");
  work_orders.bind(1, customer_id);
  profile["work_orders"] = all_rows(work_orders, {"metadata"});

  SQLite::Statement knowledge(*db_,
                              "SELECT id, content, category, importance, tags, source, created_at, "
                              "updated_at FROM customer_knowledge WHERE customer_id = ?1 "
                              "ORDER BY importance DESC, created_at DESC, id DESC");
  knowledge.bind(1, customer_id);
  profile["knowledge"] = all_rows(knowledge, {"tags"});

  SQLite::Statement events_total(*db_, "SELECT count(*) FROM customer_events WHERE customer_id = ?1");
  events_total.bind(1, customer_id);
  events_total.executeStep();
  profile["timeline_total"] = events_total.getColumn(0).getInt64();
  return profile;
}

Json StoreReader::search(const std::string& query, const SearchOptions& options) {
  const std::string match = options.fts_syntax ? query : plain_words_to_fts_query(query);
  if (match.empty()) return Json::array();
  static constexpr const char* kSql = R"sql(
SELECT kind, id, customer_id, title, snippet, rank FROM (
  SELECT 'event' AS kind, CAST(e.id AS TEXT) AS id, e.customer_id, e.title,
         snippet(customer_events_fts, -1, '[', ']', '…', 16) AS snippet,
         bm25(customer_events_fts) AS rank
  FROM customer_events_fts JOIN customer_events e ON e.id = customer_events_fts.rowid
  WHERE customer_events_fts MATCH ?1 AND (?2 IS NULL OR e.customer_id = ?2)
  UNION ALL
  SELECT 'knowledge', CAST(k.id AS TEXT), k.customer_id, k.category,
         snippet(customer_knowledge_fts, -1, '[', ']', '…', 16), bm25(customer_knowledge_fts)
  FROM customer_knowledge_fts JOIN customer_knowledge k ON k.id = customer_knowledge_fts.rowid
  WHERE customer_knowledge_fts MATCH ?1 AND (?2 IS NULL OR k.customer_id = ?2)
  UNION ALL
  SELECT 'customer', c.id, c.id, c.name,
         snippet(customers_fts, -1, '[', ']', '…', 16), bm25(customers_fts)
  FROM customers_fts JOIN customers c ON c.search_rowid = customers_fts.rowid
  WHERE customers_fts MATCH ?1 AND (?2 IS NULL OR c.id = ?2)
) ORDER BY rank, kind, id LIMIT ?3)sql";
  try {
    SQLite::Statement statement(*db_, kSql);
    statement.bind(1, match);
    if (options.customer_id) statement.bind(2, *options.customer_id);
    else statement.bind(2);
    statement.bind(3, static_cast<int64_t>(options.limit));
    return all_rows(statement);
  } catch (const SQLite::Exception& error) {
    // A plain SQLITE_ERROR here comes from MATCH: the query is malformed.
    if (error.getErrorCode() == SQLITE_ERROR)
      throw std::invalid_argument("bad search query '" + query + "': " + error.what());
    throw;
  }
}

Json StoreReader::dead_letters(std::size_t limit, std::optional<std::int64_t> id) {
  SQLite::Statement statement(
      *db_,
      "SELECT id, received_at, subject, reason, event_type, idempotency_key, attempts, "
      "last_attempt_at, headers, CAST(raw AS TEXT) AS raw FROM dead_letters "
      "WHERE ?1 IS NULL OR id = ?1 ORDER BY id DESC LIMIT ?2");
  if (id) statement.bind(1, static_cast<int64_t>(*id));
  else statement.bind(1);
  statement.bind(2, static_cast<int64_t>(limit));
  return all_rows(statement, {"headers"});
}

}  // namespace customeriq
