#include "store/store_reader.hpp"

#include <algorithm>
#include <sstream>
#include <tuple>
#include <vector>
#include <stdexcept>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include "store/store_schema.hpp"
#include "text.hpp"

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
      *db_, std::string("SELECT id, original_id, event_type, event_date, title, description, "
                        "amount, status, metadata, agent_notes, source_service, ") +
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
                              "SELECT id, original_id, content, category, importance, tags, source, "
                              "created_at, updated_at FROM customer_knowledge WHERE customer_id = ?1 "
                              "ORDER BY importance DESC, created_at DESC, id DESC");
  knowledge.bind(1, customer_id);
  profile["knowledge"] = all_rows(knowledge, {"tags"});

  SQLite::Statement events_total(*db_, "SELECT count(*) FROM customer_events WHERE customer_id = ?1");
  events_total.bind(1, customer_id);
  events_total.executeStep();
  profile["timeline_total"] = events_total.getColumn(0).getInt64();
  return profile;
}

namespace {

// One searchable kind of row: its FTS table, how a customer's rows are
// found, and how a hit is shown.
struct SearchKind {
  const char* kind;
  const char* fts;
  const char* rows_of_customer;  // SELECT of the FTS rowids of customer ?2
  const char* detail;            // customer_id, title, snippet of FTS rowid ?2
};

constexpr SearchKind kSearchKinds[] = {
    {"event", "customer_events_fts", "SELECT id FROM customer_events WHERE customer_id = ?2",
     "SELECT e.customer_id, e.title, snippet(customer_events_fts, -1, '[', ']', '…', 16) "
     "FROM customer_events_fts JOIN customer_events e ON e.id = customer_events_fts.rowid "
     "WHERE customer_events_fts MATCH ?1 AND customer_events_fts.rowid = ?2"},
    {"knowledge", "customer_knowledge_fts",
     "SELECT id FROM customer_knowledge WHERE customer_id = ?2",
     "SELECT k.customer_id, k.category, snippet(customer_knowledge_fts, -1, '[', ']', '…', 16) "
     "FROM customer_knowledge_fts JOIN customer_knowledge k ON k.id = customer_knowledge_fts.rowid "
     "WHERE customer_knowledge_fts MATCH ?1 AND customer_knowledge_fts.rowid = ?2"},
    {"customer", "customers_fts", "SELECT search_rowid FROM customers WHERE id = ?2",
     "SELECT c.id, c.name, snippet(customers_fts, -1, '[', ']', '…', 16) "
     "FROM customers_fts JOIN customers c ON c.search_rowid = customers_fts.rowid "
     "WHERE customers_fts MATCH ?1 AND customers_fts.rowid = ?2"},
};

struct Candidate {
  double rank;
  std::size_t kind;
  std::int64_t rowid;
};

}  // namespace

