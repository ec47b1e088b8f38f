#include "store/lifecycle.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <spdlog/spdlog.h>

#include "store/row_json.hpp"

namespace customeriq {
namespace {

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// The tables whose rows belong to one customer, and each one's key.
struct OwnedTable {
  const char* table;
  const char* key;
};
constexpr OwnedTable kOwnedTables[] = {
    {"customer_events", "id"},   {"purchases", "id"},           {"work_orders", "id"},
    {"customer_knowledge", "id"}, {"processed_events", "idempotency_key"},
};

Json column_value(const SQLite::Column& column) {
  if (column.isNull()) return nullptr;
  if (column.isInteger()) return column.getInt64();
  if (column.isFloat()) return column.getDouble();
  return column.getString();
}

void bind_value(SQLite::Statement& statement, int index, const Json& value) {
  if (value.is_null()) statement.bind(index);
  else if (value.is_number_integer()) statement.bind(index, value.get<std::int64_t>());
  else if (value.is_number()) statement.bind(index, value.get<double>());
  else if (value.is_string()) statement.bind(index, value.get<std::string>());
  else statement.bind(index, value.dump());
}

// Every column of the customers row, as stored (JSON columns as their text).
std::optional<Json> customer_snapshot(SQLite::Database& db, const std::string& id) {
  SQLite::Statement query(db, "SELECT * FROM customers WHERE id = ?1");
  query.bind(1, id);
  if (!query.executeStep()) return std::nullopt;
  Json row = Json::object();
  for (int i = 0; i < query.getColumnCount(); ++i) row[query.getColumnName(i)] = column_value(query.getColumn(i));
  return row;
}

void insert_customer_snapshot(SQLite::Database& db, const Json& row) {
  std::string columns, values;
  int index = 0;
  for (const auto& [name, value] : row.items()) {
    if (index > 0) columns += ", ", values += ", ";
    ++index;
    columns += name;
    values += "?" + std::to_string(index);
  }
  SQLite::Statement insert(db, "INSERT INTO customers(" + columns + ") VALUES (" + values + ")");
  index = 0;
  for (const auto& [name, value] : row.items()) bind_value(insert, ++index, value);
  insert.exec();
}

std::string text_of(const Json& value) { return value.is_string() ? value.get<std::string>() : std::string(); }

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::optional<std::pair<std::string, std::int64_t>> alias_target(SQLite::Database& db, std::string_view kind,
                                                                 const std::string& alias) {
  SQLite::Statement query(db, "SELECT customer_id, merge_id FROM customer_aliases WHERE kind = ?1 AND alias = ?2");
  query.bind(1, std::string(kind));
  query.bind(2, alias);
  if (!query.executeStep()) return std::nullopt;
  return std::pair(query.getColumn(0).getString(), query.getColumn(1).getInt64());
}

void reindex_customer(SQLite::Database& db, const std::string& id) {
  SQLite::Statement unindex(db, "DELETE FROM customers_fts WHERE rowid = (SELECT search_rowid FROM customers WHERE id = ?1)");
  unindex.bind(1, id);
  unindex.exec();
  SQLite::Statement index(db,
                          "INSERT INTO customers_fts(rowid, name, email, company) "
                          "SELECT search_rowid, name, email, company FROM customers WHERE id = ?1");
  index.bind(1, id);
  index.exec();
}

Json profile_row(SQLite::Database& db, const std::string& id) {
  SQLite::Statement query(db, select_rows(kCustomerRow, "WHERE id = ?1"));
  query.bind(1, id);
  return query.executeStep() ? row_to_json(query, kCustomerRow) : Json(nullptr);
}

void record_change(SQLite::Database& db, std::int64_t now, const std::string& customer_id, const char* kind,
                   const Json& row) {
  SQLite::Statement insert(db, "INSERT INTO changes(committed_at, customer_id, kind, row) VALUES (?1, ?2, ?3, ?4)");
  insert.bind(1, now);
  insert.bind(2, customer_id);
  insert.bind(3, kind);
  insert.bind(4, row.dump(-1, ' ', false, Json::error_handler_t::replace));
  insert.exec();
}

void record_audit(SQLite::Database& db, std::int64_t now, const char* kind, const char* outcome,
                  const std::optional<std::string>& customer_id, const std::optional<std::string>& other_customer_id,
                  const Json& detail, std::optional<std::int64_t> source_seq) {
  SQLite::Statement insert(db,
                           "INSERT INTO audit_log(kind, outcome, customer_id, other_customer_id, received_at, "
                           "committed_at, detail, source_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)");
  insert.bind(1, kind);
  insert.bind(2, outcome);
  if (customer_id) insert.bind(3, *customer_id);
  if (other_customer_id) insert.bind(4, *other_customer_id);
  insert.bind(5, now);
  insert.bind(6, detail.dump());
  if (source_seq) insert.bind(7, *source_seq);
  insert.exec();
}

std::int64_t count_rows(SQLite::Database& db, const std::string& sql, const std::string& id) {
  SQLite::Statement query(db, sql);
  query.bind(1, id);
  query.executeStep();
  return query.getColumn(0).getInt64();
}

constexpr const char* kFilledFields[] = {"name", "email", "phone", "company"};

bool empty_field(const Json& value) { return value.is_null() || (value.is_string() && value.get<std::string>().empty()); }

}  // namespace

std::string identifier_salt(SQLite::Database& db) {
  SQLite::Statement query(db, "SELECT identifier_salt FROM store_secrets WHERE id = 1");
  if (!query.executeStep()) throw std::runtime_error("the database has no identifier salt (store_secrets)");
  const SQLite::Column salt = query.getColumn(0);
  return std::string(static_cast<const char*>(salt.getBlob()), static_cast<std::size_t>(salt.getBytes()));
}

std::string identifier_hash_with_salt(std::string_view salt, std::string_view kind, std::string_view value) {
  std::string input(salt);
  input.append(kind).append(":").append(value);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 0xF];
  }
  return hex;
}

