#pragma once
// An endpoint is one backend instance (`host:port`) registered under a URI.
// Its registration fields are immutable; its live state (last heartbeat,
// failed-until, in-flight requests) lives in relaxed atomics so heartbeats and
// failures never need a new route-table snapshot. Any thread may read an
// Endpoint; only the control thread creates them and stamps heartbeats.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::route {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

enum class Algorithm : uint8_t { round_robin, least_connection };

// What reaches an endpoint, for the dispatching Connector: an ordinary
// backend, or a node holding a tunnel (registered with tags component:
// tunnel, tunnel_id and node; SPEC §5.3) — on the holding node itself the
// request goes into a local session, elsewhere to that node.
enum class EndpointKind : uint8_t { backend, tunnel };
enum class Protocol : uint8_t { http1, http2 };

// Rarely-set registration fields, kept out of line so a plain endpoint stays small.
struct EndpointMeta {
  std::string app_id;
  std::string private_instance_id;
  std::string private_instance_index;
  std::string server_cert_domain_san;
  std::string route_service_url;
  std::string isolation_segment;
  std::string availability_zone;
  std::vector<std::pair<std::string, std::string>> tags;  // sorted by key
  EndpointKind kind = EndpointKind::backend;  // derived from tags (classify())
  uint8_t component_slot = 0;  // ComponentSlots of the `component` tag (set by the control thread)
  bool operator==(const EndpointMeta&) const = default;
  bool empty() const;
  std::string_view tag(std::string_view key) const;  // "" when absent
  void classify();  // sets kind from the tags
};

// What a register message says about one endpoint (see route_message.hpp).
struct EndpointSpec {
  std::string host;  // as sent (IP or name), not lower-cased
  uint16_t port = 0;  // tls_port when set, else port
  bool tls = false;
  Protocol protocol = Protocol::http1;
  std::chrono::seconds stale_threshold{0};  // 0 = router default (the registry fills it in)
  std::optional<Algorithm> algorithm;       // options.loadbalancing
  EndpointMeta meta;
  int64_t updated_at_ns = 0;  // endpoint_updated_at_ns (informational)

  // "host:port" ("[v6]:port" for an IPv6 literal): the endpoint's identity.
  std::string address() const;
  bool same_fields(const EndpointSpec& other) const;
};

class Endpoint {
 public:
  Endpoint(const EndpointSpec& spec, TimePoint now);  // spec.stale_threshold already effective
  Endpoint(const EndpointSpec& spec, std::chrono::seconds stale_threshold, TimePoint now);

  const std::string& address() const { return address_; }  // "host:port", identity
  // The host as sent (an IPv6 literal without its brackets); a view into address().
  std::string_view host() const { return std::string_view(address_).substr(address_[0] == '[' ? 1 : 0, host_len_); }
  uint16_t port() const { return port_; }
  bool tls() const { return tls_; }
  Protocol protocol() const { return protocol_; }
  std::chrono::seconds stale_threshold() const { return std::chrono::seconds(stale_threshold_); }
  std::optional<Algorithm> algorithm() const { return algorithm_; }
  const EndpointMeta& meta() const;  // empty meta when none was sent
  EndpointKind kind() const { return meta_ ? meta_->kind : EndpointKind::backend; }
  // The metrics slot of its `component` tag (route/components.hpp); 0 = none.
  uint8_t component_slot() const { return meta_ ? meta_->component_slot : 0; }
  // X-CF-InstanceID: private_instance_id, or host:port when it is empty.
  const std::string& instance_id() const;
  EndpointSpec spec() const;
  // Same identity (host and port) as `spec`.
  bool same_address(const EndpointSpec& spec) const { return port_ == spec.port && host() == spec.host; }
  // Same registration fields as `spec`, with `stale_threshold` (the effective one) for spec's.
  bool same_fields(const EndpointSpec& spec, std::chrono::seconds stale_threshold) const;

  // Live state: any thread.
  TimePoint last_heartbeat() const { return TimePoint(Clock::duration(heartbeat_.load(std::memory_order_relaxed))); }
  void heartbeat(TimePoint now) { heartbeat_.store(now.time_since_epoch().count(), std::memory_order_relaxed); }
  bool failed(TimePoint now) const { return failed_until_.load(std::memory_order_relaxed) > now.time_since_epoch().count(); }
  void mark_failed(TimePoint until) { failed_until_.store(until.time_since_epoch().count(), std::memory_order_relaxed); }
  void clear_failed() { failed_until_.store(0, std::memory_order_relaxed); }
  int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  void begin_request() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void end_request() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  // Laid out small (there is one Endpoint per route and backend, a million in
  // a big table), with what the registry compares to find one first.
  uint16_t port_;
  uint16_t host_len_;
  uint32_t stale_threshold_;  // seconds
  bool tls_;
  Protocol protocol_;
  std::optional<Algorithm> algorithm_;
  std::atomic<int> in_flight_{0};
  std::string address_;
  std::unique_ptr<const EndpointMeta> meta_;
  std::atomic<Clock::rep> heartbeat_;
  std::atomic<Clock::rep> failed_until_{0};
};

using EndpointPtr = std::shared_ptr<Endpoint>;

}  // namespace sy::route
