// Backoff: the wait before attempt N of something that failed, doubling from
// an initial wait up to a cap, with optional random jitter so that many
// instances do not retry in step. The one schedule every retry loop uses.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace customeriq {

struct Backoff {
  std::chrono::milliseconds initial;
  std::chrono::milliseconds max;
  int jitter_percent = 0;  // up to this much is added at random

  // The wait after `failures` failures in a row (1 = the first failure).
  std::chrono::milliseconds after(std::int64_t failures) const {
    const auto doublings = std::clamp<std::int64_t>(failures - 1, 0, 30);
    const std::int64_t base = std::min<std::int64_t>(initial.count() << doublings, max.count());
    if (jitter_percent <= 0) return std::chrono::milliseconds(base);
    thread_local std::minstd_rand random(std::random_device{}());
    const std::int64_t spread = base * jitter_percent / 100;
    return std::chrono::milliseconds(base + static_cast<std::int64_t>(random() % (spread + 1)));
  }
};

}  // namespace customeriq
