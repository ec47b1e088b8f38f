// customeriq merge, unmerge, erase, unsuppress and audit (docs/LIFECYCLE.md).
#include <iostream>

#include <SQLiteCpp/Database.h>

#include "common.hpp"
#include "store/lifecycle.hpp"
#include "store/store_schema.hpp"

namespace customeriq::cli {
namespace {

void print(const Json& value) { std::cout << value.dump(2, ' ', false, Json::error_handler_t::replace) << "\n"; }

// Runs one lifecycle operation; a refusal is printed with its exit code:
// 2 for a bad request, 1 for what is not there or not possible now.
template <typename Operation>
int lifecycle(const GlobalOptions& global, Operation operation) {
  const Settings settings = settings_for(global);
  auto db = open_store_for_writing(settings.database);
  try {
    print(operation(*db));
    return 0;
  } catch (const LifecycleError& refusal) {
    std::cerr << "customeriq: " << refusal.what() << "\n";
    return refusal.status == 400 ? 2 : 1;
  }
}

int run_merge(Args& args, const GlobalOptions& global) {
  MergeOptions options;
  options.dry_run = args.flag("--dry-run");
  const auto ids = args.positionals(2);
  if (ids.size() != 2) throw UsageError("merge needs FROM and INTO customer ids");
  return lifecycle(global, [&](SQLite::Database& db) { return merge_customers(db, ids[0], ids[1], options); });
}

int run_unmerge(Args& args, const GlobalOptions& global) {
  const auto ids = args.positionals(1);
  if (ids.empty()) throw UsageError("unmerge needs a MERGE_ID");
  std::int64_t merge_id = 0;
  try {
    std::size_t end = 0;
    merge_id = std::stoll(ids[0], &end);
    if (end != ids[0].size() || merge_id < 1) throw std::invalid_argument("");
  } catch (const std::exception&) {
    throw UsageError("MERGE_ID must be a positive integer (the merge_id customeriq merge printed), got '" + ids[0] + "'");
  }
  return lifecycle(global, [&](SQLite::Database& db) { return unmerge(db, merge_id); });
}

int run_erase(Args& args, const GlobalOptions& global) {
  const auto ids = args.positionals(1);
  if (ids.empty()) throw UsageError("erase needs a CUSTOMER_ID");
  return lifecycle(global, [&](SQLite::Database& db) { return erase_customer(db, ids[0]); });
}

int run_unsuppress(Args& args, const GlobalOptions& global) {
  const auto erasure = args.integer_option("--erasure", 1, INT64_MAX);
  const auto identifiers = args.positionals(1);
  if (identifiers.empty() == !erasure)
    throw UsageError("unsuppress needs a CUSTOMER_ID or EMAIL, or --erasure N (not both)");
  return lifecycle(global, [&](SQLite::Database& db) {
    return erasure ? unsuppress_erasure(db, *erasure) : unsuppress(db, identifiers[0]);
  });
}

int run_audit(Args& args, const GlobalOptions& global) {
  const auto limit = args.integer_option("--limit", 1, 1000000).value_or(100);
  const auto before = args.integer_option("--before", 1, INT64_MAX);
  const auto ids = args.positionals(1);
  if (ids.empty()) throw UsageError("audit needs a CUSTOMER_ID");
  StoreReader reader = open_reader(settings_for(global).database);
  const auto trail = customer_audit(reader.database(), ids[0], static_cast<std::size_t>(limit), before);
  if (!trail) {
    std::cerr << "customeriq: no customer, audit row or erasure for id '" << ids[0] << "'\n";
    return 1;
  }
  print(*trail);
  return 0;
}

}  // namespace

const Command kMergeCommand{
    "merge", "Merge customer FROM into INTO (undo with unmerge)",
    R"(usage: customeriq merge FROM INTO [--dry-run]

In one transaction: every timeline row, purchase, work order, knowledge
note and applied-event key of FROM moves to INTO; INTO's empty name, email,
phone, company and tags are filled from FROM's, custom fields FROM has and
INTO lacks are added, lifetime values are added and the earlier
customer_since is kept; FROM becomes an alias of INTO: later events for
FROM's id or email land on INTO, and reads of FROM answer merged_into. A
customer.merged change is streamed. Prints JSON: merge_id, moved (rows
per table), filled (fields taken from FROM), conflicts (fields both have,
INTO's kept).

  --dry-run   print what would move and conflict; change nothing

exit codes: 0 ok, 1 no such customer, or one of them is itself merged, 2
usage or configuration error, 3 the database cannot be opened or used
)",
    run_merge};

const Command kUnmergeCommand{
    "unmerge", "Undo a merge: put every row back, later events for FROM's ids too",
    R"(usage: customeriq unmerge MERGE_ID

Re-creates FROM as it was before the merge and moves back every row the
merge moved, and every row written since by events for FROM's id or email
(with their lifetime value). INTO's fields go back to what they were
before the merge where nothing changed them since. A customer.unmerged
change is streamed. Merges of merges are undone newest first. Prints JSON:
merge_id, from, into, moved_back (rows per table).

exit codes: 0 ok, 1 no such merge, undone already, or a later merge must
be undone first, 2 usage or configuration error, 3 the database cannot be
opened or used
)",
    run_unmerge};

const Command kEraseCommand{
    "erase", "Erase a customer and everything about them; print the receipt",
    R"(usage: customeriq erase CUSTOMER_ID

Deletes the customer and every row about them: timeline rows with their raw
events, purchases, work orders, knowledge, search index entries, applied
event keys, audit rows, change log rows, dead letters that name the id or
an email, merge records and aliases (customers merged into it included),
with SQLite's secure_delete so the bytes are overwritten, then checkpoints
the WAL. Later events for those ids and emails are suppressed (not stored)
until `customeriq unsuppress`. A customer.erased change is streamed.
Prints the receipt, also kept in the erasures table without personal data:
erasure_id, erased_at, identifier_hashes (salted SHA-256), removed (rows
per table), wal_checkpointed. An alias id erases the customer it was
merged into. See docs/LIFECYCLE.md for what backups still hold.

exit codes: 0 ok, 1 no customer with that id, 2 usage or configuration
error, 3 the database cannot be opened or used
)",
    run_erase};

const Command kUnsuppressCommand{
    "unsuppress", "Store events for an erased customer's id or email again",
    R"(usage: customeriq unsuppress CUSTOMER_ID|EMAIL
       customeriq unsuppress --erasure N

Lifts the suppression an erasure left on one identifier (an argument with
'@' is an email), or with --erasure on every identifier of erasure N.
Events received while suppressed were not stored and do not come back.
Prints JSON: {"unsuppressed": N}.

exit codes: 0 ok (also when nothing was suppressed), 2 usage or
configuration error, 3 the database cannot be opened or used
)",
    run_unsuppress};

const Command kAuditCommand{
    "audit", "Print a customer's audit trail: events, merges, erasures",
    R"(usage: customeriq audit CUSTOMER_ID [--limit N] [--before ID]

Prints JSON, newest first: items (each event that reached the store for
the customer or a customer merged into it, with its outcome — applied,
duplicate — subject, idempotency key, received and committed time; each
merge and unmerge), erasures (receipts of erasures of that id), merged_into
(when the id is an alias), next_before (pass as --before for the next page).

  --limit N     at most N items (default 100)
  --before ID   items older than audit row ID

exit codes: 0 ok, 1 nothing is known of that id, 2 usage or configuration
error, 3 the database cannot be opened or used
)",
    run_audit};

}  // namespace customeriq::cli
