#pragma once
// The live dashboard on the status port: GET /dashboard (the page, compiled
// in from dashboard_page.html, no external assets) and GET /dashboard.json
// (what the page polls every second). Both behind the status basic auth.
//
// The JSON carries cumulative counts; the page turns them into rates and
// latency percentiles over its own window, so the server keeps no history.
// The route table part is searched and paginated here: a table with a
// million endpoints costs one pass over its hosts per poll, and the answer
// holds at most `limit` routes.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "router/route/components.hpp"
#include "router/route/route_table.hpp"

namespace sy::status {

extern const std::string_view kDashboardPage;

struct RouteQuery {
  std::string host;    // substring of the host (case-insensitive); "" = all
  size_t offset = 0;
  size_t limit = 25;   // at most kMaxLimit
  static constexpr size_t kMaxLimit = 200;
  static constexpr size_t kMaxCounted = 100000;  // matches counted past it are reported as "more"
};
// From `host=..&offset=..&limit=..` (percent-decoded; bad numbers ignored).
RouteQuery parse_route_query(std::string_view query_string);

struct DashboardInput {
  std::string node_id;
  double time_ms = 0;    // unix
  double uptime_s = 0;
  size_t workers = 0;
  uint64_t requests = 0;
  std::array<uint64_t, 5> responses{};  // 2xx 3xx 4xx 5xx xxx
  std::vector<std::pair<std::string, uint64_t>> router_errors;  // by X-Cf-Routererror, non-zero
  std::vector<double> latency_bounds;   // ms
  std::vector<uint64_t> latency_counts;  // per bucket, +Inf last (every component)
  int client_connections = 0;
  int64_t upstream_idle = 0;
  bool nats_connected = false;
  std::string nats_url;
  uint64_t nats_reconnects = 0, nats_buffered = 0, nats_dropped = 0;
  double ms_since_last_update = -1;
  double cpu_seconds = 0, resident_bytes = 0, open_fds = 0;
  std::string tunnels_json = "null";  // /tunnels' JSON, spliced in as it is
};

// The /dashboard.json body. `now` ages the endpoints' heartbeats;
// `components` names their component slots.
std::string dashboard_json(const DashboardInput& in, const route::RouteTable& table, const RouteQuery& query,
                           route::TimePoint now, const route::ComponentSlots& components);

}  // namespace sy::status
