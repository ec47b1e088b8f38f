// purchase: one purchase event -> the purchase row (which moves the
// customer's lifetime value) and a timeline row.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <customeriq/sdk/sdk.hpp>

namespace sdk = customeriq::sdk;

namespace {

class PurchaseHandler final : public sdk::EventHandler {
 public:
  explicit PurchaseHandler(const sdk::Json& config)
      : require_purchase_id_(sdk::config_value<bool>(config, "require_purchase_id")) {}

  static constexpr std::int64_t kMaxQuantity = 1'000'000'000;

  std::vector<sdk::Mutation> handle(const sdk::Event& event,
                                    const sdk::HandlerContext& /*context*/) const override {
    const sdk::Json& data = event.data;

    sdk::UpsertPurchase purchase;
    purchase.purchase_id = purchase_id(event);
    purchase.product_name = sdk::optional_string(data, "product_name");
    purchase.product_sku = sdk::optional_string(data, "product_sku");
    purchase.quantity = sdk::optional_integer(data, "quantity").value_or(1);
    if (purchase.quantity < 1 || purchase.quantity > kMaxQuantity)
      throw sdk::InvalidEvent("data.quantity must be from 1 to " + std::to_string(kMaxQuantity) +
                              ", got " + std::to_string(purchase.quantity));
    purchase.price = sdk::optional_amount(data, "price");
    auto total = sdk::optional_amount(data, "total");
    if (!total && purchase.price) {
      total = *purchase.price * static_cast<double>(purchase.quantity);
      if (!(std::fabs(*total) <= sdk::kMaxAmount))
        throw sdk::InvalidEvent("data.price x data.quantity is over 1000000000000; send data.total");
    }
    if (!total) throw sdk::InvalidEvent("data.total is required");
    purchase.total = *total;
    purchase.warranty_expires = sdk::optional_integer(data, "warranty_expires");
    purchase.metadata = event.metadata;

    sdk::AppendTimelineEvent timeline;
    timeline.event_type = "purchase";
    timeline.title = purchase.product_name ? "Purchase: " + *purchase.product_name
                                           : "Purchase " + purchase.purchase_id;
    timeline.description = describe_order(purchase);
    timeline.amount = purchase.total;
    timeline.status = sdk::optional_string(data, "status").value_or("completed");
    timeline.metadata = {{"purchase_id", purchase.purchase_id}};
    if (purchase.product_sku) timeline.metadata["product_sku"] = *purchase.product_sku;
    timeline.metadata["quantity"] = purchase.quantity;

    std::vector<sdk::Mutation> mutations;
    mutations.emplace_back(std::move(purchase));
    mutations.emplace_back(std::move(timeline));
    return mutations;
  }

 private:
  std::string purchase_id(const sdk::Event& event) const {
    if (require_purchase_id_) return sdk::required_string(event.data, "purchase_id");
    auto id = sdk::optional_string(event.data, "purchase_id");
    if (id && !id->empty()) return *id;
    // Without an order id, the event's own id still makes a resent event
    // upsert the same purchase instead of counting it twice.
    if (event.idempotency_key.empty()) throw sdk::InvalidEvent("data.purchase_id is required");
    return event.idempotency_key;
  }

  // "Order ord_1: 2 x Headphones (WHP-2000)"
  static std::string describe_order(const sdk::UpsertPurchase& purchase) {
    std::string text = "Order " + purchase.purchase_id + ": " + std::to_string(purchase.quantity);
    if (purchase.product_name) {
      text += " x " + *purchase.product_name;
      if (purchase.product_sku) text += " (" + *purchase.product_sku + ")";
    } else if (purchase.product_sku) {
      text += " x " + *purchase.product_sku;
    } else {
      text += purchase.quantity == 1 ? " item" : " items";
    }
    return text;
  }

  bool require_purchase_id_;
};

constexpr sdk::ConfigKey kConfigKeys[] = {
    {"require_purchase_id", sdk::ConfigType::boolean, "true",
     "false: a purchase without data.purchase_id takes the event's idempotency key as its id"}};
constexpr const char* kEventTypes[] = {"purchase"};
const auto kDescriptor = sdk::handler_descriptor<PurchaseHandler>(
    "purchase", "1.0.0", "Purchases: purchase rows, lifetime value and a timeline entry",
    kEventTypes, kConfigKeys);

}  // namespace

CUSTOMERIQ_EXPORT_PLUGIN(sdk::describe<kDescriptor>)
