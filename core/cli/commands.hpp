// The customeriq subcommands. Each returns the process exit code.
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
  const char* usage;  // full --help text
  int (*run)(Args& args, const GlobalOptions& global);
};

int run_ingest(Args& args, const GlobalOptions& global);
int run_profile(Args& args, const GlobalOptions& global);
int run_search(Args& args, const GlobalOptions& global);
int run_validate(Args& args, const GlobalOptions& global);
int run_plugins(Args& args, const GlobalOptions& global);
int run_dead_letters(Args& args, const GlobalOptions& global);
int run_reindex(Args& args, const GlobalOptions& global);
int run_serve(Args& args, const GlobalOptions& global);
int run_publish(Args& args, const GlobalOptions& global);

}  // namespace customeriq::cli
