// One exchange on an open stream: the rewritten head and the body bytes
// already buffered go out in one write, then the rest of the body streams up
// *while* the answer is awaited (as Go's transport does: a backend that
// answers before reading the whole body, 401 or 413, is heard at once).
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "router/proxy/session.hpp"
#include "router/proxy/splice.hpp"
#include "router/proxy/worker.hpp"

namespace sy::proxy {
namespace {

std::string describe(const error_code& ec) {
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::connection_reset) return "connection reset";
  if (ec == asio::error::eof) return "EOF";
  return ec ? ec.message() : "unknown";
}

AttemptResult failed(Failure f, std::string detail = {}) {
  AttemptResult a;
  a.failure = f;
  a.detail = std::move(detail);
  return a;
}

}  // namespace

void Session::write_upstream_head(const Attempt& at, std::string_view extra_headers) {
  const route::Endpoint& endpoint = at.endpoint;
  RequestRewrite rw;
  rw.client_ip = client_.ip;
  rw.request_id = req_.id;
  rw.now_ms = req_.start_unix_ms;
  rw.app_id = endpoint.meta().app_id;
  rw.instance_index = endpoint.meta().private_instance_index;
  rw.instance_id = endpoint.instance_id();
  rw.forwarded_proto = cfg_.force_forwarded_proto_https || client_.stream.tls() ? "https" : "http";
  rw.force_forwarded_proto = cfg_.force_forwarded_proto_https || cfg_.sanitize_forwarded_proto;
  rw.close = cfg_.disable_keep_alives;
  rw.extra_headers = extra_headers;
  rw.append_client_ip = !at.keep_forwarded_for;
  // forwarded_client_cert; a node that forwarded the request applied it already.
  const config::ForwardedClientCert xfcc = cfg_.tls.forwarded_client_cert;
  if (!at.keep_forwarded_for && xfcc != config::ForwardedClientCert::always_forward) {
    rw.strip_client_cert = xfcc == config::ForwardedClientCert::sanitize_set || client_.client_cert.empty();
    if (xfcc == config::ForwardedClientCert::sanitize_set) rw.client_cert = client_.client_cert;
  }
  rw.filter = &cfg_.hop_by_hop_headers_to_filter;
  out_.clear();
  write_upstream_request(req_.head, rw, &out_);
}

Framing Session::request_framing() {
  Framing framing;
  if (req_.head.body == http::BodyKind::chunked) {
    framing.kind = Framing::Kind::chunked;
    framing.chunked = &req_.chunked;
  } else if (req_.head.body == http::BodyKind::length) {
    framing.kind = Framing::Kind::length;
    framing.remaining = req_.head.content_length;
  }
  return framing;
}

asio::awaitable<AttemptResult> Session::exchange(Attempt& at, std::string_view extra_headers) {
  watch_.set_upstream(&at.up);
  write_upstream_head(at, extra_headers);
  Framing framing = request_framing();
  // Head plus whatever body bytes are already buffered, in one write. A
  // chunked body's decoder must not advance before the head is known to be
  // delivered (a retry replays it), so chunked bytes follow afterwards.
  auto buffered = asio::const_buffer(static_cast<const char*>(client_.in.data().data()) + req_.head_len,
                                     client_.in.size() - req_.head_len);
  error_code unused;
  const bool chunked = framing.kind == Framing::Kind::chunked;
  const size_t first_body = (req_.body_started || chunked) ? 0 : framing.take(buffered, unused);
  std::array<asio::const_buffer, 2> first{asio::buffer(out_), asio::buffer(buffered.data(), first_body)};
  watch_.set(at.deadline, Watchdog::Target::upstream);
  auto [wec, written] = co_await asio::async_write(at.up, first, use_tuple);
  AttemptResult a;
  if (wec) {
    // The head did not get through: nothing the backend could act on.
    a = watch_.expired() ? failed(Failure::backend_timeout) : failed(Failure::head_not_sent, describe(wec));
  } else {
    rec_.bytes_received = first_body;
    if (req_.facts.has_body) {  // from here on the body streams: the request can no longer be replayed
      client_.in.consume(req_.head_len + first_body);
      req_.head_len = 0;
      req_.body_started = true;
    }
    bool client_there = true;
    if (!framing.done() && req_.expect_continue) client_there = co_await send_continue();
    if (!client_there) {
      a.answered = true;  // the client went away: nothing left to answer
    } else if (framing.done()) {
      a = co_await relay_response(at);
    } else {
      Upload upload;
      a = co_await body_and_response(at, framing, upload);
    }
  }
  watch_.set_upstream(nullptr);
  if (!a.answered && (a.failure == Failure::head_not_sent || a.failure == Failure::eof_before_response))
    a.stale_pooled = at.reused_stream;
  co_return a;
}

