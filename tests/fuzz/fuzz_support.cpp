#include "fuzz_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "config/pipeline_config.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/writer_thread.hpp"
#include "store/store_writer.hpp"

namespace customeriq::fuzz {

std::string printable(std::string_view text) {
  constexpr std::size_t kShown = 400;
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < kShown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7F && byte != '\\') {
      out += static_cast<char>(byte);
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
      out += escaped;
    }
  }
  if (text.size() > kShown) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

void violation(std::string_view target, std::string_view input, std::string_view what) {
  std::fprintf(stderr, "==%.*s== INVARIANT: %.*s\n  input: \"%s\"\n", static_cast<int>(target.size()),
               target.data(), static_cast<int>(what.size()), what.data(), printable(input).c_str());
  std::abort();
}

std::string internal_detail(std::string_view message, std::string_view input) {
  // SQL statements, SQLite's own names, C++ runtime text and source paths.
  static const std::regex kInternal(
      R"(\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|PRAGMA\s)\b|)"
      R"(SQLITE_[A-Z]+|sqlite3_\w+|std::\w+|basic_string|terminate called|what\(\):|\.(cpp|hpp|h):\d+|)"
      R"(\[json\.exception\.)",
      std::regex::icase);
  using Matches = std::regex_iterator<std::string_view::const_iterator>;
  for (Matches match(message.begin(), message.end(), kInternal), end; match != end; ++match) {
    const std::string part = match->str();
    if (input.find(part) == std::string_view::npos) return part;
  }
  return {};
}

SeededStore& seeded_store() {
  static SeededStore* store = [] {
    spdlog::set_level(spdlog::level::off);
    char folder[] = "/tmp/customeriq-fuzz-XXXXXX";
    if (!mkdtemp(folder)) throw std::runtime_error("mkdtemp failed");
    auto seeded = new SeededStore;
    seeded->database = std::filesystem::path(folder) / "customers.db";
    seeded->pipeline = std::make_unique<Pipeline>(load_pipeline_config(CUSTOMERIQ_DEFAULT_PIPELINE));
    seeded->store = std::make_unique<StoreWriter>(seeded->database, WriterOptions{});
    seeded->writer = std::make_unique<WriterThread>(*seeded->pipeline, *seeded->store,
                                                    WriterThreadOptions{.pipeline_threads = 1});
    std::ifstream seed(CUSTOMERIQ_SEED_EVENTS);
    if (!seed) throw std::runtime_error("cannot read " + std::string(CUSTOMERIQ_SEED_EVENTS));
    for (std::string line; std::getline(seed, line);) {
      RawMessage message;
      message.bytes = line;
      message.subject = "customer.events.seed";
      seeded->writer->submit(std::move(message));
    }
    seeded->writer->flush();
    return seeded;
  }();
  return *store;
}

}  // namespace customeriq::fuzz
