// customeriq: the command-line entry point.
#include <cstdio>
#include <iostream>
#include <span>

#include <SQLiteCpp/Exception.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "config/environment.hpp"
#include "config/setting_reader.hpp"
#include "plugin_host/plugin_loader.hpp"
#include "store/store_error.hpp"
#include "commands.hpp"

namespace customeriq::cli {
namespace {

// In the order --help lists them.
const Command* const kCommands[] = {
    &kIngestCommand,   &kProfileCommand,     &kContextCommand, &kSearchCommand, &kValidateCommand,
    &kPluginsCommand,  &kDeadLettersCommand, &kReindexCommand, &kServeCommand,  &kPublishCommand,
    &kMcpCommand,      &kMergeCommand,       &kUnmergeCommand, &kEraseCommand,  &kUnsuppressCommand,
    &kAuditCommand,    &kRebuildCommand,
};

void print_help() {
  std::cout << R"(customeriq — customer profiles from customer events

usage: customeriq [--db PATH] [--pipeline FILE] [--log-level LEVEL] COMMAND [ARGS]

commands:
)";
  for (const Command* command : kCommands) std::printf("  %-14s %s\n", command->name, command->summary);
  std::cout << R"(
options:
  --db PATH          SQLite database (CUSTOMERIQ_DB; default ~/.customeriq/customeriq.db)
  --pipeline FILE    pipeline YAML (CUSTOMERIQ_PIPELINE; default: the bundled default.yaml)
  --log-level LEVEL  trace, debug, info, warn, error, off (CUSTOMERIQ_LOG_LEVEL; default info)
  -h, --help         this help; `customeriq COMMAND --help` for a command's
                     options and exit codes
  --version          print the version

A .env file in the working directory is read first; variables already in
the environment win over it. An empty --db, --pipeline, CUSTOMERIQ_DB or
CUSTOMERIQ_PIPELINE is an error.

exit codes:
  0  ok
  1  not found (no customer with that id, no dead letter with that id), or
     another failure: an input file that cannot be read, events that could
     not be committed, NATS unreachable or refusing the credentials
  2  usage or configuration error: options, variables, .env, the pipeline
     and its plugins
  3  the database cannot be opened or used: not a database, missing (for
     reading), corrupt, of a newer schema, read-only, an I/O error
)";
}

void configure_logging(const std::optional<std::string>& flag) {
  auto logger = spdlog::stderr_color_mt("customeriq");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  spdlog::set_default_logger(logger);
  std::vector<SettingOverride> overrides;
  if (flag) overrides.push_back({"CUSTOMERIQ_LOG_LEVEL", "--log-level", *flag});
  const std::string level = SettingReader(env, std::move(overrides)).get("CUSTOMERIQ_LOG_LEVEL").text();
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off")
    throw UsageError("unknown log level '" + level + "' (trace, debug, info, warn, error, off)");
  spdlog::set_level(parsed);
}

// The exit codes are listed in print_help().
int fail(const std::exception& error, int exit_code) {
  std::cerr << "customeriq: " << error.what() << "\n";
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> tokens(argv + 1, argv + argc);
  try {
    load_dotenv(".env");
    // Global options come before the command name.
    GlobalOptions global;
    std::optional<std::string> log_level;
    std::size_t i = 0;
    for (; i < tokens.size() && tokens[i].starts_with("-"); ++i) {
      const std::string& token = tokens[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= tokens.size()) throw UsageError(token + " needs a value");
        return tokens[++i];
      };
      if (token == "-h" || token == "--help") {
        print_help();
        return 0;
      } else if (token == "--version") {
        std::cout << "customeriq " << CUSTOMERIQ_VERSION << "\n";
        return 0;
      } else if (token == "--db") {
        global.database = value();
      } else if (token == "--pipeline") {
        global.pipeline = value();
      } else if (token == "--log-level") {
        log_level = value();
      } else {
        throw UsageError("unknown option " + token + " (options go before the command; see --help)");
      }
    }
    configure_logging(log_level);
    if (i == tokens.size()) {
      print_help();
      return 2;
    }
    const std::string name = tokens[i];
    for (const Command* command : kCommands) {
      if (name != command->name) continue;
      Args args(std::vector<std::string>(tokens.begin() + static_cast<long>(i) + 1, tokens.end()));
      if (args.flag("--help") || args.flag("-h")) {
        std::cout << command->usage;
        return 0;
      }
      // Global options are also accepted after the command name.
      if (auto db = args.option("--db")) global.database = *db;
      if (auto pipeline = args.option("--pipeline")) global.pipeline = *pipeline;
      return command->run(args, global);
    }
    throw UsageError("unknown command '" + name + "' (see customeriq --help)");
  } catch (const UsageError& error) {
    return fail(error, 2);
  } catch (const ConfigError& error) {
    return fail(error, 2);
  } catch (const PluginError& error) {
    return fail(error, 2);
  } catch (const StoreError& error) {
    return fail(error, 3);
  } catch (const SQLite::Exception& error) {
    return fail(error, 3);
  } catch (const std::exception& error) {
    return fail(error, 1);
  }
}

}  // namespace customeriq::cli

int main(int argc, char** argv) { return customeriq::cli::main(argc, argv); }
