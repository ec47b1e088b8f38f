// repair: repair and work-order events -> the work order (opened, updated or
// completed) and a timeline row.
#include <optional>
#include <string>
#include <vector>

#include <customeriq/sdk/sdk.hpp>

namespace sdk = customeriq::sdk;

namespace {

class WorkOrderHandler final : public sdk::EventHandler {
 public:
  explicit WorkOrderHandler(const sdk::Json& config)
      : completed_statuses_(sdk::config_value<std::vector<std::string>>(config, "completed_statuses")) {}

  std::vector<sdk::Mutation> handle(const sdk::Event& event,
                                    const sdk::HandlerContext& context) const override {
    const sdk::Json& data = event.data;

    sdk::UpsertWorkOrder order;
    order.work_order_id = sdk::required_string(data, "work_order_id");
    // Absent on follow-up events: the store keeps the type the order was opened with.
    order.order_type = sdk::optional_string(data, "order_type");
    const auto issue = sdk::optional_string(data, "issue_description");
    if (issue) order.issue_description = context.summarize(*issue);
    order.status = sdk::optional_string(data, "status");
    order.priority = sdk::optional_string(data, "priority");
    order.assigned_to = sdk::optional_string(data, "assigned_to");
    order.created_date = sdk::optional_integer(data, "created_date");
    const auto product_id = sdk::optional_string(data, "product_id");
    const auto resolution = sdk::optional_string(data, "resolution");
    const auto cost = sdk::optional_amount(data, "cost");
    const auto completed_date = sdk::optional_integer(data, "completed_date");

    sdk::Json metadata = event.metadata;
    if (product_id) metadata["product_id"] = *product_id;
    if (!metadata.empty()) order.metadata = std::move(metadata);

    const bool completed = order.status && sdk::contains_ignoring_case(completed_statuses_, *order.status);
    if (completed) {
      order.completed_date = completed_date.value_or(event.timestamp);
      order.resolution = resolution;
      order.cost = cost;
    }

    sdk::AppendTimelineEvent timeline;
    timeline.event_type = event.event_type;
    timeline.title = "Work order " + order.work_order_id;
    if (order.status) *timeline.title += " " + *order.status;
    // A completion event's news is how it was resolved, not the original issue.
    if (completed && resolution)
      timeline.description = context.summarize(*resolution);
    else
      timeline.description = order.issue_description;
    timeline.amount = cost;
    timeline.status = order.status;
    timeline.metadata["work_order_id"] = order.work_order_id;
    if (order.order_type) timeline.metadata["order_type"] = *order.order_type;
    if (order.priority) timeline.metadata["priority"] = *order.priority;
    if (order.assigned_to) timeline.metadata["assigned_to"] = *order.assigned_to;
    if (product_id) timeline.metadata["product_id"] = *product_id;

    std::vector<sdk::Mutation> mutations;
    mutations.emplace_back(std::move(order));
    mutations.emplace_back(std::move(timeline));
    return mutations;
  }

 private:
  std::vector<std::string> completed_statuses_;
};

constexpr sdk::ConfigKey kConfigKeys[] = {
    {"completed_statuses", sdk::ConfigType::string_list,
     R"(["completed","closed","resolved","done"])",
     "statuses (any case) that complete a work order: completed_date, resolution and cost are "
     "set"}};
constexpr const char* kEventTypes[] = {"repair", "work_order"};
const auto kDescriptor = sdk::handler_descriptor<WorkOrderHandler>(
    "repair", "1.0.0", "Repairs and work orders: open, update and complete work orders", kEventTypes,
    kConfigKeys);

}  // namespace

CUSTOMERIQ_EXPORT_PLUGIN(sdk::describe<kDescriptor>)
