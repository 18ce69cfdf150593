#include "router/proxy/worker.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "router/base/log.hpp"
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
      connector_(connectors(io_)),
      acceptor_(io_),
      sweep_timer_(io_) {}

Worker::~Worker() {
  stop();
  join();
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
  schedule_sweep();  // also keeps io_.run() busy until stop()
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
    asio::co_spawn(io_, accept_loop(), asio::detached);
  });
}

asio::awaitable<void> Worker::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (ec) {
      if (!accepting_ || ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      log::warn("accept-failed", log::Fields()("error", ec.message()));
      continue;  // EMFILE and friends: keep serving what we have
    }
    asio::co_spawn(io_, serve_connection(*this, std::move(socket)), asio::detached);
  }
}

void Worker::schedule_sweep() {
  sweep_timer_.expires_after(std::chrono::seconds(5));
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    connector_->sweep(route::Clock::now());
    schedule_sweep();
  });
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
    auto idle = idle_sessions_;  // closing may re-enter session_idle
    for (Session* s : idle) s->close_if_idle();
  });
}

void Worker::stop() { io_.stop(); }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::session_started(Session*) {
  open_connections_.fetch_add(1, std::memory_order_relaxed);
  context_.metrics.active_connections->inc();
}

void Worker::session_finished(Session* s) {
  idle_sessions_.erase(s);
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  context_.metrics.active_connections->dec();
}

void Worker::session_idle(Session* s, bool idle) {
  if (idle) {
    idle_sessions_.insert(s);
    if (context_.draining.load(std::memory_order_relaxed) && !accepting_) s->close_if_idle();
  } else {
    idle_sessions_.erase(s);
  }
}

}  // namespace sy::proxy
