// NatsError: a NATS failure that retrying cannot fix.
#pragma once

#include <stdexcept>

namespace customeriq {

// A failure retrying cannot fix: bad credentials, TLS setup, the connection
// closed by the server for good.
class NatsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace customeriq
