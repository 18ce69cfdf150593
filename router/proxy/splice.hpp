#pragma once
// Zero-copy body relay between two TCP sockets with splice(2) through a
// pipe: the bytes move socket -> pipe -> socket inside the kernel instead of
// being copied into the proxy and back (the 64 KiB-response case spends most
// of its CPU in those two copies). Used for Content-Length and
// close-delimited bodies once the buffered head bytes are out.
//
// Threading: the owning worker only. Errors come back as error_code; a pipe
// that may still hold bytes is closed, never reused.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <vector>

#include "router/io/socket.hpp"
#include "router/proxy/watchdog.hpp"

namespace sy::proxy {

// A worker's idle pipes (two fds each), reused across requests.
class PipePool {
 public:
  struct Pipe {
    int read_fd = -1;
    int write_fd = -1;
    explicit operator bool() const { return read_fd >= 0; }
  };
  explicit PipePool(size_t max_idle = 16) : max_idle_(max_idle) {}
  ~PipePool();
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;

  Pipe acquire();             // an empty pipe, or {-1,-1} when none can be made
  void release(Pipe p);       // only empty pipes
  static void close(Pipe p);  // possibly not empty: drop it

 private:
  std::vector<Pipe> idle_;
  size_t max_idle_;
};

struct SpliceResult {
  boost::system::error_code read_error;   // from the source (EOF is clean for until_eof)
  boost::system::error_code write_error;  // to the destination
  uint64_t bytes = 0;
  bool ok() const { return !read_error && !write_error; }
};

// Moves `length` bytes (or everything until EOF when until_eof) from `src`
// to `dst`. Each wait must make progress within `patience`: the watchdog
// closes the stalled side (src_side / dst_side).
boost::asio::awaitable<SpliceResult> splice_body(io::Socket& src, io::Socket& dst,
                                                 PipePool& pipes, uint64_t length, bool until_eof, Watchdog& watch,
                                                 Watchdog::Target src_side, Watchdog::Target dst_side,
                                                 Patience patience);

}  // namespace sy::proxy
