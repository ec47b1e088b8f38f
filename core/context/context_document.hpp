// The context document: what an assistant or a support agent needs to know
// about one customer, as markdown within a budget of characters, each fact
// with the id of the row it comes from (docs/CONTEXT.md). One builder for
// every surface: HTTP, the CLI, MCP, the console.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "store/store_reader.hpp"

namespace customeriq {

inline constexpr std::size_t kDefaultContextChars = 8000;
inline constexpr std::size_t kMinContextChars = 500;

struct ContextOptions {
  std::size_t max_chars = kDefaultContextChars;  // Unicode code points; at least kMinContextChars
  std::int64_t now = 0;  // unix seconds warranty and age are measured against; 0 = the current time
};

struct ContextDocument {
  std::string customer_id;
  std::string text;        // markdown, never more than max_chars code points
  bool truncated = false;  // something was left out
  std::map<std::string, std::size_t> omitted;  // section name -> items left out (only sections that lost some)
  Json to_json() const;    // {"customer_id","text","truncated","omitted":{section: count}}
};

// nullopt for an unknown customer; std::invalid_argument (message names
// max_chars and the value) when max_chars < kMinContextChars. The same
// database and options give the same text, byte for byte.
std::optional<ContextDocument> build_context_document(StoreReader& reader, const std::string& customer_id,
                                                      const ContextOptions& options = {});

}  // namespace customeriq
