#pragma once
// Poller: the proxy's own readiness tracking for its TCP sockets, one per
// worker. An edge-triggered epoll set is nested in the worker's io_context as
// one Asio descriptor; each batch of events is handed to the sockets.
//
// Why not Asio's sockets: Asio's reactor tries a read speculatively after any
// read that returned data (so reading a backend right after sending it the
// request costs an EAGAIN recvfrom per request), re-arms waits with
// EPOLL_CTL_MOD each time, and registers, sets non-blocking and deregisters
// every accepted socket. io::Socket remembers that a short read drained the
// socket and waits for the edge instead, registers lazily, and lets close()
// remove it from the set: HAProxy's syscall pattern (docs/BENCHMARKS.md).
//
// Sockets attach to a slot; events carry the slot and its generation, so an
// event already harvested for a socket closed meanwhile is dropped.
//
// Threading: the owning worker's thread only.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <memory>
#include <vector>

namespace sy::io {

class Socket;

class Poller {
 public:
  // Stores `io` only (it may not be constructed yet); start() uses it.
  explicit Poller(boost::asio::io_context& io);
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  boost::asio::io_context& context() { return io_; }
  void start();  // nest the set in the io_context and begin waiting for events (on its thread)
  // Stops waiting and drops the nested descriptor; call before the
  // io_context goes. Sockets may still detach afterwards.
  void close();
  // Destroys the pending handlers of every attached socket (worker teardown,
  // when the io_context no longer runs): breaks the socket -> handler ->
  // coroutine -> session -> socket ownership cycle.
  void destroy_pending();

  uint64_t attach(Socket* socket);
  void detach(uint64_t token);
  // EPOLL_CTL_ADD for edges in both directions; false (errno set) on failure.
  bool watch(int fd, uint64_t token);

 private:
  void arm();
  void dispatch();

  boost::asio::io_context& io_;
  int epfd_ = -1;
  std::unique_ptr<boost::asio::posix::stream_descriptor> nested_;
  std::vector<Socket*> slots_;
  std::vector<uint32_t> generations_;
  std::vector<uint32_t> free_;
};

}  // namespace sy::io
