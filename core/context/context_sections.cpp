#include "context/context_sections.hpp"

#include <algorithm>

#include "context/fact_text.hpp"

namespace customeriq {
namespace {

constexpr std::size_t kIdChars = 80;
constexpr std::size_t kLabelChars = 40;
// A timeline line carries the title in full and a shorter description: the
// newest events matter more than any one event's details.
constexpr std::size_t kTimelineDescriptionChars = 120;
constexpr const char* kSeparator = " · ";

const Json& field(const Json& row, const char* name) {
  static const Json kNull;
  const auto found = row.find(name);
  return found == row.end() ? kNull : *found;
}

std::string fact(const Json& row, const char* name, std::size_t max_chars = kFactChars) {
  return one_line(value_text(field(row, name)), max_chars);
}

std::optional<std::int64_t> integer(const Json& value) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (number > -9.2e18 && number < 9.2e18) return static_cast<std::int64_t>(number);
  }
  return std::nullopt;
}

std::optional<double> number(const Json& value) {
  if (value.is_number()) return value.get<double>();
  return std::nullopt;
}

std::string days(std::int64_t count) { return std::to_string(count) + (count == 1 ? " day" : " days"); }

// Joins the non-empty parts with " · ".
std::string joined(std::initializer_list<std::string> parts) {
  std::string line;
  for (const std::string& part : parts) {
    if (part.empty()) continue;
    if (!line.empty()) line += kSeparator;
    line += part;
  }
  return line;
}

std::string labelled(const char* label, const std::string& value) {
  return value.empty() ? std::string() : std::string(label) + " " + value;
}

std::string cited(const std::string& id) { return "[" + id + "]"; }

std::string warranty(const Json& expires, std::int64_t now) {
  const auto date = integer(expires);
  if (!date) {
    const std::string text = one_line(value_text(expires), kLabelChars);
    return text.empty() ? "no warranty on record" : "warranty " + text;
  }
  if (*date <= now) return "warranty expired " + utc_date(*date);
  // Days left, rounded up: a warranty ending tomorrow night expires in 2 days.
  const std::int64_t left = whole_days(now, *date) + ((*date - now) % 86400 != 0 ? 1 : 0);
  if (left <= 30) return "warranty expires in " + days(left) + " (" + utc_date(*date) + ")";
  return "warranty active until " + utc_date(*date);
}

std::string event_citation(const Json& event) {
  const auto id = integer(field(event, "id"));
  return "event " + (id ? std::to_string(*id) : std::string("?"));
}

}  // namespace

std::vector<std::string> identity_lines(const Json& customer, std::int64_t now, std::size_t max_chars,
                                        std::size_t& shortened) {
  struct Value {
    const char* label;
    std::string text;
    bool shortened = false;
  };
  std::string tags = fact(customer, "tags");
  std::vector<Value> values = {
      {"name", fact(customer, "name")},       {"id", fact(customer, "id")},
      {"email", fact(customer, "email")},     {"phone", fact(customer, "phone")},
      {"company", fact(customer, "company")}, {"status", fact(customer, "status", kLabelChars)},
      {"tags", tags.empty() ? "none" : tags},
  };
  const auto since = integer(field(customer, "customer_since"));
  const std::string since_text = since ? utc_date(*since) : "unknown";
  const std::string lifetime_value = money(number(field(customer, "lifetime_value")).value_or(0));
  const std::string as_of = "_[ids] cite source rows; as of " + utc_date(now) + " UTC._";

  auto render = [&] {
    auto text = [&](std::size_t i) { return values[i].text; };
    std::vector<std::string> lines;
    lines.push_back("# Customer " + text(1) + ": " + (text(0).empty() ? "(no name)" : text(0)));
    lines.push_back("- " + joined({labelled("email", text(2)), labelled("phone", text(3)),
                                   labelled("company", text(4)), labelled("status", text(5)),
                                   "customer since " + since_text, "lifetime value " + lifetime_value,
                                   "tags " + text(6)}));
    lines.push_back(as_of);
    return lines;
  };
  auto length = [](const std::vector<std::string>& lines) {
    std::size_t total = lines.size() - 1;
    for (const std::string& line : lines) total += code_points(line);
    return total;
  };
  std::vector<std::string> lines = render();
  while (length(lines) > max_chars) {
    // The longest value loses half of itself; the first of equals.
    std::size_t longest = 0;
    for (std::size_t i = 1; i < values.size(); ++i)
      if (code_points(values[i].text) > code_points(values[longest].text)) longest = i;
    const std::size_t points = code_points(values[longest].text);
    if (points <= 2) break;
    values[longest].text = one_line(values[longest].text, points / 2);
    values[longest].shortened = true;
    lines = render();
  }
  shortened = static_cast<std::size_t>(
      std::count_if(values.begin(), values.end(), [](const Value& value) { return value.shortened; }));
  return lines;
}

