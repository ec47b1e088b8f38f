// support_ticket: a ticket -> a timeline row, and a knowledge row when the
// ticket is flagged (important / save_as_memory) or its priority says so.
#include <optional>
#include <string>
#include <vector>

#include <customeriq/sdk/sdk.hpp>

namespace sdk = customeriq::sdk;

namespace {

int importance_of(const std::optional<std::string>& priority) {
  if (!priority) return 5;
  const std::string level = sdk::ascii_lower(*priority);
  if (level == "low") return 3;
  if (level == "medium") return 5;
  if (level == "high") return 8;
  if (level == "urgent" || level == "critical") return 10;
  return 5;
}

class SupportTicketHandler final : public sdk::EventHandler {
 public:
  explicit SupportTicketHandler(const sdk::Json& config)
      : knowledge_priorities_(sdk::config_value<std::vector<std::string>>(config, "knowledge_priorities")) {}

  std::vector<sdk::Mutation> handle(const sdk::Event& event,
                                    const sdk::HandlerContext& context) const override {
    const sdk::Json& data = event.data;
    const auto ticket_id = sdk::optional_string(data, "ticket_id");
    const auto priority = sdk::optional_string(data, "priority");
    const auto category = sdk::optional_string(data, "category");
    const bool important = sdk::flag(data, "important");
    const bool save_as_memory = sdk::flag(data, "save_as_memory");

    std::optional<std::string> description;
    if (auto text = sdk::optional_string(data, "description")) description = context.summarize(*text);

    sdk::AppendTimelineEvent timeline;
    timeline.event_type = "support_ticket";
    timeline.title = sdk::optional_string(data, "title")
                         .value_or(ticket_id ? "Support ticket " + *ticket_id : "Support ticket");
    timeline.description = description;
    timeline.status = sdk::optional_string(data, "status");
    timeline.agent_notes = sdk::optional_string(data, "agent_notes");
    if (ticket_id) timeline.metadata["ticket_id"] = *ticket_id;
    if (priority) timeline.metadata["priority"] = *priority;
    if (category) timeline.metadata["category"] = *category;

    std::vector<sdk::Mutation> mutations;
    const bool save =
        important || save_as_memory || (priority && sdk::contains_ignoring_case(knowledge_priorities_, *priority));
    if (save) {
      sdk::AddKnowledge knowledge;
      knowledge.content = description ? *timeline.title + ": " + *description : *timeline.title;
      knowledge.category = category.value_or("support");
      knowledge.importance = importance_of(priority);
      knowledge.tags = sdk::Json::array({"support_ticket"});
      if (priority) knowledge.tags.push_back(*priority);
      knowledge.source = ticket_id ? "support_ticket:" + *ticket_id : "support_ticket";
      mutations.emplace_back(std::move(timeline));
      mutations.emplace_back(std::move(knowledge));
    } else {
      mutations.emplace_back(std::move(timeline));
    }
    return mutations;
  }

 private:
  std::vector<std::string> knowledge_priorities_;
};

constexpr sdk::ConfigKey kConfigKeys[] = {
    {"knowledge_priorities", sdk::ConfigType::string_list, "[]",
     "tickets with one of these priorities (any case) are saved as knowledge even when not "
     "flagged important or save_as_memory"}};
constexpr const char* kEventTypes[] = {"support_ticket"};
const auto kDescriptor = sdk::handler_descriptor<SupportTicketHandler>(
    "support_ticket", "1.0.0", "Support tickets: timeline entry, knowledge when important",
    kEventTypes, kConfigKeys);

}  // namespace

CUSTOMERIQ_EXPORT_PLUGIN(sdk::describe<kDescriptor>)
