// StoreReader: read-only queries on its own connection (profiles, search,
// dead letters). Several readers may run beside the one writer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

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

class StoreReader {
 public:
  explicit StoreReader(const std::filesystem::path& db_path);
  ~StoreReader();

  // {customer, timeline, purchases, work_orders, knowledge, counts};
  // nullopt for an unknown customer id.
  std::optional<Json> profile(const std::string& customer_id, const ProfileOptions& options = {});

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

 private:
  std::unique_ptr<SQLite::Database> db_;
};

// Plain words → an FTS5 query that ANDs them as literal tokens
// ("WHP-2000" stays one phrase; a trailing * keeps prefix search).
std::string plain_words_to_fts_query(const std::string& text);

}  // namespace customeriq
