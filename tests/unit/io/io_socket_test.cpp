// io::Socket on a Poller, over a socketpair: the edge-triggered readiness
// rules (a drained socket waits for the next edge; a FIN that came with the
// last data is read as EOF, not waited for), completions never inline,
// close/cancel abort pending operations, and Asio's per-operation
// cancellation (what `||` uses) reaches a waiting operation. No timers: every
// wait is for an event the test itself causes. Every test runs on both
// engines (epoll and io_uring; the latter skipped where the kernel refuses it).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <tuple>

#include "router/io/poller.hpp"
#include "router/io/socket.hpp"

namespace sy::io {
namespace {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

class IoSocketTest : public ::testing::TestWithParam<Engine> {
 protected:
  static Engine usable(Engine e) {
    std::string why;
    return e == Engine::io_uring && !io_uring_available(&why) ? Engine::epoll : e;
  }
  void SetUp() override {
    std::string why;
    if (GetParam() == Engine::io_uring && !io_uring_available(&why)) GTEST_SKIP() << why;
  }
  IoSocketTest() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    peer_ = fds[1];
    socket_ = std::make_unique<Socket>(poller_, fds[0]);
    poller_.start();
  }
  ~IoSocketTest() override {
    socket_.reset();
    poller_.close();
    if (peer_ >= 0) ::close(peer_);
  }
  void peer_send(const std::string& s) { ASSERT_EQ(::send(peer_, s.data(), s.size(), 0), static_cast<ssize_t>(s.size())); }
  // Runs the io_context until `done` or 5 s (a hang fails the test instead of blocking it).
  void run_until(const bool& done) {
    for (int i = 0; i < 500 && !done; ++i) io_.run_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(done) << "operation never completed";
  }

  Poller poller_{io_, usable(GetParam())};
  asio::io_context io_;
  std::unique_ptr<Socket> socket_;
  int peer_ = -1;
};

TEST_P(IoSocketTest, ReadsWhatIsThereThenWaitsForTheNextEdge) {
  peer_send("abc");
  std::string got;
  bool done = false;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    char buf[16];
    auto [ec, n] = co_await socket_->async_read_some(asio::buffer(buf), use_tuple);
    EXPECT_FALSE(ec);
    got.assign(buf, n);
    // Drained: this read waits for data that arrives later.
    asio::post(io_, [this] { peer_send("later"); });
    auto [ec2, n2] = co_await socket_->async_read_some(asio::buffer(buf), use_tuple);
    EXPECT_FALSE(ec2);
    got.append(buf, n2);
    done = true;
  }, asio::detached);
  run_until(done);
  EXPECT_EQ(got, "abclater");
}

TEST_P(IoSocketTest, FinArrivingWithTheLastDataIsReadAsEof) {
  bool done = false;
  std::string got;
  boost::system::error_code last;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    char buf[16];
    // Drain first, so the socket is parked waiting for an edge...
    peer_send("x");
    auto [ec0, n0] = co_await socket_->async_read_some(asio::buffer(buf), use_tuple);
    got.assign(buf, n0);
    // ...then data and FIN arrive together, in one edge.
    asio::post(io_, [this] {
      peer_send("tail");
      ::shutdown(peer_, SHUT_WR);
    });
    auto [ec1, n1] = co_await socket_->async_read_some(asio::buffer(buf), use_tuple);
    got.append(buf, n1);
    auto [ec2, n2] = co_await socket_->async_read_some(asio::buffer(buf), use_tuple);
    last = ec2;
    done = true;
  }, asio::detached);
  run_until(done);
  EXPECT_EQ(got, "xtail");
  EXPECT_EQ(last, asio::error::eof);
}

