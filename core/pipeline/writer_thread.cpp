#include "pipeline/writer_thread.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "backoff.hpp"

namespace customeriq {
namespace {

using namespace std::chrono_literals;

// A batch the store could not take yet: 100 ms doubling to 6.4 s.
constexpr Backoff kStoreRetryBackoff{100ms, 6400ms};

}  // namespace

WriterThread::WriterThread(const Pipeline& pipeline, StoreWriter& store, WriterThreadOptions options)
    : pipeline_(pipeline), store_(store), options_(options), thread_([this] { run(); }) {
  std::size_t threads = options_.pipeline_threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  pipeline_threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) pipeline_threads_.emplace_back([this] { run_pipeline(); });
}

WriterThread::~WriterThread() { stop(); }

void WriterThread::submit(RawMessage message) {
  std::unique_lock lock(mutex_);
  not_full_.wait(lock, [&] { return queue_.size() < options_.queue_capacity || stopping_; });
  if (stopping_) throw std::logic_error("WriterThread::submit after stop");
  queue_.emplace_back();
  inbox_.emplace_back(std::move(message), &queue_.back());
  ++submitted_;
  inbox_ready_.notify_one();
  // Committed batches are freed here, off the writer thread (freeing an
  // item's event and mutations took 4.5% of the writer's time).
  std::vector<std::vector<WriteItem>> spent;
  spent.swap(spent_);
  lock.unlock();
}

void WriterThread::run_pipeline() {
  pthread_setname_np(pthread_self(), "pipeline");
  if (options_.nice != 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), options_.nice);
  std::unique_lock lock(mutex_);
  for (;;) {
    inbox_ready_.wait(lock, [&] { return !inbox_.empty() || stopping_; });
    if (inbox_.empty()) return;  // stopping, and every message taken
    auto [message, slot] = std::move(inbox_.front());
    inbox_.pop_front();
    lock.unlock();
    WriteItem item;
    try {
      item = pipeline_.process(std::move(message));
    } catch (const std::exception& error) {
      // process() dead-letters every failure of an event; this is the
      // process itself failing (out of memory): keep the slot's order.
      item.content = DeadLetter{std::string("internal error in the pipeline: ") + error.what(), {}, {}, {}, {}, {}};
    }
    lock.lock();
    *slot = std::move(item);
    ++ready_slots_;
    if (slot == &queue_.front() || ready_slots_ >= options_.batch_max_events) not_empty_.notify_one();
  }
}

void WriterThread::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = submitted_;
  flush_target_ = std::max(flush_target_, target);
  not_empty_.notify_one();
  drained_.wait(lock, [&] { return settled_ >= target; });
}

void WriterThread::begin_shutdown() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  shutdown_.notify_all();
}

std::optional<std::string> WriterThread::fatal_error() const {
  std::lock_guard lock(mutex_);
  return fatal_error_;
}

void WriterThread::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    shutting_down_ = true;
  }
  shutdown_.notify_all();
  inbox_ready_.notify_all();
  not_empty_.notify_all();
  not_full_.notify_all();
  // The pipeline threads finish what was submitted; the writer commits it.
  for (auto& thread : pipeline_threads_)
    if (thread.joinable()) thread.join();
  if (thread_.joinable()) thread_.join();
}

std::size_t WriterThread::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void WriterThread::run() {
  pthread_setname_np(pthread_self(), "writer");
  if (options_.nice != 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), options_.nice);
  std::vector<WriteItem> batch;
  batch.reserve(options_.batch_max_events);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (queue_.empty() && !spent_.empty()) {
        // Idle: free what no submitter took.
        std::vector<std::vector<WriteItem>> spent;
        spent.swap(spent_);
        lock.unlock();
        spent.clear();
        lock.lock();
      }
      not_empty_.wait(lock, [&] { return front_ready() || (queue_.empty() && stopping_); });
      if (queue_.empty()) return;  // stopping, and everything committed
      // Let the batch fill up for at most batch_max_delay after its first
      // event, unless a flush or stop is waiting on it.
      const auto deadline = std::chrono::steady_clock::now() + options_.batch_max_delay;
      not_empty_.wait_until(lock, deadline, [&] {
        return ready_slots_ >= options_.batch_max_events || stopping_ || settled_ < flush_target_;
      });
      while (front_ready() && batch.size() < options_.batch_max_events) {
        batch.push_back(std::move(*queue_.front()));
        queue_.pop_front();
        --ready_slots_;
      }
    }
    not_full_.notify_all();
    commit(batch);
    {
      std::lock_guard lock(mutex_);
      settled_ += batch.size();
      spent_.push_back(std::move(batch));
    }
    drained_.notify_all();
    // Grown as it fills, not reserved: reserving a full batch is a fresh
    // mmap'ed block for every (often tiny) batch.
    batch = std::vector<WriteItem>();
  }
}

