// WriterThread: the bounded queue in front of the store and the one thread
// that commits it, many events per transaction.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "pipeline.hpp"
#include "store_writer.hpp"

namespace customeriq {

struct WriterCounters {
  std::atomic<std::uint64_t> applied{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> failed{0};  // not committed after every retry (retry_later)
  std::atomic<std::uint64_t> batches{0};
};

struct WriterThreadOptions {
  std::size_t batch_max_events = 1000;
  std::chrono::milliseconds batch_max_delay{0};
  std::size_t queue_capacity = 2000;
  int transient_retries = 5;  // attempts at a batch before its items get retry_later
};

class WriterThread {
 public:
  // Called on the writer thread after each commit, with the batch and the
  // outcome of each item (e.g. for latency measurements).
  using CommitObserver = std::function<void(const std::vector<WriteItem>&, const std::vector<Outcome>&)>;

  WriterThread(const Pipeline& pipeline, StoreWriter& store, WriterThreadOptions options);
  ~WriterThread();  // stops: commits what is queued, then joins
  WriterThread(const WriterThread&) = delete;
  WriterThread& operator=(const WriterThread&) = delete;

  // Runs the message through the pipeline on the calling thread and queues
  // the result. Blocks while the queue is full (backpressure). Any thread.
  void submit(RawMessage message);

  // Returns once everything submitted before the call is committed and acked.
  void flush();

  // Commits what is queued and stops the thread. submit() after stop() is an error.
  void stop();

  void set_commit_observer(CommitObserver observer) { observer_ = std::move(observer); }
  const WriterCounters& counters() const { return counters_; }
  std::size_t queued() const;

 private:
  void run();
  void commit(std::vector<WriteItem>& batch);

  const Pipeline& pipeline_;
  StoreWriter& store_;
  WriterThreadOptions options_;
  CommitObserver observer_;
  WriterCounters counters_;

  mutable std::mutex mutex_;
  std::condition_variable not_empty_, not_full_, drained_;
  std::deque<WriteItem> queue_;
  std::uint64_t submitted_ = 0, settled_ = 0;
  std::uint64_t flush_target_ = 0;  // a flush() waits until settled_ reaches it
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace customeriq
