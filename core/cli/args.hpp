// A small command-line reader: options are taken out by name, what is left
// must be positionals, so unknown options are always reported.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace customeriq::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  explicit Args(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}

  // --name present? (removed)
  bool flag(const std::string& name);
  // --name VALUE or --name=VALUE (removed); UsageError when VALUE is missing.
  std::optional<std::string> option(const std::string& name);
  std::optional<long long> integer_option(const std::string& name, long long min, long long max);
  // What is left; UsageError for a leftover --option or more than max_count.
  std::vector<std::string> positionals(std::size_t max_count);

 private:
  std::vector<std::string> tokens_;
};

}  // namespace customeriq::cli