std::vector<Outcome> WriterThread::apply_with_retries(const std::vector<WriteItem>& batch) {
  if (fatal_error()) return std::vector<Outcome>(batch.size(), Outcome::retry_later);
  for (int attempt = 1;; ++attempt) {
    try {
      return store_.apply_batch(batch);
    } catch (const TransientStoreError& error) {
      bool shutting_down;
      {
        std::lock_guard lock(mutex_);
        shutting_down = shutting_down_;
      }
      if (attempt >= options_.transient_retries || shutting_down) {
        spdlog::error("[Writer] {}; giving up after {} attempt{}{}: {} events not committed (a source "
                      "that redelivers, JetStream, brings them again)",
                      error.what(), attempt, attempt == 1 ? "" : "s", shutting_down ? " (shutting down)" : "",
                      batch.size());
        return std::vector<Outcome>(batch.size(), Outcome::retry_later);
      }
      const auto backoff = kStoreRetryBackoff.after(attempt);
      spdlog::warn("[Writer] {}; retrying in {} ms (attempt {}/{})", error.what(), backoff.count(),
                   attempt, options_.transient_retries);
      std::unique_lock lock(mutex_);
      shutdown_.wait_for(lock, backoff, [&] { return shutting_down_; });
    } catch (const StoreError& error) {
      {
        std::lock_guard lock(mutex_);
        fatal_error_ = error.what();
      }
      spdlog::error("[Writer] {}; no more events are written: fix the database and restart. {} events of "
                    "this batch and every later one are not committed",
                    error.what(), batch.size());
      if (fatal_handler_) fatal_handler_(error.what());
      return std::vector<Outcome>(batch.size(), Outcome::retry_later);
    } catch (const std::exception& error) {
      // Not a SQLite error: a defect, not input (the decoder makes every
      // value storable). Stop writing, loudly, rather than end the process
      // with the batch half-acknowledged.
      {
        std::lock_guard lock(mutex_);
        fatal_error_ = std::string("internal error while writing a batch: ") + error.what();
      }
      spdlog::error("[Writer] {}; no more events are written, {} events of this batch are not committed",
                    *fatal_error(), batch.size());
      if (fatal_handler_) fatal_handler_(*fatal_error());
      return std::vector<Outcome>(batch.size(), Outcome::retry_later);
    }
  }
}

void WriterThread::set_commit_observer(CommitObserver observer) {
  std::lock_guard lock(observer_mutex_);
  observer_ = std::move(observer);
}

void WriterThread::commit(std::vector<WriteItem>& batch) {
  const auto started = std::chrono::steady_clock::now();
  const std::vector<Outcome> outcomes = apply_with_retries(batch);
  last_commit_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  counters_.batches.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Outcome outcome = outcomes[i];
    switch (outcome) {
      case Outcome::applied: counters_.applied.fetch_add(1, std::memory_order_relaxed); break;
      case Outcome::duplicate: counters_.duplicates.fetch_add(1, std::memory_order_relaxed); break;
      case Outcome::dead_lettered: counters_.dead_lettered.fetch_add(1, std::memory_order_relaxed); break;
      case Outcome::suppressed: counters_.suppressed.fetch_add(1, std::memory_order_relaxed); break;
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
  {
    std::lock_guard lock(observer_mutex_);
    if (observer_) observer_(batch, outcomes);
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].ack) batch[i].ack(outcomes[i]);
    batch[i].ack = nullptr;  // what it holds (an HTTP client's responder) goes now, not with the batch
  }
}

}  // namespace customeriq
