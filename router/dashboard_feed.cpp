#include "router/dashboard_feed.hpp"

#include <map>

#include "status/dashboard.hpp"

namespace sy {
namespace {

status::DashboardInput gather(const DashboardSources& s) {
  status::DashboardInput in;
  const auto now = std::chrono::system_clock::now();
  in.node_id = s.node_id;
  in.time_ms = std::chrono::duration<double, std::milli>(now.time_since_epoch()).count();
  in.uptime_s = std::chrono::duration<double>(now - s.started).count();
  in.workers = s.workers.size();
  const std::unique_ptr<proxy::WorkerStats> t = sum_workers(s.workers);
  in.requests = t->total_requests();
  for (size_t i = 0; i < proxy::kStatusGroups; ++i) in.responses[i] = t->responses[i].get();
  std::map<std::string, uint64_t> errors;  // rows that share an X-Cf-Routererror add up
  for (size_t i = 0; i < proxy::kFailureCount; ++i) {
    const std::string_view name = outcome::error_info(static_cast<outcome::Failure>(i)).router_error;
    if (!name.empty() && t->failures[i].get() > 0) errors[std::string(name)] += t->failures[i].get();
  }
  in.router_errors.assign(errors.begin(), errors.end());
  proxy::LatencyHistogram latency;
  for (const auto& h : t->latency) latency.merge(h);
  in.latency_bounds.assign(proxy::kLatencyMsBuckets.begin(), proxy::kLatencyMsBuckets.end());
  const auto counts = latency.counts();
  in.latency_counts.assign(counts.begin(), counts.end());
  in.client_connections = s.context.client_connections.load(std::memory_order_relaxed);
  in.upstream_idle = t->upstream_idle.load(std::memory_order_relaxed);
  in.nats_connected = s.control.nats_connected();
  in.nats_url = s.control.nats_url();
  in.nats_reconnects = s.control.nats_reconnects();
  in.nats_buffered = s.control.nats_buffered();
  in.nats_dropped = s.control.nats_dropped();
  in.ms_since_last_update = s.control.ms_since_last_update();
  const metrics::ProcessSample p = metrics::sample_process();
  in.cpu_seconds = p.cpu_seconds;
  in.resident_bytes = p.resident_bytes;
  in.open_fds = p.open_fds;
  if (s.tunnels) in.tunnels_json = s.tunnels->describe_json();
  return in;
}

}  // namespace

std::unique_ptr<proxy::WorkerStats> sum_workers(const std::vector<std::unique_ptr<proxy::Worker>>& workers) {
  auto total = std::make_unique<proxy::WorkerStats>();
  for (const auto& w : workers) total->merge(w->stats());
  return total;
}

void wire_dashboard(status::StatusServer& server, DashboardSources sources) {
  server.handle("/dashboard", true, [](const status::StatusRequest&, status::StatusResponse& res) {
    res.content_type = "text/html; charset=utf-8";
    res.headers = {{"Cache-Control", "no-store"}};
    res.body = std::string(status::kDashboardPage);
  });
  server.handle("/dashboard.json", true, [s = std::move(sources)](const status::StatusRequest& req,
                                                                   status::StatusResponse& res) {
    uint64_t generation = 0;
    const route::RouteTablePtr table = s.snapshots.load(&generation);
    res.content_type = "application/json";
    res.headers = {{"Cache-Control", "no-store"}};
    res.body = status::dashboard_json(gather(s), *table, status::parse_route_query(req.query), route::Clock::now(),
                                      s.control.components());
  });
}

}  // namespace sy
