// NKeys, the Ed25519 keys NATS authenticates with: a seed ("SU…", secret)
// and its public key ("U…", what the server's configuration lists).
#pragma once

#include <string>
#include <string_view>

namespace customeriq {

// The public key of a user NKey seed, as nats-server's `nkey:` setting
// takes it. ConfigError when seed is not a user seed; the message never
// holds the seed.
std::string nkey_public_key(std::string_view seed);

// The seed of 32 raw Ed25519 private-key bytes, encoded as a user seed:
// what `nk -gen user` writes.
std::string nkey_user_seed(std::string_view raw_private_key);

}  // namespace customeriq
