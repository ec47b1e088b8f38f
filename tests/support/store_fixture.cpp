#include "support/store_fixture.hpp"

#include <catch2/catch.hpp>

#include "pipeline/event_decoder.hpp"

namespace customeriq::test {

WriteItem write_item(const std::string& json, std::vector<sdk::Mutation> mutations) {
  RawMessage message;
  message.bytes = json;
  message.subject = "test";
  auto decoded = decode_event(std::move(message), DecodeLimits{});
  if (auto* letter = std::get_if<DeadLetter>(&decoded)) FAIL("not an event: " << letter->reason);
  WriteItem item;
  item.content = HandledEvent{std::get<sdk::Event>(std::move(decoded)), "test", std::move(mutations)};
  return item;
}

}  // namespace customeriq::test
