#include "router/proxy/proxy_context.hpp"

#include <map>
#include <string>
#include <utility>

namespace sy::proxy {
namespace {

std::vector<double> bounds_of(const auto& array) { return std::vector<double>(array.begin(), array.end()); }

}  // namespace

void WorkerStats::merge(const WorkerStats& o) {
  for (size_t i = 0; i < kSlots; ++i) {
    requests[i].merge(o.requests[i]);
    latency[i].merge(o.latency[i]);
  }
  for (size_t i = 0; i < kStatusGroups; ++i) responses[i].merge(o.responses[i]);
  for (size_t i = 0; i < kFailureCount; ++i) failures[i].merge(o.failures[i]);
  router_time.merge(o.router_time);
  route_lookup.merge(o.route_lookup);
  for (auto [to, from] : {std::pair{&bad_gateways, &o.bad_gateways}, {&rejected_requests, &o.rejected_requests},
                          {&retries, &o.retries}, {&backend_exhausted_conns, &o.backend_exhausted_conns},
                          {&backend_invalid_id, &o.backend_invalid_id},
                          {&backend_invalid_tls_cert, &o.backend_invalid_tls_cert},
                          {&backend_tls_handshake_failed, &o.backend_tls_handshake_failed},
                          {&websocket_upgrades, &o.websocket_upgrades}, {&websocket_failures, &o.websocket_failures},
                          {&accepted_connections, &o.accepted_connections},
                          {&rejected_connections, &o.rejected_connections}})
    to->merge(*from);
  upstream_idle.store(upstream_idle.load(std::memory_order_relaxed) + o.upstream_idle.load(std::memory_order_relaxed),
                      std::memory_order_relaxed);
}

uint64_t WorkerStats::total_requests() const {
  uint64_t n = 0;
  for (const auto& c : requests) n += c.get();
  return n;
}

ProxyMetrics::ProxyMetrics(metrics::Registry& r) {
  total_requests_ = &r.counter("total_requests",
                               "HTTP requests the proxy answered, by the component tag of the endpoint that served "
                               "them (\"-\": none reached).");
  auto& responses = r.counter("responses", "HTTP responses sent, by status group (1xx and 101 count as xxx).");
  static const char* kGroups[] = {"2xx", "3xx", "4xx", "5xx", "xxx"};
  for (size_t i = 0; i < kStatusGroups; ++i) responses_[i] = &responses.add({{"status_group", kGroups[i]}});
  auto& failures = r.counter("router_errors", "Answers the router made itself, by outcome row and X-Cf-Routererror.");
  for (size_t i = 0; i < kFailureCount; ++i) {
    const auto f = static_cast<outcome::Failure>(i);
    failures_[i] = &failures.add({{"failure", std::string(outcome::failure_name(f))},
                                  {"router_error", std::string(outcome::error_info(f).router_error)}});
  }
  latency_ = &r.histogram("latency", "Time from request received to response complete, in milliseconds, by component "
                          "(requests that reached an endpoint).", bounds_of(kLatencyMsBuckets));
  router_time_ = &r.histogram("gorouter_time", "Time a request spent in the router itself (response time less the "
                              "time at backends), in seconds.", bounds_of(kRouterSecondsBuckets))
                      .add({});
  route_lookup_ = &r.histogram("route_lookup_time", "Route table lookup time in nanoseconds (1 request in 16).",
                               bounds_of(kLookupNsBuckets))
                       .add({});
  auto counter = [&r](const char* name, const char* help) { return &r.counter(name, help).add({}); };
  bad_gateways_ = counter("bad_gateways", "Requests answered 502 because endpoints failed.");
  rejected_requests_ = counter("rejected_requests", "Requests rejected as malformed or oversized.");
  retries_ = counter("backend_retries", "Attempts retried on another endpoint.");
  exhausted_ = counter("backend_exhausted_conns", "Requests refused because every endpoint was at max_conns.");
  invalid_id_ = counter("backend_invalid_id", "TLS backends whose certificate names another instance "
                                              "(server_cert_domain_san mismatch).");
  invalid_tls_cert_ = counter("backend_invalid_tls_cert", "TLS backends whose certificate did not verify.");
  tls_handshake_failed_ = counter("backend_tls_handshake_failed", "TLS handshakes with backends that failed "
                                                                  "otherwise.");
  websocket_upgrades_ = counter("websocket_upgrades", "Upgrade requests the backend accepted (101).");
  websocket_failures_ = counter("websocket_failures", "Upgrade requests that failed.");
  accepted_connections_ = counter("accepted_connections", "Connections accepted by the workers' listeners.");
  rejected_connections_ = counter("rejected_connections",
                                  "Client connections refused with 503 at max_client_connections.");
  active_connections_ = &r.gauge("active_client_connections", "Open client connections.").add({});
  upstream_idle_ = &r.gauge("upstream_idle_connections", "Idle keep-alive connections to backends, all workers.").add({});
  workers_ = &r.gauge("workers", "Proxy worker threads.").add({});
}

void ProxyMetrics::publish(const WorkerStats& t, const route::ComponentSlots& components, int client_connections,
                           size_t workers) {
  publish_components(t, components);
  for (size_t i = 0; i < kStatusGroups; ++i) responses_[i]->sync(static_cast<double>(t.responses[i].get()));
  for (size_t i = 0; i < kFailureCount; ++i) failures_[i]->sync(static_cast<double>(t.failures[i].get()));
  router_time_->sync(t.router_time.counts().data(), t.router_time.sum());
  route_lookup_->sync(t.route_lookup.counts().data(), t.route_lookup.sum());
  for (auto [to, from] : {std::pair{bad_gateways_, &t.bad_gateways}, {rejected_requests_, &t.rejected_requests},
                          {retries_, &t.retries}, {exhausted_, &t.backend_exhausted_conns},
                          {invalid_id_, &t.backend_invalid_id}, {invalid_tls_cert_, &t.backend_invalid_tls_cert},
                          {tls_handshake_failed_, &t.backend_tls_handshake_failed},
                          {websocket_upgrades_, &t.websocket_upgrades}, {websocket_failures_, &t.websocket_failures},
                          {accepted_connections_, &t.accepted_connections},
                          {rejected_connections_, &t.rejected_connections}})
    to->sync(static_cast<double>(from->get()));
  active_connections_->set(client_connections);
  upstream_idle_->set(static_cast<double>(t.upstream_idle.load(std::memory_order_relaxed)));
  workers_->set(static_cast<double>(workers));
}

// total_requests{component,is_routed_app}: gorouter folds the components
// "dea-<n>" into "dea-*" with is_routed_app="yes". latency{component} keeps
// the tag as it is. Slots never seen stay out of /metrics.
void ProxyMetrics::publish_components(const WorkerStats& t, const route::ComponentSlots& components) {
  std::map<std::string, double> requests;
  for (size_t slot = 0; slot < WorkerStats::kSlots; ++slot) {
    const uint64_t n = t.requests[slot].get();
    if (n == 0) continue;
    std::string name(components.name(static_cast<uint8_t>(slot)));
    if (name.starts_with("dea-")) name = "dea-*";
    requests[name] += static_cast<double>(n);
    if (t.latency[slot].total() == 0) continue;
    latency_->add({{"component", std::string(components.name(static_cast<uint8_t>(slot)))}})
        .sync(t.latency[slot].counts().data(), t.latency[slot].sum());
  }
  for (const auto& [name, n] : requests)
    total_requests_->add({{"component", name}, {"is_routed_app", name == "dea-*" ? "yes" : "no"}}).sync(n);
}

}  // namespace sy::proxy
