#include "router/io/socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>

#include "router/io/poller.hpp"

// Handlers are moved into members with swap(): Boost 1.81's
// any_completion_handler move-assignment copies from an lvalue, which wraps
// the handler in itself without end.

namespace sy::io {
namespace {

error_code last_error() { return error_code(errno, boost::system::system_category()); }
bool would_block() { return errno == EAGAIN || errno == EWOULDBLOCK; }

}  // namespace

// Installed in an operation's cancellation slot while it waits for an edge.
struct Socket::Cancel {
  Cancel(Socket* s, Side side) : socket(s), side(side) {}
  void operator()(asio::cancellation_type type) {
    if (type != asio::cancellation_type::none) socket->cancel_side(side, asio::error::operation_aborted);
  }
  Socket* socket;
  Side side;
};

Socket::Socket(Poller& poller, int fd) : poller_(&poller), token_(poller.attach(this)), fd_(fd) {}

Socket::~Socket() {
  destroy_pending();
  if (in_kernel_) ring_cancel(in_kernel_);  // its completions find no operation: dropped
  if (fd_ >= 0 && !poller_->close_fd(fd_)) ::close(fd_);
  poller_->detach(token_);
}

bool Socket::open(int family) {
  close();
  fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  read_ready_ = write_ready_ = true;
  peer_closed_ = false;
  return fd_ >= 0;
}

Socket::executor_type Socket::get_executor() const { return poller_->context().get_executor(); }

Socket::Peek Socket::peek() const {
  if (fd_ < 0) return Peek::closed;
  char byte;
  ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return Peek::data;
  return n < 0 && would_block() ? Peek::quiet : Peek::closed;
}

void Socket::set_nodelay() {
  int one = 1;
  if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void Socket::shutdown(int how) {
  if (fd_ >= 0) ::shutdown(fd_, how);
}

void Socket::close() {
  if (fd_ < 0) return;
  if (in_kernel_) ring_cancel(in_kernel_);
  // epoll: also leaves the epoll set (the fd is never duplicated).
  if (!poller_->close_fd(fd_)) ::close(fd_);
  fd_ = -1;
  registered_ = false;
  cancel();
}

void Socket::cancel() {
  cancel_side(read_side, asio::error::operation_aborted);
  cancel_side(write_side, asio::error::operation_aborted);
}

// Completions are posted: never inside the initiating call. The slot is
// cleared there too: a Cancel still installed (it may be the caller of this
// post) must not outlive the operation.
void Socket::post(IoHandler h, error_code ec, size_t n) {
  asio::post(poller_->context(), [h = std::move(h), ec, n]() mutable {
    clear_slot(h);
    std::move(h)(ec, n);
  });
}

void Socket::post(WaitHandler h, error_code ec) {
  asio::post(poller_->context(), [h = std::move(h), ec]() mutable {
    clear_slot(h);
    std::move(h)(ec);
  });
}

bool Socket::try_read(error_code& ec, size_t& n) {
  ssize_t got = ::recv(fd_, read_buffer_.data(), read_buffer_.size(), 0);
  if (got > 0) {
    n = static_cast<size_t>(got);
    // Drained: wait for the next edge. Not once the peer has closed: its
    // FIN came with the edge already seen, and the next read must see EOF.
    if (n < read_buffer_.size() && !peer_closed_) read_ready_ = false;
    return true;
  }
  if (got == 0) {
    ec = asio::error::eof;
    return true;
  }
  if (would_block()) {
    read_ready_ = false;
    return false;
  }
  if (errno == EINTR) return try_read(ec, n);
  ec = last_error();
  return true;
}

bool Socket::try_write(error_code& ec, size_t& n) {
  ::msghdr msg{};
  msg.msg_iov = write_iov_.items.data();
  msg.msg_iovlen = write_iov_.count;
  ssize_t sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
  if (sent >= 0) {
    n = static_cast<size_t>(sent);
    size_t total = 0;
    for (size_t i = 0; i < write_iov_.count; ++i) total += write_iov_.items[i].iov_len;
    if (n < total) write_ready_ = false;  // the send buffer is full
    return true;
  }
  if (would_block()) {
    write_ready_ = false;
    return false;
  }
  if (errno == EINTR) return try_write(ec, n);
  ec = last_error();
  return true;
}

void Socket::start_read(asio::mutable_buffer buffer, IoHandler handler) {
  if (fd_ < 0) return post(std::move(handler), asio::error::bad_descriptor, 0);
  if (buffer.size() == 0) return post(std::move(handler), {}, 0);
  read_buffer_ = buffer;
  error_code ec;
  size_t n = 0;
  if (!poller_->ring() && read_ready_ && try_read(ec, n)) return post(std::move(handler), ec, n);
  read_op_ = Pending::read;
  read_handler_.swap(handler);
  park(read_side);
}

void Socket::start_write(const Iov& iov, IoHandler handler) {
  if (fd_ < 0) return post(std::move(handler), asio::error::bad_descriptor, 0);
  if (iov.count == 0) return post(std::move(handler), {}, 0);
  write_iov_ = iov;
  error_code ec;
  size_t n = 0;
  if (!poller_->ring() && write_ready_ && try_write(ec, n)) return post(std::move(handler), ec, n);
  write_op_ = Pending::write;
  write_handler_.swap(handler);
  park(write_side);
}

void Socket::start_wait(WaitType type, WaitHandler handler) {
  if (fd_ < 0) return post(std::move(handler), asio::error::bad_descriptor);
  if (type == wait_read) {
    if (read_ready_) return post(std::move(handler), {});
    read_op_ = Pending::wait;
    read_wait_.swap(handler);
    park(read_side);
  } else {
    if (write_ready_) return post(std::move(handler), {});
    write_op_ = Pending::wait;
    write_wait_.swap(handler);
    park(write_side);
  }
}

void Socket::start_connect(const asio::ip::tcp::endpoint& peer, WaitHandler handler) {
  if (fd_ < 0) return post(std::move(handler), asio::error::bad_descriptor);
  if (poller_->ring()) {
    peer_ = peer;
    write_ready_ = false;
    write_op_ = Pending::connect;
    write_wait_.swap(handler);
    return park(write_side);
  }
  int rc;
  do {
    rc = ::connect(fd_, peer.data(), static_cast<socklen_t>(peer.size()));
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return post(std::move(handler), {});
  if (errno != EINPROGRESS) return post(std::move(handler), last_error());
  write_ready_ = false;
  write_op_ = Pending::connect;
  write_wait_.swap(handler);
  park(write_side);
}

void Socket::start_accept(IoHandler handler) {
  if (fd_ < 0) return post(std::move(handler), asio::error::bad_descriptor, 0);
  if (!poller_->ring()) return post(std::move(handler), asio::error::operation_not_supported, 0);
  read_op_ = Pending::accept;
  read_handler_.swap(handler);
  park(read_side);
}

void Socket::park(Side side) {
  if (poller_->ring()) {
    ring_queue(side);
  } else if (!registered_) {
    if (!poller_->watch(fd_, token_)) return cancel_side(side, last_error());
    registered_ = true;  // the kernel reports readiness that is already there
  }
  if (side == read_side) {
    auto slot = read_op_ == Pending::wait ? asio::get_associated_cancellation_slot(read_wait_)
                                          : asio::get_associated_cancellation_slot(read_handler_);
    if (slot.is_connected()) slot.template emplace<Cancel>(this, read_side);
  } else {
    auto slot = write_op_ == Pending::write ? asio::get_associated_cancellation_slot(write_handler_)
                                            : asio::get_associated_cancellation_slot(write_wait_);
    if (slot.is_connected()) slot.template emplace<Cancel>(this, write_side);
  }
}

// Completes the side's pending operation with `ec` (posted, see post()),
// unless the kernel finished it first (io_uring): then with its own result.
void Socket::cancel_side(Side side, error_code ec) {
  if (in_kernel_ & (1u << side)) ring_cancel(static_cast<uint8_t>(1u << side));
  Pending& op = side == read_side ? read_op_ : write_op_;
  const Pending was = op;
  op = Pending::none;
  if (was == Pending::read || was == Pending::write || was == Pending::accept) {
    post(std::move(side == read_side ? read_handler_ : write_handler_), ec, 0);
  } else if (was == Pending::wait || was == Pending::connect) {
    post(std::move(side == read_side ? read_wait_ : write_wait_), ec);
  }
}

void Socket::destroy_pending() {
  read_op_ = write_op_ = Pending::none;
  clear_slot(read_handler_);
  clear_slot(write_handler_);
  clear_slot(read_wait_);
  clear_slot(write_wait_);
  IoHandler r = std::move(read_handler_), w = std::move(write_handler_);
  WaitHandler rw = std::move(read_wait_), ww = std::move(write_wait_);
}

// An edge: settle both sides first, then run the completions (the first may
// destroy this socket, so only locals are used after it).
void Socket::on_event(uint32_t events) {
  if (fd_ < 0) return;
  const bool failed = (events & (EPOLLERR | EPOLLHUP)) != 0;
  if (failed || (events & EPOLLRDHUP)) peer_closed_ = true;
  IoHandler read_done, write_done;
  WaitHandler read_woken, write_woken;
  error_code read_ec, write_ec;
  size_t read_n = 0, write_n = 0;
  if (failed || (events & (EPOLLIN | EPOLLRDHUP))) {
    read_ready_ = true;
    if (read_op_ == Pending::read && try_read(read_ec, read_n)) {
      read_done.swap(read_handler_);
      read_op_ = Pending::none;
    } else if (read_op_ == Pending::wait) {
      read_woken.swap(read_wait_);
      read_op_ = Pending::none;
    }
  }
  if (failed || (events & EPOLLOUT)) {
    write_ready_ = true;
    if (write_op_ == Pending::write && try_write(write_ec, write_n)) {
      write_done.swap(write_handler_);
      write_op_ = Pending::none;
    } else if (write_op_ == Pending::wait) {
      write_woken.swap(write_wait_);
      write_op_ = Pending::none;
    } else if (write_op_ == Pending::connect) {
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err != EINPROGRESS && err != EALREADY) {
        write_ec = err ? error_code(err, boost::system::system_category()) : error_code();
        write_woken.swap(write_wait_);
        write_op_ = Pending::none;
      }
    }
  }
  // No Cancel may outlive the wait it was for: a completion below can make a
  // parallel group cancel its sibling, which may be the other side here.
  clear_slot(read_done);
  clear_slot(read_woken);
  clear_slot(write_done);
  clear_slot(write_woken);
  if (read_done) std::move(read_done)(read_ec, read_n);
  if (read_woken) std::move(read_woken)(error_code());
  if (write_done) std::move(write_done)(write_ec, write_n);
  if (write_woken) std::move(write_woken)(write_ec);
}

}  // namespace sy::io
