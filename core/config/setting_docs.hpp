// What the setting table says, as text: the variables part of
// `customeriq serve --help` and the table of docs/NATS.md.
#pragma once

#include <string>

#include "config/setting_table.hpp"

namespace customeriq {

// Every setting, under a heading per `applies`, each with its description
// and default, wrapped to 79 columns. Ends with a newline.
std::string settings_help_text();

// The Markdown table of docs/NATS.md: a header and one row per setting,
// each line ending with a newline.
std::string settings_markdown_table();
// A setting's row of that table, without the newline.
std::string settings_markdown_row(const Setting& setting);
// Its Default cell: `16384` (1 to 2147483647), `false`, — for none, or
// the computed default's text.
std::string settings_markdown_default(const Setting& setting);

}  // namespace customeriq
