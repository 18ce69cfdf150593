// The sealed gateway's listener and sessions (see gateway.hpp): the line, the
// answer, the connect with its timeout and attempts, then the relay.
// Threading: Gateway on the main thread (then read-only but for its
// counters); a session on its accepting worker's thread only.
#include "router/gateway/gateway.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "common/log/log.hpp"
#include "router/gateway/relay.hpp"

namespace sy::gateway {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::array<Status, 5> kStatuses{Status::ok, Status::bad_request, Status::cannot_decrypt, Status::bad_gateway,
                                          Status::timeout};

size_t index_of(Status s) {
  for (size_t i = 0; i < kStatuses.size(); ++i)
    if (kStatuses[i] == s) return i;
  return 0;
}

}  // namespace

GatewayMetrics::GatewayMetrics(metrics::Registry& registry) {
  auto& connections = registry.counter("sealed_gateway_connections_total",
                                       "Sealed gateway connections by the status line they were answered");
  for (size_t i = 0; i < kStatuses.size(); ++i)
    results[i] = &connections.add({{"result", std::to_string(static_cast<int>(kStatuses[i]))}});
  auto& bytes = registry.counter("sealed_gateway_bytes_total",
                                 "Bytes the sealed gateway relayed: up = client to target, down = target to client");
  up = &bytes.add({{"direction", "up"}});
  down = &bytes.add({{"direction", "down"}});
}

void GatewayMetrics::count(Status status) { results[index_of(status)]->inc(); }

Gateway::Gateway(const config::SealedGatewayConfig& config, metrics::Registry& registry)
    : config_(config), metrics_(registry) {}

std::unique_ptr<Gateway> Gateway::from_config(const config::Config& config, metrics::Registry& registry) {
  const config::SealedGatewayConfig& g = config.sealed_gateway;
  if (!g.enabled) return nullptr;
  log::info("sealed-gateway", log::Fields()("host", g.host)("port", g.port)(
                                  "relay", g.relay == config::SealedGatewayConfig::Relay::splice ? "splice" : "copy")(
                                  "connect_timeout_ms", static_cast<long long>(g.connect_timeout.count()))(
                                  "retry", g.retry)("read_timeout_ms", static_cast<long long>(g.read_timeout.count())));
  return std::make_unique<Gateway>(g, registry);
}

proxy::ListenerSpec Gateway::listener() {
  return proxy::ListenerSpec{"gateway", tcp::endpoint(asio::ip::make_address(config_.host), config_.port),
                             [this](proxy::Worker& w, int fd, tcp::endpoint) { return serve(*this, w, fd); }};
}

asio::awaitable<void> serve(Gateway& gateway, proxy::Worker& worker, int fd) {
  GatewaySession session(gateway, worker, fd);
  co_await session.run();
}

GatewaySession::GatewaySession(Gateway& gateway, proxy::Worker& worker, int fd)
    : gateway_(gateway),
      worker_(worker),
      client_(worker.poller(), fd),
      deadline_(route::Clock::now() + gateway.config().read_timeout) {
  client_.set_nodelay();  // small messages both ways: no Nagle delay
  worker_.add(this);
}

GatewaySession::~GatewaySession() { worker_.remove(this); }

void GatewaySession::check_deadline(route::TimePoint now) {
  if (now < deadline_) return;
  deadline_ = route::TimePoint::max();
  timed_out_ = true;
  if (phase_ == Phase::line) {
    client_.cancel();  // the read completes aborted; the client still gets its 400
  } else if (phase_ == Phase::connect) {
    if (resolver_) resolver_->cancel();
    if (upstream_) upstream_->close();
  }
}

// Before the relay there is nothing to finish: close. A relay runs to its end.
void GatewaySession::drain() {
  if (phase_ != Phase::relay) abort();
}

void GatewaySession::abort() {
  stopped_ = true;
  if (resolver_) resolver_->cancel();
  client_.close();
  if (upstream_) upstream_->close();
}

asio::awaitable<void> GatewaySession::run() {
  std::optional<std::string> line = co_await read_line();
  if (stopped_) co_return;
  if (!line) {
    co_await answer(Status::bad_request);
    co_return;
  }
  std::optional<Opened> opened = open_sealed(*line, gateway_.config().secret);
  if (!opened) {
    co_await answer(Status::cannot_decrypt);
    co_return;
  }
  phase_ = Phase::connect;
  const Status connected = co_await connect(opened->target);
  if (stopped_) co_return;
  if (connected != Status::ok) {
    log::debug("gateway-connect-failed", log::Fields()("target", opened->target.host)("port", opened->target.port)(
                                             "status", static_cast<int>(connected)));
    co_await answer(connected);
    co_return;
  }
  phase_ = Phase::relay;
  deadline_ = route::TimePoint::max();
  const bool answered = co_await answer(Status::ok);
  if (!answered || stopped_) co_return;
  co_await relay();
}

// Up to kMaxLine bytes until '\n', within read_timeout (the tick cancels the read).
asio::awaitable<std::optional<std::string>> GatewaySession::read_line() {
  in_.resize(kMaxLine);
  size_t filled = 0;
  while (!timed_out_ && !stopped_ && filled < kMaxLine) {
    auto [ec, n] = co_await client_.async_read_some(asio::buffer(in_.data() + filled, kMaxLine - filled), use_tuple);
    if (ec || n == 0) break;
    const size_t newline = std::string_view(in_.data(), filled + n).find('\n', filled);
    filled += n;
    if (newline != std::string_view::npos) {
      in_.resize(filled);
      rest_ = newline + 1;
      co_return in_.substr(0, newline);
    }
  }
  co_return std::nullopt;
}

