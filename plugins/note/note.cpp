// note: notes and observations about a customer -> a knowledge row and a
// timeline row.
#include <optional>
#include <string>
#include <vector>

#include <customeriq/sdk/sdk.hpp>

namespace sdk = customeriq::sdk;

namespace {

[[noreturn]] void bad_importance(const sdk::Json& got) {
  throw sdk::InvalidEvent(
      "data.importance must be an integer 1..10 or low, medium, high, critical, got " +
      std::string(got.type_name()) + " " + got.dump());
}

// data.importance: 1..10, or a level name; nullopt when absent.
std::optional<int> importance_of(const sdk::Json& data) {
  auto it = data.find("importance");
  if (it == data.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) {
    const std::string level = sdk::ascii_lower(it->get<std::string>());
    if (level == "low") return 3;
    if (level == "medium") return 5;
    if (level == "high") return 8;
    if (level == "critical") return 10;
    bad_importance(*it);
  }
  if (!it->is_number()) bad_importance(*it);
  const double value = it->get<double>();
  if (value < 1 || value > 10 || value != static_cast<double>(static_cast<int>(value)))
    bad_importance(*it);
  return static_cast<int>(value);
}

class NoteHandler final : public sdk::EventHandler {
 public:
  explicit NoteHandler(const sdk::Json& config)
      : default_category_(sdk::config_value<std::string>(config, "default_category")),
        default_importance_(sdk::config_value<int>(config, "default_importance")) {}

  std::vector<sdk::Mutation> handle(const sdk::Event& event,
                                    const sdk::HandlerContext& context) const override {
    const sdk::Json& data = event.data;

    sdk::AddKnowledge knowledge;
    auto content = sdk::first_string(data, {"content", "note", "text"});
    if (!content) throw sdk::InvalidEvent("data.content is required");
    knowledge.content = std::move(content->value);
    knowledge.category = sdk::optional_string(data, "category").value_or(default_category_);
    knowledge.importance = importance_of(data).value_or(default_importance_);
    knowledge.tags = sdk::optional_string_list(data, "tags").value_or(sdk::Json::array());
    auto source = sdk::optional_string(data, "source");
    if (source && !source->empty())
      knowledge.source = std::move(*source);
    else
      knowledge.source = event.source_service.empty() ? event.event_type : event.source_service;

    sdk::AppendTimelineEvent timeline;
    timeline.event_type = event.event_type;
    timeline.title = sdk::optional_string(data, "title")
                         .value_or(event.event_type == "observation" ? "Observation" : "Note");
    timeline.description = context.summarize(knowledge.content);
    timeline.metadata = {{"category", knowledge.category}, {"importance", knowledge.importance}};

    std::vector<sdk::Mutation> mutations;
    mutations.emplace_back(std::move(knowledge));
    mutations.emplace_back(std::move(timeline));
    return mutations;
  }

 private:
  std::string default_category_;
  int default_importance_;
};

constexpr sdk::ConfigKey kConfigKeys[] = {
    {"default_category", sdk::ConfigType::string, "\"general\"",
     "knowledge category when the event has no data.category"},
    {"default_importance", sdk::ConfigType::integer, "5",
     "knowledge importance when the event has no data.importance", /*min*/ 1, /*max*/ 10}};
constexpr const char* kEventTypes[] = {"note", "observation"};
const auto kDescriptor = sdk::handler_descriptor<NoteHandler>(
    "note", "1.0.0", "Notes and observations: knowledge rows the customer profile remembers",
    kEventTypes, kConfigKeys);

}  // namespace

CUSTOMERIQ_EXPORT_PLUGIN(sdk::describe<kDescriptor>)
