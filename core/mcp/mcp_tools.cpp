#include "mcp/mcp_tools.hpp"

#include <cmath>
#include <ctime>
#include <initializer_list>
#include <optional>

#include "context/context_document.hpp"
#include "context/fact_text.hpp"
#include "hash.hpp"
#include "store/page_cursor.hpp"
#include "store/store_reader.hpp"
#include "text.hpp"

namespace customeriq::mcp {
namespace {

// The longest the context document may be asked to be here: twice this
// (text and structured content) stays far below an assistant's limit.
constexpr std::int64_t kMaxContextChars = 16000;
// How deep search pages reach; beyond it, a narrower query is the way on.
constexpr std::size_t kMaxSearchDepth = 500;

// ---- arguments ----------------------------------------------------------

std::string shown(const Json& value) { return std::string(value.type_name()) + " " + excerpt(value.dump(), 40); }

// A tool's arguments, checked as they are read: unknown names, wrong
// types and values out of range are refused with a message naming them.
class Arguments {
 public:
  Arguments(const Json& arguments, std::initializer_list<const char*> known) : arguments_(arguments) {
    if (arguments_.is_null()) arguments_ = Json::object();
    if (!arguments_.is_object()) throw ToolArgumentError("arguments must be an object, got " + shown(arguments_));
    for (const auto& [name, value] : arguments_.items()) {
      bool is_known = false;
      std::string list;
      for (const char* candidate : known) {
        is_known |= name == candidate;
        list += (list.empty() ? "" : ", ") + std::string(candidate);
      }
      if (!is_known) throw ToolArgumentError("unknown argument '" + excerpt(name, 40) + "' (this tool takes: " + list + ")");
    }
  }

  std::optional<std::string> text(const char* name, std::size_t max_chars) const {
    const auto found = arguments_.find(name);
    if (found == arguments_.end() || found->is_null()) return std::nullopt;
    if (!found->is_string()) throw ToolArgumentError(std::string(name) + " must be a string, got " + shown(*found));
    std::string value = found->get<std::string>();
    if (value.find_first_not_of(" \t\r\n") == std::string::npos) throw ToolArgumentError(std::string(name) + " must not be blank");
    if (code_points(value) > max_chars)
      throw ToolArgumentError(std::string(name) + " must be at most " + std::to_string(max_chars) + " characters, got " +
                              std::to_string(code_points(value)));
    return value;
  }

  std::string required_text(const char* name, std::size_t max_chars) const {
    auto value = text(name, max_chars);
    if (!value) throw ToolArgumentError(std::string(name) + " is required");
    return *value;
  }

  std::int64_t integer(const char* name, std::int64_t min, std::int64_t max, std::int64_t fallback) const {
    const auto found = arguments_.find(name);
    if (found == arguments_.end() || found->is_null()) return fallback;
    // 20.0 is an integer to JSON Schema, and some clients send it so.
    std::optional<std::int64_t> whole;
    if (found->is_number_unsigned()) {
      if (found->get<std::uint64_t>() <= static_cast<std::uint64_t>(max)) whole = found->get<std::int64_t>();
    } else if (found->is_number_integer()) {
      whole = found->get<std::int64_t>();
    } else if (found->is_number_float()) {
      const double number = found->get<double>();
      if (std::trunc(number) == number && std::fabs(number) < 9e15) whole = static_cast<std::int64_t>(number);
    }
    if (!whole || *whole < min || *whole > max)
      throw ToolArgumentError(std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                              std::to_string(max) + ", got " + shown(*found));
    return *whole;
  }

  std::vector<std::string> text_list(const char* name, std::size_t max_items, std::size_t max_chars) const {
    std::vector<std::string> items;
    const auto found = arguments_.find(name);
    if (found == arguments_.end() || found->is_null()) return items;
    if (!found->is_array() || found->empty() || found->size() > max_items)
      throw ToolArgumentError(std::string(name) + " must be an array of 1 to " + std::to_string(max_items) +
                              " strings, got " + shown(*found));
    for (const Json& item : *found) {
      if (!item.is_string() || item.get<std::string>().empty() || code_points(item.get<std::string>()) > max_chars)
        throw ToolArgumentError(std::string(name) + " must hold strings of 1 to " + std::to_string(max_chars) +
                                " characters, got " + shown(item));
      items.push_back(item.get<std::string>());
    }
    return items;
  }

