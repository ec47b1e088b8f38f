// Stable content hashes (the same on every machine and release), used for
// idempotency keys of events that carry no id and for derived customer ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace customeriq {

// 128-bit FNV-1a of bytes, as 32 lower-case hex digits.
inline std::string fnv1a_128_hex(std::string_view bytes) {
  using u128 = unsigned __int128;
  const u128 prime = (u128{0x0000000001000000ULL} << 64) | 0x000000000000013BULL;
  u128 hash = (u128{0x6c62272e07bb0142ULL} << 64) | 0x62b821756295c58dULL;
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= prime;
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(32, '0');
  for (int i = 31; i >= 0; --i) {
    hex[static_cast<std::size_t>(i)] = kDigits[static_cast<unsigned>(hash & 0xF)];
    hash >>= 4;
  }
  return hex;
}

}  // namespace customeriq
