#include "router/upstream/tcp_connector.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sy::upstream {
namespace {
using tcp = asio::ip::tcp;
using outcome::Failure;
constexpr std::chrono::milliseconds kProbeAfter{200};
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

OpenResult fail(Failure f, const error_code& ec) {
  OpenResult r;
  r.failure = f;
  if (ec == asio::error::connection_refused)
    r.detail = "connection refused";
  else if (ec == asio::error::connection_reset)
    r.detail = "connection reset";
  else if (ec == asio::error::timed_out || f == Failure::dial_timeout)
    r.detail = "dial timeout";
  else if (ec)
    r.detail = ec.message();
  if (f == Failure::ssl_handshake_error || f == Failure::ssl_certificate_error) r.detail = "tls: " + (ec ? ec.message() : std::string("handshake failed"));
  return r;
}
}  // namespace

TcpConnector::TcpConnector(asio::io_context& io, io::Poller& poller, TcpConnectorOptions options)
    : io_(io), poller_(poller), options_(options) {}

asio::awaitable<OpenResult> TcpConnector::open(const route::Endpoint& endpoint, const OpenRequest& request) {
  auto now = route::Clock::now();
  auto it = request.allow_reuse ? idle_.find(endpoint.address()) : idle_.end();
  if (it != idle_.end()) {
    auto& stack = it->second;
    while (!stack.empty()) {
      Idle idle = std::move(stack.back());
      stack.pop_back();
      count_idle(-1);
      // A connection used moments ago is not probed (one syscall saved per
      // request); after a pause the backend may have closed it (Node's
      // default keep-alive timeout is 5 s), so peek first.
      bool fresh = now - idle.since < kProbeAfter;
      if (now - idle.since < options_.idle_timeout && (fresh || idle.stream->idle_usable())) {
        OpenResult r;
        r.stream = std::move(idle.stream);
        r.reused = true;
        co_return r;
      }
      idle.stream->close();
    }
  }
  OpenResult fresh = co_await dial(endpoint, request.deadline);
  co_return fresh;
}

// A not yet connected stream: plain, or TLS with this worker's client context
// (built on first use; an unusable CA or client certificate fails the dial).
TcpConnector::Stream TcpConnector::make_stream(bool tls) {
  Stream s;
  if (!tls) {
    auto t = std::make_unique<TcpStream>(poller_);
    s.socket = &t->socket();
    s.stream = std::move(t);
    return s;
  }
  if (!tls_context_) {
    try {
      tls_context_ = make_client_context(options_.tls);
    } catch (const std::system_error& e) {
      s.ec = e.code();
      return s;
    }
  }
  auto t = std::make_unique<TlsStream>(poller_, *tls_context_);
  s.tls = t.get();
  s.socket = &t->socket();
  s.stream = std::move(t);
  return s;
}

