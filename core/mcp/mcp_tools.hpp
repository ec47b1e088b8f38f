// The MCP server's tools (docs/MCP.md): each one's name, schemas and
// description beside the code that answers it. All of them only read.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace customeriq {

class StoreReader;

namespace mcp {

using Json = nlohmann::json;

// A tool's answer, as tools/call returns it.
struct ToolResult {
  std::string text;  // what the model reads
  Json structured;   // matches the tool's output schema; unset for an error
  bool is_error = false;

  Json to_json() const;  // {content: [{type: text, text}], structuredContent?, isError}
};

struct Tool {
  const char* name;
  const char* title;
  const char* description;
  Json input_schema;
  Json output_schema;
  // Throws ToolArgumentError for arguments it refuses.
  ToolResult (*call)(StoreReader& reader, const Json& arguments);

  Json definition() const;  // the tools/list entry, read-only annotations included
};

// An argument the tool refuses: the model sees the message and may retry.
struct ToolArgumentError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Every tool, in the order tools/list gives them.
const std::vector<Tool>& tools();
const Tool* find_tool(const std::string& name);

// No answer's text (or its structured content) grows beyond this many
// characters (about 4,000 tokens): a cut answer says how to read on.
inline constexpr std::size_t kMaxAnswerChars = 16000;

}  // namespace mcp
}  // namespace customeriq
