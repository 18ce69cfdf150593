#pragma once
// Connection: what a worker holds and must be able to stop — an HTTP client
// session, a tunnel agent's session. The worker keeps every one in one set,
// whatever its kind, so its tick enforces every deadline, a drain reaches
// every one and open_connections() counts every one.
//
// Threading: the owning worker only.
#include "router/route/endpoint.hpp"

namespace sy::proxy {

class Connection {
 public:
  virtual ~Connection() = default;
  // The worker's tick (every Watchdog::kTick): close what missed its deadline.
  virtual void check_deadline(route::TimePoint now) = 0;
  // Draining: take no new work and close once the current work is done (at
  // once when idle). Called again on every tick while the worker drains.
  virtual void drain() = 0;
  // Close now (worker shutdown); pending operations complete aborted.
  virtual void abort() = 0;
};

}  // namespace sy::proxy
