#pragma once
// Ring: the io_uring engine's queues (liburing), one per worker, owned by its
// Poller. Sockets queue their receives, sends, polls, connects, accepts and
// closes as SQEs (not shutdowns: the kernel runs IORING_OP_SHUTDOWN only
// on its worker threads, and a linked shutdown+close measured 0.65x HAProxy's
// req/s on new connections);
// nothing enters the kernel until flush(), which the Poller runs once per
// pass of the worker's loop (a posted handler), so one io_uring_enter carries
// every operation the pass's completions started. Completions are taken in
// batches and handed to the sockets by the Poller.
//
// An SQE's user_data is the socket's Poller token with the operation's side
// in its top bits (see poller.hpp), so a completion for a socket closed
// meanwhile is recognised and dropped.
//
// Threading: the owning worker's thread only.
#include <liburing.h>

#include <cstdint>
#include <memory>
#include <string>

namespace sy::io {

struct Completion {
  uint64_t user_data;
  int32_t res;
};

class Ring {
 public:
  // A ring that supports every operation the engine uses, or nullptr with
  // the reason in *why (no io_uring in this kernel, forbidden by seccomp or
  // io_uring_disabled, or an operation missing).
  static std::unique_ptr<Ring> create(std::string* why);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  int fd() const { return ring_.ring_fd; }
  // A free SQE (its fields are the last operation's: prepare them all);
  // when the queue is full the queued ones are submitted first, so this
  // never fails.
  ::io_uring_sqe* sqe();
  bool queued() const { return ::io_uring_sq_ready(&ring_) > 0; }
  // close(fd) as an SQE (it goes with the next flush).
  void queue_close(int fd, uint64_t user_data);
  // Submits what is queued (one io_uring_enter; none when nothing is).
  void flush();
  // Copies up to `max` completions into `out` and frees their slots.
  unsigned take(Completion* out, unsigned max);

 private:
  Ring() = default;
  ::io_uring ring_{};
  bool ready_ = false;
};

}  // namespace sy::io
