// Forwarding one request: pick endpoints, open streams through the
// Connector, write the rewritten head and stream the body, relay the
// response, and decide retries (only when nothing reached the backend, or an
// idempotent body-less request got EOF before any response byte).
#include "router/base/log.hpp"
#include "router/proxy/affinity.hpp"
#include "router/proxy/session_impl.hpp"
#include "router/proxy/splice.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace sy::proxy {
namespace {

std::string describe(const error_code& ec) {
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::connection_reset) return "connection reset";
  if (ec == asio::error::eof) return "EOF";
  if (ec == asio::error::timed_out) return "dial timeout";
  return ec ? ec.message() : "unknown";
}

Attempt make(Attempt::Result r, Failure f, std::string detail) {
  Attempt a;
  a.result = r;
  a.failure = f;
  a.detail = std::move(detail);
  return a;
}

}  // namespace

void Session::build_upstream_head(const route::Endpoint& endpoint, std::string_view extra_headers) {
  RequestRewrite rw;
  rw.client_ip = client_ip_;
  rw.request_id = request_id_;
  rw.now_ms = start_unix_ms_;
  rw.app_id = endpoint.meta().app_id;
  rw.instance_index = endpoint.meta().private_instance_index;
  rw.instance_id = endpoint.instance_id();
  rw.forwarded_proto = cfg_.force_forwarded_proto_https ? "https" : "http";
  rw.force_forwarded_proto = cfg_.force_forwarded_proto_https || cfg_.sanitize_forwarded_proto;
  rw.close = cfg_.disable_keep_alives;
  rw.extra_headers = extra_headers;
  rw.filter = &cfg_.hop_by_hop_headers_to_filter;
  out_.clear();
  write_upstream_request(req_, rw, &out_);
}

// A sticky request's instance, if it is in the pool, untried and not at
// backends.max_conns (then another is chosen, as gorouter does).
const route::EndpointPtr* Session::sticky_endpoint(const route::Pool& pool, const route::Tried& tried) const {
  if (sticky_requested_.empty()) return nullptr;
  for (const route::EndpointPtr& e : pool.endpoints()) {
    if (e->meta().private_instance_id != sticky_requested_ || tried.contains(e.get())) continue;
    if (cfg_.max_conns > 0 && e->in_flight() >= cfg_.max_conns) return nullptr;
    return &e;
  }
  return nullptr;
}

asio::awaitable<bool> Session::forward(const route::Pool& pool, InstanceFilter wanted) {
  route::Tried tried;
  if (wanted.kind != InstanceFilter::Kind::any) {
    // Only the named instance(s) may serve it: every other endpoint counts as
    // tried, so the pool's own picking and retry rules apply to them alone.
    for (const route::EndpointPtr& e : pool.endpoints())
      if (!wanted.matches(*e)) tried.add(e.get());
  }
  sticky_requested_.assign(cfg_.sticky_session_cookie_names.empty()
                               ? std::string_view()
                               : sticky_instance(req_, cfg_.sticky_session_cookie_names));
  const std::string_view key = pool.key();
  route_path_ = key.find('/') == std::string_view::npos ? std::string_view("/") : key.substr(key.find('/'));
  Attempt last = make(Attempt::Result::fail, Failure::endpoint_failure, "no endpoint");
  for (int attempts = 0; attempts < cfg_.max_attempts; ++attempts) {
    auto now = route::Clock::now();
    const route::EndpointPtr* picked = attempts == 0 ? sticky_endpoint(pool, tried) : nullptr;
    if (!picked) picked = pool.next(tried, now, cfg_.max_conns);
    if (!picked) {
      if (attempts == 0 && pool.overloaded(tried, cfg_.max_conns)) {
        ctx_.metrics.backend_exhausted_conns->inc();
        last = make(Attempt::Result::fail, Failure::connection_limit, "");
      }
      break;
    }
    route::EndpointPtr endpoint = *picked;  // owned: survives a table swap
    tried.add(endpoint.get());
    if (attempts > 0) ctx_.metrics.retries->inc();
    endpoint->begin_request();
    attempt_started_ = route::Clock::now();
    Attempt a = co_await attempt(endpoint, true);
    if (a.result == Attempt::Result::retry_fresh) a = co_await attempt(endpoint, false);
    backend_time_ += route::Clock::now() - attempt_started_;
    attempt_started_ = {};
    endpoint->end_request();
    if (a.result == Attempt::Result::done) {
      consume_head();
      co_return a.keep_client;
    }
    last = std::move(a);
    if (last.result == Attempt::Result::retry || last.result == Attempt::Result::retry_fresh) {
      endpoint->mark_failed(now + cfg_.droplet_stale_threshold / 4);
      log::info("backend-endpoint-failed", log::Fields()("host", host_)("endpoint", endpoint->address())(
                                               "error", last.detail)("attempt", attempts + 1));
      continue;
    }
    break;
  }
  bool keep = co_await send_error(last.failure, last.detail);
  co_return keep && last.keep_client;
}

