// customeriq profile and search: read-only, on their own connection.
#include <iostream>

#include "common.hpp"

namespace customeriq::cli {

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

}  // namespace customeriq::cli
