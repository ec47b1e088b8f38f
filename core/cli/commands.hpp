// The customeriq subcommands. Each command file defines its commands (name,
// summary, --help text, run function) beside their code; main.cpp lists
// them in the order --help shows them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "args.hpp"

namespace customeriq::cli {

struct GlobalOptions {
  std::optional<std::filesystem::path> database;
  std::optional<std::filesystem::path> pipeline;
};

struct Command {
  const char* name;
  const char* summary;
  std::string usage;  // the whole --help text
  int (*run)(Args& args, const GlobalOptions& global);  // returns the exit code
};

extern const Command kIngestCommand;       // ingest.cpp
extern const Command kDeadLettersCommand;  // ingest.cpp
extern const Command kReindexCommand;      // ingest.cpp
extern const Command kProfileCommand;      // read_commands.cpp
extern const Command kContextCommand;      // read_commands.cpp
extern const Command kSearchCommand;       // read_commands.cpp
extern const Command kValidateCommand;     // pipeline_commands.cpp
extern const Command kPluginsCommand;      // pipeline_commands.cpp
extern const Command kServeCommand;        // serve.cpp
extern const Command kPublishCommand;      // publish.cpp
extern const Command kMcpCommand;          // mcp.cpp
extern const Command kMergeCommand;        // lifecycle_commands.cpp
extern const Command kUnmergeCommand;      // lifecycle_commands.cpp
extern const Command kEraseCommand;        // lifecycle_commands.cpp
extern const Command kUnsuppressCommand;   // lifecycle_commands.cpp
extern const Command kAuditCommand;        // lifecycle_commands.cpp
extern const Command kRebuildCommand;      // rebuild.cpp

}  // namespace customeriq::cli
