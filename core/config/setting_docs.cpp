#include "config/setting_docs.hpp"

#include <algorithm>
#include <optional>
#include <sstream>
#include <vector>

namespace customeriq {
namespace {

constexpr std::size_t kWidth = 79;
constexpr std::size_t kNameIndent = 4;
constexpr std::size_t kTextIndent = 30;  // where descriptions start
constexpr char kUnbreakable = '\x01';    // a space wrap() keeps, e.g. in "default 30"

// text's words after prefix, then on lines of their own indented by indent.
std::string wrap(std::string prefix, const std::string& text, std::size_t indent) {
  std::string out = std::move(prefix);
  std::size_t column = out.size() - (out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
  std::istringstream words(text);
  std::string word;
  bool first = true;
  while (words >> word) {
    if (!first && column + 1 + word.size() > kWidth) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (!first) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    first = false;
  }
  std::replace(out.begin(), out.end(), kUnbreakable, ' ');
  return out + "\n";
}

// The default (and an integer's bounds) as the help says them, after the
// description: (1 to 86400, default 30), (default: the bundled default.yaml).
std::string help_default(const Setting& setting) {
  std::string out;
  if (setting.kind == SettingKind::integer)
    out = std::to_string(setting.min) + " to " + std::to_string(setting.max);
  // A secret's default is never shown (the table gives none anyway).
  if (setting.computed_default)
    out += (out.empty() ? "" : ", ") + std::string("default: ") + without_backticks(setting.computed_default);
  else if (*setting.default_value && setting.secrecy != Secrecy::secret)
    out += (out.empty() ? "" : ", ") + std::string("default") + kUnbreakable + setting.default_value;
  return out.empty() ? out : "(" + out + ")";
}

// The variables that have no source: key although named NATS_*.
std::string nats_variables_without_key() {
  std::vector<std::string> names;
  for (const auto& setting : setting_table())
    if (!setting.source_key && std::string_view(setting.variable).rfind("NATS_", 0) == 0)
      names.push_back(setting.variable);
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  return out;
}

std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

std::string settings_help_text() {
  std::string out = wrap("",
                         "Variables, read from the environment, then .env, then (all NATS_* ones but " +
                             nats_variables_without_key() +
                             ") from the pipeline's `source:` block, lower-cased without NATS_ "
                             "(`queue_group:`); by where they apply:",
                         0);
  std::optional<Applies> group;
  for (const auto& setting : setting_table()) {
    if (setting.applies != group) {
      group = setting.applies;
      out += "  " + std::string(to_string(setting.applies)) + ":\n";
    }
    std::string name = std::string(kNameIndent, ' ') + setting.variable;
    name += name.size() + 1 > kTextIndent ? "\n" + std::string(kTextIndent, ' ')
                                          : std::string(kTextIndent - name.size(), ' ');
    std::string text = without_backticks(setting.description);
    if (const std::string fallback = help_default(setting); !fallback.empty()) text += " " + fallback;
    out += wrap(std::move(name), text, kTextIndent);
  }
  return out;
}

std::string settings_markdown_default(const Setting& setting) {
  if (setting.computed_default) return setting.computed_default;
  if (!*setting.default_value || setting.secrecy == Secrecy::secret) return "—";
  std::string out = std::string("`") + setting.default_value + "`";
  if (setting.kind == SettingKind::integer)
    out += " (" + std::to_string(setting.min) + " to " + std::to_string(setting.max) + ")";
  return out;
}

std::string settings_markdown_row(const Setting& setting) {
  return "| `" + std::string(setting.variable) + "` | " +
         (setting.source_key ? "`" + std::string(setting.source_key) + "`" : std::string("—")) + " | " +
         cell(settings_markdown_default(setting)) + " | " + to_string(setting.applies) + " | " +
         cell(setting.description) + " |";
}

std::string settings_markdown_table() {
  std::string out = "| Variable | `source:` key | Default | Applies to | Meaning |\n|---|---|---|---|---|\n";
  for (const auto& setting : setting_table()) out += settings_markdown_row(setting) + "\n";
  return out;
}

}  // namespace customeriq
