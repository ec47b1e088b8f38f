// customeriq mcp: the MCP server over stdio, for assistants that start it
// as a subprocess. stdout carries the protocol and nothing else; logs go to
// stderr, where MCP clients collect them.
#include <iostream>
#include <string>

#include <spdlog/spdlog.h>

#include "common.hpp"
#include "mcp/mcp_server.hpp"

namespace customeriq::cli {
namespace {

// A message longer than this is refused (and the line skipped), not parsed.
constexpr std::size_t kMaxMessageBytes = 4 << 20;

int run_mcp(Args& args, const GlobalOptions& global) {
  args.positionals(0);
  const Settings settings = settings_for(global);
  StoreReader reader = open_reader(settings.database);
  spdlog::info("[MCP] Serving {} over stdio (protocol {})", settings.database.string(),
               mcp::supported_protocol_versions().front());
  const mcp::McpServer server;
  std::string line;
  std::size_t answered = 0;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::optional<std::string> answer;
    if (line.size() > kMaxMessageBytes) {
      answer = mcp::to_line(mcp::error_response(nullptr, mcp::kInvalidRequest,
                                                "the message is " + std::to_string(line.size()) +
                                                    " bytes, over the limit of " + std::to_string(kMaxMessageBytes)));
    } else {
      answer = server.handle_text(line, reader);
    }
    if (!answer) continue;
    std::cout << *answer << '\n' << std::flush;
    ++answered;
    if (!std::cout) {
      spdlog::info("[MCP] The client closed stdout: stopping");
      return 0;
    }
  }
  spdlog::info("[MCP] stdin closed after {} answers: stopping", answered);
  return 0;
}

}  // namespace

const Command kMcpCommand{
    "mcp", "Serve the MCP tools over stdio, for AI assistants",
    R"(usage: customeriq mcp

Speaks the Model Context Protocol (JSON-RPC 2.0, one message per line) on
stdin and stdout, for an MCP client that starts customeriq as a subprocess;
logs go to stderr. Tools, all read-only: find_customer,
get_customer_context, get_customer_timeline, search_customer_data,
list_open_work_orders (docs/MCP.md shows a client's configuration). The
same server answers POST /mcp of `customeriq serve`.

Reads the database given by --db or CUSTOMERIQ_DB; runs beside `serve`,
which may keep writing. Stops when stdin closes.

exit codes: 0 stdin closed, 2 usage or configuration error, 3 the database
cannot be opened or used (missing: ingest or serve creates it)
)",
    run_mcp};

}  // namespace customeriq::cli
