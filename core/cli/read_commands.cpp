// customeriq profile and search: read-only, on their own connection.
#include <iostream>

#include "common.hpp"

namespace customeriq::cli {
namespace {

int run_profile(Args& args, const GlobalOptions& global) {
  ProfileOptions options;
  if (auto limit = args.integer_option("--timeline-limit", 0, 1LL << 40))
    options.timeline_limit = static_cast<std::size_t>(*limit);
  options.include_raw_event_data = args.flag("--raw");
  const auto ids = args.positionals(1);
  if (ids.empty()) throw UsageError("profile needs a CUSTOMER_ID");
  StoreReader reader = open_reader(settings_for(global).database);
  auto profile = reader.profile(ids[0], options);
  if (!profile) {
    std::cerr << "customeriq: no customer with id '" << ids[0] << "'\n";
    return 1;
  }
  std::cout << profile->dump(2) << "\n";
  return 0;
}

}  // namespace

const Command kProfileCommand{
    "profile", "Print a customer's profile as JSON",
    R"(usage: customeriq profile CUSTOMER_ID [--timeline-limit N] [--raw]

Prints {customer, timeline (newest first), timeline_total, purchases,
work_orders, knowledge} as JSON.

  --timeline-limit N   at most N timeline events (default 100)
  --raw                include each timeline event's raw_event_data

exit codes: 0 ok, 1 no customer with that id, 2 usage or configuration
error, 3 the database cannot be opened or used
)",
    run_profile};

namespace {

int run_search(Args& args, const GlobalOptions& global) {
  SearchOptions options;
  options.customer_id = args.option("--customer");
  if (auto limit = args.integer_option("--limit", 1, 100000))
    options.limit = static_cast<std::size_t>(*limit);
  options.fts_syntax = args.flag("--fts");
  const auto words = args.positionals(64);
  if (words.empty()) throw UsageError("search needs a QUERY");
  std::string query;
  for (const auto& word : words) query += (query.empty() ? "" : " ") + word;
  StoreReader reader = open_reader(settings_for(global).database);
  try {
    std::cout << reader.search(query, options).dump(2) << "\n";
  } catch (const std::invalid_argument& error) {
    std::cerr << "customeriq: " << error.what() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace

const Command kSearchCommand{
    "search", "Full-text search over events, knowledge and customers",
    R"(usage: customeriq search QUERY [--customer ID] [--limit N] [--fts]

Searches event titles and descriptions, knowledge and customer
name/email/company. Prints JSON hits, best (lowest bm25 rank) first:
[{kind, id, customer_id, title, snippet, rank}]. Words are ANDed; a
trailing * matches a prefix (blue*).

  --customer ID   only this customer's rows
  --limit N       at most N hits (default 20)
  --fts           QUERY is FTS5 query syntax (OR, NEAR, "phrases", column:term)

exit codes: 0 ok (also when nothing matches), 2 usage or configuration
error (a malformed --fts query too), 3 the database cannot be opened or used
)",
    run_search};

}  // namespace customeriq::cli