 private:
  Json arguments_;
};

// ---- answers ------------------------------------------------------------

ToolResult unknown_customer(const std::string& id) {
  return ToolResult{"No customer has the id '" + one_line(id, 100) +
                        "'. find_customer {\"query\": \"...\"} looks customers up by name, email, phone or a word.",
                    Json(), true};
}

// How the model reads on: the same call with the cursor.
Json next_call(const char* tool, Json arguments, const std::optional<std::string>& cursor) {
  if (!cursor) return nullptr;
  arguments["cursor"] = *cursor;
  return Json{{"name", tool}, {"arguments", std::move(arguments)}};
}

std::string next_call_line(const Json& call, const char* what) {
  if (call.is_null()) return "";
  return "\nMore " + std::string(what) + ": call " + call["name"].get<std::string>() + " " +
         call["arguments"].dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

// A text field of a row, cut for an answer (null stays null).
Json cut(const Json& value, std::size_t max_chars) {
  if (value.is_null()) return nullptr;
  return one_line(value_text(value), max_chars);
}

std::string text_or(const Json& value, const char* fallback, std::size_t max_chars = 200) {
  const std::string text = value.is_null() ? std::string() : one_line(value_text(value), max_chars);
  return text.empty() ? fallback : text;
}

std::size_t json_chars(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace).size(); }

// What an answer has used of kMaxAnswerChars, in its text and its
// structured content; the first item always fits. The margin holds the
// answer's other lines and fields.
class AnswerBudget {
 public:
  bool take(const std::string& line, const Json& item) {
    const std::size_t item_chars = json_chars(item);
    if (items_ > 0 && (text_ + line.size() > kLimit || structured_ + item_chars > kLimit)) return false;
    text_ += line.size();
    structured_ += item_chars + 1;
    ++items_;
    return true;
  }

