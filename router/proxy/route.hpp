#pragma once
// Phase 2 of a request: which pool serves it, or why none does. Pure: the
// parsed head and a pinned route table in, a decision out (no I/O, no
// clock), so every refusal here is unit-tested without a socket.
//
// Order, as gorouter: a missing/empty Host (400 empty_host); CONNECT (400,
// the router is no forward proxy); a malformed X-CF-APP-INSTANCE /
// X-CF-PROCESS-INSTANCE (400); the lookup; an instance header naming no
// endpoint of the pool (400 unknown_route); no pool (404); an empty pool (503).
#include <string>
#include <string_view>

#include "router/http/message.hpp"
#include "router/outcome/outcome.hpp"
#include "router/route/route_table.hpp"
#include "router/proxy/worker_stats.hpp"

namespace sy::proxy {

// The instances an X-CF-APP-INSTANCE (app guid + index) or
// X-CF-PROCESS-INSTANCE (tags.process_id, optional index) request may reach.
// Views into the request head, valid until its body starts streaming.
struct InstanceFilter {
  enum class Kind : uint8_t { any, app, process } kind = Kind::any;
  std::string_view guid, index;
  bool matches(const route::Endpoint& e) const;
  bool in(const route::Pool& pool) const;
};

struct RouteDecision {
  const route::Pool* pool = nullptr;  // null: answer `failure`
  outcome::Failure failure = outcome::Failure::unknown_route;
  std::string_view detail;            // unknown_(process_)instance: the header's value
  InstanceFilter wanted;
};

struct RouteInput {
  const http::RequestHead* head;
  std::string_view client_ip;
  const route::RouteTable* table;
  LookupHistogram* lookup_time = nullptr;  // set on the requests whose lookup is timed
};

// Fills `host` (lower-cased, without port; empty when there is none) and decides.
RouteDecision route_request(const RouteInput& in, std::string* host);

}  // namespace sy::proxy
