// For the store tests: a writer on a new database file, and events as the
// writer receives them from the pipeline.
#pragma once

#include <string>
#include <vector>

#include "store/store_writer.hpp"
#include "support/test_support.hpp"

namespace customeriq::test {

// A StoreWriter with default options on dir/db.sqlite, a new database.
struct FreshStore {
  TempDir dir;
  StoreWriter writer{dir / "db.sqlite", {}};

  // rows_as_text through the writer's own connection.
  std::string rows(const std::string& sql) { return rows_as_text(writer.database(), sql); }
};

// The event in json decoded as the core decodes a message (the test fails
// when it would be dead-lettered), with the mutations its handler returned.
WriteItem write_item(const std::string& json, std::vector<sdk::Mutation> mutations = {});

}  // namespace customeriq::test
