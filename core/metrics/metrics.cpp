#include "metrics/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace customeriq {
namespace {

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return std::to_string(static_cast<long long>(value));
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

// Label values escape backslash, double quote and newline.
std::string escape_label(const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\') escaped += "\\\\";
    else if (c == '"') escaped += "\\\"";
    else if (c == '\n') escaped += "\\n";
    else escaped += c;
  }
  return escaped;
}

std::string label_text(const MetricLabels& labels, const std::string& extra_name = {},
                       const std::string& extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return "";
  std::string text = "{";
  for (const auto& [name, value] : labels) {
    if (text.size() > 1) text += ',';
    text += name + "=\"" + escape_label(value) + '"';
  }
  if (!extra_name.empty()) {
    if (text.size() > 1) text += ',';
    text += extra_name + "=\"" + extra_value + '"';
  }
  return text + "}";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1)) {
  if (!std::is_sorted(upper_bounds_.begin(), upper_bounds_.end()))
    throw std::logic_error("histogram bounds must be ascending");
}

void Histogram::observe(double value) {
  const auto bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_micro_.fetch_add(static_cast<std::uint64_t>(std::max(0.0, value) * 1e6), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6;
  return snapshot;
}

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const std::string& help, Type type) {
  for (auto& existing : families_) {
    if (existing->name != name) continue;
    if (existing->type != type) throw std::logic_error("metric " + name + " registered with two types");
    return *existing;
  }
  families_.push_back(std::make_unique<Family>(Family{name, help, type, {}}));
  return *families_.back();
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help, const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  Family& counters = family(name, help, Type::counter);
  for (auto& series : counters.series) {
    if (series->labels == labels && series->counter) return *series->counter;
  }
  auto series = std::make_unique<Series>();
  series->labels = labels;
  series->counter = std::make_unique<Counter>();
  counters.series.push_back(std::move(series));
  return *counters.series.back()->counter;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      std::vector<double> upper_bounds) {
  std::lock_guard lock(mutex_);
  Family& histograms = family(name, help, Type::histogram);
  if (!histograms.series.empty()) return *histograms.series.front()->histogram;
  auto series = std::make_unique<Series>();
  series->histogram = std::make_unique<Histogram>(std::move(upper_bounds));
  histograms.series.push_back(std::move(series));
  return *histograms.series.back()->histogram;
}

void MetricsRegistry::counter_from(const std::string& name, const std::string& help, std::function<double()> read,
                                   const MetricLabels& labels) {
  add_read(name, help, Type::counter, std::move(read), labels);
}

void MetricsRegistry::gauge(const std::string& name, const std::string& help, std::function<double()> read,
                            const MetricLabels& labels) {
  add_read(name, help, Type::gauge, std::move(read), labels);
}

void MetricsRegistry::add_read(const std::string& name, const std::string& help, Type type,
                               std::function<double()> read, const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  auto series = std::make_unique<Series>();
  series->labels = labels;
  series->read = std::move(read);
  family(name, help, type).series.push_back(std::move(series));
}

std::string MetricsRegistry::render() const {
  static constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};
  std::lock_guard lock(mutex_);
  std::string text;
  for (const auto& family : families_) {
    text += "# HELP " + family->name + " " + family->help + "\n";
    text += "# TYPE " + family->name + " " + kTypeNames[static_cast<int>(family->type)] + "\n";
    for (const auto& series : family->series) {
      if (series->histogram) {
        const auto snapshot = series->histogram->snapshot();
        for (std::size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
          const std::string bound =
              i < snapshot.upper_bounds.size() ? format_value(snapshot.upper_bounds[i]) : "+Inf";
          text += family->name + "_bucket" + label_text(series->labels, "le", bound) + " " +
                  std::to_string(snapshot.cumulative_counts[i]) + "\n";
        }
        text += family->name + "_sum" + label_text(series->labels) + " " + format_value(snapshot.sum) + "\n";
        text += family->name + "_count" + label_text(series->labels) + " " + std::to_string(snapshot.count) + "\n";
      } else {
        const double value = series->counter ? static_cast<double>(series->counter->value()) : series->read();
        text += family->name + label_text(series->labels) + " " + format_value(value) + "\n";
      }
    }
  }
  return text;
}

}  // namespace customeriq
