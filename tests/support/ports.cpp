#include "tests/support/ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

#include "tests/support/wait.hpp"

namespace sy::test {
namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Binds 127.0.0.1:port (0: the kernel picks) without SO_REUSEADDR and
// closes again: the port bound, 0 if that failed.
uint16_t try_bind(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr = loopback(port);
  uint16_t bound = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) bound = ntohs(addr.sin_port);
  }
  ::close(fd);
  return bound;
}

// The low end of the kernel's ephemeral range (0 if unreadable).
unsigned ephemeral_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 0;
  in >> low;
  return low;
}

}  // namespace

// From 10000–19999, below the kernel's ephemeral range (32768– here): a
// port bind(0) hands out is from that range, and any process's next outgoing
// connection may take it before the test's server binds it (the suite opens
// thousands). 20000– is left to the clusters' tunnel.tcp_ports (cluster.cpp).
// Each process walks its own pid-seeded sequence, so parallel tests rarely
// meet.
uint16_t free_port() {
  constexpr unsigned kFirst = 10000, kEnd = 20000;
  static const bool below = ephemeral_low() >= kEnd;
  if (!below) return try_bind(0);
  static std::atomic<unsigned> next{static_cast<unsigned>(::getpid()) * 7919u};
  for (int tries = 0; tries < 256; ++tries) {
    const auto port = static_cast<uint16_t>(kFirst + next.fetch_add(4099) % (kEnd - kFirst));
    if (try_bind(port) == port) return port;
  }
  return try_bind(0);
}

bool port_open(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr = loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

bool port_open(const std::string& ipv4, uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  bool ok = ::inet_pton(AF_INET, ipv4.c_str(), &addr.sin_addr) == 1;
  ok = ok && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

bool wait_port_open(uint16_t port, std::chrono::milliseconds timeout) {
  return wait_until([port] { return port_open(port); }, timeout);
}

}  // namespace sy::test
