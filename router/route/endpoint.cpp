#include "router/route/endpoint.hpp"

#include <algorithm>
#include <cstdint>

namespace sy::route {
namespace {
const EndpointMeta kNoMeta{};
}

bool EndpointMeta::empty() const { return *this == kNoMeta; }

std::string_view EndpointMeta::tag(std::string_view key) const {
  auto it = std::lower_bound(tags.begin(), tags.end(), key,
                             [](const std::pair<std::string, std::string>& t, std::string_view k) { return t.first < k; });
  return it != tags.end() && it->first == key ? std::string_view(it->second) : std::string_view();
}

void EndpointMeta::classify() {
  const bool tunnel = tag("component") == "tunnel" && !tag("tunnel_id").empty() && !tag("node").empty();
  kind = tunnel ? EndpointKind::tunnel : EndpointKind::backend;
}

std::string EndpointSpec::address() const {
  if (host.find(':') != std::string::npos) return '[' + host + "]:" + std::to_string(port);
  return host + ':' + std::to_string(port);
}

bool EndpointSpec::same_fields(const EndpointSpec& o) const {
  return host == o.host && port == o.port && tls == o.tls && protocol == o.protocol &&
         stale_threshold == o.stale_threshold && algorithm == o.algorithm && meta == o.meta;
}

namespace {
uint32_t clamp_seconds(std::chrono::seconds s) {
  return static_cast<uint32_t>(std::clamp<std::chrono::seconds::rep>(s.count(), 0, UINT32_MAX));
}
}  // namespace

Endpoint::Endpoint(const EndpointSpec& spec, TimePoint now) : Endpoint(spec, spec.stale_threshold, now) {}

Endpoint::Endpoint(const EndpointSpec& spec, std::chrono::seconds stale_threshold, TimePoint now)
    : port_(spec.port),
      host_len_(static_cast<uint16_t>(spec.host.size())),
      stale_threshold_(clamp_seconds(stale_threshold)),
      tls_(spec.tls),
      protocol_(spec.protocol),
      algorithm_(spec.algorithm),
      address_(spec.address()),
      meta_(spec.meta.empty() ? nullptr : std::make_unique<const EndpointMeta>(spec.meta)),
      heartbeat_(now.time_since_epoch().count()) {}

static_assert(sizeof(Endpoint) <= 72, "one Endpoint per route and backend: keep it small");

bool Endpoint::same_fields(const EndpointSpec& s, std::chrono::seconds stale_threshold) const {
  return same_address(s) && tls_ == s.tls && protocol_ == s.protocol &&
         stale_threshold_ == clamp_seconds(stale_threshold) && algorithm_ == s.algorithm &&
         (meta_ ? *meta_ == s.meta : s.meta.empty());
}

const EndpointMeta& Endpoint::meta() const { return meta_ ? *meta_ : kNoMeta; }

const std::string& Endpoint::instance_id() const {
  return meta_ && !meta_->private_instance_id.empty() ? meta_->private_instance_id : address_;
}

EndpointSpec Endpoint::spec() const {
  EndpointSpec s;
  s.host = host();
  s.port = port_;
  s.tls = tls_;
  s.protocol = protocol_;
  s.algorithm = algorithm_;
  s.stale_threshold = stale_threshold();
  s.meta = meta();
  return s;
}

}  // namespace sy::route
