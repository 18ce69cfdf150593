#pragma once
// TunnelConnector: a worker's Connector when tunnels are on — the three
// families of upstream behind the one seam (SPEC §5.3), chosen by the
// endpoint's kind and node:
//   a backend                    → TcpConnector (pooled TCP/TLS), as without tunnels;
//   a tunnel this node holds     → a yamux stream of a local agent session,
//                                  pooled like a keep-alive connection (the
//                                  agent keeps its connection to the target);
//   a tunnel another node holds  → pooled TCP to that node's advertise address,
//                                  with a signed Switchyard-Forwarded-Node header.
// The loop guard: a request that already carries Switchyard-Forwarded-Node is
// never forwarded again. It is served by a local session, or refused
// (502 tunnel_not_here, which the forwarding node retries elsewhere); one
// naming this very node is 502 forwarding_loop.
//
// Threading: one per worker; its methods on that worker. A session on
// another worker is reached through upstream::CrossWorkerStream.
#include <string>
#include <unordered_map>
#include <vector>

#include "router/route/pool.hpp"
#include "router/upstream/connector.hpp"
#include "router/upstream/tcp_connector.hpp"
#include "tunnel/identity/edge_policy.hpp"

namespace sy::proxy {
class Worker;
}

namespace sy::tunnel {

class TunnelNode;
struct SessionHandle;

// A raw stream into a tunnel for the entries (TCP entry port, SOCKS5,
// CONNECT), or why there is none.
struct RawOpen {
  std::unique_ptr<upstream::ByteStream> stream;
  std::string prefix;  // bytes the holding node sent after its 200 (the target spoke first)
  std::string detail;  // no stream: why, for the log and the refusal
};

class TunnelConnector final : public upstream::Connector {
 public:
  TunnelConnector(proxy::Worker& worker, TunnelNode& node, upstream::TcpConnectorOptions options);
  boost::asio::awaitable<upstream::OpenResult> open(const route::Endpoint& endpoint,
                                                    const upstream::OpenRequest& request) override;
  void release(const route::Endpoint& endpoint, std::unique_ptr<upstream::ByteStream> stream) override;
  void sweep(route::TimePoint now) override;
  // A visitor on a TCP entry port: a fresh stream of a local session.
  boost::asio::awaitable<RawOpen> open_held(std::string_view tunnel_id);
  // The entries: a fresh raw stream into the tunnel `pool` leads to — a
  // local session when this node holds it, else (unless `forwarded`: a node
  // sent this, so it is not forwarded again) the holding node's TCP entry
  // port for a TCP tunnel, or a CONNECT through its proxy port, signed as
  // node-to-node forwarding, for an HTTP one. `authority` is what CONNECT names.
  boost::asio::awaitable<RawOpen> open_raw(const route::Pool& pool, std::string_view authority, bool forwarded);

 private:
  struct Idle {
    std::unique_ptr<upstream::ByteStream> stream;
    route::TimePoint since;
  };
  boost::asio::awaitable<upstream::OpenResult> open_local(std::string_view tunnel_id, bool allow_reuse);
  boost::asio::awaitable<upstream::OpenResult> open_remote(const route::Endpoint& endpoint,
                                                           const upstream::OpenRequest& request);
  std::unique_ptr<upstream::ByteStream> reuse(std::string_view tunnel_id);
  std::optional<outcome::Failure> edge_refusal(const route::Endpoint& endpoint, const upstream::OpenRequest& request);
  boost::asio::awaitable<RawOpen> open_raw_remote(const route::Endpoint& endpoint, std::string_view authority);
  boost::asio::awaitable<std::string> connect_through(upstream::ByteStream& stream, std::string_view authority,
                                                      RawOpen& out);

  proxy::Worker& worker_;
  TunnelNode& node_;
  upstream::TcpConnector tcp_;
  std::unordered_map<std::string, std::vector<Idle>> idle_;  // local streams by tunnel id
  // Edge policies read from registrations, by their wire text (bounded).
  static constexpr size_t kMaxCachedPolicies = 1024;
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, EdgePolicy, TextHash, std::equal_to<>> policies_;
};

}  // namespace sy::tunnel