std::string identifier_hash(SQLite::Database& db, std::string_view kind, std::string_view value) {
  return identifier_hash_with_salt(identifier_salt(db), kind, value);
}

std::optional<std::string> merged_into(SQLite::Database& db, const std::string& id) {
  std::optional<std::string> survivor;
  std::string current = id;
  for (int hops = 0; hops < 64; ++hops) {
    auto target = alias_target(db, "id", current);
    if (!target) break;
    survivor = current = target->first;
  }
  return survivor;
}

Json merge_in_transaction(SQLite::Database& db, const std::string& from, const std::string& into,
                          std::int64_t now, const MergeOptions& options) {
  if (from.empty() || into.empty()) throw LifecycleError(400, "a merge needs two customer ids");
  if (from == into) throw LifecycleError(400, "cannot merge customer '" + from + "' into itself");
  if (auto survivor = merged_into(db, from))
    throw LifecycleError(409, "customer '" + from + "' was already merged into '" + *survivor + "'");
  if (auto survivor = merged_into(db, into))
    throw LifecycleError(409, "customer '" + into + "' was merged into '" + *survivor + "': merge into '" +
                                  *survivor + "' instead");
  const auto from_row = customer_snapshot(db, from);
  if (!from_row) throw LifecycleError(404, "no customer with id '" + from + "'");
  const auto into_row = customer_snapshot(db, into);
  if (!into_row) throw LifecycleError(404, "no customer with id '" + into + "'");

  Json moved = Json::object();
  for (const auto& owned : kOwnedTables)
    moved[owned.table] = count_rows(db, std::string("SELECT count(*) FROM ") + owned.table + " WHERE customer_id = ?1", from);
  Json filled = Json::array();
  Json conflicts = Json::object();
  for (const char* field : kFilledFields) {
    const Json& mine = (*into_row)[field];
    const Json& theirs = (*from_row)[field];
    if (empty_field(theirs)) continue;
    if (empty_field(mine)) filled.push_back(field);
    else if (mine != theirs) conflicts[field] = {{"from", theirs}, {"into", mine}};
  }
  Json report = {{"from", from}, {"into", into}, {"moved", moved}, {"filled", filled}, {"conflicts", conflicts}};
  if (options.dry_run) {
    report["dry_run"] = true;
    report["merge_id"] = nullptr;
    return report;
  }

  SQLite::Statement record(db, R"sql(
INSERT INTO merges(id, from_id, into_id, merged_at, from_customer, into_before, into_after, moved)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, '{}', ?7))sql");
  if (options.merge_id) record.bind(1, *options.merge_id);
  record.bind(2, from);
  record.bind(3, into);
  record.bind(4, now);
  record.bind(5, from_row->dump());
  record.bind(6, into_row->dump());
  record.bind(7, moved.dump());
  record.exec();
  const std::int64_t merge_id = db.getLastInsertRowid();

  for (const auto& owned : kOwnedTables) {
    SQLite::Statement remember(db, std::string("INSERT INTO merge_rows(merge_id, table_name, row_key) SELECT ?1, '") +
                                       owned.table + "', " + owned.key + " FROM " + owned.table +
                                       " WHERE customer_id = ?2");
    remember.bind(1, merge_id);
    remember.bind(2, from);
    remember.exec();
    SQLite::Statement move(db, std::string("UPDATE ") + owned.table + " SET customer_id = ?2 WHERE customer_id = ?1");
    move.bind(1, from);
    move.bind(2, into);
    move.exec();
  }

  SQLite::Statement fill(db, R"sql(
UPDATE customers SET
  name = CASE WHEN customers.name IS NULL OR customers.name = '' THEN f.name ELSE customers.name END,
  email = CASE WHEN customers.email IS NULL OR customers.email = '' THEN f.email ELSE customers.email END,
  phone = CASE WHEN customers.phone IS NULL OR customers.phone = '' THEN f.phone ELSE customers.phone END,
  company = CASE WHEN customers.company IS NULL OR customers.company = '' THEN f.company ELSE customers.company END,
  tags = CASE WHEN customers.tags IS NULL OR customers.tags IN ('', '[]') THEN f.tags ELSE customers.tags END,
  custom_fields = CASE WHEN COALESCE(f.custom_fields, '{}') IN ('', '{}') THEN customers.custom_fields
                       ELSE json_patch(f.custom_fields, COALESCE(NULLIF(customers.custom_fields, ''), '{}')) END,
  customer_since = CASE WHEN customers.customer_since IS NULL THEN f.customer_since
                        WHEN f.customer_since IS NULL THEN customers.customer_since
                        ELSE min(customers.customer_since, f.customer_since) END,
  lifetime_value = customers.lifetime_value + f.lifetime_value,
  updated_at = ?3
FROM (SELECT * FROM customers WHERE id = ?1) AS f
WHERE customers.id = ?2)sql");
  fill.bind(1, from);
  fill.bind(2, into);
  fill.bind(3, now);
  fill.exec();

  SQLite::Statement unindex(db, "DELETE FROM customers_fts WHERE rowid = ?1");
  bind_value(unindex, 1, (*from_row)["search_rowid"]);
  unindex.exec();
  SQLite::Statement remove(db, "DELETE FROM customers WHERE id = ?1");
  remove.bind(1, from);
  remove.exec();
  reindex_customer(db, into);

  const auto into_after = customer_snapshot(db, into);
  SQLite::Statement alias(db,
                          "INSERT OR IGNORE INTO customer_aliases(kind, alias, customer_id, merge_id) "
                          "VALUES (?1, ?2, ?3, ?4)");
  auto add_alias = [&](const char* kind, const std::string& value) {
    alias.bind(1, kind);
    alias.bind(2, value);
    alias.bind(3, into);
    alias.bind(4, merge_id);
    alias.exec();
    alias.reset();
  };
  add_alias("id", from);
  const std::string from_email = lower(text_of((*from_row)["email"]));
  // Even when into now has the same email (filled from from's): events
  // with it were from's, and go back with an unmerge.
  if (!from_email.empty() && from_email != lower(text_of((*into_row)["email"]))) add_alias("email", from_email);

  SQLite::Statement finish(db, "UPDATE merges SET into_after = ?2 WHERE id = ?1");
  finish.bind(1, merge_id);
  finish.bind(2, into_after->dump());
  finish.exec();

  report["merge_id"] = merge_id;
  record_change(db, now, into, "customer.merged",
                {{"merge_id", merge_id}, {"from", from}, {"into", into}, {"moved", moved},
                 {"customer", profile_row(db, into)}});
  record_audit(db, now, "merge", "merged", into, from,
               {{"merge_id", merge_id}, {"moved", moved}, {"automatic", options.automatic}}, options.source_seq);
  return report;
}

