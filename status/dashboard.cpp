#include "status/dashboard.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <chrono>

namespace sy::status {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool contains_lower(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         }) != haystack.end();
}

void write_string(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void write_endpoint(Writer& w, const route::Endpoint& e, route::TimePoint now, const route::ComponentSlots& slots) {
  w.StartObject();
  w.Key("address");
  write_string(w, e.address());
  w.Key("component");
  write_string(w, slots.name(e.component_slot()).empty() ? e.meta().tag("component") : slots.name(e.component_slot()));
  w.Key("tls");
  w.Bool(e.tls());
  w.Key("age_s");  // since its last heartbeat (registration or renewal)
  w.Double(std::chrono::duration<double>(now - e.last_heartbeat()).count());
  w.Key("in_flight");
  w.Int(e.in_flight());
  w.Key("ttl");
  w.Int64(e.stale_threshold().count());
  w.EndObject();
}

// The routes whose uri contains the query, `limit` of them from `offset`,
// sorted by uri within the page; `matched` counts every match (up to
// kMaxCounted, then `more`).
void write_routes(Writer& w, const route::RouteTable& table, const RouteQuery& q, route::TimePoint now,
                  const route::ComponentSlots& slots) {
  std::vector<const route::Pool*> page;
  size_t matched = 0;
  bool more = false;
  table.for_each_pool([&](const route::Pool& p) {
    if (more || !contains_lower(p.key(), q.host)) return;
    if (matched >= RouteQuery::kMaxCounted) {
      more = true;
      return;
    }
    if (matched >= q.offset && page.size() < q.limit) page.push_back(&p);
    ++matched;
  });
  std::sort(page.begin(), page.end(), [](const route::Pool* a, const route::Pool* b) { return a->key() < b->key(); });
  w.StartObject();
  w.Key("total_routes");
  w.Uint64(table.route_count());
  w.Key("total_endpoints");
  w.Uint64(table.endpoint_count());
  w.Key("matched");
  w.Uint64(matched);
  w.Key("more");
  w.Bool(more);
  w.Key("offset");
  w.Uint64(q.offset);
  w.Key("items");
  w.StartArray();
  for (const route::Pool* p : page) {
    w.StartObject();
    w.Key("uri");
    write_string(w, p->key());
    w.Key("endpoints");
    w.StartArray();
    for (const auto& e : p->endpoints()) write_endpoint(w, *e, now, slots);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void write_traffic(Writer& w, const DashboardInput& in) {
  w.Key("requests");
  w.Uint64(in.requests);
  w.Key("responses");
  w.StartObject();
  static const char* kGroups[] = {"2xx", "3xx", "4xx", "5xx", "xxx"};
  for (size_t i = 0; i < in.responses.size(); ++i) {
    w.Key(kGroups[i]);
    w.Uint64(in.responses[i]);
  }
  w.EndObject();
  w.Key("router_errors");
  w.StartArray();
  for (const auto& [name, count] : in.router_errors) {
    w.StartObject();
    w.Key("router_error");
    write_string(w, name);
    w.Key("count");
    w.Uint64(count);
    w.EndObject();
  }
  w.EndArray();
  w.Key("latency");
  w.StartObject();
  w.Key("bounds");
  w.StartArray();
  for (double b : in.latency_bounds) w.Double(b);
  w.EndArray();
  w.Key("counts");
  w.StartArray();
  for (uint64_t c : in.latency_counts) w.Uint64(c);
  w.EndArray();
  w.EndObject();
  w.Key("connections");
  w.StartObject();
  w.Key("clients");
  w.Int(in.client_connections);
  w.Key("upstream_idle");
  w.Int64(in.upstream_idle);
  w.EndObject();
}

void write_node(Writer& w, const DashboardInput& in) {
  w.Key("time_ms");
  w.Double(in.time_ms);
  w.Key("node");
  w.StartObject();
  w.Key("id");
  write_string(w, in.node_id);
  w.Key("uptime_s");
  w.Double(in.uptime_s);
  w.Key("workers");
  w.Uint64(in.workers);
  w.Key("cpu_seconds");
  w.Double(in.cpu_seconds);
  w.Key("resident_bytes");
  w.Double(in.resident_bytes);
  w.Key("open_fds");
  w.Double(in.open_fds);
  w.EndObject();
  w.Key("nats");
  w.StartObject();
  w.Key("connected");
  w.Bool(in.nats_connected);
  w.Key("url");
  write_string(w, in.nats_url);
  w.Key("reconnects");
  w.Uint64(in.nats_reconnects);
  w.Key("buffered");
  w.Uint64(in.nats_buffered);
  w.Key("dropped");
  w.Uint64(in.nats_dropped);
  w.Key("ms_since_last_update");
  w.Double(in.ms_since_last_update);
  w.EndObject();
}

}  // namespace

RouteQuery parse_route_query(std::string_view qs) {
  RouteQuery q;
  while (!qs.empty()) {
    const size_t amp = qs.find('&');
    const std::string_view pair = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view() : qs.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string value = eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    size_t n = 0;
    const bool number = std::from_chars(value.data(), value.data() + value.size(), n).ec == std::errc();
    if (key == "host") {
      q.host = value;
      for (char& c : q.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (key == "offset" && number) {
      q.offset = n;
    } else if (key == "limit" && number) {
      q.limit = std::clamp<size_t>(n, 1, RouteQuery::kMaxLimit);
    }
  }
  return q;
}

std::string dashboard_json(const DashboardInput& in, const route::RouteTable& table, const RouteQuery& query,
                           route::TimePoint now, const route::ComponentSlots& components) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  write_node(w, in);
  write_traffic(w, in);
  w.Key("routes");
  write_routes(w, table, query, now, components);
  w.Key("tunnels");
  w.RawValue(in.tunnels_json.data(), in.tunnels_json.size(), rapidjson::kObjectType);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace sy::status
