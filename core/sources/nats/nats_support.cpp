#include "sources/nats/nats_support.hpp"

#include <cstdlib>
#include <optional>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace customeriq {

std::string status_text(natsStatus status) {
  const char* last = nats_GetLastError(nullptr);
  std::string text = natsStatus_GetText(status);
  // The thread's last error often says more ("Authorization Violation",
  // the JetStream API's description), prefixed with "(file.c:123): ".
  if (last && *last) {
    std::string detail = last;
    if (detail.front() == '(') {
      if (const auto end = detail.find("): "); end != std::string::npos) detail.erase(0, end + 3);
    }
    if (!detail.empty() && detail != text) text += ": " + detail;
  }
  return text;
}

void check(natsStatus status, const std::string& what) {
  if (status != NATS_OK) throw NatsError(what + ": " + status_text(status));
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

void log_received(const RawMessage& message) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  const auto json = nlohmann::json::parse(message.bytes, nullptr, false);
  std::string type = "?", customer = "?";
  if (json.is_object()) {
    auto text = [](const nlohmann::json& object, const char* key) -> std::optional<std::string> {
      auto it = object.find(key);
      if (it == object.end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    type = text(json, "event_type").value_or("?");
    if (auto id = text(json, "customer_id")) customer = *id;
    else if (auto data = json.find("data"); data != json.end() && data->is_object())
      customer = text(*data, "email").value_or(text(*data, "customer_email").value_or("?"));
  }
  spdlog::debug("[NATS] Received event on {}: {} {}", message.subject, type, customer);
}

RawMessage to_raw_message(natsMsg* msg) {
  RawMessage message;
  message.subject = natsMsg_GetSubject(msg);
  if (const char* data = natsMsg_GetData(msg))
    message.bytes.assign(data, static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  message.headers = nats_headers(msg);
  return message;
}

Headers nats_headers(natsMsg* msg) {
  Headers headers;
  const char** keys = nullptr;
  int key_count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &key_count) != NATS_OK) return headers;
  for (int i = 0; i < key_count; ++i) {
    const char** values = nullptr;
    int value_count = 0;
    if (natsMsgHeader_Values(msg, keys[i], &values, &value_count) == NATS_OK) {
      for (int j = 0; j < value_count; ++j) headers.emplace_back(keys[i], values[j] ? values[j] : "");
      std::free(static_cast<void*>(values));
    }
  }
  std::free(static_cast<void*>(keys));
  return headers;
}

}  // namespace customeriq