Json merge_customers(SQLite::Database& db, const std::string& from, const std::string& into,
                     const MergeOptions& options) {
  SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
  Json report = merge_in_transaction(db, from, into, unix_now(), options);
  if (!options.dry_run) transaction.commit();  // a dry run rolls back: nothing changed
  return report;
}

Json unmerge(SQLite::Database& db, std::int64_t merge_id, std::optional<std::int64_t> source_seq) {
  SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
  const std::int64_t now = unix_now();
  SQLite::Statement load(db,
                         "SELECT from_id, into_id, undone_at, from_customer, into_before, into_after, "
                         "alias_lifetime_value, alias_first_seen FROM merges WHERE id = ?1");
  load.bind(1, merge_id);
  if (!load.executeStep()) throw LifecycleError(404, "no merge with id " + std::to_string(merge_id));
  const std::string from = load.getColumn(0).getString();
  const std::string into = load.getColumn(1).getString();
  if (!load.getColumn(2).isNull())
    throw LifecycleError(409, "merge " + std::to_string(merge_id) + " was undone already");
  const Json from_row = Json::parse(load.getColumn(3).getString());
  const Json into_before = Json::parse(load.getColumn(4).getString());
  const Json into_after = Json::parse(load.getColumn(5).getString());
  const double alias_lifetime_value = load.getColumn(6).getDouble();
  const std::optional<std::int64_t> alias_first_seen =
      load.getColumn(7).isNull() ? std::nullopt : std::optional(load.getColumn(7).getInt64());
  load.reset();

  if (auto survivor = alias_target(db, "id", into)) {
    throw LifecycleError(409, "customer '" + into + "' was merged into '" + survivor->first + "' after merge " +
                                  std::to_string(merge_id) + ": undo merge " + std::to_string(survivor->second) +
                                  " first");
  }
  auto current = customer_snapshot(db, into);
  if (!current) throw LifecycleError(409, "customer '" + into + "' of merge " + std::to_string(merge_id) + " is gone");
  if (customer_snapshot(db, from))
    throw LifecycleError(409, "a customer '" + from + "' exists again: merge " + std::to_string(merge_id) +
                                  " cannot put its rows back");

  insert_customer_snapshot(db, from_row);
  if (alias_lifetime_value != 0 || alias_first_seen) {
    SQLite::Statement credit(db, R"sql(
UPDATE customers SET lifetime_value = lifetime_value + ?2,
  customer_since = CASE WHEN ?3 IS NULL THEN customer_since WHEN customer_since IS NULL THEN ?3
                        ELSE min(customer_since, ?3) END
WHERE id = ?1)sql");
    credit.bind(1, from);
    credit.bind(2, alias_lifetime_value);
    if (alias_first_seen) credit.bind(3, *alias_first_seen);
    credit.exec();
  }

  Json moved_back = Json::object();
  for (const auto& owned : kOwnedTables) {
    SQLite::Statement move(db, std::string("UPDATE ") + owned.table + " SET customer_id = ?2 WHERE customer_id = ?3 AND " +
                                   owned.key + " IN (SELECT row_key FROM merge_rows WHERE merge_id = ?1 AND table_name = '" +
                                   owned.table + "')");
    move.bind(1, merge_id);
    move.bind(2, from);
    move.bind(3, into);
    moved_back[owned.table] = move.exec();
  }

  // Into's fields go back to what they were before the merge, where nothing
  // changed them since; its lifetime value gives back what from brought.
  Json restored = Json::object();
  for (const auto& [name, before] : into_before.items()) {
    if (name == "id" || name == "search_rowid" || name == "created_at" || name == "lifetime_value") continue;
    if ((*current)[name] == into_after[name]) restored[name] = before;
  }
  const double lifetime_value = (*current)["lifetime_value"].get<double>();
  if (alias_lifetime_value == 0 && lifetime_value == into_after["lifetime_value"].get<double>())
    restored["lifetime_value"] = into_before["lifetime_value"];
  else
    restored["lifetime_value"] = lifetime_value - from_row["lifetime_value"].get<double>() - alias_lifetime_value;
  if (!restored.contains("updated_at")) restored["updated_at"] = now;
  std::string assignments;
  int index = 1;
  for (const auto& [name, value] : restored.items()) {
    if (index > 1) assignments += ", ";
    ++index;
    assignments += name + " = ?" + std::to_string(index);
  }
  SQLite::Statement revert(db, "UPDATE customers SET " + assignments + " WHERE id = ?1");
  revert.bind(1, into);
  index = 1;
  for (const auto& [name, value] : restored.items()) bind_value(revert, ++index, value);
  revert.exec();
  reindex_customer(db, into);
  reindex_customer(db, from);

  for (const char* sql : {"DELETE FROM customer_aliases WHERE merge_id = ?1", "DELETE FROM merge_rows WHERE merge_id = ?1"}) {
    SQLite::Statement forget(db, sql);
    forget.bind(1, merge_id);
    forget.exec();
  }
  SQLite::Statement undone(db, "UPDATE merges SET undone_at = ?2 WHERE id = ?1");
  undone.bind(1, merge_id);
  undone.bind(2, now);
  undone.exec();

  Json report = {{"merge_id", merge_id}, {"from", from}, {"into", into}, {"moved_back", moved_back}};
  record_change(db, now, into, "customer.unmerged",
                {{"merge_id", merge_id}, {"from", from}, {"into", into}, {"moved_back", moved_back},
                 {"customer", profile_row(db, into)}, {"restored", profile_row(db, from)}});
  record_audit(db, now, "unmerge", "unmerged", into, from, {{"merge_id", merge_id}, {"moved_back", moved_back}},
               source_seq);
  transaction.commit();
  return report;
}

