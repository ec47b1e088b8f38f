// customeriq profile, context and search: read-only, on their own connection.
#include <iostream>

#include "common.hpp"
#include "context/context_document.hpp"
#include "store/lifecycle.hpp"

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
    if (auto survivor = merged_into(reader.database(), ids[0])) {
      std::cout << Json{{"id", ids[0]}, {"merged_into", *survivor}}.dump(2) << "\n";
      return 0;
    }
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

int run_context(Args& args, const GlobalOptions& global) {
  ContextOptions options;
  if (auto max_chars = args.integer_option("--max-chars", kMinContextChars, 1000000))
    options.max_chars = static_cast<std::size_t>(*max_chars);
  const bool json = args.flag("--json");
  const auto ids = args.positionals(1);
  if (ids.empty()) throw UsageError("context needs a CUSTOMER_ID");
  StoreReader reader = open_reader(settings_for(global).database);
  const auto document = build_context_document(reader, ids[0], options);
  if (!document) {
    std::cerr << "customeriq: no customer with id '" << ids[0] << "'\n";
    return 1;
  }
  if (json) std::cout << document->to_json().dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  else std::cout << document->text << "\n";
  return 0;
}

}  // namespace

const Command kContextCommand{
    "context", "Print what to know about a customer, within a budget of characters",
    R"(usage: customeriq context CUSTOMER_ID [--max-chars N] [--json]

Prints the customer's context document: markdown of at most N characters
(Unicode code points) with, most important first, the identity, open work
orders, recent purchases with their warranty, knowledge, the recent
timeline (repeats folded) and counts by event type; every fact cites the
id of its row. When something does not fit, lower sections lose lines
first and the last line says what was left out and where to read it
(docs/CONTEXT.md).

  --max-chars N   the budget, 500 to 1000000 (default 8000)
  --json          {customer_id, text, truncated, omitted} as JSON

exit codes: 0 ok, 1 no customer with that id, 2 usage or configuration
error (a bad --max-chars too), 3 the database cannot be opened or used
)",
    run_context};

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
