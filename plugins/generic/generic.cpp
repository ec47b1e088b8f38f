// generic: any event type no other handler takes -> one timeline row built
// from the usual field names.
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <customeriq/sdk/sdk.hpp>

namespace sdk = customeriq::sdk;

namespace {

std::optional<std::string> first_string(const sdk::Json& data,
                                        std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys)
    if (auto value = sdk::optional_string(data, key)) return value;
  return std::nullopt;
}

class GenericHandler final : public sdk::EventHandler {
 public:
  explicit GenericHandler(const sdk::Json& config)
      : keep_data_as_metadata_(config.value("keep_data_as_metadata", true)) {}

  std::vector<sdk::Mutation> handle(const sdk::Event& event,
                                    const sdk::HandlerContext& context) const override {
    const sdk::Json& data = event.data;
    sdk::AppendTimelineEvent timeline;
    timeline.event_type = event.event_type;
    timeline.title = first_string(data, {"title", "subject", "summary"}).value_or(event.event_type);
    if (auto text = first_string(data, {"description", "message"}))
      timeline.description = context.summarize(*text);
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

const sdk::PluginDescriptor* describe() {
  static constexpr sdk::ConfigKey keys[] = {
      {"keep_data_as_metadata", sdk::ConfigType::boolean, "true",
       "copy the event's data object into the timeline row's metadata"}};
  // No default types: the pipeline assigns it, usually as the "*" fallback.
  static const auto descriptor = sdk::handler_descriptor<GenericHandler>(
      "generic", "1.0.0", "Any event type: a timeline entry from title/description/amount/status",
      {}, keys);
  return &descriptor;
}

}  // namespace

CUSTOMERIQ_EXPORT_PLUGIN(describe)
