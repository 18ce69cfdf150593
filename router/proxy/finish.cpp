// The record of a request: what is noted when it begins (facts that outlive
// the head, the request id, the access log's copies) and what is written
// when it ends (metrics, the access log line).
#include <algorithm>
#include <chrono>

#include "common/ids/uuid.hpp"
#include "router/proxy/session.hpp"
#include "router/proxy/worker.hpp"

namespace sy::proxy {

void Session::begin_request() {
  ++client_.served;
  req_.start = route::Clock::now();
  req_.start_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  rec_.bytes_received = rec_.bytes_sent = 0;
  rec_.backend_time = {};
  rec_.attempt_started = {};
  rec_.component_slot = route::ComponentSlots::kNone;
  rec_.failed_attempts = 0;
  rec_.failed_attempts_time = {};
  rec_.dns_time = rec_.dial_time = rec_.tls_time = {};
  req_.host.clear();
  req_.id.resize(36);
  new_uuid(req_.id.data());
  const http::RequestHead& h = req_.head;
  if (!req_.parsed) {  // a refused head: nothing of it is trusted
    req_.facts = RequestState::Facts{};
    if (ctx_.access_log) rec_.method = rec_.target = "-";
    return;
  }
  req_.facts = RequestState::Facts{h.idempotent(), h.has_body(), h.keep_alive, h.method == "HEAD", h.upgrade,
                                   h.version};
  req_.expect_continue = iequals(h.find(FieldKind::expect), "100-continue");
  if (!client_.nodelay && client_keep_alive()) {
    // Only a connection that stays open needs Nagle off (a later small write
    // must not wait for an ACK); a one-request connection saves the syscall.
    client_.stream.set_nodelay();
    client_.nodelay = true;
  }
  if (!ctx_.access_log) return;
  rec_.method = h.method;
  rec_.target = h.target;
  rec_.referer = h.find("referer");
  rec_.user_agent = h.find("user-agent");
  rec_.forwarded_for = h.find(FieldKind::x_forwarded_for);
  rec_.forwarded_proto = h.find(FieldKind::x_forwarded_proto);
  rec_.extra_headers.clear();
  for (const auto& name : cfg_.extra_headers_to_log) rec_.extra_headers.emplace_back(name, h.find(name));
}

void Session::finish_request(int status, const route::Endpoint* endpoint, std::string_view router_error) {
  const auto now = route::Clock::now();
  const auto elapsed = now - req_.start;
  const auto in_attempt = rec_.attempt_started != route::TimePoint{} ? now - rec_.attempt_started
                                                                     : route::Clock::duration{};
  const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  const double backend_s = std::chrono::duration<double>(rec_.backend_time + in_attempt).count();
  count(status, ms, backend_s);
  if (!ctx_.access_log) return;
  AccessRecord r;
  r.host = req_.host;
  r.method = rec_.method;
  r.target = rec_.target;
  r.version = req_.facts.version;
  r.referer = rec_.referer;
  r.user_agent = rec_.user_agent;
  r.forwarded_for = rec_.forwarded_for;
  r.forwarded_proto = rec_.forwarded_proto;
  r.status = status;
  r.bytes_received = rec_.bytes_received;
  r.bytes_sent = rec_.bytes_sent;
  const std::string remote = client_.address();
  r.remote_addr = remote;
  r.request_id = req_.id;
  if (endpoint) {
    r.backend_addr = endpoint->address();
    r.app_id = endpoint->meta().app_id;
    r.app_index = endpoint->meta().private_instance_index;
    r.instance_id = endpoint->instance_id();
    if (endpoint->kind() == route::EndpointKind::tunnel) {
      r.tunnel_id = endpoint->meta().tag("tunnel_id");
      r.tunnel_node = endpoint->meta().tag("node");
    }
  }
  r.router_error = router_error;
  r.response_time_s = ms / 1000.0;
  r.backend_time_s = backend_s;
  r.start_unix_ms = req_.start_unix_ms;
  for (const auto& [name, value] : rec_.extra_headers) r.extra_headers.emplace_back(name, value);
  if (ctx_.access_log->format().attempts_details) attempt_details(&r);
  ctx_.access_log->write(r);
}

// The worker's counters: total_requests and latency by the component of
// the endpoint tried last (none: refused or unroutable, no latency, as
// gorouter), responses by status group, the router's own time.
void Session::count(int status, double ms, double backend_s) {
  WorkerStats& stats = worker_.stats();
  const uint8_t slot = rec_.component_slot;
  stats.requests[slot].add();
  stats.responses[status_group(status)].add();
  if (slot == route::ComponentSlots::kNone) return;
  stats.latency[slot].observe(ms);
  stats.router_time.observe(std::max(0.0, ms / 1000.0 - backend_s));
}

// gorouter's attempt details. A request is finished while the attempt that
// answers it is still in progress (its body was relayed); with none, it was
// answered by the router after failed attempts and the *_time fields are "-".
void Session::attempt_details(AccessRecord* r) const {
  using Seconds = std::chrono::duration<double>;
  r->failed_attempts = rec_.failed_attempts;
  r->failed_attempts_time_s = Seconds(rec_.failed_attempts_time).count();
  if (rec_.attempt_started == route::TimePoint{}) return;
  r->dns_time_s = Seconds(rec_.dns_time).count();
  r->dial_time_s = Seconds(rec_.dial_time).count();
  r->tls_time_s = Seconds(rec_.tls_time).count();
  r->attempt_backend_time_s = Seconds(route::Clock::now() - rec_.attempt_started).count();
}

// The client address, formatted by hand for IPv4 (inet_ntop goes through
// sprintf, a visible share of a new connection's cost).
void format_peer(const tcp::endpoint& peer, std::string* out) {
  if (!peer.address().is_v4()) {
    *out = peer.address().to_string();
    return;
  }
  auto bytes = peer.address().to_v4().to_bytes();
  char text[16];
  char* p = text;
  for (int i = 0; i < 4; ++i) {
    unsigned v = bytes[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    if (i < 3) *p++ = '.';
  }
  out->assign(text, p);
}

}  // namespace sy::proxy
