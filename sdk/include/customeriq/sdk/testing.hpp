// A test kit for plugin authors: a handler or summarizer made from its
// descriptor with the config the core would give it, a HandlerContext that
// records what the handler logs, events from JSON, and each mutation by its
// place and type. Nothing is loaded: link the plugin's sources into the
// test, or take the descriptor from a library the test loaded itself.
//
//   sdk::testing::TestHandler loyalty(*loyalty::describe(), {{"value_per_point", 0.5}});
//   const auto mutations = loyalty.handle(sdk::testing::event(
//       {{"event_type", "loyalty_points"}, {"customer_id", "c1"}, {"data", {{"points", 10}}}}));
//   CHECK(sdk::testing::mutation<sdk::AdjustLifetimeValue>(mutations, 1).delta == 5.0);
//   const auto [timeline, value] =
//       sdk::testing::exactly<sdk::AppendTimelineEvent, sdk::AdjustLifetimeValue>(mutations);
//
// Header-only; it needs the SDK, the standard library and nlohmann/json.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "customeriq/sdk/config.hpp"
#include "customeriq/sdk/event.hpp"
#include "customeriq/sdk/handler.hpp"
#include "customeriq/sdk/mutation.hpp"
#include "customeriq/sdk/plugin.hpp"
#include "customeriq/sdk/summarizer.hpp"

namespace customeriq::sdk::testing {

namespace detail {
inline std::string who(const PluginDescriptor& plugin) {
  return std::string("plugin ") + (plugin.id ? plugin.id : "(no id)");
}

// "[A, B]"
inline std::string listed(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return "[" + text + "]";
}
}  // namespace detail

// The config the core passes to the plugin described by plugin: given is
// checked against the declared keys as the core checks it (a mapping, no
// undeclared key, each value of its key's type and within its bounds) and
// every default is filled in. std::invalid_argument with the core's message
// ("plugin note: config key 'default_importance' must be an integer from 1
// to 10, got 11"). Stricter than the core in one way: each default must be
// valid JSON of its key's type within its bounds too, so a wrong default
// fails the plugin's own tests rather than surprising the core.
inline Json resolve_config(const PluginDescriptor& plugin, const Json& given = Json::object()) {
  const std::string who = detail::who(plugin);
  const std::span<const ConfigKey> keys(plugin.config_keys, plugin.config_key_count);
  const auto declared = [&](std::string_view name) -> const ConfigKey* {
    for (const ConfigKey& key : keys)
      if (name == key.name) return &key;
    return nullptr;
  };
  if (!given.is_null() && !given.is_object()) throw std::invalid_argument(who + ": config must be a mapping");
  Json resolved = Json::object();
  const Json none = Json::object();
  for (const auto& [name, value] : (given.is_object() ? given : none).items()) {
    const ConfigKey* key = declared(name);
    if (!key) {
      std::string accepted;
      for (const ConfigKey& k : keys) accepted += (accepted.empty() ? "" : ", ") + std::string(k.name);
      throw std::invalid_argument(who + ": unknown config key '" + name + "' (accepted: " +
                                  (accepted.empty() ? "none" : accepted) + ")");
    }
    if (const std::string problem = config_value_problem(*key, value); !problem.empty())
      throw std::invalid_argument(who + ": config key '" + name + "' " + problem);
    resolved[name] = value;
  }
  for (const ConfigKey& key : keys) {
    Json fallback = Json::parse(key.default_json ? key.default_json : "null", nullptr, false);
    if (fallback.is_discarded())
      throw std::invalid_argument(who + ": default of config key '" + key.name + "' is not valid JSON");
    if (const std::string problem = config_value_problem(key, fallback); !problem.empty())
      throw std::invalid_argument(who + ": default of config key '" + key.name + "' " + problem);
    if (!resolved.contains(key.name)) resolved[key.name] = std::move(fallback);
  }
  return resolved;
}

// The summarizer a TestContext uses when it is given none, as the core does
// without one: text over the threshold is cut at a code point boundary.
class CutSummarizer final : public Summarizer {
 public:
  std::string summarize(std::string_view text, std::size_t max_chars) const override {
    return std::string(text.substr(0, utf8_prefix_bytes(text, max_chars)));
  }
};

struct LogLine {
  LogLevel level;
  std::string message;
};

// The HandlerContext the core lends a handler, with the log kept for the
// test to read. summarize() keeps the core's promise: text within the
// threshold comes back unchanged, longer text as at most threshold
// characters, whatever the summarizer returns.
class TestContext final : public HandlerContext {
 public:
  explicit TestContext(Json resolved_config, std::shared_ptr<const Summarizer> summarizer = nullptr,
                       std::size_t summarize_threshold = 500)
      : config_(std::move(resolved_config)),
        summarizer_(summarizer ? std::move(summarizer) : std::make_shared<CutSummarizer>()),
        threshold_(summarize_threshold) {}

