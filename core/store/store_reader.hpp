// StoreReader: read-only queries on its own connection (profiles, paged
// reads, search, dead letters, the change log). Several readers may run
// beside the one writer. Rows are shown as the profile shows them.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace SQLite {
class Database;
}

namespace customeriq {

using Json = nlohmann::json;

struct ProfileOptions {
  std::size_t timeline_limit = 100;  // newest first
  bool include_raw_event_data = false;
};

struct SearchOptions {
  std::optional<std::string> customer_id;
  std::size_t limit = 20;
  bool fts_syntax = false;  // query is FTS5 syntax as is, not plain words
  // Without customer_id, each kind (events, knowledge, customers) ranks at
  // most this many of its matches, the most recent: a word found in most of
  // a million rows is answered in milliseconds, not seconds.
  std::size_t candidate_pool = 1000;
};

// A page of the timeline, newest first by (event_date, id); since and until
// bound event_date, inclusive.
struct TimelineQuery {
  std::size_t limit = 100;  // at least 1
  std::string cursor;       // empty: the first page
  std::vector<std::string> types;  // event types; empty: all
  std::optional<std::int64_t> since;
  std::optional<std::int64_t> until;
};

// One row of the change log: an effect of an applied event, with the
// row after it as the profile shows that row.
struct Change {
  std::int64_t seq;           // strictly increasing, never reused
  std::int64_t committed_at;  // unix seconds
  std::string customer_id;
  std::string kind;  // timeline.appended, purchase.upserted, work_order.upserted,
                     // knowledge.added, customer.updated
  Json row;
};

// A bounded read of one kind of a customer's rows: the first items in the
// read's order, as the profile shows them, and how many rows there are.
struct RowSlice {
  Json items = Json::array();
  std::size_t total = 0;
};

// How many events of one type a customer has, and the dates of the oldest
// and the newest.
struct EventTypeCount {
  std::string event_type;
  std::size_t count = 0;
  std::int64_t first_date = 0;
  std::int64_t last_date = 0;
};

class StoreReader {
 public:
  explicit StoreReader(const std::filesystem::path& db_path);
  ~StoreReader();

  // {customer, timeline, purchases, work_orders, knowledge, counts};
  // nullopt for an unknown customer id.
  std::optional<Json> profile(const std::string& customer_id, const ProfileOptions& options = {});

  // The customer row as the profile shows it; nullopt for an unknown id.
  std::optional<Json> customer(const std::string& id);

  // The customers with this email, case-insensitively, oldest first
  // (customer_since, then id).
  Json customers_by_email(const std::string& email);

  // The customers someone typing text may mean, best first, at most limit
  // (at least 1): the one with that id, then those with that email
  // (case-insensitively), then those with that phone number (by its
  // digits, when text is mostly digits; 7 or more also match without the
  // country code), then those whose name, email or company
  // holds the words (the last word as a prefix, for search as you type),
  // then those whose events or knowledge hold them. Each item is the
  // customer row plus "matched": "id", "email", "phone", "name" or
  // "activity". Blank text finds no one.
  Json find_customers(const std::string& text, std::size_t limit);

  // {items, next_cursor}: customers with updated_at >= since, ascending by
  // (updated_at, id). Following next_cursor until it is null yields each
  // such customer once; one updated again while paging shows up again at
  // its new place. Throws std::invalid_argument for a cursor this read did
  // not make.
  Json customers_updated_since(std::int64_t since, std::size_t limit, const std::string& cursor);

  // {items, next_cursor}: the customer's timeline rows as in the profile.
  // Following next_cursor until it is null yields every matching event once,
  // also while new events commit between pages (those may or may not be
  // among them). nullopt for an unknown customer; std::invalid_argument for
  // a cursor this read did not make.
  std::optional<Json> timeline(const std::string& customer_id, const TimelineQuery& query);

  // The customer's rows as in the profile, in its order; nullopt for an
  // unknown customer. work_orders: only those of status, when given.
  std::optional<Json> purchases(const std::string& customer_id);
  std::optional<Json> work_orders(const std::string& customer_id, std::optional<std::string> status = std::nullopt);
  std::optional<Json> knowledge(const std::string& customer_id);

