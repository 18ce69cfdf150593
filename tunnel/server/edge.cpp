// Edge policy enforcement (SPEC §7): a tunnel's policy travels in its
// registration's `edge_policy` tag, so every node enforces it, whether it
// holds the tunnel or not. HTTP requests: the allow list (403), the
// credentials (401 with WWW-Authenticate), then the rate (429), checked by
// the first node a request reaches; a node that receives it forwarded and
// signed does not check again. Raw entries (TCP entry port, SOCKS5,
// CONNECT): the allow list and the rate; a tunnel that wants credentials is
// not reachable raw at all (its bytes would bypass them).
#include <chrono>

#include "tunnel/identity/edge_policy.hpp"
#include "tunnel/server/connector.hpp"
#include "tunnel/server/node.hpp"

namespace sy::tunnel {

std::optional<EntryRefusal> TunnelNode::check_entry(std::string_view tunnel_id, std::string_view policy,
                                                    std::string_view client_ip, bool forwarded) {
  if (policy.empty() || forwarded) return std::nullopt;
  std::optional<EdgePolicy> p = decode_edge_policy(policy, nullptr);
  if (!p) return EntryRefusal{403, "edge_forbidden", "the tunnel's edge policy does not read"};
  if (!p->auth.empty())
    return EntryRefusal{403, "edge_forbidden", "the tunnel wants HTTP credentials: reach it over HTTP"};
  if (!ip_allowed(*p, client_ip)) return EntryRefusal{403, "edge_forbidden", "client address not allowed"};
  if (!limiter_.take(tunnel_id, p->rate_per_second, p->burst, std::chrono::steady_clock::now()))
    return EntryRefusal{429, "edge_rate_limited", "the tunnel's request rate is exceeded"};
  return std::nullopt;
}

bool TunnelNode::take_rate(std::string_view tunnel_id, double rate_per_second, uint32_t burst) {
  return limiter_.take(tunnel_id, rate_per_second, burst, std::chrono::steady_clock::now());
}

// An HTTP request to a tunnel endpoint whose registration carries a policy.
std::optional<outcome::Failure> TunnelConnector::edge_refusal(const route::Endpoint& endpoint,
                                                             const upstream::OpenRequest& request) {
  const std::string_view text = endpoint.meta().tag(kEdgePolicyTag);
  if (text.empty()) return std::nullopt;
  auto it = policies_.find(text);
  if (it == policies_.end()) {
    if (policies_.size() >= kMaxCachedPolicies) policies_.clear();
    std::optional<EdgePolicy> parsed = decode_edge_policy(text, nullptr);
    if (!parsed) return outcome::Failure::edge_forbidden;  // unreadable: refuse rather than open
    it = policies_.emplace(std::string(text), std::move(*parsed)).first;
  }
  const EdgePolicy& p = it->second;
  const std::string_view authorization = request.head ? request.head->find("authorization") : "";
  switch (check_edge_request(p, request.client_ip, authorization)) {
    case EdgeVerdict::forbidden: return outcome::Failure::edge_forbidden;
    case EdgeVerdict::unauthorized: return outcome::Failure::edge_unauthorized;
    default: break;
  }
  if (!node_.take_rate(endpoint.meta().tag("tunnel_id"), p.rate_per_second, p.burst))
    return outcome::Failure::edge_rate_limited;
  return std::nullopt;
}

}  // namespace sy::tunnel
