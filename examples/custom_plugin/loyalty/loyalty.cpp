// Example plugin: a loyalty programme's events.
//
//   {"event_type": "loyalty_points", "customer_id": "cust_001",
//    "data": {"points": 120, "reason": "Birthday bonus", "tier": "gold"}}
//
// becomes a timeline entry, the customer's tier in custom_fields, and (when
// points are worth money, per the plugin's config) lifetime value.
#include "loyalty.hpp"

#include <cstdlib>
#include <string>
#include <vector>

#include <customeriq/sdk/sdk.hpp>

namespace sdk = customeriq::sdk;

namespace loyalty {
namespace {

class LoyaltyHandler final : public sdk::EventHandler {
 public:
  explicit LoyaltyHandler(const sdk::Json& config)
      : value_per_point_(sdk::config_value<double>(config, "value_per_point")) {}

  std::vector<sdk::Mutation> handle(const sdk::Event& event, const sdk::HandlerContext& context) const override {
    const auto points = sdk::optional_integer(event.data, "points");
    if (!points) throw sdk::InvalidEvent("data.points is required");
    const auto reason = sdk::optional_string(event.data, "reason");

    std::vector<sdk::Mutation> mutations;
    sdk::AppendTimelineEvent timeline;
    timeline.event_type = event.event_type;
    timeline.title = (*points >= 0 ? "Earned " : "Spent ") + std::to_string(std::llabs(*points)) + " points";
    if (reason) timeline.description = context.summarize(*reason);
    timeline.metadata = {{"points", *points}};
    mutations.push_back(std::move(timeline));

    if (auto tier = sdk::optional_string(event.data, "tier")) {
      sdk::UpdateCustomer customer;
      customer.custom_fields = sdk::Json{{"loyalty_tier", *tier}};
      mutations.push_back(std::move(customer));
    }
    if (value_per_point_ != 0 && *points > 0)
      mutations.push_back(sdk::AdjustLifetimeValue{static_cast<double>(*points) * value_per_point_});
    return mutations;
  }

 private:
  double value_per_point_;
};

}  // namespace

const sdk::PluginDescriptor* describe() {
  static constexpr sdk::ConfigKey keys[] = {
      {"value_per_point", sdk::ConfigType::number, "0",
       "money a point is worth; earned points add points * value to lifetime_value", /*min*/ 0}};
  static constexpr const char* types[] = {"loyalty_points"};
  static const auto descriptor = sdk::handler_descriptor<LoyaltyHandler>(
      "loyalty", "1.0.0", "Loyalty programme points and tiers", types, keys);
  return &descriptor;
}

}  // namespace loyalty

CUSTOMERIQ_EXPORT_PLUGIN(loyalty::describe)
