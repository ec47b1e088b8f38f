// The bench's own PRNG, so the same seed gives the same events and queries
// on every machine (no std::*_distribution).
#pragma once

#include <cstdint>

namespace customeriq::bench {

// A small, fast, well-mixed PRNG (xoshiro256**), seeded with splitmix64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  // Uniform in [0, bound).
  std::uint64_t below(std::uint64_t bound);
  // Uniform in [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi) { return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1))); }
  double unit();  // [0, 1)
  bool chance(double p) { return unit() < p; }

 private:
  std::uint64_t s_[4];
};

}  // namespace customeriq::bench