// IP literals as they are; a name through Asio's resolver (getaddrinfo on
// its own thread), within connect_timeout. nullopt: did not resolve.
asio::awaitable<std::optional<std::vector<tcp::endpoint>>> GatewaySession::resolve(const Target& target) {
  std::vector<tcp::endpoint> out;
  if (target.kind != Target::Kind::name) {
    error_code ec;
    const asio::ip::address address = asio::ip::make_address(target.host, ec);
    if (ec) co_return std::nullopt;
    out.emplace_back(address, target.port);
    co_return out;
  }
  resolver_ = std::make_unique<tcp::resolver>(worker_.io());
  auto [ec, results] = co_await resolver_->async_resolve(target.host, std::to_string(target.port),
                                                         tcp::resolver::numeric_service, use_tuple);
  resolver_.reset();
  if (ec || results.empty()) co_return std::nullopt;
  for (const auto& entry : results) out.push_back(entry.endpoint());
  co_return out;
}

// `retry` attempts, each trying the addresses in turn within one
// connect_timeout. The last attempt's failure decides: timed out = 504.
asio::awaitable<Status> GatewaySession::connect(const Target& target) {
  const config::SealedGatewayConfig& cfg = gateway_.config();
  timed_out_ = false;
  deadline_ = route::Clock::now() + cfg.connect_timeout;
  std::optional<std::vector<tcp::endpoint>> endpoints = co_await resolve(target);
  if (!endpoints) co_return timed_out_ ? Status::timeout : Status::bad_gateway;
  Status last = Status::bad_gateway;
  for (int attempt = 0; attempt < cfg.retry && !stopped_; ++attempt) {
    timed_out_ = false;
    deadline_ = route::Clock::now() + cfg.connect_timeout;
    for (const tcp::endpoint& endpoint : *endpoints) {
      const bool ok = co_await connect_one(endpoint);
      if (ok) co_return Status::ok;
      if (stopped_) break;
      last = timed_out_ ? Status::timeout : Status::bad_gateway;
      if (timed_out_) break;
    }
  }
  deadline_ = route::TimePoint::max();
  co_return last;
}

asio::awaitable<bool> GatewaySession::connect_one(const tcp::endpoint& endpoint) {
  upstream_ = std::make_unique<io::Socket>(worker_.poller(), -1);
  if (!upstream_->open(endpoint.address().is_v4() ? AF_INET : AF_INET6)) co_return false;
  auto [ec] = co_await upstream_->async_connect(endpoint, use_tuple);
  if (ec || timed_out_ || stopped_) co_return false;
  upstream_->set_nodelay();
  co_return true;
}

// One status line; after an error status the client gets EOF (linger()).
asio::awaitable<bool> GatewaySession::answer(Status status) {
  gateway_.metrics().count(status);
  const std::string text = std::to_string(static_cast<int>(status)) + "\n";
  auto [ec, n] = co_await asio::async_write(client_, asio::buffer(text), use_tuple);
  if (!ec && status != Status::ok) co_await linger();
  co_return !ec;
}

// After an error answer: EOF to the client, and what it still sends is read
// and dropped (up to kLingerBytes, for at most kLinger) so that closing with
// unread bytes does not reset the connection before the answer is read.
asio::awaitable<void> GatewaySession::linger() {
  client_.shutdown(SHUT_WR);
  phase_ = Phase::line;
  timed_out_ = false;
  deadline_ = route::Clock::now() + kLinger;
  in_.resize(kMaxLine);
  for (size_t total = 0; total < kLingerBytes && !timed_out_ && !stopped_;) {
    auto [ec, n] = co_await client_.async_read_some(asio::buffer(in_.data(), in_.size()), use_tuple);
    if (ec || n == 0) break;
    total += n;
  }
}

// The bytes that came after the line go first, then both directions at once
// until both are done (EOF passed on) or one fails (both end).
asio::awaitable<void> GatewaySession::relay() {
  if (rest_ < in_.size()) {
    auto [ec, n] = co_await asio::async_write(*upstream_, asio::buffer(in_.data() + rest_, in_.size() - rest_), use_tuple);
    if (ec) co_return;
    gateway_.metrics().up->inc(static_cast<double>(n));
  }
  std::string().swap(in_);
  using namespace asio::experimental::awaitable_operators;
  co_await (pump(client_, *upstream_, gateway_.metrics().up) && pump(*upstream_, client_, gateway_.metrics().down));
}

asio::awaitable<void> GatewaySession::pump(io::Socket& from, io::Socket& to, metrics::Counter* bytes) {
  error_code ec;
  if (gateway_.config().relay == config::SealedGatewayConfig::Relay::splice)
    ec = co_await relay_splice(from, to, worker_.pipes(), bytes);
  else
    ec = co_await relay_copy(from, to, bytes);
  if (ec) fail_relay();
}

// One direction failed: the other one ends too.
void GatewaySession::fail_relay() {
  client_.shutdown(SHUT_RDWR);
  if (upstream_) upstream_->shutdown(SHUT_RDWR);
  client_.cancel();
  if (upstream_) upstream_->cancel();
}

}  // namespace sy::gateway
