#include "router/proxy/splice.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sy::proxy {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kPipeSize = 256 * 1024;  // fewer round trips than the default 64 KiB

error_code last_error() { return error_code(errno, boost::system::system_category()); }

}  // namespace

PipePool::~PipePool() {
  for (Pipe p : idle_) close(p);
}

PipePool::Pipe PipePool::acquire() {
  if (!idle_.empty()) {
    Pipe p = idle_.back();
    idle_.pop_back();
    return p;
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return {};
  ::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(kPipeSize));  // best effort
  return Pipe{fds[0], fds[1]};
}

void PipePool::release(Pipe p) {
  if (idle_.size() >= max_idle_) {
    close(p);
    return;
  }
  idle_.push_back(p);
}

void PipePool::close(Pipe p) {
  if (p.read_fd >= 0) ::close(p.read_fd);
  if (p.write_fd >= 0) ::close(p.write_fd);
}

asio::awaitable<SpliceResult> splice_body(io::Socket& src, io::Socket& dst, PipePool& pipes, uint64_t length,
                                          bool until_eof, Watchdog& watch, Watchdog::Target src_side,
                                          Watchdog::Target dst_side, Patience patience) {
  SpliceResult r;
  PipePool::Pipe pipe = pipes.acquire();
  if (!pipe) {
    r.read_error = last_error();
    co_return r;
  }
  size_t in_pipe = 0;
  bool eof = false;
  while ((until_eof ? !eof : r.bytes + in_pipe < length) || in_pipe > 0) {
    if (!eof && (until_eof || r.bytes + in_pipe < length)) {
      size_t want = until_eof ? kPipeSize : static_cast<size_t>(std::min<uint64_t>(length - r.bytes - in_pipe, kPipeSize));
      ssize_t n = ::splice(src.native_handle(), nullptr, pipe.write_fd, nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        in_pipe += static_cast<size_t>(n);
      } else if (n == 0) {
        eof = true;
        if (!until_eof) r.read_error = asio::error::eof;
      } else if (errno != EAGAIN) {
        r.read_error = last_error();
      } else if (in_pipe == 0) {
        patience.arm(watch, src_side);
        src.note_read_eagain();
        auto [wec] = co_await src.async_wait(io::Socket::wait_read, use_tuple);
        if (wec) r.read_error = wec;
      }
      if (r.read_error) break;
    }
    while (in_pipe > 0) {
      ssize_t m = ::splice(pipe.read_fd, nullptr, dst.native_handle(), nullptr, in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (m > 0) {
        in_pipe -= static_cast<size_t>(m);
        r.bytes += static_cast<uint64_t>(m);
      } else if (m < 0 && errno == EAGAIN) {
        patience.arm(watch, dst_side);
        dst.note_write_eagain();
        auto [wec] = co_await dst.async_wait(io::Socket::wait_write, use_tuple);
        if (wec) {
          r.write_error = wec;
          break;
        }
      } else {
        r.write_error = m == 0 ? asio::error::broken_pipe : last_error();
        break;
      }
    }
    if (r.write_error) break;
  }
  if (in_pipe == 0 && r.ok())
    pipes.release(pipe);
  else
    PipePool::close(pipe);
  co_return r;
}

}  // namespace sy::proxy