namespace {

// The ids and emails that name one customer: its own, and those of the
// customers merged into it (directly or through merges of merges).
struct Identifiers {
  std::set<std::string> ids;
  std::set<std::string> emails;
};

Identifiers identifiers_of(SQLite::Database& db, const std::string& customer_id, const Json& row) {
  Identifiers found;
  found.ids.insert(customer_id);
  if (auto email = lower(text_of(row["email"])); !email.empty()) found.emails.insert(email);
  for (std::size_t before = 0; before != found.ids.size() + found.emails.size();) {
    before = found.ids.size() + found.emails.size();
    for (const std::string& id : std::vector<std::string>(found.ids.begin(), found.ids.end())) {
      SQLite::Statement aliases(db, "SELECT kind, alias FROM customer_aliases WHERE customer_id = ?1");
      aliases.bind(1, id);
      while (aliases.executeStep())
        (aliases.getColumn(0).getString() == "id" ? found.ids : found.emails).insert(aliases.getColumn(1).getString());
      // Merge records keep the rows as they were: their emails name it too.
      SQLite::Statement merges(db,
                               "SELECT json_extract(from_customer, '$.email'), json_extract(into_before, '$.email'), "
                               "from_id, undone_at FROM merges WHERE into_id = ?1");
      merges.bind(1, id);
      while (merges.executeStep()) {
        if (auto email = lower(merges.getColumn(1).getString()); !email.empty()) found.emails.insert(email);
        if (!merges.getColumn(3).isNull()) continue;  // undone: from is its own customer again
        found.ids.insert(merges.getColumn(2).getString());
        if (auto email = lower(merges.getColumn(0).getString()); !email.empty()) found.emails.insert(email);
      }
    }
  }
  return found;
}

std::int64_t run_counted(SQLite::Database& db, const std::string& sql) { return db.exec(sql); }

}  // namespace

