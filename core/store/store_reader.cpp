#include "store/store_reader.hpp"

#include <algorithm>
#include <cassert>
#include <limits>
#include <stdexcept>
#include <tuple>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include "store/page_cursor.hpp"
#include "store/row_json.hpp"
#include "store/store_schema.hpp"
#include "store/work_order_sql.hpp"
#include "text.hpp"

namespace customeriq {
namespace {

Json all_rows(SQLite::Statement& statement, const RowShape& shape) {
  Json rows = Json::array();
  while (statement.executeStep()) rows.push_back(row_to_json(statement, shape));
  return rows;
}

Json parsed_or_text(const std::string& text) {
  Json parsed = Json::parse(text, nullptr, false);
  return parsed.is_discarded() ? Json(text) : parsed;
}

constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMinInt64 = std::numeric_limits<std::int64_t>::min();

// A page of at most limit rows read with limit + 1: a next page exists
// when the extra row came back. The extra row is dropped.
bool drop_extra_row(Json& rows, std::size_t limit) {
  if (rows.size() <= limit) return false;
  rows.erase(rows.size() - 1);
  return true;
}

Json page(Json items, std::optional<std::string> next_cursor) {
  return Json{{"items", std::move(items)},
              {"next_cursor", next_cursor ? Json(*next_cursor) : Json(nullptr)}};
}

[[noreturn]] void refuse_position(const std::string& cursor, const char* kind, const char* expected) {
  throw std::invalid_argument("invalid cursor \"" + excerpt(cursor, 60) + "\": a " + kind +
                              " cursor holds " + expected);
}

}  // namespace

std::string plain_words_to_fts_query(const std::string& text) {
  // Words are split at spaces and at every control byte: a NUL or a \x0F
  // inside a quoted FTS5 string is a syntax error, never a search term.
  const auto separates = [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; };
  std::string query;
  for (std::size_t at = 0; at < text.size();) {
    while (at < text.size() && separates(text[at])) ++at;
    std::size_t end = at;
    while (end < text.size() && !separates(text[end])) ++end;
    if (end == at) break;
    std::string_view word(text.data() + at, end - at);
    at = end;
    const bool prefix = word.size() > 1 && word.back() == '*';
    if (prefix) word.remove_suffix(1);
    if (!query.empty()) query += ' ';
    query += '"';
    for (char c : word) c == '"' ? query.append("\"\"") : query.append(1, c);
    query += '"';
    if (prefix) query += '*';
  }
  return query;
}

StoreReader::StoreReader(const std::filesystem::path& db_path) : db_(open_store_for_reading(db_path)) {}
StoreReader::~StoreReader() = default;
SQLite::Database& StoreReader::database() { return *db_; }

// Checked every kDeadlineCheckInstructions virtual machine steps: a
// steady_clock read per some microseconds of work costs nothing measurable.
constexpr int kDeadlineCheckInstructions = 1000;

StoreReader::Deadline::Deadline(StoreReader& reader, std::chrono::milliseconds timeout)
    : reader_(reader), at_(std::chrono::steady_clock::now() + timeout) {
  sqlite3_progress_handler(reader_.db_->getHandle(), kDeadlineCheckInstructions, &Deadline::check, this);
}

StoreReader::Deadline::~Deadline() { sqlite3_progress_handler(reader_.db_->getHandle(), 0, nullptr, nullptr); }

int StoreReader::Deadline::check(void* self) {
  auto& deadline = *static_cast<Deadline*>(self);
  if (std::chrono::steady_clock::now() >= deadline.at_) deadline.passed_ = true;
  return deadline.passed_ ? 1 : 0;  // non-zero: SQLITE_INTERRUPT
}

std::optional<Json> StoreReader::profile(const std::string& customer_id, const ProfileOptions& options) {
  std::optional<Json> customer_row = customer(customer_id);
  if (!customer_row) return std::nullopt;
  Json profile = Json::object();
  profile["customer"] = std::move(*customer_row);
  profile["timeline"] =
      timeline_page(customer_id, {.limit = options.timeline_limit}, options.include_raw_event_data).items;
  profile["purchases"] = purchase_rows(customer_id);
  profile["work_orders"] = work_order_rows(customer_id, std::nullopt);
  profile["knowledge"] = knowledge_rows(customer_id);

  SQLite::Statement events_total(*db_, "SELECT count(*) FROM customer_events WHERE customer_id = ?1");
  events_total.bind(1, customer_id);
  events_total.executeStep();
  profile["timeline_total"] = events_total.getColumn(0).getInt64();
  return profile;
}

std::optional<Json> StoreReader::customer(const std::string& id) {
  SQLite::Statement query(*db_, select_rows(kCustomerRow, "WHERE id = ?1"));
  query.bind(1, id);
  if (!query.executeStep()) return std::nullopt;
  return row_to_json(query, kCustomerRow);
}

Json StoreReader::customers_by_email(const std::string& email) {
  SQLite::Statement query(*db_, select_rows(kCustomerRow, "WHERE email = ?1 COLLATE NOCASE ORDER BY customer_since, id"));
  query.bind(1, email);
  return all_rows(query, kCustomerRow);
}

namespace {

// The digits of text when it reads as a phone number (digits, spaces and
// + - . ( ), at least 5 digits); empty otherwise.
std::string phone_digits(const std::string& text) {
  std::string digits;
  for (char c : text) {
    if (c >= '0' && c <= '9') digits += c;
    else if (std::string_view(" +-.()").find(c) == std::string_view::npos) return {};
  }
  return digits.size() >= 5 ? digits : std::string();
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

Json StoreReader::find_customers(const std::string& text, std::size_t limit) {
  assert(limit >= 1);
  const std::string wanted = trimmed(text);
  Json found = Json::array();
  if (wanted.empty()) return found;
  std::vector<std::string> seen;
  auto add = [&](const std::string& id, const char* matched) {
    if (found.size() >= limit || std::find(seen.begin(), seen.end(), id) != seen.end()) return;
    std::optional<Json> row = customer(id);
    if (!row) return;
    seen.push_back(id);
    (*row)["matched"] = matched;
    found.push_back(std::move(*row));
  };
  auto add_each = [&](SQLite::Statement& ids, const char* matched) {
    while (found.size() < limit && ids.executeStep()) add(ids.getColumn(0).getString(), matched);
  };

  add(wanted, "id");
  SQLite::Statement by_email(*db_, "SELECT id FROM customers WHERE email = ?1 COLLATE NOCASE ORDER BY customer_since, id");
  by_email.bind(1, wanted);
  add_each(by_email, "email");
  if (const std::string digits = phone_digits(wanted); !digits.empty()) {
    // Without its country code a number still matches: 555 010 2000 finds +1 (555) 010-2000.
    SQLite::Statement by_phone(*db_,
                               "SELECT id FROM (SELECT id, customer_since, "
                               "replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '.', ''), "
                               "'(', ''), ')', ''), '+', '') AS digits FROM customers WHERE phone IS NOT NULL) "
                               "WHERE digits = ?1 OR (length(?1) >= 7 AND substr(digits, -length(?1)) = ?1) "
                               "ORDER BY customer_since, id LIMIT ?2");
    by_phone.bind(1, digits);
    by_phone.bind(2, static_cast<int64_t>(limit));
    add_each(by_phone, "phone");
  }
  if (found.size() >= limit) return found;

  const std::string words = plain_words_to_fts_query(wanted);
  const std::string as_typed = wanted.back() == '*' ? words : plain_words_to_fts_query(wanted + "*");
  try {
    SQLite::Statement by_name(*db_,
                              "SELECT c.id FROM customers_fts JOIN customers c ON c.search_rowid = customers_fts.rowid "
                              "WHERE customers_fts MATCH ?1 ORDER BY bm25(customers_fts), c.id LIMIT ?2");
    by_name.bind(1, as_typed);
    by_name.bind(2, static_cast<int64_t>(limit + seen.size()));
    add_each(by_name, "name");
  } catch (const SQLite::Exception&) {
    // A lone "*" or punctuation makes no FTS query: nothing matches by name.
  }
  if (found.size() >= limit) return found;

  SearchOptions activity;
  activity.limit = 5 * limit;
  for (const Json& hit : search(wanted, activity)) {
    if (hit["kind"] != "customer") add(hit["customer_id"].get<std::string>(), "activity");
  }
  return found;
}

Json StoreReader::customers_updated_since(std::int64_t since, std::size_t limit, const std::string& cursor) {
  assert(limit >= 1);
  std::optional<std::pair<std::int64_t, std::string>> after;
  if (!cursor.empty()) {
    const Json position = decode_cursor("customers", cursor);
    if (position.size() != 2 || !position[0].is_number_integer() || !position[1].is_string())
      refuse_position(cursor, "customers", "[updated_at, id]");
    after.emplace(position[0].get<std::int64_t>(), position[1].get<std::string>());
  }
  SQLite::Statement query(
      *db_, select_rows(kCustomerRow, std::string("WHERE updated_at >= ?1") +
                                          (after ? " AND (updated_at, id) > (?2, ?3)" : "") +
                                          " ORDER BY updated_at, id LIMIT ?4"));
  query.bind(1, static_cast<int64_t>(since));
  if (after) {
    query.bind(2, static_cast<int64_t>(after->first));
    query.bind(3, after->second);
  }
  query.bind(4, static_cast<int64_t>(limit + 1));
  Json items = all_rows(query, kCustomerRow);
  if (!drop_extra_row(items, limit)) return page(std::move(items), std::nullopt);
  const Json& last = items.back();
  return page(std::move(items), encode_cursor("customers", Json::array({last["updated_at"], last["id"]})));
}

// The keyset is (event_date, id), which no event changes once written: a
// page starts strictly after the last row of the one before, wherever new
// rows land.
StoreReader::TimelinePage StoreReader::timeline_page(const std::string& customer_id, const TimelineQuery& query,
                                                     bool include_raw_event_data) {
  std::int64_t before_date = kMaxInt64, before_id = kMaxInt64;
  if (!query.cursor.empty()) {
    const Json position = decode_cursor("timeline", query.cursor);
    if (position.size() != 2 || !position[0].is_number_integer() || !position[1].is_number_integer())
      refuse_position(query.cursor, "timeline", "[event_date, id]");
    before_date = position[0].get<std::int64_t>();
    before_id = position[1].get<std::int64_t>();
  }
  SQLite::Statement rows(
      *db_, select_rows(kTimelineRow,
                        "WHERE customer_id = ?1 AND event_date BETWEEN ?2 AND ?3 "
                        "AND (event_date, id) < (?4, ?5) "
                        "AND (?6 IS NULL OR event_type IN (SELECT value FROM json_each(?6))) "
                        "ORDER BY event_date DESC, id DESC LIMIT ?7",
                        include_raw_event_data ? ", raw_event_data" : ""));
  rows.bind(1, customer_id);
  rows.bind(2, static_cast<int64_t>(query.since.value_or(kMinInt64)));
  rows.bind(3, static_cast<int64_t>(query.until.value_or(kMaxInt64)));
  rows.bind(4, static_cast<int64_t>(before_date));
  rows.bind(5, static_cast<int64_t>(before_id));
  if (query.types.empty()) rows.bind(6);
  else rows.bind(6, Json(query.types).dump());
  // The profile may ask for no rows at all.
  const bool paged = query.limit > 0;
  rows.bind(7, static_cast<int64_t>(query.limit + (paged ? 1 : 0)));
  TimelinePage result{all_rows(rows, kTimelineRow), std::nullopt};
  if (paged && drop_extra_row(result.items, query.limit)) {
    const Json& last = result.items.back();
    result.next_cursor = encode_cursor("timeline", Json::array({last["event_date"], last["id"]}));
  }
  return result;
}

std::optional<Json> StoreReader::timeline(const std::string& customer_id, const TimelineQuery& query) {
  assert(query.limit >= 1);
  // The cursor is checked first: a bad one is the caller's error whoever the customer is.
  if (!customer_exists(customer_id)) {
    if (!query.cursor.empty()) decode_cursor("timeline", query.cursor);
    return std::nullopt;
  }
  TimelinePage result = timeline_page(customer_id, query, /*include_raw_event_data=*/false);
  return page(std::move(result.items), std::move(result.next_cursor));
}

Json StoreReader::purchase_rows(const std::string& customer_id) {
  SQLite::Statement query(*db_, select_rows(kPurchaseRow, "WHERE customer_id = ?1 ORDER BY purchase_date DESC, id"));
  query.bind(1, customer_id);
  return all_rows(query, kPurchaseRow);
}

Json StoreReader::work_order_rows(const std::string& customer_id, const std::optional<std::string>& status) {
  SQLite::Statement query(*db_, select_rows(kWorkOrderRow, std::string("WHERE customer_id = ?1") +
                                                               (status ? " AND status = ?2" : "") +
                                                               " ORDER BY created_date DESC, id"));
  query.bind(1, customer_id);
  if (status) query.bind(2, *status);
  return all_rows(query, kWorkOrderRow);
}

Json StoreReader::knowledge_rows(const std::string& customer_id) {
  SQLite::Statement query(
      *db_, select_rows(kKnowledgeRow, "WHERE customer_id = ?1 ORDER BY importance DESC, created_at DESC, id DESC"));
  query.bind(1, customer_id);
  return all_rows(query, kKnowledgeRow);
}

std::optional<Json> StoreReader::purchases(const std::string& customer_id) {
  if (!customer_exists(customer_id)) return std::nullopt;
  return purchase_rows(customer_id);
}

std::optional<Json> StoreReader::work_orders(const std::string& customer_id, std::optional<std::string> status) {
  if (!customer_exists(customer_id)) return std::nullopt;
  return work_order_rows(customer_id, status);
}

std::optional<Json> StoreReader::knowledge(const std::string& customer_id) {
  if (!customer_exists(customer_id)) return std::nullopt;
  return knowledge_rows(customer_id);
}

namespace {

std::size_t count_of(SQLite::Database& db, const char* sql, const std::string& customer_id) {
  SQLite::Statement query(db, sql);
  query.bind(1, customer_id);
  query.executeStep();
  return static_cast<std::size_t>(query.getColumn(0).getInt64());
}

RowSlice bounded_rows(SQLite::Database& db, const RowShape& shape, const std::string& where_and_order,
                      const std::string& customer_id, std::size_t limit) {
  SQLite::Statement query(db, select_rows(shape, where_and_order + " LIMIT ?2"));
  query.bind(1, customer_id);
  query.bind(2, static_cast<int64_t>(limit));
  return RowSlice{all_rows(query, shape), 0};
}

// The per-customer slice and the all-customers page share these.
constexpr const char* kOpenWorkOrder = CUSTOMERIQ_SQL_OPEN_WORK_ORDER;
constexpr const char* kPriorityRank = CUSTOMERIQ_SQL_PRIORITY_RANK;
constexpr const char* kCreatedKey = CUSTOMERIQ_SQL_CREATED_KEY;

}  // namespace

// Across all customers, the partial index work_orders_open (migration 7)
// holds the open ones in this order: the page seeks to its rank and reads
// no more than it returns. One customer's come from work_orders_by_customer.
std::string open_work_orders_page_query(bool one_customer) {
  const std::string rank = kPriorityRank;
  return select_rows(kWorkOrderRow,
                     std::string("WHERE ") + (one_customer ? "customer_id = ?1 AND " : "") + kOpenWorkOrder +
                         " AND " + rank + " >= ?2 AND (" + rank + ", " + kCreatedKey + ", id) > (?2, ?3, ?4)" +
                         " ORDER BY " + rank + ", " + kCreatedKey + ", id LIMIT ?5",
                     std::string(", customer_id, ") + rank + " AS priority_rank, " + kCreatedKey + " AS created_key");
}

RowSlice StoreReader::open_work_orders(const std::string& customer_id, std::size_t limit) {
  const std::string where = std::string("WHERE customer_id = ?1 AND ") + kOpenWorkOrder;
  RowSlice slice = bounded_rows(*db_, kWorkOrderRow,
                                where + " ORDER BY " + kPriorityRank + ", " + kCreatedKey + ", id", customer_id,
                                limit);
  slice.total = count_of(*db_, ("SELECT count(*) FROM work_orders " + where).c_str(), customer_id);
  return slice;
}

// The keyset is (priority rank, created date, id). A work order whose
// priority changes between pages moves to its new place: it may show up
// twice or not at all, as in any read of rows that change while it pages.
std::optional<Json> StoreReader::open_work_orders_page(const std::optional<std::string>& customer_id,
                                                       std::size_t limit, const std::string& cursor) {
  assert(limit >= 1);
  std::int64_t after_rank = -1, after_created = kMinInt64;
  std::string after_id;
  if (!cursor.empty()) {
    const Json position = decode_cursor("open_work_orders", cursor);
    if (position.size() != 3 || !position[0].is_number_integer() || !position[1].is_number_integer() ||
        !position[2].is_string())
      refuse_position(cursor, "open_work_orders", "[priority rank, created_date, id]");
    after_rank = position[0].get<std::int64_t>();
    after_created = position[1].get<std::int64_t>();
    after_id = position[2].get<std::string>();
  }
  if (customer_id && !customer_exists(*customer_id)) return std::nullopt;
  SQLite::Statement rows(*db_, open_work_orders_page_query(customer_id.has_value()));
  if (customer_id) rows.bind(1, *customer_id);
  rows.bind(2, static_cast<int64_t>(after_rank));
  rows.bind(3, static_cast<int64_t>(after_created));
  rows.bind(4, after_id);
  rows.bind(5, static_cast<int64_t>(limit + 1));
  Json items = all_rows(rows, kWorkOrderRow);
  std::optional<std::string> next_cursor;
  if (drop_extra_row(items, limit)) {
    const Json& last = items.back();
    next_cursor = encode_cursor("open_work_orders",
                                Json::array({last["priority_rank"], last["created_key"], last["id"]}));
  }
  for (Json& item : items) {
    item.erase("priority_rank");
    item.erase("created_key");
  }
  SQLite::Statement count(*db_, std::string("SELECT count(*) FROM work_orders WHERE ") +
                                    (customer_id ? "customer_id = ?1 AND " : "") + kOpenWorkOrder);
  if (customer_id) count.bind(1, *customer_id);
  count.executeStep();
  Json result = page(std::move(items), std::move(next_cursor));
  result["total"] = count.getColumn(0).getInt64();
  return result;
}

RowSlice StoreReader::recent_purchases(const std::string& customer_id, std::size_t limit) {
  RowSlice slice =
      bounded_rows(*db_, kPurchaseRow, "WHERE customer_id = ?1 ORDER BY purchase_date DESC, id", customer_id, limit);
  slice.total = count_of(*db_, "SELECT count(*) FROM purchases WHERE customer_id = ?1", customer_id);
  return slice;
}

RowSlice StoreReader::top_knowledge(const std::string& customer_id, std::size_t limit) {
  RowSlice slice = bounded_rows(*db_, kKnowledgeRow,
                                "WHERE customer_id = ?1 ORDER BY importance DESC, created_at DESC, id DESC",
                                customer_id, limit);
  slice.total = count_of(*db_, "SELECT count(*) FROM customer_knowledge WHERE customer_id = ?1", customer_id);
  return slice;
}

std::optional<Json> StoreReader::event_types(const std::string& customer_id) {
  if (!customer_exists(customer_id)) return std::nullopt;
  Json rows = Json::array();
  for (const EventTypeCount& type : event_type_counts(customer_id)) {
    rows.push_back(
        {{"event_type", type.event_type}, {"count", type.count}, {"first_date", type.first_date}, {"last_date", type.last_date}});
  }
  return Json{{"items", std::move(rows)}};
}

std::vector<EventTypeCount> StoreReader::event_type_counts(const std::string& customer_id) {
  SQLite::Statement query(*db_,
                          "SELECT event_type, count(*), min(event_date), max(event_date) FROM customer_events "
                          "WHERE customer_id = ?1 GROUP BY event_type ORDER BY event_type");
  query.bind(1, customer_id);
  std::vector<EventTypeCount> counts;
  while (query.executeStep()) {
    counts.push_back({to_valid_utf8(query.getColumn(0).getString()),
                      static_cast<std::size_t>(query.getColumn(1).getInt64()), query.getColumn(2).getInt64(),
                      query.getColumn(3).getInt64()});
  }
  return counts;
}

std::optional<Json> StoreReader::last_contact(const std::string& customer_id) {
  SQLite::Statement query(*db_, select_rows(kTimelineRow,
                                            "WHERE customer_id = ?1 AND event_type IN ('contact', 'support_ticket') "
                                            "ORDER BY event_date DESC, id DESC LIMIT 1"));
  query.bind(1, customer_id);
  if (!query.executeStep()) return std::nullopt;
  return row_to_json(query, kTimelineRow);
}

std::string timeline_cursor_after(std::int64_t event_date, std::int64_t id) {
  return encode_cursor("timeline", Json::array({event_date, id}));
}

bool StoreReader::customer_exists(const std::string& customer_id) {
  SQLite::Statement query(*db_, "SELECT 1 FROM customers WHERE id = ?1");
  query.bind(1, customer_id);
  return query.executeStep();
}

std::vector<Change> StoreReader::changes_after(std::int64_t after_seq, const std::optional<std::string>& customer_id,
                                               std::size_t limit) {
  assert(limit >= 1);
  SQLite::Statement query(*db_, std::string("SELECT seq, committed_at, customer_id, kind, row FROM changes "
                                            "WHERE seq > ?1") +
                                    (customer_id ? " AND customer_id = ?2" : "") + " ORDER BY seq LIMIT ?3");
  query.bind(1, static_cast<int64_t>(after_seq));
  if (customer_id) query.bind(2, *customer_id);
  query.bind(3, static_cast<int64_t>(limit));
  std::vector<Change> changes;
  while (query.executeStep()) {
    changes.push_back(Change{query.getColumn(0).getInt64(), query.getColumn(1).getInt64(),
                             query.getColumn(2).getString(), query.getColumn(3).getString(),
                             parsed_or_text(query.getColumn(4).getString())});
  }
  return changes;
}

std::int64_t StoreReader::latest_change_seq() {
  return db_->execAndGet("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)").getInt64();
}

bool StoreReader::change_retained_after(std::int64_t seq) {
  return db_->execAndGet("SELECT pruned_through_seq FROM change_log_state").getInt64() <= seq;
}

bool StoreReader::is_migrated() {
  return db_->execAndGet("PRAGMA user_version").getInt() == latest_schema_version();
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