Json StoreReader::search(const std::string& query, const SearchOptions& options) {
  const std::string match = options.fts_syntax ? query : plain_words_to_fts_query(query);
  if (match.empty()) return Json::array();
  try {
    // bm25 reads every matching row's size, which is seconds for a word in
    // most of a million rows; so each kind ranks at most candidate_pool
    // matches: the customer's own rows, else the most recent ones.
    std::vector<Candidate> candidates;
    std::vector<bool> searched(std::size(kSearchKinds), false);
    std::optional<SQLite::Exception> column_error;
    for (std::size_t k = 0; k < std::size(kSearchKinds); ++k) {
      const SearchKind& kind = kSearchKinds[k];
      const std::string fts = kind.fts;
      std::string sql = "SELECT rowid, bm25(" + fts + ") FROM " + fts + " WHERE " + fts + " MATCH ?1";
      sql += options.customer_id ? std::string(" AND rowid IN (") + kind.rows_of_customer + ")"
                                 : std::string(" ORDER BY rowid DESC LIMIT ?3");
      SQLite::Statement statement(*db_, sql);
      statement.bind(1, match);
      if (options.customer_id) statement.bind(2, *options.customer_id);
      else statement.bind(3, static_cast<int64_t>(options.candidate_pool));
      try {
        while (statement.executeStep())
          candidates.push_back({statement.getColumn(1).getDouble(), k, statement.getColumn(0).getInt64()});
        searched[k] = true;
      } catch (const SQLite::Exception& error) {
        // A column filter (title:bluetooth) names the columns of one kind:
        // the kinds without that column have nothing to match.
        if (!std::string_view(error.what()).starts_with("no such column")) throw;
        column_error = error;
      }
    }
    if (column_error && std::none_of(searched.begin(), searched.end(), [](bool kind) { return kind; }))
      throw *column_error;
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      return std::tie(a.rank, a.kind, a.rowid) < std::tie(b.rank, b.kind, b.rowid);
    });
    if (candidates.size() > options.limit) candidates.resize(options.limit);

    Json hits = Json::array();
    for (const Candidate& candidate : candidates) {
      SQLite::Statement detail(*db_, kSearchKinds[candidate.kind].detail);
      detail.bind(1, match);
      detail.bind(2, static_cast<int64_t>(candidate.rowid));
      if (!detail.executeStep()) continue;  // an index entry whose row is gone: see reindex
      const std::string customer_id = detail.getColumn(0).getString();
      const bool is_customer = candidate.kind == 2;
      hits.push_back({{"kind", kSearchKinds[candidate.kind].kind},
                      {"id", is_customer ? customer_id : std::to_string(candidate.rowid)},
                      {"customer_id", customer_id},
                      {"title", detail.getColumn(1).isNull() ? Json(nullptr) : Json(detail.getColumn(1).getString())},
                      {"snippet", detail.getColumn(2).getString()},
                      {"rank", candidate.rank}});
    }
    return hits;
  } catch (const SQLite::Exception& error) {
    // A plain SQLITE_ERROR here comes from MATCH: the query is malformed.
    if (error.getErrorCode() == SQLITE_ERROR)
      throw std::invalid_argument("bad search query '" + excerpt(query, 100) + "': " + error.what() +
                                  " (columns: title, description, content, name, email, company)");
    throw;
  }
}

Json StoreReader::dead_letters(std::size_t limit, std::optional<std::int64_t> id) {
  SQLite::Statement statement(
      *db_,
      "SELECT id, received_at, subject, reason, event_type, idempotency_key, attempts, "
      "last_attempt_at, headers, raw FROM dead_letters "
      "WHERE ?1 IS NULL OR id = ?1 ORDER BY id DESC LIMIT ?2");
  if (id) statement.bind(1, static_cast<int64_t>(*id));
  else statement.bind(1);
  statement.bind(2, static_cast<int64_t>(limit));
  Json rows = Json::array();
  while (statement.executeStep()) {
    Json row = Json::object();
    row["id"] = statement.getColumn(0).getInt64();
    row["received_at"] = statement.getColumn(1).getInt64();
    for (int column : {2, 3, 4, 5}) {
      const SQLite::Column value = statement.getColumn(column);
      row[statement.getColumnName(column)] = value.isNull() ? Json(nullptr) : Json(to_valid_utf8(value.getString()));
    }
    row["attempts"] = statement.getColumn(6).getInt64();
    row["last_attempt_at"] = statement.getColumn(7).getInt64();
    const Json headers = Json::parse(statement.getColumn(8).getString(), nullptr, false);
    row["headers"] = headers.is_discarded() ? Json::array() : headers;
    // The payload exactly: as text when it is UTF-8, else base64.
    const SQLite::Column raw = statement.getColumn(9);
    const std::string_view bytes(static_cast<const char*>(raw.getBlob()), static_cast<std::size_t>(raw.getBytes()));
    if (is_valid_utf8(bytes)) row["raw"] = std::string(bytes);
    else row["raw_base64"] = base64_encode(bytes);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace customeriq