  const Json& config() const override { return config_; }

  std::string summarize(std::string_view text) const override {
    if (utf8_length(text) <= threshold_) return std::string(text);
    std::string summary = summarizer_->summarize(text, threshold_);
    summary.resize(utf8_prefix_bytes(summary, threshold_));
    return summary;
  }

  void log(LogLevel level, std::string_view message) const override {
    const std::lock_guard<std::mutex> lock(mutex_);
    logged_.push_back(LogLine{level, std::string(message)});
  }

  // Every line logged so far, in order.
  std::vector<LogLine> logged() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return logged_;
  }

 private:
  Json config_;
  std::shared_ptr<const Summarizer> summarizer_;
  std::size_t threshold_;
  mutable std::mutex mutex_;
  mutable std::vector<LogLine> logged_;
};

// An event handler made by the plugin's own factory, from resolve_config(plugin,
// config), with a TestContext; destroyed by the plugin's own destroy function.
// What the factory throws (a config the plugin refuses) comes out of the
// constructor unchanged.
class TestHandler {
 public:
  explicit TestHandler(const PluginDescriptor& plugin, const Json& config = Json::object(),
                       std::shared_ptr<const Summarizer> summarizer = nullptr,
                       std::size_t summarize_threshold = 500)
      : context_(resolve_config(plugin, config), std::move(summarizer), summarize_threshold),
        handler_(create(plugin, context_.config()), plugin.destroy_handler) {}

  std::vector<Mutation> handle(const Event& event) const { return handler_->handle(event, context_); }

  const TestContext& context() const { return context_; }
  const Json& config() const { return context_.config(); }

 private:
  static EventHandler* create(const PluginDescriptor& plugin, const Json& resolved) {
    if (plugin.kind != PluginKind::event_handler || !plugin.create_handler || !plugin.destroy_handler)
      throw std::invalid_argument(detail::who(plugin) + " is not an event handler");
    EventHandler* handler = plugin.create_handler(resolved);
    if (!handler) throw std::invalid_argument(detail::who(plugin) + ": factory returned no handler");
    return handler;
  }

  TestContext context_;
  std::unique_ptr<EventHandler, void (*)(EventHandler*)> handler_;
};

// A summarizer made by the plugin's own factory from resolve_config(plugin,
// config), to call directly or to pass to a TestHandler.
inline std::shared_ptr<const Summarizer> make_summarizer(const PluginDescriptor& plugin,
                                                         const Json& config = Json::object()) {
  if (plugin.kind != PluginKind::summarizer || !plugin.create_summarizer || !plugin.destroy_summarizer)
    throw std::invalid_argument(detail::who(plugin) + " is not a summarizer");
  Summarizer* summarizer = plugin.create_summarizer(resolve_config(plugin, config));
  if (!summarizer) throw std::invalid_argument(detail::who(plugin) + ": factory returned no summarizer");
  return std::shared_ptr<const Summarizer>(summarizer, [destroy = plugin.destroy_summarizer](const Summarizer* s) {
    destroy(const_cast<Summarizer*>(s));
  });
}

