#include "config/environment.hpp"

#include <cstdlib>
#include <fstream>

namespace customeriq {
namespace {

std::string trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

bool is_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

}  // namespace

void load_dotenv(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    if (text.rfind("export ", 0) == 0) text = trim(std::string_view(text).substr(7));
    const auto equals = text.find('=');
    const std::string key = trim(std::string_view(text).substr(0, equals));
    if (equals == std::string::npos || !is_name(key)) {
      throw ConfigError(file.string() + ":" + std::to_string(line_number) +
                        ": expected KEY=VALUE (the line is not shown: it may hold a secret)");
    }
    std::string value = trim(std::string_view(text).substr(equals + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (const auto comment = value.find(" #"); comment != std::string::npos) {
      value = trim(std::string_view(value).substr(0, comment));
    }
    ::setenv(key.c_str(), value.c_str(), /*overwrite=*/0);
  }
}

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (!value) return std::nullopt;
  return std::string(value);
}

std::string interpolate(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out += '$';
      continue;
    }
    const auto close = text.find('}', i + 2);
    // The text is not shown in these errors: it may be a password.
    if (close == std::string_view::npos)
      throw ConfigError("unterminated ${ (close it with }, or write $$ for a literal $)");
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    const auto dash = inner.find(":-");
    const std::string name(inner.substr(0, dash));
    if (!is_name(name))
      throw ConfigError("bad variable name in ${...}: a name is letters, digits and _ (write $$ for a literal $)");
    if (auto value = env(name.c_str()); value && !(dash != std::string_view::npos && value->empty())) {
      out += *value;
    } else if (dash != std::string_view::npos) {
      out += inner.substr(dash + 2);
    } else {
      throw ConfigError("${" + name + "} is not set and has no default (write ${" + name +
                        ":-default})");
    }
    i = close;
  }
  return out;
}

}  // namespace customeriq
