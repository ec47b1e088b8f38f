#include <catch2/catch.hpp>

#include "metrics/metrics.hpp"

using customeriq::MetricsRegistry;

TEST_CASE("metrics: the Prometheus text format, counters by label, histograms cumulative", "[metrics]") {
  MetricsRegistry metrics;
  metrics.counter("requests_total", "Requests", {{"route", "/a"}, {"code", "200"}}).add(3);
  metrics.counter("requests_total", "Requests", {{"route", "/a"}, {"code", "200"}}).add();
  metrics.counter("requests_total", "Requests", {{"route", "/b\"x"}, {"code", "404"}}).add();
  metrics.gauge("queue_depth", "Queued", [] { return 7.0; });
  auto& seconds = metrics.histogram("commit_seconds", "Commit time", {0.01, 0.1});
  seconds.observe(0.005);
  seconds.observe(0.05);
  seconds.observe(3);
  const std::string text = metrics.render();
  CHECK(text == "# HELP requests_total Requests\n"
                "# TYPE requests_total counter\n"
                "requests_total{route=\"/a\",code=\"200\"} 4\n"
                "requests_total{route=\"/b\\\"x\",code=\"404\"} 1\n"
                "# HELP queue_depth Queued\n"
                "# TYPE queue_depth gauge\n"
                "queue_depth 7\n"
                "# HELP commit_seconds Commit time\n"
                "# TYPE commit_seconds histogram\n"
                "commit_seconds_bucket{le=\"0.01\"} 1\n"
                "commit_seconds_bucket{le=\"0.1\"} 2\n"
                "commit_seconds_bucket{le=\"+Inf\"} 3\n"
                "commit_seconds_sum 3.055\n"
                "commit_seconds_count 3\n");
}
