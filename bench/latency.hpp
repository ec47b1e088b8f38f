// Measuring publish -> commit without any hook in the service: the bench
// records when it published each event, and a poller on its own read-only
// connection records when each event's row became visible.
//
// Every event of the bench mix writes exactly one customer_events row, and
// with one writer the rowids of later commits are always larger, so
//   SELECT id, json_extract(raw_event_data, '$.event_id')
//   FROM customer_events WHERE id > :last
// returns exactly the events committed since the previous poll. An event
// first seen by poll k committed after poll k-1 took its snapshot and
// before poll k returned its first row: the poller keeps both bounds, the
// bench reports the upper one (conservative), and the resolution (the
// polling interval, ~1 ms) is reported alongside.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace customeriq::bench {

using Clock = std::chrono::steady_clock;

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct Percentiles {
  std::size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};
// Nearest-rank percentiles of the values (any unit).
Percentiles percentiles(std::vector<double> values);

// Sequence number of a bench event id ("evt-<seed>-<9 digits>"), or -1.
std::int64_t seq_of_event_id(std::string_view event_id);

class CommitPoller {
 public:
  // Tracks events with seq < count.
  CommitPoller(std::filesystem::path db, std::size_t count,
               std::chrono::microseconds interval = std::chrono::microseconds(1000));
  ~CommitPoller();

  // Starts the polling thread; it waits for the database and its schema.
  void start();
  void stop();
  // Blocks until the database is open and readable (or timeout).
  bool wait_ready(std::chrono::milliseconds timeout);

  // Per seq, ns on the steady clock (0 = not seen).
  const std::vector<std::int64_t>& seen_by() const { return seen_by_; }        // upper bound
  const std::vector<std::int64_t>& seen_after() const { return seen_after_; }  // lower bound
  std::size_t seen() const { return seen_count_.load(); }
  double mean_interval_ms() const;
  double max_interval_ms() const { return max_interval_ns_ / 1e6; }
  std::uint64_t polls() const { return polls_; }

 private:
  void run();
  std::filesystem::path db_;
  std::chrono::microseconds interval_;
  std::vector<std::int64_t> seen_by_, seen_after_;
  std::atomic<std::size_t> seen_count_{0};
  std::atomic<bool> running_{false}, ready_{false};
  std::thread thread_;
  std::uint64_t polls_ = 0;
  std::int64_t first_poll_ns_ = 0, last_poll_ns_ = 0, max_interval_ns_ = 0;
};

// Calls send(i) for i in [0, count) on an absolute schedule of `rate` per
// second; returns the time (ns) just before each send. A send that runs late
// does not shift the schedule (the next ones catch up), so the offered rate
// holds on average.
std::vector<std::int64_t> send_paced(std::size_t count, double rate,
                                     const std::function<void(std::size_t)>& send);

// Latencies (ms) from sent to seen, for every event seen; missing = not seen.
struct LatencyResult {
  Percentiles upper;  // to the poll that first saw the row (reported)
  Percentiles lower;  // to the poll before it
  std::size_t missing = 0;
  double resolution_ms = 0;
};
LatencyResult latency_from(const std::vector<std::int64_t>& sent, const CommitPoller& poller);

// Polls SELECT max(id) FROM customer_events (O(log n)) every `every` until it
// reaches target, or until feeding() is false and the value has not changed
// for `idle` (the rest was dropped, or the service stopped). Returns the
// time (ns) of the poll that saw the final value, and that value.
struct ProgressResult {
  std::int64_t reached_ns = 0;
  std::int64_t rows = 0;
  bool complete = false;
};
ProgressResult wait_for_rows(const std::filesystem::path& db, std::int64_t target,
                             std::chrono::milliseconds idle,
                             const std::function<bool()>& feeding,
                             std::chrono::milliseconds every = std::chrono::milliseconds(10));

}  // namespace customeriq::bench