// An Event as the core hands it to a handler, from an envelope like the
// ones publishers send:
//   {"event_type": "purchase", "customer_id": "c1", "timestamp": 1700000000,
//    "source_service": "shop", "event_id": "e1", "data": {…}, "metadata": {…}}
// event_type is required; customer_email is data.email or
// data.customer_email, lower-cased; timestamp is unix seconds (0 when
// absent: tests stay the same every day); idempotency_key is event_id, else
// "test-" and a hash of the envelope's JSON; raw is the envelope's JSON;
// subject is "test". Unlike the core it does not parse ISO dates or
// milliseconds, and it refuses rather than dead-letters: std::invalid_argument
// for an envelope the core would not hand to a handler.
inline Event event(const Json& envelope) {
  if (!envelope.is_object()) throw std::invalid_argument("an event must be a JSON object, got " + envelope.dump());
  const auto text = [&](const char* key) -> std::string {
    const auto found = envelope.find(key);
    if (found == envelope.end() || found->is_null()) return "";
    if (!found->is_string()) throw std::invalid_argument(std::string(key) + " must be a string, got " + found->dump());
    return found->get<std::string>();
  };
  const auto object = [&](const char* key) -> Json {
    const auto found = envelope.find(key);
    if (found == envelope.end() || found->is_null()) return Json::object();
    if (!found->is_object()) throw std::invalid_argument(std::string(key) + " must be an object, got " + found->dump());
    return *found;
  };
  Event result;
  result.event_type = text("event_type");
  if (result.event_type.empty()) throw std::invalid_argument("event_type is required");
  result.customer_id = text("customer_id");
  result.source_service = text("source_service");
  result.data = object("data");
  result.metadata = object("metadata");
  for (const char* key : {"email", "customer_email"}) {
    if (!result.customer_email.empty()) break;
    if (auto email = optional_string(result.data, key)) result.customer_email = ascii_lower(*email);
  }
  if (const auto timestamp = envelope.find("timestamp"); timestamp != envelope.end() && !timestamp->is_null()) {
    if (!timestamp->is_number_integer())
      throw std::invalid_argument("timestamp must be unix seconds, got " + timestamp->dump());
    result.timestamp = timestamp->get<std::int64_t>();
  }
  result.raw = envelope.dump();
  result.subject = "test";
  result.idempotency_key = text("event_id");
  if (result.idempotency_key.empty()) {
    std::uint64_t hash = 14695981039346656037ull;  // FNV-1a: the same key on every run
    for (unsigned char byte : result.raw) hash = (hash ^ byte) * 1099511628211ull;
    result.idempotency_key = "test-" + std::to_string(hash);
  }
  return result;
}

// event() from JSON text.
inline Event parse_event(std::string_view json) {
  Event result = event(Json::parse(json));
  result.raw = std::string(json);
  return result;
}

// "UpdateCustomer", "AppendTimelineEvent", …
inline const char* mutation_name(const Mutation& mutation) {
  static constexpr const char* names[] = {"UpdateCustomer",  "AppendTimelineEvent", "UpsertPurchase",
                                          "UpsertWorkOrder", "AddKnowledge",        "AdjustLifetimeValue"};
  static_assert(std::size(names) == std::variant_size_v<Mutation>, "a name for every mutation type");
  return names[mutation.index()];
}

// The names of mutations, in order:
//   CHECK(kinds(mutations) == std::vector<std::string>{"UpsertPurchase", "AppendTimelineEvent"});
inline std::vector<std::string> kinds(const std::vector<Mutation>& mutations) {
  std::vector<std::string> names;
  for (const Mutation& mutation : mutations) names.emplace_back(mutation_name(mutation));
  return names;
}

// mutations[index] (from 0), which must be an M: the order of the mutations
// is part of what a handler promises. std::out_of_range saying what there
// was when it is not.
//   const auto& row = sdk::testing::mutation<sdk::UpsertPurchase>(mutations, 0);
template <class M>
const M& mutation(const std::vector<Mutation>& mutations, std::size_t index) {
  if (index < mutations.size())
    if (const M* found = std::get_if<M>(&mutations[index])) return *found;
  throw std::out_of_range("mutation " + std::to_string(index) + " is not an " +
                          mutation_name(Mutation(std::in_place_type<M>)) + "; the mutations are " +
                          detail::listed(kinds(mutations)));
}

// The mutations, which must be exactly one of each of Ms, in that order;
// std::out_of_range saying what there was when they are not.
//   const auto [row, timeline] =
//       sdk::testing::exactly<sdk::UpsertPurchase, sdk::AppendTimelineEvent>(mutations);
template <class... Ms>
std::tuple<Ms...> exactly(const std::vector<Mutation>& mutations) {
  const std::vector<std::string> expected{mutation_name(Mutation(std::in_place_type<Ms>))...};
  if (kinds(mutations) != expected)
    throw std::out_of_range("the mutations are " + detail::listed(kinds(mutations)) + ", not " +
                            detail::listed(expected));
  std::size_t index = 0;
  return std::tuple<Ms...>{std::get<Ms>(mutations[index++])...};
}

}  // namespace customeriq::sdk::testing
