#pragma once
// Loopback ports for integration tests.
#include <chrono>
#include <cstdint>
#include <string>

namespace sy::test {

// A port that was free on 127.0.0.1 a moment ago (bound without SO_REUSEADDR
// and closed again), below the kernel's ephemeral range so no outgoing
// connection takes it meanwhile. Returns 0 if no socket could be bound.
uint16_t free_port();

// Polls until a TCP connect to 127.0.0.1:port succeeds or `timeout` passes.
bool wait_port_open(uint16_t port, std::chrono::milliseconds timeout);

// One connect attempt to 127.0.0.1:port.
bool port_open(uint16_t port);

// One connect attempt to ipv4:port (a dotted IPv4 address), bounded by a
// 1 s timeout.
bool port_open(const std::string& ipv4, uint16_t port);

}  // namespace sy::test
