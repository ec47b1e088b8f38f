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

PipelineLoader::PipelineLoader(const std::filesystem::path& db)
    : pipeline_(load_pipeline_config(source_dir() / "pipelines/default.yaml")), store_(db, {}) {}

void PipelineLoader::add(const nlohmann::json& event) {
  RawMessage message;
  message.bytes = event.dump();
  message.subject = "test";
  batch_.push_back(pipeline_.process(std::move(message)));
  if (batch_.size() == 1000) flush();
}

void PipelineLoader::flush() {
  for (const Outcome outcome : store_.apply_batch(batch_)) REQUIRE(outcome == Outcome::applied);
  batch_.clear();
}

}  // namespace customeriq::test
