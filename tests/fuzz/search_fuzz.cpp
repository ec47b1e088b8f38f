// libFuzzer target: text as a search box or the search API receives it →
// StoreReader::search and find_customers over a real seeded store. Plain
// words (what the console and GET /v1/search?q= send) always make a valid
// FTS5 query: they never throw. FTS5 syntax (fts=1) either answers or throws
// std::invalid_argument, whose message holds no internals.
//
// Input: the first byte picks the call (0: plain words, 1: FTS5 syntax,
// 2: find_customers, 3: plain words within one customer), the rest is the text.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "store/store_reader.hpp"

namespace {

using customeriq::fuzz::violation;
constexpr std::string_view kTarget = "search_fuzz";

// hits: an array of objects, each naming its customer in `key`.
void check_hits(const customeriq::Json& hits, std::string_view input, const char* key = "customer_id") {
  if (!hits.is_array()) violation(kTarget, input, "the answer is not an array: " + hits.dump());
  for (const auto& hit : hits) {
    if (!hit.is_object() || !hit.contains(key) || !hit[key].is_string())
      violation(kTarget, input, std::string("a hit without ") + key + ": " +
                                    hit.dump(-1, ' ', false, customeriq::Json::error_handler_t::replace));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static customeriq::StoreReader* reader = new customeriq::StoreReader(customeriq::fuzz::seeded_store().database);
  const int call = data[0] % 4;
  const std::string text(input.substr(1));
  try {
    switch (call) {
      case 0: check_hits(reader->search(text), input); break;
      case 1: check_hits(reader->search(text, {.fts_syntax = true}), input); break;
      case 2: check_hits(reader->find_customers(text, 10), input, "id"); break;
      case 3: check_hits(reader->search(text, {.customer_id = "cust_001"}), input); break;
    }
  } catch (const std::invalid_argument& error) {
    if (call != 1) violation(kTarget, input, std::string("plain words made a bad query: ") + error.what());
    if (const auto detail = customeriq::fuzz::internal_detail(error.what(), input); !detail.empty())
      violation(kTarget, input, "the error shows an internal detail (" + detail + "): " + error.what());
  } catch (const std::exception& error) {
    violation(kTarget, input, std::string("threw: ") + error.what());
  }
  return 0;
}
