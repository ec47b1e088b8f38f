// generic: any event type no other handler takes -> one timeline row built
// from the usual field names.
#include <string>
#include <vector>

#include <customeriq/sdk/sdk.hpp>

namespace sdk = customeriq::sdk;

namespace {

class GenericHandler final : public sdk::EventHandler {
 public:
  explicit GenericHandler(const sdk::Json& config)
      : keep_data_as_metadata_(sdk::config_value<bool>(config, "keep_data_as_metadata")) {}

  std::vector<sdk::Mutation> handle(const sdk::Event& event,
                                    const sdk::HandlerContext& context) const override {
    const sdk::Json& data = event.data;
    sdk::AppendTimelineEvent timeline;
    timeline.event_type = event.event_type;
    // An empty title or description is kept as sent, not replaced by the next field.
    const auto title = sdk::first_string(data, {"title", "subject", "summary"}, sdk::EmptyString::counts);
    timeline.title = title ? title->value : event.event_type;
    if (auto text = sdk::first_string(data, {"description", "message"}, sdk::EmptyString::counts))
      timeline.description = context.summarize(text->value);
    timeline.amount = sdk::optional_amount(data, "amount");
    if (!timeline.amount) timeline.amount = sdk::optional_amount(data, "total");
    timeline.status = sdk::optional_string(data, "status");
    if (keep_data_as_metadata_) timeline.metadata = data;

    std::vector<sdk::Mutation> mutations;
    mutations.emplace_back(std::move(timeline));
    return mutations;
  }

 private:
  bool keep_data_as_metadata_;
};

constexpr sdk::ConfigKey kConfigKeys[] = {
    {"keep_data_as_metadata", sdk::ConfigType::boolean, "true",
     "copy the event's data object into the timeline row's metadata"}};
// No default types: the pipeline assigns it, usually as the "*" fallback.
const auto kDescriptor = sdk::handler_descriptor<GenericHandler>(
    "generic", "1.0.0", "Any event type: a timeline entry from title/description/amount/status",
    {}, kConfigKeys);

}  // namespace

CUSTOMERIQ_EXPORT_PLUGIN(sdk::describe<kDescriptor>)
