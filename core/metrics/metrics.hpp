// Metrics: counters, histograms and read-at-scrape values, rendered in the
// Prometheus text format (version 0.0.4). Updating a metric is lock-free;
// only registering a new label combination takes a lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace customeriq {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void add(std::uint64_t amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative_counts;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative; last is +Inf
  std::atomic<std::uint64_t> sum_micro_{0};               // the sum in millionths
  std::atomic<std::uint64_t> count_{0};
};

class MetricsRegistry {
 public:
  // The counter of name with these labels, created at zero the first time.
  // The reference stays valid for the registry's life.
  Counter& counter(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> upper_bounds);
  // A value read when scraped: a counter kept elsewhere (`counter_from`) or
  // a gauge.
  void counter_from(const std::string& name, const std::string& help, std::function<double()> read,
                    const MetricLabels& labels = {});
  void gauge(const std::string& name, const std::string& help, std::function<double()> read,
             const MetricLabels& labels = {});

  // Every family in registration order, each with its HELP and TYPE lines.
  std::string render() const;

 private:
  enum class Type { counter, gauge, histogram };
  struct Series {
    MetricLabels labels;
    std::unique_ptr<Counter> counter;
    std::function<double()> read;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string name, help;
    Type type;
    std::vector<std::unique_ptr<Series>> series;
  };
  Family& family(const std::string& name, const std::string& help, Type type);
  void add_read(const std::string& name, const std::string& help, Type type, std::function<double()> read,
                const MetricLabels& labels);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;
};

}  // namespace customeriq
