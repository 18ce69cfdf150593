// io::Socket on the io_uring engine: its operations as SQEs on the worker's
// Ring, and their completions (see socket.hpp and poller.hpp).
#include <poll.h>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/error.hpp>

#include "router/io/poller.hpp"
#include "router/io/ring.hpp"
#include "router/io/socket.hpp"

namespace sy::io {
namespace {

error_code from_res(int32_t res) {
  if (res == -ECANCELED) return asio::error::operation_aborted;
  return error_code(-res, boost::system::system_category());
}

}  // namespace

// What an operation's completion settles: the handler to run and its result.
struct Socket::Outcome {
  IoHandler io;
  WaitHandler wait;
  error_code ec;
  size_t n = 0;
};

void Socket::ring_queue(Side side) {
  ::io_uring_sqe* sqe = poller_->ring()->sqe();
  const Pending op = side == read_side ? read_op_ : write_op_;
  switch (op) {
    case Pending::read:
      ::io_uring_prep_recv(sqe, fd_, read_buffer_.data(), read_buffer_.size(), 0);
      break;
    case Pending::write:
      write_msg_ = ::msghdr{};
      write_msg_.msg_iov = write_iov_.items.data();
      write_msg_.msg_iovlen = write_iov_.count;
      ::io_uring_prep_sendmsg(sqe, fd_, &write_msg_, MSG_NOSIGNAL);
      break;
    case Pending::wait:
      ::io_uring_prep_poll_add(sqe, fd_, side == read_side ? POLLIN | POLLRDHUP : POLLOUT);
      break;
    case Pending::connect:
      ::io_uring_prep_connect(sqe, fd_, peer_.data(), static_cast<socklen_t>(peer_.size()));
      break;
    case Pending::accept:
      peer_len_ = static_cast<::socklen_t>(peer_.capacity());
      ::io_uring_prep_accept(sqe, fd_, peer_.data(), &peer_len_, SOCK_NONBLOCK | SOCK_CLOEXEC);
      break;
    case Pending::none:
      break;
  }
  const uint8_t bit = static_cast<uint8_t>(1u << side);
  serials_ ^= bit;
  in_kernel_ |= bit;
  const uint64_t serial = (serials_ & bit) ? 1 : 0;
  ::io_uring_sqe_set_data64(sqe, token_ | (uint64_t{side} << 62) | (serial << 61));
  poller_->want_flush();
}

// Cancels the given sides' SQEs and submits at once. A socket operation
// waiting in the kernel is cancelled (or, if its data came first, completed)
// before the submit returns; settle() posts what came back, so the caller
// (close, cancel) finds those operations already finished.
void Socket::ring_cancel(uint8_t sides) {
  for (Side side : {read_side, write_side}) {
    const uint8_t bit = static_cast<uint8_t>(1u << side);
    if (!(sides & in_kernel_ & bit)) continue;
    const uint64_t serial = (serials_ & bit) ? 1 : 0;
    ::io_uring_sqe* sqe = poller_->ring()->sqe();
    ::io_uring_prep_cancel64(sqe, token_ | (uint64_t{side} << 62) | (serial << 61), 0);
    ::io_uring_sqe_set_data64(sqe, Poller::kNoAnswer);
  }
  poller_->settle();
}

Socket::Outcome Socket::ring_outcome(Side side, int32_t res) {
  Outcome out;
  if (res < 0) out.ec = from_res(res);
  Pending& op = side == read_side ? read_op_ : write_op_;
  switch (op) {
    case Pending::read:
      if (res > 0) {
        out.n = static_cast<size_t>(res);
        // As try_read: a short receive drained the socket.
        read_ready_ = out.n == read_buffer_.size() || peer_closed_;
      } else if (res == 0) {
        out.ec = asio::error::eof;
        peer_closed_ = true;
      }
      out.io.swap(read_handler_);
      break;
    case Pending::write:
      if (res >= 0) {
        out.n = static_cast<size_t>(res);
        size_t total = 0;
        for (size_t i = 0; i < write_iov_.count; ++i) total += write_iov_.items[i].iov_len;
        write_ready_ = out.n == total;
      }
      out.io.swap(write_handler_);
      break;
    case Pending::wait:
      if (res >= 0) {
        (side == read_side ? read_ready_ : write_ready_) = true;
        if (res & (POLLRDHUP | POLLHUP | POLLERR)) peer_closed_ = true;
      }
      out.wait.swap(side == read_side ? read_wait_ : write_wait_);
      break;
    case Pending::connect:
      if (res == 0) write_ready_ = true;
      out.wait.swap(write_wait_);
      break;
    case Pending::accept:
      if (res >= 0) {
        out.n = static_cast<size_t>(res);
        peer_.resize(peer_len_);
      }
      out.io.swap(read_handler_);
      break;
    case Pending::none:
      break;
  }
  op = Pending::none;
  return out;
}

// The handler runs last: it may destroy this socket.
void Socket::on_completion(Side side, uint32_t serial, int32_t res, bool direct) {
  const uint8_t bit = static_cast<uint8_t>(1u << side);
  if (((serials_ & bit) ? 1u : 0u) != serial || !(in_kernel_ & bit)) return;  // a cancelled SQE's
  in_kernel_ &= static_cast<uint8_t>(~bit);
  Outcome out = ring_outcome(side, res);
  clear_slot(out.io);
  clear_slot(out.wait);
  if (!direct) {
    if (out.io) post(std::move(out.io), out.ec, out.n);
    if (out.wait) post(std::move(out.wait), out.ec);
    return;
  }
  if (out.io) std::move(out.io)(out.ec, out.n);
  if (out.wait) std::move(out.wait)(out.ec);
}

}  // namespace sy::io
