#include "router/proxy/worker.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <cstring>

#include "router/base/accept_backoff.hpp"
#include "router/base/log.hpp"
#include "router/proxy/errors.hpp"
#include "router/proxy/session.hpp"
#include "router/proxy/session_impl.hpp"

namespace sy::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Worker::Worker(int index, ProxyContext& context, const route::SnapshotHolder& routes,
               const ConnectorFactory& connectors)
    : index_(index),
      context_(context),
      cache_(routes),
      connector_(connectors(io_, poller_)),
      acceptor_(io_),
      tick_timer_(io_) {}

Worker::~Worker() {
  stop();
  join();
  shutdown_sessions();
}

// After the thread has stopped: abort every session and let the coroutines
// unwind on this thread, so they end before the connector and buffers go.
void Worker::shutdown_sessions() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  tick_timer_.cancel();
  for (Session* s : sessions_) s->abort();
  poller_.close();  // aborted sockets complete without it; its wait would keep run_for busy
  io_.restart();
  io_.run_for(std::chrono::seconds(1));
  poller_.destroy_pending();  // whatever did not unwind in time
}

void Worker::bind(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  int one = 1;
  if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    throw std::system_error(errno, std::generic_category(), "SO_REUSEPORT");
  acceptor_.bind(endpoint);
}

void Worker::start() {
  asio::post(io_, [this] { poller_.start(); });
  schedule_tick();  // also keeps io_.run() busy until stop()
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::open() {
  asio::post(io_, [this] {
    if (!accepting_) return;
    boost::system::error_code ec;
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      log::error("listen-failed", log::Fields()("error", ec.message()));
      return;
    }
    acceptor_.native_non_blocking(true, ec);  // accept4 below must not block
    asio::co_spawn(io_, accept_loop(), asio::detached);
  });
}

// Waits for the listening socket, then accepts what is queued (up to a
// batch) with accept4: the new sockets are non-blocking from the start and
// the peer address comes with them, so a connection costs no extra syscall
// before its first read (io::Socket registers it only if it has to wait).
asio::awaitable<void> Worker::accept_loop() {
  constexpr int kBatch = 64;
  AcceptBackoff backoff("proxy");
  asio::steady_timer pause(io_);
  for (;;) {
    auto [ec] = co_await acceptor_.async_wait(tcp::acceptor::wait_read, use_tuple);
    if (ec || !accepting_ || !acceptor_.is_open()) co_return;
    std::chrono::milliseconds wait{0};
    for (int i = 0; i < kBatch; ++i) {
      tcp::endpoint peer;
      socklen_t len = static_cast<socklen_t>(peer.capacity());
      const int fd = ::accept4(acceptor_.native_handle(), peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        wait = backoff.failed(errno, std::chrono::steady_clock::now());
        if (wait.count() > 0) break;  // out of descriptors or memory: the socket stays readable
        continue;
      }
      backoff.succeeded();
      peer.resize(len);
      if (!context_.take_client_slot()) {  // given back in session_finished
        refuse(fd);
        continue;
      }
      asio::co_spawn(io_, serve_connection(*this, fd, peer), asio::detached);
    }
    if (wait.count() > 0) {
      pause.expires_after(wait);
      auto [pec] = co_await pause.async_wait(use_tuple);
      if (pec) co_return;
    }
  }
}

// Over max_client_connections: one best-effort 503 (the socket's buffer
// takes it; nothing is read) and close.
void Worker::refuse(int fd) {
  static const std::string kResponse = error_response(Failure::client_limit, "", "", "", true);
  [[maybe_unused]] ssize_t n = ::send(fd, kResponse.data(), kResponse.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::close(fd);
  context_.metrics.rejected_connections->inc();
}

void Worker::schedule_tick() {
  tick_timer_.expires_after(Watchdog::kTick);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    tick();
    schedule_tick();
  });
}

// One timer for all connections: enforce deadlines, close idle connections
// while draining, and now and then drop expired pooled upstream connections.
void Worker::tick() {
  auto now = route::Clock::now();
  for (Session* s : sessions_) {
    s->check_deadline(now);
    if (closing_idle_) s->close_if_idle();
  }
  if (now >= next_sweep_) {
    connector_->sweep(now);
    next_sweep_ = now + std::chrono::seconds(5);
  }
}

void Worker::stop_accepting() {
  asio::post(io_, [this] {
    accepting_ = false;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
}

void Worker::close_idle() {
  asio::post(io_, [this] {
    closing_idle_ = true;
    for (Session* s : sessions_) s->close_if_idle();
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

void Worker::session_started(Session* s) {
  sessions_.insert(s);
  open_connections_.fetch_add(1, std::memory_order_relaxed);
  context_.metrics.active_connections->inc();
}

void Worker::session_finished(Session* s) {
  sessions_.erase(s);
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  context_.release_client_slot();
  context_.metrics.active_connections->dec();
}

}  // namespace sy::proxy
