#include "pipeline/pipeline.hpp"

#include <spdlog/spdlog.h>

#include "pipeline/event_decoder.hpp"
#include "text.hpp"
#include "config/paths.hpp"

namespace customeriq {

std::filesystem::path find_plugin_file(const std::string& name,
                                       const std::vector<std::filesystem::path>& plugin_path) {
  if (name.find('/') != std::string::npos || name.ends_with(".so")) {
    if (!std::filesystem::exists(name)) throw ConfigError("plugin file " + name + " does not exist");
    return std::filesystem::absolute(name);
  }
  std::vector<std::filesystem::path> folders = plugin_path;
  folders.push_back(bundled_plugin_directory());
  std::string searched;
  for (const auto& folder : folders) {
    auto candidate = folder / (name + ".so");
    if (std::filesystem::exists(candidate)) return candidate;
    searched += (searched.empty() ? "" : ", ") + folder.string();
  }
  throw ConfigError("no plugin '" + name + "' (" + name + ".so) in: " + searched);
}

Pipeline::Pipeline(PipelineConfig config, std::optional<std::size_t> threshold_override)
    : config_(std::move(config)) {
  auto load = [&](const std::string& name, const std::string& location) {
    try {
      return load_plugin(find_plugin_file(name, config_.plugin_path));
    } catch (const std::exception& error) {
      throw ConfigError(location + ": " + error.what());
    }
  };

  if (config_.summarizer) {
    const auto& spec = *config_.summarizer;
    threshold_ = spec.threshold;
    summarizer_plugin_ = load(spec.plugin, spec.location);
    try {
      summarizer_ = summarizer_plugin_->create_summarizer(summarizer_plugin_->resolve_config(spec.config));
    } catch (const PluginError& error) {
      throw ConfigError(spec.location + ": " + error.what());
    }
  }
  if (threshold_override) threshold_ = *threshold_override;

  routes_.reserve(config_.handlers.size());
  std::unordered_map<std::string, std::string> claimed_at;  // type -> location
  for (const auto& spec : config_.handlers) {
    Route route;
    route.plugin = load(spec.plugin, spec.location);
    const auto& descriptor = route.plugin->descriptor();
    try {
      const Json resolved = route.plugin->resolve_config(spec.config);
      route.handler = route.plugin->create_handler(resolved);
      route.context = std::make_unique<PluginContext>(route.plugin->id(), resolved, summarizer_, threshold_);
    } catch (const PluginError& error) {
      throw ConfigError(spec.location + ": " + error.what());
    }
    route.event_types = spec.event_types;
    if (route.event_types.empty())
      route.event_types.assign(descriptor.event_types, descriptor.event_types + descriptor.event_type_count);
    if (route.event_types.empty()) {
      throw ConfigError(spec.location + ": plugin " + route.plugin->id() +
                        " declares no event types; list them under event_types");
    }
    for (const auto& type : route.event_types) {
      auto [it, inserted] = claimed_at.emplace(type, spec.location);
      if (!inserted) {
        throw ConfigError(spec.location + ": event type '" + type + "' is already handled by the handler at " +
                          it->second);
      }
    }
    routes_.push_back(std::move(route));
  }
  for (const auto& route : routes_) {
    for (const auto& type : route.event_types) {
      if (type == "*") fallback_ = &route;
      else route_by_type_.emplace(type, &route);
    }
  }
}

std::vector<MutationJsonText> json_text_of(const std::vector<sdk::Mutation>& mutations) {
  auto text = [](const std::optional<sdk::Json>& value) -> std::optional<std::string> {
    if (!value) return std::nullopt;
    return value->dump();
  };
  std::vector<MutationJsonText> texts;
  texts.reserve(mutations.size());
  for (const auto& mutation : mutations) {
    MutationJsonText& entry = texts.emplace_back();
    if (const auto* m = std::get_if<sdk::UpdateCustomer>(&mutation)) {
      entry = {text(m->tags), text(m->custom_fields)};
    } else if (const auto* m = std::get_if<sdk::AppendTimelineEvent>(&mutation)) {
      entry[0] = m->metadata.dump();
    } else if (const auto* m = std::get_if<sdk::UpsertPurchase>(&mutation)) {
      entry[0] = m->metadata.dump();
    } else if (const auto* m = std::get_if<sdk::UpsertWorkOrder>(&mutation)) {
      entry[0] = text(m->metadata);
    } else if (const auto* m = std::get_if<sdk::AddKnowledge>(&mutation)) {
      entry[0] = m->tags.dump();
    }
  }
  return texts;
}

WriteItem Pipeline::process(RawMessage message) const {
  WriteItem item;
  item.ack = std::move(message.ack);
  item.replay_of = message.replay_of;
  item.received = message.received;
  item.received_at = message.received_at;
  item.source_seq = message.source_seq;

  auto decoded = decode_event(std::move(message), DecodeLimits{config_.max_event_bytes, config_.max_nesting_depth});
  if (auto* letter = std::get_if<DeadLetter>(&decoded)) {
    spdlog::warn("[Pipeline] Dead letter from {}: {}", letter->subject, letter->reason);
    item.content = std::move(*letter);
    return item;
  }
  sdk::Event& event = std::get<sdk::Event>(decoded);

  auto dead_letter = [&](std::string reason) {
    reason = to_valid_utf8(reason);
    spdlog::warn("[Pipeline] Dead letter from {} ({} {}): {}", event.subject, event.event_type,
                 event.idempotency_key, reason);
    item.content = DeadLetter{std::move(reason), std::move(event.raw), std::move(event.subject),
                              std::move(event.headers), event.event_type, event.idempotency_key};
    return std::move(item);
  };

  auto found = route_by_type_.find(event.event_type);
  const Route* route = found != route_by_type_.end() ? found->second : fallback_;
  if (!route) return dead_letter("no handler for event_type '" + event.event_type + "' in " + config_.file.string());

  HandledEvent handled;
  handled.handler_id = route->plugin->id();
  try {
    handled.mutations = route->handler->handle(event, *route->context);
    handled.json_text = json_text_of(handled.mutations);
  } catch (const sdk::InvalidEvent& error) {
    return dead_letter("invalid " + event.event_type + " event (plugin " + handled.handler_id + "): " + error.what());
  } catch (const std::exception& error) {
    return dead_letter("plugin " + handled.handler_id + " failed: " + error.what());
  } catch (...) {
    return dead_letter("plugin " + handled.handler_id + " threw a non-standard exception");
  }
  handled.event = std::move(event);
  item.content = std::move(handled);
  return item;
}

}  // namespace customeriq
