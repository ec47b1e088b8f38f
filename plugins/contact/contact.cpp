// contact: a customer contact (call, chat, email...) -> a timeline row.
#include <optional>
#include <string>
#include <vector>

#include <customeriq/sdk/sdk.hpp>

namespace sdk = customeriq::sdk;

namespace {

std::vector<sdk::Mutation> handle_contact(const sdk::Event& event, const sdk::HandlerContext& context) {
  const sdk::Json& data = event.data;
  sdk::AppendTimelineEvent timeline;
  timeline.event_type = "contact";
  timeline.metadata = data;

  // The field used (even an empty one) leaves the metadata: it is not said twice.
  if (auto title = sdk::first_string(data, {"subject", "title"}, sdk::EmptyString::counts)) {
    timeline.title = std::move(title->value);
    timeline.metadata.erase(title->key);
  } else {
    auto channel = sdk::optional_string(data, "channel");
    if (!channel) channel = sdk::optional_string(event.metadata, "channel", "metadata");
    timeline.title = channel ? "Contact via " + *channel : "Customer contact";
  }
  if (auto text = sdk::first_string(data, {"message", "description", "notes"}, sdk::EmptyString::counts)) {
    timeline.description = context.summarize(text->value);
    timeline.metadata.erase(text->key);
  }
  timeline.status = sdk::optional_string(data, "status");
  if (timeline.status) timeline.metadata.erase("status");

  std::vector<sdk::Mutation> mutations;
  mutations.emplace_back(std::move(timeline));
  return mutations;
}

constexpr const char* kEventTypes[] = {"contact"};
const auto kDescriptor = sdk::handler_descriptor<sdk::FunctionHandler<handle_contact>>(
    "contact", "1.0.0", "Customer contacts: a timeline entry with the rest of data as metadata",
    kEventTypes);

}  // namespace

CUSTOMERIQ_EXPORT_PLUGIN(sdk::describe<kDescriptor>)
