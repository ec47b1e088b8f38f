// For the store tests: a writer on a new database file, and events as the
// writer receives them from the pipeline.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/pipeline.hpp"
#include "store/store_writer.hpp"
#include "support/test_support.hpp"

namespace customeriq::test {

// SQL that takes a database at the latest schema back to version 5 (no
// work_orders_open index, no lifecycle tables), for tests of older
// versions' migrations.
inline constexpr const char* kDropLifecycleTablesSql = R"sql(
  DROP INDEX work_orders_open;
  DROP TABLE audit_log; DROP TABLE merges; DROP TABLE merge_rows; DROP TABLE customer_aliases;
  DROP TABLE erasures; DROP TABLE suppressions; DROP TABLE store_secrets;)sql";

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

// Events through the default pipeline's real plugins into one writer, in
// batches of a thousand; the test fails when one is not applied.
class PipelineLoader {
 public:
  explicit PipelineLoader(const std::filesystem::path& db);
  void add(const nlohmann::json& event);
  void flush();  // applies what add() has batched
  StoreWriter& store() { return store_; }

 private:
  Pipeline pipeline_;
  StoreWriter store_;
  std::vector<WriteItem> batch_;
};

}  // namespace customeriq::test