// The client waits for 100 Continue before sending its body. The router
// answers it itself (as Go's server and nginx do) and does not forward
// Expect, so the backend simply receives the body.
asio::awaitable<bool> Session::send_continue() {
  req_.expect_continue = false;
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  watch_.set(route::Clock::now() + cfg_.endpoint_timeout, Watchdog::Target::client);
  auto [ec, n] = co_await asio::async_write(client_.stream, asio::buffer(kContinue), use_tuple);
  co_return !ec;
}

asio::awaitable<AttemptResult> Session::body_and_response(Attempt& at, Framing& framing, Upload& upload) {
  AttemptResult a;
  if (req_.facts.upgrade) {  // after a 101 the raw pump reads the client itself: body first
    co_await upload_body(at, framing, upload);
    if (upload.body.ok()) a = co_await relay_response(at);
  } else {
    using namespace asio::experimental::awaitable_operators;
    AttemptResult answered = co_await (upload_body(at, framing, upload) && response_during_upload(at, upload));
    a = std::move(answered);
  }
  rec_.bytes_received += upload.body.bytes;
  if (upload.body.ok()) co_return a;
  at.reusable = false;  // the backend did not get the whole body
  co_return settle_upload(std::move(a), upload);
}

asio::awaitable<void> Session::upload_body(Attempt& at, Framing& framing, Upload& upload) {
  // A slow client cannot hold the request open past endpoint_timeout (as
  // gorouter): at the deadline the upstream is closed and the client told 504.
  const Patience patience(cfg_.endpoint_timeout, at.deadline, Watchdog::Target::upstream);
  at.uploading = true;
  io::Socket* up_socket = at.up.splice_socket();
  io::Socket* client_socket = client_.stream.splice_socket();
  if (up_socket && client_socket && framing.kind == Framing::Kind::length && framing.remaining >= kSpliceMin &&
      client_.in.size() == 0) {  // a large upload: socket to socket by splice
    SpliceResult moved = co_await splice_body(*client_socket, *up_socket, worker_.pipes(), framing.remaining, false,
                                              watch_, Watchdog::Target::client, Watchdog::Target::upstream, patience);
    upload.body.bytes = moved.bytes;
    upload.body.read_error = moved.read_error;
    upload.body.write_error = moved.write_error;
  } else {
    upload.body = co_await relay_body(client_.stream, at.up, client_.in, framing, watch_, Watchdog::Target::client,
                                      Watchdog::Target::upstream, patience);
  }
  upload.done = true;
  at.uploading = false;
  if (!upload.answered) watch_.set(at.deadline, Watchdog::Target::upstream);  // back to awaiting the answer
  // The client went away or sent a broken body: no response is wanted.
  if (!upload.answered && (upload.body.read_error || upload.body.framing_error)) at.up.close();
}

asio::awaitable<AttemptResult> Session::response_during_upload(Attempt& at, Upload& upload) {
  AttemptResult a = co_await relay_response(at);
  upload.answered = true;
  if (!upload.done) {
    // Answered (or failed) before the whole body went up: stop the upload
    // wherever it waits, on the backend or on the client.
    upload.cut_short = true;
    at.up.close();
    client_.stream.cancel();
  }
  co_return a;
}

// The upload did not complete. If the response side finished first (or
// answered), its outcome stands and unread body bytes may follow (linger).
AttemptResult Session::settle_upload(AttemptResult response, const Upload& upload) {
  AttemptResult a;
  if (upload.cut_short || response.answered) {
    a = std::move(response);
    if (a.answered) client_.linger = true;
  } else if (upload.body.framing_error) {  // nothing went to the client yet: it hears why
    a = failed(Failure::bad_request_body);
  } else if (upload.body.read_error) {
    a.answered = true;  // the client went away: nothing to answer
  } else if (watch_.expired()) {
    a = failed(Failure::backend_timeout);
  } else {
    a = failed(Failure::upstream_failed, "request body relay failed");
  }
  a.keep_client = false;
  return a;
}

}  // namespace sy::proxy
