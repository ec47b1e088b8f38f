#include "writer_thread.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace customeriq {

WriterThread::WriterThread(const Pipeline& pipeline, StoreWriter& store, WriterThreadOptions options)
    : pipeline_(pipeline), store_(store), options_(options), thread_([this] { run(); }) {}

WriterThread::~WriterThread() { stop(); }

void WriterThread::submit(RawMessage message) {
  WriteItem item = pipeline_.process(std::move(message));
  std::unique_lock lock(mutex_);
  not_full_.wait(lock, [&] { return queue_.size() < options_.queue_capacity || stopping_; });
  if (stopping_) throw std::logic_error("WriterThread::submit after stop");
  queue_.push_back(std::move(item));
  ++submitted_;
  if (queue_.size() == 1 || queue_.size() >= options_.batch_max_events) not_empty_.notify_one();
}

void WriterThread::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = submitted_;
  flush_target_ = std::max(flush_target_, target);
  not_empty_.notify_one();
  drained_.wait(lock, [&] { return settled_ >= target; });
}

void WriterThread::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::size_t WriterThread::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void WriterThread::run() {
  std::vector<WriteItem> batch;
  batch.reserve(options_.batch_max_events);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty() && stopping_) return;
      // Let the batch fill up for at most batch_max_delay after its first
      // event, unless a flush or stop is waiting on it.
      const auto deadline = std::chrono::steady_clock::now() + options_.batch_max_delay;
      not_empty_.wait_until(lock, deadline, [&] {
        return queue_.size() >= options_.batch_max_events || stopping_ ||
               settled_ < flush_target_;
      });
      while (!queue_.empty() && batch.size() < options_.batch_max_events) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    not_full_.notify_all();
    commit(batch);
    {
      std::lock_guard lock(mutex_);
      settled_ += batch.size();
    }
    drained_.notify_all();
    batch.clear();
  }
}

void WriterThread::commit(std::vector<WriteItem>& batch) {
  std::vector<Outcome> outcomes;
  for (int attempt = 1;; ++attempt) {
    try {
      outcomes = store_.apply_batch(batch);
      break;
    } catch (const TransientStoreError& error) {
      if (attempt >= options_.transient_retries) {
        spdlog::error("[Writer] {}; giving up after {} attempts, {} events left for redelivery",
                      error.what(), attempt, batch.size());
        outcomes.assign(batch.size(), Outcome::retry_later);
        break;
      }
      // Capped at 6.4 s: core NATS retries (practically) forever.
      const auto backoff = std::chrono::milliseconds(100) * (1 << std::min(attempt - 1, 6));
      spdlog::warn("[Writer] {}; retrying in {} ms (attempt {}/{})", error.what(), backoff.count(),
                   attempt, options_.transient_retries);
      std::this_thread::sleep_for(backoff);
    }
  }
  counters_.batches.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Outcome outcome = outcomes[i];
    switch (outcome) {
      case Outcome::applied: counters_.applied.fetch_add(1, std::memory_order_relaxed); break;
      case Outcome::duplicate: counters_.duplicates.fetch_add(1, std::memory_order_relaxed); break;
      case Outcome::dead_lettered: counters_.dead_lettered.fetch_add(1, std::memory_order_relaxed); break;
      case Outcome::retry_later: counters_.failed.fetch_add(1, std::memory_order_relaxed); break;
    }
    if (const auto* handled = std::get_if<HandledEvent>(&batch[i].content);
        handled && spdlog::should_log(spdlog::level::debug)) {
      const auto& event = handled->event;
      if (outcome == Outcome::applied) {
        spdlog::debug("[EventProcessor] Processed {} for customer {}: {}", event.event_type,
                      event.customer_id.empty() ? event.customer_email : event.customer_id,
                      event.idempotency_key);
      } else {
        spdlog::debug("[EventProcessor] {} {} for customer {}: {}", to_string(outcome), event.event_type,
                      event.customer_id.empty() ? event.customer_email : event.customer_id,
                      event.idempotency_key);
      }
    }
  }
  if (observer_) observer_(batch, outcomes);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].ack) batch[i].ack(outcomes[i]);
  }
}

}  // namespace customeriq
