// Mutation: the closed set of changes a handler may ask the store to make.
// Handlers return values of these types; only the core writes to SQLite.
// A new kind of change means a new alternative here and an ABI bump.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

namespace customeriq::sdk {

using Json = nlohmann::json;

// Sets the present fields of the event's customer (created first when
// missing). Absent fields keep their stored value.
struct UpdateCustomer {
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> company;
  std::optional<std::string> status;
  std::optional<Json> tags;           // a JSON array; replaces the stored tags
  std::optional<Json> custom_fields;  // a JSON object; merged key by key (null removes a key)
};

// Appends one row to the customer's timeline (customer_events). The core
// fills source_service and raw_event_data from the event.
struct AppendTimelineEvent {
  std::string event_type;
  std::optional<std::int64_t> event_date;  // unix seconds; the event's timestamp when absent
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<double> amount;
  std::optional<std::string> status;
  std::optional<std::string> agent_notes;
  Json metadata = Json::object();
};

// Inserts or replaces the purchase with this id. The customer's
// lifetime_value follows the purchase: it grows by total on insert and by the
// difference on a later upsert of the same id, so a resent order counts once.
// A purchase id that belongs to another customer dead-letters the event.
struct UpsertPurchase {
  std::string purchase_id;
  std::optional<std::string> product_name;
  std::optional<std::string> product_sku;
  std::int64_t quantity = 1;
  std::optional<double> price;
  double total = 0;
  std::optional<std::int64_t> purchase_date;  // unix seconds; the event's timestamp when absent
  std::optional<std::int64_t> warranty_expires;
  Json metadata = Json::object();
};

// Creates the work order with this id, or changes only the present fields of
// an existing one (a completion event sets status, resolution, cost and
// completed_date and leaves the rest as opened). A work order id that
// belongs to another customer dead-letters the event.
struct UpsertWorkOrder {
  std::string work_order_id;
  std::optional<std::string> order_type;  // on insert, the event's type when absent
  std::optional<std::string> issue_description;
  std::optional<std::string> resolution;
  std::optional<std::string> status;
  std::optional<std::string> priority;
  std::optional<std::string> assigned_to;
  std::optional<std::int64_t> created_date;  // set on insert only; the event's timestamp when absent
  std::optional<std::int64_t> completed_date;
  std::optional<double> cost;
  std::optional<Json> metadata;  // a JSON object; merged key by key
};

// Adds one knowledge row (a fact worth remembering about the customer).
struct AddKnowledge {
  std::string content;
  std::string category = "general";
  int importance = 5;            // 1 (trivia) .. 10 (critical)
  Json tags = Json::array();     // JSON array of strings
  std::string source;            // where it came from, e.g. "support_ticket:TKT-5678"
};

// Adds delta (may be negative, e.g. a refund) to customers.lifetime_value.
struct AdjustLifetimeValue {
  double delta = 0;
};

using Mutation = std::variant<UpdateCustomer, AppendTimelineEvent, UpsertPurchase,
                              UpsertWorkOrder, AddKnowledge, AdjustLifetimeValue>;

}  // namespace customeriq::sdk
