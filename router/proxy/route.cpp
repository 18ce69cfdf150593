#include "router/proxy/route.hpp"

#include <chrono>

#include "common/names/hostname.hpp"
#include "router/proxy/affinity.hpp"
#include "router/route/route_message.hpp"

namespace sy::proxy {

using outcome::Failure;

bool InstanceFilter::matches(const route::Endpoint& e) const {
  const route::EndpointMeta& m = e.meta();
  if (kind == Kind::app) return m.app_id == guid && m.private_instance_index == index;
  if (!index.empty() && m.private_instance_index != index) return false;
  for (const auto& [key, value] : m.tags)
    if (key == "process_id") return value == guid;
  return false;
}

bool InstanceFilter::in(const route::Pool& pool) const {
  for (const route::EndpointPtr& e : pool.endpoints())
    if (matches(*e)) return true;
  return false;
}

namespace {

const route::Pool* lookup(const RouteInput& in, std::string_view host) {
  if (!in.lookup_time) return in.table->find(host, in.head->path());
  const auto t0 = std::chrono::steady_clock::now();
  const route::Pool* pool = in.table->find(host, in.head->path());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
  in.lookup_time->observe(static_cast<double>(ns.count()));
  return pool;
}

RouteDecision refuse(Failure f, std::string_view detail = {}) {
  RouteDecision d;
  d.failure = f;
  d.detail = detail;
  return d;
}

}  // namespace

RouteDecision route_request(const RouteInput& in, std::string* host) {
  const http::RequestHead& head = *in.head;
  if (!head.has_host || !names::normalize_host(head.host, host) || *host == in.client_ip) {
    host->clear();
    return refuse(Failure::empty_host);
  }
  if (head.form == http::TargetForm::authority) return refuse(Failure::bad_request);
  InstanceFilter wanted;
  Failure invalid = Failure::invalid_app_instance, unknown = Failure::unknown_instance;
  std::string_view header = head.find(http::FieldKind::x_cf_app_instance);
  if (!header.empty()) {
    if (parse_app_instance(header, &wanted.guid, &wanted.index)) wanted.kind = InstanceFilter::Kind::app;
  } else if (header = head.find(http::FieldKind::x_cf_process_instance); !header.empty()) {
    invalid = Failure::invalid_process_instance;
    unknown = Failure::unknown_process_instance;
    if (parse_process_instance(header, &wanted.guid, &wanted.index)) wanted.kind = InstanceFilter::Kind::process;
  }
  if (!header.empty() && wanted.kind == InstanceFilter::Kind::any) return refuse(invalid);
  const route::Pool* pool = lookup(in, *host);
  if (!header.empty() && !(pool && wanted.in(*pool))) return refuse(unknown, header);
  if (!pool) return refuse(Failure::unknown_route);
  if (pool->empty()) return refuse(Failure::no_endpoints);
  RouteDecision d;
  d.pool = pool;
  d.wanted = wanted;
  return d;
}

}  // namespace sy::proxy
