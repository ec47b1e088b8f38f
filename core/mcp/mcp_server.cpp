#include "mcp/mcp_server.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "mcp/mcp_tools.hpp"
#include "text.hpp"

namespace customeriq::mcp {
namespace {

constexpr const char* kInstructions =
    "CustomerIQ holds the complete profile of every customer: identity, purchases with warranties, work orders, "
    "support tickets, knowledge notes and the event timeline. To answer a question about a customer, call "
    "find_customer with what you know (email, name, phone, id), then get_customer_context with the customer_id: "
    "it returns what matters within a size budget, each fact citing its source id. Read more with "
    "get_customer_timeline, search_customer_data and list_open_work_orders; cut answers give next_cursor and the "
    "exact follow-up call. Every tool only reads.";

bool is_request(const Json& message) {
  return message.is_object() && message.contains("method") && message.contains("id");
}

bool valid_id(const Json& id) { return id.is_string() || id.is_number_integer() || id.is_number_unsigned(); }

Json result_response(const Json& id, Json result) {
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

// An error of a request's params, answered as a protocol error.
struct ParamsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string negotiated_version(const Json& params) {
  const auto& versions = supported_protocol_versions();
  if (params.is_object()) {
    const auto requested = params.find("protocolVersion");
    if (requested != params.end() && requested->is_string() &&
        std::find(versions.begin(), versions.end(), requested->get<std::string>()) != versions.end())
      return requested->get<std::string>();
  }
  // Per the spec: a version we do not speak is answered with our newest;
  // the client then decides whether it can go on.
  return versions.front();
}

}  // namespace

const std::vector<std::string>& supported_protocol_versions() {
  static const std::vector<std::string> versions = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
  return versions;
}

Json error_response(const Json& id, int code, std::string_view message) {
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", std::string(message)}}}};
}

std::string to_line(const Json& message) { return message.dump(-1, ' ', false, Json::error_handler_t::replace); }

bool McpServer::expects_answer(const Json& message) {
  if (message.is_array()) {
    if (message.empty()) return true;  // an invalid request
    return std::any_of(message.begin(), message.end(), [](const Json& item) { return expects_answer(item); });
  }
  if (!message.is_object()) return true;
  if (is_request(message)) return true;
  const bool notification = message.contains("method") && message["method"].is_string();
  const bool response = message.contains("id") && (message.contains("result") || message.contains("error"));
  return !(message.value("jsonrpc", Json()) == "2.0" && (notification || response));
}

std::optional<Json> McpServer::handle(const Json& message, StoreReader& reader) const {
  if (message.is_array()) {
    if (message.empty()) return error_response(nullptr, kInvalidRequest, "an empty batch");
    Json answers = Json::array();
    for (const Json& item : message) {
      if (item.is_array()) {
        answers.push_back(error_response(nullptr, kInvalidRequest, "a batch inside a batch"));
        continue;
      }
      if (auto answer = handle(item, reader)) answers.push_back(std::move(*answer));
    }
    if (answers.empty()) return std::nullopt;
    return answers;
  }
  if (!expects_answer(message)) {
    // Notifications (initialized, cancelled, ...) need nothing from us; we
    // send no requests, so no response is ours to take.
    if (message.contains("method") && message["method"].is_string())
      spdlog::debug("[MCP] notification {}", excerpt(message["method"].get<std::string>(), 60));
    return std::nullopt;
  }
  if (!message.is_object()) return error_response(nullptr, kInvalidRequest, "a JSON-RPC message is a JSON object");
  const Json id = message.contains("id") && valid_id(message["id"]) ? message["id"] : Json(nullptr);
  if (message.value("jsonrpc", Json()) != "2.0")
    return error_response(id, kInvalidRequest, "jsonrpc must be \"2.0\"");
  if (!message.contains("method") || !message["method"].is_string())
    return error_response(id, kInvalidRequest, "a request needs a method (a string)");
  if (!valid_id(message["id"]))
    return error_response(nullptr, kInvalidRequest, "id must be a string or an integer");
  if (message.contains("params") && !message["params"].is_object() && !message["params"].is_array())
    return error_response(id, kInvalidRequest, "params must be an object");
  return answer(message, reader);
}

ParsedMessage parse_message(std::string_view text) {
  if (std::string problem = json_structure_problem(text, kMaxMessageDepth); !problem.empty())
    return {nullptr, error_response(nullptr, kInvalidRequest, "the message is refused: " + problem)};
  Json message = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded())
    return {nullptr, error_response(nullptr, kParseError, "the message is not JSON: " + excerpt(text, 60))};
  return {std::move(message), std::nullopt};
}

std::optional<std::string> McpServer::handle_text(std::string_view text, StoreReader& reader) const {
  auto parsed = parse_message(text);
  if (parsed.error) return to_line(*parsed.error);
  auto answer = handle(parsed.message, reader);
  if (!answer) return std::nullopt;
  return to_line(*answer);
}

Json McpServer::answer(const Json& request, StoreReader& reader) const {
  const Json& id = request["id"];
  const std::string method = request["method"].get<std::string>();
  const Json params = request.value("params", Json::object());
  try {
    if (method == "initialize") {
      return result_response(
          id, {{"protocolVersion", negotiated_version(params)},
               {"capabilities", {{"tools", {{"listChanged", false}}}}},
               {"serverInfo", {{"name", "customeriq"}, {"title", "CustomerIQ"}, {"version", CUSTOMERIQ_VERSION}}},
               {"instructions", kInstructions}});
    }
    if (method == "ping") return result_response(id, Json::object());
    if (method == "tools/list") {
      Json list = Json::array();
      for (const Tool& tool : tools()) list.push_back(tool.definition());
      return result_response(id, {{"tools", std::move(list)}});
    }
    if (method == "tools/call") return result_response(id, call_tool(params, reader));
    return error_response(id, kMethodNotFound,
                          "no method '" + excerpt(method, 60) + "' (this server offers initialize, ping, tools/list, tools/call)");
  } catch (const ParamsError& error) {
    return error_response(id, kInvalidParams, error.what());
  }
}

Json McpServer::call_tool(const Json& params, StoreReader& reader) const {
  if (!params.is_object() || !params.contains("name") || !params["name"].is_string())
    throw ParamsError("tools/call needs params.name, the tool's name");
  const std::string name = params["name"].get<std::string>();
  const Tool* tool = find_tool(name);
  if (!tool) {
    std::string names;
    for (const Tool& known : tools()) names += (names.empty() ? "" : ", ") + std::string(known.name);
    throw ParamsError("Unknown tool: '" + excerpt(name, 60) + "' (tools: " + names + ")");
  }
  const auto started = std::chrono::steady_clock::now();
  ToolResult result;
  try {
    result = tool->call(reader, params.value("arguments", Json::object()));
  } catch (const ToolArgumentError& error) {
    result = ToolResult{std::string("Invalid arguments for ") + tool->name + ": " + error.what(), Json(), true};
  } catch (const std::exception& error) {
    spdlog::warn("[MCP] {} failed: {}", tool->name, error.what());
    result = ToolResult{std::string(tool->name) + " could not read the database: " + error.what() +
                            ". Retrying shortly may work.",
                        Json(), true};
  }
  spdlog::debug("[MCP] {} answered in {:.1f} ms{}", tool->name,
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count(),
                result.is_error ? " (an error)" : "");
  return result.to_json();
}

}  // namespace customeriq::mcp
