#pragma once
// io::Socket: a non-blocking TCP socket driven by the worker's Poller (see
// poller.hpp for why), with the part of tcp::socket's interface the proxy
// uses: async_read_some / async_write_some (so asio::async_write works),
// async_wait, async_connect, shutdown, close, cancel.
//
// Readiness is remembered per direction: a read that returns less than asked
// (or EAGAIN) means the socket is drained, and the next read waits for the
// next edge without a syscall; likewise for writes. Splice users, who make
// their own syscalls, report an EAGAIN with note_read_eagain() /
// note_write_eagain() before waiting.
//
// Semantics as Asio's: at most one read-side (read or wait_read) and one
// write-side (write, wait_write or connect) operation at a time; completions
// never run inside the initiating call; close() and cancel() complete pending
// operations with operation_aborted; per-operation cancellation (Asio's
// cancellation slots, as used by `||`) is honoured.
//
// With the io_uring engine (poller.hpp) every operation is an SQE on the
// worker's ring instead of a syscall: a receive or send into the caller's
// buffer, a poll for async_wait, a connect. The readiness flags are kept the
// same way (a short receive still means drained), so async_wait behaves
// alike on both engines. close() and cancel() cancel what is in the kernel
// and submit at once: a socket receive or send waiting in the kernel is
// cancelled (or completed) before that submit returns, so the caller's
// buffer is no longer used when the aborted completion runs.
//
// Threading: the owning worker's thread only. Not movable (the Poller keeps
// a pointer): own it in place or through a unique_ptr.
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>

namespace sy::io {

namespace asio = boost::asio;
using boost::system::error_code;

class Poller;

class Socket {
 public:
  using executor_type = asio::any_io_executor;
  using IoHandler = asio::any_completion_handler<void(error_code, size_t)>;
  using WaitHandler = asio::any_completion_handler<void(error_code)>;
  enum WaitType { wait_read, wait_write };
  static constexpr size_t kMaxIov = 8;

  // Takes ownership of `fd` (non-blocking, close-on-exec), or of no fd (-1).
  Socket(Poller& poller, int fd);
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // A new non-blocking TCP socket of `family` (AF_INET/AF_INET6) for
  // async_connect; false (errno set) if socket() failed.
  bool open(int family);

  executor_type get_executor() const;
  // For layered streams (asio::ssl::stream<Socket&>): this is the lowest layer.
  using lowest_layer_type = Socket;
  Socket& lowest_layer() { return *this; }
  const Socket& lowest_layer() const { return *this; }
  int native_handle() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  void set_nodelay();
  void shutdown(int how);  // SHUT_RD / SHUT_WR / SHUT_RDWR; errors ignored
  void close();            // pending operations complete with operation_aborted
  void cancel();           // the same, keeping the socket open
  void note_read_eagain() { read_ready_ = false; }
  // For callers that recv() themselves: a read that returned less than asked
  // drained the socket, as try_read() concludes — unless the peer's FIN was
  // already seen with the last edge, which the next read must see as EOF
  // (so the next wait_read completes at once).
  void note_read_drained() {
    if (!peer_closed_) read_ready_ = false;
  }
  // A look at an idle (pooled) connection without consuming anything.
  enum class Peek { quiet, data, closed };  // closed: EOF, an error, or no fd
  Peek peek() const;
  void note_write_eagain() { write_ready_ = false; }

  template <typename MutableBufferSequence, typename Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    asio::mutable_buffer first = *asio::buffer_sequence_begin(buffers);
    return asio::async_initiate<Token, void(error_code, size_t)>(
        [this, first](auto handler) { start_read(first, IoHandler(std::move(handler))); }, token);
  }