Json erase_customer(SQLite::Database& db, const std::string& requested_id) {
  if (requested_id.empty()) throw LifecycleError(400, "erase needs a customer id");
  const std::int64_t now = unix_now();
  db.exec("PRAGMA secure_delete = ON");
  struct SecureDeleteOff {
    SQLite::Database& db;
    ~SecureDeleteOff() {
      try {
        db.exec("PRAGMA secure_delete = OFF");
      } catch (const std::exception&) {
      }
    }
  } secure_delete_off{db};

  Json receipt;
  std::string customer_id;
  {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    customer_id = merged_into(db, requested_id).value_or(requested_id);
    const auto row = customer_snapshot(db, customer_id);
    if (!row) throw LifecycleError(404, "no customer with id '" + requested_id + "'");
    const Identifiers identifiers = identifiers_of(db, customer_id, *row);

    db.exec("CREATE TEMP TABLE IF NOT EXISTS erased_ids(value TEXT PRIMARY KEY)");
    db.exec("CREATE TEMP TABLE IF NOT EXISTS erased_emails(value TEXT PRIMARY KEY)");
    db.exec("DELETE FROM temp.erased_ids; DELETE FROM temp.erased_emails");
    for (const auto& [table, values] : {std::pair("temp.erased_ids", &identifiers.ids),
                                        std::pair("temp.erased_emails", &identifiers.emails)}) {
      SQLite::Statement insert(db, std::string("INSERT OR IGNORE INTO ") + table + "(value) VALUES (?1)");
      for (const std::string& value : *values) {
        insert.bind(1, value);
        insert.exec();
        insert.reset();
      }
    }
    // A payload, a change row or a dead letter names the customer when it
    // holds one of its ids or emails as a JSON string.
    const std::string names_it = R"sql(
(EXISTS (SELECT 1 FROM temp.erased_ids WHERE instr(CAST({col} AS TEXT), '"' || value || '"') > 0)
 OR EXISTS (SELECT 1 FROM temp.erased_emails WHERE instr(lower(CAST({col} AS TEXT)), '"' || value || '"') > 0)))sql";
    auto naming = [&](const char* column) {
      std::string sql = names_it;
      for (std::size_t at; (at = sql.find("{col}")) != std::string::npos;) sql.replace(at, 5, column);
      return sql;
    };
    const std::string owned = "customer_id IN (SELECT value FROM temp.erased_ids)";

    Json removed = Json::object();
    // External-content FTS rows are deleted with the values they indexed.
    db.exec("INSERT INTO customer_events_fts(customer_events_fts, rowid, title, description) "
            "SELECT 'delete', id, title, description FROM customer_events WHERE " + owned);
    db.exec("INSERT INTO customer_knowledge_fts(customer_knowledge_fts, rowid, content) "
            "SELECT 'delete', id, content FROM customer_knowledge WHERE " + owned);
    removed["customers_fts"] = run_counted(
        db, "DELETE FROM customers_fts WHERE rowid IN (SELECT search_rowid FROM customers WHERE " +
                std::string("id IN (SELECT value FROM temp.erased_ids))"));
    removed["audit_log"] = run_counted(
        db, "DELETE FROM audit_log WHERE " + owned +
                " OR other_customer_id IN (SELECT value FROM temp.erased_ids) OR (raw IS NOT NULL AND " +
                naming("raw") + ")");
    for (const char* table : {"customer_events", "purchases", "work_orders", "customer_knowledge", "processed_events"})
      removed[table] = run_counted(db, std::string("DELETE FROM ") + table + " WHERE " + owned);
    removed["dead_letters"] = run_counted(db, "DELETE FROM dead_letters WHERE " + naming("raw"));
    removed["changes"] = run_counted(db, "DELETE FROM changes WHERE " + owned + " OR " + naming("row"));
    removed["merge_rows"] = run_counted(
        db, "DELETE FROM merge_rows WHERE merge_id IN (SELECT id FROM merges WHERE into_id IN (SELECT value FROM "
            "temp.erased_ids) OR from_id IN (SELECT value FROM temp.erased_ids))");
    removed["merges"] = run_counted(db,
                                    "DELETE FROM merges WHERE into_id IN (SELECT value FROM temp.erased_ids) OR "
                                    "from_id IN (SELECT value FROM temp.erased_ids)");
    removed["customer_aliases"] = run_counted(
        db, "DELETE FROM customer_aliases WHERE " + owned +
                " OR (kind = 'id' AND alias IN (SELECT value FROM temp.erased_ids))"
                " OR (kind = 'email' AND alias IN (SELECT value FROM temp.erased_emails))");
    removed["customers"] = run_counted(db, "DELETE FROM customers WHERE id IN (SELECT value FROM temp.erased_ids)");

    const std::string salt = identifier_salt(db);
    Json hashes = Json::array();
    for (const std::string& id : identifiers.ids) hashes.push_back(identifier_hash_with_salt(salt, "id", id));
    for (const std::string& email : identifiers.emails) hashes.push_back(identifier_hash_with_salt(salt, "email", email));
    SQLite::Statement record(db, "INSERT INTO erasures(erased_at, identifier_hashes, removed) VALUES (?1, ?2, ?3)");
    record.bind(1, now);
    record.bind(2, hashes.dump());
    record.bind(3, removed.dump());
    record.exec();
    const std::int64_t erasure_id = db.getLastInsertRowid();
    SQLite::Statement suppress(db,
                               "INSERT OR REPLACE INTO suppressions(identifier_hash, erasure_id, created_at) "
                               "VALUES (?1, ?2, ?3)");
    for (const auto& hash : hashes) {
      suppress.bind(1, hash.get<std::string>());
      suppress.bind(2, erasure_id);
      suppress.bind(3, now);
      suppress.exec();
      suppress.reset();
    }
    db.exec("DELETE FROM temp.erased_ids; DELETE FROM temp.erased_emails");

    // Merging the FTS segments into one rewrites the index without the
    // deleted rows' terms (FTS5 keeps them until its segments merge).
    db.exec("INSERT INTO customer_events_fts(customer_events_fts) VALUES ('optimize')");
    db.exec("INSERT INTO customer_knowledge_fts(customer_knowledge_fts) VALUES ('optimize')");
    db.exec("INSERT INTO customers_fts(customers_fts) VALUES ('optimize')");

    receipt = {{"erasure_id", erasure_id}, {"erased_at", now}, {"identifier_hashes", hashes}, {"removed", removed}};
    record_change(db, now, customer_id, "customer.erased", {{"erasure_id", erasure_id}, {"removed", removed}});
    record_audit(db, now, "erasure", "erased", std::nullopt, std::nullopt, {{"erasure_id", erasure_id}}, std::nullopt);
    transaction.commit();
  }

  // The WAL still holds the pages as they were before: copy the new ones
  // into the database file and truncate the log. A reader in the middle of
  // a read keeps it from completing; the receipt says so.
  bool checkpointed = false;
  try {
    SQLite::Statement checkpoint(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    checkpointed = checkpoint.executeStep() && checkpoint.getColumn(0).getInt() == 0;
  } catch (const SQLite::Exception& error) {
    spdlog::warn("[Lifecycle] WAL checkpoint after erasure {} failed: {}", receipt["erasure_id"].get<std::int64_t>(),
                 error.what());
  }
  receipt["wal_checkpointed"] = checkpointed;
  if (checkpointed) {
    SQLite::Statement mark(db, "UPDATE erasures SET wal_checkpointed = 1 WHERE id = ?1");
    mark.bind(1, receipt["erasure_id"].get<std::int64_t>());
    mark.exec();
  } else {
    spdlog::warn("[Lifecycle] Erasure {}: the WAL could not be checkpointed now (a reader holds it); SQLite "
                 "checkpoints it later",
                 receipt["erasure_id"].get<std::int64_t>());
  }
  spdlog::info("[Lifecycle] Erasure {}: {} rows removed", receipt["erasure_id"].get<std::int64_t>(),
               [&] {
                 std::int64_t total = 0;
                 for (const auto& [table, count] : receipt["removed"].items()) total += count.get<std::int64_t>();
                 return total;
               }());
  return receipt;
}

