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

#include "router/upstream/connector.hpp"
#include "router/upstream/tcp_connector.hpp"

namespace sy::proxy {
class Worker;
}

namespace sy::tunnel {

class TunnelNode;
struct SessionHandle;

class TunnelConnector final : public upstream::Connector {
 public:
  TunnelConnector(proxy::Worker& worker, TunnelNode& node, upstream::TcpConnectorOptions options);
  boost::asio::awaitable<upstream::OpenResult> open(const route::Endpoint& endpoint,
                                                    const upstream::OpenRequest& request) override;
  void release(const route::Endpoint& endpoint, std::unique_ptr<upstream::ByteStream> stream) override;
  void sweep(route::TimePoint now) override;

 private:
  struct Idle {
    std::unique_ptr<upstream::ByteStream> stream;
    route::TimePoint since;
  };
  boost::asio::awaitable<upstream::OpenResult> open_local(std::string_view tunnel_id, bool allow_reuse);
  boost::asio::awaitable<upstream::OpenResult> open_remote(const route::Endpoint& endpoint,
                                                           const upstream::OpenRequest& request);
  std::unique_ptr<upstream::ByteStream> reuse(std::string_view tunnel_id);

  proxy::Worker& worker_;
  TunnelNode& node_;
  upstream::TcpConnector tcp_;
  std::unordered_map<std::string, std::vector<Idle>> idle_;  // local streams by tunnel id
};

}  // namespace sy::tunnel
