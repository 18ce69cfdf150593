#pragma once
// The dashboard's data, gathered on the control thread from every part of
// the node (workers' counters, the control thread's NATS state, the route
// snapshot, the tunnels, the process), and its two handlers on the status
// listener. Here because only the binary sees both the router and tunnel/.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "router/control/control.hpp"
#include "router/proxy/worker.hpp"
#include "status/process_metrics.hpp"
#include "status/status_server.hpp"
#include "tunnel/server/node.hpp"

namespace sy {

struct DashboardSources {
  control::Control& control;
  proxy::ProxyContext& context;
  const std::vector<std::unique_ptr<proxy::Worker>>& workers;
  const route::SnapshotHolder& snapshots;
  metrics::ProcessMetrics& process;
  tunnel::TunnelNode* tunnels;  // null when tunnels are off
  std::string node_id;
  std::chrono::system_clock::time_point started;
};

// GET /dashboard and GET /dashboard.json, both behind the status basic auth.
void wire_dashboard(status::StatusServer& server, DashboardSources sources);

// The workers' counters summed (control thread).
std::unique_ptr<proxy::WorkerStats> sum_workers(const std::vector<std::unique_ptr<proxy::Worker>>& workers);

}  // namespace sy