asio::awaitable<Attempt> Session::attempt(const route::EndpointPtr& endpoint, bool allow_reuse) {
  auto deadline = route::Clock::now() + cfg_.endpoint_timeout;
  upstream::OpenResult opened = co_await worker_.connector().open(*endpoint, deadline, allow_reuse);
  if (opened.error != upstream::OpenError::none) {
    std::string what = opened.error == upstream::OpenError::connect_timeout ? "dial timeout"
                       : opened.error == upstream::OpenError::no_tunnel   ? "no tunnel session"
                       : opened.error == upstream::OpenError::tls_failed  ? "tls: " + describe(opened.ec)
                                                                          : describe(opened.ec);
    co_return make(Attempt::Result::retry, Failure::endpoint_failure, what);
  }
  std::unique_ptr<upstream::ByteStream> up = std::move(opened.stream);
  watch_.set_upstream(up.get());
  build_upstream_head(*endpoint, opened.extra_headers);

  // Head plus whatever body bytes are already buffered, in one write.
  Framing framing;
  if (req_.body == http::BodyKind::chunked) {
    framing.kind = Framing::Kind::chunked;
    framing.chunked = &req_chunked_;
  } else if (req_.body == http::BodyKind::length) {
    framing.kind = Framing::Kind::length;
    framing.remaining = req_.content_length;
  }
  auto buffered = asio::const_buffer(static_cast<const char*>(cbuf_.data().data()) + head_len_,
                                     cbuf_.size() - head_len_);
  error_code fec;
  // A chunked body goes through the parser, whose state must not advance
  // before the head is known to be delivered; it is relayed afterwards.
  bool chunked = framing.kind == Framing::Kind::chunked;
  size_t first_body = (body_started_ || chunked) ? 0 : framing.take(buffered, fec);
  std::array<asio::const_buffer, 2> first{asio::buffer(out_), asio::buffer(buffered.data(), first_body)};
  watch_.set(deadline, Watchdog::Target::upstream);
  auto [wec, written] = co_await asio::async_write(*up, first, use_tuple);
  if (wec || fec) {
    watch_.set_upstream(nullptr);
    up->close();
    if (fec) co_return make(Attempt::Result::fail, Failure::bad_request, "bad chunked body");
    if (watch_.expired()) co_return make(Attempt::Result::fail, Failure::backend_timeout, "timeout");
    // The head did not get through: nothing the backend could act on.
    co_return make(opened.reused ? Attempt::Result::retry_fresh : Attempt::Result::retry, Failure::endpoint_failure,
                   describe(wec));
  }
  bytes_received_ = first_body;
  if (request_has_body_) {
    // The body is streamed from here on: the request can no longer be replayed.
    cbuf_.consume(head_len_ + first_body);
    head_len_ = 0;
    body_started_ = true;
  }
  if (!framing.done() && expect_continue_) {
    // The client waits for 100 Continue before sending the body. The router
    // answers it itself (as Go's server and nginx do) and does not forward
    // Expect, so the backend simply receives the body.
    expect_continue_ = false;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    watch_.set(route::Clock::now() + cfg_.endpoint_timeout, Watchdog::Target::client);
    auto [cec, cn] = co_await asio::async_write(client_, asio::buffer(kContinue), use_tuple);
    if (cec) {
      watch_.set_upstream(nullptr);
      up->close();
      Attempt a = make(Attempt::Result::done, Failure::endpoint_failure, "client went away");
      a.keep_client = false;
      co_return a;
    }
  }
  bool reusable = false;
  Attempt a;
  if (framing.done())
    a = co_await relay_response(*up, *endpoint, &reusable);
  else
    a = co_await body_and_response(*up, framing, deadline, *endpoint, &reusable);
  watch_.set_upstream(nullptr);
  if (a.result == Attempt::Result::retry_fresh && !opened.reused) a.result = Attempt::Result::retry;
  if (reusable)
    worker_.connector().release(*endpoint, std::move(up));
  else
    up->close();
  co_return a;
}