Json unsuppress(SQLite::Database& db, const std::string& identifier) {
  if (identifier.empty()) throw LifecycleError(400, "unsuppress needs a customer id or an email");
  const bool email = identifier.find('@') != std::string::npos;
  SQLite::Statement remove(db, "DELETE FROM suppressions WHERE identifier_hash = ?1");
  remove.bind(1, identifier_hash(db, email ? "email" : "id", email ? lower(identifier) : identifier));
  return {{"unsuppressed", remove.exec()}};
}

Json unsuppress_erasure(SQLite::Database& db, std::int64_t erasure_id) {
  SQLite::Statement remove(db, "DELETE FROM suppressions WHERE erasure_id = ?1");
  remove.bind(1, erasure_id);
  return {{"unsuppressed", remove.exec()}};
}

std::optional<Json> erasure_receipt(SQLite::Database& db, std::int64_t erasure_id) {
  SQLite::Statement query(db,
                          "SELECT erased_at, identifier_hashes, removed, wal_checkpointed, "
                          "(SELECT count(*) FROM suppressions WHERE erasure_id = ?1) FROM erasures WHERE id = ?1");
  query.bind(1, erasure_id);
  if (!query.executeStep()) return std::nullopt;
  return Json{{"erasure_id", erasure_id},
              {"erased_at", query.getColumn(0).getInt64()},
              {"identifier_hashes", Json::parse(query.getColumn(1).getString())},
              {"removed", Json::parse(query.getColumn(2).getString())},
              {"wal_checkpointed", query.getColumn(3).getInt() != 0},
              {"suppressions", query.getColumn(4).getInt64()}};
}