// A caller that recv()s itself and reports a short read as drained must
// still be woken for a FIN that came in the same edge as the data.
TEST_P(IoSocketTest, OwnShortReadReportedDrainedStillSeesTheFin) {
  bool done = false;
  std::string got;
  ssize_t last = -1;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    socket_->note_read_eagain();
    asio::post(io_, [this] {
      peer_send("tail");
      ::shutdown(peer_, SHUT_WR);
    });
    auto [ec] = co_await socket_->async_wait(Socket::wait_read, use_tuple);
    EXPECT_FALSE(ec);
    char buf[16];
    const ssize_t n = ::recv(socket_->native_handle(), buf, sizeof buf, 0);
    got.assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
    socket_->note_read_drained();
    auto [ec2] = co_await socket_->async_wait(Socket::wait_read, use_tuple);
    EXPECT_FALSE(ec2);
    last = ::recv(socket_->native_handle(), buf, sizeof buf, 0);
    done = true;
  }, asio::detached);
  run_until(done);
  EXPECT_EQ(got, "tail");
  EXPECT_EQ(last, 0) << "EOF, read without waiting for another edge";
}

TEST_P(IoSocketTest, OwnShortReadReportedDrainedWaitsForMoreData) {
  peer_send("abc");
  bool done = false;
  std::string got;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    char buf[16];
    ssize_t n = ::recv(socket_->native_handle(), buf, sizeof buf, 0);
    got.assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
    socket_->note_read_drained();
    asio::post(io_, [this] { peer_send("later"); });
    auto [ec] = co_await socket_->async_wait(Socket::wait_read, use_tuple);
    EXPECT_FALSE(ec);
    n = ::recv(socket_->native_handle(), buf, sizeof buf, 0);
    got.append(buf, n > 0 ? static_cast<size_t>(n) : 0);
    done = true;
  }, asio::detached);
  run_until(done);
  EXPECT_EQ(got, "abclater");
}

TEST_P(IoSocketTest, CompletionsNeverRunInsideTheInitiatingCall) {
  peer_send("ready");  // the read can complete at once: it still must not run inline
  bool inside = true, called = false, called_inside = false;
  char buf[16];
  socket_->async_read_some(asio::buffer(buf), [&](boost::system::error_code, size_t) {
    called = true;
    called_inside = inside;
  });
  inside = false;
  run_until(called);
  EXPECT_FALSE(called_inside);
}

TEST_P(IoSocketTest, CloseAbortsAPendingRead) {
  bool done = false;
  boost::system::error_code result;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    char buf[16];
    asio::post(io_, [this] { socket_->close(); });
    auto [ec, n] = co_await socket_->async_read_some(asio::buffer(buf), use_tuple);
    result = ec;
    done = true;
  }, asio::detached);
  run_until(done);
  EXPECT_EQ(result, asio::error::operation_aborted);
  EXPECT_FALSE(socket_->is_open());
}

TEST_P(IoSocketTest, CancellationSlotReachesAWaitingRead) {
  bool done = false;
  boost::system::error_code cancelled;
  asio::cancellation_signal signal;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    char buf[16];
    // What `||` does to the loser: emit on the operation's slot while it waits.
    asio::post(io_, [&] { signal.emit(asio::cancellation_type::terminal); });
    auto [ec, n] = co_await socket_->async_read_some(asio::buffer(buf), asio::bind_cancellation_slot(signal.slot(), use_tuple));
    cancelled = ec;
    // The socket is usable afterwards: the cancelled read left nothing behind.
    peer_send("after");
    auto [ec2, n2] = co_await socket_->async_read_some(asio::buffer(buf), use_tuple);
    EXPECT_FALSE(ec2);
    EXPECT_EQ(std::string(buf, n2), "after");
    done = true;
  }, asio::detached);
  run_until(done);
  EXPECT_EQ(cancelled, asio::error::operation_aborted);
}

