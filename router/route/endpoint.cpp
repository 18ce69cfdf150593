#include "router/route/endpoint.hpp"

namespace sy::route {
namespace {
const EndpointMeta kNoMeta{};
}

bool EndpointMeta::empty() const { return *this == kNoMeta; }

std::string EndpointSpec::address() const {
  if (host.find(':') != std::string::npos) return '[' + host + "]:" + std::to_string(port);
  return host + ':' + std::to_string(port);
}

bool EndpointSpec::same_fields(const EndpointSpec& o) const {
  return host == o.host && port == o.port && tls == o.tls && protocol == o.protocol &&
         stale_threshold == o.stale_threshold && algorithm == o.algorithm && meta == o.meta;
}

Endpoint::Endpoint(const EndpointSpec& spec, TimePoint now)
    : address_(spec.address()),
      host_(spec.host),
      port_(spec.port),
      tls_(spec.tls),
      protocol_(spec.protocol),
      algorithm_(spec.algorithm),
      stale_threshold_(spec.stale_threshold),
      meta_(spec.meta.empty() ? nullptr : std::make_unique<const EndpointMeta>(spec.meta)),
      heartbeat_(now.time_since_epoch().count()) {}

const EndpointMeta& Endpoint::meta() const { return meta_ ? *meta_ : kNoMeta; }

const std::string& Endpoint::instance_id() const {
  return meta_ && !meta_->private_instance_id.empty() ? meta_->private_instance_id : address_;
}

EndpointSpec Endpoint::spec() const {
  EndpointSpec s;
  s.host = host_;
  s.port = port_;
  s.tls = tls_;
  s.protocol = protocol_;
  s.algorithm = algorithm_;
  s.stale_threshold = stale_threshold_;
  s.meta = meta();
  return s;
}

}  // namespace sy::route
