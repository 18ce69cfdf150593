#include "router/proxy/worker.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <cstring>

#include "common/net/accept_backoff.hpp"
#include "common/log/log.hpp"
#include "router/outcome/outcome.hpp"
#include "router/proxy/body.hpp"
#include "router/proxy/watchdog.hpp"

namespace sy::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Worker::Worker(int index, ProxyContext& context, const route::SnapshotHolder& routes,
               const ConnectorFactory& connectors)
    : index_(index),
      context_(context),
      poller_(io_, context.io_engine),
      cache_(routes),
      connector_(connectors(*this)),
      tick_timer_(io_) {}

Worker::~Worker() {
  stop();
  join();
  shutdown_connections();
}

// After the thread has stopped: abort every connection and let the
// coroutines unwind on this thread, so they end before the connector and
// buffers go.
void Worker::shutdown_connections() {
  for (auto& l : listeners_) l->close();
  tick_timer_.cancel();
  for (Connection* c : connections_) c->abort();
  poller_.close();  // aborted sockets complete without it; its wait would keep run_for busy
  io_.restart();
  io_.run_for(std::chrono::seconds(1));
  poller_.destroy_pending();  // whatever did not unwind in time
}

void Worker::bind(ListenerSpec spec) {
  auto l = std::make_unique<Listener>(Listener{std::move(spec), tcp::acceptor(io_), nullptr});
  tcp::acceptor& a = l->acceptor;
  a.open(l->spec.endpoint.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  int one = 1;
  if (::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    throw std::system_error(errno, std::generic_category(), "SO_REUSEPORT");
  a.bind(l->spec.endpoint);
  listeners_.push_back(std::move(l));
}

void Worker::start() {
  asio::post(io_, [this] { poller_.start(); });
  schedule_tick();  // also keeps io_.run() busy until stop()
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::open() {
  asio::post(io_, [this] {
    if (!accepting_) return;
    for (auto& l : listeners_) {
      boost::system::error_code ec;
      l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        log::error("listen-failed", log::Fields()("listener", l->spec.name)("error", ec.message()));
        continue;
      }
      if (poller_.ring()) {
        l->ring = std::make_unique<io::Socket>(poller_, l->acceptor.release());
        asio::co_spawn(io_, ring_accept_loop(*l), asio::detached);
        continue;
      }
      l->acceptor.native_non_blocking(true, ec);  // accept4 must not block
      asio::co_spawn(io_, accept_loop(*l), asio::detached);
    }
  });
}

// Waits for the listening socket, then accepts what is queued (up to a
// batch) with accept4: the new sockets are non-blocking from the start and
// the peer address comes with them, so a connection costs no extra syscall
// before its first read (io::Socket registers it only if it has to wait).
asio::awaitable<void> Worker::accept_loop(Listener& listener) {
  constexpr int kBatch = 64;
  tcp::acceptor& acceptor = listener.acceptor;
  AcceptBackoff backoff(listener.spec.name);
  asio::steady_timer pause(io_);
  for (;;) {
    auto [ec] = co_await acceptor.async_wait(tcp::acceptor::wait_read, use_tuple);
    if (ec || !accepting_ || !acceptor.is_open()) co_return;
    std::chrono::milliseconds wait{0};
    for (int i = 0; i < kBatch; ++i) {
      tcp::endpoint peer;
      socklen_t len = static_cast<socklen_t>(peer.capacity());
      const int fd = ::accept4(acceptor.native_handle(), peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        wait = backoff.failed(errno, std::chrono::steady_clock::now());
        if (wait.count() > 0) break;  // out of descriptors or memory: the socket stays readable
        continue;
      }
      backoff.succeeded();
      peer.resize(len);
      accepted(listener, fd, peer);
    }
    if (wait.count() > 0) {
      pause.expires_after(wait);
      auto [pec] = co_await pause.async_wait(use_tuple);
      if (pec) co_return;
    }
  }
}

// io_uring: one accept SQE at a time per listener, submitted with the
// pass's other operations (no accept4 and no readiness wait of its own);
// the peer's address comes with the completion. Measured on new connections
// (docs/BENCHMARKS.md): 0.89x -> 0.85x HAProxy's CPU per request, 0.95x ->
// 1.01-1.04x its req/s. Four accepts in the kernel at once (dups of the fd)
// were worse (0.90x): every connection woke all four. Multishot accept would
// not give the peer's address (a getpeername per connection instead).
asio::awaitable<void> Worker::ring_accept_loop(Listener& listener) {
  io::Socket& socket = *listener.ring;
  AcceptBackoff backoff(listener.spec.name);
  asio::steady_timer pause(io_);
  for (;;) {
    auto [ec, fd] = co_await socket.async_accept(use_tuple);
    if (!accepting_ || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
      if (!ec) ::close(static_cast<int>(fd));
      co_return;
    }
    if (!ec) {
      backoff.succeeded();
      accepted(listener, static_cast<int>(fd), socket.accepted_peer());
      continue;
    }
    if (ec.value() == EINVAL || ec.value() == ENOTSOCK || ec.value() == EOPNOTSUPP) {  // would fail forever
      log::error("accept-failed", log::Fields()("listener", listener.spec.name)("error", ec.message()));
      co_return;
    }
    const std::chrono::milliseconds wait = backoff.failed(ec.value(), std::chrono::steady_clock::now());
    if (wait.count() > 0) {  // out of descriptors or memory: the connection stays queued
      pause.expires_after(wait);
      auto [pec] = co_await pause.async_wait(use_tuple);
      if (pec) co_return;
    }
  }
}

// A new connection: served, or refused over max_client_connections.
void Worker::accepted(Listener& listener, int fd, const tcp::endpoint& peer) {
  if (!context_.take_client_slot()) {  // given back in session_finished
    refuse(fd);
    return;
  }
  asio::co_spawn(io_, listener.spec.serve(*this, fd, peer), asio::detached);
}

void Worker::Listener::close() {
  boost::system::error_code ignored;
  acceptor.close(ignored);
  if (ring) ring->close();  // its accept completes with operation_aborted
}

// Over max_client_connections: one best-effort 503 (the socket's buffer
// takes it; nothing is read) and close.
void Worker::refuse(int fd) {
  static const std::string kResponse = outcome::error_response(outcome::Failure::client_limit, "", "", "", true);
  [[maybe_unused]] ssize_t n = ::send(fd, kResponse.data(), kResponse.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::close(fd);
  stats_.rejected_connections.add();
  stats_.failures[static_cast<size_t>(outcome::Failure::client_limit)].add();
}

void Worker::schedule_tick() {
  tick_timer_.expires_after(Watchdog::kTick);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    check_deadlines(route::Clock::now());
    schedule_tick();
  });
}

// One timer for all connections: enforce deadlines, keep draining, and now
// and then (every tick while draining, so a pooled stream that keeps a
// connection open goes as soon as it cannot be reused) drop pooled upstream
// connections that expired or cannot be reused.
void Worker::check_deadlines(route::TimePoint now) {
  // Closing a socket never completes anything inline, so no connection
  // leaves the set while it is walked.
  for (Connection* c : connections_) {
    c->check_deadline(now);
    if (draining_) c->drain();
  }
  if (now >= next_sweep_ || draining_) {
    connector_->sweep(now);
    next_sweep_ = now + std::chrono::seconds(5);
  }
}

void Worker::stop_accepting() {
  asio::post(io_, [this] {
    accepting_ = false;
    for (auto& l : listeners_) l->close();
  });
}

void Worker::drain() {
  asio::post(io_, [this] {
    draining_ = true;
    for (Connection* c : connections_) c->drain();
  });
}

void Worker::stop() { io_.stop(); }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

SessionScratch Worker::take_scratch() {
  if (scratch_.empty()) {
    SessionScratch fresh;
    fresh.out.reserve(2048);
    fresh.request_id.reserve(40);
    fresh.request_fields.reserve(32);
    fresh.response_fields.reserve(32);
    return fresh;
  }
  SessionScratch s = std::move(scratch_.back());
  scratch_.pop_back();
  return s;
}

void Worker::give_scratch(SessionScratch&& scratch) {
  constexpr size_t kKeep = 4096, kMaxOut = 64 * 1024;
  if (scratch_.size() >= kKeep || scratch.out.capacity() > kMaxOut) return;  // big ones go back to the heap
  scratch.out.clear();
  scratch.request_fields.clear();
  scratch.response_fields.clear();
  scratch_.push_back(std::move(scratch));
}

void Worker::add(Connection* c) {
  connections_.insert(c);
  open_connections_.fetch_add(1, std::memory_order_relaxed);
  stats_.accepted_connections.add();
}

void Worker::remove(Connection* c) {
  connections_.erase(c);
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  context_.release_client_slot();
}

}  // namespace sy::proxy
