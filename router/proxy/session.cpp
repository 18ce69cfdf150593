// The connection loop and its first phase: the PROXY header, request heads,
// answers from the outcome table, keep-alive, the lingering close.
#include "router/proxy/session.hpp"

#include "common/log/log.hpp"
#include "router/proxy/proxy_protocol.hpp"
#include "router/proxy/worker.hpp"

namespace sy::proxy {

Session::Session(Worker& worker, int fd, const tcp::endpoint& peer, std::shared_ptr<const tls::ServerContexts> tls)
    : worker_(worker),
      ctx_(worker.context()),
      cfg_(worker.context().config),
      client_(worker.poller(), fd, worker.buffers(), cfg_.max_request_header_bytes + 2 * kReadChunk),
      watch_(client_.stream.socket()),
      req_(cfg_.max_request_header_bytes),
      up_(worker.buffers(), kMaxResponseHead + 2 * kReadChunk),
      tls_(std::move(tls)) {
  format_peer(peer, &client_.ip);
  client_.port = peer.port();
  take_scratch();
  worker_.add(this);
}

Session::~Session() {
  give_scratch();
  worker_.remove(this);
}

asio::awaitable<void> serve_connection(Worker& worker, int fd, tcp::endpoint peer) {
  Session session(worker, fd, peer);
  co_await session.run();
}

asio::awaitable<void> serve_tls_connection(Worker& worker, int fd, tcp::endpoint peer,
                                           std::shared_ptr<const tls::ServerContexts> tls) {
  Session session(worker, fd, peer, std::move(tls));
  co_await session.run();
}

// The growable head storage is the worker's while the connection is idle,
// like the read buffers: an idle keep-alive connection holds neither.
void Session::take_scratch() {
  if (has_scratch_) return;
  SessionScratch scratch = worker_.take_scratch();
  out_ = std::move(scratch.out);
  req_.id = std::move(scratch.request_id);
  req_.head.fields = std::move(scratch.request_fields);
  up_.head.fields = std::move(scratch.response_fields);
  has_scratch_ = true;
}

void Session::give_scratch() {
  if (!has_scratch_) return;
  req_.head.fields.clear();
  up_.head.fields.clear();
  worker_.give_scratch(SessionScratch{std::move(out_), std::move(req_.id), std::move(req_.head.fields),
                                      std::move(up_.head.fields)});
  out_ = std::string();
  req_.id = std::string();
  req_.head.fields = std::vector<Field>();
  up_.head.fields = std::vector<Field>();
  has_scratch_ = false;
}

void Session::abort() {
  watch_.set(route::TimePoint::min(), Watchdog::Target::upstream);
  watch_.check(route::Clock::now());  // closes the upstream, if any
  client_.stream.close();
}

void Session::drain() {
  draining_ = true;
  if (client_.idle) client_.stream.close();
}

bool Session::client_keep_alive() const {
  return req_.facts.keep_alive && req_.facts.version == 11 && !draining_ &&
         !ctx_.draining.load(std::memory_order_relaxed);
}

void Session::consume_head() {
  client_.in.consume(req_.head_len);
  req_.head_len = 0;
}

asio::awaitable<void> Session::run() {
  if (cfg_.enable_proxy) {
    const bool ok = co_await read_proxy_header();  // (bound first: GCC 12 and co_await in conditions)
    if (!ok) co_return;
  }
  if (tls_) {
    const bool shaken = co_await tls_handshake();
    if (!shaken) co_return;
  }
  bool client_gone = false;
  for (;;) {
    HeadStatus status = co_await read_head();
    if (status == HeadStatus::closed) {
      client_gone = true;
      break;
    }
    if (status == HeadStatus::bad) {
      worker_.stats().rejected_requests.add();
      begin_request();
      log::debug("request-rejected", log::Fields()("remote", client_.address())("error", http::to_string(req_.error)));
      co_await answer(outcome::request_failure(req_.error), "");
      break;
    }
    const bool keep = co_await serve();
    if (!keep) break;
  }
  if (client_.linger) co_await linger();
  co_await close_client(client_gone);
}

// A TLS connection says close_notify first (waiting briefly for the
// client's, unless it is gone). Then the router closes first (RFC 9112
// §9.6), shutting down sending before the close: unread input cannot turn
// the close into a reset that destroys the last response, and (measured,
// docs/BENCHMARKS.md) a new connection per request ran at 0.80x HAProxy's
// req/s with p99 10.7 ms with a bare close, 0.95x and 2.1 ms with this.
asio::awaitable<void> Session::close_client(bool client_gone) {
  watch_.clear();
  if (ClientStream::TlsStream* tls = client_.stream.tls_stream(); tls && !client_gone) {
    watch_.set(route::Clock::now() + kTlsCloseWait, Watchdog::Target::client);
    co_await tls->async_shutdown(use_tuple);  // its error does not matter: the connection closes anyway
    watch_.clear();
  }
  client_.stream.shutdown(SHUT_WR);
  client_.stream.close();
}

// The TLS handshake, bounded by kTlsHandshakeTimeout. Bytes already read
// (with a PROXY header) are the start of the client's hello.
asio::awaitable<bool> Session::tls_handshake() {
  client_.stream.start_tls(std::move(tls_));
  // TLS writes a head and a body as separate records: with Nagle on, the
  // second would wait for the client's delayed ACK (~40 ms) even on a
  // one-request connection.
  client_.stream.set_nodelay();
  client_.nodelay = true;
  watch_.set(route::Clock::now() + kTlsHandshakeTimeout, Watchdog::Target::client);
  const size_t buffered = client_.in.size();
  auto [ec, used] = co_await client_.stream.tls_stream()->async_handshake(
      asio::ssl::stream_base::server, client_.in.data(), use_tuple);
  client_.in.clear();
  watch_.clear();
  if (ec || used != buffered) {
    log::debug("tls-handshake-failed", log::Fields()("remote", client_.address())("error", ec.message()));
    client_.stream.close();
    co_return false;
  }
  if (cfg_.tls.forwarded_client_cert != config::ForwardedClientCert::always_forward)
    client_.client_cert = client_.stream.peer_certificate_header();
  co_return true;
}

// The answer went out before the request body was all read (the backend
// answered early). Closing with body bytes unread sends a reset, which can
// destroy that answer in the client's kernel before it is read; so, like
// nginx's lingering close, stop sending and drop what the client still sends
// until it closes or kLinger passes.
asio::awaitable<void> Session::linger() {
  client_.stream.shutdown(SHUT_WR);
  watch_.set(route::Clock::now() + kLinger, Watchdog::Target::client);
  for (;;) {
    client_.in.clear();
    auto [ec, n] = co_await client_.stream.async_read_some(client_.in.prepare(16 * 1024), use_tuple);
    if (ec) break;
  }
  client_.in.clear();
}

asio::awaitable<bool> Session::read_proxy_header() {
  watch_.set(route::Clock::now() + cfg_.read_header_timeout, Watchdog::Target::client);
  for (;;) {
    std::string_view data(static_cast<const char*>(client_.in.data().data()), client_.in.size());
    ProxyHeader h = parse_proxy_header(data);
    if (h.status == ProxyHeader::Status::invalid) {
      log::debug("proxy-protocol-invalid", log::Fields()("remote", client_.address()));
      co_return false;
    }
    if (h.status == ProxyHeader::Status::ok) {
      client_.in.consume(h.length);
      if (!h.source_ip.empty()) {
        client_.ip = h.source_ip;
        client_.port = h.source_port;
      }
      co_return true;
    }
    auto [ec, n] = co_await client_.stream.async_read_some(client_.in.prepare(512), use_tuple);
    if (ec) co_return false;
    client_.in.commit(n);
  }
}

// Between requests the connection holds no buffer: it waits for
// readability first and borrows storage only to read (a new connection's
// first request is usually there already, so it skips the wait).
asio::awaitable<Session::HeadStatus> Session::read_head() {
  req_.head.clear();
  req_.scanner.reset();
  req_.chunked.reset();
  req_.parsed = false;
  req_.error = http::HeadError::none;
  req_.body_started = false;
  client_.idle = client_.in.size() == 0;
  watch_.set(route::Clock::now() + cfg_.frontend_idle_timeout, Watchdog::Target::client);
  // (A TLS connection reads at once: its SSL stream may hold bytes the
  // socket no longer shows.)
  if (client_.idle && client_.served > 0 && !client_.stream.tls()) {
    client_.in.release_if_empty();
    up_.in.release_if_empty();
    give_scratch();
    auto [wec] = co_await client_.stream.socket().async_wait(io::Socket::wait_read, use_tuple);
    client_.idle = false;
    if (wec) co_return HeadStatus::closed;
    take_scratch();
  }
  bool timing_head = false;
  for (;;) {
    if (client_.in.size() > 0) {
      client_.idle = false;
      std::string_view data(static_cast<const char*>(client_.in.data().data()), client_.in.size());
      http::HeadScanner::Result found = req_.scanner.scan(data);
      if (found.status == http::HeadScanner::Status::complete) {
        http::HeadLimits limits{cfg_.max_request_header_bytes};
        req_.error = http::parse_request_head(data.substr(0, found.length), limits, &req_.head);
        if (req_.error != http::HeadError::none) co_return HeadStatus::bad;
        req_.head_len = found.length;
        req_.parsed = true;
        co_return HeadStatus::ok;
      }
      req_.error = found.status == http::HeadScanner::Status::error ? found.error
                   : plausible_request_start(data)                  ? http::HeadError::none
                                                                    : http::HeadError::bad_start_line;
      if (req_.error != http::HeadError::none) co_return HeadStatus::bad;
      if (!timing_head) {
        timing_head = true;
        watch_.set(route::Clock::now() + cfg_.read_header_timeout, Watchdog::Target::client);
      }
    }
    asio::mutable_buffer space = client_.in.prepare(16 * 1024);
    if (space.size() == 0) {  // the worker's budget for large heads is spent
      req_.error = http::HeadError::too_large;
      co_return HeadStatus::bad;
    }
    auto [ec, n] = co_await client_.stream.async_read_some(space, use_tuple);
    client_.idle = false;
    if (ec) co_return HeadStatus::closed;  // EOF, reset, idle or header timeout: just close
    client_.in.commit(n);
  }
}

asio::awaitable<bool> Session::serve() {
  if (req_.head.method == "CONNECT" && ctx_.connect) co_return co_await serve_connect();
  begin_request();
  route::RouteTablePtr table = worker_.routes();  // pinned: the pool must outlive the request
  LookupHistogram* timed = worker_.sample_lookup() ? &worker_.stats().route_lookup : nullptr;
  RouteDecision route = route_request(RouteInput{&req_.head, client_.ip, table.get(), timed}, &req_.host);
  if (!route.pool) co_return co_await answer(route.failure, route.detail);
  co_return co_await forward(route);
}

// Answers from the outcome table. The request body (if any) is not read, so
// the connection closes unless the request had none; the head says so.
asio::awaitable<bool> Session::answer(Failure f, std::string_view detail) {
  const outcome::ErrorInfo& info = outcome::error_info(f);
  const bool unread_body = !req_.parsed || req_.facts.has_body;
  const bool keep = outcome::keeps_client(f, client_keep_alive(), unread_body);
  out_ = outcome::error_response(f, req_.host, detail, req_.id, !keep);
  rec_.bytes_sent = out_.size() - (out_.find("\r\n\r\n") + 4);
  WorkerStats& stats = worker_.stats();
  stats.failures[static_cast<size_t>(f)].add();
  if (info.counts_as_bad_gateway) stats.bad_gateways.add();
  watch_.set(route::Clock::now() + cfg_.endpoint_timeout, Watchdog::Target::client);
  auto [ec, n] = co_await asio::async_write(client_.stream, asio::buffer(out_), use_tuple);
  consume_head();
  finish_request(info.status, nullptr, outcome::router_error_value(f, detail));
  co_return keep && !ec;
}

}  // namespace sy::proxy
