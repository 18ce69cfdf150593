#pragma once
// Raw TCP peers for the tunnel tests: a target server that echoes (or counts
// and answers after EOF), and a client that pushes a byte pattern through
// any TCP entry and checks what comes back. Blocking sockets, one thread per
// connection, 127.0.0.1 only, every read bounded by SO_RCVTIMEO.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sy::test {

class TcpTarget {
 public:
  enum class Mode {
    echo,          // writes back what it reads; at EOF shuts down its write side
    count_at_eof,  // reads to EOF, then writes "count=N\n" and closes: proves the half-close arrived
    stall_first,   // the first connection is never read (a stuck target); the others echo
  };
  explicit TcpTarget(Mode mode);
  ~TcpTarget();  // stops accepting, shuts down open connections, joins
  TcpTarget(const TcpTarget&) = delete;
  TcpTarget& operator=(const TcpTarget&) = delete;

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  int eofs_seen() const { return eofs_.load(); }  // connections whose client side ended with EOF
  int ended() const { return ended_.load(); }     // connections the client side ended (EOF or reset)

 private:
  void accept_loop();
  void serve(int fd);

  Mode mode_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> eofs_{0};
  std::atomic<int> ended_{0};
  std::atomic<bool> stalled_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> workers_;
};

// The byte at offset i of the pattern for `seed`.
uint8_t pattern_byte(uint32_t seed, uint64_t i);

// Connects to 127.0.0.1:port, writes `bytes` of pattern(seed) while reading,
// half-closes, reads to EOF and checks that exactly the same bytes came back
// (an echo target). Empty: success; else what went wrong.
std::string echo_exchange(uint16_t port, size_t bytes, uint32_t seed);

// A connected blocking socket to 127.0.0.1:port with a receive timeout, or -1.
int connect_tcp(uint16_t port, int timeout_ms = 30000);

}  // namespace sy::test