TEST_P(IoSocketTest, WritesEverythingThroughAFullBuffer) {
  // More than the socket buffers hold: partial writes, then EPOLLOUT edges.
  const std::string big(4 * 1024 * 1024, 'w');
  bool done = false;
  size_t received = 0;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    auto [ec, n] = co_await asio::async_write(*socket_, asio::buffer(big), use_tuple);
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, big.size());
    done = true;
  }, asio::detached);
  char buf[65536];
  for (int i = 0; i < 5000 && received < big.size(); ++i) {
    io_.run_for(std::chrono::milliseconds(1));
    ssize_t got;
    while ((got = ::recv(peer_, buf, sizeof buf, MSG_DONTWAIT)) > 0) received += static_cast<size_t>(got);
  }
  run_until(done);
  EXPECT_EQ(received, big.size());
}

// A cancellation that races the data: the read either ends aborted with
// nothing consumed, or with the bytes it took. Never both lost.
TEST_P(IoSocketTest, CancellationNeverLosesReceivedBytes) {
  bool done = false;
  std::string got;
  asio::cancellation_signal signal;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    char buf[16];
    asio::post(io_, [&] {
      peer_send("raced");  // arrives while the read waits (io_uring: completed in the kernel)...
      signal.emit(asio::cancellation_type::terminal);  // ...and the cancellation comes before its turn
    });
    auto [ec, n] = co_await socket_->async_read_some(asio::buffer(buf), asio::bind_cancellation_slot(signal.slot(), use_tuple));
    if (!ec) got.assign(buf, n);
    else EXPECT_EQ(ec, asio::error::operation_aborted);
    if (got.empty()) {
      auto [ec2, n2] = co_await socket_->async_read_some(asio::buffer(buf), use_tuple);
      EXPECT_FALSE(ec2);
      got.assign(buf, n2);
    }
    done = true;
  }, asio::detached);
  run_until(done);
  EXPECT_EQ(got, "raced");
}

// Closed with a write stuck on a full buffer and a read waiting: both end
// aborted, and the buffers can go at once (ASan would see a late kernel use).
TEST_P(IoSocketTest, CloseAbortsAStuckWriteAndAWaitingRead) {
  auto big = std::make_unique<std::string>(4 * 1024 * 1024, 'w');
  int finished = 0;
  boost::system::error_code read_ec, write_ec;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    auto [ec, n] = co_await asio::async_write(*socket_, asio::buffer(*big), use_tuple);
    write_ec = ec;
    big.reset();
    ++finished;
  }, asio::detached);
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    auto buf = std::make_unique<char[]>(64);
    auto [ec, n] = co_await socket_->async_read_some(asio::buffer(buf.get(), 64), use_tuple);
    read_ec = ec;
    ++finished;
  }, asio::detached);
  for (int i = 0; i < 20; ++i) io_.run_for(std::chrono::milliseconds(1));  // both parked
  socket_->close();
  for (int i = 0; i < 500 && finished < 2; ++i) io_.run_for(std::chrono::milliseconds(10));
  EXPECT_EQ(finished, 2);
  EXPECT_EQ(write_ec, asio::error::operation_aborted);
  EXPECT_EQ(read_ec, asio::error::operation_aborted);
}

// Destroyed with operations in the kernel: their completions are dropped.
TEST_P(IoSocketTest, DestroyedWithPendingOperationsLeavesNothingBehind) {
  auto buf = std::make_unique<char[]>(64);
  socket_->async_read_some(asio::buffer(buf.get(), 64), [](boost::system::error_code, size_t) {
    ADD_FAILURE() << "a destroyed socket's handler ran";
  });
  io_.run_for(std::chrono::milliseconds(5));  // queued and submitted
  socket_.reset();
  buf.reset();
  io_.run_for(std::chrono::milliseconds(5));  // io_uring: the close goes out with the next submission
  // The peer's send fails (EPIPE): nothing is left to receive it.
  EXPECT_LT(::send(peer_, "late", 4, MSG_NOSIGNAL), 0);
  io_.run_for(std::chrono::milliseconds(5));
  SUCCEED();
}

