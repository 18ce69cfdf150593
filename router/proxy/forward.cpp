// Choosing endpoints and retrying: up to backends.max_attempts endpoints,
// never the same one twice, each next one only when the outcome table says
// the failure allows it (nothing reached the application, or an idempotent
// body-less request saw EOF before any response byte). A pooled connection
// that turned out dead is retried once, fresh, on the same endpoint.
#include "common/log/log.hpp"
#include "router/proxy/affinity.hpp"
#include "router/proxy/session.hpp"
#include "router/proxy/worker.hpp"

namespace sy::proxy {
namespace {

// `replayable`: nothing of the body was consumed and the request is
// idempotent and body-less. A body that started streaming cannot be sent
// again, so then nothing is retried (a node's 502 tunnel_not_here can come
// after the first body bytes went up).
bool may_retry(Failure f, bool replayable, bool body_started) {
  if (body_started) return false;
  switch (outcome::error_info(f).retry) {
    case outcome::Retry::never: return false;
    case outcome::Retry::always: return true;
    case outcome::Retry::if_replayable: return replayable;
  }
  return false;
}

// The instance filter starts the tried set: only the named instances may
// serve the request, and the pool's own picking and retry rules apply to them.
route::Tried initial_tried(const route::Pool& pool, const InstanceFilter& wanted) {
  route::Tried tried;
  if (wanted.kind == InstanceFilter::Kind::any) return tried;
  for (const route::EndpointPtr& e : pool.endpoints())
    if (!wanted.matches(*e)) tried.add(e.get());
  return tried;
}

}  // namespace

// A sticky request's instance, if it is in the pool, untried and not at
// backends.max_conns (then another is chosen, as gorouter does).
const route::EndpointPtr* Session::sticky_endpoint(const route::Pool& pool, const route::Tried& tried) const {
  if (req_.sticky.empty()) return nullptr;
  for (const route::EndpointPtr& e : pool.endpoints()) {
    if (e->meta().private_instance_id != req_.sticky || tried.contains(e.get())) continue;
    if (cfg_.max_conns > 0 && e->in_flight() >= cfg_.max_conns) return nullptr;
    return &e;
  }
  return nullptr;
}

// A chunked body's bytes that came with the head are checked before any
// backend sees the head: a broken chunk there is the client's 400, and the
// backend never gets a request it could not finish.
bool Session::buffered_body_valid() const {
  if (req_.head.body != http::BodyKind::chunked) return true;
  http::ChunkedDecoder probe = req_.chunked;  // a copy: the real one runs as the body is relayed
  const char* body = static_cast<const char*>(client_.in.data().data()) + req_.head_len;
  return probe.feed(body, client_.in.size() - req_.head_len).status != http::ChunkedDecoder::Status::error;
}

asio::awaitable<bool> Session::forward(const RouteDecision& route) {
  if (!buffered_body_valid()) co_return co_await answer(Failure::bad_request_body, "");
  const route::Pool& pool = *route.pool;
  route::Tried tried = initial_tried(pool, route.wanted);
  req_.sticky.assign(cfg_.sticky_session_cookie_names.empty()
                         ? std::string_view()
                         : sticky_instance(req_.head, cfg_.sticky_session_cookie_names));
  const std::string_view key = pool.key();
  const size_t slash = key.find('/');
  req_.route_path = slash == std::string_view::npos ? std::string_view("/") : key.substr(slash);
  AttemptResult last;
  last.detail = "no endpoint";
  for (int attempts = 0; attempts < cfg_.max_attempts; ++attempts) {
    const auto now = route::Clock::now();
    const route::EndpointPtr* picked = attempts == 0 ? sticky_endpoint(pool, tried) : nullptr;
    if (!picked) picked = pool.next(tried, now, cfg_.max_conns);
    if (!picked) {
      if (attempts == 0 && pool.overloaded(tried, cfg_.max_conns)) {
        worker_.stats().backend_exhausted_conns.add();
        last.failure = Failure::connection_limit;
      }
      break;
    }
    route::EndpointPtr endpoint = *picked;  // owned: survives a table swap
    tried.add(endpoint.get());
    if (attempts > 0) worker_.stats().retries.add();
    AttemptResult a = co_await attempt(endpoint, true);
    const bool replayable = req_.facts.idempotent && !req_.facts.has_body && !req_.body_started;
    if (!a.answered && a.stale_pooled && may_retry(a.failure, replayable, req_.body_started))
      a = co_await attempt(endpoint, false);
    if (a.answered) {
      consume_head();
      co_return a.keep_client;
    }
    last = std::move(a);
    if (!may_retry(last.failure, replayable, req_.body_started)) break;
    endpoint->mark_failed(now + cfg_.droplet_stale_threshold / 4);
    log::info("backend-endpoint-failed", log::Fields()("host", req_.host)("endpoint", endpoint->address())(
                                             "error", outcome::router_error_value(last.failure, last.detail))(
                                             "attempt", attempts + 1));
  }
  co_return co_await answer(last.failure, last.detail);
}

// One attempt: a stream from the Connector, the exchange on it, and the
// stream back to the pool when the exchange ended cleanly.
asio::awaitable<AttemptResult> Session::attempt(const route::EndpointPtr& endpoint, bool allow_reuse) {
  endpoint->begin_request();
  rec_.attempt_started = route::Clock::now();
  const route::TimePoint deadline = rec_.attempt_started + cfg_.endpoint_timeout;
  upstream::OpenRequest request{&req_.head, req_.id, client_.ip, deadline, allow_reuse};
  upstream::OpenResult opened = co_await worker_.connector().open(*endpoint, request);
  AttemptResult a;
  rec_.component_slot = endpoint->component_slot();
  if (opened.failure) {
    a.failure = *opened.failure;
    a.detail = std::move(opened.detail);
    if (a.failure == Failure::ssl_handshake_error || a.failure == Failure::ssl_certificate_error)
      count_tls_failure(opened.tls_failure);
  } else {
    rec_.dns_time = opened.dns_time;
    rec_.dial_time = opened.dial_time;
    rec_.tls_time = opened.tls_time;
    Attempt at{*opened.stream, *endpoint, opened.to_node, opened.keep_forwarded_for, opened.reused, deadline};
    a = co_await exchange(at, opened.extra_headers);
    if (at.reusable)
      worker_.connector().release(*endpoint, std::move(opened.stream));
    else
      opened.stream->close();
  }
  const route::Clock::duration spent = route::Clock::now() - rec_.attempt_started;
  rec_.backend_time += spent;
  rec_.attempt_started = {};
  if (!a.answered) {
    ++rec_.failed_attempts;
    rec_.failed_attempts_time += spent;
  }
  endpoint->end_request();
  co_return a;
}

// gorouter's three TLS counters (a context that could not be built counts
// as a failed handshake).
void Session::count_tls_failure(upstream::TlsFailure why) {
  WorkerStats& stats = worker_.stats();
  switch (why) {
    case upstream::TlsFailure::hostname_mismatch: stats.backend_invalid_id.add(); break;
    case upstream::TlsFailure::invalid_cert: stats.backend_invalid_tls_cert.add(); break;
    default: stats.backend_tls_handshake_failed.add(); break;
  }
}

}  // namespace sy::proxy
