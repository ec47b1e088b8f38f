#include "sources/nats/nkey.hpp"

#include <array>
#include <cstdint>
#include <memory>

#include <openssl/evp.h>

#include "config/environment.hpp"

namespace customeriq {
namespace {

// The key types' prefix bytes (github.com/nats-io/nkeys): the first five
// bits of the encoding are the letter 'S' for a seed, 'U' for a user.
constexpr std::uint8_t kPrefixSeed = 18 << 3;
constexpr std::uint8_t kPrefixUser = 20 << 3;
constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// CRC-16/XMODEM, appended little-endian to every encoded key.
std::uint16_t crc16(const std::string& bytes) {
  std::uint16_t crc = 0;
  for (unsigned char byte : bytes) {
    crc ^= static_cast<std::uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit)
      crc = static_cast<std::uint16_t>(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return crc;
}

std::string base32_encode(const std::string& bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char byte : bytes) {
    buffer = (buffer << 8) | byte;
    for (bits += 8; bits >= 5; bits -= 5) out += kBase32[(buffer >> (bits - 5)) & 31];
  }
  if (bits > 0) out += kBase32[(buffer << (5 - bits)) & 31];
  return out;
}

// nullopt-free: an empty result means the text is not base32.
std::string base32_decode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    else if (c >= '2' && c <= '7') value = c - '2' + 26;
    else return {};
    buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

std::string with_checksum(std::string bytes) {
  const std::uint16_t crc = crc16(bytes);
  bytes += static_cast<char>(crc & 0xff);
  bytes += static_cast<char>(crc >> 8);
  return bytes;
}

}  // namespace

std::string nkey_user_seed(std::string_view raw_private_key) {
  std::string bytes;
  bytes += static_cast<char>(kPrefixSeed | (kPrefixUser >> 5));
  bytes += static_cast<char>((kPrefixUser & 31) << 3);
  bytes.append(raw_private_key);
  return base32_encode(with_checksum(std::move(bytes)));
}

std::string nkey_public_key(std::string_view seed) {
  while (!seed.empty() && (seed.back() == '\n' || seed.back() == '\r' || seed.back() == ' ')) seed.remove_suffix(1);
  const std::string raw = base32_decode(seed);
  // 2 prefix bytes, the 32-byte Ed25519 seed, the 2-byte checksum.
  if (raw.size() != 36 || with_checksum(raw.substr(0, 34)) != raw)
    throw ConfigError("is not an NKey seed (a line of base32 starting with SU, as `nk -gen user` writes)");
  const auto first = static_cast<std::uint8_t>(raw[0]), second = static_cast<std::uint8_t>(raw[1]);
  if ((first & 0xf8) != kPrefixSeed || ((first & 7) << 5 | (second & 0xf8) >> 3) != kPrefixUser)
    throw ConfigError("is an NKey seed but not of a user (it must start with SU)");

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                   reinterpret_cast<const unsigned char*>(raw.data() + 2), 32),
      &EVP_PKEY_free);
  std::array<unsigned char, 32> public_key{};
  std::size_t length = public_key.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), public_key.data(), &length) != 1 || length != 32)
    throw ConfigError("holds an NKey seed that OpenSSL cannot turn into an Ed25519 key");
  std::string bytes(1, static_cast<char>(kPrefixUser));
  bytes.append(reinterpret_cast<const char*>(public_key.data()), public_key.size());
  return base32_encode(with_checksum(std::move(bytes)));
}

}  // namespace customeriq