// GCC 12 reports -Wmismatched-new-delete on this coroutine's frame (Asio's
// awaitable frames pair their own operator new and delete; a known false
// positive of GCC's coroutine lowering, seen only with -O2 and several awaits).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<OpenResult> TcpConnector::dial(const route::Endpoint& endpoint, route::TimePoint deadline) {
  using namespace asio::experimental::awaitable_operators;
  OpenResult r;
  error_code ec;
  auto address = asio::ip::make_address(endpoint.host(), ec);
  tcp::endpoint target;
  auto started = route::Clock::now();
  auto dial_deadline = std::min(deadline, started + options_.dial_timeout);
  asio::steady_timer timer(io_, dial_deadline);
  if (ec) {  // a host name: resolve it (Asio's resolver runs on its own thread)
    tcp::resolver resolver(io_);
    auto resolved = co_await (resolver.async_resolve(endpoint.host(), std::to_string(endpoint.port()), use_tuple) ||
                              timer.async_wait(use_tuple));
    if (resolved.index() == 1) co_return fail(Failure::dial_timeout, asio::error::timed_out);
    auto [rec, results] = std::get<0>(resolved);
    if (rec || results.empty()) co_return fail(Failure::dial_failed, rec ? rec : asio::error::host_not_found);
    target = results.begin()->endpoint();
    r.dns_time = route::Clock::now() - started;
    started += r.dns_time;
  } else {
    target = tcp::endpoint(address, endpoint.port());
  }
  Stream made = make_stream(endpoint.tls());
  if (!made.stream) co_return fail(Failure::ssl_handshake_error, made.ec);
  std::unique_ptr<ByteStream> stream = std::move(made.stream);
  TlsStream* tls = made.tls;
  io::Socket& socket = *made.socket;
  if (!socket.open(target.address().is_v4() ? AF_INET : AF_INET6))
    co_return fail(Failure::dial_failed, error_code(errno, boost::system::system_category()));
  auto connected = co_await (socket.async_connect(target, use_tuple) || timer.async_wait(use_tuple));
  if (connected.index() == 1) co_return fail(Failure::dial_timeout, asio::error::timed_out);
  auto [cec] = std::get<0>(connected);
  if (cec) co_return fail(Failure::dial_failed, cec);
  socket.set_nodelay();
  r.dial_time = route::Clock::now() - started;
  if (tls) {
    started += r.dial_time;
    OpenResult shaken = co_await handshake(*tls, endpoint, timer);
    if (shaken.failure) co_return shaken;
    r.tls_time = route::Clock::now() - started;
  }
  r.stream = std::move(stream);
  co_return r;
}
#pragma GCC diagnostic pop

// The certificate must name server_cert_domain_san (gorouter's check), or
// the host when none was registered; the dial deadline covers the handshake.
asio::awaitable<OpenResult> TcpConnector::handshake(TlsStream& tls, const route::Endpoint& endpoint,
                                                    asio::steady_timer& timer) {
  using namespace asio::experimental::awaitable_operators;
  OpenResult r;
  std::string name = endpoint.meta().server_cert_domain_san;
  if (name.empty()) name = std::string(endpoint.host());
  if (!tls.set_server_name(name, !options_.tls.skip_verify)) {
    OpenResult bad = fail(Failure::ssl_handshake_error, asio::error::invalid_argument);
    bad.tls_failure = TlsFailure::handshake;
    co_return bad;
  }
  auto shaken = co_await (tls.async_handshake(use_tuple) || timer.async_wait(use_tuple));
  if (shaken.index() == 1) co_return fail(Failure::dial_timeout, asio::error::timed_out);
  auto [ec] = std::get<0>(shaken);
  if (ec) {
    const TlsFailure why = tls.classify(ec);
    OpenResult failed =
        fail(why == TlsFailure::handshake ? Failure::ssl_handshake_error : Failure::ssl_certificate_error, ec);
    failed.tls_failure = why;
    co_return failed;
  }
  co_return r;
}

void TcpConnector::release(const route::Endpoint& endpoint, std::unique_ptr<ByteStream> stream) {
  if (options_.max_idle_per_host == 0) {
    stream->close();
    return;
  }
  auto& stack = idle_[endpoint.address()];
  if (stack.size() >= options_.max_idle_per_host) {
    stack.front().stream->close();
    stack.erase(stack.begin());
    count_idle(-1);
  }
  stack.push_back(Idle{std::move(stream), route::Clock::now()});
  count_idle(1);
}

void TcpConnector::count_idle(int64_t delta) {
  idle_count_ += delta;
  if (options_.idle_gauge) options_.idle_gauge->store(idle_count_, std::memory_order_relaxed);
}

void TcpConnector::sweep(route::TimePoint now) {
  for (auto it = idle_.begin(); it != idle_.end();) {
    std::erase_if(it->second, [&](Idle& idle) {
      if (now - idle.since < options_.idle_timeout && idle.stream->idle_usable()) return false;
      idle.stream->close();
      count_idle(-1);
      return true;
    });
    it = it->second.empty() ? idle_.erase(it) : std::next(it);
  }
}

}  // namespace sy::upstream
