// EventHandler: turns one event into store mutations. Pure: no I/O, no
// database, no network; everything it needs comes from the event and the
// context the core passes in.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "customeriq/sdk/event.hpp"
#include "customeriq/sdk/mutation.hpp"

namespace customeriq::sdk {

enum class LogLevel { debug, info, warn, error };

// What the core lends a handler during one handle() call.
class HandlerContext {
 public:
  // This plugin's `config:` block from the pipeline YAML, validated against
  // the plugin's declared keys, with every default filled in.
  virtual const Json& config() const = 0;

  // text unchanged when it is within the pipeline's summarize threshold;
  // otherwise the configured summarizer's summary, at most threshold
  // characters. The full text always stays in raw_event_data.
  virtual std::string summarize(std::string_view text) const = 0;

  // Writes to the service log, tagged with the plugin id.
  virtual void log(LogLevel level, std::string_view message) const = 0;

 protected:
  ~HandlerContext() = default;
};

class EventHandler {
 public:
  virtual ~EventHandler() = default;

  // The mutations that apply this event, in order. Throwing (InvalidEvent
  // or anything else) dead-letters the event with the exception's message;
  // it never stops the service. May be called from several threads at once.
  virtual std::vector<Mutation> handle(const Event& event, const HandlerContext& context) const = 0;
};

using HandleFunction = std::vector<Mutation>(const Event& event, const HandlerContext& context);

// The EventHandler of a plugin that has no config and no state: each event
// goes to handle.
//   std::vector<sdk::Mutation> handle_contact(const sdk::Event& event, const sdk::HandlerContext& context);
//   sdk::handler_descriptor<sdk::FunctionHandler<handle_contact>>("contact", …)
template <HandleFunction* handle_event>
class FunctionHandler final : public EventHandler {
 public:
  explicit FunctionHandler(const Json& /*config*/) {}
  std::vector<Mutation> handle(const Event& event, const HandlerContext& context) const override {
    return handle_event(event, context);
  }
};

}  // namespace customeriq::sdk
