// One direction of the gateway's relay (see relay.hpp). The owning worker only.
#include "router/gateway/relay.hpp"

#include <fcntl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <memory>

namespace sy::gateway {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kChunk = 256 * 1024;   // the pool's pipe size
constexpr size_t kBuffer = 64 * 1024;  // copy

error_code last_error() { return error_code(errno, boost::system::system_category()); }

void add(metrics::Counter* bytes, size_t n) {
  if (bytes) bytes->inc(static_cast<double>(n));
}

// Moves what the pipe holds to `to`, waiting for room as needed.
asio::awaitable<error_code> drain_pipe(const proxy::PipePool::Pipe& pipe, size_t& in_pipe, io::Socket& to,
                                       metrics::Counter* bytes) {
  while (in_pipe > 0) {
    // No SPLICE_F_MORE: every chunk goes out as it comes (seed 004's 200 ms).
    const ssize_t m = ::splice(pipe.read_fd, nullptr, to.native_handle(), nullptr, in_pipe,
                               kRelaySpliceFlags);
    if (m > 0) {
      in_pipe -= static_cast<size_t>(m);
      add(bytes, static_cast<size_t>(m));
    } else if (m < 0 && errno == EAGAIN) {
      to.note_write_eagain();
      auto [ec] = co_await to.async_wait(io::Socket::wait_write, use_tuple);
      if (ec) co_return ec;
    } else {
      co_return m == 0 ? error_code(asio::error::broken_pipe) : last_error();
    }
  }
  co_return error_code();
}

}  // namespace

asio::awaitable<error_code> relay_splice(io::Socket& from, io::Socket& to, proxy::PipePool& pipes,
                                         metrics::Counter* bytes) {
  proxy::PipePool::Pipe pipe = pipes.acquire();
  if (!pipe) co_return last_error();
  size_t in_pipe = 0;
  error_code ec;
  for (;;) {
    const ssize_t n = ::splice(from.native_handle(), nullptr, pipe.write_fd, nullptr, kChunk,
                               kRelaySpliceFlags);
    if (n == 0) break;  // EOF
    if (n > 0) {
      in_pipe += static_cast<size_t>(n);
    } else if (errno != EAGAIN) {
      ec = last_error();
      break;
    } else if (in_pipe == 0) {
      from.note_read_eagain();
      auto [wec] = co_await from.async_wait(io::Socket::wait_read, use_tuple);
      if (wec) {
        ec = wec;
        break;
      }
      continue;
    }
    ec = co_await drain_pipe(pipe, in_pipe, to, bytes);
    if (ec) break;
  }
  if (!ec) ec = co_await drain_pipe(pipe, in_pipe, to, bytes);
  if (!ec) to.shutdown(SHUT_WR);
  if (!ec && in_pipe == 0)
    pipes.release(pipe);
  else
    proxy::PipePool::close(pipe);
  co_return ec;
}

asio::awaitable<error_code> relay_copy(io::Socket& from, io::Socket& to, metrics::Counter* bytes) {
  std::unique_ptr<char[]> buffer(new char[kBuffer]);
  for (;;) {
    auto [rec, n] = co_await from.async_read_some(asio::buffer(buffer.get(), kBuffer), use_tuple);
    if (rec == asio::error::eof || (!rec && n == 0)) break;
    if (rec) co_return rec;
    auto [wec, written] = co_await asio::async_write(to, asio::buffer(buffer.get(), n), use_tuple);
    if (wec) co_return wec;
    add(bytes, written);
  }
  to.shutdown(SHUT_WR);
  co_return error_code();
}

}  // namespace sy::gateway