// A socket listening on a loopback port of the kernel's choice; *addr is it.
int loopback_listener(int flags, sockaddr_in* addr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  *addr = sockaddr_in{};
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof *addr;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(addr), sizeof *addr), 0);
  EXPECT_EQ(::listen(fd, 4), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(addr), &len), 0);
  return fd;
}

// A loopback TCP pair: the accepted end on the Poller, the connecting end raw.
struct TcpPair {
  int raw = -1;
  std::unique_ptr<Socket> socket;
  TcpPair(Poller& poller) {
    sockaddr_in addr;
    const int listener = loopback_listener(0, &addr);
    raw = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(::connect(raw, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socket = std::make_unique<Socket>(poller, ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    ::close(listener);
  }
  ~TcpPair() {
    socket.reset();
    if (raw >= 0) ::close(raw);
  }
};

// close() after an answer: the peer reads the answer, then EOF (with
// io_uring the close goes out with the loop's next submission).
TEST_P(IoSocketTest, CloseEndsTheConnectionAfterItsData) {
  TcpPair pair(poller_);
  bool done = false;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    auto [ec, n] = co_await asio::async_write(*pair.socket, asio::buffer("answer", 6), use_tuple);
    EXPECT_FALSE(ec);
    pair.socket->close();
    done = true;
  }, asio::detached);
  run_until(done);
  for (int i = 0; i < 10; ++i) io_.run_for(std::chrono::milliseconds(1));
  std::string got;
  char buf[64];
  for (;;) {
    pollfd p{pair.raw, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1) << "no EOF: the socket was not closed";
    const ssize_t r = ::recv(pair.raw, buf, sizeof buf, 0);
    ASSERT_GE(r, 0) << std::strerror(errno);
    if (r == 0) break;
    got.append(buf, static_cast<size_t>(r));
  }
  EXPECT_EQ(got, "answer");
}

// A listening socket: io_uring accepts as an SQE, with the peer's address;
// closing the listener aborts a pending accept. epoll has no such operation
// (the worker accepts with accept4 there) and says so.
TEST_P(IoSocketTest, AcceptOnTheRingGivesTheFdAndThePeerAndCloseAbortsIt) {
  sockaddr_in addr;
  Socket listener(poller_, loopback_listener(SOCK_NONBLOCK, &addr));
  const int raw = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(raw, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  sockaddr_in mine{};
  socklen_t len = sizeof mine;
  ASSERT_EQ(::getsockname(raw, reinterpret_cast<sockaddr*>(&mine), &len), 0);
  bool done = false;
  boost::system::error_code first_ec, second_ec;
  size_t fd = 0;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    std::tie(first_ec, fd) = co_await listener.async_accept(use_tuple);
    if (!first_ec) {
      asio::post(io_, [&] { listener.close(); });
      std::tie(second_ec, std::ignore) = co_await listener.async_accept(use_tuple);
    }
    done = true;
  }, asio::detached);
  run_until(done);
  ::close(raw);
  if (poller_.engine() == Engine::epoll) {
    EXPECT_EQ(first_ec, asio::error::operation_not_supported);
    return;
  }
  ASSERT_FALSE(first_ec) << first_ec.message();
  EXPECT_EQ(listener.accepted_peer().port(), ntohs(mine.sin_port));
  EXPECT_EQ(listener.accepted_peer().address().to_string(), "127.0.0.1");
  EXPECT_NE(::fcntl(static_cast<int>(fd), F_GETFL) & O_NONBLOCK, 0);
  ::close(static_cast<int>(fd));
  EXPECT_EQ(second_ec, asio::error::operation_aborted);
}

INSTANTIATE_TEST_SUITE_P(Engines, IoSocketTest, ::testing::Values(Engine::epoll, Engine::io_uring),
                         [](const ::testing::TestParamInfo<Engine>& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace sy::io
