// Loopback ports, for the tests and the bench alike (both start nats-server
// on one).
#pragma once

namespace customeriq::test {

// A port on 127.0.0.1 that nobody listened on a moment ago.
int free_port();

}  // namespace customeriq::test