ContextSection open_work_orders_section(const RowSlice& orders, std::int64_t now) {
  ContextSection section{"work_orders", "", {}, orders.total};
  if (orders.total == 0) {
    section.heading = "## Open work orders: none";
    return section;
  }
  section.heading = "## Open work orders (" + std::to_string(orders.total) + ")";
  for (const Json& order : orders.items) {
    const std::string priority = fact(order, "priority", kLabelChars);
    const auto created = integer(field(order, "created_date"));
    const std::string assignee = fact(order, "assigned_to", kIdChars);
    const std::string type = fact(order, "order_type", kLabelChars);
    const std::string issue = fact(order, "issue_description");
    // "open" goes without saying here; in_progress, waiting_parts… do not.
    const std::string status = fact(order, "status", kLabelChars);
    section.lines.push_back(
        {"- " + cited(fact(order, "id", kIdChars)) + " " +
         joined({priority.empty() ? "no priority" : priority + " priority",
                 created ? days(whole_days(*created, now)) + " old" : "",
                 assignee.empty() ? "unassigned" : "assigned to " + assignee,
                 type.empty() || issue.empty() ? type + issue : type + ": " + issue,
                 labelled("device", fact(field(order, "metadata"), "product_id", kIdChars)),
                 status == "open" ? "" : labelled("status", status)})});
  }
  return section;
}

ContextSection purchases_section(const RowSlice& purchases, std::int64_t now) {
  ContextSection section{"purchases", "", {}, purchases.total};
  if (purchases.total == 0) {
    section.heading = "## Recent purchases: none";
    return section;
  }
  section.heading = "## Recent purchases (" + std::to_string(purchases.total) + ")";
  for (const Json& purchase : purchases.items) {
    const auto date = integer(field(purchase, "purchase_date"));
    std::string product = fact(purchase, "product_name");
    const std::string sku = fact(purchase, "product_sku", kIdChars);
    if (!sku.empty()) product += product.empty() ? sku : " (" + sku + ")";
    const auto quantity = number(field(purchase, "quantity"));
    const auto price = number(field(purchase, "price"));
    const auto total = number(field(purchase, "total"));
    std::string amount = total ? "total " + money(*total) : "";
    if (quantity && *quantity != 1 && price)
      amount = value_text(field(purchase, "quantity")) + " × " + money(*price) + ", " + amount;
    section.lines.push_back({"- " + cited(fact(purchase, "id", kIdChars)) + " " +
                             joined({date ? utc_date(*date) : "", product, amount,
                                     warranty(field(purchase, "warranty_expires"), now)})});
  }
  return section;
}

