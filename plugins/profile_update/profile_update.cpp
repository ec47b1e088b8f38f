// profile_update: changes to the customer's own fields -> UpdateCustomer and
// a timeline row listing what changed.
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <customeriq/sdk/sdk.hpp>

namespace sdk = customeriq::sdk;

namespace {

std::vector<sdk::Mutation> handle_profile_update(const sdk::Event& event, const sdk::HandlerContext& /*context*/) {
  const sdk::Json& data = event.data;
  sdk::UpdateCustomer update;
  update.name = sdk::optional_string(data, "name");
  if (!update.name) update.name = sdk::optional_string(data, "customer_name");
  update.email = sdk::optional_string(data, "email");
  // The core identifies customers by lower-cased email; store it the same way.
  if (update.email) update.email = sdk::ascii_lower(*update.email);
  update.phone = sdk::optional_string(data, "phone");
  update.company = sdk::optional_string(data, "company");
  update.status = sdk::optional_string(data, "status");
  update.tags = sdk::optional_string_list(data, "tags");
  update.custom_fields = sdk::optional_object(data, "custom_fields");

  sdk::Json fields = sdk::Json::array();
  std::string listed;
  auto note = [&](bool present, const char* field) {
    if (!present) return;
    fields.push_back(field);
    listed += listed.empty() ? field : std::string(", ") + field;
  };
  note(update.name.has_value(), "name");
  note(update.email.has_value(), "email");
  note(update.phone.has_value(), "phone");
  note(update.company.has_value(), "company");
  note(update.status.has_value(), "status");
  note(update.tags.has_value(), "tags");
  note(update.custom_fields.has_value(), "custom_fields");
  if (fields.empty()) throw sdk::InvalidEvent("profile_update changes no field");

  sdk::AppendTimelineEvent timeline;
  timeline.event_type = "profile_update";
  timeline.title = "Profile updated";
  timeline.description = "Updated: " + listed;
  timeline.metadata = {{"fields", std::move(fields)}};

  std::vector<sdk::Mutation> mutations;
  mutations.emplace_back(std::move(update));
  mutations.emplace_back(std::move(timeline));
  return mutations;
}

constexpr const char* kEventTypes[] = {"profile_update"};
const auto kDescriptor = sdk::handler_descriptor<sdk::FunctionHandler<handle_profile_update>>(
    "profile_update", "1.0.0",
    "Profile updates: name, email, phone, company, status, tags, custom_fields", kEventTypes);

}  // namespace

CUSTOMERIQ_EXPORT_PLUGIN(sdk::describe<kDescriptor>)