 private:
  static constexpr std::size_t kLimit = kMaxAnswerChars - 1500;
  std::size_t text_ = 0, structured_ = 0, items_ = 0;
};

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

const Json kNullableString = Json{{"type", Json::array({"string", "null"})}};
const Json kNullableNumber = Json{{"type", Json::array({"number", "null"})}};
const Json kNullableInteger = Json{{"type", Json::array({"integer", "null"})}};

Json next_call_schema() {
  return Json{{"type", Json::array({"object", "null"})},
              {"description", "the call that returns what follows, or null when nothing does"},
              {"properties", {{"name", {{"type", "string"}}}, {"arguments", {{"type", "object"}}}}}};
}

// A paged answer: its fields, then where the next page starts and the call
// that reads it (both null on the last page).
Json paged(Json fields, const std::optional<std::string>& cursor, Json call) {
  fields["next_cursor"] = cursor ? Json(*cursor) : Json(nullptr);
  fields["next_call"] = std::move(call);
  return fields;
}

// The output schema of a paged answer: its own properties and the two above.
Json paged_schema(Json properties, Json required) {
  properties["next_cursor"] = kNullableString;
  properties["next_call"] = next_call_schema();
  required.push_back("next_cursor");
  required.push_back("next_call");
  return Json{{"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}};
}

// The store page's own cursor, when it has one.
std::optional<std::string> cursor_of(const Json& page) {
  if (!page["next_cursor"].is_string()) return std::nullopt;
  return page["next_cursor"].get<std::string>();
}

Json string_schema(const char* description, std::size_t max_chars) {
  return Json{{"type", "string"}, {"minLength", 1}, {"maxLength", max_chars}, {"description", description}};
}

Json integer_schema(const char* description, std::int64_t min, std::int64_t max, std::int64_t fallback) {
  return Json{{"type", "integer"}, {"minimum", min}, {"maximum", max}, {"default", fallback}, {"description", description}};
}

Json object_schema(Json properties, Json required) {
  return Json{{"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}};
}

Json input_schema(Json properties, Json required) {
  Json schema = object_schema(std::move(properties), std::move(required));
  schema["additionalProperties"] = false;
  return schema;
}

const Json kCustomerIdArgument = string_schema("the customer's id, as find_customer gives it", 200);
const Json kCursorArgument = string_schema("next_cursor of the previous answer, to read on", 1000);

// ---- find_customer ------------------------------------------------------

constexpr std::size_t kMaxCandidates = 10;

ToolResult find_customer(StoreReader& reader, const Json& raw) {
  const Arguments arguments(raw, {"query"});
  const std::string query = arguments.required_text("query", 200);
  Json found = reader.find_customers(query, kMaxCandidates + 1);
  const bool more = found.size() > kMaxCandidates;
  if (more) found.erase(found.size() - 1);
  Json candidates = Json::array();
  std::string text;
  for (const Json& row : found) {
    candidates.push_back({{"customer_id", row["id"]},
                          {"name", cut(row["name"], 200)},
                          {"email", cut(row["email"], 200)},
                          {"phone", cut(row["phone"], 60)},
                          {"company", cut(row["company"], 200)},
                          {"status", cut(row["status"], 60)},
                          {"lifetime_value", row["lifetime_value"]},
                          {"customer_since", row["customer_since"]},
                          {"matched", row["matched"]}});
    text += "- " + text_or(row["name"], "(no name)") + " — id " + one_line(row["id"].get<std::string>(), 200);
    if (!row["email"].is_null()) text += ", " + text_or(row["email"], "");
    if (!row["company"].is_null()) text += ", " + text_or(row["company"], "");
    text += " (matched by " + row["matched"].get<std::string>() + ")\n";
  }
  if (candidates.empty()) {
    text = "No customer matches '" + one_line(query, 200) +
           "'. search_customer_data {\"query\": \"...\"} searches the text of events and notes too.\n";
  } else {
    const std::string first = candidates[0]["customer_id"].get<std::string>();
    text = std::to_string(candidates.size()) + (candidates.size() == 1 ? " customer matches" : " customers match") +
           " '" + one_line(query, 200) + "', best first:\n" + text;
    if (more) text += "(More customers match: a more specific query narrows them.)\n";
    text += "\nWhat is going on with one: get_customer_context " + Json{{"customer_id", first}}.dump() + "\n";
  }
  return ToolResult{text, Json{{"candidates", std::move(candidates)}, {"more", more}}};
}

Tool find_customer_tool() {
  return Tool{
      "find_customer", "Find a customer",
      "Finds the customers a name, email, phone number, customer id or word may mean (at most 10, best first: "
      "exact id, then email, phone, name, then customers whose events or notes hold the words). Use it first to "
      "get the customer_id the other tools take.",
      input_schema({{"query", string_schema("an id, email, phone number, name or word", 200)}}, {"query"}),
      object_schema(
          {{"candidates",
            {{"type", "array"},
             {"maxItems", kMaxCandidates},
             {"items", object_schema({{"customer_id", {{"type", "string"}}},
                                      {"name", kNullableString},
                                      {"email", kNullableString},
                                      {"phone", kNullableString},
                                      {"company", kNullableString},
                                      {"status", kNullableString},
                                      {"lifetime_value", kNullableNumber},
                                      {"customer_since", kNullableInteger},
                                      {"matched", {{"type", "string"},
                                                   {"enum", {"id", "email", "phone", "name", "activity"}}}}},
                                     {"customer_id", "matched"})}}},
           {"more", {{"type", "boolean"}, {"description", "more customers match than were given"}}}},
          {"candidates", "more"}),
      find_customer};
}

// ---- get_customer_context -----------------------------------------------

ToolResult get_customer_context(StoreReader& reader, const Json& raw) {
  const Arguments arguments(raw, {"customer_id", "max_chars"});
  const std::string id = arguments.required_text("customer_id", 200);
  ContextOptions options;
  options.max_chars = static_cast<std::size_t>(arguments.integer(
      "max_chars", kMinContextChars, kMaxContextChars, static_cast<std::int64_t>(kDefaultContextChars)));
  const auto document = build_context_document(reader, id, options);
  if (!document) return unknown_customer(id);
  return ToolResult{document->text, document->to_json()};
}

Tool get_customer_context_tool() {
  return Tool{
      "get_customer_context", "What is going on with a customer",
      "Everything that matters about one customer in at most max_chars characters of markdown, most important "
      "first: who they are (status, customer since, lifetime value, tags), open work orders, recent purchases with "
      "warranty state, knowledge notes, the recent timeline and activity counts. Every fact cites its source id "
      "(ord_..., WO-..., event ids). The last line says what did not fit and which tool reads it.",
      input_schema({{"customer_id", kCustomerIdArgument},
                    {"max_chars", integer_schema("the budget in characters", static_cast<std::int64_t>(kMinContextChars),
                                                 kMaxContextChars, static_cast<std::int64_t>(kDefaultContextChars))}},
                   {"customer_id"}),
      object_schema({{"customer_id", {{"type", "string"}}},
                     {"text", {{"type", "string"}, {"description", "the markdown document"}}},
                     {"truncated", {{"type", "boolean"}}},
                     {"omitted",
                      {{"type", "object"},
                       {"description", "items left out, by section"},
                       {"additionalProperties", {{"type", "integer"}}}}}},
                    {"customer_id", "text", "truncated", "omitted"}),
      get_customer_context};
}

// ---- get_customer_timeline ----------------------------------------------

constexpr std::int64_t kDefaultTimelineEvents = 20;
constexpr std::int64_t kMaxTimelineEvents = 100;

Json timeline_event(const Json& row) {
  return Json{{"id", row["id"]},
              {"event_type", row["event_type"]},
              {"event_date", row["event_date"]},
              {"title", cut(row["title"], 200)},
              {"description", cut(row["description"], 1000)},
              {"amount", row["amount"]},
              {"status", cut(row["status"], 60)},
              {"source_service", cut(row["source_service"], 100)},
              {"original_id", cut(row["original_id"], 200)},
              {"agent_notes", cut(row["agent_notes"], 500)}};
}

std::string timeline_line(const Json& event) {
  std::string line = "- " + utc_date(event["event_date"].get<std::int64_t>()) + " " +
                     one_line(event["event_type"].get<std::string>(), 60) + ": " + text_or(event["title"], "(no title)");
  if (!event["amount"].is_null() && event["amount"].is_number()) line += " — " + money(event["amount"].get<double>());
  if (!event["status"].is_null()) line += " [" + event["status"].get<std::string>() + "]";
  if (!event["description"].is_null()) line += " — " + one_line(event["description"].get<std::string>(), 300);
  line += " (event " + std::to_string(event["id"].get<std::int64_t>());
  if (!event["original_id"].is_null()) line += ", " + event["original_id"].get<std::string>();
  return line + ")\n";
}

ToolResult get_customer_timeline(StoreReader& reader, const Json& raw) {
  const Arguments arguments(raw, {"customer_id", "limit", "cursor", "types"});
  const std::string id = arguments.required_text("customer_id", 200);
  TimelineQuery query;
  query.limit = static_cast<std::size_t>(arguments.integer("limit", 1, kMaxTimelineEvents, kDefaultTimelineEvents));
  query.cursor = arguments.text("cursor", 1000).value_or("");
  query.types = arguments.text_list("types", 20, 64);
  std::optional<Json> page;
  try {
    page = reader.timeline(id, query);
  } catch (const std::invalid_argument& error) {
    throw ToolArgumentError(error.what());
  }
  if (!page) return unknown_customer(id);

  Json events = Json::array();
  std::string lines;
  AnswerBudget budget;
  std::optional<std::string> cursor;
  for (const Json& row : (*page)["items"]) {
    Json event = timeline_event(row);
    std::string line = timeline_line(event);
    if (!budget.take(line, event)) {
      const Json& last = events.back();
      cursor = timeline_cursor_after(last["event_date"].get<std::int64_t>(), last["id"].get<std::int64_t>());
      break;
    }
    lines += line;
    events.push_back(std::move(event));
  }
  if (!cursor) cursor = cursor_of(*page);

  Json follow_arguments = {{"customer_id", id}, {"limit", query.limit}};
  if (!query.types.empty()) follow_arguments["types"] = query.types;
  Json call = next_call("get_customer_timeline", std::move(follow_arguments), cursor);
  std::string text = events.empty() ? "No events" + std::string(query.cursor.empty() ? "" : " after this cursor") +
                                          (query.types.empty() ? "" : " of these types") + ".\n"
                                    : std::to_string(events.size()) + (events.size() == 1 ? " event of " : " events of ") + one_line(id, 200) +
                                          ", newest first:\n" + lines;
  text += next_call_line(call, "events");
  return ToolResult{text, paged({{"customer_id", id}, {"events", std::move(events)}}, cursor, std::move(call))};
}

Tool get_customer_timeline_tool() {
  return Tool{
      "get_customer_timeline", "A customer's timeline",
      "A customer's events, newest first: purchases, tickets, repairs, notes and the rest, each with its event id, "
      "date (unix seconds), type, title and description (long ones cut). Page with next_cursor; filter with types "
      "(e.g. [\"purchase\", \"support_ticket\"]).",
      input_schema({{"customer_id", kCustomerIdArgument},
                    {"limit", integer_schema("events per page", 1, kMaxTimelineEvents, kDefaultTimelineEvents)},
                    {"cursor", kCursorArgument},
                    {"types",
                     {{"type", "array"},
                      {"minItems", 1},
                      {"maxItems", 20},
                      {"items", {{"type", "string"}, {"minLength", 1}, {"maxLength", 64}}},
                      {"description", "only events of these types"}}}},
                   {"customer_id"}),
      paged_schema(
          {{"customer_id", {{"type", "string"}}},
           {"events",
            {{"type", "array"},
             {"items", object_schema({{"id", {{"type", "integer"}}},
                                      {"event_type", {{"type", "string"}}},
                                      {"event_date", {{"type", "integer"}}},
                                      {"title", kNullableString},
                                      {"description", kNullableString},
                                      {"amount", kNullableNumber},
                                      {"status", kNullableString},
                                      {"source_service", kNullableString},
                                      {"original_id", kNullableString},
                                      {"agent_notes", kNullableString}},
                                     {"id", "event_type", "event_date"})}}}},
          {"customer_id", "events"}),
      get_customer_timeline};
}

// ---- search_customer_data -----------------------------------------------

constexpr std::int64_t kDefaultSearchHits = 10;
constexpr std::int64_t kMaxSearchHits = 50;

// Search pages are offsets into one ranking; the cursor also names the
// query it belongs to, so it cannot page another one.
std::string search_scope(const std::string& query, const std::optional<std::string>& customer_id) {
  return fnv1a_128_hex(query + '\x1f' + customer_id.value_or(""));
}

ToolResult search_customer_data(StoreReader& reader, const Json& raw) {
  const Arguments arguments(raw, {"query", "customer_id", "limit", "cursor"});
  const std::string query = arguments.required_text("query", 500);
  const auto customer_id = arguments.text("customer_id", 200);
  const auto limit = static_cast<std::size_t>(arguments.integer("limit", 1, kMaxSearchHits, kDefaultSearchHits));
  const auto given_cursor = arguments.text("cursor", 1000);
  std::size_t offset = 0;
  if (given_cursor) {
    Json position;
    try {
      position = decode_cursor("search", *given_cursor);
    } catch (const std::invalid_argument& error) {
      throw ToolArgumentError(error.what());
    }
    if (position.size() != 2 || !position[0].is_number_unsigned() || position[1] != search_scope(query, customer_id))
      throw ToolArgumentError("this cursor belongs to another search: give the same query and customer_id");
    offset = position[0].get<std::size_t>();
  }
  if (customer_id && !reader.customer(*customer_id)) return unknown_customer(*customer_id);
  SearchOptions options;
  options.customer_id = customer_id;
  options.limit = std::min(offset + limit + 1, kMaxSearchDepth);
  const Json ranked = reader.search(query, options);

  Json hits = Json::array();
  std::string lines;
  AnswerBudget budget;
  std::size_t index = offset;
  for (; index < ranked.size() && hits.size() < limit; ++index) {
    const Json& row = ranked[index];
    Json hit = {{"kind", row["kind"]},
                {"id", row["id"]},
                {"customer_id", row["customer_id"]},
                {"title", cut(row["title"], 200)},
                {"snippet", cut(row["snippet"], 400)},
                {"rank", row["rank"]}};
    std::string line = "- " + row["kind"].get<std::string>() + " " + value_text(row["id"]) + " of customer " +
                       one_line(value_text(row["customer_id"]), 200) + ": " + text_or(hit["title"], "(no title)") +
                       " — " + text_or(hit["snippet"], "", 400) + "\n";
    if (!budget.take(line, hit)) break;
    lines += line;
    hits.push_back(std::move(hit));
  }
  std::optional<std::string> cursor;
  if (index < ranked.size() && index < kMaxSearchDepth)
    cursor = encode_cursor("search", Json::array({index, search_scope(query, customer_id)}));
  Json follow_arguments = {{"query", query}, {"limit", limit}};
  if (customer_id) follow_arguments["customer_id"] = *customer_id;
  Json call = next_call("search_customer_data", std::move(follow_arguments), cursor);

  std::string text = hits.empty() ? "Nothing matches '" + one_line(query, 200) + "'" +
                                        (offset ? " beyond the hits already given" : "") + ".\n"
                                  : std::to_string(hits.size()) + (hits.size() == 1 ? " hit for '" : " hits for '") + one_line(query, 200) +
                                        "', best first ([brackets] mark the matched words):\n" + lines;
  text += next_call_line(call, "hits");
  if (!cursor && index >= kMaxSearchDepth && index < ranked.size())
    text += "\n(Only the first " + std::to_string(kMaxSearchDepth) + " hits are paged: narrow the query.)\n";
  return ToolResult{text, paged({{"hits", std::move(hits)}}, cursor, std::move(call))};
}

Tool search_customer_data_tool() {
  return Tool{
      "search_customer_data", "Search customer data",
      "Full-text search over event titles and descriptions, knowledge notes and customer names, emails and "
      "companies, best match first; all words must match, a trailing * matches a prefix (headphone*). Give "
      "customer_id to search one customer's data.",
      input_schema({{"query", string_schema("the words to find", 500)},
                    {"customer_id", kCustomerIdArgument},
                    {"limit", integer_schema("hits per page", 1, kMaxSearchHits, kDefaultSearchHits)},
                    {"cursor", kCursorArgument}},
                   {"query"}),
      paged_schema(
          {{"hits",
            {{"type", "array"},
             {"items", object_schema({{"kind", {{"type", "string"}, {"enum", {"event", "knowledge", "customer"}}}},
                                      {"id", {{"type", Json::array({"integer", "string"})}}},
                                      {"customer_id", {{"type", "string"}}},
                                      {"title", kNullableString},
                                      {"snippet", kNullableString},
                                      {"rank", {{"type", "number"}}}},
                                     {"kind", "id", "customer_id"})}}}},
          {"hits"}),
      search_customer_data};
}

// ---- list_open_work_orders ----------------------------------------------

constexpr std::int64_t kDefaultWorkOrders = 20;
constexpr std::int64_t kMaxWorkOrders = 50;

ToolResult list_open_work_orders(StoreReader& reader, const Json& raw) {
  const Arguments arguments(raw, {"customer_id", "limit", "cursor"});
  const auto customer_id = arguments.text("customer_id", 200);
  const auto limit = static_cast<std::size_t>(arguments.integer("limit", 1, kMaxWorkOrders, kDefaultWorkOrders));
  const std::string given_cursor = arguments.text("cursor", 1000).value_or("");
  std::optional<Json> page;
  try {
    page = reader.open_work_orders_page(customer_id, limit, given_cursor);
  } catch (const std::invalid_argument& error) {
    throw ToolArgumentError(error.what());
  }
  if (!page) return unknown_customer(*customer_id);

  const std::int64_t now = now_seconds();
  Json orders = Json::array();
  std::string lines;
  AnswerBudget budget;
  std::optional<std::string> cursor;
  for (const Json& row : (*page)["items"]) {
    const bool dated = row["created_date"].is_number_integer();
    Json order = {{"id", row["id"]},
                  {"customer_id", row["customer_id"]},
                  {"order_type", cut(row["order_type"], 100)},
                  {"issue_description", cut(row["issue_description"], 500)},
                  {"status", cut(row["status"], 60)},
                  {"priority", cut(row["priority"], 60)},
                  {"assigned_to", cut(row["assigned_to"], 200)},
                  {"created_date", row["created_date"]},
                  {"age_days", dated ? Json(whole_days(row["created_date"].get<std::int64_t>(), now)) : Json(nullptr)},
                  {"cost", row["cost"]}};
    std::string line = "- " + one_line(row["id"].get<std::string>(), 200) + " (customer " +
                       one_line(row["customer_id"].get<std::string>(), 200) + "), " +
                       text_or(order["priority"], "no") + " priority, " + text_or(order["status"], "no status") +
                       (dated ? ", opened " + utc_date(row["created_date"].get<std::int64_t>()) + " (" +
                                    std::to_string(order["age_days"].get<std::int64_t>()) + " days ago)"
                              : std::string()) +
                       ", " + (order["assigned_to"].is_null() ? std::string("unassigned")
                                                              : "assigned to " + order["assigned_to"].get<std::string>()) +
                       ": " + text_or(order["issue_description"], "(no description)", 300) + "\n";
    if (!budget.take(line, order)) {
      // The store's keyset is where the last order shown stands: the
      // page of just those orders ends there.
      const Json shown_page = reader.open_work_orders_page(customer_id, orders.size(), given_cursor).value();
      cursor = cursor_of(shown_page);
      break;
    }
    lines += line;
    orders.push_back(std::move(order));
  }
  if (!cursor) cursor = cursor_of(*page);
  Json follow_arguments = {{"limit", limit}};
  if (customer_id) follow_arguments["customer_id"] = *customer_id;
  Json call = next_call("list_open_work_orders", std::move(follow_arguments), cursor);
  const auto total = (*page)["total"].get<std::int64_t>();
  const std::string whose = customer_id ? " of " + one_line(*customer_id, 200) : std::string();
  std::string text = orders.empty()
                         ? "No open work orders" + whose + (given_cursor.empty() ? "" : " after this cursor") + ".\n"
                         : std::to_string(total) + (total == 1 ? " open work order" : " open work orders") + whose + ", the most pressing first" +
                               (static_cast<std::int64_t>(orders.size()) < total
                                    ? " (" + std::to_string(orders.size()) + " here)"
                                    : std::string()) +
                               ":\n" + lines;
  text += next_call_line(call, "work orders");
  return ToolResult{text, paged({{"work_orders", std::move(orders)}, {"total", total}}, cursor, std::move(call))};
}

Tool list_open_work_orders_tool() {
  return Tool{
      "list_open_work_orders", "Open work orders",
      "Work orders not yet completed, closed, resolved, done or cancelled, the most pressing first (critical or "
      "urgent, high, medium, low; then the oldest), each with its customer, priority, age in days and assignee. "
      "Give customer_id for one customer's; page with next_cursor.",
      input_schema({{"customer_id", kCustomerIdArgument},
                    {"limit", integer_schema("work orders per page", 1, kMaxWorkOrders, kDefaultWorkOrders)},
                    {"cursor", kCursorArgument}},
                   Json::array()),
      paged_schema(
          {{"work_orders",
            {{"type", "array"},
             {"items", object_schema({{"id", {{"type", "string"}}},
                                      {"customer_id", {{"type", "string"}}},
                                      {"order_type", kNullableString},
                                      {"issue_description", kNullableString},
                                      {"status", kNullableString},
                                      {"priority", kNullableString},
                                      {"assigned_to", kNullableString},
                                      {"created_date", kNullableInteger},
                                      {"age_days", kNullableInteger},
                                      {"cost", kNullableNumber}},
                                     {"id", "customer_id"})}}},
           {"total", {{"type", "integer"}, {"description", "open work orders in all, on every page"}}}},
          {"work_orders", "total"}),
      list_open_work_orders};
}

}  // namespace

Json ToolResult::to_json() const {
  Json result = {{"content", Json::array({Json{{"type", "text"}, {"text", text}}})}, {"isError", is_error}};
  if (!is_error) result["structuredContent"] = structured;
  return result;
}

Json Tool::definition() const {
  return Json{{"name", name},
              {"title", title},
              {"description", description},
              {"inputSchema", input_schema},
              {"outputSchema", output_schema},
              {"annotations",
               {{"title", title},
                {"readOnlyHint", true},
                {"destructiveHint", false},
                {"idempotentHint", true},
                {"openWorldHint", false}}}};
}

const std::vector<Tool>& tools() {
  static const std::vector<Tool> all = {find_customer_tool(), get_customer_context_tool(), get_customer_timeline_tool(),
                                        search_customer_data_tool(), list_open_work_orders_tool()};
  return all;
}

const Tool* find_tool(const std::string& name) {
  for (const Tool& tool : tools())
    if (name == tool.name) return &tool;
  return nullptr;
}

}  // namespace customeriq::mcp
