#include "latency.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace customeriq::bench {

Percentiles percentiles(std::vector<double> values) {
  Percentiles p;
  p.n = values.size();
  if (values.empty()) return p;
  std::sort(values.begin(), values.end());
  auto rank = [&](double q) {
    const auto index = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size()))) ;
    return values[std::min(values.size() - 1, index == 0 ? 0 : index - 1)];
  };
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  p.max = values.back();
  p.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  return p;
}

std::int64_t seq_of_event_id(std::string_view id) {
  if (id.size() < 10 || !id.starts_with("evt-")) return -1;
  std::int64_t seq = 0;
  for (char c : id.substr(id.size() - 9)) {
    if (c < '0' || c > '9') return -1;
    seq = seq * 10 + (c - '0');
  }
  return seq;
}

CommitPoller::CommitPoller(std::filesystem::path db, std::size_t count, std::chrono::microseconds interval)
    : db_(std::move(db)), interval_(interval), seen_by_(count, 0), seen_after_(count, 0) {}

CommitPoller::~CommitPoller() { stop(); }

void CommitPoller::start() {
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void CommitPoller::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
}

bool CommitPoller::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!ready_ && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return ready_;
}

double CommitPoller::mean_interval_ms() const {
  return polls_ > 1 ? static_cast<double>(last_poll_ns_ - first_poll_ns_) / static_cast<double>(polls_ - 1) / 1e6 : 0;
}

void CommitPoller::run() {
  std::unique_ptr<SQLite::Database> db;
  std::unique_ptr<SQLite::Statement> query;
  while (running_ && !query) {
    try {
      if (std::filesystem::exists(db_)) {
        db = std::make_unique<SQLite::Database>(db_.string(), SQLite::OPEN_READONLY);
        db->setBusyTimeout(1000);
        query = std::make_unique<SQLite::Statement>(
            *db, "SELECT id, json_extract(raw_event_data, '$.event_id') FROM customer_events "
                 "WHERE id > ?1 ORDER BY id");
      }
    } catch (const std::exception&) {
      query.reset();
      db.reset();
    }
    if (!query) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ready_ = true;
  std::int64_t last_id = 0;
  std::int64_t previous_start = now_ns();
  while (running_) {
    const std::int64_t start = now_ns();
    std::int64_t first_row_at = 0;
    try {
      query->bind(1, static_cast<int64_t>(last_id));
      while (query->executeStep()) {
        if (!first_row_at) first_row_at = now_ns();
        last_id = query->getColumn(0).getInt64();
        const char* id = query->getColumn(1).getText("");
        const std::int64_t seq = seq_of_event_id(id);
        if (seq >= 0 && static_cast<std::size_t>(seq) < seen_by_.size() && !seen_by_[seq]) {
          seen_by_[seq] = first_row_at;
          seen_after_[seq] = previous_start;
          ++seen_count_;
        }
      }
      query->reset();
    } catch (const std::exception&) {
      try {
        query->reset();
      } catch (...) {
      }
    }
    if (polls_ == 0) first_poll_ns_ = start;
    if (polls_ > 0) max_interval_ns_ = std::max(max_interval_ns_, start - last_poll_ns_);
    last_poll_ns_ = start;
    ++polls_;
    previous_start = start;
    std::this_thread::sleep_for(interval_);
  }
}

std::vector<std::int64_t> send_paced(std::size_t count, double rate,
                                     const std::function<void(std::size_t)>& send) {
  std::vector<std::int64_t> sent(count, 0);
  const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / rate));
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    const auto due = t0 + period * static_cast<std::int64_t>(i);
    if (Clock::now() < due) std::this_thread::sleep_until(due);
    sent[i] = now_ns();
    send(i);
  }
  return sent;
}

LatencyResult latency_from(const std::vector<std::int64_t>& sent, const CommitPoller& poller) {
  LatencyResult result;
  std::vector<double> upper, lower;
  const auto& by = poller.seen_by();
  const auto& after = poller.seen_after();
  for (std::size_t i = 0; i < sent.size() && i < by.size(); ++i) {
    if (!sent[i]) continue;
    if (!by[i]) {
      ++result.missing;
      continue;
    }
    upper.push_back(static_cast<double>(by[i] - sent[i]) / 1e6);
    lower.push_back(std::max(0.0, static_cast<double>(after[i] - sent[i]) / 1e6));
  }
  result.upper = percentiles(std::move(upper));
  result.lower = percentiles(std::move(lower));
  result.resolution_ms = poller.mean_interval_ms();
  return result;
}

ProgressResult wait_for_rows(const std::filesystem::path& db_path, std::int64_t target,
                             std::chrono::milliseconds idle, const std::function<bool()>& feeding,
                             std::chrono::milliseconds every) {
  ProgressResult result;
  std::unique_ptr<SQLite::Database> db;
  std::int64_t last_change = now_ns();
  while (true) {
    if (!db) {
      try {
        if (std::filesystem::exists(db_path)) {
          db = std::make_unique<SQLite::Database>(db_path.string(), SQLite::OPEN_READONLY);
          db->setBusyTimeout(1000);
        }
      } catch (const std::exception&) {
        db.reset();
      }
    }
    if (db) {
      try {
        const std::int64_t rows = db->execAndGet("SELECT coalesce(max(id), 0) FROM customer_events").getInt64();
        const std::int64_t t = now_ns();
        if (rows != result.rows) {
          result.rows = rows;
          result.reached_ns = t;
          last_change = t;
        }
        if (rows >= target) {
          result.complete = true;
          return result;
        }
      } catch (const std::exception&) {
        // schema not there yet
      }
    }
    if (!feeding() &&
        now_ns() - last_change > std::chrono::duration_cast<std::chrono::nanoseconds>(idle).count())
      return result;  // the feeder is done and nothing moved for `idle`
    std::this_thread::sleep_for(every);
  }
}

}  // namespace customeriq::bench
