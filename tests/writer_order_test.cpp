// Several pipeline threads decode and handle events at once; the writer
// must still commit them in the order they were submitted, or a customer's
// later event could be applied before an earlier one.
#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "pipeline/pipeline.hpp"
#include "pipeline/writer_thread.hpp"
#include "support/test_support.hpp"

using namespace customeriq;
using customeriq::test::TempDir;

namespace {

RawMessage message_of(const nlohmann::json& event) {
  RawMessage message;
  message.bytes = event.dump();
  message.subject = "test";
  return message;
}

}  // namespace

TEST_CASE("with four pipeline threads, a profile_update is applied before the purchase that follows it",
          "[writer][order]") {
  TempDir dir;
  Pipeline pipeline(load_pipeline_config(customeriq::test::source_dir() / "pipelines/default.yaml"));
  StoreWriter store(dir / "db.sqlite", {});
  WriterThreadOptions options;
  options.pipeline_threads = 4;
  options.batch_max_events = 50;
  WriterThread writer(pipeline, store, options);

  // Each customer's profile_update gives it a new email, and the purchase
  // after it knows the customer only by that email. Applied the other way
  // round, the purchase would create a customer of its own. The update
  // carries a large custom field, so its thread finishes long after the
  // purchase's: only the hand-off in submission order keeps them in line.
  constexpr int kCustomers = 300;
  const std::string padding(20000, 'p');
  for (int i = 0; i < kCustomers; ++i) {
    const std::string id = "cust_" + std::to_string(i);
    const std::string email = "renamed" + std::to_string(i) + "@example.com";
    writer.submit(message_of({{"event_id", "update-" + std::to_string(i)},
                              {"customer_id", id},
                              {"event_type", "profile_update"},
                              {"timestamp", 1734134400},
                              {"data", {{"email", email}, {"custom_fields", {{"padding", padding}}}}}}));
    writer.submit(message_of({{"event_id", "purchase-" + std::to_string(i)},
                              {"event_type", "purchase"},
                              {"timestamp", 1734134401},
                              {"data", {{"email", email}, {"purchase_id", "ord_" + std::to_string(i)}, {"total", 10.0}}}}));
  }
  writer.stop();
  REQUIRE(writer.counters().applied == 2 * kCustomers);

  SQLite::Database db((dir / "db.sqlite").string());
  CHECK(db.execAndGet("SELECT count(*) FROM customers").getInt() == kCustomers);
  CHECK(db.execAndGet("SELECT count(*) FROM purchases p JOIN customers c ON c.id = p.customer_id "
                      "WHERE p.id = 'ord_' || substr(c.id, 6) AND c.email = 'renamed' || substr(c.id, 6) || "
                      "'@example.com' AND c.lifetime_value = 10.0")
            .getInt() == kCustomers);
  // The timeline is in submission order too: update, purchase, update, ...
  SQLite::Statement timeline(db, "SELECT customer_id, event_type FROM customer_events ORDER BY id");
  int row = 0;
  while (timeline.executeStep()) {
    INFO("timeline row " << row);
    CHECK(timeline.getColumn(0).getString() == "cust_" + std::to_string(row / 2));
    CHECK(timeline.getColumn(1).getString() == (row % 2 == 0 ? "profile_update" : "purchase"));
    ++row;
  }
  CHECK(row == 2 * kCustomers);
}
