// WriterThread: the pipeline threads that decode and handle events in
// parallel, the bounded queue in front of the store, and the one thread that
// commits it, many events per transaction, in the order they were submitted.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "event_sink.hpp"
#include "pipeline/pipeline.hpp"
#include "store/store_writer.hpp"

namespace customeriq {

struct WriterCounters {
  std::atomic<std::uint64_t> applied{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> suppressed{0};  // for an erased customer: not stored
  std::atomic<std::uint64_t> failed{0};  // not committed after every retry (retry_later)
  std::atomic<std::uint64_t> batches{0};
};

struct WriterThreadOptions {
  std::size_t batch_max_events = 1000;
  std::chrono::milliseconds batch_max_delay{0};
  std::size_t queue_capacity = 2000;
  // Threads that run submitted messages through the pipeline (decode, route,
  // handler, the text the writer binds), in parallel; their results reach
  // the writer in submission order whatever thread finishes first. 0: one
  // per core.
  std::size_t pipeline_threads = 0;
  // Attempts at a batch that fails with a transient store error (busy,
  // locked, disk full) before its items get retry_later; the waits between
  // them double from 100 ms up to 6.4 s. Once shutdown has begun, a failed
  // batch is not retried.
  int transient_retries = 5;
  // The writing thread's nice value: above 0, it yields the cores to
  // threads that must not fall behind (core NATS's receiving side).
  int nice = 0;
};

class WriterThread final : public EventSink {
 public:
  // Called on the writer thread after each commit, with the batch and the
  // outcome of each item (e.g. for latency measurements).
  using CommitObserver = std::function<void(const std::vector<WriteItem>&, const std::vector<Outcome>&)>;

  WriterThread(const Pipeline& pipeline, StoreWriter& store, WriterThreadOptions options);
  ~WriterThread();  // stops: commits what is queued, then joins
  WriterThread(const WriterThread&) = delete;
  WriterThread& operator=(const WriterThread&) = delete;

  // Queues the message for a pipeline thread; its result is committed after
  // that of every message submitted before it. Blocks while the queue is
  // full (backpressure). Any thread.
  void submit(RawMessage message) override;

  // Returns once everything submitted before the call is committed and acked.
  void flush() override;

  // Commits what is queued and stops the thread. submit() after stop() is an error.
  void stop();

  // From now on a batch that fails is not retried: its items get
  // retry_later at once, so a shutdown completes whatever the store does.
  void begin_shutdown();

  // Set when the database cannot be written (StoreError): the message. From
  // then on every item gets retry_later without touching the store.
  std::optional<std::string> fatal_error() const;

  // Called once, on the writer thread, when fatal_error() becomes set.
  void set_fatal_handler(std::function<void(const std::string&)> handler) { fatal_handler_ = std::move(handler); }

  // May be called while the writer runs: it takes effect from the next commit.
  void set_commit_observer(CommitObserver observer);
  // How long the last batch took to apply and commit (retries included);
  // for the commit observer, which runs right after it.
  double last_commit_seconds() const { return last_commit_seconds_; }
  const WriterCounters& counters() const { return counters_; }
  std::size_t queued() const;

 private:
  void run();
  void run_pipeline();
  bool front_ready() const { return !queue_.empty() && queue_.front().has_value(); }
  void commit(std::vector<WriteItem>& batch);
  std::vector<Outcome> apply_with_retries(const std::vector<WriteItem>& batch);

  const Pipeline& pipeline_;
  StoreWriter& store_;
  WriterThreadOptions options_;
  mutable std::mutex observer_mutex_;
  CommitObserver observer_;  // guarded by observer_mutex_
  std::function<void(const std::string&)> fatal_handler_;
  WriterCounters counters_;
  double last_commit_seconds_ = 0;  // writer thread only

  mutable std::mutex mutex_;
  std::condition_variable not_empty_, not_full_, drained_;
  // In submission order; a slot stays empty until its pipeline thread fills
  // it, and the writer takes only the filled front. std::deque keeps the
  // slots in place while both ends move, so a pipeline thread holds a
  // pointer to its own.
  std::deque<std::optional<WriteItem>> queue_;
  std::deque<std::pair<RawMessage, std::optional<WriteItem>*>> inbox_;  // not yet taken by a pipeline thread
  std::condition_variable inbox_ready_;
  std::size_t ready_slots_ = 0;  // filled slots in queue_
  std::vector<std::vector<WriteItem>> spent_;  // committed batches, freed by the next submit() (or when idle)
  std::uint64_t submitted_ = 0, settled_ = 0;
  std::uint64_t flush_target_ = 0;  // a flush() waits until settled_ reaches it
  bool stopping_ = false;
  bool shutting_down_ = false;           // begin_shutdown() or stop(): no more retries
  std::condition_variable shutdown_;     // wakes a retry backoff
  std::optional<std::string> fatal_error_;
  std::thread thread_;
  std::vector<std::thread> pipeline_threads_;
};

}  // namespace customeriq