// The rest of an attempt when body bytes remain after the first write.
asio::awaitable<Attempt> Session::body_and_response(upstream::ByteStream& up, Framing& framing, route::TimePoint deadline,
                                                    const route::Endpoint& endpoint, bool* reusable) {
  Exchange ex;
  ex.deadline = deadline;
  RelayResult body;
  Attempt a;
  if (request_upgrade_) {
    // After a 101 the raw pump reads the client itself: body first.
    body = co_await upload_body(up, framing, ex);
    if (body.ok()) a = co_await relay_response(up, endpoint, reusable);
  } else {
    // The body goes up while the response is awaited, as Go's transport
    // does: a backend that answers before reading the whole body (401, 413)
    // is heard at once instead of after a stalled upload.
    using namespace asio::experimental::awaitable_operators;
    auto both = co_await (upload_body(up, framing, ex) && response_during_upload(up, endpoint, reusable, ex));
    body = std::get<0>(both);
    a = std::move(std::get<1>(both));
  }
  bytes_received_ += body.bytes;
  if (body.ok()) co_return a;
  *reusable = false;  // the backend did not get the whole body
  co_return settle_incomplete_body(std::move(a), body, ex);
}

asio::awaitable<RelayResult> Session::upload_body(upstream::ByteStream& up, Framing& framing, Exchange& ex) {
  RelayResult body;
  uploading_ = true;
  // A slow client cannot hold the request open past endpoint_timeout (as
  // gorouter): at the deadline the upstream is closed and the client told 504.
  const Patience patience(cfg_.endpoint_timeout, ex.deadline, Watchdog::Target::upstream);
  io::Socket* up_socket = up.tcp_socket();
  if (up_socket && framing.kind == Framing::Kind::length && framing.remaining >= kSpliceMin &&
      cbuf_.size() == 0) {  // a large upload: socket to socket by splice
    SpliceResult moved = co_await splice_body(client_, *up_socket, worker_.pipes(), framing.remaining, false, watch_,
                                              Watchdog::Target::client, Watchdog::Target::upstream, patience);
    body.bytes = moved.bytes;
    body.read_error = moved.read_error;
    body.write_error = moved.write_error;
  } else {
    body = co_await relay_body(client_, up, cbuf_, framing, watch_, Watchdog::Target::client,
                               Watchdog::Target::upstream, patience);
  }
  uploading_ = false;
  ex.upload_done = true;
  if (!ex.response_done) watch_.set(ex.deadline, Watchdog::Target::upstream);  // back to awaiting the answer
  // The client went away or sent a broken body: no response is wanted.
  if (!ex.response_done && (body.read_error || body.framing_error)) up.close();
  co_return body;
}

asio::awaitable<Attempt> Session::response_during_upload(upstream::ByteStream& up, const route::Endpoint& endpoint,
                                                         bool* reusable, Exchange& ex) {
  Attempt a = co_await relay_response(up, endpoint, reusable);
  ex.response_done = true;
  if (!ex.upload_done) {
    // Answered (or failed) before the whole body went up: stop the upload
    // wherever it waits, on the backend or on the client.
    ex.upload_stopped = true;
    up.close();
    client_.cancel();
  }
  co_return a;
}

Attempt Session::settle_incomplete_body(Attempt response, const RelayResult& body, const Exchange& ex) {
  Attempt a;
  if (ex.upload_stopped || response.result == Attempt::Result::done) {
    // The response side ended first (or the backend answered, then reset
    // the upload): its outcome stands. Unread body bytes may follow.
    a = std::move(response);
    if (a.result == Attempt::Result::done) linger_ = true;
  } else if (body.framing_error) {  // nothing went to the client yet: it hears why
    a = make(Attempt::Result::fail, Failure::bad_request, "bad chunked body");
  } else if (body.read_error) {
    a = make(Attempt::Result::done, Failure::endpoint_failure, "client went away");
  } else if (watch_.expired()) {
    a = make(Attempt::Result::fail, Failure::backend_timeout, "timeout");
  } else {
    a = make(Attempt::Result::fail, Failure::endpoint_failure, "request body relay failed");
  }
  a.keep_client = false;
  return a;
}

}  // namespace sy::proxy
