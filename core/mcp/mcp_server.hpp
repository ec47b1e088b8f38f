// McpServer: the Model Context Protocol over JSON-RPC 2.0, free of any
// transport (docs/MCP.md). `customeriq mcp` feeds it lines of stdin;
// POST /mcp feeds it request bodies. It holds no session state, so one
// server answers every client and every thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace customeriq {

class StoreReader;

namespace mcp {

using Json = nlohmann::json;

// JSON-RPC 2.0 error codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;

// The protocol versions this server speaks, newest first.
const std::vector<std::string>& supported_protocol_versions();

// {"jsonrpc":"2.0","id":id,"error":{"code","message"}}.
Json error_response(const Json& id, int code, std::string_view message);

// How deep a message may nest arrays and objects: tool arguments are a few
// levels deep, and deeper JSON would exhaust the stack of code that copies it.
inline constexpr std::size_t kMaxMessageDepth = 64;

// The message in text, or a JSON-RPC error (id null) to answer instead:
// a parse error for text that is not JSON, an invalid request for a NUL
// byte or nesting deeper than kMaxMessageDepth. Every transport parses
// with this.
struct ParsedMessage {
  Json message;
  std::optional<Json> error;
};
ParsedMessage parse_message(std::string_view text);

class McpServer {
 public:
  // The answer to one message as received: a request, a notification, a
  // response, or (as 2025-03-26 allows) a batch of them. nullopt when none
  // is due: notifications and responses are not answered. A message that
  // is not JSON-RPC is answered with an error whose id is null.
  std::optional<Json> handle(const Json& message, StoreReader& reader) const;

  // handle() of parse_message(text).
  std::optional<std::string> handle_text(std::string_view text, StoreReader& reader) const;

  // Whether handle() answers this message: a request, or a batch holding
  // one, or something malformed. Transports answer the rest with "accepted".
  static bool expects_answer(const Json& message);

 private:
  Json answer(const Json& request, StoreReader& reader) const;
  Json call_tool(const Json& params, StoreReader& reader) const;
};

// The message as text on one line (invalid UTF-8 from the store replaced).
std::string to_line(const Json& message);

}  // namespace mcp
}  // namespace customeriq
