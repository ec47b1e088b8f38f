// libFuzzer target: text as a client hands back a page cursor → the cursor
// decoder and the paged reads that take it, over a real seeded store. A
// cursor either decodes (and then encodes back to one that decodes the
// same) or is refused with std::invalid_argument (a 400 over HTTP); a read
// given any cursor answers a page or refuses it the same way.
//
// Input: the first byte picks the read (even: timeline, odd: customers)
// and what the rest is: the cursor text (byte & 2 == 0), or a JSON position
// that is encoded into a well-formed cursor first, to reach the reads'
// checks of the position behind the checksum.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "store/page_cursor.hpp"
#include "store/store_reader.hpp"

namespace {

using customeriq::fuzz::violation;
constexpr std::string_view kTarget = "cursor_fuzz";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static customeriq::StoreReader* reader = new customeriq::StoreReader(customeriq::fuzz::seeded_store().database);
  const bool timeline = data[0] % 2 == 0;
  const std::string kind = timeline ? "timeline" : "customers";
  std::string cursor(input.substr(1));
  if (data[0] & 2) {
    const customeriq::Json position = customeriq::Json::parse(cursor, nullptr, false);
    if (position.is_discarded()) return 0;
    cursor = customeriq::encode_cursor(kind, position);
  }

  try {
    const customeriq::Json position = customeriq::decode_cursor(kind, cursor);
    const std::string again = customeriq::encode_cursor(kind, position);
    if (customeriq::decode_cursor(kind, again) != position)
      violation(kTarget, input, "a decoded cursor does not survive encoding: " + position.dump());
  } catch (const std::invalid_argument& error) {
    if (std::string_view(error.what()).empty()) violation(kTarget, input, "a refusal without a reason");
  } catch (const std::exception& error) {
    violation(kTarget, input, std::string("decode_cursor threw: ") + error.what());
  }

  try {
    if (timeline) {
      customeriq::TimelineQuery query;
      query.cursor = cursor;
      query.limit = 2;
      reader->timeline("cust_001", query);
    } else {
      reader->customers_updated_since(0, 2, cursor);
    }
  } catch (const std::invalid_argument& error) {
    if (const auto detail = customeriq::fuzz::internal_detail(error.what(), input); !detail.empty())
      violation(kTarget, input, "the refusal shows an internal detail (" + detail + "): " + error.what());
  } catch (const std::exception& error) {
    violation(kTarget, input, std::string("the paged read threw: ") + error.what());
  }
  return 0;
}
