// Every variable CustomerIQ reads, declared once, in the table of
// setting_table.cpp. The table drives the parsing and its errors
// (setting_reader.hpp), the variables part of `customeriq serve --help` and
// the table of docs/NATS.md (setting_docs.hpp), and the warning about
// NATS_* variables that nothing reads.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace customeriq {

enum class SettingKind {
  text,     // as written, trimmed (secrets are taken as they are)
  list,     // comma-separated (in YAML also a list of strings), no empty entry
  boolean,  // true/false, 1/0, yes/no, on/off
  integer,  // from min to max
  file,     // an existing regular file, or empty for none
  path,     // a file that need not exist yet; never empty
};

// What an error or a generated text may show of a value.
enum class Secrecy {
  none,
  secret,       // nothing at all: passwords, tokens
  server_urls,  // server URLs, each with its user info as ***
};

// Where a setting applies. The table is grouped by it, in this order.
enum class Applies {
  serve,
  serve_and_publish,
  serve_core,          // serve in core NATS mode
  serve_jetstream,     // serve in JetStream mode
  serve_http,          // serve's HTTP API
  writing_commands,    // ingest, dead-letters --replay, serve
  pipeline_commands,   // every command that loads the pipeline
  every_command,
  serve_local_script,  // scripts/serve-local.sh, not the binary
};

struct Setting {
  const char* variable;               // NATS_PENDING_MSGS
  const char* source_key = nullptr;   // its key in the pipeline's source: block, if it has one
  SettingKind kind = SettingKind::text;
  const char* default_value = "";     // written as in the environment; "" for none
  // Instead of default_value: what the code uses when nothing sets the
  // variable, as the docs say it (`backticks` for code).
  const char* computed_default = nullptr;
  long long min = 0, max = 0;         // integer: the bounds
  Secrecy secrecy = Secrecy::none;
  Applies applies = Applies::serve;
  const char* description = "";       // sentences, `backticks` for code
};

std::span<const Setting> setting_table();

// nullptr when no setting has that variable.
const Setting* find_setting(std::string_view variable);
// The setting of a variable the code reads; std::logic_error when the
// table does not declare it.
const Setting& setting(std::string_view variable);

// "serve, JetStream", "every command", ...
const char* to_string(Applies applies);

// The text without its `code` marks, as plain-text output shows it.
std::string without_backticks(std::string_view text);

}  // namespace customeriq
