// The answer: read the upstream's head (relaying 1xx interim responses),
// rewrite it, stream the body to the client, and after a 101 relay raw bytes
// both ways. A node's `502 tunnel_not_here` is not relayed: nothing reached
// the application, so forward() may try another holder.
#include "common/log/log.hpp"
#include "router/proxy/affinity.hpp"
#include "router/proxy/pump.hpp"
#include "router/proxy/session.hpp"
#include "router/proxy/splice.hpp"
#include "router/proxy/worker.hpp"

namespace sy::proxy {
namespace {

AttemptResult answered(bool keep_client) {
  AttemptResult a;
  a.answered = true;
  a.keep_client = keep_client;
  return a;
}

AttemptResult failed(Failure f, std::string detail = {}) {
  AttemptResult a;
  a.failure = f;
  a.detail = std::move(detail);
  return a;
}

std::string malformed(http::HeadError e) { return "malformed response: " + std::string(http::to_string(e)); }

}  // namespace

asio::awaitable<void> Session::pump_upgraded(Attempt& at) {
  watch_.clear();  // an upgraded connection may idle as long as both ends like
  co_await pump_both(client_.stream, at.up, client_.in, up_.in);
}

// One response head into up_.head (nullopt), or why there is none.
asio::awaitable<std::optional<AttemptResult>> Session::read_response_head(Attempt& at, size_t* head_len) {
  up_.head.clear();
  http::HeadScanner scanner(kMaxResponseHead);
  bool got_any = up_.in.size() > 0;
  for (;;) {
    if (up_.in.size() > 0) {
      http::HeadScanner::Result found =
          scanner.scan(std::string_view(static_cast<const char*>(up_.in.data().data()), up_.in.size()));
      if (found.status == http::HeadScanner::Status::error) co_return failed(Failure::malformed_response, malformed(found.error));
      if (found.status == http::HeadScanner::Status::complete) {
        *head_len = found.length;
        break;
      }
    }
    watch_.set(at.deadline, Watchdog::Target::upstream);
    asio::mutable_buffer space = up_.in.prepare(kHeadRead);
    if (space.size() == 0) co_return failed(Failure::malformed_response, malformed(http::HeadError::too_large));
    auto [ec, n] = co_await at.up.async_read_some(space, use_tuple);
    if (ec) {
      if (watch_.expired()) co_return failed(Failure::backend_timeout);
      const bool nothing = !got_any && (ec == asio::error::eof || ec == asio::error::connection_reset);
      co_return failed(nothing ? Failure::eof_before_response : Failure::upstream_failed,
                       ec == asio::error::eof ? "EOF" : ec.message());
    }
    got_any = true;
    up_.in.commit(n);
  }
  http::HeadError bad =
      http::parse_response_head(up_.in.mutable_data(), *head_len, http::HeadLimits{kMaxResponseHead}, &up_.head);
  if (bad == http::HeadError::none && up_.head.status == 101 && !req_.facts.upgrade) bad = http::HeadError::bad_status;
  if (bad != http::HeadError::none) co_return failed(Failure::malformed_response, malformed(bad));
  if (at.to_node && up_.head.status == 502 && up_.head.find("x-cf-routererror") == "tunnel_not_here")
    co_return failed(Failure::holder_gone);
  co_return std::nullopt;
}

// The response body: through the buffer, or — when the stream offers splice
// and much of a Content-Length or close-delimited body is still to come —
// head and buffered bytes through the buffer, then the rest by splice.
asio::awaitable<RelayResult> Session::relay_response_body(Attempt& at, Framing& framing) {
  using Kind = Framing::Kind;
  io::Socket* up_socket = at.up.splice_socket();
  io::Socket* client_socket = client_.stream.splice_socket();
  const bool large = framing.kind == Kind::until_eof ||
                     (framing.kind == Kind::length && framing.remaining >= up_.in.size() + kSpliceMin);
  if (!up_socket || !client_socket || !large) {
    RelayResult r = co_await relay_body(at.up, client_.stream, up_.in, framing, watch_, Watchdog::Target::upstream,
                                        Watchdog::Target::client, cfg_.endpoint_timeout, asio::buffer(out_));
    co_return r;
  }
  error_code ec;
  const size_t n = framing.take(up_.in.data(), ec);
  std::array<asio::const_buffer, 2> first{asio::buffer(out_), asio::buffer(up_.in.data().data(), n)};
  watch_.set(route::Clock::now() + cfg_.endpoint_timeout, Watchdog::Target::client);
  auto [wec, written] = co_await asio::async_write(client_.stream, first, use_tuple);
  RelayResult r;
  if (wec) {
    r.write_error = wec;
    co_return r;
  }
  up_.in.consume(n);
  r.bytes = n;
  SpliceResult s = co_await splice_body(*up_socket, *client_socket, worker_.pipes(), framing.remaining,
                                        framing.kind == Kind::until_eof, watch_, Watchdog::Target::upstream,
                                        Watchdog::Target::client, cfg_.endpoint_timeout);
  r.bytes += s.bytes;
  r.read_error = s.read_error;
  r.write_error = s.write_error;
  if (framing.kind == Kind::length) framing.remaining -= std::min(framing.remaining, s.bytes);
  co_return r;
}

// How the response body ends, from the parser's verdict.
Framing Session::response_framing() {
  Framing framing;
  switch (up_.head.framing(req_.facts.is_head)) {
    case http::BodyKind::none: break;
    case http::BodyKind::chunked:
      framing.kind = Framing::Kind::chunked;
      up_.chunked.reset();
      framing.chunked = &up_.chunked;
      // An HTTP/1.0 client cannot read chunked: it gets the data alone,
      // delimited by the close (a 1.0 connection closes after its answer).
      framing.dechunk = req_.facts.version == 10 && up_.head.codings.count == 1;
      break;
    case http::BodyKind::length:
      framing.kind = Framing::Kind::length;
      framing.remaining = up_.head.content_length;
      break;
    case http::BodyKind::until_close: framing.kind = Framing::Kind::until_eof; break;
  }
  return framing;
}

asio::awaitable<AttemptResult> Session::relay_response(Attempt& at) {
  at.reusable = false;
  up_.in.clear();
  size_t head_len = 0;
  for (;;) {  // until a final (non-1xx) head, relaying interim ones
    std::optional<AttemptResult> failure = co_await read_response_head(at, &head_len);
    if (failure) co_return std::move(*failure);
    if (up_.head.status >= 200 || up_.head.status == 101) break;
    out_.clear();
    write_client_response(up_.head, ResponseRewrite{req_.id, false, false, {}, false}, &out_);
    auto [wec, wn] = co_await asio::async_write(client_.stream, asio::buffer(out_), use_tuple);
    if (wec) co_return answered(false);
    up_.in.consume(head_len);
  }
  if (up_.head.status == 101) co_return co_await relay_upgrade(at, head_len);
  if (req_.facts.upgrade) worker_.stats().websocket_failures.add();
  Framing framing = response_framing();
  // An answer ahead of its request body (the upload still running) ends the
  // connection: the rest of the body is never read.
  const bool close_client = !client_keep_alive() || at.uploading || framing.kind == Framing::Kind::until_eof;
  std::string sticky;  // Set-Cookie: __VCAP_ID__, when a session starts or moved
  if (!cfg_.sticky_session_cookie_names.empty())
    sticky = sticky_set_cookie(up_.head, StickyResponse{&cfg_.sticky_session_cookie_names, req_.sticky,
                                                        at.endpoint.meta().private_instance_id, req_.route_path,
                                                        cfg_.secure_cookies});
  out_.clear();
  write_client_response(up_.head, ResponseRewrite{req_.id, close_client, false, sticky, framing.dechunk}, &out_);
  up_.in.consume(head_len);
  RelayResult body = co_await relay_response_body(at, framing);
  rec_.bytes_sent = body.bytes;
  finish_request(up_.head.status, &at.endpoint, "");
  if (!body.ok()) {
    if (body.read_error || body.framing_error)
      log::info("backend-response-truncated",
                log::Fields()("host", req_.host)("endpoint", at.endpoint.address())("bytes", body.bytes));
    co_return answered(false);  // the head is out: the only signal left is closing
  }
  at.reusable = framing.kind != Framing::Kind::until_eof && up_.head.keep_alive && up_.in.size() == 0 &&
                !cfg_.disable_keep_alives;
  co_return answered(!close_client);
}

// 101: the head goes out as the backend sent it, then raw bytes both ways
// until either side ends; the connection is not reused.
asio::awaitable<AttemptResult> Session::relay_upgrade(Attempt& at, size_t head_len) {
  out_.clear();
  write_client_response(up_.head, ResponseRewrite{req_.id, false, true, {}, false}, &out_);
  up_.in.consume(head_len);
  consume_head();
  worker_.stats().websocket_upgrades.add();
  auto [wec, wn] = co_await asio::async_write(client_.stream, asio::buffer(out_), use_tuple);
  finish_request(101, &at.endpoint, "");
  if (!wec) co_await pump_upgraded(at);
  co_return answered(false);
}

}  // namespace sy::proxy