std::optional<Json> customer_audit(SQLite::Database& db, const std::string& customer_id, std::size_t limit,
                                   std::optional<std::int64_t> before) {
  std::set<std::string> ids{customer_id};
  for (std::size_t count = 0; count != ids.size();) {
    count = ids.size();
    for (const std::string& id : std::vector<std::string>(ids.begin(), ids.end())) {
      SQLite::Statement aliases(db, "SELECT alias FROM customer_aliases WHERE kind = 'id' AND customer_id = ?1");
      aliases.bind(1, id);
      while (aliases.executeStep()) ids.insert(aliases.getColumn(0).getString());
    }
  }
  Json ids_json = Json::array();
  for (const auto& id : ids) ids_json.push_back(id);
  SQLite::Statement query(db, R"sql(
SELECT id, kind, outcome, customer_id, other_customer_id, idempotency_key, subject, event_type,
       received_at, committed_at, reason, detail
FROM audit_log
WHERE (customer_id IN (SELECT value FROM json_each(?1)) OR other_customer_id IN (SELECT value FROM json_each(?1)))
  AND id < ?2
ORDER BY id DESC LIMIT ?3)sql");
  query.bind(1, ids_json.dump());
  query.bind(2, before.value_or(INT64_MAX));
  query.bind(3, static_cast<std::int64_t>(limit) + 1);
  Json items = Json::array();
  std::optional<std::int64_t> next_before;
  while (query.executeStep()) {
    if (items.size() == limit) {
      next_before = items.back()["id"].get<std::int64_t>();
      break;
    }
    Json item = Json::object();
    for (int i = 0; i < query.getColumnCount(); ++i) item[query.getColumnName(i)] = column_value(query.getColumn(i));
    if (item["detail"].is_string()) item["detail"] = Json::parse(item["detail"].get<std::string>(), nullptr, false);
    items.push_back(std::move(item));
  }

  // Receipts keep salted hashes: one that holds this id's is its erasure.
  Json erasures = Json::array();
  SQLite::Statement receipts(db,
                             "SELECT e.id FROM erasures AS e, json_each(e.identifier_hashes) AS h "
                             "WHERE h.value = ?1 ORDER BY e.id");
  receipts.bind(1, identifier_hash(db, "id", customer_id));
  while (receipts.executeStep())
    if (auto receipt = erasure_receipt(db, receipts.getColumn(0).getInt64())) erasures.push_back(std::move(*receipt));

  const auto survivor = merged_into(db, customer_id);
  if (items.empty() && erasures.empty() && !survivor && !customer_snapshot(db, customer_id)) return std::nullopt;
  return Json{{"customer_id", customer_id},
              {"merged_into", survivor ? Json(*survivor) : Json(nullptr)},
              {"items", std::move(items)},
              {"erasures", std::move(erasures)},
              {"next_before", next_before ? Json(*next_before) : Json(nullptr)}};
}

}  // namespace customeriq