ContextSection knowledge_section(const RowSlice& knowledge) {
  ContextSection section{"knowledge", "", {}, knowledge.total};
  if (knowledge.total == 0) {
    section.heading = "## Knowledge: none";
    return section;
  }
  section.heading = "## Knowledge (" + std::to_string(knowledge.total) + ")";
  for (const Json& note : knowledge.items) {
    const auto id = integer(field(note, "id"));
    const std::string importance = fact(note, "importance", kLabelChars);
    section.lines.push_back(
        {"- " + cited("knowledge " + (id ? std::to_string(*id) : std::string("?"))) + " " +
         joined({importance.empty() ? "" : "importance " + importance + "/10", fact(note, "category", kLabelChars),
                 fact(note, "content"), labelled("source", fact(note, "source", kIdChars))})});
  }
  return section;
}

ContextSection timeline_section(const Json& events, std::size_t total_events) {
  ContextSection section{"timeline", "", {}, total_events};
  if (total_events == 0) {
    section.heading = "## Timeline: no events";
    return section;
  }
  section.heading = "## Timeline (" + std::to_string(total_events) + " events, newest first)";
  for (std::size_t first = 0; first < events.size();) {
    const Json& newest = events[first];
    std::size_t end = first + 1;
    while (end < events.size() && field(events[end], "event_type") == field(newest, "event_type") &&
           field(events[end], "title") == field(newest, "title"))
      ++end;
    const Json& oldest = events[end - 1];
    const std::size_t run = end - first;
    const auto date = integer(field(newest, "event_date"));
    const auto oldest_date = integer(field(oldest, "event_date"));
    std::string title = fact(newest, "title");
    const std::string description = fact(newest, "description", kTimelineDescriptionChars);
    if (!description.empty() && description != title) title += title.empty() ? description : " — " + description;
    const auto amount = number(field(newest, "amount"));
    std::string line = "- " + cited(event_citation(newest)) + " " +
                       joined({date ? utc_date(*date) : "", fact(newest, "event_type", kLabelChars), title,
                               amount ? money(*amount) : "", labelled("status", fact(newest, "status", kLabelChars))});
    if (run > 1)
      line += " ×" + std::to_string(run) + " (oldest " + cited(event_citation(oldest)) + " " +
              (oldest_date ? utc_date(*oldest_date) : "") + ")";
    ContextLine entry{std::move(line), run, std::nullopt};
    if (const auto id = integer(field(oldest, "id")); id && oldest_date) entry.oldest_event.emplace(*oldest_date, *id);
    section.lines.push_back(std::move(entry));
    first = end;
  }
  return section;
}

ContextSection activity_section(const std::vector<EventTypeCount>& counts, const std::optional<Json>& last_contact) {
  ContextSection section{"activity", "", {}, 0};
  if (counts.empty()) {
    section.heading = "## Activity: no events";
    return section;
  }
  section.heading = "## Activity";
  std::size_t total = 0;
  std::int64_t first = counts.front().first_date, last = counts.front().last_date;
  for (const EventTypeCount& count : counts) {
    total += count.count;
    first = std::min(first, count.first_date);
    last = std::max(last, count.last_date);
  }
  section.lines.push_back({"- " + std::to_string(total) + " events from " + utc_date(first) + " to " + utc_date(last)});
  if (last_contact) {
    const auto date = integer(field(*last_contact, "event_date"));
    section.lines.push_back({"- last contact: " + cited(event_citation(*last_contact)) + " " +
                             joined({date ? utc_date(*date) : "", fact(*last_contact, "event_type", kLabelChars),
                                     fact(*last_contact, "title")})});
  } else {
    section.lines.push_back({"- last contact: none (no contact or support_ticket event)"});
  }
  std::vector<const EventTypeCount*> by_count;
  for (const EventTypeCount& count : counts) by_count.push_back(&count);
  std::stable_sort(by_count.begin(), by_count.end(),
                   [](const EventTypeCount* a, const EventTypeCount* b) { return a->count > b->count; });
  for (const EventTypeCount* count : by_count)
    section.lines.push_back({"- " + one_line(count->event_type, kLabelChars) + ": " + std::to_string(count->count) +
                             ", last " + utc_date(count->last_date)});
  section.total = section.lines.size();
  return section;
}

}  // namespace customeriq
