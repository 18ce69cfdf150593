#include "router/proxy/proxy_context.hpp"

namespace sy::proxy {

ProxyMetrics ProxyMetrics::create(metrics::Registry& r) {
  ProxyMetrics m{};
  m.total_requests = &r.counter("total_requests", "HTTP requests received by the proxy.").add({});
  auto& responses = r.counter("responses", "HTTP responses sent, by status class.");
  static const char* kGroups[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "xxx"};
  for (int i = 0; i < 6; ++i) m.responses[i] = &responses.add({{"status_group", kGroups[i]}});
  m.bad_gateways = &r.counter("bad_gateways", "Requests answered 502 because endpoints failed.").add({});
  m.rejected_requests = &r.counter("rejected_requests", "Requests rejected as malformed or oversized.").add({});
  m.backend_exhausted_conns =
      &r.counter("backend_exhausted_conns", "Requests refused because every endpoint was at max_conns.").add({});
  m.websocket_upgrades = &r.counter("websocket_upgrades", "Upgrade requests the backend accepted (101).").add({});
  m.websocket_failures = &r.counter("websocket_failures", "Upgrade requests that failed.").add({});
  m.retries = &r.counter("backend_retries", "Attempts retried on another endpoint.").add({});
  m.latency = &r.histogram("latency", "Time from request received to response complete, in milliseconds.",
                           {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000})
                   .add({});
  m.route_lookup_time = &r.histogram("route_lookup_time", "Route table lookup time in nanoseconds (1 in 16 sampled).",
                                     {50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000})
                              .add({});
  m.rejected_connections =
      &r.counter("rejected_connections", "Client connections refused with 503 at max_client_connections.").add({});
  m.active_connections = &r.gauge("active_client_connections", "Open client connections.").add({});
  return m;
}

void ProxyMetrics::count_response(int status) const {
  int group = status / 100;
  responses[(group >= 1 && group <= 5) ? group - 1 : 5]->inc();
}

}  // namespace sy::proxy
