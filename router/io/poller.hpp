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
// Two engines behind the same Socket contract (`io_engine` in the config):
//  - epoll: the readiness set above; each socket makes its own recv/sendmsg.
//  - io_uring: the Poller owns a Ring (ring.hpp); sockets queue their
//    operations as SQEs and the Poller submits them once per pass of the
//    loop (flush(), posted when the first is queued) and hands out the
//    completions in batches, so a pass serving many connections crosses
//    into the kernel once instead of once per operation. The ring's fd is
//    what is nested in the io_context then.
//
// Threading: the owning worker's thread only.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sy::io {

class Socket;
class Ring;

enum class Engine { epoll, io_uring };
const char* to_string(Engine engine);
// Whether this process may use io_uring here (a throw-away ring, every
// operation the engine needs); if not, *why says why.
bool io_uring_available(std::string* why);

class Poller {
 public:
  // Stores `io` only (it may not be constructed yet); start() uses it.
  // Engine::io_uring throws std::runtime_error when no ring can be made
  // (check io_uring_available() first).
  explicit Poller(boost::asio::io_context& io, Engine engine = Engine::epoll);
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

  Engine engine() const { return ring_ ? Engine::io_uring : Engine::epoll; }
  // io_uring: the ring (nullptr with epoll), and the request that what was
  // queued on it be submitted before the loop next blocks.
  Ring* ring() { return ring_.get(); }
  void want_flush();
  // io_uring: submit now and post the completions that came back (a
  // cancellation's, and whatever the operation it cancelled produced).
  void settle();
  // io_uring: takes `fd` and closes it with the pass's other operations
  // (one crossing fewer per connection); false with epoll (close it).
  bool close_fd(int fd);

  // Token layout: slot index (low 32 bits), generation (29 bits). An SQE's
  // user_data adds the operation's kind (bits 62-63: 0 a read-side and 1 a
  // write-side socket operation, 2 the Poller's own that need no answer:
  // cancellations and closes) and the side's serial (bit 61).
  static constexpr uint32_t kGenerationMask = (1u << 29) - 1;
  static constexpr uint64_t kTokenMask = (uint64_t{1} << 61) - 1;
  static constexpr uint64_t kNoAnswer = uint64_t{2} << 62;  // user_data whose completion is dropped

 private:
  void arm();
  void dispatch();
  void flush();
  void reap(bool direct);
  Socket* lookup(uint64_t token) const;

  boost::asio::io_context& io_;
  int epfd_ = -1;
  std::unique_ptr<Ring> ring_;
  bool flush_posted_ = false;
  std::unique_ptr<boost::asio::posix::stream_descriptor> nested_;
  std::vector<Socket*> slots_;
  std::vector<uint32_t> generations_;
  std::vector<uint32_t> free_;
};

}  // namespace sy::io