  // Bounded reads of one customer's rows (for the context document); an
  // unknown customer has none. Each reads at most limit rows through the
  // customer's index and counts them all (limit 0: only the count).
  // Open work orders: no completed_date and a status other than completed,
  // closed, resolved, done, cancelled, canceled (any case). The most pressing
  // first: priority critical or urgent, high, medium or normal, low, any
  // other; then the oldest; then by id.
  RowSlice open_work_orders(const std::string& customer_id, std::size_t limit);
  // {items, next_cursor, total}: open work orders (as open_work_orders
  // defines them) of one customer or of all, the most pressing first, at
  // most limit (at least 1) per page; each item is the row plus its
  // customer_id. nullopt for an unknown customer; std::invalid_argument for
  // a cursor this read did not make.
  std::optional<Json> open_work_orders_page(const std::optional<std::string>& customer_id, std::size_t limit,
                                            const std::string& cursor);
  // Newest first, as in the profile.
  RowSlice recent_purchases(const std::string& customer_id, std::size_t limit);
  // Most important first, as in the profile.
  RowSlice top_knowledge(const std::string& customer_id, std::size_t limit);
  // Every event type of the customer, by name.
  std::vector<EventTypeCount> event_type_counts(const std::string& customer_id);
  // The same as {"items": [{event_type, count, first_date, last_date}]};
  // nullopt for an unknown customer.
  std::optional<Json> event_types(const std::string& customer_id);
  // The newest contact or support_ticket event, as the timeline shows it.
  std::optional<Json> last_contact(const std::string& customer_id);

  // Changes with seq > after_seq (of one customer, when given), ascending,
  // at most limit (at least 1).
  std::vector<Change> changes_after(std::int64_t after_seq, const std::optional<std::string>& customer_id,
                                    std::size_t limit);
  // The highest seq ever given, pruned or not; 0 when there was none.
  std::int64_t latest_change_seq();
  // False when a change with a seq above this one was pruned: a reader
  // resuming after seq would miss it.
  bool change_retained_after(std::int64_t seq);

  // The database is at the schema this build reads (for readiness checks;
  // a newer customeriq may have migrated it since this reader opened it).
  bool is_migrated();

  // Hits over events (title, description), knowledge (content) and
  // customers (name, email, company), best bm25 rank first (see
  // SearchOptions::candidate_pool):
  // [{kind, id, customer_id, title, snippet, rank}]. Throws
  // std::invalid_argument for an FTS5 syntax error.
  Json search(const std::string& query, const SearchOptions& options = {});

  // Newest first: [{id, received_at, subject, reason, event_type,
  // idempotency_key, attempts, last_attempt_at, headers, raw}].
  Json dead_letters(std::size_t limit, std::optional<std::int64_t> id = std::nullopt);

  SQLite::Database& database();

  // While one lives, a statement of this reader still running at the
  // deadline is interrupted: it throws, and passed() tells why.
  class Deadline {
   public:
    Deadline(StoreReader& reader, std::chrono::milliseconds timeout);
    ~Deadline();
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;
    bool passed() const { return passed_; }

   private:
    static int check(void* self);
    StoreReader& reader_;
    std::chrono::steady_clock::time_point at_;
    bool passed_ = false;
  };

 private:
  std::unique_ptr<SQLite::Database> db_;

  bool customer_exists(const std::string& customer_id);
  struct TimelinePage {
    Json items;
    std::optional<std::string> next_cursor;
  };
  TimelinePage timeline_page(const std::string& customer_id, const TimelineQuery& query,
                             bool include_raw_event_data);
  Json purchase_rows(const std::string& customer_id);
  Json work_order_rows(const std::string& customer_id, const std::optional<std::string>& status);
  Json knowledge_rows(const std::string& customer_id);
};

// The timeline cursor whose page starts after the event at (event_date, id).
std::string timeline_cursor_after(std::int64_t event_date, std::int64_t id);

// Plain words → an FTS5 query that ANDs them as literal tokens
// ("WHP-2000" stays one phrase; a trailing * keeps prefix search). Spaces
// and control bytes (a NUL included) separate words.
std::string plain_words_to_fts_query(const std::string& text);

}  // namespace customeriq