  template <typename ConstBufferSequence, typename Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    Iov iov;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      asio::const_buffer b(*it);
      if (b.size() == 0) continue;
      if (iov.count == kMaxIov) break;  // a partial write, as write_some may be
      iov.items[iov.count++] = ::iovec{const_cast<void*>(b.data()), b.size()};
    }
    return asio::async_initiate<Token, void(error_code, size_t)>(
        [this, iov](auto handler) { start_write(iov, IoHandler(std::move(handler))); }, token);
  }

  template <typename Token>
  auto async_wait(WaitType type, Token&& token) {
    return asio::async_initiate<Token, void(error_code)>(
        [this, type](auto handler) { start_wait(type, WaitHandler(std::move(handler))); }, token);
  }

  // io_uring only (engine() == io_uring), on a listening socket: accepts one
  // connection as an SQE. The handler's size_t is the new descriptor
  // (non-blocking, close-on-exec; the caller owns it) and accepted_peer()
  // its peer's address until the next accept.
  template <typename Token>
  auto async_accept(Token&& token) {
    return asio::async_initiate<Token, void(error_code, size_t)>(
        [this](auto handler) { start_accept(IoHandler(std::move(handler))); }, token);
  }
  const asio::ip::tcp::endpoint& accepted_peer() const { return peer_; }

  template <typename Token>
  auto async_connect(const asio::ip::tcp::endpoint& peer, Token&& token) {
    return asio::async_initiate<Token, void(error_code)>(
        [this, peer](auto handler) { start_connect(peer, WaitHandler(std::move(handler))); }, token);
  }

 private:
  friend class Poller;
  struct Iov {
    std::array<::iovec, kMaxIov> items{};
    size_t count = 0;
  };
  enum class Pending : uint8_t { none, read, wait, write, connect, accept };
  enum Side : uint8_t { read_side, write_side };
  struct Cancel;
  struct Outcome;

  void start_read(asio::mutable_buffer buffer, IoHandler handler);
  void start_write(const Iov& iov, IoHandler handler);
  void start_wait(WaitType type, WaitHandler handler);
  void start_connect(const asio::ip::tcp::endpoint& peer, WaitHandler handler);
  void start_accept(IoHandler handler);
  bool try_read(error_code& ec, size_t& n);   // false: EAGAIN (now waiting for an edge)
  bool try_write(error_code& ec, size_t& n);  // false: EAGAIN
  void on_event(uint32_t events);             // from the Poller (epoll)
  // From the Poller (io_uring): the side's operation with this serial ended
  // with `res`; `direct`: run its handler here, else post it.
  void on_completion(Side side, uint32_t serial, int32_t res, bool direct);
  void park(Side side);                       // register or queue (once) and arm cancellation
  void ring_queue(Side side);                 // io_uring: the side's pending operation as an SQE
  void ring_cancel(uint8_t sides);            // io_uring: cancel those in the kernel, settle
  Outcome ring_outcome(Side side, int32_t res);
  void cancel_side(Side side, error_code ec);
  // A finished operation's Cancel must not outlive it: its slot is cleared.
  template <typename Handler>
  static void clear_slot(Handler& h) {
    if (!h) return;
    auto slot = asio::get_associated_cancellation_slot(h);
    if (slot.is_connected()) slot.clear();
  }
  void destroy_pending();
  void post(IoHandler h, error_code ec, size_t n);
  void post(WaitHandler h, error_code ec);

  Poller* poller_;
  uint64_t token_;
  int fd_;
  bool registered_ = false;
  bool read_ready_ = true;   // no EAGAIN / short read seen since the last edge
  bool write_ready_ = true;  // no EAGAIN / short write seen since the last edge
  bool peer_closed_ = false; // EPOLLRDHUP/HUP/ERR seen: reads never wait for another edge
  uint8_t in_kernel_ = 0;    // io_uring: bit per side with an SQE not yet completed
  uint8_t serials_ = 0;      // io_uring: bit per side, flipped per SQE (stale completions are told apart)
  Pending read_op_ = Pending::none;
  Pending write_op_ = Pending::none;
  asio::mutable_buffer read_buffer_;
  Iov write_iov_;
  ::msghdr write_msg_{};                // io_uring: the sendmsg's header
  asio::ip::tcp::endpoint peer_;        // io_uring: the connect's address, or the accepted peer's
  ::socklen_t peer_len_ = 0;            // io_uring: the accept's address length
  IoHandler read_handler_;
  IoHandler write_handler_;
  WaitHandler read_wait_;
  WaitHandler write_wait_;  // wait_write and connect
};

}  // namespace sy::io
