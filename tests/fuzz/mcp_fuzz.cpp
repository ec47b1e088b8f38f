// libFuzzer target: a message as an MCP client sends it (a line of
// `customeriq mcp`'s stdin, or a POST /mcp body) → McpServer::handle_text
// over a real seeded store. Whatever arrives, nothing escapes as an
// exception, and every answer is JSON-RPC 2.0 on one line: an object (or a
// batch of them) with "jsonrpc":"2.0", an id, and exactly one of result or
// error, an error being {code: integer, message: text without internals}.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "mcp/mcp_server.hpp"
#include "store/store_reader.hpp"

namespace {

using customeriq::Json;
using customeriq::fuzz::violation;
constexpr std::string_view kTarget = "mcp_fuzz";

void check_response(const Json& response, std::string_view input) {
  const auto shown = [&] { return response.dump(-1, ' ', false, Json::error_handler_t::replace).substr(0, 400); };
  if (!response.is_object()) violation(kTarget, input, "an answer that is not an object: " + shown());
  if (response.value("jsonrpc", Json()) != "2.0") violation(kTarget, input, "an answer without jsonrpc 2.0: " + shown());
  if (!response.contains("id")) violation(kTarget, input, "an answer without id: " + shown());
  const Json& id = response["id"];
  if (!id.is_null() && !id.is_string() && !id.is_number_integer() && !id.is_number_unsigned() && !id.is_number_float())
    violation(kTarget, input, "an id that is neither null, text nor a number: " + shown());
  if (response.contains("result") == response.contains("error"))
    violation(kTarget, input, "an answer needs exactly one of result and error: " + shown());
  if (response.contains("error")) {
    const Json& error = response["error"];
    if (!error.is_object() || !error.contains("code") || !error["code"].is_number_integer() ||
        !error.contains("message") || !error["message"].is_string())
      violation(kTarget, input, "a malformed error: " + shown());
    const std::string message = error["message"];
    if (const auto detail = customeriq::fuzz::internal_detail(message, input); !detail.empty())
      violation(kTarget, input, "an error shows an internal detail (" + detail + "): " + message);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static customeriq::StoreReader* reader = new customeriq::StoreReader(customeriq::fuzz::seeded_store().database);
  static const customeriq::mcp::McpServer server;
  std::optional<std::string> answer;
  try {
    answer = server.handle_text(input, *reader);
  } catch (const std::exception& error) {
    violation(kTarget, input, std::string("handle_text threw: ") + error.what());
  }
  if (!answer) return 0;
  if (answer->find('\n') != std::string::npos) violation(kTarget, input, "the answer is not on one line");
  Json parsed;
  try {
    parsed = Json::parse(*answer);
  } catch (const std::exception& error) {
    violation(kTarget, input, std::string("the answer is not JSON: ") + error.what());
  }
  if (parsed.is_array()) {
    if (parsed.empty()) violation(kTarget, input, "an empty batch answer");
    for (const Json& response : parsed) check_response(response, input);
  } else {
    check_response(parsed, input);
  }
  return 0;
}
