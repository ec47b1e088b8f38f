#include "args.hpp"

#include <cerrno>
#include <cstdlib>

namespace customeriq::cli {

bool Args::flag(const std::string& name) {
  for (auto it = tokens_.begin(); it != tokens_.end(); ++it) {
    if (*it == "--") break;
    if (*it == name) {
      tokens_.erase(it);
      return true;
    }
  }
  return false;
}

std::optional<std::string> Args::option(const std::string& name) {
  for (auto it = tokens_.begin(); it != tokens_.end(); ++it) {
    if (*it == "--") break;
    if (*it == name) {
      if (it + 1 == tokens_.end()) throw UsageError(name + " needs a value");
      std::string value = *(it + 1);
      tokens_.erase(it, it + 2);
      return value;
    }
    if (it->rfind(name + "=", 0) == 0) {
      std::string value = it->substr(name.size() + 1);
      tokens_.erase(it);
      return value;
    }
  }
  return std::nullopt;
}

std::optional<long long> Args::integer_option(const std::string& name, long long min, long long max) {
  auto text = option(name);
  if (!text) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || errno == ERANGE || value < min || value > max) {
    throw UsageError(name + " must be an integer from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", got '" + *text + "'");
  }
  return value;
}

std::vector<std::string> Args::positionals(std::size_t max_count) {
  std::vector<std::string> out;
  bool options_ended = false;
  for (const auto& token : tokens_) {
    if (!options_ended && token == "--") {
      options_ended = true;
      continue;
    }
    if (!options_ended && token.size() > 1 && token[0] == '-')
      throw UsageError("unknown option " + token);
    out.push_back(token);
  }
  if (out.size() > max_count) throw UsageError("unexpected argument '" + out[max_count] + "'");
  return out;
}

}  // namespace customeriq::cli
