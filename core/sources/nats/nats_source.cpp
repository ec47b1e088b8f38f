#include "sources/nats/nats_source.hpp"

#include <algorithm>

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include "sources/nats/nats_support.hpp"

namespace customeriq {

using namespace std::chrono_literals;

NatsSource::NatsSource(const NatsConfig& config, EventSink& sink, StopFlag& stop)
    : config_(config), sink_(sink), stop_(stop), connection_(config, &stop) {
  connection_.on_async_error = [this](natsSubscription* subscription, int status) {
    handle_async_error(subscription, status);
  };
}

NatsSource::~NatsSource() { close(); }

bool NatsSource::start() {
  if (!connection_.connect()) return false;
  for (const auto& subject : config_.subjects) {
    spdlog::info("[NATS] Subscribing to: {} (queue: {})", subject, config_.queue_group);
    natsSubscription* subscription = nullptr;
    check(natsConnection_QueueSubscribe(&subscription, connection_.handle(), subject.c_str(),
                                        config_.queue_group.c_str(), on_message, this),
          "cannot subscribe to " + subject);
    subscriptions_.push_back(subscription);
    subscription_subjects_.push_back(subject);
    check(natsSubscription_SetPendingLimits(subscription, config_.pending_msgs, config_.pending_bytes),
          "NATS_PENDING_MSGS/NATS_PENDING_BYTES");
  }
  // The server has the subscriptions once it answers the flush.
  if (natsConnection_FlushTimeout(connection_.handle(), 5000) != NATS_OK)
    spdlog::warn("[NATS] The server did not confirm the subscriptions yet; they are sent on reconnect");
  return true;
}

void NatsSource::on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto& self = *static_cast<NatsSource*>(closure);
  RawMessage message = to_raw_message(msg);
  natsMsg_Destroy(msg);
  ++self.received_;
  log_received(message);
  std::string subject = message.subject;  // for the message below: submit takes the rest
  try {
    self.sink_.submit(std::move(message));  // blocks while the queue is full: backpressure
  } catch (const std::exception& error) {
    spdlog::error("[NATS] Event on {} not processed: {}", subject, error.what());
  }
}

void NatsSource::handle_async_error(natsSubscription* subscription, int status) {
  const std::string subject = subscription ? natsSubscription_GetSubject(subscription) : "";
  if (status == NATS_SLOW_CONSUMER) {
    // nats.c reports every time the subscription falls behind again: say it
    // at most every 5 s (run() logs the running total as well).
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto last = last_slow_consumer_log_.load();
    if (last != 0 && now - last < std::chrono::steady_clock::duration(5s).count()) return;
    if (!last_slow_consumer_log_.compare_exchange_strong(last, now)) return;
    int64_t dropped = 0;
    if (subscription) natsSubscription_GetDropped(subscription, &dropped);
    spdlog::warn("[NATS] Slow consumer on {}: messages are being dropped ({} so far); core NATS "
                 "will not redeliver them. Raise NATS_PENDING_MSGS/NATS_PENDING_BYTES, or use "
                 "NATS_JETSTREAM=true",
                 subject, dropped);
    return;
  }
  spdlog::warn("[NATS] Asynchronous error{}{}: {}", subject.empty() ? "" : " on ", subject,
               natsStatus_GetText(static_cast<natsStatus>(status)));
}

void NatsSource::run() {
  std::uint64_t reported = 0;
  while (!stop_.wait_for(5s)) {
    const std::uint64_t dropped = stats().dropped;
    if (dropped > reported) {
      spdlog::warn("[NATS] {} messages dropped so far (slow consumer); they are lost", dropped);
      reported = dropped;
    }
  }
}

void NatsSource::stop_taking() {
  if (subscriptions_.empty()) return;
  dropped_ = stats().dropped;
  spdlog::info("[NATS] Draining subscriptions: no new messages, finishing those received");
  for (auto* subscription : subscriptions_) natsSubscription_Drain(subscription);
  for (std::size_t i = 0; i < subscriptions_.size(); ++i) {
    while (natsSubscription_WaitForDrainCompletion(subscriptions_[i], 5000) == NATS_TIMEOUT) {
      int pending = 0;
      natsSubscription_GetPending(subscriptions_[i], &pending, nullptr);
      spdlog::info("[NATS] Still draining {} ({} messages pending)", subscription_subjects_[i], pending);
    }
  }
}

void NatsSource::close() {
  for (auto* subscription : subscriptions_) natsSubscription_Destroy(subscription);
  subscriptions_.clear();
  connection_.close();
}

NatsStats NatsSource::stats() const {
  NatsStats stats;
  stats.received = received_;
  stats.dropped = dropped_;
  if (!subscriptions_.empty()) {
    std::uint64_t dropped = 0;
    for (auto* subscription : subscriptions_) {
      int64_t count = 0;
      if (natsSubscription_GetDropped(subscription, &count) == NATS_OK && count > 0)
        dropped += static_cast<std::uint64_t>(count);
    }
    stats.dropped = std::max<std::uint64_t>(stats.dropped, dropped);
  }
  stats.disconnects = connection_.disconnects();
  stats.reconnects = connection_.reconnects();
  return stats;
}

}  // namespace customeriq
