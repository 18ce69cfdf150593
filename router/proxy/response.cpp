// The response half of an attempt: read the backend's head (skipping 1xx
// interim responses after relaying them), rewrite it, stream the body to the
// client, and relay raw bytes both ways after a 101 upgrade.
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "router/base/log.hpp"
#include "router/proxy/affinity.hpp"
#include "router/proxy/session_impl.hpp"
#include "router/proxy/splice.hpp"

namespace sy::proxy {
namespace {

void half_close(io::Socket& s) { s.shutdown(SHUT_WR); }
void half_close(upstream::ByteStream& s) { s.shutdown_send(); }
void close(io::Socket& s) { s.close(); }
void close(upstream::ByteStream& s) { s.close(); }

// Copies bytes one way until EOF (then half-closes `to`) or an error (then
// closes both, so the opposite pump ends too).
template <typename From, typename To>
asio::awaitable<void> pump(From& from, To& to, IoBuffer& buf) {
  for (;;) {
    if (buf.size() > 0) {
      auto [wec, n] = co_await asio::async_write(to, buf.data(), use_tuple);
      if (wec) break;
      buf.consume(n);
    }
    auto [rec, n] = co_await from.async_read_some(buf.prepare(kReadChunk), use_tuple);
    if (rec == asio::error::eof) {
      half_close(to);
      co_return;
    }
    if (rec) break;
    buf.commit(n);
  }
  close(from);
  close(to);
}

std::string malformed(http::HeadError e) { return "malformed response: " + std::string(http::to_string(e)); }

Attempt done(bool keep_client) {
  Attempt a;
  a.result = Attempt::Result::done;
  a.keep_client = keep_client;
  return a;
}

Attempt failed(Attempt::Result r, Failure f, std::string detail) {
  Attempt a;
  a.result = r;
  a.failure = f;
  a.detail = std::move(detail);
  return a;
}

}  // namespace

asio::awaitable<void> Session::tunnel_upgraded(upstream::ByteStream& up) {
  using namespace asio::experimental::awaitable_operators;
  watch_.clear();  // an upgraded connection may idle as long as both ends like
  co_await (pump(client_, up, cbuf_) && pump(up, client_, ubuf_));
}

// The response body: through the buffer, or — when both ends are TCP and
// much of a Content-Length or close-delimited body is still to come —
// head and buffered bytes through the buffer, then the rest by splice.
asio::awaitable<RelayResult> Session::relay_large_or_small(upstream::ByteStream& up, Framing& framing) {
  using Kind = Framing::Kind;
  io::Socket* up_socket = up.tcp_socket();
  bool large = framing.kind == Kind::until_eof ||
               (framing.kind == Kind::length && framing.remaining >= ubuf_.size() + kSpliceMin);
  if (!up_socket || !large) {
    RelayResult r = co_await relay_body(up, client_, ubuf_, framing, watch_, Watchdog::Target::upstream,
                                        Watchdog::Target::client, cfg_.endpoint_timeout, asio::buffer(out_));
    co_return r;
  }
  error_code ec;
  size_t n = framing.take(ubuf_.data(), ec);
  std::array<asio::const_buffer, 2> first{asio::buffer(out_), asio::buffer(ubuf_.data().data(), n)};
  watch_.set(route::Clock::now() + cfg_.endpoint_timeout, Watchdog::Target::client);
  auto [wec, written] = co_await asio::async_write(client_, first, use_tuple);
  RelayResult r;
  if (wec) {
    r.write_error = wec;
    co_return r;
  }
  ubuf_.consume(n);
  r.bytes = n;
  SpliceResult s = co_await splice_body(*up_socket, client_, worker_.pipes(), framing.remaining,
                                        framing.kind == Kind::until_eof, watch_, Watchdog::Target::upstream,
                                        Watchdog::Target::client, cfg_.endpoint_timeout);
  r.bytes += s.bytes;
  r.read_error = s.read_error;
  r.write_error = s.write_error;
  if (framing.kind == Kind::length) framing.remaining -= std::min(framing.remaining, s.bytes);
  co_return r;
}

asio::awaitable<Attempt> Session::relay_response(upstream::ByteStream& up, const route::Endpoint& endpoint,
                                                 bool* reusable) {
  *reusable = false;
  ubuf_.clear();
  auto deadline = route::Clock::now() + cfg_.endpoint_timeout;
  bool got_any = false;
  size_t head_len = 0;
  for (;;) {  // until a final (non-1xx) head, relaying interim ones
    resp_.clear();
    http::HeadScanner scanner(kMaxResponseHead);
    for (;;) {
      if (ubuf_.size() > 0) {
        http::HeadScanner::Result found =
            scanner.scan(std::string_view(static_cast<const char*>(ubuf_.data().data()), ubuf_.size()));
        if (found.status == http::HeadScanner::Status::error)
          co_return failed(Attempt::Result::fail, Failure::endpoint_failure, malformed(found.error));
        if (found.status == http::HeadScanner::Status::complete) {
          head_len = found.length;
          break;
        }
      }
      watch_.set(deadline, Watchdog::Target::upstream);
      // The head is read in small pieces, so a large body stays in the
      // socket for splice instead of being copied in with the head.
      asio::mutable_buffer space = ubuf_.prepare(kHeadRead);
      if (space.size() == 0)
        co_return failed(Attempt::Result::fail, Failure::endpoint_failure, malformed(http::HeadError::too_large));
      auto [ec, n] = co_await up.async_read_some(space, use_tuple);
      if (ec) {
        if (watch_.expired()) co_return failed(Attempt::Result::fail, Failure::backend_timeout, "timeout");
        bool nothing = !got_any && ubuf_.size() == 0;
        bool replayable = !request_has_body_ && request_idempotent_;
        if (nothing && replayable && (ec == asio::error::eof || ec == asio::error::connection_reset))
          co_return failed(Attempt::Result::retry_fresh, Failure::endpoint_failure, "EOF before response");
        co_return failed(Attempt::Result::fail, Failure::endpoint_failure,
                         ec == asio::error::eof ? "EOF" : ec.message());
      }
      got_any = true;
      ubuf_.commit(n);
    }
    http::HeadError bad = http::parse_response_head(ubuf_.mutable_data(), head_len, http::HeadLimits{kMaxResponseHead},
                                                    &resp_);
    if (bad == http::HeadError::none && resp_.status == 101 && !request_upgrade_) bad = http::HeadError::bad_status;
    if (bad != http::HeadError::none) co_return failed(Attempt::Result::fail, Failure::endpoint_failure, malformed(bad));
    if (resp_.status >= 200 || resp_.status == 101) break;
    out_.clear();
    write_client_response(resp_, ResponseRewrite{request_id_, false, false, {}}, &out_);
    auto [wec, wn] = co_await asio::async_write(client_, asio::buffer(out_), use_tuple);
    if (wec) co_return done(false);
    ubuf_.consume(head_len);
  }
  const int status = resp_.status;
  if (status == 101) {
    out_.clear();
    write_client_response(resp_, ResponseRewrite{request_id_, false, true, {}}, &out_);
    ubuf_.consume(head_len);
    consume_head();
    ctx_.metrics.websocket_upgrades->inc();
    auto [wec, wn] = co_await asio::async_write(client_, asio::buffer(out_), use_tuple);
    finish_request(status, &endpoint, "");
    if (!wec) co_await tunnel_upgraded(up);
    co_return done(false);
  }
  if (request_upgrade_) ctx_.metrics.websocket_failures->inc();

  Framing framing;
  switch (resp_.framing(request_is_head_)) {
    case http::BodyKind::none: break;
    case http::BodyKind::chunked:
      framing.kind = Framing::Kind::chunked;
      resp_chunked_.reset();
      framing.chunked = &resp_chunked_;
      break;
    case http::BodyKind::length:
      framing.kind = Framing::Kind::length;
      framing.remaining = resp_.content_length;
      break;
    case http::BodyKind::until_close: framing.kind = Framing::Kind::until_eof; break;
  }
  // A response ahead of its request body (uploading_) ends the connection:
  // the rest of the body is never read.
  const bool close_client =
      !client_keep_alive() || uploading_ || framing.kind == Framing::Kind::until_eof;
  std::string sticky;  // Set-Cookie: __VCAP_ID__, when a session starts or moved
  if (!cfg_.sticky_session_cookie_names.empty())
    sticky = sticky_set_cookie(resp_, StickyResponse{&cfg_.sticky_session_cookie_names, sticky_requested_,
                                                     endpoint.meta().private_instance_id, route_path_,
                                                     cfg_.secure_cookies});
  out_.clear();
  write_client_response(resp_, ResponseRewrite{request_id_, close_client, false, sticky}, &out_);
  ubuf_.consume(head_len);
  RelayResult body = co_await relay_large_or_small(up, framing);
  bytes_sent_ = body.bytes;
  finish_request(status, &endpoint, "");
  if (!body.ok()) {
    if (body.read_error || body.framing_error)
      log::info("backend-response-truncated",
                log::Fields()("host", host_)("endpoint", endpoint.address())("bytes", body.bytes));
    co_return done(false);  // the head is out: the only signal left is closing
  }
  *reusable = framing.kind != Framing::Kind::until_eof && resp_.keep_alive && ubuf_.size() == 0 &&
              !cfg_.disable_keep_alives;
  co_return done(!close_client);
}

}  // namespace sy::proxy
